"""The synthetic demo district: calibration, determinism, geometry, roads, facilities.

The files are parsed with the standard library and pandas only, not with the
project's importers.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import osmnx
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, shape

from data.demo import generate as gen
from data.demo._geometry import load_outline, load_units, written_name
from data.demo._households import ADDRESS_ONLY_PAIRS, HOUSEHOLDS_OF_TWO
from data.demo._people import (
    CATEGORIES,
    CATEGORY_SHARES,
    DEVICE_LIFE_YEARS,
    GRADES,
    add_years,
)
from data.demo._roads import is_drivable
from geo.crs import gcj02_to_wgs84
from planner.ingest.idnumber import check_char

TODAY = gen.DEFAULT_TODAY
LEADS_HEADER = (
    "姓名,性别,公民身份号码,乡镇（街道）,村（社区）,现住址,联系电话,疑似残疾类别,线索来源,"
    "发现日期,备注"
)
FACILITIES_HEADER = (
    "设施编号,设施名称,设施类型,镇街,村社,村社代码,地址,容量,在册人数,星级,经度,纬度,备注"
)
SYNTHETIC = "合成演示数据"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> gen.DemoFiles:
    return gen.generate_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def villages(demo: gen.DemoFiles) -> dict[str, Any]:
    return json.loads(demo.villages.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def polygons(villages: dict[str, Any]) -> dict[str, Any]:
    return {f["properties"]["村社代码"]: shape(f["geometry"]) for f in villages["features"]}


@pytest.fixture(scope="module")
def known_names(villages: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per town: every accepted spelling (official, short, alias) → village code."""
    out: dict[str, dict[str, str]] = {}
    for f in villages["features"]:
        p = f["properties"]
        names = {p["村社名称"], written_name(p["村社名称"])}
        names |= {a for a in p["别名"].split(";") if a}
        for name in names:
            out.setdefault(p["镇街"], {})[name] = p["村社代码"]
    return out


def _csv(path: Path, encoding: str, *, skip: int = 0) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode(encoding)
    rows = list(csv.reader(io.StringIO(text)))[skip:]
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def resident_rows(demo: gen.DemoFiles) -> tuple[list[str], list[list[str]]]:
    return _csv(demo.residents, "gbk", skip=1)


def _kind(row: dict[str, str], known: dict[str, dict[str, str]]) -> str:
    """Which kind of BAD_ROWS a row is, or "" for an ordinary valid row."""
    pid = row["公民身份号码"]
    if not pid:
        return "blank_id"
    if len(pid) == 15:
        return "legacy_15_digit"
    if pid.endswith("x"):
        return "lowercase_x"
    try:
        date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    except ValueError:
        return "impossible_birth_date"
    if check_char(pid[:17]) != pid[17]:
        return "bad_check_digit"
    if row["残疾类别"] not in CATEGORIES:
        return "unknown_category"
    if row["残疾等级"] not in GRADES:
        return "unknown_grade"
    if row["村（社区）"] not in known.get(row["乡镇（街道）"], {}):
        return "unknown_village"
    return ""


def _id18(pid: str) -> str:
    if len(pid) == 15:
        first17 = pid[:6] + "19" + pid[6:]
        return first17 + check_char(first17)
    return pid.upper()


@pytest.fixture(scope="module")
def kinds(
    resident_rows: tuple[list[str], list[list[str]]], known_names: dict[str, dict[str, str]]
) -> list[str]:
    header, rows = resident_rows
    return [_kind(dict(zip(header, r, strict=True)), known_names) for r in rows]


@pytest.fixture(scope="module")
def residents(
    resident_rows: tuple[list[str], list[list[str]]],
    kinds: list[str],
    known_names: dict[str, dict[str, str]],
) -> pd.DataFrame:
    """The valid persons, with the ID normalised and the village code resolved."""
    header, rows = resident_rows
    valid = [r for r, k in zip(rows, kinds, strict=True) if k in ("", *gen.VALID_BAD_KINDS)]
    df = pd.DataFrame(valid, columns=header)
    df["id"] = df["公民身份号码"].map(_id18)
    df["code"] = [
        known_names[t][v] for t, v in zip(df["乡镇（街道）"], df["村（社区）"], strict=True)
    ]
    df["birth"] = pd.to_datetime(df["出生日期"])
    return df


