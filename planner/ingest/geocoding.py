"""Geocode a file of addresses against the store's gazetteer: ``coverplan geocode``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from geo.geocode import RESULT_COLUMNS, STATUSES, Geocoder, normalize_address
from planner.errors import InputError
from planner.ingest.columns import header_key
from planner.ingest.readers import read_table
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store, audit

OUTPUT_COLUMNS = [*RESULT_COLUMNS, "line"]


@dataclass(frozen=True)
class GeocodeFileResult:
    file: str
    out: Path
    rows: int
    by_status: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "out": str(self.out), "rows": self.rows, **self.by_status}


def make_geocoder(store: Store, *, config: Config) -> Geocoder:
    """The geocoder of the store's gazetteer and saved manual corrections."""
    return Geocoder(
        store.gazetteer(),
        corrections=store.corrections(),
        fuzzy_min_score=config.geocode.fuzzy_min_score,
        fuzzy_margin=config.geocode.fuzzy_margin,
    )


def geocode_file(
    store: Store,
    path: Path,
    *,
    column: str,
    out: Path,
    config: Config,
    town_column: str | None = None,
    village_column: str | None = None,
) -> GeocodeFileResult:
    """Resolve every row's address (or town + village columns) to a village code.

    Writes ``out`` (CSV, UTF-8 with BOM, or XLSX) with the columns ``address,
    village_code, village_name, town_name, method, score, status``, then
    ``town_code, candidates`` and ``line`` (the row's line in the input file).
    """
    wanted = [c for c in (column, town_column, village_column) if c]
    keys = {header_key(c) for c in wanted}

    def score(cells: list[object]) -> int:
        found = {header_key(c) for c in cells} & keys
        return len(found) + 1 if len(found) == len(keys) else 0

    table = read_table(path, score=score, search_rows=config.import_.header_search_rows)
    by_key = {header_key(h): h for h in table.headers}
    cols = {c: by_key.get(header_key(c)) for c in wanted}
    absent = [c for c, h in cols.items() if h is None]
    if absent:
        raise InputError(
            f"找不到列「{'、'.join(absent)}」；文件的列有：{'、'.join(table.headers)}",
            file=path.name,
        )
    geocoder = make_geocoder(store, config=config)
    records = []
    for row in table.rows:
        address = row.values.get(cols[column] or "")
        if town_column or village_column:
            res = geocoder.geocode_parts(
                town=row.values.get(cols[town_column] or "") if town_column else None,
                village=row.values.get(cols[village_column] or "") if village_column else None,
                address=address,
            )
        else:
            res = geocoder.geocode(address or "")
        records.append(
            {
                "address": address or "",
                "village_code": res.village_code,
                "village_name": res.village_name,
                "town_name": res.town_name,
                "method": res.method,
                "score": round(float(res.score), 1),
                "status": res.status,
                "line": row.line,
                "town_code": res.town_code,
                "candidates": ";".join(res.candidates),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=OUTPUT_COLUMNS)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        frame.to_excel(out, index=False)
    else:
        frame.to_csv(out, index=False, encoding="utf-8-sig")
    counts = Counter(frame["status"])
    return GeocodeFileResult(
        file=str(path),
        out=out,
        rows=len(frame),
        by_status={s: int(counts.get(s, 0)) for s in STATUSES},
    )


def add_correction(
    store: Store, *, address: str, village_code: str, note: str | None = None
) -> str:
    """Save a manual decision: this address text means this village (used first)."""
    gaz = store.gazetteer()
    gaz.village(village_code)  # raises GazetteerError with a clear message
    key = normalize_address(address)
    if not key:
        raise InputError("地址为空，无法保存更正")
    with store.write() as s:
        s.merge(
            t.GeocodeCorrection(
                key=key, village_code=village_code, created_at=datetime.now(), note=note
            )
        )
        audit(s, action="correct", entity="geocode", detail={"key": key, "village": village_code})
    return key
