"""`coverplan init` for any district: units tables, villages files, refusals, additivity.

A hand-built district of 2 towns and 12 villages (余姚市, 330281, names invented)
is set up from files the test writes; every command but `init` and `demo`
refuses a store without a district and a mistyped `--db`, creating nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from api.cli import main
from planner.errors import InputError, StoreError

CODE, NAME = "330281", "余姚市"
TOWNS = {"330281001": "阳明街道", "330281101": "陆埠镇"}
VILLAGE_NAMES = {
    "330281001": ["东门社区", "西门社区", "南门社区", "北门社区", "江南村", "江北村"],
    "330281101": ["陆埠村", "裘岙村", "洪山村", "孙岙村", "南庙村", "干溪村"],
}
VILLAGES = {
    f"{town}{i + 1:03d}": (town, name)
    for town, names in VILLAGE_NAMES.items()
    for i, name in enumerate(names)
}
LON0, LAT0, STEP = 121.10, 30.00, 0.01  # village k sits at LON0 + STEP*(k%4), LAT0 + STEP*(k//4)


def _point(k: int) -> tuple[float, float]:
    return round(LON0 + STEP * (k % 4), 6), round(LAT0 + STEP * (k // 4), 6)


POINTS = {code: _point(k) for k, code in enumerate(VILLAGES)}


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run ``coverplan ARGS`` in-process: (exit status, stdout, stderr)."""
    monkeypatch.setenv("COVERPLAN_DB_URL", "sqlite:///unused.db")  # main() sets it; undone

    def run(*args: str, db: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", db, *args])
        out = capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out, out.err

    return run


def write_units(path: Path, *, county: bool = True, extra: str = "") -> Path:
    lines = ["code,name,level,parent_code,parent_name"]
    if county:
        lines.append(f"{CODE},{NAME},county,330200,宁波市")
    lines += [f"{c},{n},town,{CODE},{NAME}" for c, n in TOWNS.items()]
    lines += [f"{c},{n},village,{t},{TOWNS[t]}" for c, (t, n) in VILLAGES.items()]
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def write_villages_geojson(
    path: Path, *, crs: str = "wgs84", towns: bool = True, polygon: bool = True
) -> Path:
    """Villages as GeoJSON points (village 1 as a 0.002° square if ``polygon``) in ``crs``."""
    import prcoords

    def conv(lon: float, lat: float) -> list[float]:
        if crs == "wgs84":
            return [lon, lat]
        c = prcoords.wgs_gcj(prcoords.Coords(lat, lon))  # independent reference
        return [c.lon, c.lat]

    features = []
    for k, (code, (town, name)) in enumerate(VILLAGES.items()):
        lon, lat = POINTS[code]
        props = {"村社代码": code, "村社名称": name}
        if towns:
            props["镇街"] = TOWNS[town]
        if k == 1 and polygon:
            ring = [conv(*xy) for xy in _square(lon, lat)]
            geom = {"type": "Polygon", "coordinates": [ring]}
        else:
            geom = {"type": "Point", "coordinates": conv(lon, lat)}
        features.append({"type": "Feature", "properties": props, "geometry": geom})
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def _square(lon: float, lat: float, half: float = 0.001) -> list[tuple[float, float]]:
    return [
        (lon - half, lat - half),
        (lon + half, lat - half),
        (lon + half, lat + half),
        (lon - half, lat + half),
        (lon - half, lat - half),
    ]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------- set up


def test_init_from_units_csv(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "yy.db"
    units = write_units(tmp_path / "units.csv")
    code, out, err = cli(
        "init",
        "--district",
        CODE,
        "--units",
        str(units),
        "--parents",
        "浙江省,宁波市",
        "--former-codes",
        "330200",
        "--aliases",
        "余姚县",
        "--office",
        "121.15,30.04",
        "--json",
        db=f"sqlite:///{db}",
    )
    assert code == 0, err
    res = json.loads(out)
    assert (res["district_code"], res["district_name"]) == (CODE, NAME)
    assert (res["towns"], res["villages"], res["created"]) == (2, 12, True)
    assert (res["towns_added"], res["villages_added"]) == (2, 12)
    assert res["without_geometry"] == 12 and res["geometry"] == 0
    assert res["office"] == {"name": "余姚市残联", "lon": 121.15, "lat": 30.04}
    assert rows(db, "select name from villages where code = '330281101003'") == [("洪山村",)]
    meta = dict(rows(db, "select key, value from meta"))  # type: ignore[arg-type]
    assert json.loads(meta["district_parents"]) == ["浙江省", "宁波市"]
    assert json.loads(meta["district_former_codes"]) == ["330200"]
    assert json.loads(meta["district_aliases"]) == ["余姚县"]
    # the gazetteer carries the store's metadata: old registers resolve
    from geo.geocode import Geocoder
    from planner.store.core import open_district_store

    store = open_district_store(f"sqlite:///{db}")
    gaz = store.gazetteer()
    assert gaz.parents == ("浙江省", "宁波市") and gaz.former_codes == ("330200",)
    hit = Geocoder(gaz).geocode("浙江省宁波市余姚县陆埠镇洪山村5号")
    assert (hit.status, hit.village_code) == ("matched", "330281101003")
    store.dispose()


def test_init_from_units_xlsx_with_chinese_headers(tmp_path: Path, cli: Cli) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["余姚市行政区划（2023）"])  # a title row above the header
    ws.append(["代码", "名称", "级别", "上级代码", "上级名称"])
    for c, n in TOWNS.items():
        ws.append([int(c + "000"), n, "镇街", int(CODE), NAME])  # NBS 12-digit form, as numbers
    for c, (t, n) in VILLAGES.items():
        ws.append([int(c), n, "村社", int(t), TOWNS[t]])
    units = tmp_path / "区划.xlsx"
    wb.save(units)
    db = tmp_path / "x.db"
    code, _, err = cli("init", "--district", CODE, "--units", str(units), db=f"sqlite:///{db}")
    assert code == 2 and "--name" in err and not db.exists()  # no county row, no --name
    code, out, err = cli(
        "init", "--district", CODE, "--units", str(units), "--name", NAME, db=f"sqlite:///{db}"
    )
    assert code == 0, err
    assert f"{NAME}（{CODE}）2 个镇街，12 个村社" in out
    assert "未设置残联办公地点" in out  # no office: said, not invented
    assert rows(db, "select code, name from towns order by code") == sorted(TOWNS.items())
    assert rows(db, "select count(*) from villages")[0][0] == 12


def test_init_from_villages_geojson_in_gcj02(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "g.db"
    path = write_villages_geojson(tmp_path / "villages.geojson", crs="gcj02")
    code, out, err = cli(
        "init",
        "--district",
        CODE,
        "--villages",
        str(path),
        "--crs",
        "gcj02",
        "--name",
        NAME,
        "--json",
        db=f"sqlite:///{db}",
    )
    assert code == 0, err
    res = json.loads(out)
    assert (res["towns"], res["villages"], res["geometry"], res["without_geometry"]) == (
        2,
        12,
        12,
        0,
    )
    # towns from the codes' first 9 digits, named by the 镇街 column
    assert rows(db, "select code, name from towns order by code") == sorted(TOWNS.items())
    stored = {c: (lon, lat) for c, lon, lat in rows(db, "select code, lon, lat from villages")}
    for c, (lon, lat) in POINTS.items():
        if c == "330281001002":
            continue  # the polygon's representative point, checked below
        assert stored[c][0] == pytest.approx(lon, abs=1e-6), c
        assert stored[c][1] == pytest.approx(lat, abs=1e-6), c
    (poly,) = rows(db, "select polygon from villages where code = '330281001002'")[0]
    ring = json.loads(str(poly))["coordinates"][0]
    want = _square(*POINTS["330281001002"])
    assert len(ring) == len(want)
    for got in ring:  # every vertex back to WGS-84 within 1e-6°, in some order
        assert min(abs(got[0] - x) + abs(got[1] - y) for x, y in want) < 2e-6


def test_villages_file_without_town_names_names_the_town(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "t.db"
    path = write_villages_geojson(tmp_path / "v.geojson", towns=False)
    code, _, err = cli(
        "init", "--district", CODE, "--villages", str(path), "--name", NAME, db=f"sqlite:///{db}"
    )
    assert code == 2
    assert "镇街 330281001 没有名称" in err and "镇街 330281101 没有名称" in err
    assert "v.geojson" in err and "第 1 行" in err
    assert not db.exists()
    # with the units table the towns are known: the villages file gives geometry
    units = write_units(tmp_path / "u.csv")
    code, out, err = cli(
        "init",
        "--district",
        CODE,
        "--units",
        str(units),
        "--villages",
        str(path),
        "--json",
        db=f"sqlite:///{db}",
    )
    assert code == 0, err
    assert json.loads(out)["geometry"] == 12


# --------------------------------------------------------------------- refusals


def test_bare_init_explains_the_options(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "b.db"
    code, _, err = cli("init", db=f"sqlite:///{db}")
    assert code == 2
    assert "--district" in err and "--units" in err and "--villages" in err
    assert "coverplan demo" in err
    assert not db.exists()


def test_unknown_district_without_files_is_refused(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "u.db"
    code, _, err = cli("init", "--district", CODE, db=f"sqlite:///{db}")
    assert code == 2 and CODE in err and "--units" in err and not db.exists()


def test_another_district_is_refused_before_any_write(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "a.db"
    url = f"sqlite:///{db}"
    assert (
        cli("init", "--district", CODE, "--units", str(write_units(tmp_path / "u.csv")), db=url)[0]
        == 0
    )
    before = sha(db)
    code, _, err = cli("init", "--district", "330213", db=url)
    assert code == 2
    assert str(db) in err and f"{NAME}（{CODE}）" in err and "330213" in err
    assert sha(db) == before  # byte-identical
    # the demo is another district too
    code, _, err = cli("demo", db=url)
    assert code == 2 and f"{NAME}（{CODE}）" in err
    assert sha(db) == before


def test_a_bad_last_row_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "n.db"
    bad = write_units(tmp_path / "bad.csv", extra="33028110100X,坏村,village,330281101,陆埠镇\n")
    code, _, err = cli("init", "--district", CODE, "--units", str(bad), db=f"sqlite:///{db}")
    assert code == 2
    assert "bad.csv" in err and "第 17 行" in err and "列「code」" in err and "12 位" in err
    assert not db.exists() and not Path(f"{db}-wal").exists()
    # on an existing store: unchanged, byte for byte
    good = write_units(tmp_path / "good.csv")
    assert cli("init", "--district", CODE, "--units", str(good), db=f"sqlite:///{db}")[0] == 0
    before = sha(db)
    code, _, err = cli("init", "--district", CODE, "--units", str(bad), db=f"sqlite:///{db}")
    assert code == 2 and "第 17 行" in err
    assert sha(db) == before


def test_a_failed_write_leaves_no_new_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside the write transaction: rolled back, the new file removed."""
    import planner.store.core
    from tests.actions import init_district

    def broken_audit(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    units = write_units(tmp_path / "u.csv")
    db = tmp_path / "sub" / "dir" / "f.db"
    monkeypatch.setattr(planner.store.core, "audit", broken_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        init_district(f"sqlite:///{db}", district=CODE, units=units)
    assert not db.exists() and not (tmp_path / "sub").exists()
    monkeypatch.undo()
    init_district(f"sqlite:///{db}", district=CODE, units=units)
    before = sha(db)
    monkeypatch.setattr(planner.store.core, "audit", broken_audit)
    more = write_units(tmp_path / "more.csv", extra="330281101007,新村,village,330281101,陆埠镇\n")
    with pytest.raises(RuntimeError):
        init_district(f"sqlite:///{db}", district=CODE, units=more)
    assert rows(db, "select count(*) from villages")[0][0] == 12
    assert sha(db) == before


COMMANDS: list[list[str]] = [
    ["status"],
    ["import", "residents", "r.csv"],
    ["geocode", "a.csv", "--column", "地址", "--out", "o.csv"],
    ["corrections", "list"],
    ["corrections", "add", "某地", "330281001001"],
    ["network", "build", "--mode", "drive"],
    ["travel-time", "--from", "121.1,30.0", "--to", "121.2,30.0"],
    ["coverage"],
    ["gaps"],
    ["site", "--type", "home", "--new", "1"],
    ["scenarios", "list"],
    ["retrofit"],
    ["outreach", "year"],
    ["outreach", "month", "2026-05"],
    ["visits", "import", "x.csv"],
    ["visits", "record", "--resident", "1", "--date", "2026-05-01", "--outcome", "done"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_commands_refuse_a_mistyped_db_and_an_empty_store(
    tmp_path: Path, cli: Cli, argv: list[str]
) -> None:
    typo = tmp_path / "typo" / "stroe.db"
    code, _, err = cli(*argv, db=f"sqlite:///{typo}")
    assert code == 2 and str(typo) in err and "不存在" in err
    assert not typo.exists() and not typo.parent.exists()
    # a store without a district (e.g. made by an older version)
    from planner.store.core import open_store

    empty = tmp_path / "empty.db"
    open_store(f"sqlite:///{empty}").dispose()
    code, _, err = cli(*argv, db=f"sqlite:///{empty}")
    assert code == 2
    assert f"数据库 sqlite:///{empty} 还没有行政区划" in err
    assert "coverplan init --district" in err and "coverplan demo" in err


def test_python_open_district_store_names_the_store(tmp_path: Path) -> None:
    from planner.store.core import open_district_store, open_store

    with pytest.raises(StoreError, match="不存在"):
        open_district_store(f"sqlite:///{tmp_path / 'none.db'}")
    open_store(f"sqlite:///{tmp_path / 'e.db'}").dispose()
    with pytest.raises(StoreError, match="还没有行政区划"):
        open_district_store(f"sqlite:///{tmp_path / 'e.db'}")


# --------------------------------------------------------------------- additive re-init


def test_same_district_reinit_adds_and_keeps_everything(tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    geo = write_villages_geojson(tmp_path / "v.geojson")
    assert cli("init", "--district", CODE, "--villages", str(geo), "--name", NAME, db=url)[0] == 0
    reg = tmp_path / "r.csv"
    reg.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        "甲,11010519491231002X,肢体,一级,陆埠镇,洪山村\n",
        encoding="utf-8",
    )
    assert cli("import", "residents", str(reg), db=url)[0] == 0
    geometry = rows(db, "select code, lon, lat, polygon from villages order by code")
    residents = rows(db, "select * from residents")
    # a new village, a renamed one, and different points for all: only the first two count
    units = write_units(
        tmp_path / "more.csv", extra="330281101007,新建村,village,330281101,陆埠镇\n"
    )
    units.write_text(units.read_text(encoding="utf-8").replace("干溪村", "干溪新村"), "utf-8")
    moved = write_villages_geojson(tmp_path / "moved.geojson", crs="gcj02")  # ~500 m off
    code, out, err = cli(
        "init",
        "--district",
        CODE,
        "--units",
        str(units),
        "--villages",
        str(moved),
        "--json",
        db=url,
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["created"] is False
    assert (res["villages"], res["villages_added"], res["villages_renamed"]) == (13, 1, 1)
    assert res["geometry_kept"] == 12 and res["geometry"] == 0
    assert rows(db, "select name from villages where code = '330281101006'") == [("干溪新村",)]
    after = rows(db, "select code, lon, lat, polygon from villages order by code")
    assert [r for r in after if r[0] != "330281101007"] == geometry
    assert rows(db, "select lon, polygon from villages where code = '330281101007'") == [
        (None, None)
    ]
    assert rows(db, "select * from residents") == residents
    # the district's name is kept from the store; nothing removed by a partial file
    partial = tmp_path / "p.csv"
    partial.write_text(
        "代码,名称,级别,上级代码\n330281101008,后加村,村社,330281101\n", encoding="utf-8"
    )
    code, out, err = cli("init", "--district", CODE, "--units", str(partial), db=url)
    assert code == 0, err
    assert "新增 0 个镇街、1 个村社" in out and "未删除任何数据" in out
    assert rows(db, "select count(*) from villages")[0][0] == 14
    assert rows(db, "select value from meta where key = 'district_name'") == [(NAME,)]


def test_reference_district_units_validation_messages(tmp_path: Path) -> None:
    from planner.ingest.district import read_units

    path = tmp_path / "u.csv"
    path.write_text(
        "代码,名称,级别\n"
        "330281,余姚市,区县\n"
        "330281001,阳明街道,镇街\n"
        "330213001001,别区村,村社\n"  # another district
        "330281001001,,村社\n"  # no name
        "330281001002,甲村,乡村\n"  # unknown level
        "330281001003,乙村,村社\n"
        "330281001003,丙村,村社\n",  # duplicate
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_units(path, district=CODE)
    msg = str(info.value)
    assert "第 4 行" in msg and "不以区县代码 330281 开头" in msg
    assert "第 5 行" in msg and "缺少名称" in msg
    assert "第 6 行" in msg and "列「级别」" in msg
    assert "第 8 行" in msg and "与第 7 行重复" in msg
    assert "数据库未做任何更改" in msg


# --------------------------------------------------------------------- a small district's outreach


def write_grid_osm(path: Path) -> Path:
    """Residential streets every 0.005° over the villages (121.095–121.135, 29.995–30.025)."""
    cols = [round(121.095 + 0.005 * i, 3) for i in range(9)]
    rows_ = [round(29.995 + 0.005 * j, 3) for j in range(7)]
    node = {(i, j): 1 + i + 9 * j for i in range(9) for j in range(7)}
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    parts += [
        f'  <node id="{node[i, j]}" lat="{rows_[j]}" lon="{cols[i]}"/>'
        for i in range(9)
        for j in range(7)
    ]
    way = 1000
    for j in range(7):
        refs = "".join(f'<nd ref="{node[i, j]}"/>' for i in range(9))
        parts.append(f'  <way id="{way}">{refs}<tag k="highway" v="residential"/></way>')
        way += 1
    for i in range(9):
        refs = "".join(f'<nd ref="{node[i, j]}"/>' for j in range(7))
        parts.append(f'  <way id="{way}">{refs}<tag k="highway" v="residential"/></way>')
        way += 1
    parts.append("</osm>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def test_outreach_runs_on_a_twelve_village_district(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Default configuration, 2 towns, 12 villages, no office: a year and a month plan."""
    from datetime import date

    from tests.factories import make_id

    db = tmp_path / "o.db"
    url = f"sqlite:///{db}"
    units = write_units(tmp_path / "u.csv")
    geo = write_villages_geojson(tmp_path / "v.geojson", polygon=False)  # points only
    assert (
        cli("init", "--district", CODE, "--units", str(units), "--villages", str(geo), db=url)[0]
        == 0
    )
    reg = tmp_path / "r.csv"
    lines = ["姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,精神病服药监护"]
    for k, (_, (town, name)) in enumerate(VILLAGES.items()):
        for n in range(2):
            idn = make_id(date(1960, 1, 1 + k), 2 * n + 1, region=CODE)
            lines.append(f"人{k}{n},{idn},精神,二级,{TOWNS[town]},{name},是")
    reg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli("import", "residents", str(reg), "--json", db=url)
    assert code == 0, err
    assert json.loads(out)["stored"] == 24
    osm = write_grid_osm(tmp_path / "grid.osm")
    assert cli("network", "build", str(osm), "--mode", "drive", "--json", db=url)[0] == 0

    code, out, err = cli("outreach", "year", "2026", "--json", db=url)
    assert code == 0, err
    year = json.loads(out)
    per_month = [len(m["villages"]) for m in year["months"]]
    assert per_month == [1] * 12  # 12 villages, 12 months: one each, not paired
    assert all(m["note"] is None for m in year["months"])
    assert {v["town_name"] for m in year["months"] for v in m["villages"]} == set(TOWNS.values())

    sheets = tmp_path / "sheets"
    code, out, err = cli(
        "outreach", "month", "2026-05", "--seconds", "1", "--out", str(sheets), "--json", db=url
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["files"] and all(Path(f).exists() for f in plan["files"])
    assert (plan["office"], plan["start_at"]) == (None, "service_point")
    assert "未设置残联办公地点" in plan["start_note"]
    sp = plan["service_point"]
    days = [d for tm in plan["teams"] for d in tm["days"]]
    assert days and all(d["start"] == sp and d["end"] == sp for d in days)
    assert plan["stats"]["households_needing_visit"] == 2
    assert plan["stats"]["planned"] == 2

    # the office recorded by init is used: the teams start and end there
    assert cli("init", "--district", CODE, "--office", "121.12,30.01", db=url)[0] == 0
    code, out, err = cli("outreach", "month", "2026-05", "--seconds", "1", "--json", db=url)
    assert code == 0, err
    plan = json.loads(out)
    office = {"name": "余姚市残联", "lon": 121.12, "lat": 30.01}
    assert (plan["office"], plan["office_from"], plan["start_at"]) == (office, "store", "office")
    assert all(d["start"] == office for tm in plan["teams"] for d in tm["days"])

    # a TOML [outreach] office overrides the store's
    from planner.settings import reset_settings

    toml = tmp_path / "my.toml"
    toml.write_text(
        '[outreach]\noffice = { name = "临时点", lon = 121.11, lat = 30.0 }\n', encoding="utf-8"
    )
    monkeypatch.setenv("COVERPLAN_CONFIG", str(toml))
    reset_settings()
    code, out, err = cli("outreach", "month", "2026-05", "--seconds", "1", "--json", db=url)
    assert code == 0, err
    plan = json.loads(out)
    assert (plan["office"]["name"], plan["office_from"]) == ("临时点", "config")


def test_a_year_with_fewer_villages_than_months_leaves_months_empty_with_a_reason(
    tmp_path: Path, cli: Cli
) -> None:
    units = tmp_path / "u.csv"
    units.write_text(
        "code,name,level,parent_code\n"
        f"{CODE},{NAME},county,\n"
        "330281001,阳明街道,town,\n"
        "330281001001,东门社区,village,330281001\n"
        "330281001002,西门社区,village,330281001\n",
        encoding="utf-8",
    )
    db = tmp_path / "few.db"
    assert cli("init", "--district", CODE, "--units", str(units), db=f"sqlite:///{db}")[0] == 0
    code, out, err = cli("outreach", "year", "2026", "--json", db=f"sqlite:///{db}")
    assert code == 0, err
    months = json.loads(out)["months"]
    assert [len(m["villages"]) for m in months] == [1, 1] + [0] * 10
    assert all("no_repeat_months" in m["note"] for m in months[2:])
    code, out, err = cli("outreach", "year", "2026", db=f"sqlite:///{db}")
    assert code == 0 and "2026-12：不入村（没有可安排的村社" in out


@pytest.mark.slow
def test_demo_geometry_stays_reachable_for_a_fenghua_store(tmp_path: Path) -> None:
    """`init` never loads synthetic geometry; data.demo.build.load_demo_geometry still can."""
    from data.demo.build import load_demo_geometry
    from planner.settings import load_config
    from planner.store.core import open_district_store
    from tests.actions import init_district

    db = tmp_path / "fh.db"
    res = init_district(f"sqlite:///{db}", district="330213")
    assert (res.villages, res.without_geometry) == (337, 337)
    store = open_district_store(f"sqlite:///{db}")
    geometry = load_demo_geometry(store, config=load_config(), data_dir=tmp_path / "var")
    assert geometry.stored == 337
    assert rows(db, "select count(polygon), sum(synthetic) from villages") == [(337, 337)]
    store.dispose()