# ------------------------------------------------------------------ residents


def test_residents_file_layout(demo: gen.DemoFiles) -> None:
    text = demo.residents.read_bytes().decode("gbk")
    title, header = text.splitlines()[:2]
    assert "合成演示数据" in title and "非真实" in title
    assert header == (
        "姓名,性别,公民身份号码,出生日期,残疾类别,残疾等级,乡镇（街道）,村（社区）,现住址,户号,联系电话,"
        "困难残疾人生活补贴,重度残疾人护理补贴,低保低边,独居,老养残,长期卧床,使用轮椅,精神病服药监护,"
        "脑卒中康复,就业情况,无障碍改造年份,复评到期日期,最近入户走访日期,经度,纬度"
    )


def test_bad_rows_match_the_constant(
    kinds: list[str], resident_rows: tuple[list[str], list[list[str]]]
) -> None:
    counts = Counter(k for k in kinds if k)
    assert dict(counts) == gen.BAD_ROWS
    rejected = [i for i, k in enumerate(kinds) if k in gen.REJECTED_ROWS]
    n = len(kinds)
    assert len(rejected) == sum(gen.REJECTED_ROWS.values())
    assert min(rejected) < n / 4 and max(rejected) < n - 100  # spread, not appended at the end


def test_valid_person_count_and_ids(residents: pd.DataFrame) -> None:
    assert len(residents) == gen.VALID_PERSONS
    assert abs(len(residents) - 14_600) <= 146
    assert residents["id"].is_unique
    assert set(residents["id"].str[:6]) <= {"330283", "330213"}
    for pid, sex, birth in zip(
        residents["id"], residents["性别"], residents["出生日期"], strict=True
    ):
        assert check_char(pid[:17]) == pid[17]
        assert ("男" if int(pid[16]) % 2 else "女") == sex
        assert f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}" == birth
    new = residents["id"].str[:6] == "330213"
    assert (residents.loc[new, "birth"].dt.year >= 2017).all()


def test_category_mix(residents: pd.DataFrame) -> None:
    shares = residents["残疾类别"].value_counts(normalize=True) * 100
    for cat, target in CATEGORY_SHARES.items():
        assert abs(shares.get(cat, 0.0) - target) <= 1.0, cat


def test_age_and_grades(residents: pd.DataFrame) -> None:
    cutoff = pd.Timestamp(add_years(TODAY, -60))
    assert abs((residents["birth"] <= cutoff).mean() - 0.68) <= 0.02
    assert set(residents["残疾等级"]) == set(GRADES)
    assert (residents["birth"] <= pd.Timestamp(TODAY)).all()


def test_subsidies(residents: pd.DataFrame) -> None:
    care = residents["重度残疾人护理补贴"] == "是"
    assert abs(care.sum() - 6_950) <= 0.03 * 6_950
    assert set(residents.loc[care, "残疾等级"]) <= {"一级", "二级"}
    living = residents["困难残疾人生活补贴"] == "是"
    assert abs(living.sum() - 3_500) <= 0.05 * 3_500
    low = residents["低保低边"].isin(["低保", "低边"])
    assert (living & low).sum() / living.sum() >= 0.95
    assert set(residents["低保低边"]) <= {"低保", "低边", ""}


def test_policy_gap_villages(residents: pd.DataFrame) -> None:
    severe = residents[residents["残疾等级"].isin(["一级", "二级"])]
    missing = (severe["重度残疾人护理补贴"] == "否").groupby(severe["code"]).agg(["mean", "size"])
    gaps = missing[(missing["mean"] >= 0.4) & (missing["size"] >= 5)]
    assert 6 <= len(gaps) <= 10
    elsewhere = severe[~severe["code"].isin(gaps.index)]
    assert (elsewhere["重度残疾人护理补贴"] == "否").mean() <= 0.03
    dibao = residents[(residents["低保低边"] == "低保") & residents["code"].isin(gaps.index)]
    assert (dibao["困难残疾人生活补贴"] == "否").mean() >= 0.4


