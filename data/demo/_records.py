"""The people files' titles and headers, and the roster of valid persons.

:class:`Roster` is what the residents hand on to the devices and the leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
