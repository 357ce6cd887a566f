"""How the names found in an address become a verdict: statuses, methods, scores, rules.

The rules of :mod:`geo.geocode` (see its docstring for the resolution order):
suffixed names (:func:`decide_strong`), bare names (:func:`decide_bare`),
homophone typos (:func:`decide_pinyin`), one-edit typos (:func:`decide_fuzzy`),
names that are not decisive (:func:`undecided`) and the village column against
the address column (:func:`combine`). Each returns a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from geo._address import (
    ESTATE_CHAR,
    is_cjk,
    starts_word,
    suffix_follows,
    suffix_positions,
    syllables,
    tail_ok,
)
from geo._name_index import BARE, MIN_CORE_LEN, STRONG, NameIndex, Span
from geo._names import COMMUNITY, LIVING_AREA, VILLAGE

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

SCORE_CORRECTION = 100.0
SCORE_CODE = 100.0
SCORE_EXACT = 100.0
SCORE_ALIAS = 95.0
SCORE_BARE = 90.0
SCORE_PINYIN = 90.0
SCORE_NONE = 0.0

# A bare core (no committee suffix) or a fuzzy match without a known town must be
# at least this long to be decisive; 2-character cores are too common.
_MIN_LEN_WITHOUT_TOWN = 3
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


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the evidence in a text says: status, method, score, code or candidates."""

    status: str
    method: str
    score: float
    code: str | None = None
    candidates: tuple[str, ...] = ()
    town: str | None = None
    foreign_town: bool = False


NO_MATCH = Verdict(UNMATCHED, METHOD_NONE, SCORE_NONE)
IN_ANOTHER_DISTRICT = Verdict(OUTSIDE, METHOD_OUTSIDE, SCORE_NONE)


