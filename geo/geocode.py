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

The address text (normalisation, word tables) is handled in :mod:`geo._address`,
the index of names in :mod:`geo._name_index` and the rules that turn the names
found into a verdict in :mod:`geo._match_rules`; this module holds the
:class:`Geocoder` that runs them in the order above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from geo._address import (
    DISTRICT_CODE_RE,
    FOREIGN_TOWN_RE,
    FOREIGN_UNIT_RE,
    TOWN_CODE_RE,
    VILLAGE_CODE_RE,
    clean_cell,
    normalize_address,
    starts_word,
)
from geo._match_rules import (
    AMBIGUOUS,
    IN_ANOTHER_DISTRICT,
    MATCHED,
    METHOD_CODE,
    METHOD_CORRECTION,
    METHOD_NONE,
    METHOD_TOWN_ONLY,
    NO_MATCH,
    OUTSIDE,
    SCORE_CODE,
    SCORE_CORRECTION,
    SCORE_NONE,
    STATUS_LABELS,
    STATUSES,
    UNMATCHED,
    Verdict,
    combine,
    decide_bare,
    decide_fuzzy,
    decide_pinyin,
    decide_strong,
    sorted_codes,
    undecided,
)
from geo._name_index import BARE, STRONG, TOWN_FULL, TOWN_STEM, NameIndex, Span, mask_spans
from geo.errors import GazetteerError
from geo.gazetteer import DISTRICT_CODE_LEN, Gazetteer

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

