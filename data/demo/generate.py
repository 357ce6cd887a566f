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
from numpy.typing import ArrayLike
from shapely.geometry import Point

from data.demo._geometry import District, Village, build_district, to_lonlat, to_metric
from data.demo._people import (
    ALIAS_ROWS,
    BAD_ROWS,
    DEVICES_HEADER,
    LEADS_HEADER,
    RESIDENTS_HEADER,
    RESIDENTS_TITLE,
    SYNTHETIC_NOTE,
    VALID_BAD_KINDS,
    VALID_PERSONS,
    make_devices,
    make_leads,
    make_residents,
)
from data.demo._roads import build_roads, write_osm
from geo.crs import wgs84_to_gcj02

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
FACILITIES_HEADER = [
    "设施编号", "设施名称", "设施类型", "镇街", "村社", "村社代码", "地址", "容量", "在册人数",
    "星级", "经度", "纬度", "备注",
]  # fmt: skip
ADDRESS_PREFIX = "浙江省宁波市奉化区"

# DOMAIN.md: 13 work-therapy homes placing about 420 people (2024); two towns are
# left without a home, to show coverage gaps.
HOMES_PER_TOWN: dict[str, int] = {
    "锦屏街道": 2, "岳林街道": 1, "江口街道": 1, "西坞街道": 1, "萧王庙街道": 1,
    "方桥街道": 1, "尚田街道": 1, "莼湖街道": 2, "溪口镇": 2, "裘村镇": 1,
}  # fmt: skip
HOME_CAPACITY_TOTAL = 500  # places; DOMAIN.md: capacity is to rise 20 % over ~420 placed
HOME_PLACED_TOTAL = 420  # DOMAIN.md
WORK_THERAPY_HOMES = 10  # of the 13, 工疗型; the rest day care
HOME_STAR_CAPACITY = {"一星级": 28, "二星级": 38, "三星级": 50}  # typical places by star level
# DOMAIN.md: 11 community psychiatric rehab stations in 8 towns, 137 people (2020).
PSYCH_STATIONS_PER_TOWN: dict[str, int] = {
    "锦屏街道": 2, "岳林街道": 2, "溪口镇": 2, "江口街道": 1,
    "西坞街道": 1, "萧王庙街道": 1, "尚田街道": 1, "莼湖街道": 1,
}  # fmt: skip
PSYCH_PLACED_TOTAL = 137
PSYCH_CAPACITY_RANGE = (12, 20)  # places per station
CHILD_REHAB_CAPACITY = 90
CHILD_REHAB_PLACED = 82  # DOMAIN.md: 82 autistic children in rehab aid
REHAB_HOSPITAL_BEDS = 120
CARE_CENTRE_BEDS = 60
CARE_CENTRE_PLACED = 52
DEVICE_POINT_TOWNS = ("锦屏街道", "溪口镇", "莼湖街道")
DEVICE_POINT_MONTHLY = 60  # fittings a month
SERVICE_WINDOW_TOWNS = ("锦屏街道", "岳林街道", "江口街道", "溪口镇", "尚田街道", "莼湖街道")
SERVICE_WINDOW_DAILY = 40  # visitors a day
ACCESSIBLE_COMMUNITY_TOWNS = ("锦屏街道", "岳林街道")
FACILITY_OFFSET_M = (20.0, 180.0)  # distance of a facility from its committee point


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

    plain, amap = _facilities(villages, rng)
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


def _near(
    v: Village, taken: list[tuple[float, float]], rng: np.random.Generator
) -> tuple[float, float]:
    """A point (degrees, 6 decimals) near the committee point, inside the village."""
    inner = v.polygon.buffer(-2e-5)
    centre = to_metric(np.array([[v.lon, v.lat]]))[0]
    for _ in range(100):
        angle = rng.uniform(0.0, 2.0 * np.pi)
        dist = rng.uniform(*FACILITY_OFFSET_M)
        p = to_lonlat((centre + dist * np.array([np.cos(angle), np.sin(angle)]))[None, :])[0]
        lon, lat = round(float(p[0]), 6), round(float(p[1]), 6)
        if inner.contains(Point(lon, lat)) and (lon, lat) not in taken:
            taken.append((lon, lat))
            return lon, lat
    taken.append((v.lon, v.lat))
    return v.lon, v.lat


def _choose(
    villages: list[Village],
    town: str,
    used: list[str],
    rng: np.random.Generator,
    *,
    kinds: tuple[str, ...] = ("community", "village"),
) -> Village:
    """A random village of ``town`` (weighted by population) not in ``used``."""
    cands = [v for v in villages if v.town == town and v.kind in kinds and v.code not in used]
    w = np.array([v.population for v in cands], dtype=np.float64)
    pick = cands[int(rng.choice(len(cands), p=w / w.sum()))]
    used.append(pick.code)
    return pick


def _exact(weights: ArrayLike, total: int) -> list[int]:
    raw = np.asarray(weights, dtype=np.float64)
    raw = raw / raw.sum() * total
    counts = np.floor(raw).astype(np.int64)
    order = np.lexsort((np.arange(len(raw)), -(raw - counts)))
    counts[order[: total - int(counts.sum())]] += 1
    return [int(c) for c in counts]


