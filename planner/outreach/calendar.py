"""The outreach calendar: 12 consecutive months × 1–2 villages, by need.

The calendar covers the 12 months from a first month (by default the month
after today's: :func:`first_month`; ``outreach year YEAR`` plans January to
December of that year). It is built in four steps, each one a planner can check
by hand:

1. **Who may go when.** A village visited in month *M* (its latest recorded
   outreach visit) may come back from month *M* + ``no_repeat_months`` on:
   visited in 2026-03 with 12, it may come back from 2027-03. Each village is
   visited at most once in the 12 months.
2. **Months per town.** The months are shared between the towns in proportion
   to their need (the sum of the need scores of their villages that may be
   visited; largest remainders, ties to the larger need, then the town code),
   never fewer than ``town_min_months`` for a town (``every_town = true`` of
   older files counts as 1), never more than the town has villages to visit.
   A big town may get two months or more, a small one none.
3. **The month's first village.** Each town's best villages (as many as its
   months) take a month each, highest need first into the earliest month its
   no-repeat window allows (need first: a town's two months may follow each
   other); every chosen village keeps a month free (when they cannot all
   have one, the one of least need gives way to the next village of its
   town). The first village's committee is the month's service point. A
   month still empty (a town without villages it may visit) goes to the best
   village left that may go then.
4. **A second village** joins a month (``villages_per_month = 2``) only when
   it is within ``pair_max_drive_min`` minutes' drive of the first one's service
   point (by the drive network, :func:`network_pair_drive`; without a network
   there is no pairing), in the same town when ``pair_same_town``, and when the
   home visits of both fit the month's capacity (``day_households`` × ``days``;
   a single village always fits, its overflow waits for next month). Villages
   are taken highest need first, into the earliest month that fits.

A month left with fewer villages than ``min_villages_per_month`` carries a note
saying why and which setting to change; a rule set that cannot hold (more
town minimums than months, a town without enough villages it may visit)
raises :class:`~planner.errors.CalendarError` naming the rule and the setting
to relax. (A MILP over village-months was tried: HiGHS needed over 60 s for the
demo district, and the greedy order is one planners can check by hand.)

The need table comes in as a frame (:func:`planner.outreach.needs.village_needs`);
the result is a typed :class:`Calendar` (one :class:`CalendarMonth` per month).
Steps 2 and 3 are in :mod:`planner.outreach.calendar_towns`, step 4 in
:mod:`planner.outreach.calendar_pairs`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import CalendarError
from planner.outreach.calendar_pairs import PairDrive, _pairing, _pairs, network_pair_drive
from planner.outreach.calendar_towns import _hosts, _town_table, town_minimum, town_months
from planner.outreach.needs import SCORE_PARTS
from planner.settings import Config, OutreachConfig
from planner.units import MONTHS_PER_YEAR

__all__ = [
    "PART_LABELS",
    "Calendar",
    "CalendarMonth",
    "CalendarVillage",
    "PairDrive",
    "YearCalendar",
    "check_year",
    "first_month",
    "month_window",
    "months_between",
    "network_pair_drive",
    "outreach_days",
    "plan_year",
    "reference_day",
    "town_minimum",
    "town_months",
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

YearMonth = tuple[int, int]
"""A calendar month as ``(year, month)``, month 1–12."""


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


def first_month(today: date) -> YearMonth:
    """The first month of the default calendar: the month after ``today``'s.

    The current month is left out whatever the day: its outreach is planned
    and announced ahead (``outreach month`` defaults to next month too).
    """
    d = date(today.year, today.month, 28) + timedelta(days=4)
    return d.year, d.month


def month_window(start: YearMonth, months: int = MONTHS) -> list[YearMonth]:
    """``months`` consecutive months from ``start`` (a year boundary included)."""
    base = start[0] * MONTHS + start[1] - 1
    return [((base + k) // MONTHS, (base + k) % MONTHS + 1) for k in range(months)]


def months_between(earlier: date | YearMonth, later: date | YearMonth) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s.

    2026-03-31 → 2027-03-01 is 12: the no-repeat rule counts months, not days.
    """
    a = (earlier.year, earlier.month) if isinstance(earlier, date) else earlier
    b = (later.year, later.month) if isinstance(later, date) else later
    return (b[0] - a[0]) * MONTHS + b[1] - a[1]


def reference_day(year: int, today: date | None = None, *, month: int = 1) -> date:
    """The day the needs of the calendar from ``year``-``month`` are counted from.

    ``today`` when given, else the calendar's first day or today, whichever is
    later.

    Raises
    ------
    CalendarError
        When ``year`` is not a calendar year the plan can use.
    """
    check_year(year)
    return today or max(date(year, month, 1), date.today())


