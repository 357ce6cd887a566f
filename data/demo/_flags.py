"""The yes/no flags and dates of residents.csv: care needs, work, retrofits, visits.

:func:`make_flags` draws, after :func:`data.demo._demographics.make_demographics`
and in this order: bedridden, wheelchair, supervised psychiatric medication and
stroke aftercare; workshop, supported and other employment; the year of a home
accessibility retrofit; re-assessment dates; the last home visit; and who has
household GPS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from data.demo._calibration import (
    BEDRIDDEN_SHARE,
    EMPLOYED_SHARE,
    GAP_VISIT_OLD_SHARE,
    GAP_VISIT_RECENT_SHARE,
    HOUSEHOLD_GPS_SHARE,
    PSYCH_SUPERVISED_SHARE,
    REASSESS_DUE_SOON,
    REASSESS_LATER,
    REASSESS_OVERDUE,
    RETROFITS_BY_YEAR,
    STROKE_AFTERCARE,
    STROKE_MIN_AGE,
    STROKE_PHYSICAL_SHARE,
    SUPPORTED_EMPLOYMENT,
    VISIT_OLD_SHARE,
    VISIT_RECENT_SHARE,
    WHEELCHAIR_PHYSICAL_SEVERE_SHARE,
    WHEELCHAIR_USERS,
    WORKING_AGE,
    WORKSHOP_PLACED,
)
from data.demo._demographics import Demographics
from data.demo._sampling import pick, to_mask


@dataclass
class Flags:
    """Per valid person, aligned with :class:`~data.demo._demographics.Demographics`."""

    bedridden: NDArray[np.bool_]  # 长期卧床
    wheelchair: NDArray[np.bool_]  # 使用轮椅
    supervised: NDArray[np.bool_]  # 精神病服药监护
    stroke: NDArray[np.bool_]  # 脑卒中康复
    working: NDArray[np.bool_]  # of working age
    workshop: NDArray[np.bool_]  # 工疗
    supported: NDArray[np.bool_]  # 辅助性就业
    employed: NDArray[np.bool_]  # 就业
    retro_year: NDArray[np.int64]  # 无障碍改造年份, 0 for none
    reassess: list[date | None]  # 复评到期日期
    visits: list[date | None]  # 最近入户走访日期
    gps: NDArray[np.bool_]  # has household GPS

    def employment(self, i: int) -> str:
        """The 就业情况 cell of person ``i`` (blank outside working age)."""
        if not self.working[i]:
            return ""
        return (
            "工疗"
            if self.workshop[i]
            else "辅助性就业"
            if self.supported[i]
            else "就业"
            if self.employed[i]
            else "未就业"
        )


def make_flags(d: Demographics, today: date, rng: np.random.Generator) -> Flags:
    """Draw the flags and dates of the persons ``d`` (see the module docstring)."""
    n = len(d.village)
    bedridden, wheelchair, supervised, stroke = _care_needs(d, rng)
    working, workshop, supported, employed = _work(d, rng)
    retro_year = _retrofits(d, wheelchair, today, rng)
    reassess = _reassessment(d, today, rng)
    visits = _visits(d, today, rng)
    gps = to_mask(n, rng.choice(n, size=round(HOUSEHOLD_GPS_SHARE * n), replace=False))
    return Flags(
        bedridden=bedridden,
        wheelchair=wheelchair,
        supervised=supervised,
        stroke=stroke,
        working=working,
        workshop=workshop,
        supported=supported,
        employed=employed,
        retro_year=retro_year,
        reassess=reassess,
        visits=visits,
        gps=gps,
    )


def _care_needs(
    d: Demographics, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Bedridden, wheelchair users, supervised psychiatric medication, stroke aftercare."""
    n = len(d.village)
    cat, grade, severe, old = d.cat, d.grade, d.severe, d.old
    physical = cat == "肢体残疾"
    psych = cat == "精神残疾"
    multi = cat == "多重残疾"
    bed_w = np.select([grade == 1, grade == 2], [6.0, 2.5], 0.3)
    bed_w = bed_w * np.where(physical | multi, 3.0, 0.6) * np.where(old, 2.5, 1.0)
    bedridden = to_mask(n, pick(rng, bed_w, round(BEDRIDDEN_SHARE * n)))
    chair_core = round(WHEELCHAIR_PHYSICAL_SEVERE_SHARE * WHEELCHAIR_USERS)
    core_w = np.where(physical & severe, 1.0, 0.0) * np.where(old, 1.5, 1.0)
    core_w *= np.where(bedridden, 2.0, 1.0)
    wheelchair = to_mask(n, pick(rng, core_w, chair_core))
    rest_w = np.where(multi & severe, 3.0, np.where(physical & (grade == 3), 1.0, 0.0))
    rest_w = np.where(wheelchair, 0.0, rest_w)
    wheelchair[pick(rng, rest_w, WHEELCHAIR_USERS - chair_core)] = True
    psych_idx = np.flatnonzero(psych)
    supervised = np.zeros(n, dtype=bool)
    supervised[
        rng.choice(psych_idx, size=round(PSYCH_SUPERVISED_SHARE * len(psych_idx)), replace=False)
    ] = True
    stroke_phys = round(STROKE_PHYSICAL_SHARE * STROKE_AFTERCARE)
    aged45 = d.age >= STROKE_MIN_AGE
    stroke = to_mask(
        n, pick(rng, np.where(physical & aged45, np.where(old, 2.0, 1.0), 0.0), stroke_phys)
    )
    stroke_rest_w = np.where((multi | (cat == "言语残疾")) & aged45 & ~stroke, 1.0, 0.0)
    stroke[pick(rng, stroke_rest_w, STROKE_AFTERCARE - stroke_phys)] = True
    return bedridden, wheelchair, supervised, stroke


