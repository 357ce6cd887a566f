"""Address text: normalisation, the word tables and the text tests of the geocoder.

:func:`normalize_address` (NFKC, lower case, no whitespace or punctuation) is
the key of manual corrections and the first step of every match. The tables
(committee suffixes, road, estate and place words, register labels, code
patterns) and the small predicates on normalised text (does a road name follow,
may a name start here, is the tail clean) are used by :mod:`geo.geocode`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from geo._names import COMMUNITY, LIVING_AREA, VILLAGE

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
VILLAGE_CODE_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
TOWN_CODE_RE = re.compile(r"(?<!\d)\d{9}(?!\d)")
DISTRICT_CODE_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")
# Another province ("江苏省", "内蒙古自治区"), city, district or county ("鄞州区",
# "宁海县", "余姚市") at the start, once the gazetteer's own names are stripped;
# not a community, living area, estate or market ("长岭社区", "三溪农场生活区",
# "阳光小区", "农贸市场").
FOREIGN_UNIT_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,5}?(?:省|自治区)"
    r"|[\u4e00-\u9fff]{2,3}?(?<!社)(?<!生活)(?<!小)(?<!园)(?<!景)(?<!校)(?<!片)(?:区|县|市)(?!场))"
)
# A town-like word at the start that is not a town of the gazetteer ("姜山镇").
FOREIGN_TOWN_RE = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:街道|镇|乡)")

SUFFIXES: dict[str, tuple[str, ...]] = {
    VILLAGE: ("村民委员会", "村委会", "村"),
    COMMUNITY: ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区"),
    LIVING_AREA: ("生活区",),
}
_ALL_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((s, kind) for kind, ss in SUFFIXES.items() for s in ss),
        key=lambda pair: -len(pair[0]),
    )
)
_SUFFIX_KIND = dict(_ALL_SUFFIXES)
_SUFFIX_RE = re.compile("|".join(re.escape(s) for s, _kind in _ALL_SUFFIXES))
VILLAGE_CHAR = "村"
NUMERALS = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
_CHINESE_DIGITS = "一二三四五六七八九十零〇两"
# What may follow a bare name for it to be decisive: the end, a house or group
# number (12号, 3组, 三组) or these words. "西锦楼", "长岭新村" are other places.
_TAIL_WORDS = ("自然村", "村民小组", "小组")
_TAIL_NUMBER_WORDS = ("组", "号", "队", "幢", "栋")
# After a bare name these make it part of a road, estate or institution name.
_ROADS = ("路", "街", "大道", "道", "巷", "弄", "桥", "线", "公路", "隧道")
_ESTATES = ("小区", "花园", "苑", "公寓", "大厦", "广场", "公园", "新村", "家园")
_PLACES = ("市场", "中心", "公司", "厂", "学校", "小学", "中学", "医院", "工业", "开发区")
_TOWN_WORDS = ("镇", "街道", "乡")
_ROAD_WORDS = (*_ROADS, *_ESTATES, *_PLACES, *_TOWN_WORDS)
_DIRECTIONS = "东西南北中"
# Characters that end an address part: a village name may start right after them.
_WORD_END_CHARS = "路街巷弄道号组幢栋室楼镇乡区县市村会"
# Labels that registers put before the address.
LABELS = ("户籍地址", "家庭住址", "居住地址", "现住址", "户籍地", "居住地", "住址", "地址")
# "XX新村" is usually a housing estate: never a fuzzy village match.
ESTATE_CHAR = "新"
COUNTRY = "中国"
_UNIT_SUFFIXES = ("自治区", "省", "市", "区", "县")

_NOISE_CATEGORIES = "ZPSC"  # Unicode categories removed: separators, punctuation, ...
_NORMALIZE_ROUNDS = 4


class _NoiseTable(dict[int, int | None]):
    """``str.translate`` table deleting whitespace, punctuation, symbols, controls."""

    def __missing__(self, key: int) -> int | None:
        value = None if unicodedata.category(chr(key))[0] in _NOISE_CATEGORIES else key
        self[key] = value
        return value


_NOISE = _NoiseTable()


def normalize_address(text: str) -> str:
    """Normalise an address for matching and as the key of manual corrections.

    NFKC (full-width letters and digits become ASCII), lower case, and all
    whitespace, punctuation, symbols and control characters removed. Idempotent.

    Examples
    --------
    >>> normalize_address(" 溪口镇 岩头村（１２号） ")
    '溪口镇岩头村12号'
    """
    if not isinstance(text, str):
        return ""
    out = text
    for _ in range(_NORMALIZE_ROUNDS):  # removing noise can enable new compositions
        new = unicodedata.normalize("NFKC", out).lower().translate(_NOISE)
        if new == out:
            break
        out = new
    return out


@lru_cache(maxsize=8192)
def _char_pinyin(ch: str) -> str:
    if not _CJK_RE.match(ch):
        return ch
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


def syllables(text: str) -> tuple[str, ...]:
    """The toneless pinyin of each character (other characters as they are)."""
    return tuple(_char_pinyin(ch) for ch in text)


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK ideograph."""
    return bool(_CJK_RE.match(ch))


def road_follows(text: str, end: int) -> bool:
    """Whether a road, estate, place or town word (maybe after 东/西/…) starts at ``end``."""
    if text.startswith(_ROAD_WORDS, end):
        return True
    return end < len(text) and text[end] in _DIRECTIONS and text.startswith(_ROAD_WORDS, end + 1)


def starts_word(text: str, i: int) -> bool:
    """Whether a name may start at ``i``: text start, after a non-CJK character
    or after a character that ends an address part (路, 号, 镇, 村, 会, ...)."""
    return i == 0 or not is_cjk(text[i - 1]) or text[i - 1] in _WORD_END_CHARS


def tail_ok(text: str, end: int) -> bool:
    """Whether a bare name ending at ``end`` is followed by a clean address tail."""
    if end >= len(text):
        return True
    ch = text[end]
    if ch.isascii() and ch.isalnum():
        return True
    if text.startswith(_TAIL_WORDS, end):
        return True
    return ch in _CHINESE_DIGITS and text.startswith(_TAIL_NUMBER_WORDS, end + 1)


def unit_stem(name: str) -> str:
    """A province, city or district name without 省/市/区/县 ("宁波市" -> "宁波")."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def clean_cell(value: object) -> str:
    """A cell value as stripped text ('' for None and NaN)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def suffix_follows(text: str, pos: int, kind: str) -> bool:
    """Whether a committee suffix of ``kind`` starts at ``pos`` (a 村 not part of a road name)."""
    for suffix in SUFFIXES[kind]:
        if text.startswith(suffix, pos):
            return not (suffix == VILLAGE_CHAR and road_follows(text, pos + len(suffix)))
    return False


def suffix_positions(text: str) -> list[tuple[int, str]]:
    """Where committee suffixes start (longest at each place), skipping road names."""
    out = []
    for match in _SUFFIX_RE.finditer(text):
        suffix = match.group()
        if not (suffix == VILLAGE_CHAR and road_follows(text, match.end())):
            out.append((match.start(), _SUFFIX_KIND[suffix]))
    return out
