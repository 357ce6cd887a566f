"""A small made-up second district, 示例县 (330999), written as the files a county brings.

Nothing here is real: the code 330999, the names, the roads and the people are
invented so that every answer can be worked out by hand. The same files are
committed under ``data/examples/county/`` for the README's "Your own district"
walk-through; a test checks they equal what :func:`make_county` writes
(``python -m tests.county data/examples/county`` rewrites them).

Layout (metres east ``x`` and north ``y`` of :data:`ORIGIN`; every road is a
straight east–west or north–south line with a node at least every kilometre)::

                      V04 石桥村 (4000,3000)     V09 孤岛村 (11000,3000): no road within 3 km
                       | 石桥支路
    V01 ─清河路 ─> V02 ─ V03 ─ V05 ─示例县道─ V07 ─ V08 ─盘山公路─ V10 ─ V11 ─ V12
    (0,0)     (2000,0) (4000,0) (6000,0) (10000,0) (12000,0) (20500,0) (25600,0) (30700,0)
     ^               |           |
     |   河滨路      |           | 远山机耕路, 20 km south
     +-------<-------+  y=-1000  V06 远山村 (6000,-20000)
    (0,-1000) office 示例县残联

Roads: 清河路 secondary, maxspeed 60, one-way east; 河滨路 tertiary, one-way
(2000,0) → (2000,-1000) → (0,-1000) → (0,0); 示例县道 X901 secondary, maxspeed 60;
石桥支路 unclassified; 盘山公路 unclassified, maxspeed 20; 远山机耕路 track.

Speeds (``data/config/default.toml [network.drive]``, ``maxspeed_factor`` 0.85):
secondary 40 km/h (its maxspeed 60 × 0.85 = 51 does not raise it) = 1.5 min/km;
tertiary 30 km/h = 2 min/km; unclassified 25 km/h = 2.4 min/km; unclassified
with maxspeed 20: 20 × 0.85 = 17 km/h = 60/17 min/km (8.5 km → 30 min,
5.1 km → 18 min); track 10 km/h = 6 min/km (20 km → 120 min).

Facilities: 残疾人之家 in V02 (capacity 20) and V07 (capacity 20), one per town;
精神残疾人社区康复站 in V01 (capacity 10). Villages V01–V06 (清河街道) are
polygons with their committee point as properties, V07–V12 (云岭镇) points only.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import quoteattr

from planner.ingest.idnumber import check_char

DISTRICT_CODE = "330999"
DISTRICT_NAME = "示例县"
CITY_CODE = "330900"
PARENTS = ("浙江省", "示例市")
ADDRESS_PREFIX = "浙江省示例市示例县"
ORIGIN = (119.6, 29.1)  # lon, lat of (0, 0)
EARTH_RADIUS_M = 6_371_009.0  # the radius osmnx measures edge lengths with
NODE_SPACING_M = 1000.0
SYNTHETIC = "示例数据（虚构）"

TOWNS = {"330999001": "清河街道", "330999002": "云岭镇"}


@dataclass(frozen=True)
class VillageSpec:
    """One village of the example: code, name, committee point in metres, geometry kind."""

    key: str  # V01 … V12, as in the module docstring
    code: str
    name: str
    x: float
    y: float
    polygon: bool

    @property
    def town_code(self) -> str:
        return self.code[:9]

    @property
    def town(self) -> str:
        return TOWNS[self.town_code]

    @property
    def lonlat(self) -> tuple[float, float]:
        return lonlat(self.x, self.y)


VILLAGES = (
    VillageSpec("V01", "330999001001", "清河社区", 0, 0, True),
    VillageSpec("V02", "330999001002", "河东社区", 2000, 0, True),
    VillageSpec("V03", "330999001201", "柳塘村", 4000, 0, True),
    VillageSpec("V04", "330999001202", "石桥村", 4000, 3000, True),
    VillageSpec("V05", "330999001203", "松坑村", 6000, 0, True),
    VillageSpec("V06", "330999001204", "远山村", 6000, -20000, True),
    VillageSpec("V07", "330999002001", "云岭社区", 10000, 0, False),
    VillageSpec("V08", "330999002201", "竹园村", 12000, 0, False),
    VillageSpec("V09", "330999002202", "孤岛村", 11000, 3000, False),
    VillageSpec("V10", "330999002203", "东岭村", 20500, 0, False),
    VillageSpec("V11", "330999002204", "中岭村", 25600, 0, False),
    VillageSpec("V12", "330999002205", "尖峰村", 30700, 0, False),
)
VILLAGE = {v.key: v for v in VILLAGES}
POLYGON_HALF_SIDE_M = 900.0

OFFICE_NAME = "示例县残联"
OFFICE_XY = (0.0, -1000.0)


@dataclass(frozen=True)
class Way:
    osm_id: int
    points: tuple[tuple[float, float], ...]  # metres; a node at each and every NODE_SPACING_M
    tags: tuple[tuple[str, str], ...]


WAYS = (
    Way(
        1,
        ((0, 0), (2000, 0)),
        (("highway", "secondary"), ("maxspeed", "60"), ("oneway", "yes"), ("name", "清河路")),
    ),
    Way(
        2,
        ((2000, 0), (2000, -1000), (0, -1000), (0, 0)),
        (("highway", "tertiary"), ("oneway", "yes"), ("name", "河滨路")),
    ),
    Way(
        3,
        ((2000, 0), (4000, 0), (6000, 0), (10000, 0), (12000, 0)),
        (("highway", "secondary"), ("maxspeed", "60"), ("ref", "X901"), ("name", "示例县道")),
    ),
    Way(
        4,
        ((12000, 0), (13000, 0), (20500, 0), (25600, 0), (30700, 0)),
        (("highway", "unclassified"), ("maxspeed", "20"), ("name", "盘山公路")),
    ),
    Way(
        5,
        ((4000, 0), (4000, 2200), (4000, 3000)),
        (("highway", "unclassified"), ("name", "石桥支路")),
    ),
    Way(
        6,
        ((6000, 0), (6000, -20000)),
        (("highway", "track"), ("name", "远山机耕路")),
    ),
)


@dataclass(frozen=True)
class Person:
    """One registered person of the example register."""

    village: str  # V01 … V12
    name: str
    sex: str  # 男 / 女
    birth: date
    category: str  # as written in the register (Chinese)
    grade: str
    living_subsidy: bool = False
    care_subsidy: bool = False
    low_income: str = ""  # 低保 / 低边 / ""
    lives_alone: bool = False
    bedridden: bool = False
    wheelchair: bool = False
    supervised_medication: bool = False
    retrofit_year: int | None = None
    at: tuple[float, float] | None = None  # own GPS point, metres


# Home-eligible (残疾人之家): 智力/精神, grades 3–4, aged 16–59 (all born 1985–1994).
# fmt: off
PEOPLE = (
    # V01 清河社区: 3 home-eligible
    Person("V01", "张伟", "男", date(1988, 3, 12), "智力残疾", "三级"),
    Person("V01", "李娜", "女", date(1990, 7, 1), "智力残疾", "四级"),
    Person("V01", "王强", "男", date(1985, 11, 20), "精神残疾", "三级"),
    Person("V01", "赵敏", "女", date(1950, 2, 14), "肢体残疾", "二级", care_subsidy=True),
    Person("V01", "陈静", "女", date(1962, 5, 5), "听力残疾", "四级"),
    # V02 河东社区: 3 home-eligible
    Person("V02", "刘洋", "男", date(1992, 1, 8), "智力残疾", "三级"),
    Person("V02", "杨帆", "男", date(1987, 9, 30), "精神残疾", "四级"),
    Person("V02", "黄丽", "女", date(1991, 4, 17), "智力残疾", "四级"),
    Person("V02", "周杰", "男", date(1958, 12, 1), "视力残疾", "一级", living_subsidy=True,
           care_subsidy=True, low_income="低保", retrofit_year=2022),
    # V03 柳塘村: 3 home-eligible, one of them bedridden (home services)
    Person("V03", "吴刚", "男", date(1989, 6, 6), "智力残疾", "三级"),
    Person("V03", "徐芳", "女", date(1993, 8, 18), "精神残疾", "三级"),
    Person("V03", "孙斌", "男", date(1986, 2, 2), "智力残疾", "四级", bedridden=True),
    Person("V03", "马兰", "女", date(1945, 10, 10), "肢体残疾", "二级"),
    Person("V03", "朱明", "男", date(1970, 3, 3), "言语残疾", "四级"),
    # V04 石桥村: 2 home-eligible, one with a GPS point on 石桥支路
    Person("V04", "胡军", "男", date(1990, 12, 12), "智力残疾", "三级", at=(4000, 2200)),
    Person("V04", "郭燕", "女", date(1994, 5, 20), "智力残疾", "四级"),
    Person("V04", "何平", "男", date(1955, 7, 7), "肢体残疾", "三级", wheelchair=True),
    # V05 松坑村: 2 home-eligible
    Person("V05", "高翔", "男", date(1988, 8, 8), "精神残疾", "四级"),
    Person("V05", "林琳", "女", date(1991, 11, 11), "智力残疾", "三级"),
    Person("V05", "罗成", "男", date(1948, 1, 1), "多重残疾", "一级", living_subsidy=True,
           care_subsidy=True, low_income="低边"),
    # V06 远山村, two hours down the track: 1 home-eligible, out of reach of everything
    Person("V06", "梁山", "男", date(1992, 3, 15), "智力残疾", "三级"),
    Person("V06", "宋云", "女", date(1952, 9, 9), "精神残疾", "二级"),
    # V07 云岭社区: 3 home-eligible
    Person("V07", "郑浩", "男", date(1987, 4, 4), "智力残疾", "三级"),
    Person("V07", "谢婷", "女", date(1990, 10, 10), "精神残疾", "三级"),
    Person("V07", "韩冰", "男", date(1993, 3, 3), "智力残疾", "四级"),
    Person("V07", "唐亮", "男", date(1960, 6, 16), "肢体残疾", "四级"),
    # V08 竹园村, the outreach village: 2 home-eligible; 3 wheelchair users with devices
    # past their service life, 1 hearing aid past it, 1 under medication supervision
    Person("V08", "冯磊", "男", date(1989, 9, 9), "智力残疾", "三级"),
    Person("V08", "于洁", "女", date(1992, 12, 20), "精神残疾", "四级"),
    Person("V08", "董建国", "男", date(1958, 4, 21), "肢体残疾", "一级", care_subsidy=True,
           wheelchair=True),
    Person("V08", "萧秀英", "女", date(1950, 3, 8), "肢体残疾", "二级", care_subsidy=True,
           wheelchair=True, at=(13000, 0)),
    Person("V08", "程大勇", "男", date(1966, 7, 15), "多重残疾", "二级", care_subsidy=True,
           wheelchair=True),
    Person("V08", "曹红", "女", date(1972, 11, 2), "听力残疾", "三级"),
    Person("V08", "袁志明", "男", date(1981, 5, 25), "精神残疾", "二级", care_subsidy=True,
           supervised_medication=True),
    # V09 孤岛村, 3 km from any road: 2 home-eligible
    Person("V09", "邓超", "男", date(1990, 1, 21), "智力残疾", "三级"),
    Person("V09", "许晴", "女", date(1988, 7, 7), "精神残疾", "四级"),
    Person("V09", "傅德明", "男", date(1940, 5, 1), "肢体残疾", "三级"),
    # V10 东岭村: 3 home-eligible; the first retrofit candidate
    Person("V10", "沈阳", "男", date(1986, 10, 1), "智力残疾", "三级"),
    Person("V10", "曾丽", "女", date(1991, 2, 14), "智力残疾", "四级"),
    Person("V10", "彭勇", "男", date(1989, 5, 5), "精神残疾", "三级"),
    Person("V10", "王福根", "男", date(1944, 8, 15), "肢体残疾", "一级", living_subsidy=True,
           low_income="低保", lives_alone=True, wheelchair=True),
    Person("V10", "吕梅", "女", date(1965, 12, 12), "视力残疾", "二级"),
    # V11 中岭村: 4 home-eligible
    Person("V11", "苏磊", "男", date(1985, 5, 15), "智力残疾", "三级"),
    Person("V11", "蒋琴", "女", date(1990, 9, 19), "智力残疾", "四级"),
    Person("V11", "蔡明", "男", date(1992, 6, 26), "精神残疾", "三级"),
    Person("V11", "贾静", "女", date(1987, 1, 30), "智力残疾", "三级"),
    Person("V11", "丁秀兰", "女", date(1947, 4, 4), "视力残疾", "一级", low_income="低保"),
    Person("V11", "魏东", "男", date(1975, 8, 8), "言语残疾", "四级"),
    # V12 尖峰村: 3 home-eligible
    Person("V12", "薛平", "男", date(1988, 12, 25), "智力残疾", "三级"),
    Person("V12", "叶青", "女", date(1993, 7, 17), "精神残疾", "四级"),
    Person("V12", "阎强", "男", date(1991, 11, 30), "智力残疾", "四级"),
    Person("V12", "余桂兰", "女", date(1955, 6, 1), "视力残疾", "二级", living_subsidy=True,
           care_subsidy=True, low_income="低边", lives_alone=True),
)
# fmt: on

# (person's name, device, issued, service years): the V08 ones are long past due,
# 何平's wheelchair is current until 2034.
DEVICES = (
    ("董建国", "轮椅", date(2016, 5, 1), 5),
    ("萧秀英", "轮椅", date(2017, 6, 1), 5),
    ("程大勇", "坐便椅", date(2018, 1, 10), 4),
    ("曹红", "助听器", date(2019, 3, 1), 5),
    ("何平", "轮椅", date(2024, 3, 1), 10),
)

# A suspected unregistered person in V08 (certification at home).
LEADS = (("V08", "邓小芳", "女", "智力残疾", "村社排查", date(2026, 9, 1), "家属反映孩子发育迟缓"),)

FACILITIES = (
    # code, name, type, village, capacity, placed, star
    ("SLJ-01", "河东残疾人之家", "残疾人之家", "V02", 20, 10, "二星级"),
    ("SLJ-02", "云岭残疾人之家", "残疾人之家", "V07", 20, 8, "一星级"),
    ("JK-01", "清河精神康复站", "精神残疾人社区康复站", "V01", 10, 6, ""),
)


@dataclass(frozen=True)
class CountyFiles:
    """Paths of the example district's files."""

    directory: Path
    units: Path  # units.csv: code,name,level,parent_code,parent_name
    villages: Path  # villages.geojson: polygons (V01–V06) and points (V07–V12), WGS-84
    roads: Path  # roads.osm
    facilities: Path  # facilities.csv
    residents: Path  # residents.csv
    devices: Path  # devices.csv
    leads: Path  # leads.csv


