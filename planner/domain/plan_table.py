"""The 十四五 plan's indicator table (seed 003, "主要指标"), row by row, and the
further policy checks the plan's text names.

Each row states what it counts (分子/分母, Chinese), the plan's target with its
comparison (``>`` or ``≥``; targets from ``[indicators]``), whether it is
约束性 or 预期性, and counts it from the register: a value, or 无数据 with the
data (the register column to import) that would make it computable. The plan
itself does not define numerators and denominators; the definitions here are
the usual ones of the 残联 statistics, stated so that a planner can recount
them by hand:

1. 残疾人家庭人均收入年均增速: not in the register (无数据).
2. 困难残疾人生活补贴覆盖率: 低保/低边 persons receiving the living subsidy /
   低保/低边 persons.
3. 重度残疾人护理补贴覆盖率: grade 1–2 persons receiving the care subsidy /
   grade 1–2 persons.
4. "残疾人之家"覆盖率, two readings: ``town`` (乡镇(街道)全覆盖, as Zhejiang
   reports it): towns with a home / all towns; ``people``: eligible persons
   within reach and within capacity / eligible persons who can travel.
   ``[indicators] home_reading`` chooses the one held against the target.
5. 残疾人专业托养机构, 6. 规范化残疾儿童康复机构: facilities of the configured types.
7.–14.: shares of persons from the register's indicator columns (insurance,
   employment, education stage, rehab need/received, device need and the
   devices register, retrofit year, culture and sports); a person whose value
   is blank is left out of the denominator, and with nobody recorded the value
   is 无数据.

Policy checks (listed apart): a 残疾人之家 in every town, the provincial
accessible communities, 家庭医生签约率.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from planner.domain.eligibility import POOR, SEVERE_GRADES, age_years
from planner.domain.indicator_figures import (
    HOME_TYPE,
    Definition,
    Figure,
    Indicator,
    IndicatorInputs,
    Reading,
    Target,
    facility_count,
    flag,
    share,
    town_figure,
)
from planner.domain.retrofit_rate import definition as retrofit_definition
from planner.domain.retrofit_rate import retrofit_family_rate
from planner.settings import Config

__all__ = ["EDUCATION_AT_LEAST_SENIOR", "EMPLOYED", "PLAN_KEYS", "plan_rows", "policy_rows"]

BINDING = "约束性"
EXPECTED = "预期性"
POLICY = "政策要求"
#: ``employment`` values that count as employed (就业, 工疗, 辅助性就业).
EMPLOYED = ("employed", "workshop", "sheltered")
#: ``education_stage`` values at high-school stage or beyond.
EDUCATION_AT_LEAST_SENIOR = ("senior", "higher")
#: The plan's rows, in its order (row number = position + 1).
PLAN_KEYS = (
    "income_growth",
    "living_subsidy",
    "care_subsidy",
    "home",
    "care_institution",
    "child_rehab_institution",
    "pension_insurance",
    "medical_insurance",
    "employment",
    "high_school",
    "basic_rehab",
    "device_fitting",
    "retrofit",
    "culture_sports",
)
_IMPORT = "请在残疾人名册中加入{columns}列（{values}）后重新导入：coverplan import residents"
_YES_NO = "是/否"
_STAGES_ZH = "未入学、学前、小学、初中、高中、中职、大专、本科等"

Row = Callable[[IndicatorInputs, Config], Indicator]


def _needs(*columns: str, values: str = _YES_NO) -> str:
    """The register columns to import (their first accepted header) and their values."""
    return _IMPORT.format(columns="和".join(f"「{c}」" for c in columns), values=values)


def _ages(inputs: IndicatorInputs) -> pd.Series:
    res = inputs.residents
    return pd.Series(age_years(res["birth_date"], today=inputs.today), index=res.index)


def _one_of(values: pd.Series, accepted: tuple[str, ...]) -> pd.Series:
    """True where ``values`` is one of ``accepted``, False otherwise, None where blank."""
    return values.isin(accepted).astype(object).where(values.notna(), None)


def _everyone(inputs: IndicatorInputs) -> pd.Series:
    return pd.Series(True, index=inputs.residents.index)


def _row(
    number: int,
    name: str,
    kind: str,
    definition: Definition,
    target: Target,
    figure: Figure,
    *,
    readings: tuple[Reading, ...] = (),
    reading: str | None = None,
    note: str = "",
) -> Indicator:
    return Indicator(
        key=PLAN_KEYS[number - 1],
        name=name,
        number=number,
        kind=kind,
        definition=definition,
        target=target,
        figure=figure,
        readings=readings,
        reading=reading,
        note=note,
    )


def income_growth(inputs: IndicatorInputs, config: Config) -> Indicator:
    """1 残疾人家庭人均收入年均增速: the register holds no income (无数据)."""
    return _row(
        1,
        "残疾人家庭人均收入年均增速",
        EXPECTED,
        Definition(
            "残疾人家庭人均可支配收入年均增速（%），与区生产总值年均增速相比", heading="口径"
        ),
        Target.words("与区生产总值增长同步"),
        Figure.missing(
            "残疾人家庭人均可支配收入（历年，统计部门住户调查）与区生产总值增速；"
            "名册不含收入，本系统无法计算"
        ),
    )


def living_subsidy(inputs: IndicatorInputs, config: Config) -> Indicator:
    """2 困难残疾人生活补贴覆盖率: 低保/低边 persons receiving the living subsidy."""
    res = inputs.residents
    target = Target.pct(config.indicators.living_subsidy_pct, ">")
    return _row(
        2,
        "困难残疾人生活补贴覆盖率",
        BINDING,
        Definition(
            "低保、低边家庭持证残疾人中享受困难残疾人生活补贴的人数",
            "低保、低边家庭持证残疾人数（名册「低保低边」列）",
        ),
        target,
        share(
            inputs,
            group=res["low_income"].isin(POOR),
            hit=flag(res, "living_subsidy"),
            target=target,
            data_needed=_needs("困难残疾人生活补贴"),
        ),
    )


def care_subsidy(inputs: IndicatorInputs, config: Config) -> Indicator:
    """3 重度残疾人护理补贴覆盖率: grade 1–2 persons receiving the care subsidy."""
    res = inputs.residents
    target = Target.pct(config.indicators.care_subsidy_pct, ">")
    return _row(
        3,
        "重度残疾人护理补贴覆盖率",
        BINDING,
        Definition(
            "一、二级（重度）持证残疾人中享受重度残疾人护理补贴的人数", "一、二级持证残疾人数"
        ),
        target,
        share(
            inputs,
            group=pd.to_numeric(res["grade"], errors="coerce").isin(SEVERE_GRADES),
            hit=flag(res, "care_subsidy"),
            target=target,
            data_needed=_needs("重度残疾人护理补贴"),
        ),
    )


def _home_towns(inputs: IndicatorInputs, target: Target) -> Reading:
    fac = inputs.facilities
    with_home = set(fac.loc[fac["type"] == HOME_TYPE, "town_code"].dropna())
    codes = inputs.towns["town_code"]
    figure = town_figure(
        inputs.towns,
        pd.Series([int(c in with_home) for c in codes], index=codes.to_numpy()),
        pd.Series(1, index=codes.to_numpy()),
        target=target,
    )
    return Reading(
        "town",
        "乡镇(街道)全覆盖口径",
        Definition("设有至少一家残疾人之家的镇街数", "镇街总数"),
        figure,
    )


def _home_people(inputs: IndicatorInputs, config: Config, target: Target) -> Reading:
    minutes = "规定时间" if inputs.home is None else f"{inputs.home.threshold_min:g} 分钟"
    definition = Definition(
        f"符合残疾人之家服务条件、{minutes}内可达且在设施容量内可安置的人数",
        "符合残疾人之家服务条件且能出行的人数（不含长期卧床需上门服务者）",
    )
    if inputs.home is None:
        figure = Figure.missing_in_towns(
            "需计算残疾人之家的可达与容量覆盖：coverplan coverage（含 --type home）"
            "或 coverplan indicators，并已登记道路网络",
            inputs.towns,
        )
    else:
        t = inputs.home.towns.set_index("town_code")
        figure = town_figure(
            inputs.towns,
            t["covered_within_capacity"],
            t["eligible"] - t["home_service"],
            target=target,
        )
    return Reading("people", "人员口径：可达且容量内", definition, figure)


def home(inputs: IndicatorInputs, config: Config) -> Indicator:
    """4 "残疾人之家"覆盖率: both readings; ``[indicators] home_reading`` is held
    against the target."""
    target = Target.pct(config.indicators.home_reach_pct, "≥")
    readings = (_home_towns(inputs, target), _home_people(inputs, config, target))
    chosen = next(r for r in readings if r.key == config.indicators.home_reading)
    return _row(
        4,
        '"残疾人之家"覆盖率',
        BINDING,
        chosen.definition,
        target,
        chosen.figure,
        readings=readings,
        reading=chosen.key,
        note=f'{chosen.label}，由 [indicators] home_reading = "{chosen.key}" 选定',
    )


def care_institution(inputs: IndicatorInputs, config: Config) -> Indicator:
    """5 残疾人专业托养机构: facilities of ``[indicators] care_institution_types``."""
    ind = config.indicators
    types = ind.care_institution_types
    target = Target.count(ind.care_institution_count, "家")
    return _row(
        5,
        "残疾人专业托养机构",
        BINDING,
        Definition(f"设施名册中的残疾人托养机构数（设施类型：{_labels(config, types)}）"),
        target,
        facility_count(inputs, types=types, target=target),
    )


def child_rehab_institution(inputs: IndicatorInputs, config: Config) -> Indicator:
    """6 规范化残疾儿童康复机构: facilities of ``[indicators] child_rehab_types``."""
    ind = config.indicators
    types = ind.child_rehab_types
    target = Target.count(ind.child_rehab_count, "家")
    return _row(
        6,
        "规范化残疾儿童康复机构",
        BINDING,
        Definition(
            f"设施名册中的残疾儿童康复机构数（设施类型：{_labels(config, types)}；"
            "是否规范化以设施名册登记为准）"
        ),
        target,
        facility_count(inputs, types=types, target=target),
    )


def _labels(config: Config, types: list[str]) -> str:
    return "、".join(config.facility_label(t) for t in types)


def pension_insurance(inputs: IndicatorInputs, config: Config) -> Indicator:
    """7 残疾人城乡居民基本养老保险参保率: insured persons aged ``pension_min_age``+."""
    ind = config.indicators
    target = Target.pct(ind.pension_pct, "≥")
    return _row(
        7,
        "残疾人城乡居民基本养老保险参保率",
        EXPECTED,
        Definition(
            f"年满 {ind.pension_min_age} 周岁持证残疾人中参加基本养老保险的人数",
            f"年满 {ind.pension_min_age} 周岁、名册登记了养老保险参保情况的持证残疾人数",
        ),
        target,
        share(
            inputs,
            group=_ages(inputs) >= ind.pension_min_age,
            hit=flag(inputs.residents, "pension_insured"),
            target=target,
            data_needed=_needs("养老保险"),
        ),
    )


def medical_insurance(inputs: IndicatorInputs, config: Config) -> Indicator:
    """8 残疾人城乡居民基本医疗保险参保率: insured persons of all ages."""
    target = Target.pct(config.indicators.medical_pct, ">")
    return _row(
        8,
        "残疾人城乡居民基本医疗保险参保率",
        EXPECTED,
        Definition(
            "持证残疾人中参加基本医疗保险的人数", "名册登记了医疗保险参保情况的持证残疾人数"
        ),
        target,
        share(
            inputs,
            group=_everyone(inputs),
            hit=flag(inputs.residents, "medical_insured"),
            target=target,
            data_needed=_needs("医疗保险"),
        ),
    )


def employment(inputs: IndicatorInputs, config: Config) -> Indicator:
    """9 残疾人就业率: employed (incl. 工疗, 辅助性就业) persons of working age."""
    ind = config.indicators
    low, high = ind.employment_ages
    target = Target.pct(ind.employment_pct, "≥")
    ages = _ages(inputs)
    hit = _one_of(flag(inputs.residents, "employment"), EMPLOYED)
    return _row(
        9,
        "残疾人就业率",
        EXPECTED,
        Definition(
            f"{low}–{high} 岁持证残疾人中就业（含工疗、辅助性就业）的人数",
            f"{low}–{high} 岁、名册登记了就业情况的持证残疾人数",
        ),
        target,
        share(
            inputs,
            group=(ages >= low) & (ages <= high),
            hit=hit,
            target=target,
            data_needed=_needs("就业情况", values="就业、工疗、辅助性就业 或 未就业"),
        ),
    )


def high_school(inputs: IndicatorInputs, config: Config) -> Indicator:
    """10 残疾学生接受高中阶段教育比例: persons of high-school age at that stage or beyond."""
    ind = config.indicators
    low, high = ind.high_school_ages
    target = Target.pct(ind.high_school_pct, "≥")
    ages = _ages(inputs)
    hit = _one_of(flag(inputs.residents, "education_stage"), EDUCATION_AT_LEAST_SENIOR)
    return _row(
        10,
        "残疾学生接受高中阶段教育比例",
        BINDING,
        Definition(
            f"{low}–{high} 岁持证残疾人中在读高中阶段（普通高中、中职、特教高中部）或以上的人数",
            f"{low}–{high} 岁、名册登记了在读学段的持证残疾人数",
        ),
        target,
        share(
            inputs,
            group=(ages >= low) & (ages <= high),
            hit=hit,
            target=target,
            data_needed=_needs(
                "在读学段", values="未入学、学前、小学、初中、高中、中职、大专、本科等"
            ),
        ),
    )


def basic_rehab(inputs: IndicatorInputs, config: Config) -> Indicator:
    """11 残疾人基本康复服务覆盖率: persons with a rehab need who received basic rehab."""
    res = inputs.residents
    target = Target.pct(config.indicators.rehab_reach_pct, ">")
    needed = flag(res, "rehab_needed")
    figure = share(
        inputs,
        group=needed.eq(True),
        hit=flag(res, "rehab_received"),
        target=target,
        data_needed=_needs("已获康复服务"),
    )
    if needed.isna().all():
        figure = Figure.missing(_needs("康复需求", "已获康复服务"))
    return _row(
        11,
        "残疾人基本康复服务覆盖率",
        BINDING,
        Definition(
            "有基本康复服务需求的持证残疾人中本年获得基本康复服务的人数",
            "有基本康复服务需求、名册登记了是否获得服务的持证残疾人数",
        ),
        target,
        figure,
    )


def device_fitting(inputs: IndicatorInputs, config: Config) -> Indicator:
    """12 残疾人辅助器具适配率: persons with a device need who have a device on record."""
    res = inputs.residents
    target = Target.pct(config.indicators.device_current_pct, ">")
    needed = flag(res, "device_needed")
    holders = inputs.devices.holders if inputs.devices is not None else frozenset()
    figure = share(
        inputs,
        group=needed.eq(True),
        hit=pd.Series(res.index.isin(list(holders)), index=res.index).astype(object),
        target=target,
        data_needed=_needs("辅具需求"),
    )
    if needed.isna().all():
        figure = Figure.missing(_needs("辅具需求"))
    elif not holders:
        figure = Figure.missing("请导入辅具发放名册：coverplan import devices 文件")
    return _row(
        12,
        "残疾人辅助器具适配率",
        BINDING,
        Definition(
            "有辅助器具适配需求的持证残疾人中已适配（辅具发放名册中有记录）的人数",
            "有辅助器具适配需求的持证残疾人数（名册「辅具需求」列）",
        ),
        target,
        figure,
    )


def retrofit(inputs: IndicatorInputs, config: Config) -> Indicator:
    """13 符合条件残疾人家庭无障碍改造率, counted per FAMILY.

    :func:`planner.domain.retrofit_rate.retrofit_family_rate`: families (户号, else
    the same house of one village, else a person alone) with a member meeting
    ``[indicators] retrofit_grades / retrofit_low_income / retrofit_categories``,
    retrofitted within ``retrofit_within_years`` (default ``[retrofit]
    repeat_after_years``) of the reference year.
    """
    target = Target.pct(config.indicators.retrofit_pct, "≥")
    res = inputs.residents
    # columns a register may lack count as not recorded (no 户号, not under review)
    defaults = {"needs_review": False, "household_id": None, "village_code": "-"}
    res = res.assign(**{c: v for c, v in defaults.items() if c not in res.columns})
    rate = retrofit_family_rate(res, config, year=inputs.today.year)
    figure = town_figure(
        inputs.towns,
        rate.by_town["retrofitted"],
        rate.by_town["eligible"],
        target=target,
        total=(rate.numerator, rate.denominator),
    )
    if figure.value is None:
        figure = Figure.missing(
            _needs("户号", "无障碍改造年份", values="户号与年份"),
            towns=figure.by_town,
        )
    numerator, denominator = retrofit_definition(config)
    return _row(
        13,
        "符合条件残疾人家庭无障碍改造率",
        BINDING,
        Definition(numerator, denominator),
        target,
        figure,
    )


def culture_sports(inputs: IndicatorInputs, config: Config) -> Indicator:
    """14 残疾人文体服务覆盖率: persons who received culture or sports services this year."""
    target = Target.pct(config.indicators.culture_sports_pct, "≥")
    return _row(
        14,
        "残疾人文体服务覆盖率",
        EXPECTED,
        Definition("本年获得文化体育服务的持证残疾人数", "名册登记了文体服务情况的持证残疾人数"),
        target,
        share(
            inputs,
            group=_everyone(inputs),
            hit=flag(inputs.residents, "culture_sports"),
            target=target,
            data_needed=_needs("文体服务"),
        ),
    )


def plan_rows() -> tuple[Row, ...]:
    """The plan's 14 rows, in its order."""
    return (
        income_growth,
        living_subsidy,
        care_subsidy,
        home,
        care_institution,
        child_rehab_institution,
        pension_insurance,
        medical_insurance,
        employment,
        high_school,
        basic_rehab,
        device_fitting,
        retrofit,
        culture_sports,
    )


