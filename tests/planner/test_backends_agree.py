"""The same register gives the same frames and byte-identical JSON on SQLite and PostgreSQL.

The PostgreSQL database sorts text in Chinese pinyin order (ICU ``zh``), unlike
SQLite's code-point order, and the register is imported twice with changes, so
that PostgreSQL's physical row order (updated rows move) differs from SQLite's:
only explicit ``ORDER BY`` on a natural key or id keeps outputs identical.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from api.cli import main
from geo.gazetteer import load_fenghua
from planner.settings import Config
from planner.store.core import Store, init_store
from planner.store.frames import facilities_frame, residents_frame, villages_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2025, 6, 1)
# name, category, grade, town, village, 低保低边, 使用轮椅, 无障碍改造年份, phone
PEOPLE = [
    ("王一", "肢体", "一级", "溪口镇", "武岭社区", "低保", "是", "", "13800000001"),
    ("安二", "视力", "二级", "溪口镇", "畸山居委会", "低边", "否", "", ""),
    ("张三", "肢体", "二级", "溪口镇", "畸山居委会", "", "是", "2021", "13800000003"),
    ("白四", "听力", "四级", "溪口镇", "班溪居委会", "", "否", "", ""),
    ("钱五", "多重", "一级", "溪口镇", "班溪居委会", "低保", "是", "2012", ""),
    ("艾六", "肢体", "三级", "锦屏街道", "长岭村", "", "否", "", "13800000006"),
    ("周七", "精神", "三级", "锦屏街道", "长岭村", "", "否", "", ""),
    ("蔡八", "智力", "四级", "尚田镇", "冷西村", "低保", "否", "", ""),
    ("吴九", "肢体", "一级", "尚田镇", "冷西村", "", "是", "", ""),
    ("阿十", "言语", "二级", "尚田镇", "不存在村", "", "否", "", ""),  # needs review
]
HEADER = (
    "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,"
    "低保低边,使用轮椅,无障碍改造年份,联系电话\n"
)
FACILITIES = (
    "设施名称,设施类型,镇街,村社,经度,纬度,容量\n"
    "武岭无障碍社区,无障碍社区,溪口镇,武岭社区,121.24,29.67,\n"
    "长岭残疾人之家,残疾人之家,锦屏街道,长岭村,121.40,29.66,20\n"
    "冷西康复站,康复站,尚田镇,冷西村,121.43,29.58,\n"
)


def _write_register(path: Path, people: list[tuple[str, ...]]) -> Path:
    ids = [make_id(date(1950 + i, 3, 4), 2 * i + 1) for i in range(len(people))]
    rows = [",".join([p[0], idn, *p[1:]]) + "\n" for idn, p in zip(ids, people, strict=True)]
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _build(url: str, tmp_path: Path, config: Config) -> Store:
    """Import the register, the facilities, then a changed register (updates)."""
    store = init_store(url, gazetteer=load_fenghua())
    first = _write_register(tmp_path / "r1.csv", PEOPLE)
    assert import_file(store, "residents", first, config=config, today=TODAY).inserted == 10
    fac = tmp_path / "f.csv"
    fac.write_text(FACILITIES, encoding="utf-8")
    assert import_file(store, "facilities", fac, config=config, today=TODAY).stored == 3
    # new phones for the 1st and 3rd, a retrofit for the 2nd: their rows are rewritten
    changed = list(PEOPLE)
    changed[0] = (*PEOPLE[0][:-1], "13900000001")
    changed[1] = (*PEOPLE[1][:-2], "2024", "")
    changed[2] = (*PEOPLE[2][:-1], "13900000003")
    second = _write_register(tmp_path / "r2.csv", changed)
    assert import_file(store, "residents", second, config=config, today=TODAY).updated == 3
    return store


@pytest.fixture
def two_stores(
    pg_database: Callable[..., str], tmp_path: Path, config: Config
) -> Iterator[list[tuple[str, Store]]]:
    urls = [f"sqlite:///{tmp_path / 'agree.db'}", pg_database(icu_locale="zh")]
    stores = []
    for i, url in enumerate(urls):
        work = tmp_path / f"build{i}"
        work.mkdir()
        stores.append((url, _build(url, work, config)))
    yield stores
    for _url, store in stores:
        store.dispose()


def test_frames_are_equal(two_stores: list[tuple[str, Store]]) -> None:
    (_, lite), (_, pg) = two_stores
    assert pg.is_postgresql
    a, b = residents_frame(lite, personal=True), residents_frame(pg, personal=True)
    assert list(a.index) == sorted(a.index)
    pd.testing.assert_frame_equal(a, b)
    for frame in (villages_frame, facilities_frame):
        fa, fb = frame(lite), frame(pg)
        pd.testing.assert_frame_equal(
            pd.DataFrame(fa.drop(columns="geometry")), pd.DataFrame(fb.drop(columns="geometry"))
        )
        assert list(fa.geometry.to_wkt()) == list(fb.geometry.to_wkt())


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--json"],
        ["retrofit", "--year", "2025", "--json"],
        ["outreach", "year", "2026", "--json"],
    ],
    ids=["status", "retrofit", "outreach-year"],
)
def test_json_outputs_are_byte_identical(
    two_stores: list[tuple[str, Store]],
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs = []
    for url, _store in two_stores:
        assert main(["--db", url, *argv]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])  # one JSON document, not empty
