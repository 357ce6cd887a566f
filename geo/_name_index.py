"""The geocoder's index of a gazetteer's names, and where they occur in address text.

:class:`NameIndex` holds every spelling of the towns (full names and bare stems)
and villages (with and without committee suffix, aliases, numeral variants) as
lookup keys with their role, the village cores for pinyin and fuzzy lookup, and
the district prefixes to strip. :meth:`NameIndex.select` finds the
non-overlapping names in a normalised address; :mod:`geo._match_rules` and
:mod:`geo.geocode` decide what they mean.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from geo._address import (
    COUNTRY,
    LABELS,
    NUMERALS,
    SUFFIXES,
    VILLAGE_CHAR,
    normalize_address,
    road_follows,
    syllables,
    unit_stem,
)
from geo._names import VILLAGE, core_name, village_kind
from geo.gazetteer import Gazetteer

# Shortest core that is looked up bare, by pinyin or fuzzily.
MIN_CORE_LEN = 2
_MASK = "\x00"

# Roles of a lookup key.
TOWN_FULL = 0
TOWN_STEM = 1
STRONG = 2
BARE = 3


@dataclass(frozen=True, slots=True)
class Hit:
    """A lookup key's meaning: a village (or town) code, the role, whether by alias."""

    code: str  # village code, or town code for town roles
    role: int
    alias: bool = False


@dataclass(frozen=True, slots=True)
class Span:
    """Where a key occurs in the text (``text[start:end] == key``) and what it may mean."""

    start: int
    end: int
    key: str
    hits: tuple[Hit, ...]

    def roles(self, *roles: int) -> tuple[Hit, ...]:
        """The hits with one of these roles."""
        return tuple(h for h in self.hits if h.role in roles)


@dataclass(frozen=True, slots=True)
class Core:
    """A core name for pinyin and fuzzy lookup."""

    core: str
    code: str
    kind: str


def _analyse(name: str, kind: str) -> tuple[str, str, str, bool]:
    """Normalised name, core, kind and whether it carries a committee suffix.

    A name without a suffix (an alias such as "王家") keeps ``kind``.
    """
    text = normalize_address(name)
    has_suffix = village_kind(text) != VILLAGE or text.endswith(SUFFIXES[VILLAGE])
    if not has_suffix:
        return text, text, kind, False
    return text, core_name(text), village_kind(text), True


