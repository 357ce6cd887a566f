"""Normalisation of register values as government exports write them.

Each parser takes the raw cell text and returns the canonical value, ``None`` for
a blank cell, or raises :class:`ValueError` whose message (Chinese) is the reason
shown in the import report.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from planner.settings import Config

#: Plausible coordinates (degrees): a point outside is a swapped or wrong coordinate.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
COORD_DIGITS = 7  # stored lon/lat decimals (about 1 cm)
POLYGON_PRECISION_DEG = 1e-7  # stored boundary vertices are snapped to this grid (about 1 cm)
_SPACES = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E[+-]?\d+$")
HOUSEHOLD_ID_MAX = 64  # characters (the stored column's width)
_TRUE = {"是", "有", "y", "yes", "true", "1", "√", "✓", "☑", "已", "享受", "领取"}
_FALSE = {"否", "无", "n", "no", "false", "0", "×", "✗", "未", "不享受", "未享受", "没有"}
_GRADES = {
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "壹": 1,
    "贰": 2,
    "叁": 3,
    "肆": 4,
    "1": 1,
    "2": 2,
    "3": 3,
    "4": 4,
    "Ⅰ": 1,
    "Ⅱ": 2,
    "Ⅲ": 3,
    "Ⅳ": 4,
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
}
_GRADE_RE = re.compile(r"^(?:残疾)?(?:等级)?[:：]?(.+?)(?:级|等)?(?:残疾)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIAL_RANGE = (1, 80_000)  # 1900-01-01 .. 2119
_PHONE_JUNK = re.compile(r"[\s\-－—()（）+]")
_MOBILE = re.compile(r"^(?:86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0\d{2,3})?(\d{7,8})$")
_LOW_INCOME = {
    "低保": "dibao",
    "低保户": "dibao",
    "最低生活保障": "dibao",
    "低边": "dibian",
    "低保边缘": "dibian",
    "低边户": "dibian",
    "低保边缘户": "dibian",
}
_NONE_WORDS = {"无", "否", "-", "—", "/", "非低保", "一般户", "正常"}
_EMPLOYMENT = {
    "就业": "employed",
    "已就业": "employed",
    "工疗": "workshop",
    "辅助性就业": "sheltered",
    "未就业": "none",
    "无业": "none",
    "失业": "none",
}

#: 在读学段 as registers write it → the stored stage (``senior``: 高中阶段).
_EDUCATION = {
    **dict.fromkeys(("未入学", "未上学", "失学", "辍学", "不在读", "未在读", "无"), "none"),
    **dict.fromkeys(("学前", "学前教育", "幼儿园"), "preschool"),
    **dict.fromkeys(("小学",), "primary"),
    **dict.fromkeys(("初中", "初级中学"), "junior"),
    **dict.fromkeys(
        (
            "高中",
            "普通高中",
            "普高",
            "中职",
            "中专",
            "职高",
            "职业高中",
            "技校",
            "技工学校",
            "中等职业教育",
            "高中阶段",
            "特教高中",
            "特殊教育高中",
        ),
        "senior",
    ),
    **dict.fromkeys(("大专", "专科", "高职", "本科", "大学", "研究生", "高等教育"), "higher"),
}
EDUCATION_STAGES = ("none", "preschool", "primary", "junior", "senior", "higher")


def text(value: object) -> str | None:
    """NFKC-normalise, trim and collapse white space; ``None`` when blank."""
    if value is None:
        return None
    s = unicodedata.normalize("NFKC", str(value))
    s = _SPACES.sub(" ", s).strip()
    return s or None


def compact(value: object) -> str | None:
    """Like :func:`text` but with all white space removed (codes, names)."""
    s = text(value)
    return s.replace(" ", "") if s else None


def parse_bool(value: object) -> bool | None:
    s = compact(value)
    if s is None:
        return None
    key = s.lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"无法识别的是/否值「{s}」（应为 是 或 否）")


def parse_grade(value: object) -> int:
    s = compact(value)
    if s is None:
        raise ValueError("残疾等级为空")
    m = _GRADE_RE.match(s)
    core = m.group(1) if m else s
    if core in _GRADES:
        return _GRADES[core]
    raise ValueError(f"无法识别的残疾等级「{s}」（应为 一级 至 四级）")


def category_lookup(config: Config) -> dict[str, str]:
    """Map of every accepted spelling of a category to its key."""
    table: dict[str, str] = {}
    for key, cat in config.categories.items():
        for name in (key, cat.label, f"{cat.label}残疾", *cat.aliases):
            table[unicodedata.normalize("NFKC", name).lower()] = key
    return table


def parse_category(value: object, *, lookup: dict[str, str]) -> str:
    s = compact(value)
    if s is None:
        raise ValueError("残疾类别为空")
    key = lookup.get(s.lower())
    if key is None:
        raise ValueError(
            f"无法识别的残疾类别「{s}」（可用：视力、听力、言语、肢体、智力、精神、多重）"
        )
    return key


def facility_type_lookup(config: Config) -> dict[str, str]:
    """Map of every accepted spelling of a facility type to its key."""
    table: dict[str, str] = {}
    for key, ft in config.facility_types.items():
        for name in (key, ft.label, *ft.aliases):
            table[unicodedata.normalize("NFKC", name).lower()] = key
    return table


def parse_facility_type(value: object, *, lookup: dict[str, str]) -> str:
    s = compact(value)
    if s is None:
        raise ValueError("设施类型为空")
    key = lookup.get(s.lower())
    if key is None:
        raise ValueError(f"无法识别的设施类型「{s}」；请在配置文件 [facility_types] 中登记它")
    return key


def parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = compact(value)
    if s is None:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    if s.replace(".", "", 1).isdigit():
        serial = float(s)
        if _EXCEL_SERIAL_RANGE[0] <= serial <= _EXCEL_SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + timedelta(days=int(serial))
    raise ValueError(f"无法识别的日期「{s}」（应为 YYYY-MM-DD）")


def parse_phone(value: object) -> str | None:
    s = text(value)
    if s is None:
        return None
    digits = _PHONE_JUNK.sub("", s)
    if digits.endswith(".0"):
        digits = digits[:-2]
    m = _MOBILE.match(digits)
    if m:
        return m.group(1)
    if _LANDLINE.match(digits):
        return digits
    raise ValueError(f"电话号码「{s}」格式不对（手机 11 位，或座机号码）")


def parse_float(value: object, *, what: str) -> float | None:
    s = compact(value)
    if s is None:
        return None
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"{what}「{s}」不是数字") from None


def parse_int(value: object, *, what: str, low: int = 0, high: int = 10**9) -> int | None:
    f = parse_float(value, what=what)
    if f is None:
        return None
    if not f.is_integer() or not low <= f <= high:
        raise ValueError(f"{what}「{compact(value)}」应为 {low} 到 {high} 之间的整数")
    return int(f)


def parse_low_income(value: object) -> str | None:
    s = compact(value)
    if s is None or s in _NONE_WORDS:
        return None
    if s in _LOW_INCOME:
        return _LOW_INCOME[s]
    raise ValueError(f"无法识别的低保情况「{s}」（应为 低保、低边 或 空）")


def parse_employment(value: object) -> str | None:
    s = compact(value)
    if s is None:
        return None
    if s in _EMPLOYMENT:
        return _EMPLOYMENT[s]
    raise ValueError(f"无法识别的就业情况「{s}」（应为 就业、工疗、辅助性就业 或 未就业）")


def parse_education_stage(value: object) -> str | None:
    """在读学段 → one of :data:`EDUCATION_STAGES` (None when blank)."""
    s = compact(value)
    if s is None:
        return None
    if s in _EDUCATION:
        return _EDUCATION[s]
    raise ValueError(
        f"无法识别的在读学段「{s}」（应为 未入学、学前、小学、初中、高中、中职、大专、本科 等）"
    )


def parse_household_id(value: object) -> str | None:
    """A 户号 (household number) as text: NFKC, no white space, upper case.

    Blank or a placeholder (无, -, /) is ``None``. A number Excel stored in
    scientific notation has already lost digits, and a 户号 longer than
    :data:`HOUSEHOLD_ID_MAX` characters is not one: both are refused (the row
    is still imported without 户号, flagged for review like any bad value).
    """
    s = compact(value)
    if s is None or s in _NONE_WORDS:
        return None
    s = s.upper()
    if _SCIENTIFIC.match(s):
        raise ValueError(
            f"户号「{s}」已被 Excel 存为科学计数法，末尾数字已丢失；请把该列设为文本后重新导出"
        )
    if len(s) > HOUSEHOLD_ID_MAX:
        raise ValueError(f"户号「{s}」超过 {HOUSEHOLD_ID_MAX} 个字符，不像户号")
    return s


def parse_sex(value: object) -> str | None:
    s = compact(value)
    if s is None:
        return None
    if s in {"男", "男性", "M", "m", "1"}:
        return "男"
    if s in {"女", "女性", "F", "f", "2"}:
        return "女"
    raise ValueError(f"无法识别的性别「{s}」")


def split_aliases(value: object) -> list[str]:
    """Split an alias cell on ; ， 、 , / into trimmed names."""
    s = text(value)
    if not s:
        return []
    return [p.strip() for p in re.split(r"[;；,，、/|]", s) if p.strip()]


def in_china(lon: float, lat: float) -> bool:
    """Whether a WGS-84/GCJ-02/BD-09 point lies in China's bounding box."""
    return CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]
