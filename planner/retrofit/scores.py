"""Retrofit priority scores (无障碍改造进家庭): each person's points.

A person is scored unless they await village review (``needs_review`` or no
village) or were retrofitted less than ``repeat_after_years`` before the plan
year. Retrofits recorded after the plan year are ignored, so a past year can be
planned again as it stood. Points per part of ``[retrofit.weights]`` — grade,
category, wheelchair, 低保/低边, age band, lives alone, 老养残. Families
(:mod:`planner.retrofit.families`) take their best member's score. The helpers
here (review, record, 困难重度) are shared by the plan and the community ranking.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.domain.eligibility import age_years, retrofit_needy
from planner.domain.families import awaiting_review
from planner.domain.retrofit_rate import on_record
from planner.errors import ConfigError, InputError
from planner.settings import Config

__all__ = [
    "PARTS",
    "PART_LABELS",
    "SCORE_DECIMALS",
    "awaiting_review",
    "check_year",
    "done_recently",
    "flag",
    "needy",
    "numbers",
    "on_record",
    "reference_day",
    "retrofit_scores",
]

#: Score parts, in the order shown; each is a column ``<part>_pts``.
PARTS = ("grade", "category", "wheelchair", "low_income", "age", "lives_alone", "elderly_carer")
PART_LABELS = {
    "grade": "等级分",
    "category": "类别分",
    "wheelchair": "轮椅分",
    "low_income": "低保低边分",
    "age": "年龄分",
    "lives_alone": "独居分",
    "elderly_carer": "老养残分",
}
# Scores are compared after rounding, so that sums of the same points in a
# different order (0.1 + 0.2 vs 0.3) tie as they should.
SCORE_DECIMALS = 9
# Ages are taken on the last day of the plan year.
_YEAR_END = (12, 31)


def flag(series: pd.Series) -> NDArray[np.bool_]:
    """A yes/no column (True, False or missing) as booleans; missing is False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def numbers(series: pd.Series) -> pd.Series:
    """A column as numbers; text that is not a number becomes NaN."""
    return pd.to_numeric(series, errors="coerce")


def reference_day(year: int) -> date:
    """The day ages are taken on: 31 December of the plan year."""
    return date(year, *_YEAR_END)


def check_year(year: int) -> None:
    """Refuse a plan year that is not a calendar year (InputError naming --year)."""
    if year < 1 or year > date.max.year:
        raise InputError("年份无效；请给出公历年份，如 --year 2025", value=str(year))


def done_recently(
    residents: pd.DataFrame, *, year: int, repeat_after_years: int
) -> NDArray[np.bool_]:
    """Retrofitted less than ``repeat_after_years`` before ``year`` (not candidates)."""
    ry = on_record(residents, year=year)
    return (ry.notna() & (year - ry < repeat_after_years)).to_numpy()


def needy(residents: pd.DataFrame, config: Config) -> NDArray[np.bool_]:
    """困难重度 households, as the coverage indicator counts them."""
    return retrofit_needy(residents, config)


def _check_categories(config: Config) -> None:
    unknown = sorted(set(config.retrofit.weights.category) - set(config.categories))
    if unknown:
        raise ConfigError(
            f"[retrofit.weights] category 中有未知的残疾类别「{'、'.join(unknown)}」；"
            f"可用：{'、'.join(config.categories)}"
        )


def _age_points(residents: pd.DataFrame, *, config: Config, year: int) -> NDArray[np.float64]:
    bands = config.retrofit.weights.age
    points = np.zeros(len(residents), dtype=float)
    if not bands or not len(residents):
        return points
    birth = pd.to_datetime(residents["birth_date"])
    known = birth.notna().to_numpy()
    age = np.full(len(residents), -1, dtype=np.int64)
    age[known] = age_years(birth[known], today=reference_day(year))
    for band in bands:  # ascending: the highest band reached wins
        points = np.where(age >= band.min_age, band.points, points)
    return points


def retrofit_scores(residents: pd.DataFrame, *, config: Config, year: int) -> pd.DataFrame:
    """Priority scores of this year's retrofit candidates.

    Parameters
    ----------
    residents
        One row per resident, indexed by resident id, with columns ``category,
        grade, birth_date, village_code, low_income, lives_alone, elderly_carer,
        wheelchair, retrofit_year, needs_review`` (as
        :func:`planner.store.frames.residents_frame` gives them).
    config
        ``[retrofit]`` (weights, ``repeat_after_years``) and the categories.
    year
        The plan year; ages are completed years on 31 December of it.

    Returns
    -------
    pandas.DataFrame
        One row per candidate (residents not awaiting review and not retrofitted
        less than ``repeat_after_years`` before ``year``), same index as
        ``residents`` and in its order: one column ``<part>_pts`` per part of
        :data:`PARTS` (points) and ``score``, their sum.

    Raises
    ------
    ConfigError
        When the weights name a category that is not configured.
    InputError
        When ``year`` is not a calendar year.
    """
    check_year(year)
    _check_categories(config)
    rc = config.retrofit
    w = rc.weights
    keep = ~awaiting_review(residents) & ~done_recently(
        residents, year=year, repeat_after_years=rc.repeat_after_years
    )
    cand = residents[keep]
    grade = numbers(cand["grade"])
    parts = {
        "grade": grade.map(w.grade).fillna(0.0).to_numpy(dtype=float),
        "category": cand["category"].map(w.category).fillna(w.category_default).to_numpy(float),
        "wheelchair": w.wheelchair * flag(cand["wheelchair"]),
        "low_income": cand["low_income"].map(w.low_income).fillna(0.0).to_numpy(dtype=float),
        "age": _age_points(cand, config=config, year=year),
        "lives_alone": w.lives_alone * flag(cand["lives_alone"]),
        "elderly_carer": w.elderly_carer * flag(cand["elderly_carer"]),
    }
    out = pd.DataFrame({f"{p}_pts": parts[p] for p in PARTS}, index=cand.index, dtype=float)
    out["score"] = out.sum(axis=1)
    return out
