"""Scenario comparison files for people: CSV or XLSX with Chinese headers.

``coverplan scenarios compare --out`` writes the metrics (指标), the per-town
metrics (镇街) and, in a workbook, the inputs (输入) of the scenarios compared
(:class:`planner.scenarios.ScenarioComparison`), through
:mod:`planner.reports.tables`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.errors import ScenarioError
from planner.reports.tables import write_table, write_workbook
from planner.scenarios import TOWN_COLUMN_SEP, ScenarioComparison, json_cell, metric_label

__all__ = ["comparison_sheets", "write_comparison"]

#: Sheet (and CSV) names of the three tables, in order.
METRICS_SHEET, TOWNS_SHEET, INPUTS_SHEET = "指标", "镇街", "输入"
TOWNS_CSV_SUFFIX = "_towns"


def _table(header: list[str], rows: list[list[object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=header, dtype=object)


def comparison_sheets(comparison: ScenarioComparison) -> dict[str, pd.DataFrame]:
    """The three tables with Chinese headers (values plain: whole numbers as int,
    missing as ``None``): 指标, 镇街 and 输入."""
    names = list(comparison.names)
    metrics = _table(
        ["指标", *names],
        [
            [row["label"], *(json_cell(row[n]) for n in names)]
            for _, row in comparison.metrics.iterrows()
        ],
    )
    towns = _table(
        [
            "镇街",
            *(
                f"{scenario}{TOWN_COLUMN_SEP}{metric_label(key)}"
                for _, scenario, key in comparison.town_columns()
            ),
        ],
        [
            [town, *(json_cell(v) for v in row)]
            for town, row in zip(
                comparison.towns.index, comparison.towns.itertuples(index=False), strict=True
            )
        ],
    )
    inputs = _table(
        ["输入项", *names],
        [[key, *(json_cell(row[n]) for n in names)] for key, row in comparison.inputs.iterrows()],
    )
    return {METRICS_SHEET: metrics, TOWNS_SHEET: towns, INPUTS_SHEET: inputs}


def write_comparison(comparison: ScenarioComparison, path: Path | str) -> tuple[Path, ...]:
    """Write a comparison for people (Chinese headers, opens in Excel).

    Parameters
    ----------
    comparison
        From :func:`planner.services.scenarios.compare_scenarios`.
    path
        ``.csv``: the metrics table there (UTF-8 with BOM) and the towns table
        next to it as ``<stem>_towns.csv``. ``.xlsx``: one workbook with the
        sheets 指标, 镇街 and 输入 (bold headers). Missing values are empty
        cells. Parent directories are created.

    Returns
    -------
    tuple of Path
        The files written.

    Raises
    ------
    ScenarioError
        For any other file suffix (nothing is written).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ScenarioError(
            f"无法写入「{path}」：不支持的文件类型「{path.suffix or '（无扩展名）'}」；"
            "请用 .csv 或 .xlsx。"
        )
    sheets = comparison_sheets(comparison)
    if suffix == ".xlsx":
        return (write_workbook(sheets, path),)
    towns_path = path.with_name(f"{path.stem}{TOWNS_CSV_SUFFIX}{path.suffix}")
    return (
        write_table(sheets[METRICS_SHEET], path),
        write_table(sheets[TOWNS_SHEET], towns_path),
    )
