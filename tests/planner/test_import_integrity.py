"""Import integrity: village re-imports never erase data, files of the wrong kind
are refused before any write, and identifiers that disagree are reported."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box, shape
from sqlalchemy import select

from api.cli import main
from geo.gazetteer import load_fenghua
from planner.errors import InputError
from planner.services.imports import ImportResult
from planner.settings import Config, load_config
from planner.store import schema as t
from planner.store.core import Store, init_store
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
XIKOU = "330213100"
# Ten villages of 溪口镇 with a 0.01° box each, side by side along 29.66-29.67 N.
CODES = [
    "330213100001",  # 武岭社区
    "330213100002",  # 茗山社区
    "330213100003",  # 畸山居委会
    "330213100004",  # 班溪居委会
    "330213100005",  # 剡溪社区
    "330213100006",  # 中山社区
    "330213100200",  # 溪口一村委会
    "330213100201",  # 溪口二村委会
    "330213100202",  # 溪口三村委会
    "330213100203",  # 湖山村委会
]
NAMES = dict(zip(CODES, [load_fenghua().village(c).name for c in CODES], strict=True))
CELLS = {
    c: box(round(121.20 + 0.01 * i, 2), 29.66, round(121.21 + 0.01 * i, 2), 29.67)
    for i, c in enumerate(CODES)
}
YANTOU = "330213100225"  # 溪口镇岩头村委会
YANKENG = "330213100245"  # 溪口镇岩坑村委会


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = init_store(url, gazetteer=load_fenghua())
    yield s
    s.dispose()


def geometry_frame(store: Store) -> pd.DataFrame:
    """Every village's stored geometry and names, by code (compared exactly)."""
    with store.read() as s:
        rows = s.execute(
            select(
                t.Village.code,
                t.Village.name,
                t.Village.lon,
                t.Village.lat,
                t.Village.polygon,
                t.Village.synthetic,
            ).order_by(t.Village.code)
        ).all()
    return pd.DataFrame(rows, columns=["code", "name", "lon", "lat", "polygon", "synthetic"])


def write_polygons(path: Path, cells: dict[str, object], *, note: str | None = None) -> Path:
    data: dict[str, list[str]] = {"code": list(cells), "name": [NAMES[c] for c in cells]}
    if note is not None:
        data["数据说明"] = [note] * len(cells)
    gpd.GeoDataFrame(data, geometry=list(cells.values()), crs="EPSG:4326").to_file(path)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def load_real_polygons(store: Store, config: Config, tmp_path: Path) -> ImportResult:
    res = import_file(
        store, "villages", write_polygons(tmp_path / "real.geojson", CELLS), config=config
    )
    assert (res.stored, res.rejected) == (10, 0)
    return res


def problems_by_line(res: ImportResult) -> dict[int, list[tuple[str | None, str, str]]]:
    out: dict[int, list[tuple[str | None, str, str]]] = {}
    for p in res.problems:
        out.setdefault(p.line, []).append((p.column, p.action, p.reason))
    return out


# --------------------------------------------------------------------- villages: nothing lost


def test_polygon_only_rows_get_a_point_inside(store: Store, config: Config, tmp_path: Path) -> None:
    load_real_polygons(store, config, tmp_path)
    frame = geometry_frame(store).set_index("code")
    for code, cell in CELLS.items():
        row = frame.loc[code]
        assert shape(json.loads(row.polygon)).equals(cell)
        assert cell.contains(Point(row.lon, row.lat))
        assert not row.synthetic
    others = frame.drop(index=CODES)
    assert others.polygon.isna().all() and others.lon.isna().all()


def test_reimporting_one_point_changes_only_that_village(
    store: Store, config: Config, tmp_path: Path
) -> None:
    load_real_polygons(store, config, tmp_path)
    before = geometry_frame(store)
    path = write_csv(
        tmp_path / "one.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [[CODES[3], NAMES[CODES[3]], 121.2312345, 29.6687654]],
    )
    res = import_file(store, "villages", path, config=config)
    assert (res.rows, res.updated, res.inserted, res.unchanged, res.rejected) == (1, 1, 0, 0, 0)
    after = geometry_frame(store)
    changed = after.code == CODES[3]
    pd.testing.assert_frame_equal(after[~changed], before[~changed])
    row = after[changed].iloc[0]
    assert (row.lon, row.lat) == (121.2312345, 29.6687654)
    assert row.polygon == before[changed].iloc[0].polygon  # the polygon is kept