def lonlat(x: float, y: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) of the point ``x`` m east and ``y`` m north of :data:`ORIGIN`,
    rounded to 7 decimals (about 1 cm)."""
    lon0, lat0 = ORIGIN
    deg = 180.0 / math.pi
    lat = lat0 + y / EARTH_RADIUS_M * deg
    lon = lon0 + x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))) * deg
    return round(lon, 7), round(lat, 7)


def office_lonlat() -> tuple[float, float]:
    """The district federation's office (the outreach teams' start)."""
    return lonlat(*OFFICE_XY)


def id_number(index: int, person: Person) -> str:
    """A valid GB 11643 number: region 330999, birth date, sequence by file order and sex."""
    seq = 2 * index + (1 if person.sex == "男" else 2)
    first17 = f"{DISTRICT_CODE}{person.birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def phone(index: int) -> str:
    return f"1390999{index:04d}"


def make_county(directory: Path | str) -> CountyFiles:
    """Write the example district's files into ``directory`` (created when missing).

    Deterministic: the same files, byte for byte, every time.
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    files = CountyFiles(
        directory=out,
        units=out / "units.csv",
        villages=out / "villages.geojson",
        roads=out / "roads.osm",
        facilities=out / "facilities.csv",
        residents=out / "residents.csv",
        devices=out / "devices.csv",
        leads=out / "leads.csv",
    )
    _write_csv(files.units, _units())
    files.villages.write_text(_villages_geojson(), encoding="utf-8")
    files.roads.write_text(_osm(), encoding="utf-8")
    _write_csv(files.facilities, _facilities())
    _write_csv(files.residents, _residents())
    _write_csv(files.devices, _devices())
    _write_csv(files.leads, _leads())
    return files


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _flag(value: bool) -> str:
    return "是" if value else "否"


