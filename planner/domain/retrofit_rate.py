"""符合条件残疾人家庭无障碍改造率, the plan's 13th indicator, counted per family.

- 分母 (denominator): families (:mod:`planner.domain.families`) with at least one
  member who meets the rule of ``[indicators]`` (:func:`retrofit_needy`: grade in
  ``retrofit_grades``, 低保/低边 in ``retrofit_low_income``, category in
  ``retrofit_categories``; default 一二级 and 低保/低边, every category).
- 分子 (numerator): of those, families retrofitted within the configured number of
  years: the latest retrofit year recorded for any member, up to the plan year,
  is less than ``[indicators] retrofit_within_years`` before it (default
  ``[retrofit] repeat_after_years``, 10: a retrofit of 2016 counts in 2025, one of
  2015 no longer does — the family may then be retrofitted again).

Residents awaiting review (``needs_review`` or no village) are not counted, in
either. A family's village and town are those of its first member (the lowest
resident id), so each family is counted in exactly one town. Pure: frames in,
typed values out.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.domain.eligibility import retrofit_needy
from planner.domain.families import awaiting_review, family_basis, family_keys
from planner.settings import Config
from planner.units import PERCENT

__all__ = [
    "FAMILY_COLUMNS",
    "FamilyRetrofitRate",
    "counts_as_retrofitted",
    "definition",
    "eligibility_text",
    "family_table",
    "on_record",
    "rate_pct",
    "retrofit_family_rate",
    "town_rates",
    "within_years",
]

PCT_DECIMALS = 2
_GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_LOW_INCOME_NAMES = {"dibao": "低保", "dibian": "低边"}
FAMILY_COLUMNS = (
    "first_id",
    "village_code",
    "town_code",
    "members",
    "basis",
    "eligible",
    "last_retrofit",
    "retrofitted",
)


class FamilyRetrofitRate(NamedTuple):
    """The indicator at one moment: ``numerator, denominator, pct, by_town``.

    Attributes
    ----------
    numerator
        Eligible families retrofitted within the configured years.
    denominator
        Families with an eligible member.
    pct
        ``numerator / denominator`` in percent, 2 decimals; None without families.
    by_town
        Indexed by ``town_code`` (towns with an eligible family, in code order):
        ``eligible`` (families), ``retrofitted`` (families), ``pct``.
    """

    numerator: int
    denominator: int
    pct: float | None
    by_town: pd.DataFrame


def rate_pct(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator`` in percent, 2 decimals (None when nothing is counted)."""
    return round(PERCENT * numerator / denominator, PCT_DECIMALS) if denominator else None


def eligibility_text(config: Config) -> str:
    """Who makes a family count, in Chinese, from ``[indicators]``.

    The default rule reads ``一级或二级、低保或低边``.
    """
    ind = config.indicators
    parts = [
        "或".join(_GRADE_NAMES[g] for g in sorted(ind.retrofit_grades)) or "等级不限",
        "或".join(_LOW_INCOME_NAMES[k] for k in ind.retrofit_low_income) or "不论是否低保低边",
    ]
    if ind.retrofit_categories:
        parts.append("或".join(config.category_label(c) for c in ind.retrofit_categories))
    return "、".join(parts)


def definition(config: Config) -> tuple[str, str]:
    """The indicator's 分子 and 分母 in Chinese, as configured."""
    denominator = (
        f"有符合条件成员（{eligibility_text(config)}，不含待核查人员）的残疾人家庭数"
        "（家庭按户号识别，无户号者按同村同址）"
    )
    numerator = f"其中最近一次家庭无障碍改造在 {within_years(config)} 年内的家庭数"
    return numerator, denominator


def within_years(config: Config) -> int:
    """Years a retrofit counts for the rate (``retrofit_within_years`` or the repeat period)."""
    years = config.indicators.retrofit_within_years
    return config.retrofit.repeat_after_years if years is None else years


def on_record(residents: pd.DataFrame, *, year: int) -> pd.Series:
    """Retrofit years up to the plan year, as floats (later ones are ignored: NaN)."""
    ry = pd.to_numeric(residents["retrofit_year"], errors="coerce").astype(float)
    return ry.where(ry <= year)