def test_file_without_geometry_changes_no_geometry(
    store: Store, config: Config, tmp_path: Path
) -> None:
    load_real_polygons(store, config, tmp_path)
    before = geometry_frame(store)
    path = write_csv(
        tmp_path / "names.csv", ["村社代码", "村社名称"], [[c, NAMES[c]] for c in CODES]
    )
    res = import_file(store, "villages", path, config=config)
    assert (res.rows, res.unchanged, res.updated, res.rejected) == (10, 10, 0, 0)
    pd.testing.assert_frame_equal(geometry_frame(store), before)


def test_rejected_points_keep_the_stored_point(
    store: Store, config: Config, tmp_path: Path
) -> None:
    load_real_polygons(store, config, tmp_path)
    before = geometry_frame(store)
    path = write_csv(
        tmp_path / "bad.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [
            [CODES[0], NAMES[CODES[0]], 120.0, 29.665],  # ~117 km west: outside the district
            [CODES[1], NAMES[CODES[1]], 29.665, 121.215],  # lon/lat swapped: not in China
            [CODES[2], NAMES[CODES[2]], "东经121度", 29.665],  # not a number
        ],
    )
    res = import_file(store, "villages", path, config=config)
    assert (res.rows, res.stored, res.rejected, res.updated) == (3, 3, 0, 0)
    by_line = problems_by_line(res)
    assert sorted(by_line) == [2, 3, 4]
    assert by_line[2] == [
        (
            "经度",
            "review",
            "坐标在本库奉化区（330213）各村社范围以外（超出 10 公里，坐标系是否选对？）；"
            "该坐标未导入，保留库中原有点位",
        )
    ]
    assert "不在中国境内" in by_line[3][0][2]
    assert by_line[4][0][:2] == ("经度", "review")
    pd.testing.assert_frame_equal(geometry_frame(store), before)


def test_mixed_geometry_points_follow_the_polygons(
    store: Store, config: Config, tmp_path: Path
) -> None:
    inside, outside = (121.2055, 29.6655), (121.2955, 29.6955)
    pts = write_csv(
        tmp_path / "pts.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [[CODES[0], NAMES[CODES[0]], *inside], [CODES[1], NAMES[CODES[1]], *outside]],
    )
    import_file(store, "villages", pts, config=config)
    # New polygons for both and for a third village that had nothing.
    cells = {c: CELLS[c] for c in CODES[:3]}
    res = import_file(
        store,
        "villages",
        write_polygons(tmp_path / "p.geojson", cells),
        config=config,
        replace=True,
    )
    assert res.updated == 3
    frame = geometry_frame(store).set_index("code")
    assert (frame.loc[CODES[0]].lon, frame.loc[CODES[0]].lat) == inside  # kept: inside
    for code in CODES[1:3]:  # replaced (outside its new polygon) / added
        row = frame.loc[code]
        assert (row.lon, row.lat) != outside
        assert CELLS[code].contains(Point(row.lon, row.lat))
    assert frame.polygon.notna().sum() == 3 and frame.lon.notna().sum() == 3


def test_partial_file_touches_nothing_else(store: Store, config: Config, tmp_path: Path) -> None:
    load_real_polygons(store, config, tmp_path)
    before = geometry_frame(store)
    res = import_file(
        store,
        "villages",
        write_polygons(tmp_path / "one.geojson", {CODES[9]: box(121.29, 29.66, 121.30, 29.675)}),
        config=config,
    )
    assert (res.rows, res.updated) == (1, 1)
    after = geometry_frame(store)
    changed = after.code == CODES[9]
    pd.testing.assert_frame_equal(after[~changed], before[~changed])
    assert after[changed].iloc[0].polygon != before[changed].iloc[0].polygon


# --------------------------------------------------------------------- villages: --replace


def _moved_points(tmp_path: Path, n: int) -> Path:
    return write_csv(
        tmp_path / f"moved{n}.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [[c, NAMES[c], round(121.201 + 0.01 * i, 7), 29.661] for i, c in enumerate(CODES[:n])],
    )


