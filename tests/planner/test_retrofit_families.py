"""Families (户号, else the same house) in the retrofit rate and the retrofit list,
on hand-built residents with rates and rankings computed by hand."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planner.domain.families import FAMILY_RULE, family_basis, family_keys, house_address
from planner.domain.retrofit_rate import (
    definition,
    family_table,
    retrofit_family_rate,
    within_years,
)
from planner.errors import ConfigError
from planner.reports.retrofit import write_retrofit
from planner.retrofit import HOUSEHOLD_COLUMNS, MEMBER_KEYS, plan_from_frames
from planner.settings import Config, load_config

YEAR = 2025
T1, T2 = "330213100", "330213101"
V1, V2, V3 = "330213100001", "330213100003", "330213101004"
VILLAGES = pd.DataFrame(
    {
        "code": [V1, V2, V3],
        "name": ["武岭社区", "畸山居委会", "某村"],
        "town_name": ["溪口镇", "溪口镇", "某镇"],
    }
)
NO_FACILITIES = pd.DataFrame({"type": pd.Series([], dtype=object), "village_code": []})
_DEFAULTS: dict[str, Any] = {
    "category": "hearing",
    "grade": 4,
    "birth_date": "1990-06-01",
    "village_code": V1,
    "town_code": T1,
    "low_income": None,
    "lives_alone": None,
    "elderly_carer": None,
    "wheelchair": None,
    "bedridden": None,
    "retrofit_year": None,
    "needs_review": False,
    "household_id": None,
    "address": None,
}


def residents(*rows: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame([{**_DEFAULTS, **r} for r in rows])
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    frame["id_number"] = [f"33021319900601{int(i):04d}" for i in frame["id"]]
    return frame.set_index("id", drop=False)


def masked(rid: int) -> str:
    """The masked ID number of resident ``rid`` (default [privacy]: 6 + 4 kept)."""
    return f"330213********{rid:04d}"


HA, HB, HH = "3302131000010001", "3302131000010002", "3302131000010008"


def with_indicators(config: Config, **changes: Any) -> Config:
    return config.model_copy(update={"indicators": config.indicators.model_copy(update=changes)})


# --- the family rule --------------------------------------------------------------


def test_families_by_household_number_then_house_then_alone() -> None:
    frame = residents(
        # 户号 compared without spaces, NFKC, upper case: one family across villages
        {"id": 1, "household_id": "fh 001"},
        {"id": 2, "household_id": "ＦＨ001", "village_code": V2},
        # no 户号, same village and house (punctuation and spaces aside): one family
        {"id": 3, "address": "溪口镇武岭社区中山路12号"},
        {"id": 4, "address": " 溪口镇武岭社区中山路 12 号。"},
        # the same address in another village: another family
        {"id": 5, "address": "溪口镇武岭社区中山路12号", "village_code": V2},
        # no house number (a group, or the village only): alone
        {"id": 6, "address": "溪口镇武岭社区3组"},
        {"id": 7, "address": "溪口镇武岭社区3组"},
        # a house where one 户号 family lives takes in the resident without 户号
        {"id": 8, "household_id": "FH009", "address": "武岭社区9号"},
        {"id": 9, "address": "武岭社区9号"},
        # a house with two 户号: the one without joins neither
        {"id": 10, "household_id": "FH010", "address": "武岭社区10号"},
        {"id": 11, "household_id": "FH011", "address": "武岭社区10号"},
        {"id": 12, "address": "武岭社区10号"},
        {"id": 13, "address": "武岭社区10号"},
        # nothing to go by
        {"id": 14},
    )
    keys = family_keys(frame)
    groups = sorted(sorted(g) for g in keys.groupby(keys).groups.values())
    assert groups == [[1, 2], [3, 4], [5], [6], [7], [8, 9], [10], [11], [12, 13], [14]]
    assert [family_basis(keys[i]) for i in (1, 3, 6, 9, 12)] == [
        "household_id",
        "address",
        "single",
        "household_id",
        "address",
    ]
    # without the columns everyone is alone (the old persons-as-households)
    bare = frame.drop(columns=["household_id", "address"])
    assert family_keys(bare).nunique() == len(bare)
    # the key holds the normalised address: never shown, but stable under shuffling
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert family_keys(shuffled).sort_index().equals(keys.sort_index())


def test_a_house_is_a_number_with_hao() -> None:
    assert house_address("溪口镇岩头村（１２号）") == "溪口镇岩头村12号"
    assert house_address("中山路12号3幢101室") == "中山路12号3幢101室"
    assert house_address("溪口镇岩头村3组") is None
    assert house_address("溪口镇岩头村") is None
    assert house_address(None) is None


# --- the indicator ----------------------------------------------------------------


def town_families() -> pd.DataFrame:
    """Families A, B, H (town T1) and C, D, E, G (T2); F awaits review.

    Eligible (低保/低边 and grade 1–2) families: A, B, C, D, G. Retrofitted within
    10 years of 2025 (2016 or later, any member's): A (2020), C (2018), G (2024).
    """
    return residents(
        # A (户号 HA): a1 eligible, a2 not, retrofitted 2020 through a2
        {"id": 11, "household_id": HA, "grade": 1, "low_income": "dibao"},
        {"id": 12, "household_id": HA, "retrofit_year": 2020},
        # B (户号 HB): b2 and b3 eligible, b1 (grade 3) not; never retrofitted
        {"id": 21, "household_id": HB, "grade": 3, "low_income": "dibao"},
        {"id": 22, "household_id": HB, "grade": 2, "low_income": "dibian"},
        {"id": 23, "household_id": HB, "grade": 1, "low_income": "dibao"},
        # C (same house, no 户号): c1 eligible with a 2012 retrofit (too old), c2's 2018 counts
        {
            "id": 31,
            "grade": 2,
            "low_income": "dibao",
            "retrofit_year": 2012,
            "village_code": V3,
            "town_code": T2,
            "address": "某镇某村8号",
        },
        {
            "id": 32,
            "grade": 1,
            "retrofit_year": 2018,
            "village_code": V3,
            "town_code": T2,
            "address": "某镇某村 8 号",
        },
        # D alone: eligible, retrofitted 2015 (10 years: no longer counts)
        {
            "id": 40,
            "grade": 1,
            "low_income": "dibao",
            "retrofit_year": 2015,
            "village_code": V3,
            "town_code": T2,
        },
        # E alone: grade 4, not eligible
        {"id": 50, "village_code": V3, "town_code": T2},
        # F awaits review: counted nowhere
        {"id": 60, "grade": 1, "low_income": "dibao", "needs_review": True},
        # G alone: eligible, retrofitted 2024
        {
            "id": 70,
            "grade": 2,
            "low_income": "dibian",
            "retrofit_year": 2024,
            "village_code": V3,
            "town_code": T2,
        },
        # H (户号 HH): h1 grade 4, h2 grade 1 physical wheelchair without 低保: not eligible
        {"id": 81, "household_id": HH},
        {"id": 82, "household_id": HH, "grade": 1, "category": "physical", "wheelchair": True},
    )


def test_family_rate_by_hand(config: Config) -> None:
    rate = retrofit_family_rate(town_families(), config, year=YEAR)
    numerator, denominator, pct, by_town = rate
    # families A..H: eligible A B C D G; retrofitted within 10 years A C G
    assert (numerator, denominator, pct) == (3, 5, 60.0)
    assert by_town.to_dict(orient="index") == {
        T1: {"eligible": 2, "retrofitted": 1, "pct": 50.0},  # A yes, B no
        T2: {"eligible": 3, "retrofitted": 2, "pct": 66.67},  # C yes, D no, G yes
    }
    # 12 counted persons (F awaits review) in 7 families; 6 eligible persons
    # (a1 b2 b3 c1 d1 g1) in 5 families
    fam = family_table(town_families(), config, year=YEAR)
    assert len(fam) == 7 and fam["members"].sum() == 12 and fam["eligible"].sum() == 5
    assert fam.set_index("first_id").loc[31, "last_retrofit"] == 2018  # the family's latest


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # grade 1 only: A (a1), B (b3), D; retrofitted A
        ({"retrofit_grades": [1]}, (1, 3, 33.33)),
        # any household (not only 低保/低边): C also through c2, H through h2: 6 families
        ({"retrofit_low_income": []}, (3, 6, 50.0)),
        # a retrofit counts 5 years: only G's 2024 (2021 or later)
        ({"retrofit_within_years": 5}, (1, 5, 20.0)),
        # physical only: nobody low-income is physical
        ({"retrofit_categories": ["physical"]}, (0, 0, None)),
    ],
)
def test_the_rule_comes_from_the_config(
    config: Config, changes: dict[str, Any], expected: tuple[int, int, float | None]
) -> None:
    rate = retrofit_family_rate(town_families(), with_indicators(config, **changes), year=YEAR)
    assert (rate.numerator, rate.denominator, rate.pct) == expected


def test_within_years_defaults_to_the_repeat_period(config: Config) -> None:
    rc = config.retrofit.model_copy(update={"repeat_after_years": 12})
    rate = retrofit_family_rate(
        town_families(), config.model_copy(update={"retrofit": rc}), year=YEAR
    )
    assert (rate.numerator, rate.denominator) == (4, 5)  # D's 2015 counts within 12 years


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "retrofit_grades = [5]",
            "indicators.retrofit_grades[0] 的值 5 无效：应为 1、2、3、4 之一",
        ),
        ('retrofit_low_income = ["poor"]', "应为 dibao、dibian 之一"),
        ("retrofit_within_years = 0", "indicators.retrofit_within_years 的值 0 无效"),
    ],
)
def test_a_bad_rule_is_refused(tmp_path: Path, text: str, message: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(f"[indicators]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(user)


def test_the_toml_rule_equals_the_model_defaults(config: Config) -> None:
    ind = config.indicators
    assert (ind.retrofit_grades, ind.retrofit_low_income) == ([1, 2], ["dibao", "dibian"])
    assert ind.retrofit_within_years is None and within_years(config) == 10


def test_definition_states_the_rule(config: Config) -> None:
    numerator, denominator = definition(config)
    assert "一级或二级、低保或低边" in denominator and "户号" in denominator
    assert "10 年内" in numerator


# --- the list ranks families -------------------------------------------------------


def plan(config: Config, frame: pd.DataFrame, **kw: Any) -> Any:
    return plan_from_frames(
        frame, villages=VILLAGES, facilities=NO_FACILITIES, config=config, year=YEAR, **kw
    )


def test_the_list_ranks_families_by_their_best_member(config: Config) -> None:
    # done (retrofitted less than 10 years ago, by any member): A, C, G. Candidates:
    # H: h2 3 + 2 + 2 = 7 (h1 0.5 + 0.5 = 1); B: b3 3 + 0.5 + 2 = 5.5 (b2 2 + 0.5 + 1
    # = 3.5, b1 1 + 0.5 + 2 = 3.5); D: 5.5 (tie with B, grade 1 both: b3's id 23 < 40);
    # E: 0.5 + 0.5 = 1
    p = plan(config, town_families(), quota=2)
    h = p.households
    assert list(h.columns) == list(HOUSEHOLD_COLUMNS)
    assert h["resident_id"].tolist() == [82, 23, 40, 50] and list(h.index) == [82, 23, 40, 50]
    assert h["score"].tolist() == [7.0, 5.5, 5.5, 1.0]
    assert h["member_count"].tolist() == [2, 3, 1, 1]
    assert h["family_basis"].tolist() == ["household_id", "household_id", "single", "single"]
    assert h["household_id"].tolist() == ["330213******0008", "330213******0002", "", ""]
    assert [[m["resident_id"] for m in ms] for ms in h["members"]] == [
        [82, 81],
        [23, 22, 21],
        [40],
        [50],
    ]
    assert [set(m) for m in h.loc[23, "members"]] == [set(MEMBER_KEYS)] * 3
    assert h["indicator"].tolist() == [False, True, True, False]
    # the member who makes B count: b3 (first of its members in rank order)
    assert h["eligible_member"].tolist() == ["", masked(23), masked(40), ""]
    assert (p.done, p.awaiting_review, len(h)) == (3, 1, 4)
    # quota 2: H and B, one family each (8,000 yuan a family, not a person)
    assert p.selected["resident_id"].tolist() == [82, 23]
    assert (p.cost, p.stopped_by) == (16_000.0, "quota")
    # before 3 / 5; B is added (H is not eligible): 4 / 5
    assert (p.before.eligible, p.before.retrofitted, p.before.pct) == (5, 3, 60.0)
    assert (p.after.retrofitted, p.after.pct, p.selected_indicator) == (4, 80.0, 1)
    assert p.by_town.to_dict(orient="records") == [
        {
            "town_code": T1,
            "town_name": "溪口镇",
            "eligible": 2,
            "retrofitted_before": 1,
            "pct_before": 50.0,
            "retrofitted_after": 2,
            "pct_after": 100.0,
        },
        {
            "town_code": T2,
            "town_name": "某镇",
            "eligible": 3,
            "retrofitted_before": 2,
            "pct_before": 66.67,
            "retrofitted_after": 2,
            "pct_after": 66.67,
        },
    ]


def test_the_budget_buys_families(config: Config) -> None:
    p = plan(config, town_families(), budget=24_000.0)
    assert p.selected["resident_id"].tolist() == [82, 23, 40]  # 3 families, 6 persons
    assert (p.cost, p.stopped_by) == (24_000.0, "budget")
    assert (p.after.retrofitted, p.after.pct) == (5, 100.0)


def test_family_ranking_ignores_the_input_order(config: Config) -> None:
    frame = town_families()
    want = plan(config, frame, quota=2)
    for seed in (1, 2, 3):
        got = plan(config, frame.sample(frac=1.0, random_state=seed), quota=2)
        assert got.households["resident_id"].tolist() == want.households["resident_id"].tolist()
        assert got.households["members"].tolist() == want.households["members"].tolist()
        assert got.by_town.equals(want.by_town)
        assert got.to_json() == want.to_json()


def test_a_recent_retrofit_of_one_member_makes_the_family_done(config: Config) -> None:
    frame = residents(
        {"id": 1, "household_id": "H1", "grade": 1, "low_income": "dibao"},
        {"id": 2, "household_id": "H1", "retrofit_year": 2022},
        {"id": 3, "grade": 1, "low_income": "dibao"},
    )
    p = plan(config, frame)
    assert p.households["resident_id"].tolist() == [3]
    assert p.done == 1
    assert (p.before.eligible, p.before.retrofitted) == (2, 1)


def test_json_text_and_files_per_family(config: Config, tmp_path: Path) -> None:
    frame = town_families()
    frame["name"] = "不该出现"
    p = plan(config, frame, quota=2)
    j = p.to_json()
    text = json.dumps(j, ensure_ascii=False)
    assert [r["resident_id"] for r in j["selected"]] == [82, 23]
    assert [m["masked_id"] for m in j["selected"][1]["members"]] == [
        masked(i) for i in (23, 22, 21)
    ]
    assert j["households"] == {
        "families": 7,
        "eligible": 5,
        "candidates": 4,
        "multi_member": 4,  # A, B, C, H
        "members": 12,
        "by_basis": {"household_id": 3, "address": 1, "single": 3},
        "within_years": 10,
        "eligible_rule": "一级或二级、低保或低边",
        "rule": FAMILY_RULE,
    }
    assert [t["pct_after"] for t in j["by_town"]] == [100.0, 66.67]
    assert "不该出现" not in text and "某镇某村8号" not in text and "8号" not in text
    summary = p.text(top=5)
    assert "符合条件残疾人家庭无障碍改造率" in summary and "60.0% → 80.0%" in summary
    assert f"{masked(23)} 等 3 人" in summary

    files = write_retrofit(p, tmp_path / "out", xlsx=True)
    with files.households.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4  # one row per family
    assert rows[1]["家庭成员（脱敏身份证号）"] == "、".join(masked(i) for i in (23, 22, 21))
    assert rows[1]["符合条件成员（脱敏身份证号）"] == masked(23)
    assert [r["识别方式"] for r in rows] == ["户号", "户号", "单人", "单人"]
    assert [r["家庭残疾人数"] for r in rows] == ["2", "3", "1", "1"]
    assert rows[0]["困难重度家庭"] == "否" and rows[1]["改造已计入改造率"] == "否"
    assert files.workbook is not None
    book = openpyxl.load_workbook(files.workbook, read_only=True)
    sheet = book["改造户"]
    first, header = [r for r in sheet.iter_rows(max_row=2, values_only=True)]
    assert first[0] == FAMILY_RULE and header[:2] == ("排名", "记录编号")
    book.close()
    for path in (files.households, files.communities):
        assert "不该出现" not in path.read_text(encoding="utf-8-sig")


def test_an_address_family_on_the_list(config: Config) -> None:
    """Two at one house without 户号, one eligible: one row, the eligible member named."""
    frame = residents(
        {"id": 1, "grade": 4, "address": "武岭社区5号", "lives_alone": False},
        {"id": 2, "grade": 2, "low_income": "dibian", "address": "武岭社区５号"},
    )
    p = plan(config, frame)
    h = p.households
    # 2: 2 + 0.5 + 1 = 3.5 leads; 1: 0.5 + 0.5 = 1
    assert h["resident_id"].tolist() == [2]
    assert [m["resident_id"] for m in h.loc[2, "members"]] == [2, 1]
    assert h.loc[2, "family_basis"] == "address" and h.loc[2, "household_id"] == ""
    assert h.loc[2, "eligible_member"] == masked(2)
    assert (p.before.eligible, p.before.retrofitted, p.after.retrofitted) == (1, 0, 1)
    assert np.isnan(h.loc[2, "retrofit_year"])
