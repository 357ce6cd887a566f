"""The outreach's pages (``/outreach``): a month's plan for one team, its route
sheets, and (:mod:`api.web.routes.outreach_visits`) recording visits.

- ``GET /outreach?month=YYYY-MM&team=A&purpose=…``: the month selector (this month
  and the 12 months of the outreach calendar), the team (an outreach account's own;
  admins choose), the 「查看目的」 form, and the upload of filled-in sheets. With a
  purpose the plan loads into the page (``GET /outreach/plan``, htmx): planning a
  month takes ``[outreach] solver_seconds`` a day on its first request.
- ``GET /outreach/plan``: the team's days (numbered stops, time windows, drive,
  households with masked IDs, estimated positions marked), each with its route map
  frame and sheet links. Read through
  :func:`planner.services.outreach_views.month_view` (purpose required, audited).
- ``GET /outreach/sheets/{month}/{team}/{day}.{html|xlsx|gpx}?purpose=…``: the
  sheet as the API writes it (:func:`~planner.services.outreach_views.sheet_plan`,
  audited as an export); another team's is "not found", exactly as a missing one.

Privacy is the API's: an outreach account sees its own team only; any other team
is "not found" (the same message as a team that does not exist).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from api.http.routes.outreach import SheetFormat, sheet_file
from api.web.deps import page_for
from api.web.render import TEMPLATES, page
from api.web.routes import outreach_visits
from api.web.routes.outreach_visits import failed, month_plans
from geo.errors import CoverplanError
from planner.domain.access import Role
from planner.domain.visits import OUTCOMES
from planner.errors import InputError, NotFoundError
from planner.outreach.calendar import first_month, month_window
from planner.services.outreach_views import month_view, parse_month, sheet_plan
from planner.services.web_sessions import WebSession
from planner.settings import Config

__all__ = ["month_choices", "router", "team_of"]

router = APIRouter(include_in_schema=False)
router.include_router(outreach_visits.router)
Session = Annotated[WebSession, Depends(page_for(Role.OUTREACH))]

MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000-01 … 2099-12 (as the API)


NO_TEAM = "没有服务队 {team} 的走访方案，或不在您的权限范围内"
NEED_PURPOSE = "请先填写「查看目的」（将记入审计日志），如「{month}入户走访」，再查看入户名单"
WEEKDAYS = "一二三四五六日"
TEAM_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
MonthQuery = Annotated[str | None, Query(pattern=MONTH, description="月份 YYYY-MM")]
TeamQuery = Annotated[str | None, Query(max_length=32)]
PurposeQuery = Annotated[str | None, Query(max_length=200)]


def month_label(month: str) -> str:
    """``2027-01`` → ``2027年1月``."""
    year, mon = parse_month(month)
    return f"{year}年{mon}月"


def month_choices(today: date, *, chosen: str | None = None) -> list[tuple[str, str]]:
    """The months a user can pick: this month, then the outreach calendar's 12
    (from next month, as ``coverplan outreach year``), plus ``chosen`` when it is
    another month (a link to it). Values ``YYYY-MM``, labels in Chinese."""
    this = f"{today.year}-{today.month:02d}"
    values = [this] + [f"{y}-{m:02d}" for y, m in month_window(first_month(today))]
    if chosen and chosen not in values:
        values.insert(0, chosen)
    return [(v, month_label(v) + ("（本月）" if v == this else "")) for v in values]


def team_of(session: WebSession, team: str | None, *, config: Config) -> str:
    """The team whose plan the page shows: an outreach account's own (asking for
    another is "not found"), or for an admin the one chosen (default the first of
    ``[outreach.teams]``).

    Raises
    ------
    NotFoundError
        Another team than the account's own, or a team not configured.
    """
    principal = session.principal
    if principal.role is Role.OUTREACH:
        if not principal.team or (team and team != principal.team):
            raise NotFoundError(NO_TEAM.format(team=team or "（未设置）"))
        return principal.team
    teams = list(config.outreach.teams)
    if not team:
        if not teams:
            raise NotFoundError(NO_TEAM.format(team="（未配置 [outreach.teams]）"))
        return teams[0]
    if team not in teams:
        raise NotFoundError(NO_TEAM.format(team=team))
    return team


def _purpose(purpose: str | None, month: str) -> str:
    if purpose is None or not purpose.strip():
        raise InputError(NEED_PURPOSE.format(month=month_label(month)))
    return purpose.strip()


@router.get("/outreach", response_class=HTMLResponse)
def outreach_home(
    request: Request,
    session: Session,
    month: MonthQuery = None,
    team: TeamQuery = None,
    purpose: PurposeQuery = None,
) -> Response:
    config: Config = request.app.state.config
    today = date.today()
    chosen = month or f"{today.year}-{today.month:02d}"
    parse_month(chosen)
    code = team_of(session, team, config=config)
    is_admin = session.principal.role is Role.ADMIN
    teams = [(k, t.label) for k, t in config.outreach.teams.items()] if is_admin else []
    why = (purpose or "").strip()
    query = urlencode({"month": chosen, "team": code, "purpose": why})
    return page(
        request,
        "outreach.html",
        session=session,
        title="本月走访",
        month=chosen,
        month_label=month_label(chosen),
        months=month_choices(today, chosen=chosen),
        team=code,
        team_label=config.outreach.teams[code].label if code in config.outreach.teams else code,
        teams=teams,
        purpose=why,
        plan_url=f"/outreach/plan?{query}" if why else "",
        solver_seconds=config.outreach.solver_seconds * config.outreach.days,
    )


def _stop_view(stop: dict[str, Any]) -> dict[str, Any]:
    return {
        **stop,
        "service_pairs": list(zip(stop["services"], stop["service_labels"], strict=False)),
        "estimated": stop.get("point_source") == "estimated",
        "key": f"{'L' if stop.get('lead_id') is not None else 'R'}"
        f"{stop.get('lead_id') or stop.get('resident_id')}",
    }


def _day_view(day: dict[str, Any], *, month: str, team: str, purpose: str) -> dict[str, Any]:
    when = date.fromisoformat(day["date"])
    sheet = f"/outreach/sheets/{month}/{team}/{day['date']}"
    q = "?" + urlencode({"purpose": purpose})
    return {
        **day,
        "weekday": "周" + WEEKDAYS[when.weekday()],
        "stops": [_stop_view(s) for s in day["stops"]],
        "sheets": {fmt: f"{sheet}.{fmt}{q}" for fmt in ("html", "xlsx", "gpx")},
        "map": "/maps/outreach.html?"
        + urlencode({"month": month, "team": team, "day": day["date"], "purpose": purpose}),
        "past": when <= date.today(),
    }


def _team_doc(doc: dict[str, Any], *, session: WebSession, team: str) -> dict[str, Any] | None:
    if session.principal.role is Role.OUTREACH:
        own: dict[str, Any] | None = doc["team"]
        return own
    plan = doc["plan"] or {}
    return next((t for t in plan.get("teams", ()) if t["team"] == team), None)


@router.get("/outreach/plan", response_class=HTMLResponse)
def outreach_plan(
    request: Request,
    session: Session,
    month: Annotated[str, Query(pattern=MONTH)],
    team: TeamQuery = None,
    purpose: PurposeQuery = None,
) -> Response:
    """The team's days of the month (an htmx fragment; audited read)."""
    state = request.app.state
    config: Config = state.config
    try:
        code = team_of(session, team, config=config)
        why = _purpose(purpose, month)
        year, mon = parse_month(month)
        plan = month_plans(request).get(state.store, config=config, year=year, month=mon)
        doc = month_view(state.store, plan, config=config, principal=session.principal, purpose=why)
    except CoverplanError as exc:  # shown in the page's plan area
        return failed(request, exc)
    team_doc = _team_doc(doc, session=session, team=code)
    days = [] if team_doc is None else team_doc["days"]
    context = {
        "month": month,
        "month_label": month_label(month),
        "team": code,
        "team_label": team_doc["label"] if team_doc else config.outreach.teams[code].label,
        "villages": doc["villages"],
        "service_point": doc["service_point"],
        "start_note": doc["start_note"],
        "days": [_day_view(d, month=month, team=code, purpose=why) for d in days],
        "outcomes": list(OUTCOMES.items()),
        "csrf": session.csrf,
        "today": date.today().isoformat(),
    }
    return TEMPLATES.TemplateResponse(request, "outreach_plan.html", context)


@router.get("/outreach/sheets/{month}/{team}/{day}.{fmt}")
def outreach_sheet(
    request: Request,
    session: Session,
    month: Annotated[str, PathParam(pattern=MONTH)],
    team: Annotated[str, PathParam(pattern=TEAM_PATTERN)],
    day: date,
    fmt: SheetFormat,
    purpose: PurposeQuery = None,
) -> Response:
    """The team-day's route sheet as the API writes it (audited export)."""
    state = request.app.state
    why = _purpose(purpose, month)
    year, mon = parse_month(month)
    plan = month_plans(request).get(state.store, config=state.config, year=year, month=mon)
    one = sheet_plan(
        state.store,
        plan,
        principal=session.principal,
        team=team,
        day=day,
        fmt=fmt.value,
        purpose=why,
    )
    return sheet_file(one, team=team, day=day, fmt=fmt, inline=fmt is SheetFormat.html)