def test_overwriting_much_real_geometry_needs_replace(
    store: Store, config: Config, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_real_polygons(store, config, tmp_path)
    before = geometry_frame(store)
    with store.read() as s:
        batches = len(s.scalars(select(t.ImportBatch)).all())
    path = _moved_points(tmp_path, 3)  # 3 of 10 > 0.2
    assert main(["--db", url, "import", "villages", str(path)]) == 2
    err = capsys.readouterr().err
    assert "文件 moved3.csv" in err
    assert "本次导入将覆盖 3 个村社已有的真实点位或边界（库中共 10 个村社有真实点位或边界" in err
    assert "geometry_replace_share = 0.2" in err and "--replace" in err
    assert "Traceback" not in err
    pd.testing.assert_frame_equal(geometry_frame(store), before)
    with store.read() as s:
        assert len(s.scalars(select(t.ImportBatch)).all()) == batches  # not even a batch

    assert main(["--db", url, "import", "villages", str(path), "--replace", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["updated"], out["rejected"]) == (3, 0)
    after = geometry_frame(store).set_index("code")
    assert [(after.loc[c].lon, after.loc[c].lat) for c in CODES[:3]] == [
        (121.201, 29.661),
        (121.211, 29.661),
        (121.221, 29.661),
    ]


def test_share_at_the_threshold_needs_no_replace(
    store: Store, config: Config, tmp_path: Path
) -> None:
    load_real_polygons(store, config, tmp_path)
    res = import_file(store, "villages", _moved_points(tmp_path, 2), config=config)  # 2/10
    assert res.updated == 2
    cfg_file = tmp_path / "strict.toml"
    cfg_file.write_text("[import]\ngeometry_replace_share = 0.05\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"覆盖 1 个村社.*共 10 个"):
        import_file(
            store,
            "villages",
            write_csv(
                tmp_path / "m.csv",
                ["村社代码", "村社名称", "经度", "纬度"],
                [[CODES[5], NAMES[CODES[5]], 121.255, 29.661]],
            ),
            config=load_config(cfg_file),
        )


def test_real_geometry_replaces_synthetic_without_replace(
    store: Store, config: Config, tmp_path: Path
) -> None:
    shifted = {
        c: box(121.30 + 0.01 * i, 29.60, 121.31 + 0.01 * i, 29.61) for i, c in enumerate(CODES)
    }
    synthetic = write_polygons(tmp_path / "syn.geojson", shifted, note="合成演示数据")
    import_file(store, "villages", synthetic, config=config)
    assert geometry_frame(store).set_index("code").loc[CODES].synthetic.all()

    res = import_file(
        store, "villages", write_polygons(tmp_path / "real.geojson", CELLS), config=config
    )
    assert (res.updated, res.rejected) == (10, 0)
    frame = geometry_frame(store).set_index("code").loc[CODES]
    assert not frame.synthetic.any()
    for code, row in frame.iterrows():
        assert shape(json.loads(row.polygon)).equals(CELLS[str(code)])
        assert CELLS[str(code)].contains(Point(row.lon, row.lat))

    # Synthetic geometry never replaces real geometry: kept, and the rows are flagged.
    again = import_file(store, "villages", synthetic, config=config)
    assert again.updated == 0 and again.unchanged == 10
    assert {p.reason for p in again.problems} == {"库中已有真实点位或边界，合成数据未覆盖"}
    pd.testing.assert_frame_equal(geometry_frame(store).set_index("code").loc[CODES], frame)


def test_real_point_over_synthetic_polygon_drops_the_synthetic_polygon(
    store: Store, config: Config, tmp_path: Path
) -> None:
    import_file(
        store, "villages", write_polygons(tmp_path / "s.geojson", CELLS, note="合成"), config=config
    )
    path = write_csv(
        tmp_path / "p.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [[CODES[0], NAMES[CODES[0]], 121.2222, 29.6444]],
    )
    import_file(store, "villages", path, config=config)
    with store.read() as s:
        v = s.get(t.Village, CODES[0])
        assert v is not None
        assert (v.lon, v.lat, v.polygon, v.synthetic) == (121.2222, 29.6444, None, False)
        other = s.get(t.Village, CODES[1])
        assert other is not None and other.synthetic and other.polygon is not None


def test_unknown_town_names_the_init_command(store: Store, config: Config, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "v.csv",
        ["村社代码", "村社名称", "经度", "纬度"],
        [["330213999001", "新村", 121.3, 29.6]],
    )
    res = import_file(store, "villages", path, config=config)
    assert res.rejected == 1
    assert res.problems[0].reason == (
        "村社代码 330213999001 的镇街 330213999 不在本库奉化区（330213）的区划中；"
        "请核对代码，或先用 coverplan init --district 330213 --units <区划文件> 补充区划"
    )


# --------------------------------------------------------------------- files of the wrong kind

RESIDENTS_CSV = (
    "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
    f"甲,{make_id(date(1950, 1, 1), 1)},肢体,一级,溪口镇,武岭社区\n"
)
VILLAGES_CSV = "村社代码,村社名称,经度,纬度\n330213100001,武岭社区,121.205,29.665\n"
FACILITIES_CSV = (
    "设施编号,设施名称,设施类型,镇街,村社,容量,经度,纬度\n"
    "F1,溪口镇残疾人之家,残疾人之家,溪口镇,武岭社区,40,121.205,29.665\n"
)
DEVICES_CSV = (
    f"公民身份号码,辅具名称,发放日期,使用年限\n{make_id(date(1950, 1, 1), 1)},轮椅,2020-01-01,5\n"
)
LEADS_CSV = (
    "姓名,性别,乡镇（街道）,村（社区）,疑似残疾类别,线索来源,发现日期\n"
    "乙,男,溪口镇,武岭社区,肢体,走访,2024-01-01\n"
)


@pytest.mark.parametrize(
    ("content", "asked", "message"),
    [
        (
            RESIDENTS_CSV,
            "villages",
            "该文件含 姓名、公民身份号码、残疾类别 等列，像是残疾人名册，不是村社；"
            "请用 coverplan import residents（未写入任何数据）",
        ),
        (
            VILLAGES_CSV,
            "residents",
            "该文件含 村社名称 等列，像是村社，不是残疾人名册；请用 coverplan import villages",
        ),
        (FACILITIES_CSV, "villages", "像是设施，不是村社；请用 coverplan import facilities"),
        (DEVICES_CSV, "villages", "像是辅具，不是村社；请用 coverplan import devices"),
        (DEVICES_CSV, "residents", "像是辅具，不是残疾人名册；请用 coverplan import devices"),
        (LEADS_CSV, "residents", "像是疑似未持证线索，不是残疾人名册；请用 coverplan import leads"),
        (
            RESIDENTS_CSV,
            "leads",
            "像是残疾人名册，不是疑似未持证线索；请用 coverplan import residents",
        ),
        (RESIDENTS_CSV, "devices", "像是残疾人名册，不是辅具；请用 coverplan import residents"),
    ],
)
def test_file_of_another_kind_is_refused_before_any_write(
    store: Store,
    config: Config,
    url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    asked: str,
    message: str,
) -> None:
    load_real_polygons(store, config, tmp_path)
    store.dispose()
    db = Path(url.removeprefix("sqlite:///"))
    before = db.read_bytes()
    path = tmp_path / "表.csv"
    path.write_text(content, encoding="utf-8")
    assert main(["--db", url, "import", asked, str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：文件 表.csv：") and message in err, err
    assert db.read_bytes() == before


def test_right_kinds_are_not_refused(store: Store, config: Config, tmp_path: Path) -> None:
    for content, kind in (
        (RESIDENTS_CSV, "residents"),
        (VILLAGES_CSV, "villages"),
        (FACILITIES_CSV, "facilities"),
        (LEADS_CSV, "leads"),
        (DEVICES_CSV, "devices"),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_text(content, encoding="utf-8")
        res = import_file(store, kind, path, config=config, today=TODAY)  # type: ignore[arg-type]
        assert (res.rows, res.rejected) == (1, 0), (kind, res.problems)


# --------------------------------------------------------------------- identifiers that disagree

ID1 = make_id(date(1950, 1, 1), 1)
ID2 = make_id(date(1960, 2, 2), 3)
ID3 = make_id(date(1970, 3, 3), 5)
ID4 = make_id(date(1980, 4, 4), 7)
ID5 = make_id(date(1985, 5, 5), 9)
ID6 = make_id(date(1990, 6, 6), 11)
ID7 = make_id(date(1945, 7, 7), 13)
ID8 = make_id(date(1955, 8, 8), 15)


def test_resident_identifier_conflicts_are_rejected(
    store: Store, config: Config, tmp_path: Path
) -> None:
    header = [
        "姓名",
        "身份证号",
        "公民身份号码",
        "残疾类别",
        "残疾等级",
        "乡镇（街道）",
        "村（社区）",
        "村社代码",
    ]
    rows: list[list[object]] = [
        ["甲", ID1, ID1, "肢体", "一级", "溪口镇", "岩头村", YANTOU],  # 2: good
        ["乙", ID2, ID3, "肢体", "一级", "溪口镇", "岩头村", YANTOU],  # 3: two IDs differ
        ["丙", ID4, "", "肢体", "二级", "溪口镇", "岩头村", "330212100225"],  # 4: another district
        ["丁", ID5, ID5, "肢体", "二级", "溪口镇", "岩坑村", YANTOU],  # 5: code is 岩头, name 岩坑
        ["戊", ID6, ID6, "听力", "三级", "溪口镇", "武岭社区", ""],  # 6: same ID as 8, differs
        ["己", ID7, ID7.lower(), "视力", "四级", "溪口镇", "岩头村", "330283100225"],  # 7: ok
        ["戊", ID6, ID6, "听力", "一级", "溪口镇", "武岭社区", ""],  # 8: grade differs from 6
        ["庚", ID8, ID8, "智力", "三级", "锦屏街道", "岩头村", YANTOU],  # 9: town differs
        ["甲", ID1, ID1, "肢体", "一级", "溪口镇", "岩头村", YANTOU],  # 10: exact duplicate of 2
        ["辛", "", ID3, "言语", "二级", "溪口镇", "岩坑村", YANKENG],  # 11: second ID column only
    ]
    path = write_csv(tmp_path / "名册.csv", header, rows)
    res = import_file(store, "residents", path, config=config, today=TODAY)
    assert (res.rows, res.stored, res.rejected) == (10, 3, 7)
    got = problems_by_line(res)
    assert sorted(got) == [3, 4, 5, 6, 8, 9, 10]
    assert all(action == "rejected" for probs in got.values() for _c, action, _r in probs)
    assert got[3] == [
        (
            "公民身份号码",
            "rejected",
            f"列「身份证号」（{ID2[:6]}********{ID2[-4:]}）与列「公民身份号码」"
            f"（{ID3[:6]}********{ID3[-4:]}）不一致；无法确定哪个正确，本行未导入，"
            "请只保留正确的一列或改成一致",
        )
    ]
    assert got[4][0][0] == "村社代码"
    assert got[4][0][2].startswith(
        "村社代码 330212100225 属于其他区县（前 6 位 330212），不是本库的奉化区（330213）"
    )
    assert got[5][0][:2] == ("村社代码", "rejected")
    assert got[5][0][2].startswith(
        "村社代码 330213100225 是溪口镇岩头村委会，与本行的镇街/村社「溪口镇 岩坑村」不一致，"
        "指向溪口镇岩坑村委会；无法确定哪个正确"
    )
    assert got[6] == [
        (
            "身份证号",
            "rejected",
            "与第 8 行身份证号相同，但 残疾等级 不同；"
            "无法确定哪行正确，这些行都未导入，请删去错误的行",
        )
    ]
    assert got[8][0][2].startswith("与第 6 行身份证号相同，但 残疾等级 不同")
    assert "锦屏街道" in got[9][0][2] and got[9][0][0] == "村社代码"
    assert got[10] == [(None, "rejected", "与第 2 行身份证号重复，本行未导入")]
    with store.read() as s:
        stored = dict(s.execute(select(t.Resident.id_number, t.Resident.village_code)).all())
    assert stored == {ID1: YANTOU, ID7: YANTOU, ID3: YANKENG}
    # The batch report in the store holds the same rows.
    with store.read() as s:
        kept = s.execute(
            select(t.ImportProblem.line, t.ImportProblem.column).where(
                t.ImportProblem.batch_id == res.batch_id
            )
        ).all()
    assert sorted(kept) == sorted((p.line, p.column) for p in res.problems)


def test_duplicate_rows_name_every_differing_column(
    store: Store, config: Config, tmp_path: Path
) -> None:
    header = [
        "姓名",
        "公民身份号码",
        "残疾类别",
        "残疾等级",
        "乡镇（街道）",
        "村（社区）",
        "联系电话",
    ]
    rows: list[list[object]] = [
        ["甲", ID1, "肢体", "一级", "溪口镇", "岩头村", "13812345678"],
        ["甲", ID1, "肢体残疾", "1级", "溪口镇", "岩头村委会", "13812345678"],  # same data
        ["乙", ID1, "肢体", "二级", "溪口镇", "岩坑村", "13812345678"],
    ]
    res = import_file(
        store, "residents", write_csv(tmp_path / "d.csv", header, rows), config=config, today=TODAY
    )
    assert (res.stored, res.rejected) == (0, 3)
    reasons = {p.line: p.reason for p in res.problems}
    # 2 and 3 say the same (肢体/肢体残疾, 一级/1级, 岩头村/岩头村委会); 4 differs.
    assert reasons[2].startswith("与第 3、4 行身份证号相同，但 姓名、残疾等级、村（社区） 不同")
    assert reasons[3].startswith("与第 2、4 行身份证号相同，但 姓名、残疾等级、村（社区） 不同")
    assert reasons[4].startswith("与第 2、3 行身份证号相同，但 姓名、残疾等级、村（社区） 不同")


def test_facility_code_conflict_is_rejected_even_with_a_point(
    store: Store, config: Config, tmp_path: Path
) -> None:
    header = ["设施编号", "设施名称", "设施类型", "镇街", "村社", "村社代码", "经度", "纬度"]
    rows: list[list[object]] = [
        ["F1", "甲之家", "残疾人之家", "溪口镇", "岩坑村", YANTOU, 121.2, 29.66],
        ["F2", "乙之家", "残疾人之家", "溪口镇", "岩头村", "310101001001", 121.2, 29.66],
        ["F3", "丙之家", "残疾人之家", "溪口镇", "岩头村", YANTOU, 121.2, 29.66],
        ["F3", "丙之家", "残疾人之家", "溪口镇", "岩头村", YANTOU, 121.3, 29.66],
    ]
    res = import_file(
        store, "facilities", write_csv(tmp_path / "f.csv", header, rows), config=config
    )
    assert (res.rows, res.stored, res.rejected) == (4, 0, 4)
    got = {p.line: (p.column, p.reason) for p in res.problems}
    assert got[2][0] == "村社代码" and "指向溪口镇岩坑村委会" in got[2][1]
    assert got[3][0] == "村社代码" and "属于其他区县（前 6 位 310101）" in got[3][1]
    assert got[4] == (
        "设施编号",
        "与第 5 行设施编号相同，但 经度 不同；无法确定哪行正确，这些行都未导入，请删去错误的行",
    )
    assert got[5][1].startswith("与第 4 行设施编号相同，但 经度 不同")


def test_lead_and_device_conflicts_are_rejected(
    store: Store, config: Config, tmp_path: Path
) -> None:
    residents = write_csv(
        tmp_path / "r.csv",
        ["姓名", "公民身份号码", "残疾类别", "残疾等级", "乡镇（街道）", "村（社区）"],
        [
            ["甲", ID1, "肢体", "一级", "溪口镇", "岩头村"],
            ["乙", ID2, "肢体", "一级", "溪口镇", "岩头村"],
        ],
    )
    assert import_file(store, "residents", residents, config=config, today=TODAY).stored == 2
    devices = write_csv(
        tmp_path / "d.csv",
        ["公民身份号码", "身份证号", "辅具名称", "发放日期", "使用年限"],
        [
            [ID1, ID2, "轮椅", "2020-01-01", 5],  # 2: two IDs differ
            [ID2, ID2, "轮椅", "2020-01-01", 5],  # 3: same key as 4, years differ
            [ID2, "", "轮椅", "2020-01-01", 6],  # 4
            [ID1, ID1, "拐杖", "2021-01-01", 3],  # 5: good
        ],
    )
    res = import_file(store, "devices", devices, config=config, today=TODAY)
    assert (res.stored, res.rejected) == (1, 3)
    got = {p.line: (p.column, p.reason) for p in res.problems}
    assert got[2][0] == "身份证号" and "不一致" in got[2][1]
    assert got[3][1].startswith("与第 4 行身份证号、辅具名称和发放日期相同，但 使用年限 不同")
    leads = write_csv(
        tmp_path / "l.csv",
        ["姓名", "乡镇（街道）", "村（社区）", "村社代码", "现住址", "联系电话"],
        [
            ["丙", "溪口镇", "岩头村", "330212100225", "", ""],  # another district
            ["丁", "溪口镇", "岩坑村", YANTOU, "", ""],  # code contradicts the names
            ["戊", "溪口镇", "岩头村", YANTOU, "", "13812345678"],
            ["戊", "溪口镇", "岩头村", YANTOU, "", "13900000000"],  # same person, other phone
            ["己", "", "", "", "浙江省宁波市海曙区西门街道1号", ""],  # outside: review
        ],
    )
    res = import_file(store, "leads", leads, config=config, today=TODAY)
    assert (res.rows, res.stored, res.rejected, res.needs_review) == (5, 1, 4, 1)
    got = {p.line: (p.column, p.action, p.reason) for p in res.problems}
    assert got[2][0] == "村社代码" and "其他区县" in got[2][2]
    assert got[3][0] == "村社代码" and "岩坑" in got[3][2]
    assert got[4][2].startswith("与第 5 行姓名、村社和地址相同，但 联系电话 不同")
    assert got[6] == (
        "现住址",
        "review",
        "地址在本库奉化区（330213）以外（区外）；已入库，待人工核查",
    )


def test_outside_addresses_follow_the_unresolved_setting(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        ["姓名", "公民身份号码", "残疾类别", "残疾等级", "现住址"],
        [
            ["甲", ID1, "肢体", "一级", "江苏省南京市玄武区中山路1号"],
            ["乙", ID2, "肢体", "一级", "奉化区溪口镇岩头村"],
        ],
    )
    review = import_file(store, "residents", path, config=load_config(), today=TODAY)
    assert (review.stored, review.needs_review, review.rejected) == (2, 1, 0)
    with store.read() as s:
        rows = dict(s.execute(select(t.Resident.id_number, t.Resident.village_code)).all())
    assert rows == {ID1: None, ID2: YANTOU}
    cfg = tmp_path / "c.toml"
    cfg.write_text('[import]\nunresolved_village = "reject"\n', encoding="utf-8")
    path2 = write_csv(
        tmp_path / "r2.csv",
        ["姓名", "公民身份号码", "残疾类别", "残疾等级", "现住址"],
        [["丙", ID3, "肢体", "一级", "慈溪市白沙路街道"]],
    )
    rejected = import_file(store, "residents", path2, config=load_config(cfg), today=TODAY)
    assert rejected.rejected == 1
    assert rejected.problems[0].reason == (
        "地址在本库奉化区（330213）以外（区外）；请核对地址，或导入到该地所属区县的数据库"
    )


def test_village_identifier_conflicts_are_rejected(
    store: Store, config: Config, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "v.csv",
        ["村社代码", "村社名称", "镇街", "经度", "纬度"],
        [
            ["330212100225", "岩头村委会", "溪口镇", 121.2, 29.66],  # 2: another district
            [YANTOU, "岩坑村委会", "溪口镇", 121.2, 29.66],  # 3: the name is another village
            [YANTOU, "岩头村委会", "锦屏街道", 121.2, 29.66],  # 4: the town is another
            ["330283100245", "岩坑村委会", "溪口镇", 121.21, 29.66],  # 5: former code, agrees
            ["330213100998", "岩头村委会", "溪口镇", 121.2, 29.66],  # 6: new code, existing name
            [CODES[0], NAMES[CODES[0]], "溪口镇", 121.2, 29.66],  # 7: same code as 8
            [CODES[0], NAMES[CODES[0]], "溪口镇", 121.201, 29.66],  # 8
        ],
    )
    res = import_file(store, "villages", path, config=config)
    assert (res.rows, res.stored, res.rejected) == (7, 1, 6)
    got = {p.line: (p.column, p.reason) for p in res.problems}
    assert got[2][0] == "村社代码" and "属于其他区县（前 6 位 330212）" in got[2][1]
    assert got[3][1].startswith(
        "村社代码 330213100225（溪口镇岩头村委会）与本行不一致："
        "名称「岩坑村委会」是溪口镇岩坑村委会"
    )
    assert "镇街「锦屏街道」与代码所属的溪口镇不一致" in got[4][1]
    assert "名称「岩头村委会」是溪口镇岩头村委会" in got[6][1]
    assert got[7][1].startswith("与第 8 行村社代码相同，但 经度 不同")
    with store.read() as s:
        v = s.get(t.Village, YANKENG)
        assert v is not None and (v.lon, v.lat) == (121.21, 29.66)