def _units() -> list[list[str]]:
    rows = [["code", "name", "level", "parent_code", "parent_name"]]
    rows.append([DISTRICT_CODE, DISTRICT_NAME, "county", CITY_CODE, PARENTS[-1]])
    rows += [[code, name, "town", DISTRICT_CODE, DISTRICT_NAME] for code, name in TOWNS.items()]
    rows += [[v.code, v.name, "village", v.town_code, v.town] for v in VILLAGES]
    return rows


def _villages_geojson() -> str:
    features = []
    for v in VILLAGES:
        lon, lat = v.lonlat
        props: dict[str, object] = {
            "村社代码": v.code,
            "村社名称": v.name,
            "镇街代码": v.town_code,
            "镇街": v.town,
        }
        if v.polygon:
            h = POLYGON_HALF_SIDE_M
            corners = [(-h, -h), (h, -h), (h, h), (-h, h), (-h, -h)]
            ring = [list(lonlat(v.x + dx, v.y + dy)) for dx, dy in corners]
            props |= {"经度": lon, "纬度": lat}
            geometry: dict[str, object] = {"type": "Polygon", "coordinates": [ring]}
        else:
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        props["数据说明"] = SYNTHETIC
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    return (
        '{"type": "FeatureCollection",\n'
        f' "name": "{DISTRICT_NAME}村社（示例数据）",\n'
        ' "features": [\n' + body + "\n]}\n"
    )