def check_year(year: int) -> None:
    """Refuse a year the calendar cannot use (:class:`CalendarError`, in Chinese)."""
    if not date.min.year < year < date.max.year:  # the plan reaches into the years around
        raise CalendarError(f"年份「{year}」无效；请给出公历年份，如 2027")


@dataclass(frozen=True)
class CalendarVillage:
    """A village chosen for a month, with its need score and the score's parts.

    ``drive_min``: drive minutes from the month's service point (the first
    village's committee) for a second village; None for the first.
    """

    code: str
    name: str
    town_name: str
    score: float
    home_visits: int
    parts: Mapping[str, float]
    drive_min: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"code", "name", "town_name", "score", "home_visits", "parts", "drive_min"}``."""
        return {
            "code": self.code,
            "name": self.name,
            "town_name": self.town_name,
            "score": self.score,
            "home_visits": self.home_visits,
            "parts": dict(self.parts),
            "drive_min": self.drive_min,
        }


@dataclass(frozen=True)
class CalendarMonth:
    """One month of the calendar: its outreach days and villages (the service
    point's first, then the second village)."""

    year: int
    month: int
    dates: tuple[date, ...]
    villages: tuple[CalendarVillage, ...]
    note: str | None = None

    @property
    def period(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year}-{self.month:02d}"

    def to_json(self) -> dict[str, Any]:
        """``{"month": "YYYY-MM", "dates": [ISO days], "villages": [...], "note"}``."""
        return {
            "month": self.period,
            "dates": [d.isoformat() for d in self.dates],
            "villages": [v.to_json() for v in self.villages],
            "note": self.note,
        }


@dataclass(frozen=True)
class Calendar:
    """The outreach calendar of 12 consecutive months.

    Attributes
    ----------
    year
        The year of the first month.
    months
        One row per chosen village-month: ``month`` (1–12; unique within the
        12 months), ``year``, ``period`` (``YYYY-MM``), ``dates``,
        ``village_code, village_name, town_code, town_name``, the score parts,
        ``home_visits``, ``score``, ``role`` (``"first"``: the service point's
        village, ``"second"``) and ``drive_min`` (a second village's drive from
        the service point, minutes; NaN for the first).
    needs
        The need table of every village (:func:`planner.outreach.needs.village_needs`).
    capacity
        Home visits a month's outreach can take.
    seconds
        Solve time.
    notes
        Month (1–12) → why it has fewer villages than ``min_villages_per_month``.
    start_month
        The first month (1–12) of the year ``year``.
    towns
        One row per town: ``town_code, town_name, villages`` (all),
        ``eligible`` (that may be visited in the 12 months), ``need`` (sum of
        their scores), ``share`` (months in proportion to need), ``minimum``,
        ``months`` (months it hosts the service point) and ``visits``
        (villages visited, first or second).
    pairing
        ``basis`` (``"network"``, or ``"none"``: no pairing), ``max_drive_min``
        and ``note`` (why there is no pairing, else None).
    """

    year: int
    months: pd.DataFrame
    needs: pd.DataFrame
    capacity: int
    seconds: float
    notes: dict[int, str] = field(default_factory=dict)
    start_month: int = 1
    towns: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairing: Mapping[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> list[YearMonth]:
        """The 12 months as ``(year, month)``, the first first."""
        return month_window((self.year, self.start_month))

    @property
    def first(self) -> str:
        """The first month, ``YYYY-MM``."""
        y, m = self.window[0]
        return f"{y}-{m:02d}"

    @property
    def last(self) -> str:
        """The last month, ``YYYY-MM``."""
        y, m = self.window[-1]
        return f"{y}-{m:02d}"

    def _month_number(self, month: int | str) -> int:
        if isinstance(month, str):
            y, m = (int(x) for x in month.split("-"))
            if (y, m) not in self.window:
                raise CalendarError(f"{month} 不在本日历（{self.first} 至 {self.last}）之内")
            return m
        if not 1 <= month <= MONTHS:
            raise CalendarError(f"月份「{month}」无效：应为 1–12")
        return month

    def _rows(self, month: int | str) -> pd.DataFrame:
        rows = self.months[self.months["month"] == self._month_number(month)]
        return rows.sort_values(["role", "score"], ascending=[True, False], kind="stable")

    def villages_in(self, month: int | str) -> list[str]:
        """Village codes of ``month`` (1–12, or ``YYYY-MM``), the service point's first."""
        return self._rows(month)["village_code"].tolist()

    def month(self, month: int | str) -> CalendarMonth:
        """Month ``month`` (1–12, or ``YYYY-MM``) as a typed :class:`CalendarMonth`."""
        m = self._month_number(month)
        year = next(y for y, mm in self.window if mm == m)
        rows = self._rows(m)
        return CalendarMonth(
            year=year,
            month=m,
            dates=tuple(rows["dates"].iloc[0]) if len(rows) else (),
            villages=tuple(
                CalendarVillage(
                    code=r["village_code"],
                    name=r["village_name"],
                    town_name=r["town_name"],
                    score=float(r["score"]),
                    home_visits=int(r["home_visits"]),
                    parts={p: float(r[p]) for p in SCORE_PARTS},
                    drive_min=None if pd.isna(r["drive_min"]) else float(r["drive_min"]),
                )
                for r in rows.to_dict(orient="records")
            ),
            note=self.notes.get(m),
        )

    @property
    def schedule(self) -> tuple[CalendarMonth, ...]:
        """The twelve months, the first month first."""
        return tuple(self.month(m) for _, m in self.window)

    def to_json(self) -> dict[str, Any]:
        """``{"year", "from", "to", "capacity", "part_labels", "pairing", "towns",
        "months": [CalendarMonth.to_json()]}``.

        ``year`` is the first month's year; ``from``/``to`` the first and last
        month (``YYYY-MM``). A month's ``note`` says why it has fewer villages
        than the minimum (else None).
        """
        towns = [
            {
                "town_code": str(r["town_code"]),
                "town_name": str(r["town_name"]),
                "villages": int(r["villages"]),
                "eligible": int(r["eligible"]),
                "need": round(float(r["need"]), 2),
                "share": round(float(r["share"]), 2),
                "minimum": int(r["minimum"]),
                "months": int(r["months"]),
                "visits": int(r["visits"]),
            }
            for r in self.towns.to_dict(orient="records")
        ]
        return {
            "year": self.year,
            "from": self.first,
            "to": self.last,
            "capacity": self.capacity,
            "part_labels": dict(PART_LABELS),
            "pairing": dict(self.pairing),
            "towns": towns,
            "months": [m.to_json() for m in self.schedule],
        }


YearCalendar = Calendar
"""The former name of :class:`Calendar`."""


def plan_year(
    needs: pd.DataFrame,
    *,
    config: Config,
    year: int | None = None,
    start: YearMonth | None = None,
    drive: PairDrive | None = None,
) -> Calendar:
    """Choose the villages of each of 12 consecutive months.

    Parameters
    ----------
    needs
        The need table of every village (:func:`planner.outreach.needs.village_needs`,
        counted from :func:`reference_day`); ``last_outreach`` (date or None)
        drives the no-repeat rule.
    config
        ``[outreach]`` rules and weights.
    year
        Plan January to December of ``year`` (the former contract).
    start
        The first month ``(year, month)``; exactly one of ``year`` and ``start``.
    drive
        Drive minutes from a service point to candidate second villages
        (:func:`network_pair_drive`); None: no second village in any month.

    Raises
    ------
    CalendarError
        When the first month is not one the plan can use, or the rules cannot
        all hold (more town minimums than months, a town with fewer villages
        it may visit than its minimum); the message names the rule and the
        setting to relax. A month left without enough villages because none
        may go is not an error (see ``notes``).
    """
    if year is not None and start is None:
        start = (year, 1)
    elif year is not None or start is None:
        raise TypeError("plan_year: give exactly one of year= and start=")
    check_year(start[0])
    if not 1 <= start[1] <= MONTHS:
        raise CalendarError(f"月份「{start[1]}」无效：应为 1–12（如 2027-03）")
    started = time.perf_counter()
    oc = config.outreach
    _check_rules(oc)
    needs = needs[needs["town_code"].notna()]
    if len(needs) == 0:
        raise CalendarError("没有村社数据：请先导入村社和残疾人名册")
    window = month_window(start)
    cap = oc.day_households * oc.days
    allowed = _allowed_months(needs, start=start, no_repeat_months=oc.no_repeat_months)
    towns = _town_table(needs, allowed, config=config)
    quota = dict(zip(towns["town_code"], towns["quota"], strict=True))
    hosts = _hosts(needs, allowed, quota, oc=oc)
    pairing = _pairing(oc, drive)
    second: dict[int, tuple[int, float]] = {}
    if drive is not None and pairing["basis"] != "none":
        second = _pairs(needs, allowed, hosts, drive=drive, config=config, capacity=cap)
    placed = [(v, m, "first", math.nan) for m, v in enumerate(hosts) if v >= 0]
    placed += [(v, m, "second", d) for m, (v, d) in second.items()]
    count = np.zeros(MONTHS, int)
    for _, m, _, _ in placed:
        count[m] += 1
    notes = _notes(needs, hosts, count, window=window, oc=oc, pairing=pairing, capacity=cap)
    town = needs["town_code"].astype(str).to_numpy()
    hosted = pd.Series([town[v] for v in hosts if v >= 0], dtype=object).value_counts()
    visits = pd.Series([town[v] for v, *_ in placed], dtype=object).value_counts()
    towns["months"] = [int(hosted.get(t, 0)) for t in towns["town_code"]]
    towns["visits"] = [int(visits.get(t, 0)) for t in towns["town_code"]]
    return Calendar(
        year=start[0],
        months=_month_table(needs, placed, window=window, config=config),
        needs=needs,
        capacity=cap,
        seconds=time.perf_counter() - started,
        notes=notes,
        start_month=start[1],
        towns=towns.drop(columns="quota"),
        pairing=pairing,
    )


def _check_rules(oc: OutreachConfig) -> None:
    """Rules that contradict each other whatever the district."""
    if oc.min_villages_per_month > oc.villages_per_month:
        raise CalendarError(
            f"每月最少村社数（{oc.min_villages_per_month}）大于每月最多村社数"
            f"（{oc.villages_per_month}）：请调小 [outreach] min_villages_per_month "
            "或调大 [outreach] villages_per_month"
        )


def _allowed_months(needs: pd.DataFrame, *, start: YearMonth, no_repeat_months: int) -> np.ndarray:
    """(villages, 12) booleans: months a village may take.

    A village last visited in month *M* may take month *M* + ``no_repeat_months``
    and later (:func:`months_between`).
    """
    last = needs["last_outreach"].to_numpy()
    since = np.full(len(needs), np.iinfo(np.int32).max // 2, dtype=np.int64)
    for v in np.flatnonzero(pd.notna(last)):
        since[v] = months_between(last[v], start)
    return (since[:, None] + np.arange(MONTHS)[None, :]) >= no_repeat_months


def _notes(
    needs: pd.DataFrame,
    hosts: list[int],
    count: np.ndarray,
    *,
    window: list[YearMonth],
    oc: OutreachConfig,
    pairing: Mapping[str, Any],
    capacity: int,
) -> dict[int, str]:
    """Month (1–12 of its own year; the key of :attr:`Calendar.notes`) → why it
    has fewer villages than ``min_villages_per_month``."""
    notes: dict[int, str] = {}
    for k in range(MONTHS):
        if count[k] >= oc.min_villages_per_month:
            continue
        if hosts[k] < 0:
            text = (
                f"没有可安排的村社：全区 {len(needs)} 个村社都已排入其他月份"
                f"或在 {oc.no_repeat_months} 个月内去过（[outreach] no_repeat_months）"
            )
        elif pairing["note"]:
            text = f"没有第二个村社：{pairing['note']}"
        else:
            host = needs.iloc[hosts[k]]
            text = (
                f"没有可与{host['village_name']}同月入村的第二个村社：须"
                + ("在同一镇街（[outreach] pair_same_town）、" if oc.pair_same_town else "")
                + f"距服务点车程不超过 {oc.pair_max_drive_min:g} 分钟"
                f"（[outreach] pair_max_drive_min）、两村入户合计不超过 {capacity} 户"
                "（[outreach] day_households × days），且不在 no_repeat_months 内"
            )
        notes[window[k][1]] = text
    return notes


def _month_table(
    needs: pd.DataFrame,
    placed: list[tuple[int, int, str, float]],
    *,
    window: list[YearMonth],
    config: Config,
) -> pd.DataFrame:
    """The :attr:`Calendar.months` frame of the placed (village, position, role, drive)."""
    oc = config.outreach
    v_idx = np.array([v for v, *_ in placed], int)
    k_idx = [k for _, k, *_ in placed]
    picked = needs.iloc[v_idx].copy()
    picked.insert(0, "month", [window[k][1] for k in k_idx])
    picked.insert(1, "year", [window[k][0] for k in k_idx])
    picked.insert(2, "period", [f"{window[k][0]}-{window[k][1]:02d}" for k in k_idx])
    picked["position"] = k_idx
    picked["role"] = [r for *_, r, _ in placed]
    picked["drive_min"] = np.array([d for *_, d in placed], float)
    picked = picked.rename_axis("village_code").reset_index()
    picked["dates"] = [
        outreach_days(int(y), int(m), weekday=oc.weekday, days=oc.days)
        for y, m in zip(picked["year"], picked["month"], strict=True)
    ]
    picked = picked.sort_values(["position", "role"], kind="stable").reset_index(drop=True)
    return picked.drop(columns="position")