def test_care_flags(residents: pd.DataFrame) -> None:
    psych = residents["残疾类别"] == "精神残疾"
    supervised = residents["精神病服药监护"] == "是"
    assert not (supervised & ~psych).any()
    assert 0.5 <= supervised.sum() / psych.sum() <= 0.9
    stroke = residents[residents["脑卒中康复"] == "是"]
    assert len(stroke) > 300
    assert (stroke["残疾类别"] == "肢体残疾").mean() >= 0.8
    assert (stroke["birth"] <= pd.Timestamp(add_years(TODAY, -45))).all()
    assert abs((residents["长期卧床"] == "是").mean() - 0.03) <= 0.005
    chair = residents[residents["使用轮椅"] == "是"]
    core = (chair["残疾类别"] == "肢体残疾") & chair["残疾等级"].isin(["一级", "二级"])
    assert core.mean() >= 0.75
    flags = ["独居", "老养残", "长期卧床", "使用轮椅", "精神病服药监护", "脑卒中康复"]
    for col in [*flags, "困难残疾人生活补贴", "重度残疾人护理补贴"]:
        assert set(residents[col]) <= {"是", "否", ""}, col
    assert set(residents["就业情况"]) <= {"就业", "工疗", "辅助性就业", "未就业", ""}


def test_dates_and_years(residents: pd.DataFrame) -> None:
    due = pd.to_datetime(residents["复评到期日期"].replace("", None))
    soon = (due > pd.Timestamp(TODAY)) & (due <= pd.Timestamp(TODAY + timedelta(days=365)))
    assert 200 <= soon.sum() <= 500
    visit = pd.to_datetime(residents["最近入户走访日期"].replace("", None))
    recent = visit >= pd.Timestamp(TODAY - timedelta(days=730))
    assert recent.mean() >= 0.75
    assert (visit.isna() | ~recent).sum() >= 500  # overdue or never visited
    years = residents["无障碍改造年份"].replace("", None).dropna().astype(int)
    assert years.between(2010, TODAY.year).all()
    assert (years == 2024).sum() == 122 and (years == 2020).sum() == 150


def test_contact_and_address(residents: pd.DataFrame) -> None:
    phones = residents["联系电话"].map(lambda s: unicodedata.normalize("NFKC", s).replace(" ", ""))
    assert phones.map(lambda s: s == "" or (len(s) == 11 and s.isdigit() and s[0] == "1")).all()
    assert (residents["联系电话"] != phones).sum() > 10  # some full-width or spaced
    for town, village, address in zip(
        residents["乡镇（街道）"], residents["村（社区）"], residents["现住址"], strict=True
    ):
        assert address.startswith(f"浙江省宁波市奉化区{town}{village}")


def test_families(residents: pd.DataFrame) -> None:
    """Issue 11: each person has a 户号 (village code + serial); HOUSEHOLDS_OF_TWO pairs
    share a house, ADDRESS_ONLY_PAIRS of them without 户号."""
    hh = residents["户号"]
    blank = hh == ""
    assert blank.sum() == 2 * ADDRESS_ONLY_PAIRS
    assert (hh[~blank].str.len() == 16).all()
    assert (hh[~blank].str[:12] == residents.loc[~blank, "code"]).all()
    sizes = hh[~blank].value_counts()
    assert set(sizes) == {1, 2}
    assert (sizes == 2).sum() == HOUSEHOLDS_OF_TWO - ADDRESS_ONLY_PAIRS
    pairs = residents[hh.isin(sizes.index[sizes == 2])].groupby("户号")
    assert (pairs["现住址"].nunique() == 1).all() and (pairs["code"].nunique() == 1).all()
    alone = residents[blank].groupby(["code", "现住址"]).size()
    assert (alone == 2).all() and len(alone) == ADDRESS_ONLY_PAIRS


