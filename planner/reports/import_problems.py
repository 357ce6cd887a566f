"""The problem report of a register import: one row per rejected or flagged row.

CSV (UTF-8 with BOM, opens in Excel) or XLSX, by the suffix; columns 文件, 行号,
列, 值, 处理, 原因. ID numbers and phones in 值 are already masked by the import.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from planner.reports.tables import write_table
from planner.store.batches import Problem

__all__ = ["REPORT_HEADER", "report_path", "write_report"]

REPORT_HEADER = ("文件", "行号", "列", "值", "处理", "原因")
SHEET = "问题清单"
_ACTION_LABEL = {"rejected": "拒绝（未入库）", "review": "已入库，待核查"}


def report_path(
    source: Path | str,
    *,
    report: Path | str | None = None,
    report_dir: Path | str | None = None,
    has_problems: bool,
) -> Path | None:
    """Where the report of an import of ``source`` goes.

    ``report`` when given (always written); otherwise, when the import had
    problems and ``report_dir`` is given, ``report_dir/<file stem>_问题清单.csv``;
    else None (no report).
    """
    if report is not None:
        return Path(report)
    if has_problems and report_dir is not None:
        return Path(report_dir) / f"{Path(source).stem}_{SHEET}.csv"
    return None


def write_report(problems: Iterable[Problem], path: Path | str, *, file: str) -> Path:
    """Write the problem rows of the import of ``file`` to ``path`` (``.csv`` or ``.xlsx``).

    Raises
    ------
    OSError
        When the report's directory cannot be made (naming it).
    InputError
        When the suffix is neither ``.csv`` nor ``.xlsx`` or the file cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # an OSError names the directory
    rows = [
        (file, p.line, p.column or "", p.value or "", _ACTION_LABEL[p.action], p.reason)
        for p in problems
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(REPORT_HEADER))
    return write_table(frame, path, sheet=SHEET)
