"""Geocode register addresses to villages of a :class:`~geo.gazetteer.Gazetteer`.

Resolution order, first decisive step wins:

1. manual corrections (``normalize_address(text)`` -> village code), method ``correction``;
2. a 12-digit village code in the text, method ``code`` (a code with a former
   county prefix such as 330283 only counts when the name in the text agrees);
3. names: the text is normalised (NFKC, no whitespace or punctuation), the
   province/city/district prefixes are stripped, and every spelling of every town
   (尚田街道/尚田镇/尚田乡, the bare stem 尚田 only at the start or end) and every
   village is looked up at every position; overlapping hits keep suffixed names
   first, then the longest. A name with a committee suffix (岩头村, 长岭社区,
   岩头村民委员会) that starts a word is strong evidence, method ``exact``
   (``alias`` when it is an alias). A bare name without suffix (锦屏街道长岭) only
   counts right after the town or at the start, never before 路/街/桥/小区...,
   and is only decisive when exactly one village fits and a clean tail (end,
   house or group number) follows;
4. homophone typos (same toneless pinyin, 岩投村 -> 岩头村), method ``pinyin``;
5. one-character edits (rapidfuzz Levenshtein), method ``fuzzy``, decisive only
   for cores of three or more characters, when the town is known or the core is
   long enough, and when the best candidate beats the runner-up by
   ``fuzzy_margin``;
6. otherwise the town alone (method ``town_only``) or nothing (``none``).

An address whose prefix names another province, city or district (an
administrative word ending in 省/自治区/市/区/县 that is not the gazetteer's
district name, alias or parent: 浙江省宁波市海曙区…, 江苏省…, 慈溪市… for 奉化区)
gets status and method ``outside`` and is never matched into this district. The
prefixes that are stripped (province, city, district, old names, former codes)
all come from the gazetteer (``parents``, ``district_name``,
``district_aliases``, ``former_codes``), so any district works.

Whenever the evidence fits several villages, or the town named in the text (or
the town column) disagrees with the village, the result is ``ambiguous`` with the
candidate codes; it is never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

import pandas as pd
from pypinyin import Style, lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from geo.errors import GazetteerError
from geo.gazetteer import (
    COMMUNITY,
    DISTRICT_CODE_LEN,
    LIVING_AREA,
    VILLAGE,
    Gazetteer,
    core_name,
    village_kind,
)

__all__ = [
    "AMBIGUOUS",
    "MATCHED",
    "OUTSIDE",
    "RESULT_COLUMNS",
    "STATUSES",
    "STATUS_LABELS",
    "UNMATCHED",
    "GeocodeResult",
    "Geocoder",
    "normalize_address",
]

MATCHED = "matched"
AMBIGUOUS = "ambiguous"
UNMATCHED = "unmatched"
OUTSIDE = "outside"
STATUSES = (MATCHED, AMBIGUOUS, UNMATCHED, OUTSIDE)
STATUS_LABELS = {MATCHED: "匹配", AMBIGUOUS: "有歧义", UNMATCHED: "未匹配", OUTSIDE: "区外"}

METHOD_CORRECTION = "correction"
METHOD_CODE = "code"
METHOD_EXACT = "exact"
METHOD_ALIAS = "alias"
METHOD_PINYIN = "pinyin"
METHOD_FUZZY = "fuzzy"
METHOD_TOWN_ONLY = "town_only"
METHOD_OUTSIDE = "outside"
METHOD_NONE = "none"

RESULT_COLUMNS = (
    "address",
    "village_code",
    "village_name",
    "town_name",
    "method",
    "score",
    "status",
    "town_code",
    "candidates",
)
CANDIDATE_SEPARATOR = ";"

SCORE_CORRECTION = 100.0
SCORE_CODE = 100.0
SCORE_EXACT = 100.0
SCORE_ALIAS = 95.0
SCORE_BARE = 90.0
SCORE_PINYIN = 90.0
SCORE_NONE = 0.0

DEFAULT_FUZZY_MIN_SCORE = 80.0
DEFAULT_FUZZY_MARGIN = 8.0

# A bare core (no committee suffix) or a fuzzy match without a known town must be
# at least this long to be decisive; 2-character cores are too common.
_MIN_LEN_WITHOUT_TOWN = 3
# Shortest core that is looked up bare, by pinyin or fuzzily.
_MIN_CORE_LEN = 2
# Homophone typos: at most this many differing characters, relative to core length.
_PINYIN_MAX_DIFF_SHORT = 1
_PINYIN_MAX_DIFF_LONG = 2
_PINYIN_LONG_CORE = 4
# Fuzzy matching: exactly one edit; scored by normalised Levenshtein similarity of
# core + a common 3-character suffix, so every one-edit candidate scores 80-92 and
# two candidates are never a "clear margin" apart. One edit in a 2-character core
# changes half the name: such matches are only offered as candidates.
_FUZZY_MAX_EDITS = 1
_FUZZY_DECISIVE_LEN = 3
_FUZZY_SUFFIX = {VILLAGE: "村委会", COMMUNITY: "居委会", LIVING_AREA: "生活区"}
_CACHE_MAX = 200_000

_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_VILLAGE_CODE_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
_TOWN_CODE_RE = re.compile(r"(?<!\d)\d{9}(?!\d)")
_DISTRICT_CODE_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")
# Another province ("江苏省", "内蒙古自治区"), city, district or county ("鄞州区",
# "宁海县", "余姚市") at the start, once the gazetteer's own names are stripped;
# not a community, living area, estate or market ("长岭社区", "三溪农场生活区",
# "阳光小区", "农贸市场").
_FOREIGN_UNIT_RE = re.compile(
    r"^(?:[\u4e00-\u9fff]{2,5}?(?:省|自治区)"
    r"|[\u4e00-\u9fff]{2,3}?(?<!社)(?<!生活)(?<!小)(?<!园)(?<!景)(?<!校)(?<!片)(?:区|县|市)(?!场))"
)
# A town-like word at the start that is not a town of the gazetteer ("姜山镇").
_FOREIGN_TOWN_RE = re.compile(r"^[\u4e00-\u9fff]{2,4}?(?:街道|镇|乡)")

_SUFFIXES: dict[str, tuple[str, ...]] = {
    VILLAGE: ("村民委员会", "村委会", "村"),
    COMMUNITY: ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区"),
    LIVING_AREA: ("生活区",),
}
_ALL_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((s, kind) for kind, ss in _SUFFIXES.items() for s in ss),
        key=lambda pair: -len(pair[0]),
    )
)
_SUFFIX_KIND = dict(_ALL_SUFFIXES)
_SUFFIX_RE = re.compile("|".join(re.escape(s) for s, _kind in _ALL_SUFFIXES))
_VILLAGE_CHAR = "村"
_NUMERALS = {
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
_LABELS = ("户籍地址", "家庭住址", "居住地址", "现住址", "户籍地", "居住地", "住址", "地址")
# "XX新村" is usually a housing estate: never a fuzzy village match.
_ESTATE_CHAR = "新"
_MASK = "\x00"
_COUNTRY = "中国"
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


@dataclass(frozen=True)
class GeocodeResult:
    """The outcome of geocoding one address.

    Attributes
    ----------
    address
        The input as given (several columns are joined by a space).
    village_code, village_name
        The matched village; None unless ``status == "matched"``.
    town_code, town_name
        The village's town; for unmatched or ambiguous results the town named in
        the text, when it is certain.
    method
        ``correction``, ``code``, ``exact``, ``alias``, ``pinyin``, ``fuzzy``,
        ``town_only``, ``outside`` (another district) or ``none``.
    score
        Confidence 0-100 of the evidence.
    status
        ``matched``, ``ambiguous`` (see ``candidates``), ``unmatched`` or
        ``outside`` (the address is in another province, city or district).
    candidates
        Village codes that fit when ambiguous, best first.
    """

    address: str
    village_code: str | None
    village_name: str | None
    town_code: str | None
    town_name: str | None
    method: str
    score: float
    status: str
    candidates: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        """Whether a single village was found."""
        return self.status == MATCHED


# Roles of a lookup key.
_TOWN_FULL = 0
_TOWN_STEM = 1
_STRONG = 2
_BARE = 3


@dataclass(frozen=True, slots=True)
class _Hit:
    code: str  # village code, or town code for town roles
    role: int
    alias: bool = False


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    key: str
    hits: tuple[_Hit, ...]

    def roles(self, *roles: int) -> tuple[_Hit, ...]:
        return tuple(h for h in self.hits if h.role in roles)


@dataclass(frozen=True, slots=True)
class _Core:
    """A core name for pinyin and fuzzy lookup."""

    core: str
    code: str
    kind: str


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: str
    method: str
    score: float
    code: str | None = None
    candidates: tuple[str, ...] = ()
    town: str | None = None
    foreign_town: bool = False


_NONE = _Verdict(UNMATCHED, METHOD_NONE, SCORE_NONE)
_OUTSIDE = _Verdict(OUTSIDE, METHOD_OUTSIDE, SCORE_NONE)


@lru_cache(maxsize=8192)
def _char_pinyin(ch: str) -> str:
    if not _CJK_RE.match(ch):
        return ch
    return lazy_pinyin(ch, style=Style.NORMAL)[0]


def _syllables(text: str) -> tuple[str, ...]:
    return tuple(_char_pinyin(ch) for ch in text)


def _is_cjk(ch: str) -> bool:
    return bool(_CJK_RE.match(ch))


def _road_follows(text: str, end: int) -> bool:
    if text.startswith(_ROAD_WORDS, end):
        return True
    return end < len(text) and text[end] in _DIRECTIONS and text.startswith(_ROAD_WORDS, end + 1)


def _starts_word(text: str, i: int) -> bool:
    """Whether a name may start at ``i``: text start, after a non-CJK character
    or after a character that ends an address part (路, 号, 镇, 村, 会, ...)."""
    return i == 0 or not _is_cjk(text[i - 1]) or text[i - 1] in _WORD_END_CHARS


def _tail_ok(text: str, end: int) -> bool:
    """Whether a bare name ending at ``end`` is followed by a clean address tail."""
    if end >= len(text):
        return True
    ch = text[end]
    if ch.isascii() and ch.isalnum():
        return True
    if text.startswith(_TAIL_WORDS, end):
        return True
    return ch in _CHINESE_DIGITS and text.startswith(_TAIL_NUMBER_WORDS, end + 1)


def _unit_stem(name: str) -> str:
    """A province, city or district name without 省/市/区/县 ("宁波市" -> "宁波")."""
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _analyse(name: str, kind: str) -> tuple[str, str, str, bool]:
    """Normalised name, core, kind and whether it carries a committee suffix.

    A name without a suffix (an alias such as "王家") keeps ``kind``.
    """
    text = normalize_address(name)
    has_suffix = village_kind(text) != VILLAGE or text.endswith(_SUFFIXES[VILLAGE])
    if not has_suffix:
        return text, text, kind, False
    return text, core_name(text), village_kind(text), True


def _sorted_codes(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(codes)))


class Geocoder:
    """Geocode addresses to villages of a gazetteer.

    Parameters
    ----------
    gazetteer
        The towns and villages (with aliases) to match against.
    corrections
        Manual corrections: address text (normalised with
        :func:`normalize_address` here) -> 12-digit village code. They win over
        everything else.
    fuzzy_min_score
        One-edit matches scoring below this (0-100) are not candidates.
    fuzzy_margin
        A fuzzy match is only ``matched`` when it beats the runner-up by this much.

    Raises
    ------
    GazetteerError
        When a correction points to a code that is not in the gazetteer.
    """

    def __init__(
        self,
        gazetteer: Gazetteer,
        *,
        corrections: Mapping[str, str] | None = None,
        fuzzy_min_score: float = DEFAULT_FUZZY_MIN_SCORE,
        fuzzy_margin: float = DEFAULT_FUZZY_MARGIN,
    ) -> None:
        self._gaz = gazetteer
        self._min_score = float(fuzzy_min_score)
        self._margin = float(fuzzy_margin)
        self._corrections: dict[str, str] = {}
        for text, code in (corrections or {}).items():
            code = str(code).strip()
            if not gazetteer.has_village(code):
                raise GazetteerError(
                    f"人工更正「{text}」指向的村社代码「{code}」不在村社名录中；"
                    "请删除或重新保存这条更正。"
                )
            key = normalize_address(text)
            if key:
                self._corrections[key] = code
        self._town_of = {v.code: v.town_code for v in gazetteer.villages}
        self._cache: dict[tuple[str, frozenset[str] | None], _Verdict] = {}
        self._build_prefixes()
        self._build_keys()
        self._build_cores()

    # ------------------------------------------------------------------ indexes

    def _build_prefixes(self) -> None:
        gaz = self._gaz
        full = [*gaz.district_names, *gaz.parents]
        stems = [_COUNTRY, *(_unit_stem(name) for name in full)]
        self._full_prefixes = tuple(sorted(set(full), key=len, reverse=True))
        self._stem_prefixes = tuple(sorted(set(stems) - set(full), key=len, reverse=True))
        self._district_codes = frozenset({gaz.district_code, *gaz.former_codes})

    def _add_key(self, keys: dict[str, dict[_Hit, None]], key: str, hit: _Hit) -> None:
        key = normalize_address(key)
        if len(key) >= _MIN_CORE_LEN:
            keys.setdefault(key, {})[hit] = None

    def _village_keys(
        self, keys: dict[str, dict[_Hit, None]], name: str, code: str, kind: str, alias: bool
    ) -> None:
        text, core, kind, has_suffix = _analyse(name, kind)
        if not text:
            return
        if has_suffix:
            self._add_key(keys, text, _Hit(code, _STRONG, alias))
        cores = [core]
        if kind == VILLAGE and not core.endswith(_VILLAGE_CHAR):
            cores.append(core + _VILLAGE_CHAR)  # 周村委会 is the committee of 周村
        if core[-1] in _NUMERALS:
            cores.append(core[:-1] + _NUMERALS[core[-1]])  # 溪口一村 / 溪口1村
        for c in cores:
            for suffix in _SUFFIXES[kind]:
                self._add_key(keys, c + suffix, _Hit(code, _STRONG, alias))
        if len(core) >= _MIN_CORE_LEN:
            self._add_key(keys, core, _Hit(code, _BARE, alias))

    def _build_keys(self) -> None:
        keys: dict[str, dict[_Hit, None]] = {}
        stems: set[str] = set()
        for town in self._gaz.towns:
            for spelling in town.spellings:
                self._add_key(keys, spelling, _Hit(town.code, _TOWN_FULL))
            for stem in town.stems:
                self._add_key(keys, stem, _Hit(town.code, _TOWN_STEM))
                stems.add(normalize_address(stem))
        for v in self._gaz.villages:
            self._village_keys(keys, v.name, v.code, v.kind, alias=False)
            for alias in v.aliases:
                self._village_keys(keys, alias, v.code, v.kind, alias=True)
        self._keys: dict[str, tuple[_Hit, ...]] = {k: tuple(h) for k, h in keys.items()}
        by_prefix: dict[str, list[str]] = {}
        for key in self._keys:
            by_prefix.setdefault(key[:_MIN_CORE_LEN], []).append(key)
        self._by_prefix = {
            p: tuple(sorted(ks, key=len, reverse=True)) for p, ks in by_prefix.items()
        }
        self._lengths_by_prefix = {
            p: tuple(sorted({len(k) for k in ks}, reverse=True)) for p, ks in by_prefix.items()
        }
        self._town_stems = frozenset(stems)

    def _build_cores(self) -> None:
        cores: dict[_Core, None] = {}
        for v in self._gaz.villages:
            for name in (v.name, *v.aliases):
                _text, core, kind, _has_suffix = _analyse(name, v.kind)
                if len(core) >= _MIN_CORE_LEN:
                    cores[_Core(core, v.code, kind)] = None
        self._cores_by_kind: dict[str, tuple[_Core, ...]] = {
            kind: tuple(c for c in cores if c.kind == kind) for kind in _SUFFIXES
        }
        self._core_names_by_kind = {
            kind: [c.core for c in cs] for kind, cs in self._cores_by_kind.items()
        }
        pinyin: dict[tuple[str, ...], list[_Core]] = {}
        for c in cores:
            pinyin.setdefault(_syllables(c.core), []).append(c)
        self._pinyin = {k: tuple(v) for k, v in pinyin.items()}
        self._pinyin_lengths = tuple(sorted({len(k) for k in pinyin}, reverse=True))
        self._all_cores = frozenset(c.core for c in cores)
        self._max_core_len = max((len(c.core) for c in cores), default=_MIN_CORE_LEN)

    # ------------------------------------------------------------------ public

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer this geocoder matches against."""
        return self._gaz

    def geocode(self, address: str) -> GeocodeResult:
        """Geocode one free-text address.

        Parameters
        ----------
        address
            E.g. ``"浙江省宁波市奉化区溪口镇岩头村委会"``, ``"锦屏街道长岭村3组"``.

        Returns
        -------
        GeocodeResult
        """
        shown = address if isinstance(address, str) else _clean(address)
        text = normalize_address(shown)
        if text in self._corrections:
            return self._result(shown, self._correction(self._corrections[text]))
        return self._result(shown, self._resolve(text, None))

    def geocode_parts(
        self,
        *,
        town: str | None = None,
        village: str | None = None,
        address: str | None = None,
        village_code: str | None = None,
    ) -> GeocodeResult:
        """Geocode a register row with separate town / village / address / code columns.

        A valid village code wins when the name columns agree with it; otherwise
        town + village decide, then the address. When the columns disagree (the
        town column says 溪口镇 but the village is only in 尚田街道) the result is
        ``ambiguous``.

        Parameters
        ----------
        town
            The 镇街 column (any spelling: 尚田镇, 尚田街道, 尚田).
        village
            The 村社 column (岩头村, 长岭社区, 长岭, ...).
        address
            The free-text address column.
        village_code
            The 12-digit village code column (also with the 330283 prefix).
        """
        town_text, village_text = _clean(town), _clean(village)
        address_text, code_text = _clean(address), _clean(village_code)
        parts = (town_text, village_text, address_text)
        shown = " ".join(p for p in (*parts, code_text) if p)
        for key in (normalize_address("".join(parts)), normalize_address(address_text)):
            if key and key in self._corrections:
                return self._result(shown, self._correction(self._corrections[key]))
        verdict = self._resolve_parts(town_text, village_text, address_text, code_text)
        return self._result(shown, verdict)

    def geocode_many(self, addresses: Iterable[str]) -> pd.DataFrame:
        """Geocode many addresses (results of repeated addresses are cached).

        Returns
        -------
        pandas.DataFrame
            One row per address with the columns ``address, village_code,
            village_name, town_name, method, score, status, town_code,
            candidates`` (candidate codes joined by ``;``).
        """
        rows = []
        for address in addresses:
            r = self.geocode(address)
            rows.append(
                (
                    r.address,
                    r.village_code,
                    r.village_name,
                    r.town_name,
                    r.method,
                    r.score,
                    r.status,
                    r.town_code,
                    CANDIDATE_SEPARATOR.join(r.candidates),
                )
            )
        frame = pd.DataFrame(rows, columns=list(RESULT_COLUMNS))
        return frame.astype({"score": "float64"})

    # ------------------------------------------------------------------ results

    def _correction(self, code: str) -> _Verdict:
        return _Verdict(MATCHED, METHOD_CORRECTION, SCORE_CORRECTION, code=code)

    def _result(self, address: str, verdict: _Verdict) -> GeocodeResult:
        gaz = self._gaz
        town_code = verdict.town
        village_name = None
        if verdict.status == MATCHED and verdict.code is not None:
            village_name = gaz.village(verdict.code).name
            town_code = self._town_of[verdict.code]
        town_name = gaz.town(town_code).name if town_code is not None else None
        return GeocodeResult(
            address=address,
            village_code=verdict.code if verdict.status == MATCHED else None,
            village_name=village_name,
            town_code=town_code,
            town_name=town_name,
            method=verdict.method,
            score=verdict.score,
            status=verdict.status,
            candidates=verdict.candidates if verdict.status == AMBIGUOUS else (),
        )

    # ------------------------------------------------------------------ parts

    def _town_hint(self, town: str) -> tuple[frozenset[str] | None, bool]:
        """Towns named by a town column, and whether it names an unknown town."""
        text = self._strip_prefixes(normalize_address(town))
        if not text:
            return None, False
        codes: set[str] = set()
        for span in self._select(text):
            codes.update(h.code for h in span.roles(_TOWN_FULL, _TOWN_STEM))
        if codes:
            return frozenset(codes), False
        town_like = text.endswith(("镇", "街道", "乡", "区", "县", "市"))
        return None, town_like

    def _is_outside(self, text: str) -> bool:
        """Whether normalised ``text`` starts with another province, city or district."""
        rest = self._strip_prefixes(_VILLAGE_CODE_RE.sub("", text))
        foreign = _FOREIGN_UNIT_RE.match(rest)
        if foreign is None:
            return False
        first = min((s.start for s in self._select(rest)), default=len(rest))
        return foreign.end() <= first

    def _resolve_parts(self, town: str, village: str, address: str, code: str) -> _Verdict:
        # Any column placing the row in another district decides: never matched here.
        if any(self._is_outside(normalize_address(p)) for p in (town, village, address) if p):
            return _OUTSIDE
        hint, unknown_town = self._town_hint(town) if town else (None, False)
        verdict = self._parts_verdict(hint, village, address, code)
        if unknown_town and verdict.status == MATCHED:
            # The town column names a town outside the gazetteer: never a guess.
            return _Verdict(
                AMBIGUOUS, verdict.method, verdict.score, candidates=(verdict.code or "",)
            )
        if verdict.status == UNMATCHED and verdict.method == METHOD_NONE and hint:
            named, _unknown = self._town_hint(f"{village}{address}")
            if len(hint) == 1 and (named is None or hint <= named):
                return _Verdict(UNMATCHED, METHOD_TOWN_ONLY, SCORE_NONE, town=next(iter(hint)))
        return verdict

    def _parts_verdict(
        self, hint: frozenset[str] | None, village: str, address: str, code: str
    ) -> _Verdict:
        digits = code.removesuffix(".0")
        if _VILLAGE_CODE_RE.fullmatch(digits) and self._gaz.has_village(self._current(digits)):
            return self._resolve(digits + normalize_address(village or address), hint)
        if village:
            by_village = self._resolve(normalize_address(village), hint)
            if not address:
                return by_village
            by_address = self._resolve(normalize_address(address), hint)
            return self._combine(by_village, by_address)
        if address:
            return self._resolve(normalize_address(address), hint)
        return _NONE

    # ------------------------------------------------------------------ resolve

    def _resolve(self, text: str, hint: frozenset[str] | None) -> _Verdict:
        key = (text, hint)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        verdict = self._resolve_uncached(text, hint)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = verdict
        return verdict

    def _resolve_uncached(self, text: str, hint: frozenset[str] | None) -> _Verdict:
        codes: list[str] = []

        def village_code(match: re.Match[str]) -> str:
            codes.append(match.group())
            return ""

        def town_code(match: re.Match[str]) -> str:
            town = self._current(match.group())
            return self._gaz.town(town).name if self._gaz.has_town(town) else match.group()

        def district_code(match: re.Match[str]) -> str:
            return "" if match.group() in self._district_codes else match.group()

        rest = _VILLAGE_CODE_RE.sub(village_code, text)
        rest = _TOWN_CODE_RE.sub(town_code, rest)
        rest = _DISTRICT_CODE_RE.sub(district_code, rest)
        by_name = self._by_name(rest, hint)
        if not codes:
            return by_name
        return self._with_codes(codes, by_name, hint)

    def _current(self, code: str) -> str:
        """The code with a former district prefix replaced by the current one."""
        head = code[:DISTRICT_CODE_LEN]
        if head in self._gaz.former_codes:
            return self._gaz.district_code + code[DISTRICT_CODE_LEN:]
        return code

    def _with_codes(
        self, codes: list[str], by_name: _Verdict, hint: frozenset[str] | None
    ) -> _Verdict:
        """A village code in the text wins when the name (and town) agree with it."""
        if by_name.status == OUTSIDE:
            return by_name  # the text places the address in another district
        known: dict[str, bool] = {}  # current code -> came with a former prefix
        for raw in codes:
            current = self._current(raw)
            if self._gaz.has_village(current):
                known[current] = known.get(current, False) or current != raw
        if not known:
            return by_name  # not a village code of this district: the name decides
        named = (by_name.code,) if by_name.status == MATCHED and by_name.code else ()
        if len(known) > 1:
            cands = _sorted_codes([*known, *named, *by_name.candidates])
            return _Verdict(AMBIGUOUS, METHOD_CODE, SCORE_CODE, candidates=cands)
        code, former = next(iter(known.items()))
        if by_name.status == MATCHED:
            agree = by_name.code == code
        elif by_name.status == AMBIGUOUS:
            agree = code in by_name.candidates
        elif by_name.method == METHOD_TOWN_ONLY:
            agree = not former and by_name.town == self._town_of[code]
        else:
            agree = not former and by_name.method == METHOD_NONE
        if hint is not None and self._town_of[code] not in hint:
            agree = False
        if agree and not by_name.foreign_town:
            return _Verdict(MATCHED, METHOD_CODE, SCORE_CODE, code=code)
        cands = (code, *(c for c in (*named, *by_name.candidates) if c != code))
        return _Verdict(AMBIGUOUS, METHOD_CODE, SCORE_CODE, candidates=cands)

    def _strip_prefixes(self, text: str) -> str:
        for full in self._full_prefixes:
            text = text.replace(full, "")
        changed = True
        while changed and text:
            changed = False
            for label in _LABELS:
                if text.startswith(label):
                    text = text[len(label) :]
                    changed = True
            for stem in self._stem_prefixes:
                if text.startswith(stem) and not self._key_starts_longer(text, len(stem)):
                    text = text[len(stem) :]
                    changed = True
        return text

    def _key_starts_longer(self, text: str, length: int) -> bool:
        keys = self._by_prefix.get(text[:_MIN_CORE_LEN], ())
        return any(len(k) > length and text.startswith(k) for k in keys)

    def _scan(self, text: str) -> list[_Span]:
        """Every key occurrence, minus town stems and bare names that cannot count.

        A town stem counts at the start or the end of the text only; stems and bare
        names followed by 路/街/桥/小区... are part of a road or estate name, unless
        a suffixed village name starts there (松岙街一村, 锦屏北街村).
        """
        found: list[tuple[int, int, str, tuple[_Hit, ...]]] = []
        n = len(text)
        keys = self._keys
        for i in range(n - 1):
            for length in self._lengths_by_prefix.get(text[i : i + _MIN_CORE_LEN], ()):
                end = i + length
                hits = keys.get(text[i:end]) if end <= n else None
                if hits:
                    found.append((i, end, text[i:end], hits))
        strong_starts = {i for i, _end, _key, hits in found if any(h.role == _STRONG for h in hits)}
        spans = []
        for i, end, key, hits in found:
            road = _road_follows(text, end) and end not in strong_starts
            keep = tuple(
                h
                for h in hits
                if not (h.role == _TOWN_STEM and (road or (i != 0 and end != n)))
                and not (h.role == _BARE and road)
            )
            if keep:
                spans.append(_Span(i, end, key, keep))
        return spans

    def _select(self, text: str) -> list[_Span]:
        """Non-overlapping spans in text order.

        Suffixed names and full town names go first, then town stems and bare
        names; within each, longest first, then leftmost ("溪口三石村" is 溪口 +
        三石村, not 溪口三 + 石村).
        """

        def rank(span: _Span) -> tuple[int, int, int]:
            weak = not span.roles(_TOWN_FULL, _STRONG)
            return (weak, span.start - span.end, span.start)

        taken: list[_Span] = []
        for span in sorted(self._scan(text), key=rank):
            if all(span.end <= t.start or span.start >= t.end for t in taken):
                taken.append(span)
        return sorted(taken, key=lambda s: s.start)

    def _by_name(self, text: str, hint: frozenset[str] | None) -> _Verdict:
        """Resolve by town and village names; ``hint`` are towns named elsewhere."""
        text = self._strip_prefixes(text)
        if not text:
            return _NONE
        spans = self._select(text)
        first = min((s.start for s in spans), default=len(text))
        foreign = _FOREIGN_UNIT_RE.match(text)
        if foreign and foreign.end() <= first:
            return _OUTSIDE
        odd_town = _FOREIGN_TOWN_RE.match(text)
        foreign_town = bool(odd_town and odd_town.end() <= first)

        town_spans = [s for s in spans if s.roles(_TOWN_FULL, _TOWN_STEM)]
        text_towns = frozenset(h.code for s in town_spans for h in s.roles(_TOWN_FULL, _TOWN_STEM))
        scope: frozenset[str] | None = text_towns or hint
        if hint is not None and text_towns:
            scope = hint & text_towns
        boundaries = {0} | {s.end for s in town_spans}
        strong: list[_Span] = []  # suffixed names that start a word
        inner: list[_Span] = []  # suffixed names inside a longer word (甲岙村 in 马甲岙村)
        bare: list[_Span] = []
        for s in spans:
            if s.roles(_STRONG):
                starts = s.start in boundaries or _starts_word(text, s.start)
                (strong if starts else inner).append(s)
            elif s.roles(_TOWN_FULL, _TOWN_STEM):
                continue  # a bare name equal to a town stem is the town
            elif s.roles(_BARE) and s.start in boundaries:
                bare.append(s)

        verdict: _Verdict | None = None
        if strong:
            verdict = self._decide_strong(strong, scope)
        weak = self._decide_bare(text, bare, scope) if bare and not strong else None
        if weak is not None and weak.status == MATCHED:
            verdict = weak
        if verdict is None:
            # A name that is not decisive ("庄家" in 庄家板村, "甲岙村" in 马甲岙村)
            # may be part of a misspelt longer name: typo matching goes first.
            masked = _mask(text, town_spans)
            verdict = self._decide_pinyin(text, masked, scope)
            if verdict is None:
                verdict = self._decide_fuzzy(masked, scope)
            if verdict is None:
                verdict = self._undecided(weak, inner, scope)
        if verdict is None:
            if scope is not None and len(scope) == 1 and not foreign_town:
                verdict = _Verdict(UNMATCHED, METHOD_TOWN_ONLY, SCORE_NONE, town=next(iter(scope)))
            else:
                verdict = _NONE
        if foreign_town:
            if verdict.status == MATCHED and verdict.code:
                verdict = replace(verdict, status=AMBIGUOUS, candidates=(verdict.code,))
            verdict = replace(verdict, foreign_town=True)
        if verdict.status == AMBIGUOUS:
            verdict = replace(verdict, town=self._common_town(verdict.candidates, scope))
        return verdict

    def _undecided(
        self, weak: _Verdict | None, inner: list[_Span], scope: frozenset[str] | None
    ) -> _Verdict | None:
        """Ambiguous over the names that were found but are not decisive, if any."""
        codes = {h.code for s in inner for h in s.roles(_STRONG)}
        fitting = self._in_scope(codes, scope) or codes
        if weak is not None:
            fitting |= set(weak.candidates)
        if not fitting:
            return weak
        score = weak.score if weak is not None else SCORE_BARE
        return _Verdict(AMBIGUOUS, METHOD_EXACT, score, candidates=_sorted_codes(fitting))

    def _common_town(self, codes: Iterable[str], scope: frozenset[str] | None) -> str | None:
        """The one town of all candidates, when the text does not name another."""
        towns = {self._town_of[c] for c in codes}
        if len(towns) == 1 and (scope is None or towns <= scope):
            return towns.pop()
        return None

    def _in_scope(self, codes: Iterable[str], scope: frozenset[str] | None) -> set[str]:
        if scope is None:
            return set(codes)
        return {c for c in codes if self._town_of[c] in scope}

    def _combine(self, by_village: _Verdict, by_address: _Verdict) -> _Verdict:
        """Merge the verdicts of the village column and the address column."""
        if by_village.status == MATCHED:
            if by_address.status == MATCHED and by_address.code != by_village.code:
                cands = (by_village.code or "", by_address.code or "")
                return _Verdict(AMBIGUOUS, by_village.method, by_village.score, candidates=cands)
            if (
                by_address.method == METHOD_TOWN_ONLY
                and by_address.town is not None
                and by_village.code is not None
                and by_address.town != self._town_of[by_village.code]
            ):
                return _Verdict(
                    AMBIGUOUS, by_village.method, by_village.score, candidates=(by_village.code,)
                )
            return by_village
        if by_village.status == AMBIGUOUS:
            if by_address.status == MATCHED and by_address.code in by_village.candidates:
                return by_address
            if by_address.status == MATCHED:
                more = (*by_village.candidates, by_address.code or "")
                return _Verdict(AMBIGUOUS, by_village.method, by_village.score, candidates=more)
            return by_village
        if by_address.status == UNMATCHED and by_address.method == METHOD_NONE:
            return by_village
        return by_address

    def _decide_strong(self, spans: list[_Span], scope: frozenset[str] | None) -> _Verdict:
        """Suffixed names: matched when all of them, within the towns named, agree."""
        per_span = [{h.code for h in s.roles(_STRONG)} for s in spans]
        everything = {c for codes in per_span for c in codes}
        fitting = [self._in_scope(codes, scope) for codes in per_span]
        if any(not f for f in fitting):
            # The town (or another name in the text) disagrees with a village name.
            return _Verdict(
                AMBIGUOUS, METHOD_EXACT, SCORE_EXACT, candidates=_sorted_codes(everything)
            )
        common = set.intersection(*fitting)
        if len(common) != 1:
            cands = _sorted_codes(c for codes in fitting for c in codes)
            return _Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_EXACT, candidates=cands)
        code = common.pop()
        by_alias = all(
            not any(h.code == code and not h.alias for h in s.roles(_STRONG)) for s in spans
        )
        if by_alias:
            return _Verdict(MATCHED, METHOD_ALIAS, SCORE_ALIAS, code=code)
        return _Verdict(MATCHED, METHOD_EXACT, SCORE_EXACT, code=code)

    def _decide_bare(self, text: str, spans: list[_Span], scope: frozenset[str] | None) -> _Verdict:
        """Bare names: matched only for one fitting village with a clean tail."""
        everything = {h.code for s in spans for h in s.roles(_BARE)}
        fitting = self._in_scope(everything, scope)
        if not fitting:
            return _Verdict(
                AMBIGUOUS, METHOD_EXACT, SCORE_BARE, candidates=_sorted_codes(everything)
            )
        span = spans[0]
        decisive = (
            len(spans) == 1
            and len(fitting) == 1
            and _tail_ok(text, span.end)
            and (scope is not None or len(span.key) >= _MIN_LEN_WITHOUT_TOWN)
            and span.key not in self._town_stems
        )
        if not decisive:
            return _Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_BARE, candidates=_sorted_codes(fitting))
        code = fitting.pop()
        alias = all(h.alias for h in span.roles(_BARE) if h.code == code)
        return _Verdict(MATCHED, METHOD_ALIAS if alias else METHOD_EXACT, SCORE_BARE, code=code)

    def _decide_pinyin(
        self, text: str, masked: str, scope: frozenset[str] | None
    ) -> _Verdict | None:
        """Homophones: same toneless pinyin as a core, 1-2 characters differ, suffix follows."""
        syllables = _syllables(masked)
        found: set[str] = set()
        n = len(masked)
        for i in range(n):
            if not _starts_word(masked, i):
                continue
            for length in self._pinyin_lengths:
                if i + length > n:
                    continue
                cores = self._pinyin.get(syllables[i : i + length])
                if not cores:
                    continue
                segment = text[i : i + length]
                for c in cores:
                    diff = sum(a != b for a, b in zip(segment, c.core, strict=True))
                    limit = (
                        _PINYIN_MAX_DIFF_LONG
                        if len(c.core) >= _PINYIN_LONG_CORE
                        else _PINYIN_MAX_DIFF_SHORT
                    )
                    if 1 <= diff <= limit and _suffix_follows(masked, i + length, c.kind):
                        found.add(c.code)
        if not found:
            return None
        fitting = self._in_scope(found, scope)
        if not fitting:
            return _Verdict(AMBIGUOUS, METHOD_PINYIN, SCORE_PINYIN, candidates=_sorted_codes(found))
        if len(fitting) > 1:
            return _Verdict(
                AMBIGUOUS, METHOD_PINYIN, SCORE_PINYIN, candidates=_sorted_codes(fitting)
            )
        return _Verdict(MATCHED, METHOD_PINYIN, SCORE_PINYIN, code=fitting.pop())

    def _decide_fuzzy(self, masked: str, scope: frozenset[str] | None) -> _Verdict | None:
        """One-edit typos of a core followed by a committee suffix (印家肯村)."""
        best: dict[str, float] = {}
        core_len: dict[str, int] = {}
        for pos, kind in _suffix_positions(masked):
            canon = _FUZZY_SUFFIX[kind]
            names = self._core_names_by_kind[kind]
            cores = self._cores_by_kind[kind]
            for length in range(_MIN_CORE_LEN, min(pos, self._max_core_len + 1) + 1):
                segment = masked[pos - length : pos]
                if not all(_is_cjk(ch) for ch in segment):
                    break
                if not _starts_word(masked, pos - length):
                    continue
                if segment in self._all_cores:
                    continue  # a real name with another suffix (东门村 for 东门社区): no typo
                if kind == VILLAGE and segment.endswith(_ESTATE_CHAR):
                    continue
                if scope is None and length < _MIN_LEN_WITHOUT_TOWN:
                    continue
                for _name, dist, idx in process.extract(
                    segment,
                    names,
                    scorer=Levenshtein.distance,
                    score_cutoff=_FUZZY_MAX_EDITS,
                    limit=None,
                ):
                    core = cores[idx]
                    if dist != _FUZZY_MAX_EDITS:
                        continue
                    if scope is None and len(core.core) < _MIN_LEN_WITHOUT_TOWN:
                        continue
                    score = 100.0 * Levenshtein.normalized_similarity(
                        segment + canon, core.core + canon
                    )
                    if score >= self._min_score and score > best.get(core.code, -1.0):
                        best[core.code] = score
                        core_len[core.code] = len(core.core)
        if not best:
            return None
        fitting = self._in_scope(best, scope)
        ranked = sorted(fitting or best, key=lambda c: (-best[c], c))
        top = best[ranked[0]]
        runner_up = best[ranked[1]] if len(ranked) > 1 else 0.0
        decisive = (
            bool(fitting)
            and top - runner_up >= self._margin
            and core_len[ranked[0]] >= _FUZZY_DECISIVE_LEN
        )
        if decisive:
            return _Verdict(MATCHED, METHOD_FUZZY, top, code=ranked[0])
        return _Verdict(AMBIGUOUS, METHOD_FUZZY, top, candidates=tuple(ranked))


def _clean(value: object) -> str:
    """A cell value as stripped text ('' for None and NaN)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def _mask(text: str, spans: Iterable[_Span]) -> str:
    chars = list(text)
    for s in spans:
        chars[s.start : s.end] = _MASK * (s.end - s.start)
    return "".join(chars)


def _suffix_follows(text: str, pos: int, kind: str) -> bool:
    for suffix in _SUFFIXES[kind]:
        if text.startswith(suffix, pos):
            return not (suffix == _VILLAGE_CHAR and _road_follows(text, pos + len(suffix)))
    return False


def _suffix_positions(text: str) -> list[tuple[int, str]]:
    """Where committee suffixes start (longest at each place), skipping road names."""
    out = []
    for match in _SUFFIX_RE.finditer(text):
        suffix = match.group()
        if not (suffix == _VILLAGE_CHAR and _road_follows(text, match.end())):
            out.append((match.start(), _SUFFIX_KIND[suffix]))
    return out