def test_household_points(residents: pd.DataFrame, polygons: dict[str, Any]) -> None:
    has = residents["经度"] != ""
    assert abs(has.mean() - 0.15) <= 0.02
    for code, lon, lat in zip(
        residents.loc[has, "code"],
        residents.loc[has, "经度"],
        residents.loc[has, "纬度"],
        strict=True,
    ):
        assert polygons[code].contains(Point(float(lon), float(lat)))


def test_every_village_has_residents(residents: pd.DataFrame, polygons: dict[str, Any]) -> None:
    per = residents["code"].value_counts()
    assert set(per.index) == set(polygons)
    assert per.min() >= 3


def test_alias_rows(residents: pd.DataFrame, villages: dict[str, Any]) -> None:
    aliases = {f["properties"]["别名"] for f in villages["features"]} - {""}
    assert (residents["村（社区）"].isin(aliases)).sum() == gen.ALIAS_ROWS


# ---------------------------------------------------------------- devices, leads


def test_devices_due(demo: gen.DemoFiles, residents: pd.DataFrame) -> None:
    header, rows = _csv(demo.devices, "utf-8-sig")
    assert header[:4] == ["公民身份号码", "辅具名称", "发放日期", "使用年限"]
    df = pd.DataFrame(rows, columns=header)
    assert set(df["公民身份号码"]) <= set(residents["id"])
    assert set(df["辅具名称"]) <= set(DEVICE_LIFE_YEARS)
    issued = pd.to_datetime(df["发放日期"])
    assert issued.max() <= pd.Timestamp(TODAY)
    assert issued.min() >= pd.Timestamp(add_years(TODAY, -10))
    latest = (
        df.assign(issued=issued).sort_values("issued").groupby(["公民身份号码", "辅具名称"]).last()
    )
    horizon = TODAY + timedelta(days=365)
    due = sum(
        add_years(d.date(), int(y)) <= horizon
        for d, y in zip(latest["issued"], latest["使用年限"], strict=True)
    )
    assert abs(due - 1_000) <= 100
    assert len(df) > len(latest)  # some were replaced


def test_leads(demo: gen.DemoFiles, residents: pd.DataFrame) -> None:
    header, rows = _csv(demo.leads, "utf-8-sig")
    assert ",".join(header) == LEADS_HEADER
    df = pd.DataFrame(rows, columns=header)
    assert 120 <= len(df) <= 180
    ids = df.loc[df["公民身份号码"] != "", "公民身份号码"]
    assert 0.4 <= len(ids) / len(df) <= 0.6
    assert ids.map(lambda p: check_char(p[:17]) == p[17]).all()
    assert not set(ids) & set(residents["id"])
    assert set(df["线索来源"]) <= {"卫健转介", "村社排查", "医院转介", "民政比对"}
    assert df["备注"].str.contains(SYNTHETIC).all()


# ------------------------------------------------------------------ geometry


def test_villages_geojson(villages: dict[str, Any]) -> None:
    _, units = load_units()
    feats = villages["features"]
    assert len(feats) == 337
    keys = ["村社代码", "村社名称", "镇街代码", "镇街", "别名", "经度", "纬度", "数据说明"]
    assert all(list(f["properties"]) == keys for f in feats)
    assert [(f["properties"]["村社代码"], f["properties"]["村社名称"]) for f in feats] == [
        (code, name) for code, name, _, _ in units
    ]
    assert all(f["geometry"]["type"] == "Polygon" for f in feats)
    assert all(f["properties"]["数据说明"] == "合成演示数据（位置与边界非真实）" for f in feats)
    for f in feats:
        p = f["properties"]
        assert p["村社代码"].startswith(p["镇街代码"]) and len(p["村社代码"]) == 12
        assert shape(f["geometry"]).contains(Point(p["经度"], p["纬度"]))
        assert round(p["经度"], 6) == p["经度"]


