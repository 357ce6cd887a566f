"""The outreach calendar and month plan as the caller's role may see them (HTTP API).

- The calendar (:func:`calendar_view`) is aggregates only: admins get
  :meth:`~planner.outreach.calendar.Calendar.to_json` as it is; every other role
  the same document with the person counts of each village (``home_visits`` and
  the counting parts of the need score) of 1..``[privacy] min_count``-1 suppressed.
- The month plan (:func:`month_view`): planners, leaders and integration keys
  get a summary without persons (villages, service point, invitations per
  service, each team-day's stops and drive, unplanned visits per ``reason_code``,
  routine-visit counts per town, totals), its person counts suppressed; an
  outreach account also gets its own team's days with their stops (names,
  masked ID numbers and phones); admins get the summary and the whole plan
  (:meth:`~planner.outreach.plan.MonthPlan.to_json`, as ``coverplan outreach
  month --json``). Reads with persons are audited.
- Route sheets (:func:`sheet_plan`): an outreach account's own team, or an
  admin; another team's sheet is "not found", exactly as a missing one.
- :class:`MonthPlans` keeps the plan of a month per store data version
  (:meth:`planner.store.core.Store.data_version`) and day, since planning takes
  seconds (routing time ``[outreach] solver_seconds`` per day).
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from planner.domain.access import Principal, Role, suppress_small
from planner.errors import InputError, NotFoundError, PermissionDeniedError
from planner.outreach.calendar import Calendar
from planner.outreach.plan import REASON_CODES, MonthPlan, TeamPlan
from planner.services.outreach import MonthOptions, outreach_month
from planner.services.people import check_purpose, record_read
from planner.settings import Config
from planner.store.audit import record_access
from planner.store.core import Store
from planner.store.versions import person_town

__all__ = [
    "COUNT_PARTS",
    "MonthPlans",
    "calendar_view",
    "check_sheet_team",
    "check_visit_scope",
    "month_view",
    "parse_month",
    "sheet_plan",
]

#: Parts of a village's need score that count persons (suppressed when small).
COUNT_PARTS = (
    "devices_overdue",
    "supervised_medication",
    "stroke_aftercare",
    "reassessment_due",
    "leads_open",
)
NO_SHEET = "没有这份路线单（{month} 服务队 {team} {day}），或不在您的权限范围内"
NO_PURPOSE = "请用 purpose 参数说明查看入户名单的目的（将记入审计日志），如「1月入户走访」"
NOT_YOURS = "没有这位{what}（编号 {id}），或不在您的权限范围内"


def _small(value: int | None, config: Config) -> int | None:
    """``value``, or None when it is 1..``[privacy] min_count``-1."""
    frame = pd.DataFrame({"n": [value]})
    out = suppress_small(frame, ["n"], min_count=config.privacy.min_count)["n"].iloc[0]
    return None if out is None or pd.isna(out) else int(out)


def calendar_view(cal: Calendar, *, principal: Principal, config: Config) -> dict[str, Any]:
    """The calendar's JSON, its small person counts suppressed for all but admins."""
    doc = cal.to_json()
    if principal.role is Role.ADMIN:
        return doc
    for m in doc["months"]:
        for v in m["villages"]:
            v["home_visits"] = _small(v["home_visits"], config)
            for part in COUNT_PARTS:
                if part in v["parts"]:
                    v["parts"][part] = _small(v["parts"][part], config)
    return doc


def _purpose(text: str | None) -> str:
    if text is None or not text.strip():
        raise InputError(NO_PURPOSE)
    return check_purpose(text)


