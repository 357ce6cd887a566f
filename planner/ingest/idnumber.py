"""Resident ID numbers (公民身份号码, GB 11643-1999) and masking of sensitive values.

An 18-character number is a 6-digit region code, an 8-digit birth date, a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
Legacy 15-digit numbers (2-digit year, no check character) are converted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from planner.errors import InvalidIdNumber

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_EARLIEST_BIRTH = date(1890, 1, 1)
_SEPARATORS = re.compile(r"[\s\-－—'‘’`]")
_RE18 = re.compile(r"^\d{17}[\dX]$")
_RE15 = re.compile(r"^\d{15}$")


@dataclass(frozen=True)
class IdNumber:
    """A valid, normalised 18-character ID number and what it encodes."""

    number: str
    region: str
    birth_date: date
    sex: str  # 男 or 女
    converted_from_15: bool = False


def check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("first17 must be 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def _clean(text: object) -> str:
    s = "" if text is None else str(text)
    s = unicodedata.normalize("NFKC", s).strip().upper()
    s = _SEPARATORS.sub("", s)
    if s.endswith(".0") and s[:-2].isdigit():  # a number that went through a float
        s = s[:-2]
    return s


def parse_id_number(text: object, *, today: date | None = None) -> IdNumber:
    """Validate and normalise an ID number.

    Parameters
    ----------
    text
        The number as written: full-width digits, lowercase ``x``, spaces and a
        leading apostrophe (Excel's text marker) are accepted.
    today
        Birth dates after this day are impossible (default: today).

    Raises
    ------
    InvalidIdNumber
        With the reason in Chinese: blank, wrong length or characters, an
        impossible birth date, or a wrong check character.
    """
    s = _clean(text)
    if not s:
        raise InvalidIdNumber("身份证号为空")
    if "E+" in s:
        raise InvalidIdNumber(
            "身份证号被 Excel 存成了科学计数法，末位已丢失；请把该列设为文本后重新导出"
        )
    converted = False
    if _RE15.match(s):
        first17 = s[:6] + "19" + s[6:15]
        s = first17 + check_char(first17)
        converted = True
    elif not _RE18.match(s):
        raise InvalidIdNumber(f"身份证号应为 18 位（或旧 15 位），实际为 {len(s)} 位或含非法字符")
    if s[0] not in "12345678":
        raise InvalidIdNumber(f"身份证号地区码 {s[:6]} 无效")
    try:
        birth = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError as exc:
        raise InvalidIdNumber(f"身份证号中的出生日期 {s[6:14]} 不存在") from exc
    limit = today or date.today()
    if birth > limit or birth < _EARLIEST_BIRTH:
        raise InvalidIdNumber(f"身份证号中的出生日期 {birth.isoformat()} 不可能")
    expected = check_char(s[:17])
    if s[17] != expected:
        raise InvalidIdNumber(f"身份证号校验位错误（应为 {expected}），请核对号码")
    sex = "男" if int(s[16]) % 2 == 1 else "女"
    return IdNumber(number=s, region=s[:6], birth_date=birth, sex=sex, converted_from_15=converted)


def is_valid_id_number(text: object, *, today: date | None = None) -> bool:
    """True when :func:`parse_id_number` accepts ``text``."""
    try:
        parse_id_number(text, today=today)
    except InvalidIdNumber:
        return False
    return True