def test_written_names_are_unambiguous_within_a_town(villages: dict[str, Any]) -> None:
    seen: dict[str, list[str]] = {}
    for f in villages["features"]:
        p = f["properties"]
        names = {p["村社名称"], written_name(p["村社名称"])}
        names |= {a for a in p["别名"].split(";") if a}
        seen.setdefault(p["镇街"], []).extend(sorted(names))
    for town, names in seen.items():
        assert len(names) == len(set(names)), town


def test_aliases_are_synthetic_and_unique(villages: dict[str, Any]) -> None:
    props = [f["properties"] for f in villages["features"]]
    aliases = [a for p in props for a in p["别名"].split(";") if a]
    assert 8 <= len(aliases) <= 12
    assert len(set(aliases)) == len(aliases)
    real = {p["村社名称"] for p in props} | {written_name(p["村社名称"]) for p in props}
    assert not set(aliases) & real


def test_towns_tile_the_outline(villages: dict[str, Any]) -> None:
    outline = load_outline()
    towns: dict[str, list[Any]] = {}
    for f in villages["features"]:
        towns.setdefault(f["properties"]["镇街"], []).append(shape(f["geometry"]))
    assert len(towns) == 12
    pieces = []
    for name, polys in towns.items():
        town = shapely.union_all(polys, grid_size=1e-7)
        assert town.geom_type == "Polygon", name
        assert outline.buffer(1e-6).contains(town), name
        assert all(town.buffer(1e-6).contains(p) for p in polys), name
        pieces.append(town)
    total = shapely.union_all(pieces, grid_size=1e-7)
    assert abs(total.area - outline.area) / outline.area < 1e-4
    assert abs(sum(p.area for p in pieces) - outline.area) / outline.area < 1e-4  # no overlaps


def test_town_positions(villages: dict[str, Any]) -> None:
    centre: dict[str, tuple[float, float]] = {}
    for f in villages["features"]:
        centre.setdefault(f["properties"]["镇街"], shape(f["geometry"]).centroid.coords[0])
    town = {
        name: shapely.union_all(
            [shape(f["geometry"]) for f in villages["features"] if f["properties"]["镇街"] == name],
            grid_size=1e-7,
        ).centroid
        for name in centre
    }
    assert town["溪口镇"].x < town["锦屏街道"].x < town["莼湖街道"].x < town["松岙镇"].x
    assert town["大堰镇"].y < town["溪口镇"].y and town["大堰镇"].x < town["尚田街道"].x
    assert town["方桥街道"].y > town["江口街道"].y > town["锦屏街道"].y > town["尚田街道"].y


# ------------------------------------------------------------------ network


def _haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    r = 6_371_000.0
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * r * np.arcsin(np.sqrt(a))


def test_road_network(demo: gen.DemoFiles, villages: dict[str, Any]) -> None:
    head = demo.roads.read_text(encoding="utf-8")[:400]
    assert '<osm version="0.6" generator="coverplan synthetic demo">' in head
    assert "<bounds" in head
    graph = osmnx.graph_from_xml(demo.roads, bidirectional=False, simplify=False, retain_all=True)
    assert 15_000 <= graph.number_of_nodes() <= 60_000
    highways = Counter(str(d["highway"]) for _, _, d in graph.edges(data=True))
    assert {"trunk", "primary", "secondary", "tertiary", "unclassified", "residential"} <= set(
        highways
    )
    assert {"service", "track", "path", "footway", "steps"} <= set(highways)
    assert any(d.get("oneway") for _, _, d in graph.edges(data=True))
    drivable = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if is_drivable({"highway": str(d["highway"]), "access": str(d.get("access", ""))})
    ]
    sub = graph.edge_subgraph(drivable)
    largest = max(nx.strongly_connected_components(sub), key=len)
    assert len(largest) == sub.number_of_nodes()  # one strongly connected component
    nodes = list(sub.nodes)
    lon = np.array([graph.nodes[n]["x"] for n in nodes])
    lat = np.array([graph.nodes[n]["y"] for n in nodes])
    for f in villages["features"]:
        p = f["properties"]
        dist = _haversine_m(p["经度"], p["纬度"], lon, lat)
        k = int(np.argmin(dist))
        assert dist[k] <= 300.0, p["村社名称"]
        assert nodes[k] in largest


