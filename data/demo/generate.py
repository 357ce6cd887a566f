"""Deterministic, seeded generator of the synthetic demo district of 奉化区.

Real: the 12 towns and 337 villages with their official codes and names, and
the district outline (``data/reference/``). Everything else is synthetic and
labelled so in every file: the town and village boundaries, committee points,
the road network, the residents, devices, leads and facilities.

Usage::

    from data.demo.generate import generate_demo
    files = generate_demo(Path("var/demo"))           # seed 2024, today 2026-11-01

The same ``seed`` and ``today`` give byte-identical files.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
from shapely.geometry import Point

from data.demo._facilities import FACILITIES_HEADER, make_facilities
from data.demo._geometry import District, build_district
from data.demo._people import (
    ALIAS_ROWS,
    BAD_ROWS,
    DEVICES_HEADER,
    LEADS_HEADER,
    RESIDENTS_HEADER,
    RESIDENTS_TITLE,
    VALID_BAD_KINDS,
    VALID_PERSONS,
    make_devices,
    make_leads,
    make_residents,
)
from data.demo._roads import build_roads, write_osm

__all__ = [
    "ALIAS_ROWS",
    "BAD_ROWS",
    "DEFAULT_SEED",
    "DEFAULT_TODAY",
    "REJECTED_ROWS",
    "VALID_BAD_KINDS",
    "VALID_PERSONS",
    "DemoFiles",
    "generate_demo",
]

DEFAULT_SEED = 2024
DEFAULT_TODAY = date(2026, 11, 1)
# Rows of residents.csv an importer must reject, by kind (see BAD_ROWS).
REJECTED_ROWS: dict[str, int] = {k: v for k, v in BAD_ROWS.items() if k not in VALID_BAD_KINDS}

VILLAGE_NOTE = "合成演示数据（位置与边界非真实）"
VILLAGES_TITLE = "奉化区村社（代码与名称真实；位置与边界为合成演示数据）"


@dataclass(frozen=True)
class DemoFiles:
    """Paths of the generated demo files."""

    directory: Path
    villages: Path  # villages.geojson
    roads: Path  # roads.osm
    facilities: Path  # facilities.csv (WGS-84)
    facilities_amap: Path  # facilities_amap.csv (GCJ-02: points "copied from Amap")
    residents: Path  # residents.csv (GBK)
    devices: Path  # devices.csv
    leads: Path  # leads.csv


def generate_demo(
    out_dir: Path, *, seed: int = DEFAULT_SEED, today: date = DEFAULT_TODAY
) -> DemoFiles:
    """Generate the synthetic demo district into ``out_dir``.

    Parameters
    ----------
    out_dir
        Directory to write into (created if missing; files are overwritten).
    seed
        Seed of ``numpy.random.default_rng``; the same seed and ``today`` give
        byte-identical files.
    today
        The reference day: ages, due dates and visit dates are relative to it.

    Returns
    -------
    DemoFiles
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = DemoFiles(
        directory=out,
        villages=out / "villages.geojson",
        roads=out / "roads.osm",
        facilities=out / "facilities.csv",
        facilities_amap=out / "facilities_amap.csv",
        residents=out / "residents.csv",
        devices=out / "devices.csv",
        leads=out / "leads.csv",
    )
    rng = np.random.default_rng(seed)
    district = build_district(rng)
    roads = build_roads(district, rng)
    villages = [
        replace(
            v,
            lon=round(float(roads.lon[roads.hubs[v.code]]), 6),
            lat=round(float(roads.lat[roads.hubs[v.code]]), 6),
        )
        for v in district.villages
    ]
    for v in villages:
        if not v.polygon.contains(Point(v.lon, v.lat)):
            raise AssertionError(f"committee point of {v.name} outside its polygon")
    district = replace(district, villages=villages)
    write_osm(roads, files.roads)
    _write_villages(district, files.villages)

    residents, roster = make_residents(villages, today, rng)
    _write_csv(files.residents, [RESIDENTS_HEADER, *residents], "gbk", title=RESIDENTS_TITLE)
    devices = make_devices(roster, today, rng)
    _write_csv(files.devices, [DEVICES_HEADER, *devices], "utf-8-sig")
    leads = make_leads(villages, roster, today, rng)
    _write_csv(files.leads, [LEADS_HEADER, *leads], "utf-8-sig")

    plain, amap = make_facilities(villages, rng)
    _write_csv(files.facilities, [FACILITIES_HEADER, *plain], "utf-8-sig")
    _write_csv(files.facilities_amap, [FACILITIES_HEADER, *amap], "utf-8-sig")
    return files


def _write_csv(path: Path, rows: list[list[str]], encoding: str, *, title: str = "") -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if title:
        writer.writerow([title])
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def _ring(coords: Iterable[Sequence[float]]) -> list[list[float]]:
    return [[round(float(c[0]), 7), round(float(c[1]), 7)] for c in coords]


def _write_villages(district: District, path: Path) -> None:
    """villages.geojson: one Polygon feature per village, WGS-84, 7 decimals."""
    features = []
    for v in district.villages:
        rings = [_ring(v.polygon.exterior.coords)] + [_ring(r.coords) for r in v.polygon.interiors]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "村社代码": v.code,
                    "村社名称": v.name,
                    "镇街代码": v.town_code,
                    "镇街": v.town,
                    "别名": v.alias,
                    "经度": v.lon,
                    "纬度": v.lat,
                    "数据说明": VILLAGE_NOTE,
                },
                "geometry": {"type": "Polygon", "coordinates": rings},
            }
        )
    lines = [
        '{"type": "FeatureCollection",',
        f' "name": {json.dumps(VILLAGES_TITLE, ensure_ascii=False)},',
        ' "features": [',
    ]
    body = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    lines.append(",\n".join(body))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Command line: ``python -m data.demo.generate OUT_DIR [SEED]``."""
    import sys
    import time

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/demo")
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_SEED
    start = time.perf_counter()
    files = generate_demo(out, seed=seed)
    print(f"written to {files.directory} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