def _way_points(way: Way) -> list[tuple[float, float]]:
    """The way's nodes in metres: its vertices and points every NODE_SPACING_M between."""
    out = [way.points[0]]
    for (x0, y0), (x1, y1) in zip(way.points, way.points[1:], strict=False):
        steps = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / NODE_SPACING_M))
        out += [
            (x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(1, steps + 1)
        ]
    return out


def _osm() -> str:
    ids: dict[tuple[float, float], int] = {}
    refs: list[list[int]] = []
    for way in WAYS:
        refs.append([ids.setdefault(p, len(ids) + 1) for p in _way_points(way)])
    coords = {i: lonlat(*p) for p, i in ids.items()}
    lons = [c[0] for c in coords.values()]
    lats = [c[1] for c in coords.values()]
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="coverplan example county">',
        f"  <!-- {DISTRICT_NAME}：{SYNTHETIC}，道路为虚构 -->",
        f'  <bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" '
        f'maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>',
    ]
    out += [
        f'  <node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>'
        for i, (lon, lat) in sorted(coords.items())
    ]
    for way, nodes in zip(WAYS, refs, strict=True):
        out.append(f'  <way id="{way.osm_id}" version="1">')
        out += [f'    <nd ref="{r}"/>' for r in nodes]
        out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in way.tags]
        out.append("  </way>")
    out.append("</osm>")
    return "\n".join(out) + "\n"