def _work(
    d: Demographics, rng: np.random.Generator
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Working age, workshop (工疗), supported and other employment: workshops take
    working-age intellectual/psychiatric persons, mostly mild."""
    n = len(d.village)
    age, severe = d.age, d.severe
    psych = d.cat == "精神残疾"
    intel = d.cat == "智力残疾"
    multi = d.cat == "多重残疾"
    working = (age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1])
    shop_w = np.where(
        working & (intel | psych), np.where(severe, 1.0, 5.0), np.where(working, 0.05, 0.0)
    )
    workshop = to_mask(n, pick(rng, shop_w, WORKSHOP_PLACED))
    supp_w = np.where(working & ~workshop, np.where(intel | psych | multi, 3.0, 0.5), 0.0)
    supported = to_mask(n, pick(rng, supp_w, SUPPORTED_EMPLOYMENT))
    emp_p = EMPLOYED_SHARE * np.where(severe, 0.6, 1.4)
    employed = working & ~workshop & ~supported & (rng.random(n) < emp_p)
    return working, workshop, supported, employed


def _retrofits(
    d: Demographics, wheelchair: NDArray[np.bool_], today: date, rng: np.random.Generator
) -> NDArray[np.int64]:
    """The year of each person's home accessibility retrofit (0: none), RETROFITS_BY_YEAR."""
    n = len(d.village)
    cat = d.cat
    physical = cat == "肢体残疾"
    multi = cat == "多重残疾"
    retro_year = np.zeros(n, dtype=np.int64)
    retro_w = np.where(physical | (cat == "视力残疾") | multi, 1.0, 0.15) * np.where(
        d.severe, 2.0, 0.7
    )
    retro_w = retro_w * np.where(d.old, 1.5, 1.0) * np.where(wheelchair, 4.0, 1.0)
    years = [y for y in RETROFITS_BY_YEAR if y <= today.year]
    retro_idx = pick(rng, retro_w, sum(RETROFITS_BY_YEAR[y] for y in years))
    retro_idx = rng.permutation(retro_idx)
    start = 0
    for y in years:
        retro_year[retro_idx[start : start + RETROFITS_BY_YEAR[y]]] = y
        start += RETROFITS_BY_YEAR[y]
    return retro_year


def _reassessment(d: Demographics, today: date, rng: np.random.Generator) -> list[date | None]:
    """Re-assessment dates: children and psychiatric/intellectual persons more often."""
    n = len(d.village)
    psych = d.cat == "精神残疾"
    intel = d.cat == "智力残疾"
    re_w = np.where(d.age < 18, 4.0, 1.0) * np.where(psych, 3.0, np.where(intel, 2.0, 1.0))
    re_idx = rng.permutation(pick(rng, re_w, REASSESS_DUE_SOON + REASSESS_OVERDUE + REASSESS_LATER))
    reassess: list[date | None] = [None] * n
    for k, i in enumerate(re_idx.tolist()):
        if k < REASSESS_DUE_SOON:
            offset = int(rng.integers(1, 366))
        elif k < REASSESS_DUE_SOON + REASSESS_OVERDUE:
            offset = -int(rng.integers(1, 181))
        else:
            offset = int(rng.integers(366, 5 * 365))
        reassess[i] = today + timedelta(days=offset)
    return reassess


def _visits(d: Demographics, today: date, rng: np.random.Generator) -> list[date | None]:
    """Last home visits: overdue or never visited more often in the gap villages."""
    n = len(d.village)
    r = rng.random(n)
    recent = np.where(d.in_gap, GAP_VISIT_RECENT_SHARE, VISIT_RECENT_SHARE)
    older = recent + np.where(d.in_gap, GAP_VISIT_OLD_SHARE, VISIT_OLD_SHARE)
    visits: list[date | None] = []
    for i in range(n):
        if r[i] < recent[i]:
            visits.append(today - timedelta(days=int(rng.integers(0, 731))))
        elif r[i] < older[i]:
            visits.append(today - timedelta(days=int(rng.integers(731, 1801))))
        else:
            visits.append(None)
    return visits
