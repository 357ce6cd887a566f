"""The 十四五 plan's indicator table: definitions, ``>`` against ``≥``, and a toy
register with the indicator columns, imported for real, with hand-computed values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from planner.domain.indicator_figures import HomeReach, Indicator, IndicatorInputs, Target
from planner.domain.indicators import IndicatorTable, indicators
from planner.domain.plan_table import PLAN_KEYS
from planner.ingest.columns import map_columns
from planner.reports.indicators import write_indicators
from planner.services.indicators import IndicatorOptions
from planner.services.indicators import indicators as indicator_service
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import residents_frame
from tests.actions import import_file
from tests.factories import make_id

TODAY = date(2026, 11, 1)
T1, T2, T3 = "330213001", "330213100", "330213106"
TOWNS = pd.DataFrame({"town_code": [T1, T2, T3], "town_name": ["锦屏街道", "溪口镇", "裘村镇"]})


def frame(n: int, **columns: object) -> pd.DataFrame:
    """``n`` residents aged 30 of grade 3 in town T1 (index = resident id 1…n)."""
    base: dict[str, object] = {
        "town_code": T1,
        "birth_date": pd.Timestamp("1996-01-01"),
        "grade": 3,
        "category": "physical",
        "low_income": None,
        "retrofit_year": None,
        "employment": None,
    }
    base.update(columns)
    return pd.DataFrame(base, index=pd.RangeIndex(1, n + 1))


def inputs(
    residents: pd.DataFrame,
    *,
    facilities: pd.DataFrame | None = None,
    home: HomeReach | None = None,
) -> IndicatorInputs:
    if facilities is None:
        facilities = pd.DataFrame({"type": pd.Series([], dtype=object), "town_code": []})
    return IndicatorInputs(
        residents=residents, towns=TOWNS, facilities=facilities, today=TODAY, home=home
    )


def by_key(table: IndicatorTable) -> dict[str, Indicator]:
    return {i.key: i for i in (*table.indicators, *table.policy_checks)}


def test_target_comparison_boundaries() -> None:
    above, at_least = Target.pct(99, ">"), Target.pct(99, "≥")
    assert (above.text, at_least.text) == (">99%", "≥99%")
    assert above.met(numerator=99, denominator=100, value=99.0) is False  # 99.0 % is not > 99 %
    assert at_least.met(numerator=99, denominator=100, value=99.0) is True
    assert at_least.met(numerator=9899, denominator=10000, value=98.99) is False
    # decided on the exact ratio, not on the rounded percent: 99.004 % shows as 99.0 %
    assert above.met(numerator=99004, denominator=100000, value=99.0) is True
    assert above.met(numerator=None, denominator=None, value=None) is None
    assert Target.count(1, "家").met(numerator=1, denominator=None, value=1.0) is True
    assert Target.count(5, "个").met(numerator=4, denominator=None, value=4.0) is False
    assert Target.words("与区生产总值增长同步").met(numerator=1, denominator=1, value=1.0) is None


def test_greater_than_and_at_least_on_frames(config: Config) -> None:
    """99 of 100: 99.0 % — not met for 生活补贴 (>99 %), met for 养老保险 (≥99 %)."""
    res = frame(
        100,
        low_income="dibao",
        living_subsidy=[True] * 99 + [False],
        pension_insured=[True] * 99 + [False],
        medical_insured=[True] * 99 + [False],
    )
    got = by_key(indicators(inputs(res), config=config))
    for key, met in (("living_subsidy", False), ("pension_insurance", True)):
        ind = got[key]
        assert (ind.numerator, ind.denominator, ind.value_pct) == (99, 100, 99.0)
        assert ind.met is met, key
    assert got["medical_insurance"].met is False  # >99 %
    assert got["living_subsidy"].to_json()["comparison"] == ">"
    assert got["pension_insurance"].to_json()["comparison"] == "≥"
    # all 100: met for >99 % too
    res["living_subsidy"] = True
    assert by_key(indicators(inputs(res), config=config))["living_subsidy"].met is True


def test_every_row_present_in_order_with_a_definition(config: Config) -> None:
    table = indicators(inputs(frame(0)), config=config)
    assert [i.key for i in table.indicators] == list(PLAN_KEYS)
    assert [i.number for i in table.indicators] == list(range(1, 15))
    for i in table.indicators:
        j = i.to_json()
        assert j["definition"]["numerator"] and j["kind"] in {"约束性", "预期性"}
        assert j["target_text"] and j["status"] in {"达标", "未达标", "无数据"}
        if j["value"] is None:
            assert j["data_needed"], i.key  # 无数据 always says what would make it computable
        for old in ("key", "name", "value_pct", "target_pct", "met", "basis"):
            assert old in j
    assert [i.key for i in table.policy_checks] == [
        "home_town",
        "accessible_community",
        "family_doctor",
    ]
    assert all(i.number is None and i.kind == "政策要求" for i in table.policy_checks)
    kinds = {i.number: i.kind for i in table.indicators}
    assert [n for n, k in kinds.items() if k == "预期性"] == [1, 7, 8, 9, 14]


def test_each_data_needed_names_an_accepted_column(config: Config) -> None:
    """The column a 无数据 row asks for is one the residents importer accepts."""
    table = indicators(inputs(frame(3)), config=config)
    named = {
        i.key: i.figure.data_needed.split("「")[1].split("」")[0]
        for i in (*table.indicators, *table.policy_checks)
        if i.figure.data_needed and "「" in i.figure.data_needed
    }
    assert set(named) >= {
        "pension_insurance",
        "medical_insurance",
        "high_school",
        "basic_rehab",
        "device_fitting",
        "culture_sports",
        "family_doctor",
    }
    for column in named.values():
        assert map_columns("residents", [column]).fields, column


def test_home_coverage_has_both_readings(config: Config) -> None:
    facilities = pd.DataFrame(
        {"type": ["home", "home", "psych_station"], "town_code": [T1, T1, T2]}
    )
    home = HomeReach(
        30.0,
        pd.DataFrame(
            {
                "town_code": [T1, T2, T3],
                "eligible": [10, 5, 0],
                "home_service": [1, 0, 0],
                "covered": [8, 2, 0],
                "covered_within_capacity": [6, 0, 0],
            }
        ),
    )
    table = indicators(inputs(frame(1), facilities=facilities, home=home), config=config)
    ind = by_key(table)["home"]
    town, people = ind.readings
    assert (town.figure.numerator, town.figure.denominator) == (1, 3)  # towns with a home
    assert town.figure.value == pytest.approx(33.33)
    assert (people.figure.numerator, people.figure.denominator) == (6, 14)  # travellers 9 + 5
    assert [t.value for t in people.figure.by_town] == [pytest.approx(66.67), 0.0, None]
    assert ind.reading == "town" and ind.value_pct == pytest.approx(33.33)
    assert ind.target.text == "≥90%" and ind.met is False
    assert [t.met for t in ind.figure.by_town] == [True, False, False]
    people_first = config.model_copy(
        update={"indicators": config.indicators.model_copy(update={"home_reading": "people"})}
    )
    chosen = by_key(
        indicators(inputs(frame(1), facilities=facilities, home=home), config=people_first)
    )
    assert chosen["home"].reading == "people"
    assert chosen["home"].value_pct == pytest.approx(42.86)
    # the policy check: one home in EVERY town, target 100 %
    check = by_key(table)["home_town"]
    assert check.target.text == "≥100%" and check.met is False


# --- a toy register with the indicator columns, through the importer -------------------

HEADER = (
    "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,低保低边,困难残疾人生活补贴,"
    "重度残疾人护理补贴,就业情况,养老保险,城乡居民基本医疗保险参保,家庭医生签约,康复需求,"
    "基本康复服务,辅助器具适配需求,文体服务,受教育阶段,无障碍改造年份"
)
PEOPLE = [  # birth, category, grade, town, village, then the columns after 村（社区）
    (date(1970, 5, 1), "肢体", "一级", "锦屏街道", "奉中社区",
     "低保,是,是,未就业,是,是,是,是,是,是,是,,2020"),
    (date(1990, 3, 1), "智力", "三级", "锦屏街道", "奉中社区",
     "低边,否,,就业,是,否,否,是,否,否,否,,"),
    (date(2010, 1, 1), "听力", "二级", "锦屏街道", "奉中社区",
     ",否,否,,否,是,是,是,是,是,是,高中,"),
    (date(2009, 12, 1), "视力", "四级", "溪口镇", "武岭社区",
     ",,,,,是,,否,,是,否,初中,"),
    (date(1950, 1, 1), "肢体", "二级", "溪口镇", "武岭社区",
     "低保,是,是,,是,是,是,,,是,,,"),
    (date(2014, 6, 1), "智力", "一级", "溪口镇", "武岭社区",
     "低边,是,否,,,是,是,是,是,否,是,小学,"),
]  # fmt: skip


@pytest.fixture
def register(store: Store, config: Config, tmp_path: Path) -> Store:
    rows = [
        f"人{k},{make_id(birth, 2 * k + 1)},{cat},{grade},{town},{village},{rest}\n"
        for k, (birth, cat, grade, town, village, rest) in enumerate(PEOPLE)
    ]
    rfile = tmp_path / "名册.csv"
    rfile.write_text(HEADER + "\n" + "".join(rows), encoding="utf-8")
    res = import_file(store, "residents", rfile, config=config, today=TODAY)
    assert (res.stored, res.rejected, res.needs_review) == (6, 0, 0)
    dfile = tmp_path / "辅具.csv"
    dfile.write_text(
        "公民身份号码,辅具名称,发放日期,使用年限\n"
        f"{make_id(PEOPLE[0][0], 1)},轮椅,2020-03-01,6\n"
        f"{make_id(PEOPLE[2][0], 5)},助听器,2022-05-01,5\n",
        encoding="utf-8",
    )
    assert import_file(store, "devices", dfile, config=config, today=TODAY).stored == 2
    ffile = tmp_path / "设施.csv"
    ffile.write_text(
        "设施名称,设施类型,镇街,村社\n"
        "锦屏残疾人之家,残疾人之家,锦屏街道,奉中社区\n"
        "奉化区残疾人托养中心,托养中心,溪口镇,武岭社区\n",
        encoding="utf-8",
    )
    assert import_file(store, "facilities", ffile, config=config).stored == 2
    return store


def test_toy_register_by_hand(register: Store, config: Config) -> None:
    result = indicator_service(register, config=config, options=IndicatorOptions(today=TODAY))
    got = by_key(result.table)
    expected = {  # key: (numerator, denominator), counted by hand from PEOPLE
        "living_subsidy": (3, 4),  # 低保/低边: 1, 2, 5, 6; 2 without
        "care_subsidy": (2, 4),  # grades 1–2: 1, 3, 5, 6; 3 and 6 without
        "home": (1, 12),  # one town of 12 has a 残疾人之家
        "pension_insurance": (3, 4),  # aged 16+: 1, 2, 3, 4 (blank), 5; 3 not insured
        "medical_insurance": (5, 6),  # 2 not insured
        "employment": (1, 2),  # aged 16–59 with a status: 1 (未就业), 2 (就业)
        "high_school": (1, 2),  # aged 15–17: 3 (高中), 4 (初中)
        "basic_rehab": (3, 4),  # need: 1, 2, 3, 6; 2 not served
        "device_fitting": (2, 4),  # need: 1, 3, 4, 5; devices on record: 1, 3
        "retrofit": (1, 3),  # 低保/低边 and grade 1–2: 1, 5, 6; 1 retrofitted (persons)
        "culture_sports": (3, 5),  # recorded: all but 5
        "family_doctor": (4, 5),  # recorded: all but 4
        "home_town": (1, 12),
    }
    for key, (num, den) in expected.items():
        ind = got[key]
        assert (ind.numerator, ind.denominator) == (num, den), key
        assert ind.value_pct == pytest.approx(round(100 * num / den, 2)), key
    met = {k: i.met for k, i in got.items()}
    assert met["family_doctor"] is True  # 80 % meets ≥80 %
    assert met["employment"] is False and met["living_subsidy"] is False
    assert (got["care_institution"].value, met["care_institution"]) == (1.0, True)
    assert (got["child_rehab_institution"].value, met["child_rehab_institution"]) == (0.0, False)
    assert (got["accessible_community"].value, met["accessible_community"]) == (0.0, False)
    assert got["income_growth"].value is None and got["income_growth"].figure.data_needed
    # no network registered: the people reading of 残疾人之家覆盖率 says what it needs
    people = got["home"].readings[1]
    assert people.key == "people" and people.figure.value is None and people.figure.data_needed
    # per town: 生活补贴 锦屏 1 of 2, 溪口 2 of 2, other towns no value
    towns = {t.town_name: t for t in got["living_subsidy"].figure.by_town}
    assert len(towns) == 12
    assert (towns["锦屏街道"].numerator, towns["锦屏街道"].denominator) == (1, 2)
    assert (towns["溪口镇"].value, towns["溪口镇"].met) == (100.0, True)
    assert towns["裘村镇"].value is None and towns["裘村镇"].met is None


def test_register_columns_are_stored_and_kept(
    register: Store, config: Config, tmp_path: Path
) -> None:
    res = residents_frame(register).sort_values("birth_date")
    stages = [v if isinstance(v, str) else None for v in res["education_stage"]]
    assert stages == [None, None, None, "junior", "senior", "primary"]
    first = res.iloc[0]  # born 1950
    assert (first["pension_insured"], first["rehab_needed"], first["culture_sports"]) == (
        True,
        None,
        None,
    )
    # a register without the indicator columns keeps what the first import stored
    plain = tmp_path / "plain.csv"
    birth, cat, grade, town, village, _ = PEOPLE[0]
    plain.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        f"人0,{make_id(birth, 1)},{cat},{grade},{town},{village}\n",
        encoding="utf-8",
    )
    assert import_file(register, "residents", plain, config=config, today=TODAY).rejected == 0
    again = residents_frame(register).set_index("birth_date").loc[pd.Timestamp(birth)]
    assert (again["family_doctor"], again["medical_insured"]) == (True, True)


def test_unknown_education_stage_is_flagged(store: Store, config: Config, tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,在读学段\n"
        f"甲,{make_id(date(2010, 1, 1), 1)},智力,二级,溪口镇,武岭社区,送教\n",
        encoding="utf-8",
    )
    res = import_file(store, "residents", f, config=config, today=TODAY)
    assert (res.stored, res.needs_review) == (1, 1)
    assert residents_frame(store)["education_stage"].isna().all()


def test_indicator_files_have_chinese_headers(
    register: Store, config: Config, tmp_path: Path
) -> None:
    result = indicator_service(register, config=config, options=IndicatorOptions(today=TODAY))
    files = write_indicators(
        result.table.indicators, result.table.policy_checks, out_dir=tmp_path / "out"
    )
    district = pd.read_csv(files.district, encoding="utf-8-sig")
    assert district["序号"].tolist() == list(range(1, 15))
    assert {
        "名称",
        "分子定义",
        "分母定义",
        "分子",
        "分母",
        "目标值",
        "判定",
        "计算所需数据",
    } <= set(district.columns)
    towns = pd.read_csv(files.towns, encoding="utf-8-sig", dtype={"镇街代码": str})
    home = towns[towns["指标"] == "home"]
    assert set(home["口径代码"]) == {"town", "people"} and len(home) == 24  # 12 towns × 2
    living = towns[(towns["指标"] == "living_subsidy") & (towns["镇街"] == "锦屏街道")]
    assert (living["分子"].item(), living["分母"].item()) == (1, 2)
    checks = pd.read_csv(files.policy_checks, encoding="utf-8-sig")
    assert checks["指标"].tolist() == ["home_town", "accessible_community", "family_doctor"]
    assert files.workbook.suffix == ".xlsx" and files.workbook.stat().st_size > 0
