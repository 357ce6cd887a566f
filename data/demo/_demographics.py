"""Who the demo's valid persons are: village, category, age, grade, subsidies, household.

:func:`make_demographics` draws them in a fixed order from the generator's one
random source, calibrated to :mod:`data.demo._calibration`: residents per
village and the gap villages, then categories, ages, grades and the care
subsidy, household details, and 低保/低边 with the living subsidy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from data.demo._calibration import (
    CARE_SUBSIDY_PERSONS,
    CATEGORIES,
    CATEGORY_SHARES,
    ELDERLY_AGE,
    ELDERLY_SHARE,
    ELSEWHERE_MISSING_SHARE,
    GAP_MIN_RESIDENTS,
    GAP_MISSING_SHARE,
    GAP_VILLAGES,
    LIVING_SUBSIDY_OUTSIDE_LOW_INCOME,
    LIVING_SUBSIDY_PERSONS,
    LOW_INCOME_DIBAO_SHARE,
    MIN_PER_VILLAGE,
    VALID_PERSONS,
)
from data.demo._geometry import Village
from data.demo._sampling import exact_counts, pick, pick_from, to_mask


@dataclass
class Demographics:
    """The valid persons as arrays, in generation order (grouped by village)."""

    village: NDArray[np.int64]  # index into the village list
    gaps: list[int]  # indexes of the gap villages
    in_gap: NDArray[np.bool_]
    category: NDArray[np.int64]  # index into CATEGORIES
    cat: NDArray[np.str_]  # category names
    age: NDArray[np.int64]  # years at ``today``
    old: NDArray[np.bool_]  # aged ELDERLY_AGE or more
    severe: NDArray[np.bool_]  # grades 1–2
    grade: NDArray[np.int64]  # 1–4
    care: NDArray[np.bool_]  # 重度残疾人护理补贴
    alone: NDArray[np.bool_]  # 独居
    elder_carer: NDArray[np.bool_]  # 老养残
    dibao: NDArray[np.bool_]  # 低保
    dibian: NDArray[np.bool_]  # 低边
    living: NDArray[np.bool_]  # 困难残疾人生活补贴


def make_demographics(villages: list[Village], rng: np.random.Generator) -> Demographics:
    """Draw the VALID_PERSONS persons of ``villages`` (see the module docstring)."""
    n = VALID_PERSONS
    counts = _allocate(villages, n, rng)
    village = np.repeat(np.arange(len(villages)), counts)
    gaps = _gap_villages(villages, counts, rng)
    in_gap = np.isin(village, gaps)

    shares = np.array(list(CATEGORY_SHARES.values()))
    category = rng.permutation(np.repeat(np.arange(len(CATEGORIES)), exact_counts(shares, n)))
    cat = np.array(CATEGORIES)[category]
    old, age = _ages(cat, rng)
    severe, grade = _grades(cat, in_gap, rng)
    care = _care_subsidy(severe, in_gap, rng)

    # Household details.
    psych = cat == "精神残疾"
    intel = cat == "智力残疾"
    multi = cat == "多重残疾"
    alone = rng.random(n) < np.where(old, 0.10, np.where(age >= 18, 0.03, 0.0))
    carer_p = np.where((age >= 18) & ~old & (intel | psych | multi) & severe, 0.35, 0.0)
    elder_carer = rng.random(n) < np.where((age >= 18) & ~old, np.maximum(carer_p, 0.02), 0.0)
    hilly = np.array([villages[k].hilly for k in village])

    low_w = np.where(severe, 2.0, 1.0) * np.where(alone, 1.5, 1.0)
    low_w *= np.where(intel | psych, 1.3, 1.0) * np.where(hilly, 1.3, 1.0)
    dibao, dibian, living = _low_income(low_w, severe, in_gap, rng)
    return Demographics(
        village=village,
        gaps=gaps,
        in_gap=in_gap,
        category=category,
        cat=cat,
        age=age,
        old=old,
        severe=severe,
        grade=grade,
        care=care,
        alone=alone,
        elder_carer=elder_carer,
        dibao=dibao,
        dibian=dibian,
        living=living,
    )


def _allocate(villages: list[Village], total: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Residents per village: at least MIN_PER_VILLAGE, the rest by synthetic population."""
    weight = np.array(
        [v.population * (1.0 if v.kind == "community" else 1.3) for v in villages], dtype=np.float64
    )
    weight *= rng.uniform(0.85, 1.15, len(villages))
    return exact_counts(weight, total - MIN_PER_VILLAGE * len(villages)) + MIN_PER_VILLAGE


def _gap_villages(
    villages: list[Village], counts: NDArray[np.int64], rng: np.random.Generator
) -> list[int]:
    """One village in each of GAP_VILLAGES towns with enough residents (indexes)."""
    towns: list[str] = []
    for v in villages:
        if v.town not in towns:
            towns.append(v.town)
    chosen: list[int] = []
    for t in rng.permutation(len(towns)).tolist():
        cands = [
            i
            for i, v in enumerate(villages)
            if v.town == towns[t] and v.kind == "village" and counts[i] >= GAP_MIN_RESIDENTS
        ]
        if cands:
            chosen.append(cands[int(rng.integers(len(cands)))])
        if len(chosen) == GAP_VILLAGES:
            break
    return sorted(chosen)


