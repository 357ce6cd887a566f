"""The demo's facilities: homes, psychiatric rehab stations, urban centres, Amap points.

Every facility is a point 20–180 m from its village's committee point, inside
the village (:data:`FACILITY_OFFSET_M`); its figures follow the project's domain
brief (``shared/DOMAIN.md``). :func:`make_facilities` returns the rows of
``facilities.csv`` (WGS-84) and of ``facilities_amap.csv`` (GCJ-02, as if copied
from Amap), header :data:`FACILITIES_HEADER`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from shapely.geometry import Point

from data.demo._geometry import Village, to_lonlat, to_metric
from data.demo._identity import ADDRESS_PREFIX
from data.demo._records import SYNTHETIC_NOTE
from geo.crs import wgs84_to_gcj02

FACILITIES_HEADER = [
    "设施编号", "设施名称", "设施类型", "镇街", "村社", "村社代码", "地址", "容量", "在册人数",
    "星级", "经度", "纬度", "备注",
]  # fmt: skip

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


class _Rows:
    """Makes facility rows; every point is new (not ``taken`` by another facility)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.taken: list[tuple[float, float]] = []

    def row(
        self,
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
        """One row of ``FACILITIES_HEADER``: near ``v``'s committee point (at it if
        ``exact``), in GCJ-02 if ``gcj``."""
        rng = self.rng
        lon, lat = (v.lon, v.lat) if exact else _near(v, self.taken, rng)
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


def make_facilities(
    villages: list[Village], rng: np.random.Generator
) -> tuple[list[list[str]], list[list[str]]]:
    """Facility rows: (WGS-84 file, GCJ-02 file)."""
    rows = _Rows(rng)
    plain = _homes(villages, rows, rng)
    plain += _psych_stations(villages, rows, rng)
    plain += _urban_facilities(villages, rows, rng)
    amap = _amap_points(villages, rows, rng)
    return plain, amap


def _homes(villages: list[Village], rows: _Rows, rng: np.random.Generator) -> list[list[str]]:
    """残疾人之家: HOMES_PER_TOWN, capacities and placements summing to the totals."""
    plain: list[list[str]] = []
    row = rows.row
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
    return plain


def _psych_stations(
    villages: list[Village], rows: _Rows, rng: np.random.Generator
) -> list[list[str]]:
    """精神残疾人社区康复站: PSYCH_STATIONS_PER_TOWN, PSYCH_PLACED_TOTAL placed."""
    plain: list[list[str]] = []
    row = rows.row
    used: list[str] = []
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
    return plain


def _urban_facilities(
    villages: list[Village], rows: _Rows, rng: np.random.Generator
) -> list[list[str]]:
    """Urban facilities, in communities of the urban centre."""
    plain: list[list[str]] = []
    row = rows.row
    used: list[str] = []
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
    return plain


def _amap_points(villages: list[Village], rows: _Rows, rng: np.random.Generator) -> list[list[str]]:
    """Device service points and service windows: coordinates copied from Amap (GCJ-02)."""
    amap: list[list[str]] = []
    row = rows.row
    amap_note = "坐标取自高德地图（GCJ-02）"
    used: list[str] = []
    for k, town in enumerate(DEVICE_POINT_TOWNS):
        v = _choose(villages, town, used, rng)
        fid, name, monthly = f"FH-AID-{k + 1:02d}", f"{town}辅具服务点", DEVICE_POINT_MONTHLY
        amap.append(row(fid, name, "辅具服务点", v, monthly, None, "", amap_note, gcj=True))
    used = []
    for k, town in enumerate(SERVICE_WINDOW_TOWNS):
        v = _choose(villages, town, used, rng)
        fid, name, daily = f"FH-WIN-{k + 1:02d}", f"{town}助残服务窗口", SERVICE_WINDOW_DAILY
        amap.append(row(fid, name, "助残窗口", v, daily, None, "", amap_note, gcj=True))
    return amap
