"""Town and village name helpers: committee suffixes, kinds and old spellings.

:func:`core_name` strips the committee suffix ("岩头村委会" -> "岩头"),
:func:`village_kind` classifies a name as village, community or living area,
:func:`town_stem` and :func:`town_variants` give the spellings of a town name
that old registers use (尚田街道 / 尚田镇 / 尚田乡 / 尚田), and
:func:`district_variants` those of a district (奉化区 / 奉化市 / 奉化县).
Re-exported by :mod:`geo.gazetteer`.
"""

from __future__ import annotations

__all__ = [
    "COMMUNITY",
    "LIVING_AREA",
    "MIN_STEM_LEN",
    "VILLAGE",
    "core_name",
    "district_variants",
    "town_stem",
    "town_variants",
    "village_kind",
]

VILLAGE = "village"
COMMUNITY = "community"
LIVING_AREA = "living_area"

# Committee suffixes, longest first so that "社区居委会" wins over "居委会".
_VILLAGE_SUFFIXES = ("村民委员会", "村委会", "村")
_COMMUNITY_SUFFIXES = ("社区居民委员会", "社区居委会", "居民委员会", "居委会", "社区")
_LIVING_SUFFIXES = ("生活区",)
_SUFFIX_KIND: tuple[tuple[str, str], ...] = tuple(
    sorted(
        [(s, VILLAGE) for s in _VILLAGE_SUFFIXES]
        + [(s, COMMUNITY) for s in _COMMUNITY_SUFFIXES]
        + [(s, LIVING_AREA) for s in _LIVING_SUFFIXES],
        key=lambda pair: -len(pair[0]),
    )
)
# Suffixes that name the committee of a village whose own name ends in 村
# ("岩头村村委会"): after stripping one of them a trailing 村 is stripped too.
_COMMITTEE_SUFFIXES = ("村民委员会", "村委会")
_VILLAGE_CHAR = "村"

# Town suffixes, longest first; every town is also written with the others.
_TOWN_SUFFIXES = ("街道办事处", "街道", "镇", "乡")
_TOWN_SPELLINGS = ("街道", "镇", "乡")
_DISTRICT_SUFFIXES = ("区", "市", "县")
MIN_STEM_LEN = 2


def core_name(name: str) -> str:
    """Strip the committee suffix from a village or community name.

    Parameters
    ----------
    name
        A village name as written in the list or a register.

    Returns
    -------
    str
        The name without one of 村民委员会/村委会/村, 社区居委会/居委会/社区 (and
        their 居民委员会 forms) or 生活区. "岩头村委会", "岩头村" and "岩头村村委会"
        all give "岩头"; "周村委会" gives "周". A name that is only a suffix is
        returned unchanged.

    Examples
    --------
    >>> core_name("岩头村委会"), core_name("长岭社区"), core_name("三溪农场生活区")
    ('岩头', '长岭', '三溪农场')
    """
    text = name.strip()
    for suffix, _kind in _SUFFIX_KIND:
        if text.endswith(suffix) and len(text) > len(suffix):
            core = text[: -len(suffix)]
            if (
                suffix in _COMMITTEE_SUFFIXES
                and core.endswith(_VILLAGE_CHAR)
                and len(core) > len(_VILLAGE_CHAR)
            ):
                core = core[: -len(_VILLAGE_CHAR)]
            return core
    return text


def village_kind(name: str) -> str:
    """Classify a village name by its suffix.

    Returns
    -------
    str
        ``"village"`` for 村委会/村民委员会/村, ``"community"`` for
        社区/居委会/社区居委会, ``"living_area"`` for 生活区 (farm and forest
        living areas). Names without a known suffix count as ``"village"``.
    """
    text = name.strip()
    for suffix, kind in _SUFFIX_KIND:
        if text.endswith(suffix) and len(text) > len(suffix):
            return kind
    return VILLAGE


def town_stem(name: str) -> str:
    """A town name without 街道/镇/乡 ("尚田街道" -> "尚田").

    A stem shorter than two characters is not used on its own; the name is
    then returned unchanged.
    """
    text = name.strip()
    for suffix in _TOWN_SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= MIN_STEM_LEN:
            return text[: -len(suffix)]
    return text


def town_variants(name: str) -> tuple[str, ...]:
    """The spellings registers use for a town: X街道, X镇, X乡 (old names).

    The bare stem is not included (see :func:`town_stem`); the name itself comes
    first.
    """
    text = name.strip()
    stem = town_stem(text)
    out = [text]
    if stem != text:
        out += [stem + suffix for suffix in _TOWN_SPELLINGS]
    return tuple(dict.fromkeys(out))


def district_variants(name: str) -> tuple[str, ...]:
    """The spellings of a district name: X区, X市, X县 (the name itself first)."""
    text = name.strip()
    for suffix in _DISTRICT_SUFFIXES:
        if text.endswith(suffix) and len(text) - len(suffix) >= MIN_STEM_LEN:
            stem = text[: -len(suffix)]
            return tuple(dict.fromkeys([text, *(stem + s for s in _DISTRICT_SUFFIXES)]))
    return (text,)