def test_road_tags(demo: gen.DemoFiles) -> None:
    text = demo.roads.read_text(encoding="utf-8")
    assert text.count('k="oneway" v="yes"') >= 2
    assert 'k="maxspeed"' in text and 'k="smoothness"' in text
    assert 'k="wheelchair" v="no"' in text and 'k="access" v="no"' in text
    assert 'v="县道X203"' in text and 'v="中山路"' in text


# ------------------------------------------------------------------ facilities


def test_facilities(demo: gen.DemoFiles, polygons: dict[str, Any]) -> None:
    header, plain = _csv(demo.facilities, "utf-8-sig")
    header2, amap = _csv(demo.facilities_amap, "utf-8-sig")
    assert ",".join(header) == ",".join(header2) == FACILITIES_HEADER
    df = pd.DataFrame(plain + amap, columns=header)
    assert df["设施编号"].is_unique
    assert df["备注"].str.contains(SYNTHETIC).all()
    counts = df["设施类型"].value_counts().to_dict()
    assert counts == {
        "残疾人之家": 13,
        "精神残疾人社区康复站": 11,
        "助残窗口": 6,
        "辅具服务点": 3,
        "无障碍社区": 2,
        "儿童康复中心": 1,
        "定点康复医院": 1,
        "托养中心": 1,
    }
    amap_types = set(pd.DataFrame(amap, columns=header)["设施类型"])
    assert amap_types == {"辅具服务点", "助残窗口"}

    homes = df[df["设施类型"] == "残疾人之家"]
    assert homes["村社代码"].is_unique
    assert 1 <= 12 - homes["镇街"].nunique() <= 2
    assert abs(homes["容量"].astype(int).sum() - 500) <= 25
    assert abs(homes["在册人数"].astype(int).sum() - 420) <= 21
    assert 9 <= homes["备注"].str.contains("工疗").sum() <= 10
    psych = df[df["设施类型"] == "精神残疾人社区康复站"]
    assert psych["镇街"].nunique() == 8
    assert psych["容量"].astype(int).between(10, 20).all()
    assert abs(psych["在册人数"].astype(int).sum() - 137) <= 7
    acc = df[df["设施类型"] == "无障碍社区"]
    assert (acc["容量"] == "").all() and acc["村社"].str.endswith("社区").all()

    in_amap = df["设施编号"].isin([r[0] for r in amap]).to_numpy()
    lon = np.array(df["经度"], dtype=float)
    lat = np.array(df["纬度"], dtype=float)
    wx, wy = gcj02_to_wgs84(lon[in_amap], lat[in_amap])
    shift = _haversine_m(lon[in_amap], lat[in_amap], wx, wy)
    assert (shift > 100).all()  # the Amap points are GCJ-02, hundreds of metres off
    lon[in_amap], lat[in_amap] = wx, wy
    for code, x, y in zip(df["村社代码"], lon, lat, strict=True):
        assert polygons[code].buffer(1e-6).contains(Point(x, y))


# ------------------------------------------------------------------ determinism


def test_same_seed_same_bytes(demo: gen.DemoFiles, tmp_path: Path) -> None:
    again = gen.generate_demo(tmp_path / "again")
    for name in (
        "villages",
        "roads",
        "facilities",
        "facilities_amap",
        "residents",
        "devices",
        "leads",
    ):
        assert getattr(demo, name).read_bytes() == getattr(again, name).read_bytes(), name


def test_other_seed_differs(demo: gen.DemoFiles, tmp_path: Path) -> None:
    other = gen.generate_demo(tmp_path / "other", seed=7)
    assert other.residents.read_bytes() != demo.residents.read_bytes()
    assert other.villages.read_bytes() != demo.villages.read_bytes()
