"""Who each facility type serves: eligibility rules from the TOML, per resident.

Rules (``[facility_types.T.eligibility]``): categories (empty = any), grades
(empty = any), an age range in whole years at the reference day, and resident
flags that must all be true (e.g. ``supervised_medication``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.errors import ConfigError
from planner.settings import Config, Eligibility

FLAG_COLUMNS = (
    "living_subsidy",
    "care_subsidy",
    "lives_alone",
    "elderly_carer",
    "bedridden",
    "wheelchair",
    "supervised_medication",
    "stroke_aftercare",
)


def age_years(birth: pd.Series, *, today: date) -> NDArray[np.int64]:
    """Completed years of age at ``today`` for a Series of dates."""
    b = pd.to_datetime(birth)
    years = today.year - b.dt.year
    before_birthday = (b.dt.month > today.month) | (
        (b.dt.month == today.month) & (b.dt.day > today.day)
    )
    return np.asarray(years - before_birthday.astype(int), dtype=np.int64)


def eligible_mask(residents: pd.DataFrame, rule: Eligibility, *, today: date) -> NDArray[np.bool_]:
    """Which residents a rule admits.

    Parameters
    ----------
    residents
        Columns ``category``, ``grade``, ``birth_date`` and the flag columns
        named in ``rule.flags``.
    rule
        The facility type's eligibility.
    today
        Reference day for ages.
    """
    ok = np.ones(len(residents), dtype=bool)
    if rule.categories:
        ok &= residents["category"].isin(rule.categories).to_numpy()
    if rule.grades:
        ok &= residents["grade"].isin(rule.grades).to_numpy()
    if rule.min_age is not None or rule.max_age is not None:
        age = age_years(residents["birth_date"], today=today)
        if rule.min_age is not None:
            ok &= age >= rule.min_age
        if rule.max_age is not None:
            ok &= age <= rule.max_age
    for flag in rule.flags:
        if flag not in residents.columns:
            raise ConfigError(
                f"资格规则引用了未知的标记「{flag}」；可用：{'、'.join(FLAG_COLUMNS)}"
            )
        ok &= residents[flag].fillna(False).astype(bool).to_numpy()
    return ok


SEVERE_GRADES = (1, 2)
POOR = ("dibao", "dibian")


def retrofit_needy(residents: pd.DataFrame, config: Config) -> NDArray[np.bool_]:
    """Residents who make a family count for the retrofit indicator (符合条件).

    The rule of ``[indicators]``: grade in ``retrofit_grades`` (default 1–2),
    低保/低边 kind in ``retrofit_low_income`` (default both) and category in
    ``retrofit_categories``; an empty list is no condition.
    """
    ind = config.indicators
    ok = np.ones(len(residents), dtype=bool)
    if ind.retrofit_low_income:
        ok &= residents["low_income"].isin(ind.retrofit_low_income).to_numpy()
    if ind.retrofit_grades:
        grade = pd.to_numeric(residents["grade"], errors="coerce")
        ok &= grade.isin(ind.retrofit_grades).to_numpy()
    if ind.retrofit_categories:
        ok &= residents["category"].isin(ind.retrofit_categories).to_numpy()
    return ok


def eligibility_table(residents: pd.DataFrame, config: Config, *, today: date) -> pd.DataFrame:
    """One boolean column per facility type (same index as ``residents``)."""
    return pd.DataFrame(
        {
            key: eligible_mask(residents, ft.eligibility, today=today)
            for key, ft in config.facility_types.items()
        },
        index=residents.index,
    )