def _address(v: VillageSpec, n: int) -> str:
    return f"{ADDRESS_PREFIX}{v.town}{v.name}{n}号"


def _facilities() -> list[list[str]]:
    rows = [
        [
            "设施编号", "设施名称", "设施类型", "镇街", "村社", "村社代码", "地址",
            "容量", "在册人数", "星级", "经度", "纬度", "备注",
        ]
    ]  # fmt: skip
    for n, (code, name, kind, key, capacity, placed, star) in enumerate(FACILITIES, start=1):
        v = VILLAGE[key]
        lon, lat = v.lonlat
        rows.append(
            [
                code, name, kind, v.town, v.name, v.code, _address(v, 100 + n),
                str(capacity), str(placed), star, f"{lon:.7f}", f"{lat:.7f}", SYNTHETIC,
            ]
        )  # fmt: skip
    return rows


RESIDENTS_HEADER = [
    "姓名", "性别", "公民身份号码", "出生日期", "残疾类别", "残疾等级", "乡镇（街道）",
    "村（社区）", "村社代码", "现住址", "联系电话", "困难残疾人生活补贴", "重度残疾人护理补贴",
    "低保低边", "独居", "长期卧床", "使用轮椅", "精神病服药监护", "无障碍改造年份", "经度", "纬度",
]  # fmt: skip