def _ages(
    cat: NDArray[np.str_], rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Who is old, and every age: exactly ELDERLY_SHARE aged 60+, hearing and vision
    loss mostly in old age."""
    n = len(cat)
    old_weight = {"肢体残疾": 2.2, "听力残疾": 4.0, "视力残疾": 2.5, "言语残疾": 1.0,
                  "智力残疾": 0.25, "精神残疾": 0.7, "多重残疾": 1.5}  # fmt: skip
    old = to_mask(n, pick(rng, np.array([old_weight[c] for c in cat]), round(ELDERLY_SHARE * n)))
    child_p = {"智力残疾": 0.2, "言语残疾": 0.3, "多重残疾": 0.12, "听力残疾": 0.06}
    age = np.zeros(n, dtype=np.int64)
    for i in range(n):
        if old[i]:
            age[i] = ELDERLY_AGE + min(int(rng.gamma(2.2, 6.5)), 39)
        elif rng.random() < child_p.get(cat[i], 0.03):
            age[i] = int(rng.integers(2, 18))
        else:
            age[i] = int(rng.triangular(18, 59, 59.99))
    return old, age


def _grades(
    cat: NDArray[np.str_], in_gap: NDArray[np.bool_], rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
    """Who is severe (grades 1–2), and every grade: the severe share is set so that
    CARE_SUBSIDY_PERSONS receive the care subsidy."""
    n = len(cat)
    multi = cat == "多重残疾"
    sev_weight = {"肢体残疾": 1.0, "听力残疾": 0.9, "视力残疾": 1.3, "言语残疾": 0.8,
                  "智力残疾": 1.1, "精神残疾": 1.6, "多重残疾": 2.5}  # fmt: skip
    w = np.array([sev_weight[c] for c in cat])
    gap_frac = float(w[in_gap].sum() / w.sum())
    severe_n = float(CARE_SUBSIDY_PERSONS)
    for _ in range(20):
        gap_sev = severe_n * gap_frac
        severe_n = (
            CARE_SUBSIDY_PERSONS
            + GAP_MISSING_SHARE * gap_sev
            + ELSEWHERE_MISSING_SHARE * (severe_n - gap_sev)
        )
    severe = to_mask(n, pick(rng, w, round(severe_n)))
    grade = np.where(
        severe,
        np.where(rng.random(n) < np.where(multi, 0.6, 0.38), 1, 2),
        np.where(rng.random(n) < 0.45, 3, 4),
    ).astype(np.int64)
    return severe, grade


def _care_subsidy(
    severe: NDArray[np.bool_], in_gap: NDArray[np.bool_], rng: np.random.Generator
) -> NDArray[np.bool_]:
    """The care subsidy: the severe, minus GAP_MISSING_SHARE of them in the gap villages
    and enough elsewhere to leave CARE_SUBSIDY_PERSONS."""
    care = severe.copy()
    gap_sev_idx = np.flatnonzero(severe & in_gap)
    miss_gap = rng.choice(
        gap_sev_idx, size=round(GAP_MISSING_SHARE * len(gap_sev_idx)), replace=False
    )
    care[miss_gap] = False
    else_idx = np.flatnonzero(severe & ~in_gap)
    miss_else_n = int(np.clip(int(care.sum()) - CARE_SUBSIDY_PERSONS, 0, len(else_idx)))
    care[rng.choice(else_idx, size=miss_else_n, replace=False)] = False
    return care


def _low_income(
    low_w: NDArray[np.float64],
    severe: NDArray[np.bool_],
    in_gap: NDArray[np.bool_],
    rng: np.random.Generator,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """低保, 低边 and the living subsidy (LIVING_SUBSIDY_PERSONS), with gaps in the gap
    villages; ``low_w`` weighs who is in a low-income household."""
    n = len(low_w)
    gap_low = float(low_w[in_gap].sum() / low_w.sum())
    base = LIVING_SUBSIDY_PERSONS - LIVING_SUBSIDY_OUTSIDE_LOW_INCOME
    low_n = float(base)
    for _ in range(20):
        missing = GAP_MISSING_SHARE * LOW_INCOME_DIBAO_SHARE * low_n * gap_low
        low_n = base + missing + ELSEWHERE_MISSING_SHARE * low_n * (1 - gap_low)
    low_idx = pick(rng, low_w, round(low_n))
    dibao = np.zeros(n, dtype=bool)
    dibian = np.zeros(n, dtype=bool)
    is_dibao = rng.random(len(low_idx)) < LOW_INCOME_DIBAO_SHARE
    dibao[low_idx[is_dibao]] = True
    dibian[low_idx[~is_dibao]] = True
    living = dibao | dibian
    gap_dibao = np.flatnonzero(dibao & in_gap)
    living[rng.choice(gap_dibao, size=round(GAP_MISSING_SHARE * len(gap_dibao)), replace=False)] = (
        False
    )
    else_low = np.flatnonzero((dibao | dibian) & ~in_gap)
    miss_n = round(ELSEWHERE_MISSING_SHARE * len(else_low))
    others = LIVING_SUBSIDY_PERSONS - (int(living.sum()) - miss_n)
    if others < 0:
        miss_n, others = miss_n - others, 0
    living[rng.choice(else_low, size=min(miss_n, len(else_low)), replace=False)] = False
    outside = np.flatnonzero(~(dibao | dibian) & ~in_gap)
    living[pick_from(rng, outside, np.where(severe[outside], 3.0, 1.0), others)] = True
    return dibao, dibian, living
