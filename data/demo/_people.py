"""Synthetic people of the demo district: residents, assistive devices and leads.

Every person is made up: names are drawn from common surname and given-name
characters, ID numbers are generated to be valid under GB 11643 but belong to
nobody on purpose, and addresses and phones are random. The aggregate figures
are calibrated to the published 奉化 figures in the project's domain brief
(``shared/DOMAIN.md``; see the constants below).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import Point

from data.demo._geometry import Village, name_stem, to_lonlat, to_metric
from planner.ingest.idnumber import check_char

# ---------------------------------------------------------------- calibration
# DOMAIN.md: 14,662 persons in the 2024 survey of 奉化; the demo has this many valid rows.
VALID_PERSONS = 14_600
# DOMAIN.md: category mix of a neighbouring district's 8,723 certified persons (percent).
CATEGORY_SHARES: dict[str, float] = {
    "肢体残疾": 50.6,
    "听力残疾": 16.6,
    "精神残疾": 13.8,
    "视力残疾": 8.5,
    "智力残疾": 6.7,
    "多重残疾": 3.2,
    "言语残疾": 0.6,
}
CATEGORIES = tuple(CATEGORY_SHARES)
GRADES = ("一级", "二级", "三级", "四级")
# DOMAIN.md: aged 60+ = 68.4 % in the neighbouring district.
ELDERLY_SHARE = 0.68
ELDERLY_AGE = 60  # years
# DOMAIN.md: 6,950 receive the severe-disability care subsidy (grades 1–2 only).
CARE_SUBSIDY_PERSONS = 6_950
# DOMAIN.md: 3,497 receive the living subsidy for the poor (mostly 低保/低边).
LIVING_SUBSIDY_PERSONS = 3_497
LIVING_SUBSIDY_OUTSIDE_LOW_INCOME = 40  # about this many receive it without 低保/低边
LOW_INCOME_DIBAO_SHARE = 0.62  # of 低保/低边 households, the 低保 share
# Policy gaps: villages where eligible people are not reached.
GAP_VILLAGES = 8
GAP_MIN_RESIDENTS = 25
GAP_MISSING_SHARE = 0.6  # of the eligible in a gap village, the share without the subsidy
ELSEWHERE_MISSING_SHARE = 0.01  # elsewhere
BEDRIDDEN_SHARE = 0.03
WHEELCHAIR_USERS = 920
WHEELCHAIR_PHYSICAL_SEVERE_SHARE = 0.85
PSYCH_SUPERVISED_SHARE = 0.72  # of psychiatric persons, under supervised medication
STROKE_AFTERCARE = 650
STROKE_MIN_AGE = 45  # years
STROKE_PHYSICAL_SHARE = 0.88
# DOMAIN.md: about 420 people placed in the 13 work-therapy homes (2024).
WORKSHOP_PLACED = 420
SUPPORTED_EMPLOYMENT = 160
EMPLOYED_SHARE = 0.30  # of working-age persons not in a workshop
WORKING_AGE = (16, 59)  # years, inclusive
# DOMAIN.md: 150 home accessibility retrofits in 2020, 122 in 2024; other years similar.
RETROFITS_BY_YEAR: dict[int, int] = {
    2016: 96, 2017: 104, 2018: 118, 2019: 136, 2020: 150, 2021: 131,
    2022: 127, 2023: 119, 2024: 122, 2025: 115, 2026: 64,
}  # fmt: skip
REASSESS_DUE_SOON = 320  # re-assessment due within the next 365 days
REASSESS_OVERDUE = 45  # re-assessment date already passed (up to 180 days)
REASSESS_LATER = 2_600  # due in 1–5 years
VISIT_RECENT_SHARE = 0.86  # last home visit within 730 days
VISIT_OLD_SHARE = 0.08  # 731–1,800 days ago; the rest never visited (blank)
GAP_VISIT_RECENT_SHARE = 0.45
GAP_VISIT_OLD_SHARE = 0.30
# Families (户号): every valid person has one; HOUSEHOLDS_OF_TWO pairs of persons of
# one village share a 户号 and a house (families with two disabled members), and
# ADDRESS_ONLY_PAIRS of those pairs have no 户号, only the shared house. Chosen by
# a hash of the ID numbers, drawing nothing from the seeded stream.
HOUSEHOLDS_OF_TWO = 300
ADDRESS_ONLY_PAIRS = 20
HOUSEHOLD_SERIAL_DIGITS = 4  # 户号 = village code + serial
HOUSEHOLD_GPS_SHARE = 0.15
FLAG_BLANK_SHARE = 0.01  # 独居/老养残/长期卧床/使用轮椅 left blank
OFFICIAL_NAME_SHARE = 0.04  # rows that write the official village name (…村委会)
ALIAS_ROWS = 20  # rows that write a village's pre-merger alias (see villages.geojson 别名)
MIN_PER_VILLAGE = 4
# DOMAIN.md: 992 assistive-device fittings a year; about this many devices fall due.
DEVICES_DUE = 1_000
DEVICE_HISTORY_YEARS = 10
DEVICE_LIFE_YEARS: dict[str, int] = {
    "轮椅": 5, "护理床": 8, "坐便椅": 5, "助行器": 5, "拐杖": 3, "假肢": 4,
    "助听器": 5, "盲杖": 3, "助视器": 5,
}  # fmt: skip
LEADS = 150
LEADS_WITH_ID = 75

# Deliberately bad rows of residents.csv, by kind. All but the two "valid_*" kinds
# are extra rows that an importer must reject (or, for an unknown village, flag);
# legacy_15_digit and lowercase_x are rows of valid persons whose ID is written
# the old way, which an importer must accept and normalise.
BAD_ROWS: dict[str, int] = {
    "bad_check_digit": 5,
    "impossible_birth_date": 4,
    "blank_id": 3,
    "unknown_village": 4,
    "unknown_category": 3,
    "unknown_grade": 3,
    "legacy_15_digit": 2,
    "lowercase_x": 2,
}
VALID_BAD_KINDS = ("legacy_15_digit", "lowercase_x")
UNKNOWN_CATEGORY = "其他"
UNKNOWN_GRADE = "五级"
UNKNOWN_VILLAGE_STEMS = ("跃进", "红星", "解放", "幸福", "向阳", "胜利", "光辉", "丰收")

REGION_OLD = "330283"  # 奉化市, before the 2016 change to a district
REGION_NEW = "330213"  # 奉化区
REGION_CHANGE_YEAR = 2017  # people born from this year on carry REGION_NEW
ADDRESS_PREFIX = "浙江省宁波市奉化区"

RESIDENTS_TITLE = "奉化区持证残疾人名册（合成演示数据，非真实个人信息）"
RESIDENTS_HEADER = [
    "姓名", "性别", "公民身份号码", "出生日期", "残疾类别", "残疾等级", "乡镇（街道）",
    "村（社区）", "现住址", "户号", "联系电话", "困难残疾人生活补贴", "重度残疾人护理补贴",
    "低保低边", "独居", "老养残", "长期卧床", "使用轮椅", "精神病服药监护", "脑卒中康复",
    "就业情况", "无障碍改造年份", "复评到期日期", "最近入户走访日期", "经度", "纬度",
]  # fmt: skip
DEVICES_HEADER = ["公民身份号码", "辅具名称", "发放日期", "使用年限", "数据说明"]
LEADS_HEADER = [
    "姓名", "性别", "公民身份号码", "乡镇（街道）", "村（社区）", "现住址", "联系电话",
    "疑似残疾类别", "线索来源", "发现日期", "备注",
]  # fmt: skip
SYNTHETIC_NOTE = "合成演示数据"

LEAD_SOURCES = {"卫健转介": 0.35, "村社排查": 0.3, "医院转介": 0.2, "民政比对": 0.15}
LEAD_NOTES = (
    "家属反映行动不便，尚未办证",
    "疑似孤独症，建议评估",
    "长期服药，家属不知可办证",
    "听力下降多年，未做鉴定",
    "脑卒中后遗症，行走困难",
    "视力明显下降，独居",
    "智力发育迟缓，在校就读",
    "",
)

SURNAMES: dict[str, int] = {
    "王": 8, "陈": 7, "张": 5, "周": 4, "李": 3, "应": 3, "蒋": 3, "毛": 3, "林": 3, "胡": 3,
    "徐": 3, "吴": 3, "邬": 2, "俞": 2, "竺": 2, "孙": 2, "董": 2, "杨": 2, "江": 2, "袁": 2,
    "沈": 2, "汪": 2, "方": 2, "朱": 2, "黄": 2, "郑": 2, "裘": 1, "邵": 1, "何": 1, "柴": 1,
    "任": 1, "葛": 1, "楼": 1, "单": 1, "严": 1, "卓": 1, "舒": 1, "康": 1, "夏": 1, "谢": 1,
}  # fmt: skip
GIVEN_OLD = {
    "男": ("国建金根福德志信其永文宝祥阿海明成兴有长", "良根明国昌兴法康林祥财生华堂龙宝荣富发庆"),
    "女": ("秀月彩素美雪菊杏阿玲桂爱凤翠金银芝兰巧亚", "英娥娣娟芬珍萍凤花仙妹琴素兰香宝云芳飞娟"),
}
GIVEN_YOUNG = {
    "男": ("子梓浩宇俊一家嘉晨佳志文", "杰浩磊斌伟强军涛鹏超宇轩豪晨阳俊凯睿泽铭"),
    "女": ("子梓欣佳诗雨梦思一嘉晓文", "婷颖静丽敏燕洁琳雯倩欣怡涵悦诗雨萱彤琪梦"),
}
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "155", "157", "158", "159", "177", "180", "181", "183", "186", "187", "188", "189", "199",
)  # fmt: skip
COMMUNITY_STREETS = ("中山路", "南山路", "长春路", "惠政路", "大成路", "岳林路", "东环路", "金钟路")
TOWN_STREET_SUFFIXES = ("中路", "东路", "西路", "南路", "北路", "大道")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class Roster:
    """The valid persons as arrays, in file order (without the bad rows)."""

    ids: list[str]
    village: NDArray[np.int64]  # index into the village list
    category: NDArray[np.int64]  # index into CATEGORIES
    grade: NDArray[np.int64]  # 1–4
    age: NDArray[np.int64]  # years at ``today``
    wheelchair: NDArray[np.bool_]
    bedridden: NDArray[np.bool_]
    gap_villages: list[str]  # codes
    taken_ids: set[str]  # every ID number in residents.csv, valid or not


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _exact_counts(shares: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    rest = total - int(counts.sum())
    order = np.lexsort((np.arange(len(raw)), -(raw - counts)))
    counts[order[:rest]] += 1
    return counts


def _pick(rng: np.random.Generator, weights: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """``count`` distinct indexes drawn with probability proportional to ``weights``."""
    count = min(count, int(np.count_nonzero(weights > 0)))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    p = weights / weights.sum()
    return np.sort(rng.choice(len(weights), size=count, replace=False, p=p)).astype(np.int64)


def _mask(n: int, idx: NDArray[np.int64]) -> NDArray[np.bool_]:
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


class _Ids:
    """Unique, valid ID numbers."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, birth: date, male: bool, rng: np.random.Generator, region: str = "") -> str:
        if not region:
            region = REGION_NEW if birth.year >= REGION_CHANGE_YEAR else REGION_OLD
        while True:
            last = 2 * int(rng.integers(0, 5)) + (1 if male else 0)  # odd for men
            seq = int(rng.integers(0, 100)) * 10 + last
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + check_char(first17)
            if number not in self.used:
                self.used.add(number)
                return number


