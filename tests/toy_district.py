"""A hand-built toy district with known travel times, mixed village geometry
and points off the road network (shared by the off-network and mixed-geometry
tests).

The road: five nodes on the parallel 29.67° N, 0.01° of longitude apart
(121.23 … 121.27), ``n1–n2–n3–n4`` a ``tertiary`` road (drive 30 km/h) and
``n4–n5`` a ``primary`` with ``maxspeed=40`` (drive 40 × 0.85 = 34 km/h).

Villages of 溪口镇 (one town; a tiny gazetteer passed to ``init_store``):

=========== ============ ================================= ==========================
code        name         geometry                          on the network?
=========== ============ ================================= ==========================
…100001     武岭社区       polygon + point near n2 (55.6 m)    yes
…100002     茗山社区       point near n1 (22.2 m)              yes
…100003     畸山居委会      polygon only (point: its interior)  yes (n3)
…100004     班溪居委会      point near n4 (22.2 m)              yes
…100005     剡溪社区       point 0.018° north of n3 (2,001 m)  NO (snaps to n3)
…100006     中山社区       point near n5 (33.4 m)              yes
…100200     溪口一村委会    none                               not located
=========== ============ ================================= ==========================

Facilities: the 残疾人之家 at n3 (capacity 20) — right at the node the
off-network village snaps to — and a 精神残疾人社区康复站 2.2 km north of n1
(off the network: serves nobody).
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

from geo.gazetteer import Gazetteer, Town, Village
from planner.settings import load_config
from planner.store.core import Store, init_store
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
R_EARTH = 6_371_008.8  # metres, the mean radius the network code uses
LAT = 29.67
NODES = {1: 121.23, 2: 121.24, 3: 121.25, 4: 121.26, 5: 121.27}
TOWN = "330213100"
V_WULING, V_MINGSHAN, V_JISHAN, V_BANXI = (f"{TOWN}00{i}" for i in (1, 2, 3, 4))
V_SHANXI, V_ZHONGSHAN, V_NOWHERE = f"{TOWN}005", f"{TOWN}006", f"{TOWN}200"
NAMES = {
    V_WULING: "武岭社区",
    V_MINGSHAN: "茗山社区",
    V_JISHAN: "畸山居委会",
    V_BANXI: "班溪居委会",
    V_SHANXI: "剡溪社区",
    V_ZHONGSHAN: "中山社区",
    V_NOWHERE: "溪口一村委会",
}
POINTS = {
    V_WULING: (121.240, 29.6705),
    V_MINGSHAN: (121.230, 29.6702),
    V_BANXI: (121.260, 29.6702),
    V_SHANXI: (121.250, 29.688),
    V_ZHONGSHAN: (121.270, 29.6703),
}
JISHAN_SQUARE = [(121.249, 29.6705), (121.251, 29.6705), (121.251, 29.6715), (121.249, 29.6715)]
WULING_SQUARE = [(121.239, 29.6700), (121.241, 29.6700), (121.241, 29.6710), (121.239, 29.6710)]
HOME_AT = (121.2500, 29.6701)
PSYCH_AT = (121.230, 29.690)
OFFICE = (121.2400, 29.6701)


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres (independent of the code under test)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl, dp = math.radians(lon2 - lon1), p2 - p1
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R_EARTH * math.asin(math.sqrt(h))


def leg_m(a: int, b: int) -> float:
    """Metres between road nodes ``a`` and ``b``."""
    return haversine(NODES[a], LAT, NODES[b], LAT)


def drive_min(a: int, b: int) -> float:
    """Drive minutes from node ``a`` to node ``b`` along the road (a < b or a > b)."""
    lo, hi = sorted((a, b))
    total = 0.0
    for i in range(lo, hi):
        kmh = 34.0 if i == 4 else 30.0
        total += leg_m(i, i + 1) / (kmh / 3.6) / 60.0
    return total


def osm_xml(*, shift_lat: float = 0.0) -> str:
    """The toy road as OSM XML (``shift_lat`` degrees north: a file of elsewhere)."""
    nodes = "".join(
        f'  <node id="{i}" lat="{LAT + shift_lat:.6f}" lon="{lon:.6f}"/>\n'
        for i, lon in NODES.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
        + nodes
        + '  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
        '<tag k="highway" v="tertiary"/></way>\n'
        '  <way id="11"><nd ref="4"/><nd ref="5"/>'
        '<tag k="highway" v="primary"/><tag k="maxspeed" v="40"/></way>\n'
        "</osm>\n"
    )


def gazetteer() -> Gazetteer:
    """One town, seven villages, no points (points come from the villages file)."""
    return Gazetteer.from_records(
        district_code="330213",
        district_name="奉化区",
        towns=[Town(code=TOWN, name="溪口镇")],
        villages=[Village(code=c, name=n, town_code=TOWN) for c, n in NAMES.items()],
    )


def _feature(
    code: str, geometry: dict[str, object], point: tuple[float, float] | None = None
) -> dict[str, object]:
    lon, lat = point if point else (None, None)
    return {
        "type": "Feature",
        "properties": {"村社代码": code, "村社名称": NAMES[code], "经度": lon, "纬度": lat},
        "geometry": geometry,
    }


def villages_geojson() -> str:
    """Polygon and Point features mixed; 武岭 has a polygon and a committee point."""
    feats = [
        _feature(
            V_WULING,
            {"type": "Polygon", "coordinates": [[*WULING_SQUARE, WULING_SQUARE[0]]]},
            POINTS[V_WULING],
        ),
        _feature(
            V_JISHAN, {"type": "Polygon", "coordinates": [[*JISHAN_SQUARE, JISHAN_SQUARE[0]]]}
        ),
        *(
            _feature(c, {"type": "Point", "coordinates": list(POINTS[c])})
            for c in (V_MINGSHAN, V_BANXI, V_SHANXI, V_ZHONGSHAN)
        ),
    ]
    return json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False)


# name, village, category, grade, birth, own point (lon, lat) or None, 服药监护
PEOPLE = [
    ("甲", V_SHANXI, "智力", "三级", date(1996, 1, 1), None, "是"),  # off-network village
    ("乙", V_SHANXI, "智力", "三级", date(1990, 1, 1), None, ""),  # off-network village
    ("丙", V_WULING, "智力", "三级", date(1986, 1, 1), None, "是"),
    ("丁", V_WULING, "精神", "三级", date(1985, 1, 1), None, ""),
    ("戊", V_BANXI, "智力", "四级", date(1980, 1, 1), None, ""),
    ("己", V_ZHONGSHAN, "智力", "三级", date(1979, 1, 1), (121.2700, 29.6700), ""),
    ("庚", V_NOWHERE, "智力", "三级", date(1978, 1, 1), None, "是"),  # village without a point
    ("辛", V_JISHAN, "智力", "三级", date(1977, 1, 1), (121.2505, 29.6600), ""),  # own point off
]


def write_inputs(directory: Path) -> dict[str, Path]:
    """The toy district's files: roads (and the same road elsewhere), villages, residents,
    facilities, and a configuration placing the office on the road."""
    directory.mkdir(parents=True, exist_ok=True)
    roads = directory / "roads.osm"
    roads.write_text(osm_xml(), encoding="utf-8")
    far = directory / "elsewhere.osm"
    far.write_text(osm_xml(shift_lat=0.2), encoding="utf-8")
    villages = directory / "villages.geojson"
    villages.write_text(villages_geojson(), encoding="utf-8")
    rows = []
    for i, (name, v, cat, grade, birth, own, med) in enumerate(PEOPLE):
        lon, lat = own if own else ("", "")
        rows.append(
            f"{name},{make_id(birth, 2 * i + 1)},{cat},{grade},溪口镇,{NAMES[v]},{v},"
            f"溪口镇{NAMES[v]}{i + 1}号,{lon},{lat},{med}\n"
        )
    residents = directory / "residents.csv"
    residents.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,村社代码,现住址,经度,纬度,"
        "精神病服药监护\n" + "".join(rows),
        encoding="utf-8",
    )
    facilities = directory / "facilities.csv"
    facilities.write_text(
        "设施名称,设施类型,镇街,村社,村社代码,现住址,容量,经度,纬度\n"
        f"溪口残疾人之家,残疾人之家,溪口镇,畸山居委会,{V_JISHAN},溪口镇畸山,20,"
        f"{HOME_AT[0]},{HOME_AT[1]}\n"
        f"茗山康复站,精神残疾人社区康复站,溪口镇,茗山社区,{V_MINGSHAN},溪口镇茗山,10,"
        f"{PSYCH_AT[0]},{PSYCH_AT[1]}\n",
        encoding="utf-8",
    )
    config = directory / "config.toml"
    config.write_text(
        "[outreach]\nmin_villages_per_month = 0\n"
        f'office = {{ name = "溪口办公室", lon = {OFFICE[0]}, lat = {OFFICE[1]} }}\n',
        encoding="utf-8",
    )
    return {
        "roads": roads,
        "elsewhere": far,
        "villages": villages,
        "residents": residents,
        "facilities": facilities,
        "config": config,
    }


def build_store(url: str, files: dict[str, Path]) -> Store:
    """Create the store at ``url`` and import the toy district's files into it."""
    config = load_config(files["config"])
    store = init_store(url, gazetteer=gazetteer())
    for kind, key in (
        ("villages", "villages"),
        ("facilities", "facilities"),
        ("residents", "residents"),
    ):
        res = import_file(store, kind, files[key], config=config, today=TODAY)
        assert res.rejected == 0, (key, res.to_json())
    return store
