"""Retrofit priorities on hand-built frames with scores computed by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from planner.errors import ConfigError, InputError
from planner.reports.retrofit import write_retrofit
from planner.retrofit import (
    COMMUNITY_COLUMNS,
    HOUSEHOLD_COLUMNS,
    PARTS,
    community_candidates,
    plan_from_frames,
    retrofit_scores,
)
from planner.settings import Config, RetrofitConfig, load_config

YEAR = 2025
V1, V2, V3, V4 = "330213100001", "330213100003", "330213100004", "330213100005"
VILLAGES = pd.DataFrame(
    {
        "code": [V1, V2, V3, V4],
        "name": ["武岭社区", "畸山居委会", "班溪居委会", "某村"],
        "town_name": ["溪口镇"] * 4,
    }
)
NO_FACILITIES = pd.DataFrame({"type": pd.Series([], dtype=object), "village_code": []})
_DEFAULTS: dict[str, Any] = {
    "category": "hearing",
    "grade": 4,
    "birth_date": "1990-06-01",
    "village_code": V1,
    "town_code": "330213100",
    "low_income": None,
    "lives_alone": None,
    "elderly_carer": None,
    "wheelchair": None,
    "bedridden": None,
    "retrofit_year": None,
    "needs_review": False,
}


def residents(*rows: dict[str, Any]) -> pd.DataFrame:
    """Residents frame like :func:`planner.store.frames.residents_frame`; ``id`` is required."""
    frame = pd.DataFrame([{**_DEFAULTS, **r} for r in rows])
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    return frame.set_index("id", drop=False)


def with_retrofit(config: Config, **changes: Any) -> Config:
    weights = changes.pop("weights", None)
    rc = config.retrofit.model_copy(update=changes)
    if weights is not None:
        rc = rc.model_copy(update={"weights": rc.weights.model_copy(update=weights)})
    return config.model_copy(update={"retrofit": rc})


def plan(config: Config, frame: pd.DataFrame, **kw: Any) -> Any:
    facilities = kw.pop("facilities", NO_FACILITIES)
    return plan_from_frames(
        frame, villages=VILLAGES, facilities=facilities, config=config, year=YEAR, **kw
    )


# --- configuration ----------------------------------------------------------------


def test_toml_section_equals_the_model_defaults(config: Config) -> None:
    assert config.retrofit == RetrofitConfig()
    assert config.retrofit.quota == 122
    assert config.retrofit.cost_per_household == 8000.0
    assert config.retrofit.weights.grade == {1: 3.0, 2: 2.0, 3: 1.0, 4: 0.5}
    assert [(b.min_age, b.points) for b in config.retrofit.weights.age] == [(60, 1.0), (80, 1.5)]


def test_user_toml_overrides_part_of_the_section(tmp_path: Path) -> None:
    user = tmp_path / "user.toml"
    user.write_text(
        "[retrofit]\nquota = 150\n[retrofit.weights]\ngrade = { 1 = 5.0 }\n", encoding="utf-8"
    )
    rc = load_config(user).retrofit
    assert rc.quota == 150 and rc.cost_per_household == 8000.0
    assert rc.weights.grade == {1: 5.0, 2: 2.0, 3: 1.0, 4: 0.5}  # merged, not replaced


@pytest.mark.parametrize(
    "text",
    [
        "[retrofit]\nquota = -1\n",
        "[retrofit]\ncost_per_household = 0\n",
        "[retrofit.weights]\ngrade = { 5 = 1.0 }\n",
        "[retrofit.weights]\nlow_income = { poor = 1.0 }\n",
        "[retrofit.weights]\nage = [{ min_age = 80, points = 1.5 }, { min_age = 60, points = 1 }]",
        "[retrofit.weights]\nwheelchair = -2.0\n",
    ],
)
def test_invalid_retrofit_config_is_refused(tmp_path: Path, text: str) -> None:
    user = tmp_path / "bad.toml"
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="retrofit"):
        load_config(user)


def test_unknown_category_in_weights_is_refused(config: Config) -> None:
    cfg = with_retrofit(config, weights={"category": {"physics": 2.0}})
    with pytest.raises(ConfigError, match="physics"):
        retrofit_scores(residents({"id": 1}), config=cfg, year=YEAR)


# --- scores ------------------------------------------------------------------------


def test_scores_by_hand(config: Config) -> None:
    frame = residents(
        # grade 1 (3) + physical (2) + wheelchair (2) + 低保 (2) + 85 y (1.5) + alone (1.5)
        {
            "id": 1,
            "category": "physical",
            "grade": 1,
            "wheelchair": True,
            "low_income": "dibao",
            "birth_date": "1940-03-01",
            "lives_alone": True,
        },
        # grade 3 (1) + hearing (0.5) + 低边 (1) + 65 y (1) + 老养残 (1)
        {
            "id": 2,
            "category": "hearing",
            "grade": 3,
            "low_income": "dibian",
            "birth_date": "1960-06-01",
            "elderly_carer": True,
        },
        # grade 2 (2) + vision (2); 25 y: no age points; False flags score nothing
        {
            "id": 3,
            "category": "vision",
            "grade": 2,
            "birth_date": "2000-01-01",
            "wheelchair": False,
        },
        # grade 4 (0.5) + multiple (1.5) + 80 on 31 Dec (1.5)
        {"id": 4, "category": "multiple", "grade": 4, "birth_date": "1945-12-31"},
        # 79 on 31 Dec: the 60–79 band (1); + grade 4 (0.5) + psychiatric (0.5)
        {"id": 5, "category": "psychiatric", "birth_date": "1946-01-01"},
        # exactly 60 on 31 Dec (1) vs 59 (0); unknown birth date: no age points
        {"id": 6, "birth_date": "1965-12-31"},
        {"id": 7, "birth_date": "1966-01-01"},
        {"id": 8, "birth_date": None},
    )
    s = retrofit_scores(frame, config=config, year=YEAR)
    assert list(s.columns) == [*(f"{p}_pts" for p in PARTS), "score"]
    assert s["score"].to_dict() == {
        1: 12.0,
        2: 4.5,
        3: 4.0,
        4: 3.5,
        5: 2.0,
        6: 2.0,
        7: 1.0,
        8: 1.0,
    }
    assert s.loc[1, "age_pts"] == 1.5 and s.loc[1, "lives_alone_pts"] == 1.5
    assert s.loc[2, "low_income_pts"] == 1.0 and s.loc[2, "elderly_carer_pts"] == 1.0
    assert s.loc[4, "age_pts"] == 1.5 and s.loc[5, "age_pts"] == 1.0
    assert (s.loc[6, "age_pts"], s.loc[7, "age_pts"], s.loc[8, "age_pts"]) == (1.0, 0.0, 0.0)
    assert (s.drop(columns="score").sum(axis=1) == s["score"]).all()


def test_review_and_recent_retrofits_are_not_candidates(config: Config) -> None:
    frame = residents(
        {"id": 1},
        {"id": 2, "needs_review": True},
        {"id": 3, "village_code": None},
        {"id": 4, "retrofit_year": 2020},  # 5 years ago: done
        {"id": 5, "retrofit_year": 2016},  # 9 years ago: done
        {"id": 6, "retrofit_year": 2015},  # 10 years ago: may be retrofitted again
        {"id": 7, "retrofit_year": 2027},  # after the plan year: ignored
        {"id": 8, "retrofit_year": YEAR},  # this year: done
    )
    s = retrofit_scores(frame, config=config, year=YEAR)
    assert list(s.index) == [1, 6, 7]
    p = plan(config, frame)
    assert (p.done, p.awaiting_review) == (3, 2)
    assert p.households.loc[6, "retrofit_year"] == 2015
    assert pd.isna(p.households.loc[7, "retrofit_year"])


def test_repeat_after_years_comes_from_the_config(config: Config) -> None:
    frame = residents({"id": 1, "retrofit_year": 2020})
    assert retrofit_scores(frame, config=config, year=YEAR).empty
    cfg = with_retrofit(config, repeat_after_years=5)
    assert list(retrofit_scores(frame, config=cfg, year=YEAR).index) == [1]


# --- selection ---------------------------------------------------------------------


def five() -> pd.DataFrame:
    """Scores 12.0 (id 1), 4.5 (2), 4.0 (3), 3.5 (4), 1.0 (5): see test_scores_by_hand."""
    return residents(
        {"id": 5},
        {
            "id": 1,
            "category": "physical",
            "grade": 1,
            "wheelchair": True,
            "low_income": "dibao",
            "birth_date": "1940-03-01",
            "lives_alone": True,
        },
        {"id": 4, "category": "multiple", "grade": 4, "birth_date": "1945-12-31"},
        {
            "id": 2,
            "category": "hearing",
            "grade": 3,
            "low_income": "dibian",
            "birth_date": "1960-06-01",
            "elderly_carer": True,
        },
        {"id": 3, "category": "vision", "grade": 2},
    )


def test_ranked_by_score_and_cut_at_the_quota(config: Config) -> None:
    p = plan(config, five(), quota=3)
    h = p.households
    assert list(h.columns) == list(HOUSEHOLD_COLUMNS)
    assert list(h["resident_id"]) == [1, 2, 3, 4, 5] and list(h.index) == [1, 2, 3, 4, 5]
    assert list(h["rank"]) == [1, 2, 3, 4, 5]
    assert list(h["selected"]) == [True, True, True, False, False]
    assert (p.cost, p.stopped_by, p.quota) == (24_000.0, "quota", 3)
    assert (h["cost"] == 8000.0).all()


def test_quota_defaults_to_the_config(config: Config) -> None:
    assert plan(with_retrofit(config, quota=2), five()).selected["resident_id"].tolist() == [1, 2]
    p = plan(config, five())  # 122 > 5 candidates
    assert (len(p.selected), p.stopped_by, p.quota) == (5, "candidates", 122)


@pytest.mark.parametrize(
    ("budget", "selected", "stopped_by"),
    [
        (16_000.0, 2, "budget"),
        (15_999.99, 1, "budget"),
        (0.0, 0, "budget"),
        (24_000.0, 3, "quota"),  # quota 3 and budget for 3: the quota is named
        (1e9, 3, "quota"),
    ],
)
def test_budget_cut_off(config: Config, budget: float, selected: int, stopped_by: str) -> None:
    p = plan(config, five(), quota=3, budget=budget)
    assert len(p.selected) == selected
    assert p.stopped_by == stopped_by
    assert p.cost == selected * 8000.0 <= budget


def test_budget_uses_the_configured_cost(config: Config) -> None:
    p = plan(with_retrofit(config, cost_per_household=5000.0), five(), budget=16_000.0)
    assert (len(p.selected), p.cost) == (3, 15_000.0)


def test_ties_by_grade_then_id_whatever_the_input_order(config: Config) -> None:
    rows = [
        # 3 + 0.5 + 低边 1 + 60–79 1 = 5.5
        {
            "id": 30,
            "category": "hearing",
            "grade": 1,
            "low_income": "dibian",
            "birth_date": "1950-01-01",
        },
        # 2 + 2 + 1.5 = 5.5 each
        {"id": 12, "category": "vision", "grade": 2, "lives_alone": True},
        {"id": 11, "category": "vision", "grade": 2, "lives_alone": True},
        {"id": 20, "category": "physical", "grade": 2, "lives_alone": True},
    ]
    expected = [30, 11, 12, 20]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        p = plan(config, residents(*(rows[i] for i in order)), quota=2)
        assert (p.households["score"] == 5.5).all()
        assert p.households["resident_id"].tolist() == expected
        assert p.selected["resident_id"].tolist() == [30, 11]


def test_sums_that_differ_in_the_last_bit_still_tie(config: Config) -> None:
    cfg = with_retrofit(
        config,
        weights={
            "grade": {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0},
            "category": {"physical": 0.3},
            "category_default": 0.1,
            "low_income": {"dibao": 0.2, "dibian": 0.2},
        },
    )
    frame = residents(
        {"id": 2, "category": "hearing", "low_income": "dibian"},  # 0.1 + 0.2
        {"id": 1, "category": "physical"},  # 0.3
    )
    p = plan(cfg, frame)
    assert p.households["resident_id"].tolist() == [1, 2]


def test_negative_quota_or_budget_is_a_user_error(config: Config) -> None:
    with pytest.raises(InputError, match="名额不能为负数"):
        plan(config, five(), quota=-1)
    with pytest.raises(InputError, match="预算"):
        plan(config, five(), budget=-100.0)
    with pytest.raises(InputError, match="预算"):
        plan(config, five(), budget=float("nan"))


# --- indicator ---------------------------------------------------------------------


def needy() -> pd.DataFrame:
    return residents(
        # 困难重度, retrofitted 2020: done, counts as retrofitted
        {"id": 1, "low_income": "dibao", "grade": 1, "retrofit_year": 2020},
        # 困难重度, never retrofitted: 2 + 0.5 + 1 = 3.5
        {"id": 2, "low_income": "dibian", "grade": 2, "category": "hearing"},
        # 困难重度, retrofitted 2010: a candidate again, and (15 years ago, not within
        # the 10 of retrofit_within_years) no longer counted as retrofitted: 3 + 2 + 2 = 7
        {
            "id": 3,
            "low_income": "dibao",
            "grade": 1,
            "category": "physical",
            "retrofit_year": 2010,
        },
        # not 低保/低边: 3 + 2 + 2 = 7, same grade as id 3: after it by id
        {"id": 4, "grade": 1, "category": "physical", "wheelchair": True},
        # 低保 but grade 3: not in the indicator; 1 + 0.5 + 2 = 3.5, after id 2 by grade
        {"id": 5, "low_income": "dibao", "grade": 3},
        # 困难重度 awaiting review: counted nowhere
        {"id": 6, "low_income": "dibao", "grade": 1, "needs_review": True},
    )


def test_indicator_before_and_after(config: Config) -> None:
    # Issue 11 changed what this pinned: a retrofit counts for the rate only when less
    # than retrofit_within_years (default repeat_after_years, 10) old, so id 3's 2010
    # retrofit no longer counts (it did: "any retrofit on record").
    p = plan(config, needy(), quota=2)
    assert p.households["resident_id"].tolist() == [3, 4, 2, 5]
    assert p.households["indicator"].tolist() == [True, False, True, False]
    assert (p.before.eligible, p.before.retrofitted, p.before.pct) == (3, 1, 33.33)
    # ids 3 (困难重度, retrofit too old) and 4 (not 困难重度) selected: 1 family added
    assert (p.after.retrofitted, p.after.pct, p.selected_indicator) == (2, 66.67, 1)
    assert p.before.target_pct == 95.0 and p.after.met is False
    p = plan(config, needy(), quota=3)
    assert (p.after.retrofitted, p.after.pct, p.selected_indicator) == (3, 100.0, 2)
    assert p.after.met is True
    j = p.to_json()
    assert j["after"]["selected_households"] == 3
    assert j["after"]["selected_indicator_households"] == 2
    assert j["before"] == {
        "eligible": 3,
        "retrofitted": 1,
        "pct": 33.33,
        "target_pct": 95.0,
        "met": False,
    }
    # a longer window counts the 2010 retrofit again: 2 of 3 before, id 3 adds nothing
    longer = config.indicators.model_copy(update={"retrofit_within_years": 20})
    p = plan(config.model_copy(update={"indicators": longer}), needy(), quota=2)
    assert (p.before.retrofitted, p.after.retrofitted, p.selected_indicator) == (2, 2, 0)
    assert p.households.loc[3, "retrofit_counted"]


def test_indicator_without_eligible_households(config: Config) -> None:
    p = plan(config, residents({"id": 1}))
    assert (p.before.eligible, p.before.pct, p.before.met) == (0, None, None)


# --- communities -------------------------------------------------------------------


def test_communities_ranked_without_existing_accessible_communities(config: Config) -> None:
    frame = residents(
        # V1: 4 beneficiaries but already an accessible community
        *({"id": i, "village_code": V1, "category": "physical"} for i in range(1, 5)),
        # V2: 2 beneficiaries (one grade 1), and hearing/psychiatric who do not benefit
        {"id": 10, "village_code": V2, "category": "vision", "grade": 1},
        {"id": 11, "village_code": V2, "category": "multiple"},
        {"id": 12, "village_code": V2, "category": "hearing", "wheelchair": True},
        {"id": 13, "village_code": V2, "category": "psychiatric"},
        # V3: 2 beneficiaries, one in a wheelchair: before V2
        {"id": 20, "village_code": V3, "category": "physical", "wheelchair": True},
        {"id": 21, "village_code": V3, "category": "physical"},
        # V4: 3, of whom one awaits review: 2, no wheelchair, no grade 1-2: after V2
        {"id": 30, "village_code": V4, "category": "physical"},
        {"id": 31, "village_code": V4, "category": "physical"},
        {"id": 32, "village_code": V4, "category": "physical", "needs_review": True},
    )
    facilities = pd.DataFrame(
        {
            "type": ["accessible_community", "home", "accessible_community"],
            "village_code": [V1, V2, None],
        }
    )
    c = community_candidates(
        frame, villages=VILLAGES, facilities=facilities, config=config, year=YEAR
    )
    assert list(c.columns) == list(COMMUNITY_COLUMNS)
    assert c["village_code"].tolist() == [V3, V2, V4]
    assert c["rank"].tolist() == [1, 2, 3]
    assert c["beneficiaries"].tolist() == [2, 2, 2]
    assert c["wheelchair_users"].tolist() == [1, 0, 0]
    assert c["severe"].tolist() == [0, 1, 0]
    assert c["village_name"].tolist() == ["班溪居委会", "畸山居委会", "某村"]
    top1 = community_candidates(
        frame, villages=VILLAGES, facilities=facilities, config=config, year=YEAR, top=1
    )
    assert top1["village_code"].tolist() == [V3]
    p = plan(with_retrofit(config, communities_top=2), frame, facilities=facilities)
    assert p.communities["village_code"].tolist() == [V3, V2]


def test_communities_need_the_facility_type(config: Config) -> None:
    types = {k: v for k, v in config.facility_types.items() if k != "accessible_community"}
    cfg = config.model_copy(update={"facility_types": types})
    with pytest.raises(ConfigError, match="accessible_community"):
        community_candidates(
            residents({"id": 1}), villages=VILLAGES, facilities=NO_FACILITIES, config=cfg, year=YEAR
        )


# --- outputs -----------------------------------------------------------------------


def test_json_and_files_carry_no_personal_data(config: Config, tmp_path: Path) -> None:
    frame = five()
    frame["id_number"] = [f"33021319500101{i:03d}X" for i in range(5)]
    frame["name"] = "不该出现"
    p = plan(config, frame, quota=2, budget=100_000.0)
    j = p.to_json()
    text = json.dumps(j, ensure_ascii=False)  # serialisable as is
    assert set(j) >= {"year", "quota", "budget", "cost", "selected", "before", "after"}
    assert {"communities"} <= set(j)
    assert (j["year"], j["quota"], j["budget"], j["cost"]) == (YEAR, 2, 100_000.0, 16_000.0)
    assert [r["resident_id"] for r in j["selected"]] == [1, 2]
    assert set(j["selected"][0]) == set(HOUSEHOLD_COLUMNS)
    assert j["selected"][0]["masked_id"] == "330213********001X"
    assert "不该出现" not in text and "19500101" not in text
    assert "不该出现" not in p.text(top=5) and "330213********001X" in p.text(top=5)

    files = write_retrofit(p, tmp_path / "out", xlsx=True)
    raw = files.households.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with files.households.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5
    assert list(rows[0])[:4] == ["排名", "记录编号", "身份证号（脱敏）", "村社代码"]
    assert rows[0]["本年入选"] == "是" and rows[2]["本年入选"] == "否"
    assert rows[0]["优先得分"] == "12.0" and rows[0]["残疾类别"] == "肢体"
    with files.communities.open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "排名",
        "村社代码",
        "村社",
        "镇街",
        "受益人数",
        "其中轮椅使用者",
        "其中一二级",
    ]
    assert files.workbook is not None
    book = openpyxl.load_workbook(files.workbook, read_only=True)
    assert book.sheetnames == ["改造户", "无障碍社区候选"]
    book.close()
    for path in (files.households, files.communities):
        assert "不该出现" not in path.read_text(encoding="utf-8-sig")