def _birth(today: date, age: int, rng: np.random.Generator) -> date:
    """A birth date giving exactly ``age`` whole years at ``today``."""
    latest = add_years(today, -age)
    earliest = add_years(today, -age - 1) + timedelta(days=1)
    return earliest + timedelta(days=int(rng.integers(0, (latest - earliest).days + 1)))


def _name(sex: str, birth_year: int, rng: np.random.Generator) -> str:
    surnames = list(SURNAMES)
    w = np.array(list(SURNAMES.values()), dtype=np.float64)
    surname = surnames[int(rng.choice(len(surnames), p=w / w.sum()))]
    first, second = (GIVEN_OLD if birth_year < 1975 else GIVEN_YOUNG)[sex]
    if birth_year >= 1975 and rng.random() < 0.35:
        return surname + second[int(rng.integers(len(second)))]
    return surname + first[int(rng.integers(len(first)))] + second[int(rng.integers(len(second)))]


def _phone(rng: np.random.Generator) -> str:
    r = rng.random()
    number = str(rng.choice(MOBILE_PREFIXES)) + f"{int(rng.integers(0, 10**8)):08d}"
    if r < 0.015:
        return ""
    if r < 0.025:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if r < 0.03:
        return number.translate(FULL_WIDTH)
    return number


def _address(v: Village, written: str, rng: np.random.Generator) -> str:
    head = f"{ADDRESS_PREFIX}{v.town}{written}"
    n = int(rng.integers(1, 300))
    if v.kind == "community":
        if v.urban:
            street = COMMUNITY_STREETS[int(rng.integers(len(COMMUNITY_STREETS)))]
        else:
            stem = v.town.removesuffix("街道").removesuffix("镇")
            street = stem + TOWN_STREET_SUFFIXES[int(rng.integers(len(TOWN_STREET_SUFFIXES)))]
        if rng.random() < 0.6:
            block, floor, flat = (int(rng.integers(a, b)) for a, b in ((1, 30), (1, 7), (1, 4)))
            return f"{head}{street}{n}号{block}幢{floor}0{flat}室"
        return f"{head}{street}{n}号"
    r = rng.random()
    if r < 0.5:
        return f"{head}{n}号"
    if r < 0.75:
        return f"{head}{int(rng.integers(1, 12))}组{n}号"
    return (
        f"{head}{name_stem(written)}{('中路', '东路', '前街', '后街')[int(rng.integers(4))]}{n}号"
    )