def _summary(plan: MonthPlan, *, config: Config) -> dict[str, Any]:
    """The plan without persons, person counts suppressed."""
    villages = []
    for v in plan.villages:
        doc = v.to_json()
        doc["invited"] = [{**i, "count": _small(i["count"], config)} for i in doc["invited"]]
        villages.append(doc)
    teams = [
        {
            "team": tm.team,
            "label": tm.label,
            "skills": list(tm.skills),
            "skill_labels": list(tm.skill_labels),
            "days": [
                {
                    "date": d.date.isoformat(),
                    "stops_count": _small(d.stops_count, config),
                    "travel_min": d.travel_min,
                    "distance_km": d.distance_km,
                }
                for d in tm.days
            ],
        }
        for tm in plan.teams
    ]
    reasons = Counter(u.reason_code for u in plan.unplanned)
    st = plan.stats.to_json()
    for key in ("households_needing_visit", "planned", "unplanned", "invited", "visits_needed"):
        if key in st:
            st[key] = _small(st[key], config)
    if "split_households" in st:
        st["split_households"] = _small(st["split_households"], config)
    routine = [
        {
            "town_code": r.town_code,
            "town_name": r.town_name,
            "poor_households": _small(r.poor_households, config),
            "poor_visited": _small(r.poor_visited, config),
            "overdue": _small(r.overdue, config),
        }
        for r in plan.routine
    ]
    off = [
        {**e, "count": _small(int(e["count"]), config)} if "count" in e else dict(e)
        for e in plan.off_network
    ]
    return {
        "month": plan.month,
        "villages": villages,
        "service_point": plan.service_point.to_json(),
        "start_at": plan.start_at,
        "start_note": plan.start_note,
        "teams": teams,
        "unplanned_by_reason": {
            code: _small(reasons.get(code, 0), config) for code in REASON_CODES
        },
        "reason_labels": dict(REASON_CODES),
        "routine": routine,
        "off_network": off,
        "stats": st,
        "team": None,
        "plan": None,
    }


def _own_team(plan: MonthPlan, principal: Principal) -> TeamPlan | None:
    return next((tm for tm in plan.teams if tm.team == principal.team), None)


def _persons_in(plan: MonthPlan) -> int:
    return (
        sum(d.stops_count for _, d in plan.team_days)
        + len(plan.invited_people)
        + len(plan.unplanned)
        + sum(len(r.poor) + len(r.overdue_people) for r in plan.routine)
    )


def month_view(
    store: Store, plan: MonthPlan, *, config: Config, principal: Principal, purpose: str | None
) -> dict[str, Any]:
    """The month plan as ``principal`` may see it (audited when it holds persons).

    Without a ``purpose`` every role gets the summary only (no persons, no audit
    row); with one, admins also get the whole plan and outreach accounts their
    own team's days.

    Raises
    ------
    InputError
        A purpose that holds an ID or phone number.
    """
    doc = _summary(plan, config=config)
    if purpose is None:
        return doc
    if principal.role is Role.ADMIN:
        why = _purpose(purpose)
        doc["plan"] = plan.to_json()
        count = _persons_in(plan)
    elif principal.role is Role.OUTREACH:
        why = _purpose(purpose)
        team = _own_team(plan, principal)
        doc["team"] = None if team is None else team.to_json()
        count = 0 if team is None else sum(d.stops_count for d in team.days)
    else:
        return doc
    record_read(
        store, principal=principal, target=f"outreach/{plan.month}", purpose=why, count=count
    )
    return doc


def sheet_plan(
    store: Store,
    plan: MonthPlan,
    *,
    principal: Principal,
    team: str,
    day: date,
    fmt: str,
    purpose: str,
) -> MonthPlan:
    """The plan cut down to one team-day, for writing its route sheet (audited).

    Raises
    ------
    PermissionDeniedError
        Anyone but an admin or an outreach account.
    NotFoundError
        No such team-day, or another team's (the same message).
    """
    if principal.role not in (Role.ADMIN, Role.OUTREACH):
        raise PermissionDeniedError(
            f"您的角色（{principal.role.value}）不能下载路线单；路线单只发给本服务队（outreach）"
        )
    why = _purpose(purpose)
    missing = NotFoundError(NO_SHEET.format(month=plan.month, team=team, day=day.isoformat()))
    if principal.role is Role.OUTREACH and principal.team != team:
        raise missing
    tm = next((x for x in plan.teams if x.team == team), None)
    days = () if tm is None else tuple(d for d in tm.days if d.date == day)
    if tm is None or not days:
        raise missing
    record_access(
        store,
        subject=principal.subject,
        role=principal.role.value,
        action="export",
        target=f"outreach/{plan.month}/sheets/{team}/{day.isoformat()}.{fmt}",
        purpose=why,
        count=sum(d.stops_count for d in days),
    )
    return replace(plan, teams=(replace(tm, days=days),))