def sorted_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Distinct codes in ascending order."""
    return tuple(sorted(set(codes)))


def decide_strong(index: NameIndex, spans: list[Span], scope: frozenset[str] | None) -> Verdict:
    """Suffixed names: matched when all of them, within the towns named, agree."""
    per_span = [{h.code for h in s.roles(STRONG)} for s in spans]
    everything = {c for codes in per_span for c in codes}
    fitting = [index.in_scope(codes, scope) for codes in per_span]
    if any(not f for f in fitting):
        # The town (or another name in the text) disagrees with a village name.
        return Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_EXACT, candidates=sorted_codes(everything))
    common = set.intersection(*fitting)
    if len(common) != 1:
        cands = sorted_codes(c for codes in fitting for c in codes)
        return Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_EXACT, candidates=cands)
    code = common.pop()
    by_alias = all(not any(h.code == code and not h.alias for h in s.roles(STRONG)) for s in spans)
    if by_alias:
        return Verdict(MATCHED, METHOD_ALIAS, SCORE_ALIAS, code=code)
    return Verdict(MATCHED, METHOD_EXACT, SCORE_EXACT, code=code)


def decide_bare(
    index: NameIndex, text: str, spans: list[Span], scope: frozenset[str] | None
) -> Verdict:
    """Bare names: matched only for one fitting village with a clean tail."""
    everything = {h.code for s in spans for h in s.roles(BARE)}
    fitting = index.in_scope(everything, scope)
    if not fitting:
        return Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_BARE, candidates=sorted_codes(everything))
    span = spans[0]
    decisive = (
        len(spans) == 1
        and len(fitting) == 1
        and tail_ok(text, span.end)
        and (scope is not None or len(span.key) >= _MIN_LEN_WITHOUT_TOWN)
        and span.key not in index.town_stems
    )
    if not decisive:
        return Verdict(AMBIGUOUS, METHOD_EXACT, SCORE_BARE, candidates=sorted_codes(fitting))
    code = fitting.pop()
    alias = all(h.alias for h in span.roles(BARE) if h.code == code)
    return Verdict(MATCHED, METHOD_ALIAS if alias else METHOD_EXACT, SCORE_BARE, code=code)


def decide_pinyin(
    index: NameIndex, text: str, masked: str, scope: frozenset[str] | None
) -> Verdict | None:
    """Homophones: same toneless pinyin as a core, 1-2 characters differ, suffix follows."""
    sounds = syllables(masked)
    found: set[str] = set()
    n = len(masked)
    for i in range(n):
        if not starts_word(masked, i):
            continue
        for length in index.pinyin_lengths:
            if i + length > n:
                continue
            cores = index.pinyin.get(sounds[i : i + length])
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
                if 1 <= diff <= limit and suffix_follows(masked, i + length, c.kind):
                    found.add(c.code)
    if not found:
        return None
    fitting = index.in_scope(found, scope)
    if not fitting:
        return Verdict(AMBIGUOUS, METHOD_PINYIN, SCORE_PINYIN, candidates=sorted_codes(found))
    if len(fitting) > 1:
        return Verdict(AMBIGUOUS, METHOD_PINYIN, SCORE_PINYIN, candidates=sorted_codes(fitting))
    return Verdict(MATCHED, METHOD_PINYIN, SCORE_PINYIN, code=fitting.pop())


def decide_fuzzy(
    index: NameIndex,
    masked: str,
    scope: frozenset[str] | None,
    *,
    min_score: float,
    margin: float,
) -> Verdict | None:
    """One-edit typos of a core followed by a committee suffix (印家肯村)."""
    best: dict[str, float] = {}
    core_len: dict[str, int] = {}
    for pos, kind in suffix_positions(masked):
        canon = _FUZZY_SUFFIX[kind]
        names = index.core_names_by_kind[kind]
        cores = index.cores_by_kind[kind]
        for length in range(MIN_CORE_LEN, min(pos, index.max_core_len + 1) + 1):
            segment = masked[pos - length : pos]
            if not all(is_cjk(ch) for ch in segment):
                break
            if not starts_word(masked, pos - length):
                continue
            if segment in index.all_cores:
                continue  # a real name with another suffix (东门村 for 东门社区): no typo
            if kind == VILLAGE and segment.endswith(ESTATE_CHAR):
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
                if score >= min_score and score > best.get(core.code, -1.0):
                    best[core.code] = score
                    core_len[core.code] = len(core.core)
    if not best:
        return None
    fitting = index.in_scope(best, scope)
    ranked = sorted(fitting or best, key=lambda c: (-best[c], c))
    top = best[ranked[0]]
    runner_up = best[ranked[1]] if len(ranked) > 1 else 0.0
    decisive = (
        bool(fitting) and top - runner_up >= margin and core_len[ranked[0]] >= _FUZZY_DECISIVE_LEN
    )
    if decisive:
        return Verdict(MATCHED, METHOD_FUZZY, top, code=ranked[0])
    return Verdict(AMBIGUOUS, METHOD_FUZZY, top, candidates=tuple(ranked))


def undecided(
    index: NameIndex, weak: Verdict | None, inner: list[Span], scope: frozenset[str] | None
) -> Verdict | None:
    """Ambiguous over the names that were found but are not decisive, if any."""
    codes = {h.code for s in inner for h in s.roles(STRONG)}
    fitting = index.in_scope(codes, scope) or codes
    if weak is not None:
        fitting |= set(weak.candidates)
    if not fitting:
        return weak
    score = weak.score if weak is not None else SCORE_BARE
    return Verdict(AMBIGUOUS, METHOD_EXACT, score, candidates=sorted_codes(fitting))


def combine(index: NameIndex, by_village: Verdict, by_address: Verdict) -> Verdict:
    """Merge the verdicts of the village column and the address column."""
    if by_village.status == MATCHED:
        if by_address.status == MATCHED and by_address.code != by_village.code:
            cands = (by_village.code or "", by_address.code or "")
            return Verdict(AMBIGUOUS, by_village.method, by_village.score, candidates=cands)
        if (
            by_address.method == METHOD_TOWN_ONLY
            and by_address.town is not None
            and by_village.code is not None
            and by_address.town != index.town_of[by_village.code]
        ):
            return Verdict(
                AMBIGUOUS, by_village.method, by_village.score, candidates=(by_village.code,)
            )
        return by_village
    if by_village.status == AMBIGUOUS:
        if by_address.status == MATCHED and by_address.code in by_village.candidates:
            return by_address
        if by_address.status == MATCHED:
            more = (*by_village.candidates, by_address.code or "")
            return Verdict(AMBIGUOUS, by_village.method, by_village.score, candidates=more)
        return by_village
    if by_address.status == UNMATCHED and by_address.method == METHOD_NONE:
        return by_village
    return by_address
