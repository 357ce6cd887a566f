"""The 户号 column: imported through the register importer, stored, and used by the
``retrofit`` action to rank families (a store built through the importers)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from planner.domain.retrofit_rate import retrofit_family_rate
from planner.ingest.columns import map_columns
from planner.ingest.normalize import parse_household_id
from planner.services.retrofit import RetrofitOptions, family_residents, retrofit
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import residents_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2025, 6, 1)
HEADER = (
    "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,"
    "现住址,户号,低保低边,无障碍改造年份\n"
)
# name, grade, village, address, 户号, 低保低边, 改造年份
PEOPLE = [
    ("王一", "一级", "武岭社区", "溪口镇武岭社区中山路1号", "3302131000010001", "低保", ""),
    ("王二", "四级", "武岭社区", "溪口镇武岭社区中山路1号", " 3302131000010001 ", "", ""),
    ("李三", "二级", "畸山居委会", "溪口镇畸山居委会8号", "", "低边", ""),
    ("李四", "三级", "畸山居委会", "溪口镇畸山居委会 8 号", "", "", "2020"),
    ("赵五", "一级", "班溪居委会", "溪口镇班溪居委会", "3.30213100001E+15", "低保", ""),
    ("赵六", "二级", "班溪居委会", "溪口镇班溪居委会", "无", "低保", ""),
]


@pytest.mark.parametrize("header", ["户号", "家庭户号", "户编号"])
def test_the_column_names(header: str) -> None:
    assert map_columns("residents", ["姓名", header]).fields["household_id"] == header


def test_values() -> None:
    assert parse_household_id(" ３３０２ 13a ") == "330213A"
    assert parse_household_id("") is None and parse_household_id("/") is None
    with pytest.raises(ValueError, match="科学计数法"):
        parse_household_id("3.30213100001E+15")
    with pytest.raises(ValueError, match="64"):
        parse_household_id("1" * 65)


@pytest.fixture
def families(store: Store, config: Config, tmp_path: Path) -> Store:
    ids = [make_id(date(1950 + i, 3, 4), 2 * i + 1) for i in range(len(PEOPLE))]
    rows = [
        f"{name},{idn},肢体,{grade},溪口镇,{village},{address},{hh},{poor},{year}\n"
        for idn, (name, grade, village, address, hh, poor, year) in zip(ids, PEOPLE, strict=True)
    ]
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    res = import_file(store, "residents", path, config=config, today=TODAY)
    assert (res.stored, res.rejected) == (len(PEOPLE), 0)
    # the 户号 Excel turned into a number is dropped, the row kept and flagged for review
    # (line 6, 赵五), as for any bad value of a column that is not required
    flagged = [p for p in res.problems if p.column == "户号"]
    assert [(p.line, p.action) for p in flagged] == [(6, "review")]
    assert "科学计数法" in flagged[0].reason and "未导入" in flagged[0].reason
    return store


def test_stored_and_grouped(families: Store, config: Config) -> None:
    frame = residents_frame(families)
    assert [None if pd.isna(h) else h for h in frame["household_id"]] == [
        "3302131000010001",
        "3302131000010001",
        None,
        None,
        None,
        None,
    ]
    assert frame["needs_review"].tolist() == [False] * 4 + [True, False]
    # families: 王一+王二 (户号), 李三+李四 (same house, no 户号), 赵六 (no house number);
    # 赵五 awaits review. Eligible: 王 (王一), 李 (李三), 赵六; retrofitted within 10
    # years: 李 (李四, 2020)
    rate = retrofit_family_rate(family_residents(families), config, year=2025)
    assert (rate.numerator, rate.denominator, rate.pct) == (1, 3, 33.33)
    # without addresses 李三 and 李四 are two families: 0 of 3
    bare = retrofit_family_rate(residents_frame(families), config, year=2025)
    assert (bare.numerator, bare.denominator) == (0, 3)


def test_retrofit_lists_families(families: Store, config: Config) -> None:
    plan = retrofit(families, config=config, options=RetrofitOptions(year=2025, quota=2))
    # 李 is done (2020); candidates: 王 (王一: 3 + 2 + 2 + 1 aged 75 = 8; 王二 3.5),
    # 赵六 (2 + 2 + 2 + 1 = 7)
    h = plan.households
    assert [[m["resident_id"] for m in ms] for ms in h["members"]] == [[1, 2], [6]]
    assert h["family_basis"].tolist() == ["household_id", "single"]
    assert h["score"].tolist() == [8.0, 7.0]
    assert (plan.done, plan.awaiting_review) == (1, 1)
    assert (plan.before.eligible, plan.before.retrofitted, plan.after.retrofitted) == (3, 1, 3)
    text = json.dumps(plan.to_json(), ensure_ascii=False)
    assert "中山路" not in text and "王一" not in text and "3302131000010001" not in text