def check_visit_scope(
    store: Store,
    *,
    principal: Principal,
    resident_id: int | None,
    lead_id: int | None,
    plan: MonthPlan | None,
) -> None:
    """Whether ``principal`` may record a visit to this person.

    Admins: anyone. Outreach: a person on its team's stops in ``plan`` (the
    month's plan, when one was made), or of its towns; anyone else is "not
    found", exactly as a missing person.

    Raises
    ------
    NotFoundError
        Outside the outreach account's plan and towns, or no such person.
    """
    if principal.role is not Role.OUTREACH:
        return
    team = None if plan is None else _own_team(plan, principal)
    if team is not None:
        for d in team.days:
            for s in d.stops:
                if (resident_id is not None and s.person.resident_id == resident_id) or (
                    lead_id is not None and s.person.lead_id == lead_id
                ):
                    return
    town = person_town(store, resident_id=resident_id, lead_id=lead_id)
    if town is None or town not in principal.towns:
        what, ident = ("残疾人", resident_id) if resident_id is not None else ("线索", lead_id)
        raise NotFoundError(NOT_YOURS.format(what=what, id=ident))


class MonthPlans:
    """The month plans of one store, each kept per data version and day.

    ``get`` plans a month (:func:`planner.services.outreach.outreach_month`, the
    calendar's villages, ``[outreach] solver_seconds`` a day) unless the plan for
    the store's current data version and today is kept; concurrent requests for
    the same month wait for one planning. At most ``size`` plans are kept (the
    least recently used goes).
    """

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._plans: OrderedDict[tuple[str, str, date], MonthPlan] = OrderedDict()
        self._latest: dict[str, MonthPlan] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def latest(self, month: str) -> MonthPlan | None:
        """The last plan made of ``month`` (``YYYY-MM``), whatever its version."""
        with self._guard:
            return self._latest.get(month)

    def get(
        self, store: Store, *, config: Config, year: int, month: int, today: date | None = None
    ) -> MonthPlan:
        """The plan of ``year``-``month`` for the store's current data.

        Raises
        ------
        CalendarError, InputError, NetworkCoverageError
            As :func:`planner.services.outreach.outreach_month`.
        """
        period = f"{year}-{month:02d}"
        with self._guard:
            lock = self._locks.setdefault(period, threading.Lock())
        with lock:
            key = (period, store.data_version(), today or date.today())
            with self._guard:
                kept = self._plans.get(key)
                if kept is not None:
                    self._plans.move_to_end(key)
                    return kept
            options = MonthOptions(year=year, month=month)
            plan = outreach_month(store, config=config, options=options)
            with self._guard:
                self._plans[key] = plan
                self._latest[period] = plan
                while len(self._plans) > self.size:
                    self._plans.popitem(last=False)
            return plan


def parse_month(text: str) -> tuple[int, int]:
    """``2027-01`` → ``(2027, 1)``.

    Raises
    ------
    CalendarError
        Not ``YYYY-MM``.
    """
    from planner.outreach.month import month_of

    return month_of(text)


def check_sheet_team(path: Path, *, principal: Principal, config: Config) -> None:
    """An outreach account imports only its own team's route sheets.

    Raises
    ------
    PermissionDeniedError
        A row of the sheet is another team's visit.
    InputError
        The file is not a route sheet.
    """
    from planner.ingest.visits import read_sheet

    if principal.role is not Role.OUTREACH:
        return
    sheet = read_sheet(path, today=date.today(), privacy=config.privacy)
    teams = {r.visit.team for r in sheet.good} - {None}
    other = sorted(str(x) for x in teams - {principal.team})
    if other:
        raise PermissionDeniedError(
            f"路线单 {path.name} 含其他服务队（{'、'.join(other)}）的走访；"
            f"入户服务队只能导入本队（{principal.team}）的路线单，请交区残联管理员导入"
        )