DEFAULT_FUZZY_MIN_SCORE = 80.0
DEFAULT_FUZZY_MARGIN = 8.0
_CACHE_MAX = 200_000


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
        self._index = NameIndex(gazetteer)
        self._cache: dict[tuple[str, frozenset[str] | None], Verdict] = {}

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
        shown = address if isinstance(address, str) else clean_cell(address)
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
        town_text, village_text = clean_cell(town), clean_cell(village)
        address_text, code_text = clean_cell(address), clean_cell(village_code)
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

    def _correction(self, code: str) -> Verdict:
        return Verdict(MATCHED, METHOD_CORRECTION, SCORE_CORRECTION, code=code)

    def _result(self, address: str, verdict: Verdict) -> GeocodeResult:
        gaz = self._gaz
        town_code = verdict.town
        village_name = None
        if verdict.status == MATCHED and verdict.code is not None:
            village_name = gaz.village(verdict.code).name
            town_code = self._index.town_of[verdict.code]
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
        text = self._index.strip_prefixes(normalize_address(town))
        if not text:
            return None, False
        codes: set[str] = set()
        for span in self._index.select(text):
            codes.update(h.code for h in span.roles(TOWN_FULL, TOWN_STEM))
        if codes:
            return frozenset(codes), False
        town_like = text.endswith(("镇", "街道", "乡", "区", "县", "市"))
        return None, town_like

    def _is_outside(self, text: str) -> bool:
        """Whether normalised ``text`` starts with another province, city or district."""
        rest = self._index.strip_prefixes(VILLAGE_CODE_RE.sub("", text))
        foreign = FOREIGN_UNIT_RE.match(rest)
        if foreign is None:
            return False
        first = min((s.start for s in self._index.select(rest)), default=len(rest))
        return foreign.end() <= first

    def _resolve_parts(self, town: str, village: str, address: str, code: str) -> Verdict:
        # Any column placing the row in another district decides: never matched here.
        if any(self._is_outside(normalize_address(p)) for p in (town, village, address) if p):
            return IN_ANOTHER_DISTRICT
        hint, unknown_town = self._town_hint(town) if town else (None, False)
        verdict = self._parts_verdict(hint, village, address, code)
        if unknown_town and verdict.status == MATCHED:
            # The town column names a town outside the gazetteer: never a guess.
            return Verdict(
                AMBIGUOUS, verdict.method, verdict.score, candidates=(verdict.code or "",)
            )
        if verdict.status == UNMATCHED and verdict.method == METHOD_NONE and hint:
            named, _unknown = self._town_hint(f"{village}{address}")
            if len(hint) == 1 and (named is None or hint <= named):
                return Verdict(UNMATCHED, METHOD_TOWN_ONLY, SCORE_NONE, town=next(iter(hint)))
        return verdict

    def _parts_verdict(
        self, hint: frozenset[str] | None, village: str, address: str, code: str
    ) -> Verdict:
        digits = code.removesuffix(".0")
        if VILLAGE_CODE_RE.fullmatch(digits) and self._gaz.has_village(self._current(digits)):
            return self._resolve(digits + normalize_address(village or address), hint)
        if village:
            by_village = self._resolve(normalize_address(village), hint)
            if not address:
                return by_village
            by_address = self._resolve(normalize_address(address), hint)
            return combine(self._index, by_village, by_address)
        if address:
            return self._resolve(normalize_address(address), hint)
        return NO_MATCH

    # ------------------------------------------------------------------ resolve

    def _resolve(self, text: str, hint: frozenset[str] | None) -> Verdict:
        key = (text, hint)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        verdict = self._resolve_uncached(text, hint)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[key] = verdict
        return verdict

    def _resolve_uncached(self, text: str, hint: frozenset[str] | None) -> Verdict:
        codes: list[str] = []

        def village_code(match: re.Match[str]) -> str:
            codes.append(match.group())
            return ""

        def town_code(match: re.Match[str]) -> str:
            town = self._current(match.group())
            return self._gaz.town(town).name if self._gaz.has_town(town) else match.group()

        def district_code(match: re.Match[str]) -> str:
            return "" if match.group() in self._index.district_codes else match.group()

        rest = VILLAGE_CODE_RE.sub(village_code, text)
        rest = TOWN_CODE_RE.sub(town_code, rest)
        rest = DISTRICT_CODE_RE.sub(district_code, rest)
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
        self, codes: list[str], by_name: Verdict, hint: frozenset[str] | None
    ) -> Verdict:
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
            cands = sorted_codes([*known, *named, *by_name.candidates])
            return Verdict(AMBIGUOUS, METHOD_CODE, SCORE_CODE, candidates=cands)
        code, former = next(iter(known.items()))
        if by_name.status == MATCHED:
            agree = by_name.code == code
        elif by_name.status == AMBIGUOUS:
            agree = code in by_name.candidates
        elif by_name.method == METHOD_TOWN_ONLY:
            agree = not former and by_name.town == self._index.town_of[code]
        else:
            agree = not former and by_name.method == METHOD_NONE
        if hint is not None and self._index.town_of[code] not in hint:
            agree = False
        if agree and not by_name.foreign_town:
            return Verdict(MATCHED, METHOD_CODE, SCORE_CODE, code=code)
        cands = (code, *(c for c in (*named, *by_name.candidates) if c != code))
        return Verdict(AMBIGUOUS, METHOD_CODE, SCORE_CODE, candidates=cands)

    def _by_name(self, text: str, hint: frozenset[str] | None) -> Verdict:
        """Resolve by town and village names; ``hint`` are towns named elsewhere."""
        text = self._index.strip_prefixes(text)
        if not text:
            return NO_MATCH
        spans = self._index.select(text)
        first = min((s.start for s in spans), default=len(text))
        foreign = FOREIGN_UNIT_RE.match(text)
        if foreign and foreign.end() <= first:
            return IN_ANOTHER_DISTRICT
        odd_town = FOREIGN_TOWN_RE.match(text)
        foreign_town = bool(odd_town and odd_town.end() <= first)

        town_spans = [s for s in spans if s.roles(TOWN_FULL, TOWN_STEM)]
        text_towns = frozenset(h.code for s in town_spans for h in s.roles(TOWN_FULL, TOWN_STEM))
        scope: frozenset[str] | None = text_towns or hint
        if hint is not None and text_towns:
            scope = hint & text_towns
        boundaries = {0} | {s.end for s in town_spans}
        strong: list[Span] = []  # suffixed names that start a word
        inner: list[Span] = []  # suffixed names inside a longer word (甲岙村 in 马甲岙村)
        bare: list[Span] = []
        for s in spans:
            if s.roles(STRONG):
                starts = s.start in boundaries or starts_word(text, s.start)
                (strong if starts else inner).append(s)
            elif s.roles(TOWN_FULL, TOWN_STEM):
                continue  # a bare name equal to a town stem is the town
            elif s.roles(BARE) and s.start in boundaries:
                bare.append(s)

        verdict: Verdict | None = None
        if strong:
            verdict = decide_strong(self._index, strong, scope)
        weak = decide_bare(self._index, text, bare, scope) if bare and not strong else None
        if weak is not None and weak.status == MATCHED:
            verdict = weak
        if verdict is None:
            # A name that is not decisive ("庄家" in 庄家板村, "甲岙村" in 马甲岙村)
            # may be part of a misspelt longer name: typo matching goes first.
            masked = mask_spans(text, town_spans)
            verdict = decide_pinyin(self._index, text, masked, scope)
            if verdict is None:
                verdict = decide_fuzzy(
                    self._index, masked, scope, min_score=self._min_score, margin=self._margin
                )
            if verdict is None:
                verdict = undecided(self._index, weak, inner, scope)
        if verdict is None:
            if scope is not None and len(scope) == 1 and not foreign_town:
                verdict = Verdict(UNMATCHED, METHOD_TOWN_ONLY, SCORE_NONE, town=next(iter(scope)))
            else:
                verdict = NO_MATCH
        if foreign_town:
            if verdict.status == MATCHED and verdict.code:
                verdict = replace(verdict, status=AMBIGUOUS, candidates=(verdict.code,))
            verdict = replace(verdict, foreign_town=True)
        if verdict.status == AMBIGUOUS:
            verdict = replace(verdict, town=self._index.common_town(verdict.candidates, scope))
        return verdict
