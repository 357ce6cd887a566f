"""The yearly outreach calendar: 12 months × 1–2 villages, by need.

Villages are taken by need score, highest first, each into the earliest month
with room, under the rules of ``[outreach]``: 1–2 villages a month (``min_villages_per_month`` ..
``villages_per_month``), no village again within ``no_repeat_months`` (counting
outreach visits already recorded), every town at least once a year
(``every_town``), and the month's home visits within its capacity
(``day_households`` × ``days``; a single village always fits, its overflow
waits for the next month); a second village shares the month only within the
first one's town (``pair_same_town``: its people come to the same point).
The best village of every town is reserved a slot first. When no more
villages are left than empty months (a small district), each takes a month of
its own; a month the rules leave without a village stays empty, with the
reason stated, rather than failing the year. (A MILP over
village-months was tried: HiGHS needed over 60 s for the district, and the
greedy order is one planners can check by hand.)

The need table comes in as a frame (:func:`planner.outreach.needs.village_needs`);
the result is a typed :class:`Calendar` (one :class:`CalendarMonth` per month).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import CalendarError
from planner.outreach.needs import DAYS_PER_MONTH, SCORE_PARTS
from planner.settings import Config
from planner.units import MONTHS_PER_YEAR

__all__ = [
    "PART_LABELS",
    "Calendar",
    "CalendarMonth",
    "CalendarVillage",
    "YearCalendar",
    "check_year",
    "outreach_days",
    "plan_year",
    "reference_day",
]

MONTHS = MONTHS_PER_YEAR
PART_LABELS = {
    "devices_overdue": "辅具超期",
    "supervised_medication": "服药监护",
    "stroke_aftercare": "脑卒中康复",
    "reassessment_due": "待复评",
    "leads_open": "疑似未登记",
    "policy_gap": "政策落实缺口分",
    "months_since": "距上次入村（月）",
}
WORKDAYS_PER_WEEK = 5


def outreach_days(year: int, month: int, *, weekday: int, days: int) -> list[date]:
    """The month's outreach days: the first ``weekday`` (0 = Monday), then the
    following working days."""
    first = date(year, month, 1)
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    out: list[date] = []
    while len(out) < days:
        if day.weekday() < WORKDAYS_PER_WEEK:
            out.append(day)
        day += timedelta(days=1)
    return out


def reference_day(year: int, today: date | None = None) -> date:
    """The day the needs of ``year``'s calendar are counted from.

    ``today`` when given, else the year's first day or today, whichever is
    later.

    Raises
    ------
    CalendarError
        When ``year`` is not a calendar year the plan can use.
    """
    check_year(year)
    return today or max(date(year, 1, 1), date.today())


def check_year(year: int) -> None:
    """Refuse a year the calendar cannot use (:class:`CalendarError`, in Chinese)."""
    if not date.min.year < year < date.max.year:  # the plan reaches into the years around
        raise CalendarError(f"年份「{year}」无效；请给出公历年份，如 2027")


@dataclass(frozen=True)
class CalendarVillage:
    """A village chosen for a month, with its need score and the score's parts."""

    code: str
    name: str
    town_name: str
    score: float
    home_visits: int
    parts: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        """``{"code", "name", "town_name", "score", "home_visits", "parts"}``."""
        return {
            "code": self.code,
            "name": self.name,
            "town_name": self.town_name,
            "score": self.score,
            "home_visits": self.home_visits,
            "parts": dict(self.parts),
        }


