"""Geocode a file of addresses against the district's gazetteer (``coverplan geocode``).

:func:`read_addresses` reads the address column (and optional town and village
columns) of a CSV/XLSX file; :func:`geocode_addresses` resolves every row to a
village. :func:`correction_key` is the normalised address under which a manual
correction is saved. Pure: the gazetteer and the corrections are handed in; the
result table is written by the caller (:func:`planner.reports.tables.write_table`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from geo.gazetteer import Gazetteer
from geo.geocode import RESULT_COLUMNS, Geocoder, normalize_address
from planner.errors import InputError
from planner.ingest.columns import header_key
from planner.ingest.readers import read_table
from planner.progress import Progress, silent
from planner.settings import Config

__all__ = [
    "OUTPUT_COLUMNS",
    "AddressRow",
    "correction_key",
    "geocode_addresses",
    "make_geocoder",
    "read_addresses",
]

OUTPUT_COLUMNS = [*RESULT_COLUMNS, "line"]
"""Columns of the geocoding result: ``address, village_code, village_name, town_name,
method, score, status, town_code, candidates`` and ``line`` (the row's line in the file)."""
SCORE_DECIMALS = 1
PROGRESS_REPORTS = 100  # geocoding tells its progress about this many times per file


@dataclass(frozen=True)
class AddressRow:
    """One row of an address file: its line, address and (optional) town and village."""

    line: int
    address: Any  # the cell as read (text, a number, or None)
    town: Any = None
    village: Any = None


def make_geocoder(
    gazetteer: Gazetteer, corrections: Mapping[str, str], *, config: Config
) -> Geocoder:
    """The geocoder of a gazetteer and its saved manual corrections (``[geocode]`` settings)."""
    return Geocoder(
        gazetteer,
        corrections=dict(corrections),
        fuzzy_min_score=config.geocode.fuzzy_min_score,
        fuzzy_margin=config.geocode.fuzzy_margin,
    )


def read_addresses(
    path: Path,
    *,
    column: str,
    town_column: str | None = None,
    village_column: str | None = None,
    search_rows: int = 15,
) -> list[AddressRow]:
    """The address (and town, village) of every row of ``path`` (CSV/XLSX).

    Raises
    ------
    InputError
        When the file cannot be read or lacks one of the named columns.
    """
    wanted = [c for c in (column, town_column, village_column) if c]
    keys = {header_key(c) for c in wanted}

    def score(cells: list[object]) -> int:
        found = {header_key(c) for c in cells} & keys
        return len(found) + 1 if len(found) == len(keys) else 0

    table = read_table(path, score=score, search_rows=search_rows)
    by_key = {header_key(h): h for h in table.headers}
    cols = {c: by_key.get(header_key(c)) for c in wanted}
    absent = [c for c, h in cols.items() if h is None]
    if absent:
        raise InputError(
            f"找不到列「{'、'.join(absent)}」；文件的列有：{'、'.join(table.headers)}",
            file=path.name,
        )

    def cell(values: Mapping[str, Any], name: str | None) -> Any:
        return values.get(cols[name] or "") if name else None

    return [
        AddressRow(
            line=row.line,
            address=cell(row.values, column),
            town=cell(row.values, town_column),
            village=cell(row.values, village_column),
        )
        for row in table.rows
    ]


def geocode_addresses(
    geocoder: Geocoder,
    rows: list[AddressRow],
    *,
    by_parts: bool = False,
    progress: Progress = silent,
) -> pd.DataFrame:
    """Resolve every row to a village: a frame with :data:`OUTPUT_COLUMNS`.

    ``by_parts``: use the town and village columns along with the address.
    ``progress`` is told ``地址匹配：done/total 行`` about every
    1/:data:`PROGRESS_REPORTS` of the rows.
    """
    records = []
    total = len(rows)
    every = max(1, total // PROGRESS_REPORTS)
    for n, row in enumerate(rows):
        if n % every == 0:
            progress(f"地址匹配：{n}/{total} 行", n / total)
        address = row.address
        if by_parts:
            res = geocoder.geocode_parts(town=row.town, village=row.village, address=address)
        else:
            res = geocoder.geocode(address or "")
        records.append(
            {
                "address": address or "",
                "village_code": res.village_code,
                "village_name": res.village_name,
                "town_name": res.town_name,
                "method": res.method,
                "score": round(float(res.score), SCORE_DECIMALS),
                "status": res.status,
                "line": row.line,
                "town_code": res.town_code,
                "candidates": ";".join(res.candidates),
            }
        )
    progress(f"地址匹配：{total}/{total} 行", 1.0)
    return pd.DataFrame.from_records(records, columns=OUTPUT_COLUMNS)


def correction_key(address: str) -> str:
    """The normalised address a manual correction is saved under.

    Raises
    ------
    InputError
        When nothing is left of the address once normalised.
    """
    key = normalize_address(address)
    if not key:
        raise InputError("地址为空，无法保存更正")
    return key