def _facilities(
    villages: list[Village], rng: np.random.Generator
) -> tuple[list[list[str]], list[list[str]]]:
    """Facility rows: (WGS-84 file, GCJ-02 file)."""
    taken: list[tuple[float, float]] = []
    plain: list[list[str]] = []
    amap: list[list[str]] = []

    def row(
        fid: str,
        name: str,
        kind: str,
        v: Village,
        capacity: int | None,
        placed: int | None,
        stars: str,
        note: str,
        *,
        exact: bool = False,
        gcj: bool = False,
    ) -> list[str]:
        lon, lat = (v.lon, v.lat) if exact else _near(v, taken, rng)
        if gcj:
            gx, gy = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
            lon, lat = round(float(gx[0]), 6), round(float(gy[0]), 6)
        address = f"{ADDRESS_PREFIX}{v.town}{v.written}{int(rng.integers(1, 300))}号"
        return [
            fid,
            name,
            kind,
            v.town,
            v.name,
            v.code,
            address,
            "" if capacity is None else str(capacity),
            "" if placed is None else str(placed),
            stars,
            f"{lon:.6f}",
            f"{lat:.6f}",
            f"{note}；{SYNTHETIC_NOTE}" if note else SYNTHETIC_NOTE,
        ]

    # 残疾人之家
    used: list[str] = []
    homes = [
        (t, _choose(villages, t, used, rng)) for t, k in HOMES_PER_TOWN.items() for _ in range(k)
    ]
    stars = [str(rng.choice(list(HOME_STAR_CAPACITY), p=[0.2, 0.45, 0.35])) for _ in homes]
    base = [HOME_STAR_CAPACITY[s] * rng.uniform(0.85, 1.15) for s in stars]
    capacity = _exact(base, HOME_CAPACITY_TOTAL)
    placed = _exact([c * rng.uniform(0.75, 0.95) for c in capacity], HOME_PLACED_TOTAL)
    placed = [min(p, c) for p, c in zip(placed, capacity, strict=True)]
    work = set(rng.choice(len(homes), size=WORK_THERAPY_HOMES, replace=False).tolist())
    for k, (town, v) in enumerate(homes):
        single = HOMES_PER_TOWN[town] == 1
        name = f"{town}残疾人之家" if single else f"{town}{v.written}残疾人之家"
        note = "工疗型（工疗车间）" if k in work else "日间照料型"
        plain.append(
            row(
                f"FH-HOME-{k + 1:02d}",
                name,
                "残疾人之家",
                v,
                capacity[k],
                placed[k],
                stars[k],
                note,
            )
        )

    # 精神残疾人社区康复站
    used = []
    stations = [
        (t, _choose(villages, t, used, rng))
        for t, k in PSYCH_STATIONS_PER_TOWN.items()
        for _ in range(k)
    ]
    cap = [
        int(rng.integers(PSYCH_CAPACITY_RANGE[0], PSYCH_CAPACITY_RANGE[1] + 1)) for _ in stations
    ]
    n_psych = _exact([c * rng.uniform(0.6, 1.0) for c in cap], PSYCH_PLACED_TOTAL)
    n_psych = [min(p, c) for p, c in zip(n_psych, cap, strict=True)]
    for k, (town, v) in enumerate(stations):
        name = f"{town}{v.written}精神残疾人社区康复站"
        plain.append(
            row(f"FH-PSY-{k + 1:02d}", name, "精神残疾人社区康复站", v, cap[k], n_psych[k], "", "")
        )

    # Urban facilities, in communities of the urban centre.
    used = []
    comm = ("community",)
    v = _choose(villages, "锦屏街道", used, rng, kinds=comm)
    plain.append(
        row("FH-CHILD-01", "奉化区残疾儿童康复中心", "儿童康复中心", v, CHILD_REHAB_CAPACITY,
            CHILD_REHAB_PLACED, "", "含孤独症儿童康复训练")
    )  # fmt: skip
    v = _choose(villages, "岳林街道", used, rng, kinds=comm)
    plain.append(
        row("FH-HOSP-01", "奉化区定点康复医院", "定点康复医院", v, REHAB_HOSPITAL_BEDS, None, "",
            "容量为床位数")
    )  # fmt: skip
    v = _choose(villages, "锦屏街道", used, rng, kinds=comm)
    plain.append(
        row("FH-CARE-01", "奉化区残疾人托养中心", "托养中心", v, CARE_CENTRE_BEDS,
            CARE_CENTRE_PLACED, "", "现址；拟迁建至锦屏街道溪岙村")
    )  # fmt: skip
    for k, town in enumerate(ACCESSIBLE_COMMUNITY_TOWNS):
        v = _choose(villages, town, used, rng, kinds=comm)
        fid, name = f"FH-ACC-{k + 1:02d}", f"{v.name}（无障碍社区）"
        plain.append(row(fid, name, "无障碍社区", v, None, None, "", "省级无障碍社区", exact=True))

    # Device service points and service windows: coordinates copied from Amap (GCJ-02).
    amap_note = "坐标取自高德地图（GCJ-02）"
    used = []
    for k, town in enumerate(DEVICE_POINT_TOWNS):
        v = _choose(villages, town, used, rng)
        fid, name, monthly = f"FH-AID-{k + 1:02d}", f"{town}辅具服务点", DEVICE_POINT_MONTHLY
        amap.append(row(fid, name, "辅具服务点", v, monthly, None, "", amap_note, gcj=True))
    used = []
    for k, town in enumerate(SERVICE_WINDOW_TOWNS):
        v = _choose(villages, town, used, rng)
        fid, name, daily = f"FH-WIN-{k + 1:02d}", f"{town}助残服务窗口", SERVICE_WINDOW_DAILY
        amap.append(row(fid, name, "助残窗口", v, daily, None, "", amap_note, gcj=True))
    return plain, amap


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