def counts_as_retrofitted(last_retrofit: pd.Series, *, year: int, within: int) -> NDArray[np.bool_]:
    """Whether a retrofit in ``last_retrofit`` (NaN: none) is less than ``within`` years old."""
    last = last_retrofit.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(last) & (year - last < within)


def family_table(
    residents: pd.DataFrame, config: Config, *, year: int, keys: pd.Series | None = None
) -> pd.DataFrame:
    """One row per family of the counted residents.

    Parameters
    ----------
    residents
        Indexed by resident id: ``category, grade, low_income, village_code,
        town_code, needs_review, retrofit_year`` and, when known, ``household_id``
        and ``address`` (as :func:`planner.store.frames.residents_frame` gives
        them, with the addresses added for grouping).
    config
        The rule of ``[indicators]`` and the years a retrofit counts.
    year
        The plan year: later retrofits are ignored.
    keys
        The residents' family keys when already known (:func:`family_keys` of
        the counted residents); computed otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by the family key, in the order of the first members' ids, with
        :data:`FAMILY_COLUMNS`: ``first_id`` (lowest resident id), ``village_code``
        and ``town_code`` (the first member's), ``members`` (counted residents),
        ``basis`` (``household_id``, ``address`` or ``single``), ``eligible`` (a
        member meets the rule), ``last_retrofit`` (latest year on record, NaN
        when none) and ``retrofitted`` (that retrofit counts for the rate).
    """
    counted = residents[~awaiting_review(residents)]
    counted = counted.loc[sorted(counted.index)]
    frame = pd.DataFrame(
        {
            "family": family_keys(counted) if keys is None else keys.loc[counted.index],
            "first_id": counted.index.to_numpy(),
            "village_code": counted["village_code"],
            "town_code": counted["town_code"],
            "eligible": retrofit_needy(counted, config),
            "last_retrofit": on_record(counted, year=year),
        },
        index=counted.index,
    )
    families = frame.groupby("family", sort=False).agg(
        first_id=("first_id", "first"),
        village_code=("village_code", "first"),
        town_code=("town_code", "first"),
        members=("first_id", "size"),
        eligible=("eligible", "any"),
        last_retrofit=("last_retrofit", "max"),
    )
    families["basis"] = [family_basis(str(k)) for k in families.index]
    families["retrofitted"] = counts_as_retrofitted(
        families["last_retrofit"], year=year, within=within_years(config)
    )
    families["eligible"] = families["eligible"].astype(bool)
    return families[list(FAMILY_COLUMNS)]


def town_rates(families: pd.DataFrame) -> pd.DataFrame:
    """Eligible and retrofitted families per town (``town_code``, ``eligible``,
    ``retrofitted`` columns in; towns with eligible families, by code, out)."""
    eligible = families[families["eligible"]]
    by_town = eligible.groupby("town_code").agg(
        eligible=("eligible", "size"), retrofitted=("retrofitted", "sum")
    )
    by_town = by_town.astype(int).sort_index()
    by_town["pct"] = [
        rate_pct(int(n), int(d))
        for n, d in zip(by_town["retrofitted"], by_town["eligible"], strict=True)
    ]
    return by_town


def retrofit_family_rate(
    residents: pd.DataFrame, config: Config, *, year: int
) -> FamilyRetrofitRate:
    """符合条件残疾人家庭无障碍改造率 in the plan year, district and per town.

    Parameters
    ----------
    residents
        As for :func:`family_table` (without an ``address`` column, residents
        without 户号 are families of one).
    config
        ``[indicators]`` (``retrofit_grades``, ``retrofit_low_income``,
        ``retrofit_categories``, ``retrofit_within_years``) and ``[retrofit]
        repeat_after_years``.
    year
        The plan year (retrofits recorded after it are ignored).

    Returns
    -------
    FamilyRetrofitRate
        ``(numerator, denominator, pct, by_town)``; the target and its
        comparison (≥ ``[indicators] retrofit_pct``) are the caller's.
    """
    families = family_table(residents, config, year=year)
    eligible = families[families["eligible"]]
    numerator, denominator = int(eligible["retrofitted"].sum()), len(eligible)
    return FamilyRetrofitRate(
        numerator, denominator, rate_pct(numerator, denominator), town_rates(families)
    )