def _residents() -> list[list[str]]:
    rows = [RESIDENTS_HEADER]
    for i, p in enumerate(PEOPLE):
        v = VILLAGE[p.village]
        lon, lat = ("", "") if p.at is None else (f"{c:.7f}" for c in lonlat(*p.at))
        rows.append(
            [
                p.name, p.sex, id_number(i, p), p.birth.isoformat(), p.category, p.grade,
                v.town, v.name, v.code, _address(v, i + 1), phone(i),
                _flag(p.living_subsidy), _flag(p.care_subsidy), p.low_income,
                _flag(p.lives_alone), _flag(p.bedridden), _flag(p.wheelchair),
                _flag(p.supervised_medication),
                "" if p.retrofit_year is None else str(p.retrofit_year), lon, lat,
            ]
        )  # fmt: skip
    return rows


def person_index(name: str) -> int:
    """Position of the person called ``name`` in :data:`PEOPLE`."""
    return next(i for i, p in enumerate(PEOPLE) if p.name == name)


def person_id(name: str) -> str:
    """ID number of the person called ``name``."""
    i = person_index(name)
    return id_number(i, PEOPLE[i])


def _devices() -> list[list[str]]:
    rows = [["公民身份号码", "辅具名称", "发放日期", "使用年限"]]
    rows += [[person_id(n), d, issued.isoformat(), str(years)] for n, d, issued, years in DEVICES]
    return rows


def _leads() -> list[list[str]]:
    rows = [
        [
            "姓名", "性别", "乡镇（街道）", "村（社区）", "村社代码", "现住址", "联系电话",
            "疑似残疾类别", "线索来源", "发现日期", "备注",
        ]
    ]  # fmt: skip
    for n, (key, name, sex, category, source, day, note) in enumerate(LEADS, start=1):
        v = VILLAGE[key]
        rows.append(
            [
                name, sex, v.town, v.name, v.code, _address(v, 200 + n), phone(900 + n),
                category, source, day.isoformat(), note,
            ]
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    """``python -m tests.county DIR``: write the example district into DIR."""
    args = sys.argv[1:] if argv is None else argv
    files = make_county(Path(args[0]) if args else Path("data/examples/county"))
    print(f"示例县数据已写入 {files.directory}")


if __name__ == "__main__":
    main()