class NameIndex:
    """Every spelling of a gazetteer's towns and villages, as lookup keys by role.

    Parameters
    ----------
    gazetteer
        The towns and villages (with aliases) to index.
    """

    def __init__(self, gazetteer: Gazetteer) -> None:
        self._gaz = gazetteer
        self.town_of = {v.code: v.town_code for v in gazetteer.villages}
        self._build_prefixes()
        self._build_keys()
        self._build_cores()

    def _build_prefixes(self) -> None:
        gaz = self._gaz
        full = [*gaz.district_names, *gaz.parents]
        stems = [COUNTRY, *(unit_stem(name) for name in full)]
        self.full_prefixes = tuple(sorted(set(full), key=len, reverse=True))
        self.stem_prefixes = tuple(sorted(set(stems) - set(full), key=len, reverse=True))
        self.district_codes = frozenset({gaz.district_code, *gaz.former_codes})

    def _add_key(self, keys: dict[str, dict[Hit, None]], key: str, hit: Hit) -> None:
        key = normalize_address(key)
        if len(key) >= MIN_CORE_LEN:
            keys.setdefault(key, {})[hit] = None

    def _village_keys(
        self, keys: dict[str, dict[Hit, None]], name: str, code: str, kind: str, alias: bool
    ) -> None:
        text, core, kind, has_suffix = _analyse(name, kind)
        if not text:
            return
        if has_suffix:
            self._add_key(keys, text, Hit(code, STRONG, alias))
        cores = [core]
        if kind == VILLAGE and not core.endswith(VILLAGE_CHAR):
            cores.append(core + VILLAGE_CHAR)  # 周村委会 is the committee of 周村
        if core[-1] in NUMERALS:
            cores.append(core[:-1] + NUMERALS[core[-1]])  # 溪口一村 / 溪口1村
        for c in cores:
            for suffix in SUFFIXES[kind]:
                self._add_key(keys, c + suffix, Hit(code, STRONG, alias))
        if len(core) >= MIN_CORE_LEN:
            self._add_key(keys, core, Hit(code, BARE, alias))

    def _build_keys(self) -> None:
        keys: dict[str, dict[Hit, None]] = {}
        stems: set[str] = set()
        for town in self._gaz.towns:
            for spelling in town.spellings:
                self._add_key(keys, spelling, Hit(town.code, TOWN_FULL))
            for stem in town.stems:
                self._add_key(keys, stem, Hit(town.code, TOWN_STEM))
                stems.add(normalize_address(stem))
        for v in self._gaz.villages:
            self._village_keys(keys, v.name, v.code, v.kind, alias=False)
            for alias in v.aliases:
                self._village_keys(keys, alias, v.code, v.kind, alias=True)
        self.keys: dict[str, tuple[Hit, ...]] = {k: tuple(h) for k, h in keys.items()}
        by_prefix: dict[str, list[str]] = {}
        for key in self.keys:
            by_prefix.setdefault(key[:MIN_CORE_LEN], []).append(key)
        self.by_prefix = {
            p: tuple(sorted(ks, key=len, reverse=True)) for p, ks in by_prefix.items()
        }
        self.lengths_by_prefix = {
            p: tuple(sorted({len(k) for k in ks}, reverse=True)) for p, ks in by_prefix.items()
        }
        self.town_stems = frozenset(stems)

    def _build_cores(self) -> None:
        cores: dict[Core, None] = {}
        for v in self._gaz.villages:
            for name in (v.name, *v.aliases):
                _text, core, kind, _has_suffix = _analyse(name, v.kind)
                if len(core) >= MIN_CORE_LEN:
                    cores[Core(core, v.code, kind)] = None
        self.cores_by_kind: dict[str, tuple[Core, ...]] = {
            kind: tuple(c for c in cores if c.kind == kind) for kind in SUFFIXES
        }
        self.core_names_by_kind = {
            kind: [c.core for c in cs] for kind, cs in self.cores_by_kind.items()
        }
        pinyin: dict[tuple[str, ...], list[Core]] = {}
        for c in cores:
            pinyin.setdefault(syllables(c.core), []).append(c)
        self.pinyin = {k: tuple(v) for k, v in pinyin.items()}
        self.pinyin_lengths = tuple(sorted({len(k) for k in pinyin}, reverse=True))
        self.all_cores = frozenset(c.core for c in cores)
        self.max_core_len = max((len(c.core) for c in cores), default=MIN_CORE_LEN)

    def strip_prefixes(self, text: str) -> str:
        """``text`` without the district's own province/city/district names and labels."""
        for full in self.full_prefixes:
            text = text.replace(full, "")
        changed = True
        while changed and text:
            changed = False
            for label in LABELS:
                if text.startswith(label):
                    text = text[len(label) :]
                    changed = True
            for stem in self.stem_prefixes:
                if text.startswith(stem) and not self._key_starts_longer(text, len(stem)):
                    text = text[len(stem) :]
                    changed = True
        return text

    def _key_starts_longer(self, text: str, length: int) -> bool:
        keys = self.by_prefix.get(text[:MIN_CORE_LEN], ())
        return any(len(k) > length and text.startswith(k) for k in keys)

    def scan(self, text: str) -> list[Span]:
        """Every key occurrence, minus town stems and bare names that cannot count.

        A town stem counts at the start or the end of the text only; stems and bare
        names followed by 路/街/桥/小区... are part of a road or estate name, unless
        a suffixed village name starts there (松岙街一村, 锦屏北街村).
        """
        found: list[tuple[int, int, str, tuple[Hit, ...]]] = []
        n = len(text)
        keys = self.keys
        for i in range(n - 1):
            for length in self.lengths_by_prefix.get(text[i : i + MIN_CORE_LEN], ()):
                end = i + length
                hits = keys.get(text[i:end]) if end <= n else None
                if hits:
                    found.append((i, end, text[i:end], hits))
        strong_starts = {i for i, _end, _key, hits in found if any(h.role == STRONG for h in hits)}
        spans = []
        for i, end, key, hits in found:
            road = road_follows(text, end) and end not in strong_starts
            keep = tuple(
                h
                for h in hits
                if not (h.role == TOWN_STEM and (road or (i != 0 and end != n)))
                and not (h.role == BARE and road)
            )
            if keep:
                spans.append(Span(i, end, key, keep))
        return spans

    def select(self, text: str) -> list[Span]:
        """Non-overlapping spans in text order.

        Suffixed names and full town names go first, then town stems and bare
        names; within each, longest first, then leftmost ("溪口三石村" is 溪口 +
        三石村, not 溪口三 + 石村).
        """

        def rank(span: Span) -> tuple[int, int, int]:
            weak = not span.roles(TOWN_FULL, STRONG)
            return (weak, span.start - span.end, span.start)

        taken: list[Span] = []
        for span in sorted(self.scan(text), key=rank):
            if all(span.end <= t.start or span.start >= t.end for t in taken):
                taken.append(span)
        return sorted(taken, key=lambda s: s.start)

    def common_town(self, codes: Iterable[str], scope: frozenset[str] | None) -> str | None:
        """The one town of all candidates, when the text does not name another."""
        towns = {self.town_of[c] for c in codes}
        if len(towns) == 1 and (scope is None or towns <= scope):
            return towns.pop()
        return None

    def in_scope(self, codes: Iterable[str], scope: frozenset[str] | None) -> set[str]:
        """The village codes whose town is in ``scope`` (all when None)."""
        if scope is None:
            return set(codes)
        return {c for c in codes if self.town_of[c] in scope}


def mask_spans(text: str, spans: Iterable[Span]) -> str:
    """``text`` with the characters of ``spans`` blanked out (same length)."""
    chars = list(text)
    for s in spans:
        chars[s.start : s.end] = _MASK * (s.end - s.start)
    return "".join(chars)
