"""The monthly village outreach (康复入村社): the year's calendar and a month's plan.

- :func:`outreach_year`: which villages each month visits, by need
  (:class:`~planner.outreach.calendar.Calendar`);
- :func:`outreach_month`: a month's service point, invitations and the teams'
  routes (:class:`~planner.outreach.plan.MonthPlan`; its route sheets are written
  by :func:`planner.reports.route_sheets.write_route_sheets`).

Both read the store here (:mod:`planner.store.outreach`, :mod:`planner.store.frames`)
and hand frames to the analysis (:mod:`planner.outreach`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from geo.graph import RoadNetwork
from planner.domain.devices import due_in_frame
from planner.errors import CalendarError, InputError
from planner.outreach.calendar import (
    Calendar,
    PairDrive,
    check_year,
    first_month,
    month_window,
    network_pair_drive,
    plan_year,
    reference_day,
)
from planner.outreach.month import MonthData, plan_month
from planner.outreach.needs import month_end, village_needs
from planner.outreach.plan import MonthPlan
from planner.services._common import Progress, no_progress
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import devices_frame, residents_frame, villages_frame
from planner.store.outreach import (
    devices_due,
    lead_contacts,
    leads_to_visit,
    recorded_points,
    team_visits,
)

__all__ = [
    "MonthOptions",
    "YearOptions",
    "month_calendar",
    "outreach_month",
    "outreach_needs",
    "outreach_year",
]

YEAR_HORIZON_DAYS = 365  # the calendar counts needs falling due within a year
MONTHS_IN_YEAR = range(1, 13)


@dataclass(frozen=True, kw_only=True)
class YearOptions:
    """Options of :func:`outreach_year`: which 12 months, counted from when.

    Parameters
    ----------
    year
        Plan January to December of this year (``outreach year YEAR``).
    start
        The first of the 12 months, ``(year, month)`` (``--from YYYY-MM``).
        With neither ``year`` nor ``start``: the month after ``today``'s
        (:func:`planner.outreach.calendar.first_month`).
    today
        Reference day of the needs (default: the calendar's first day or
        today, whichever is later); also the day the default first month is
        counted from.

    Raises
    ------
    CalendarError
        When the year is not a calendar year the plan can use, or both
        ``year`` and ``start`` are given.
    InputError
        When the month of ``start`` is not 1–12.
    """

    year: int | None = None
    start: tuple[int, int] | None = None
    today: date | None = None

    def __post_init__(self) -> None:
        if self.year is not None and self.start is not None:
            raise CalendarError(
                f"不能同时给出年份（{self.year}）和 --from（{self.start[0]}-{self.start[1]:02d}）："
                "年份表示该年 1–12 月，--from YYYY-MM 表示从该月起的 12 个月，请只给一个"
            )
        if self.year is not None:
            check_year(self.year)
        if self.start is not None:
            check_year(self.start[0])
            if self.start[1] not in MONTHS_IN_YEAR:
                raise InputError(f"月份「{self.start[1]}」无效：应为 1–12（如 --from 2027-03）")

    def first(self) -> tuple[int, int]:
        """The first month ``(year, month)`` of the calendar."""
        if self.year is not None:
            return self.year, 1
        if self.start is not None:
            return self.start
        return first_month(self.today or date.today())


@dataclass(frozen=True, kw_only=True)
class MonthOptions:
    """Options of :func:`outreach_month`.

    Parameters
    ----------
    year, month
        The month to plan (``month`` 1–12).
    villages
        Village codes (``--village``); default: the calendar's choice for the
        month (:func:`month_calendar`). The first one on the network hosts the service point.
    time_limit_s
        Routing time limit per outreach day, seconds (``--seconds``); None or 0:
        ``[outreach] solver_seconds``.
    seed
        Routing seed (default ``[outreach] seed``).
    network_path
        OSM file of the drive network (``--network``; default: the registered one).
    """

    year: int
    month: int
    villages: tuple[str, ...] | None = None
    time_limit_s: float | None = None
    seed: int | None = None
    network_path: Path | str | None = None

    def __post_init__(self) -> None:
        check_year(self.year)
        if self.month not in MONTHS_IN_YEAR:
            raise InputError(f"月份「{self.month}」无效：应为 1–12（如 2026-12）")
        if self.time_limit_s is not None and not self.time_limit_s >= 0:
            raise InputError(
                f"每个入村日的路线求解时间 --seconds 应为非负数（秒），收到 {self.time_limit_s!r}"
            )
        if self.villages is not None:
            object.__setattr__(self, "villages", tuple(self.villages))


def month_calendar(year: int, month: int, *, today: date) -> YearOptions:
    """The calendar a month plan takes its villages from (when none are given).

    The calendar ``outreach year`` shows on ``today`` (the 12 months from next
    month, needs counted from the first of them) when ``year``-``month`` is one
    of its months, so that the plan of any of them, December's or January's
    alike, visits the villages that calendar shows; otherwise the calendar of
    the 12 months from ``year``-``month`` (``outreach year --from YYYY-MM``),
    needs counted from the month's first day.
    """
    start = first_month(today)
    if (year, month) in month_window(start):
        return YearOptions(start=start, today=date(*start, 1))
    return YearOptions(start=(year, month), today=date(year, month, 1))


def outreach_needs(
    store: Store, *, config: Config, today: date, horizon_days: int = YEAR_HORIZON_DAYS
) -> pd.DataFrame:
    """The need table of every village, counted from ``today`` over ``horizon_days``.

    Returns
    -------
    pandas.DataFrame
        :func:`planner.outreach.needs.village_needs`: indexed by village code,
        the score's parts, ``home_visits``, ``last_outreach`` and ``score``.
    """
    from planner.coverage.gaps import policy_gaps

    residents, villages = residents_frame(store), villages_frame(store)
    overdue = due_in_frame(devices_frame(store), today=today, within_days=0)
    gaps = policy_gaps(
        residents,
        villages,
        devices_overdue=[d.resident_id for d in overdue],
        config=config,
        today=today,
    )
    return village_needs(
        residents,
        villages,
        leads=leads_to_visit(store),
        team_visits=team_visits(store),
        devices_due=devices_due(store, by=today + timedelta(days=horizon_days)),
        policy_gap=gaps.set_index("village_code")["score"],
        config=config,
        today=today,
        horizon_days=horizon_days,
    )


def outreach_year(
    store: Store,
    *,
    config: Config,
    options: YearOptions,
    network: RoadNetwork | None = None,
    progress: Progress = no_progress,
) -> Calendar:
    """The outreach calendar of 12 consecutive months: 1–2 villages a month, by need.

    Parameters
    ----------
    store
        The store (residents, devices, leads, recorded visits).
    config
        ``[outreach]`` rules and weights, ``[gaps]`` (the policy-gap part),
        ``[network] snap_max_m``.
    options
        The first month and the reference day.
    network
        The drive network for the second village's drive from the service
        point (default: the registered one, when ``villages_per_month`` is 2
        and a network is registered; without one no month has a second village).
    progress
        Told when the needs are counted.

    Raises
    ------
    CalendarError
        When the district has no villages, or the rules cannot all hold.
    """
    start = options.first()
    today = reference_day(start[0], options.today, month=start[1])
    progress("统计各村社需求", None)
    needs = outreach_needs(store, config=config, today=today)
    drive = _pair_drive(store, config=config, network=network, progress=progress)
    return plan_year(needs, config=config, start=start, drive=drive)


def _pair_drive(
    store: Store, *, config: Config, network: RoadNetwork | None, progress: Progress
) -> PairDrive | None:
    """Drive minutes between villages for pairing, or None (one village a month)."""
    if config.outreach.villages_per_month < 2:
        return None
    if network is None:
        from planner.networks import NETWORK_META_KEY, load_network

        if not store.get_meta(NETWORK_META_KEY):
            return None
        progress("加载道路网络", None)
        network = load_network(store, config=config, mode="drive").network
    return network_pair_drive(
        network,
        villages_frame(store),
        max_m=config.network.snap_max_m,
        limit_min=config.outreach.pair_max_drive_min,
    )


def outreach_month(
    store: Store,
    *,
    config: Config,
    options: MonthOptions,
    network: RoadNetwork | None = None,
    progress: Progress = no_progress,
) -> MonthPlan:
    """A month's outreach plan: service point, invitations, the teams' routes.

    Parameters
    ----------
    store
        The store.
    config
        ``[outreach]`` teams, services, shifts and calendar rules; ``[privacy]``;
        ``[network]``.
    options
        The month, villages, routing time limit and seed.
    network
        The drive network (default: loaded from the registered OSM file, or
        ``options.network_path``).
    progress
        Told per outreach day routed (routing takes up to ``time_limit_s`` a day).

    Raises
    ------
    CalendarError
        When the calendar has no village for the month (and none is given), or
        a village code is unknown.
    NetworkCoverageError
        When no village can host the service point, or the office is off the network.
    """
    if network is None:
        from planner.networks import load_network

        progress("加载道路网络", None)
        network = load_network(
            store, config=config, mode="drive", path=options.network_path
        ).network
    year, month = options.year, options.month
    first_day = date(year, month, 1)
    villages = options.villages
    if villages is None:
        cal = outreach_year(
            store,
            config=config,
            options=month_calendar(year, month, today=date.today()),
            network=network,
        )
        villages = tuple(cal.villages_in(f"{year}-{month:02d}"))
        if not villages:
            raise CalendarError(
                f"{year}-{month:02d} 的日历上没有入村村社（{cal.notes.get(month, '日历为空')}）；"
                "可用 --village 村社代码 指定本月入村的村社"
            )
    data = MonthData(
        residents=residents_frame(store, personal=True),
        villages=villages_frame(store),
        leads=leads_to_visit(store, villages=villages),
        lead_contacts=lead_contacts(store, villages=villages),
        devices_due=devices_due(store, by=month_end(first_day)),
        office=store.district_office() if config.outreach.office is None else None,
        recorded=recorded_points(store, villages=villages),
    )
    return plan_month(
        data,
        config=config,
        network=network,
        year=year,
        month=month,
        villages=villages,
        seconds=options.time_limit_s,
        seed=options.seed,
        progress=progress,
    )
