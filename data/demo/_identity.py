"""Who a made-up person is on paper: name, ID number, birth date, phone, address, GPS.

ID numbers are valid under GB 11643 (region 330283 for those born before 2017,
330213 after; sex from the 17th digit) but belong to nobody on purpose.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from shapely.geometry import Point

from data.demo._geometry import Village, name_stem, to_lonlat, to_metric
from data.demo._sampling import add_years
from planner.ingest.idnumber import check_char

REGION_OLD = "330283"  # 奉化市, before the 2016 change to a district
REGION_NEW = "330213"  # 奉化区
REGION_CHANGE_YEAR = 2017  # people born from this year on carry REGION_NEW
ADDRESS_PREFIX = "浙江省宁波市奉化区"

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


class IdNumbers:
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


def birth_date(today: date, age: int, rng: np.random.Generator) -> date:
    """A birth date giving exactly ``age`` whole years at ``today``."""
    latest = add_years(today, -age)
    earliest = add_years(today, -age - 1) + timedelta(days=1)
    return earliest + timedelta(days=int(rng.integers(0, (latest - earliest).days + 1)))


def person_name(sex: str, birth_year: int, rng: np.random.Generator) -> str:
    """A common Chinese name for the sex and generation (born before 1975: older names)."""
    surnames = list(SURNAMES)
    w = np.array(list(SURNAMES.values()), dtype=np.float64)
    surname = surnames[int(rng.choice(len(surnames), p=w / w.sum()))]
    first, second = (GIVEN_OLD if birth_year < 1975 else GIVEN_YOUNG)[sex]
    if birth_year >= 1975 and rng.random() < 0.35:
        return surname + second[int(rng.integers(len(second)))]
    return surname + first[int(rng.integers(len(first)))] + second[int(rng.integers(len(second)))]


def phone_number(rng: np.random.Generator) -> str:
    """A mobile number; a few blank, spaced or in full-width digits."""
    r = rng.random()
    number = str(rng.choice(MOBILE_PREFIXES)) + f"{int(rng.integers(0, 10**8)):08d}"
    if r < 0.015:
        return ""
    if r < 0.025:
        return f"{number[:3]} {number[3:7]} {number[7:]}"
    if r < 0.03:
        return number.translate(FULL_WIDTH)
    return number


def home_address(v: Village, written: str, rng: np.random.Generator) -> str:
    """A 现住址 in ``v``, with the village written as ``written``."""
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


def household_point(v: Village, rng: np.random.Generator) -> tuple[str, str]:
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