def home_in_every_town(inputs: IndicatorInputs, config: Config) -> Indicator:
    """Policy: a 残疾人之家 in every town (Zhejiang)."""
    target = Target.pct(config.indicators.home_town_pct, "≥")
    reading = _home_towns(inputs, target)
    return Indicator(
        key="home_town",
        name="每个镇街至少一家残疾人之家",
        number=None,
        kind=POLICY,
        definition=reading.definition,
        target=target,
        figure=reading.figure,
        note="浙江省要求残疾人之家乡镇(街道)全覆盖",
    )


def accessible_communities(inputs: IndicatorInputs, config: Config) -> Indicator:
    """Policy: the provincial accessible communities the plan's text names."""
    ind = config.indicators
    target = Target.count(ind.accessible_community_count, "个")
    types = ind.accessible_community_types
    return Indicator(
        key="accessible_community",
        name="省级无障碍社区",
        number=None,
        kind=POLICY,
        definition=Definition(f"设施名册中的无障碍社区数（设施类型：{_labels(config, types)}）"),
        target=target,
        figure=facility_count(inputs, types=types, target=target),
        note="名册应只登记已获省级命名的无障碍社区",
    )


def family_doctor(inputs: IndicatorInputs, config: Config) -> Indicator:
    """Policy: 家庭医生签约率 ≥ ``[indicators] family_doctor_pct``."""
    target = Target.pct(config.indicators.family_doctor_pct, "≥")
    return Indicator(
        key="family_doctor",
        name="残疾人家庭医生签约率",
        number=None,
        kind=POLICY,
        definition=Definition(
            "签约家庭医生的持证残疾人数", "名册登记了家庭医生签约情况的持证残疾人数"
        ),
        target=target,
        figure=share(
            inputs,
            group=_everyone(inputs),
            hit=flag(inputs.residents, "family_doctor"),
            target=target,
            data_needed=_needs("家庭医生签约"),
        ),
    )


def policy_rows() -> tuple[Row, ...]:
    """The further policy checks, listed apart from the plan's table."""
    return (home_in_every_town, accessible_communities, family_doctor)