@dataclass(frozen=True)
class CalendarMonth:
    """One month of the calendar: its outreach days and villages (highest need first)."""

    year: int
    month: int
    dates: tuple[date, ...]
    villages: tuple[CalendarVillage, ...]
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"month": "YYYY-MM", "dates": [ISO days], "villages": [...], "note"}``."""
        return {
            "month": f"{self.year}-{self.month:02d}",
            "dates": [d.isoformat() for d in self.dates],
            "villages": [v.to_json() for v in self.villages],
            "note": self.note,
        }


@dataclass(frozen=True)
class Calendar:
    """The year's outreach calendar.

    Attributes
    ----------
    year
        The year planned.
    months
        One row per chosen village-month: ``month`` (1–12), ``dates``,
        ``village_code, village_name, town_code, town_name``, the score parts,
        ``home_visits`` and ``score``.
    needs
        The need table of every village (:func:`planner.outreach.needs.village_needs`).
    capacity
        Home visits a month's outreach can take.
    seconds
        Solve time.
    notes
        Month (1–12) → why it has fewer villages than ``min_villages_per_month``.
    """

    year: int
    months: pd.DataFrame
    needs: pd.DataFrame
    capacity: int
    seconds: float
    notes: dict[int, str] = field(default_factory=dict)

    def _rows(self, month: int) -> pd.DataFrame:
        rows = self.months[self.months["month"] == month]
        return rows.sort_values("score", ascending=False)

    def villages_in(self, month: int) -> list[str]:
        """Village codes of ``month``, highest need first (the service point's)."""
        return self._rows(month)["village_code"].tolist()

    def month(self, month: int) -> CalendarMonth:
        """Month ``month`` (1–12) as a typed :class:`CalendarMonth`."""
        rows = self._rows(month)
        return CalendarMonth(
            year=self.year,
            month=month,
            dates=tuple(rows["dates"].iloc[0]) if len(rows) else (),
            villages=tuple(
                CalendarVillage(
                    code=r["village_code"],
                    name=r["village_name"],
                    town_name=r["town_name"],
                    score=float(r["score"]),
                    home_visits=int(r["home_visits"]),
                    parts={p: float(r[p]) for p in SCORE_PARTS},
                )
                for r in rows.to_dict(orient="records")
            ),
            note=self.notes.get(month),
        )

    @property
    def schedule(self) -> tuple[CalendarMonth, ...]:
        """The twelve months, January first."""
        return tuple(self.month(m) for m in range(1, MONTHS + 1))

    def to_json(self) -> dict[str, Any]:
        """``{"year", "capacity", "part_labels", "months": [CalendarMonth.to_json()]}``.

        A month's ``note`` says why it has fewer villages than the minimum (else None).
        """
        return {
            "year": self.year,
            "capacity": self.capacity,
            "part_labels": dict(PART_LABELS),
            "months": [m.to_json() for m in self.schedule],
        }


YearCalendar = Calendar
"""The former name of :class:`Calendar`."""


def plan_year(needs: pd.DataFrame, *, config: Config, year: int) -> Calendar:
    """Choose the villages of each month of ``year``.

    Parameters
    ----------
    needs
        The need table of every village (:func:`planner.outreach.needs.village_needs`,
        counted from :func:`reference_day`).
    config
        ``[outreach]`` rules and weights.
    year
        The year to plan.

    Raises
    ------
    CalendarError
        When ``year`` is not a calendar year the plan can use, or the rules cannot
        all hold (e.g. more towns than village slots); the message names the
        setting to relax. A month left without enough villages because none is
        left to visit is not an error (see ``notes``).
    """
    check_year(year)
    started = time.perf_counter()
    oc = config.outreach
    needs = needs[needs["town_code"].notna()]
    n = len(needs)
    if n == 0:
        raise CalendarError("没有村社数据：请先导入村社和残疾人名册")
    cap = oc.day_households * oc.days
    allowed = _allowed_months(needs, year=year, no_repeat_months=oc.no_repeat_months)
    score = needs["score"].to_numpy(float)
    order = np.lexsort((needs.index.to_numpy(), -score))  # highest need first, ties by code
    must = _reserved(needs, order, allowed, config=config)
    placed, count = _place(needs, order, must, allowed, config=config, capacity=cap)
    # Every village that may be visited either has its slot or found no month
    # with room; a month short of villages therefore has none left to take.
    notes = {
        m + 1: (
            f"没有可安排的村社：全区 {n} 个村社都已排入其他月份"
            f"或在 {oc.no_repeat_months} 个月内去过（[outreach] no_repeat_months）"
        )
        for m in range(MONTHS)
        if count[m] < oc.min_villages_per_month
    }
    return Calendar(
        year=year,
        months=_month_table(needs, placed, year=year, config=config),
        needs=needs,
        capacity=cap,
        seconds=time.perf_counter() - started,
        notes=notes,
    )


def _allowed_months(needs: pd.DataFrame, *, year: int, no_repeat_months: int) -> np.ndarray:
    """(villages, 12) booleans: months a village may take, not within N months of
    its last outreach."""
    allowed = np.ones((len(needs), MONTHS), bool)
    last = needs["last_outreach"].to_numpy()
    for v in np.flatnonzero(pd.notna(last)):
        for m in range(MONTHS):
            if (date(year, m + 1, 1) - last[v]).days < no_repeat_months * DAYS_PER_MONTH:
                allowed[v, m] = False
    return allowed


def _reserved(
    needs: pd.DataFrame, order: np.ndarray, allowed: np.ndarray, *, config: Config
) -> set[int]:
    """The best village of every town (``every_town``), which gets a slot first."""
    oc = config.outreach
    towns = needs["town_code"].to_numpy()
    must: set[int] = set()
    if oc.every_town:
        missing = []
        for town in sorted(set(towns)):
            idx = [v for v in order if towns[v] == town and allowed[v].any()]
            if not idx:
                missing.append(str(needs["town_name"].to_numpy()[towns == town][0]))
            else:
                must.add(int(idx[0]))
        if missing:
            raise CalendarError(
                f"{'、'.join(missing)}的村社都在 {oc.no_repeat_months} 个月内去过，无法满足"
                "“每个镇街每年至少一次”：缩短 no_repeat_months 或关闭 every_town"
            )
    if len(must) > MONTHS * oc.villages_per_month:
        raise CalendarError(
            f"{len(must)} 个镇街需要入村，但一年只有 {MONTHS * oc.villages_per_month} 个村次："
            "把 villages_per_month 设为 2 或关闭 every_town"
        )
    return must


def _place(
    needs: pd.DataFrame,
    order: np.ndarray,
    must: set[int],
    allowed: np.ndarray,
    *,
    config: Config,
    capacity: int,
) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Greedy placement by need: the (village, month) pairs and villages per month."""
    oc = config.outreach
    load = np.minimum(needs["home_visits"].to_numpy(float), capacity)
    towns = needs["town_code"].to_numpy()
    count = np.zeros(MONTHS, int)
    first = np.empty(MONTHS, dtype=object)  # town of the month's first village
    used = np.zeros(MONTHS)
    placed: list[tuple[int, int]] = []
    free = MONTHS * oc.villages_per_month
    waiting = set(must)
    # villages that may still be placed from each position of `order` on
    placeable = np.asarray(allowed.any(axis=1), bool)
    rest = np.cumsum(placeable[order][::-1])[::-1]
    for i, v in enumerate(order.tolist()):
        empty = int((count == 0).sum())
        # keep an empty month for every town still waiting
        reserve = v not in must and empty <= len(waiting)
        # no more villages left than empty months: one village a month
        spread = not reserve and rest[i] <= empty
        months = [m for m in range(MONTHS) if count[m] == 0] if spread else []
        months += [m for m in range(MONTHS) if m not in months]
        for m in months:
            if reserve and count[m] == 0:
                continue
            fits = count[m] == 0 or (
                used[m] + load[v] <= capacity and (not oc.pair_same_town or towns[v] == first[m])
            )
            if allowed[v, m] and count[m] < oc.villages_per_month and fits:
                if count[m] == 0:
                    first[m] = towns[v]
                count[m] += 1
                used[m] += load[v]
                placed.append((v, m))
                free -= 1
                waiting.discard(v)
                break
        if free == 0:
            break
    if waiting:
        raise CalendarError(
            "日历规则无法同时满足：减少每月最少村社数（[outreach] min_villages_per_month）、"
            "缩短 [outreach] no_repeat_months 或关闭 [outreach] every_town"
        )
    return placed, count


def _month_table(
    needs: pd.DataFrame, placed: list[tuple[int, int]], *, year: int, config: Config
) -> pd.DataFrame:
    """The :attr:`Calendar.months` frame of the placed (village, month) pairs."""
    oc = config.outreach
    v_idx = np.array([v for v, _ in placed], int)
    m_idx = np.array([m for _, m in placed], int)
    picked = needs.iloc[v_idx].copy()
    picked.insert(0, "month", m_idx + 1)
    picked = picked.rename_axis("village_code").reset_index()
    picked["dates"] = [
        outreach_days(year, int(m), weekday=oc.weekday, days=oc.days) for m in picked["month"]
    ]
    return picked.sort_values(["month", "score"], ascending=[True, False]).reset_index(drop=True)