def _point_in(v: Village, rng: np.random.Generator) -> tuple[str, str]:
    """A household GPS point (degrees, 6 decimals) inside the village polygon."""
    inner = v.polygon.buffer(-2e-5)
    if inner.is_empty:
        inner = v.polygon
    centre = to_metric(np.array([[v.lon, v.lat]]))[0]
    sigma = 500.0 if v.hilly else 300.0
    for _ in range(50):
        p = to_lonlat((centre + rng.normal(0.0, sigma, 2))[None, :])[0]
        lon, lat = round(float(p[0]), 6), round(float(p[1]), 6)
        if inner.contains(Point(lon, lat)):
            return f"{lon:.6f}", f"{lat:.6f}"
    return f"{v.lon:.6f}", f"{v.lat:.6f}"


def _fmt(day: date | None) -> str:
    return "" if day is None else day.isoformat()


def _flag(value: bool) -> str:
    return "是" if value else "否"


def _allocate(villages: list[Village], total: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Residents per village: at least MIN_PER_VILLAGE, the rest by synthetic population."""
    weight = np.array(
        [v.population * (1.0 if v.kind == "community" else 1.3) for v in villages], dtype=np.float64
    )
    weight *= rng.uniform(0.85, 1.15, len(villages))
    return _exact_counts(weight, total - MIN_PER_VILLAGE * len(villages)) + MIN_PER_VILLAGE


def _gap_villages(
    villages: list[Village], counts: NDArray[np.int64], rng: np.random.Generator
) -> list[int]:
    """One village in each of GAP_VILLAGES towns with enough residents (indexes)."""
    towns: list[str] = []
    for v in villages:
        if v.town not in towns:
            towns.append(v.town)
    chosen: list[int] = []
    for t in rng.permutation(len(towns)).tolist():
        cands = [
            i
            for i, v in enumerate(villages)
            if v.town == towns[t] and v.kind == "village" and counts[i] >= GAP_MIN_RESIDENTS
        ]
        if cands:
            chosen.append(cands[int(rng.integers(len(cands)))])
        if len(chosen) == GAP_VILLAGES:
            break
    return sorted(chosen)


def make_residents(
    villages: list[Village], today: date, rng: np.random.Generator
) -> tuple[list[list[str]], Roster]:
    """Residents rows (header order, bad rows included) and the roster of valid persons."""
    n = VALID_PERSONS
    counts = _allocate(villages, n, rng)
    village = np.repeat(np.arange(len(villages)), counts)
    gaps = _gap_villages(villages, counts, rng)
    in_gap = np.isin(village, gaps)

    shares = np.array(list(CATEGORY_SHARES.values()))
    category = rng.permutation(np.repeat(np.arange(len(CATEGORIES)), _exact_counts(shares, n)))
    cat = np.array(CATEGORIES)[category]
    physical = cat == "肢体残疾"
    psych = cat == "精神残疾"
    intel = cat == "智力残疾"
    multi = cat == "多重残疾"

    # Ages: exactly ELDERLY_SHARE aged 60+, hearing and vision loss mostly in old age.
    old_weight = {"肢体残疾": 2.2, "听力残疾": 4.0, "视力残疾": 2.5, "言语残疾": 1.0,
                  "智力残疾": 0.25, "精神残疾": 0.7, "多重残疾": 1.5}  # fmt: skip
    old = _mask(n, _pick(rng, np.array([old_weight[c] for c in cat]), round(ELDERLY_SHARE * n)))
    child_p = {"智力残疾": 0.2, "言语残疾": 0.3, "多重残疾": 0.12, "听力残疾": 0.06}
    age = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if old[i]:
            age[i] = ELDERLY_AGE + min(int(rng.gamma(2.2, 6.5)), 39)
        elif rng.random() < child_p.get(cat[i], 0.03):
            age[i] = int(rng.integers(2, 18))
        else:
            age[i] = int(rng.triangular(18, 59, 59.99))

    # Grades: the severe share is set so that CARE_SUBSIDY_PERSONS receive the subsidy.
    sev_weight = {"肢体残疾": 1.0, "听力残疾": 0.9, "视力残疾": 1.3, "言语残疾": 0.8,
                  "智力残疾": 1.1, "精神残疾": 1.6, "多重残疾": 2.5}  # fmt: skip
    w = np.array([sev_weight[c] for c in cat])
    gap_frac = float(w[in_gap].sum() / w.sum())
    severe_n = float(CARE_SUBSIDY_PERSONS)
    for _ in range(20):
        gap_sev = severe_n * gap_frac
        severe_n = (
            CARE_SUBSIDY_PERSONS
            + GAP_MISSING_SHARE * gap_sev
            + ELSEWHERE_MISSING_SHARE * (severe_n - gap_sev)
        )
    severe = _mask(n, _pick(rng, w, round(severe_n)))
    grade = np.where(
        severe,
        np.where(rng.random(n) < np.where(multi, 0.6, 0.38), 1, 2),
        np.where(rng.random(n) < 0.45, 3, 4),
    ).astype(np.int64)

    care = severe.copy()
    gap_sev_idx = np.flatnonzero(severe & in_gap)
    miss_gap = rng.choice(
        gap_sev_idx, size=round(GAP_MISSING_SHARE * len(gap_sev_idx)), replace=False
    )
    care[miss_gap] = False
    else_idx = np.flatnonzero(severe & ~in_gap)
    miss_else_n = int(np.clip(int(care.sum()) - CARE_SUBSIDY_PERSONS, 0, len(else_idx)))
    care[rng.choice(else_idx, size=miss_else_n, replace=False)] = False

    # Household details.
    alone = rng.random(n) < np.where(old, 0.10, np.where(age >= 18, 0.03, 0.0))
    carer_p = np.where((age >= 18) & ~old & (intel | psych | multi) & severe, 0.35, 0.0)
    elder_carer = rng.random(n) < np.where((age >= 18) & ~old, np.maximum(carer_p, 0.02), 0.0)
    hilly = np.array([villages[k].hilly for k in village])

    # 低保/低边 and the living subsidy, with gaps in the gap villages.
    low_w = np.where(severe, 2.0, 1.0) * np.where(alone, 1.5, 1.0)
    low_w *= np.where(intel | psych, 1.3, 1.0) * np.where(hilly, 1.3, 1.0)
    gap_low = float(low_w[in_gap].sum() / low_w.sum())
    base = LIVING_SUBSIDY_PERSONS - LIVING_SUBSIDY_OUTSIDE_LOW_INCOME
    low_n = float(base)
    for _ in range(20):
        missing = GAP_MISSING_SHARE * LOW_INCOME_DIBAO_SHARE * low_n * gap_low
        low_n = base + missing + ELSEWHERE_MISSING_SHARE * low_n * (1 - gap_low)
    low_idx = _pick(rng, low_w, round(low_n))
    dibao = np.zeros(n, dtype=bool)
    dibian = np.zeros(n, dtype=bool)
    is_dibao = rng.random(len(low_idx)) < LOW_INCOME_DIBAO_SHARE
    dibao[low_idx[is_dibao]] = True
    dibian[low_idx[~is_dibao]] = True
    living = dibao | dibian
    gap_dibao = np.flatnonzero(dibao & in_gap)
    living[rng.choice(gap_dibao, size=round(GAP_MISSING_SHARE * len(gap_dibao)), replace=False)] = (
        False
    )
    else_low = np.flatnonzero((dibao | dibian) & ~in_gap)
    miss_n = round(ELSEWHERE_MISSING_SHARE * len(else_low))
    others = LIVING_SUBSIDY_PERSONS - (int(living.sum()) - miss_n)
    if others < 0:
        miss_n, others = miss_n - others, 0
    living[rng.choice(else_low, size=min(miss_n, len(else_low)), replace=False)] = False
    outside = np.flatnonzero(~(dibao | dibian) & ~in_gap)
    living[_pick_from(rng, outside, np.where(severe[outside], 3.0, 1.0), others)] = True

    # Care needs.
    bed_w = np.select([grade == 1, grade == 2], [6.0, 2.5], 0.3)
    bed_w = bed_w * np.where(physical | multi, 3.0, 0.6) * np.where(old, 2.5, 1.0)
    bedridden = _mask(n, _pick(rng, bed_w, round(BEDRIDDEN_SHARE * n)))
    chair_core = round(WHEELCHAIR_PHYSICAL_SEVERE_SHARE * WHEELCHAIR_USERS)
    core_w = np.where(physical & severe, 1.0, 0.0) * np.where(old, 1.5, 1.0)
    core_w *= np.where(bedridden, 2.0, 1.0)
    wheelchair = _mask(n, _pick(rng, core_w, chair_core))
    rest_w = np.where(multi & severe, 3.0, np.where(physical & (grade == 3), 1.0, 0.0))
    rest_w = np.where(wheelchair, 0.0, rest_w)
    wheelchair[_pick(rng, rest_w, WHEELCHAIR_USERS - chair_core)] = True
    psych_idx = np.flatnonzero(psych)
    supervised = np.zeros(n, dtype=bool)
    supervised[
        rng.choice(psych_idx, size=round(PSYCH_SUPERVISED_SHARE * len(psych_idx)), replace=False)
    ] = True
    stroke_phys = round(STROKE_PHYSICAL_SHARE * STROKE_AFTERCARE)
    aged45 = age >= STROKE_MIN_AGE
    stroke = _mask(
        n, _pick(rng, np.where(physical & aged45, np.where(old, 2.0, 1.0), 0.0), stroke_phys)
    )
    stroke_rest_w = np.where((multi | (cat == "言语残疾")) & aged45 & ~stroke, 1.0, 0.0)
    stroke[_pick(rng, stroke_rest_w, STROKE_AFTERCARE - stroke_phys)] = True

    # Work: workshops (工疗) take working-age intellectual/psychiatric persons, mostly mild.
    working = (age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1])
    shop_w = np.where(
        working & (intel | psych), np.where(severe, 1.0, 5.0), np.where(working, 0.05, 0.0)
    )
    workshop = _mask(n, _pick(rng, shop_w, WORKSHOP_PLACED))
    supp_w = np.where(working & ~workshop, np.where(intel | psych | multi, 3.0, 0.5), 0.0)
    supported = _mask(n, _pick(rng, supp_w, SUPPORTED_EMPLOYMENT))
    emp_p = EMPLOYED_SHARE * np.where(severe, 0.6, 1.4)
    employed = working & ~workshop & ~supported & (rng.random(n) < emp_p)

    # Home accessibility retrofits by year.
    retro_year = np.zeros(n, dtype=np.int64)
    retro_w = np.where(physical | (cat == "视力残疾") | multi, 1.0, 0.15) * np.where(
        severe, 2.0, 0.7
    )
    retro_w = retro_w * np.where(old, 1.5, 1.0) * np.where(wheelchair, 4.0, 1.0)
    years = [y for y in RETROFITS_BY_YEAR if y <= today.year]
    retro_idx = _pick(rng, retro_w, sum(RETROFITS_BY_YEAR[y] for y in years))
    retro_idx = rng.permutation(retro_idx)
    start = 0
    for y in years:
        retro_year[retro_idx[start : start + RETROFITS_BY_YEAR[y]]] = y
        start += RETROFITS_BY_YEAR[y]

    # Re-assessment dates: children and psychiatric/intellectual persons more often.
    re_w = np.where(age < 18, 4.0, 1.0) * np.where(psych, 3.0, np.where(intel, 2.0, 1.0))
    re_idx = rng.permutation(
        _pick(rng, re_w, REASSESS_DUE_SOON + REASSESS_OVERDUE + REASSESS_LATER)
    )
    reassess: list[date | None] = [None] * n
    for k, i in enumerate(re_idx.tolist()):
        if k < REASSESS_DUE_SOON:
            offset = int(rng.integers(1, 366))
        elif k < REASSESS_DUE_SOON + REASSESS_OVERDUE:
            offset = -int(rng.integers(1, 181))
        else:
            offset = int(rng.integers(366, 5 * 365))
        reassess[i] = today + timedelta(days=offset)

    # Home visits: overdue or never visited more often in the gap villages.
    r = rng.random(n)
    recent = np.where(in_gap, GAP_VISIT_RECENT_SHARE, VISIT_RECENT_SHARE)
    older = recent + np.where(in_gap, GAP_VISIT_OLD_SHARE, VISIT_OLD_SHARE)
    visits: list[date | None] = []
    for i in range(n):
        if r[i] < recent[i]:
            visits.append(today - timedelta(days=int(rng.integers(0, 731))))
        elif r[i] < older[i]:
            visits.append(today - timedelta(days=int(rng.integers(731, 1801))))
        else:
            visits.append(None)
    gps = _mask(n, rng.choice(n, size=round(HOUSEHOLD_GPS_SHARE * n), replace=False))

    # People: sex, birth, ID, name; rows in village order, shuffled within each village.
    ids = _Ids()
    male = rng.random(n) < 0.52
    births = [_birth(today, int(age[i]), rng) for i in range(n)]
    numbers = [ids.new(births[i], bool(male[i]), rng) for i in range(n)]
    order = np.lexsort((rng.random(n), village))
    alias_rows = _alias_rows(villages, village, rng)
    rows: list[list[str]] = []
    for i in order.tolist():
        v = villages[village[i]]
        written = v.written
        if i in alias_rows:
            written = v.alias
        elif rng.random() < OFFICIAL_NAME_SHARE:
            written = v.name
        sex = "男" if male[i] else "女"
        lon, lat = _point_in(v, rng) if gps[i] else ("", "")
        blank = rng.random(4) < FLAG_BLANK_SHARE
        emp = ""
        if working[i]:
            emp = (
                "工疗"
                if workshop[i]
                else "辅助性就业"
                if supported[i]
                else "就业"
                if employed[i]
                else "未就业"
            )
        rows.append(
            [
                _name(sex, births[i].year, rng),
                sex,
                numbers[i],
                births[i].isoformat(),
                cat[i],
                GRADES[grade[i] - 1],
                v.town,
                written,
                _address(v, written, rng),
                "",  # 户号: _households
                _phone(rng),
                _flag(living[i]),
                _flag(care[i]),
                "低保" if dibao[i] else "低边" if dibian[i] else "",
                "" if blank[0] else _flag(alone[i]),
                "" if blank[1] else _flag(elder_carer[i]),
                "" if blank[2] else _flag(bedridden[i]),
                "" if blank[3] else _flag(wheelchair[i]),
                _flag(supervised[i]),
                _flag(stroke[i]),
                emp,
                str(retro_year[i]) if retro_year[i] else "",
                _fmt(reassess[i]),
                _fmt(visits[i]),
                lon,
                lat,
            ]
        )
    roster = Roster(
        ids=[numbers[i] for i in order.tolist()],
        village=village[order],
        category=category[order],
        grade=grade[order],
        age=age[order],
        wheelchair=wheelchair[order],
        bedridden=bedridden[order],
        gap_villages=[villages[g].code for g in gaps],
        taken_ids=ids.used,
    )
    _households(rows, [villages[k].code for k in village[order]])
    _write_quirks(rows, rng)
    rows = _insert_bad_rows(rows, villages, ids, today, rng)
    return rows, roster


def _pair_order(a: str, b: str) -> str:
    return hashlib.sha256(f"{a}|{b}".encode()).hexdigest()


def _households(rows: list[list[str]], codes: list[str]) -> None:
    """Give each valid person (rows in village order) a 户号; pair HOUSEHOLDS_OF_TWO.

    Candidate pairs are neighbours in the file within one village (the order within
    a village is random) who write the village alike; the pairs taken are those
    with the smallest hash of their ID numbers, none overlapping. The second member
    moves to the first's house; the first ADDRESS_ONLY_PAIRS pairs (by that hash)
    keep no 户号, only the house.
    """
    col = {name: k for k, name in enumerate(RESIDENTS_HEADER)}
    id_col, addr, hh, written = col["公民身份号码"], col["现住址"], col["户号"], col["村（社区）"]
    slots = [
        k
        for k in range(len(rows) - 1)
        if codes[k] == codes[k + 1] and rows[k][written] == rows[k + 1][written]
    ]
    slots.sort(key=lambda k: _pair_order(rows[k][id_col], rows[k + 1][id_col]))
    pairs: list[int] = []
    taken: set[int] = set()
    for k in slots:
        if len(pairs) == HOUSEHOLDS_OF_TWO:
            break
        if k not in taken and k + 1 not in taken:
            pairs.append(k)
            taken |= {k, k + 1}
    partner = {k + 1: k for k in pairs}
    serial: dict[str, int] = {}
    for k, code in enumerate(codes):
        if k in partner:
            rows[k][hh] = rows[partner[k]][hh]
            rows[k][addr] = rows[partner[k]][addr]
            continue
        serial[code] = serial.get(code, 0) + 1
        rows[k][hh] = f"{code}{serial[code]:0{HOUSEHOLD_SERIAL_DIGITS}d}"
    for k in pairs[:ADDRESS_ONLY_PAIRS]:
        rows[k][hh] = rows[k + 1][hh] = ""


def _pick_from(
    rng: np.random.Generator, pool: NDArray[np.int64], weights: NDArray[np.float64], count: int
) -> NDArray[np.int64]:
    return pool[_pick(rng, weights.astype(np.float64), count)]


def _alias_rows(
    villages: list[Village], village: NDArray[np.int64], rng: np.random.Generator
) -> set[int]:
    """Exactly ALIAS_ROWS persons of the alias villages, who write the alias name."""
    with_alias = [k for k, v in enumerate(villages) if v.alias]
    pool = np.flatnonzero(np.isin(village, with_alias))
    return set(np.sort(rng.choice(pool, size=ALIAS_ROWS, replace=False)).tolist())


def _write_quirks(rows: list[list[str]], rng: np.random.Generator) -> None:
    """Write a few valid IDs the old way: 15 digits, lowercase ``x``."""
    col = RESIDENTS_HEADER.index("公民身份号码")
    legacy = [k for k, r in enumerate(rows) if r[col][6:8] == "19" and r[col][-1] != "X"]
    for k in np.sort(rng.choice(legacy, size=BAD_ROWS["legacy_15_digit"], replace=False)).tolist():
        number = rows[k][col]
        rows[k][col] = number[:6] + number[8:17]
    ends_x = [k for k, r in enumerate(rows) if r[col].endswith("X")]
    for k in np.sort(rng.choice(ends_x, size=BAD_ROWS["lowercase_x"], replace=False)).tolist():
        rows[k][col] = rows[k][col][:-1] + "x"


def _insert_bad_rows(
    rows: list[list[str]],
    villages: list[Village],
    ids: _Ids,
    today: date,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Insert the rejected kinds of BAD_ROWS at spread-out random positions."""
    col = {name: k for k, name in enumerate(RESIDENTS_HEADER)}
    aliases = [v.alias for v in villages if v.alias]
    sources = [k for k, r in enumerate(rows) if r[col["村（社区）"]] not in aliases]
    bad: list[list[str]] = []
    for kind, count in BAD_ROWS.items():
        if kind in VALID_BAD_KINDS:
            continue
        for _ in range(count):
            row = list(rows[int(rng.choice(sources))])
            birth = date.fromisoformat(row[col["出生日期"]])
            male = row[col["性别"]] == "男"
            row[col["姓名"]] = _name(row[col["性别"]], birth.year, rng)
            number = ids.new(birth, male, rng)
            if kind == "bad_check_digit":
                wrong = [c for c in "0123456789X" if c != number[-1]]
                number = number[:-1] + wrong[int(rng.integers(len(wrong)))]
            elif kind == "impossible_birth_date":
                first17 = number[:10] + "13" + number[12:17]
                number = first17 + check_char(first17)
            elif kind == "blank_id":
                number = ""
            elif kind == "unknown_village":
                town = row[col["乡镇（街道）"]]
                fake = _unknown_village(town, villages, rng)
                old = row[col["村（社区）"]]
                row[col["村（社区）"]] = fake
                row[col["现住址"]] = row[col["现住址"]].replace(f"{town}{old}", f"{town}{fake}", 1)
            elif kind == "unknown_category":
                row[col["残疾类别"]] = UNKNOWN_CATEGORY
            elif kind == "unknown_grade":
                row[col["残疾等级"]] = UNKNOWN_GRADE
            row[col["公民身份号码"]] = number
            row[col["户号"]] = ""  # not the family of the row it was copied from
            bad.append(row)
    bad = [bad[k] for k in rng.permutation(len(bad)).tolist()]
    margin = len(rows) // 50
    spots = np.sort(rng.choice(np.arange(margin, len(rows) - margin), size=len(bad), replace=False))
    out: list[list[str]] = []
    prev = 0
    for spot, row in zip(spots.tolist(), bad, strict=True):
        out.extend(rows[prev:spot])
        out.append(row)
        prev = spot
    out.extend(rows[prev:])
    return out


def _unknown_village(town: str, villages: list[Village], rng: np.random.Generator) -> str:
    """A village name that shares no character with any name or alias in ``town``."""
    chars = "".join(v.name + v.alias for v in villages if v.town == town)
    stems = [s for s in UNKNOWN_VILLAGE_STEMS if not any(c in chars for c in s)]
    return stems[int(rng.integers(len(stems)))] + "村"


def make_devices(roster: Roster, today: date, rng: np.random.Generator) -> list[list[str]]:
    """Device issue rows; exactly DEVICES_DUE current devices fall due within a year."""
    n = len(roster.ids)
    cat = np.array(CATEGORIES)[roster.category]
    physical = cat == "肢体残疾"
    severe = roster.grade <= 2
    old = roster.age >= ELDERLY_AGE
    walker = physical & ~roster.wheelchair
    holders: list[tuple[int, str]] = []
    rules: list[tuple[str, NDArray[np.bool_], float]] = [
        ("轮椅", roster.wheelchair, 1.0),
        ("护理床", roster.bedridden, 0.35),
        ("坐便椅", physical & severe & old, 0.12),
        ("助行器", walker & old, 0.09),
        ("拐杖", walker, 0.07),
        ("假肢", walker & (roster.grade >= 2) & (roster.age >= 18), 0.025),
        ("助听器", (cat == "听力残疾") | ((cat == "多重残疾") & (rng.random(n) < 0.2)), 0.5),
        ("盲杖", (cat == "视力残疾") & severe, 0.35),
        ("助视器", (cat == "视力残疾") & ~severe, 0.35),
    ]
    for device, eligible, share in rules:
        take = eligible & (rng.random(n) < share)
        holders.extend((int(i), device) for i in np.flatnonzero(take))
    due = _mask(len(holders), rng.choice(len(holders), size=DEVICES_DUE, replace=False))
    earliest = add_years(today, -DEVICE_HISTORY_YEARS)
    horizon = today + timedelta(days=365)
    rows: list[tuple[date, str, str, int]] = []
    for (i, device), is_due in zip(holders, due.tolist(), strict=True):
        life = DEVICE_LIFE_YEARS[device]
        cutoff = add_years(horizon, -life)  # issued on or before this day → due
        if is_due:
            lo, hi = earliest, cutoff
        else:
            lo, hi = cutoff + timedelta(days=1), today
        issued = lo + timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
        rows.append((issued, roster.ids[i], device, life))
        # Earlier devices of the same kind, since replaced.
        prev = issued
        while rng.random() < 0.55:
            prev = add_years(prev, -life) - timedelta(days=int(rng.integers(0, 541)))
            if prev < earliest:
                break
            rows.append((prev, roster.ids[i], device, life))
    rows.sort()
    return [
        [pid, device, d.isoformat(), str(life), SYNTHETIC_NOTE] for d, pid, device, life in rows
    ]


def make_leads(
    villages: list[Village],
    roster: Roster,
    today: date,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Suspected unregistered persons (线索), half of them with an ID number."""
    gap = set(roster.gap_villages)
    weight = np.array([v.population * (3.0 if v.code in gap else 1.0) for v in villages])
    which = rng.choice(len(villages), size=LEADS, p=weight / weight.sum())
    with_id = _mask(LEADS, rng.choice(LEADS, size=LEADS_WITH_ID, replace=False))
    cat_w = {"肢体残疾": 35, "精神残疾": 20, "智力残疾": 12, "听力残疾": 15, "视力残疾": 10,
             "言语残疾": 3, "多重残疾": 5}  # fmt: skip
    cats = list(cat_w)
    cw = np.array(list(cat_w.values()), dtype=np.float64)
    sources = list(LEAD_SOURCES)
    sw = np.array(list(LEAD_SOURCES.values()))
    ids = _Ids()
    ids.used = set(roster.taken_ids)
    rows: list[list[str]] = []
    for k in range(LEADS):
        v = villages[int(which[k])]
        male = rng.random() < 0.5
        sex = "男" if male else "女"
        birth = _birth(today, int(rng.integers(3, 90)), rng)
        number = ids.new(birth, male, rng) if with_id[k] else ""
        note = LEAD_NOTES[int(rng.integers(len(LEAD_NOTES)))]
        rows.append(
            [
                _name(sex, birth.year, rng),
                sex,
                number,
                v.town,
                v.written,
                _address(v, v.written, rng),
                _phone(rng),
                cats[int(rng.choice(len(cats), p=cw / cw.sum()))],
                sources[int(rng.choice(len(sources), p=sw / sw.sum()))],
                (today - timedelta(days=int(rng.integers(0, 366)))).isoformat(),
                f"{note}（{SYNTHETIC_NOTE}）" if note else f"（{SYNTHETIC_NOTE}）",
            ]
        )
    return rows
