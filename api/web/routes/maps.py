"""The maps the pages show in frames: ``/maps/KIND.html?…`` (a whole HTML document,
its scripts and styles from ``/static``).

Each map is drawn from the same cached analyses as the API (per store data
version) and the rendered page is kept too, so a frame costs the drawing once.
Who sees what: coverage, gaps, indicators, siting and retrofit maps for planners,
leaders and admins, with counts 1..``[privacy] min_count``-1 shown as 「<5」
except for admins; the retrofit map also for outreach teams (unsuppressed: they
visit the households); the route map only for the team's own days and admins,
with a declared purpose, audited as an export (names are in its popups).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.analyses import (
    cached_gaps,
    cached_indicators,
    cached_retrofit,
    cached_service_areas,
)
from api.web.deps import page_for
from api.web.routes.outreach_visits import month_plans
from maps.base import load_base
from maps.coverage import coverage_map
from maps.gaps import gaps_map
from maps.indicators import indicator_map
from maps.outreach import outreach_map
from maps.render import to_html
from maps.retrofit import retrofit_map
from maps.siting import siting_map
from maps.whatif import whatif_map
from planner.domain.access import Role
from planner.errors import InputError, NotFoundError
from planner.outreach.month import month_of
from planner.services import RetrofitOptions, show_scenario
from planner.services.outreach_views import sheet_plan
from planner.services.web_sessions import WebSession
from planner.settings import Config
from planner.store.frames import facilities_frame

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Analysts = Annotated[WebSession, Depends(page_for(Role.PLANNER, Role.LEADER))]
Field = Annotated[WebSession, Depends(page_for(Role.PLANNER, Role.LEADER, Role.OUTREACH))]
Team = Annotated[WebSession, Depends(page_for(Role.OUTREACH))]
Leaders = Annotated[WebSession, Depends(page_for(Role.LEADER))]
TypeQuery = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")]
DEFAULT_INDICATOR = "home"


def _min_count(session: WebSession, config: Config) -> int | None:
    """The suppression threshold for this viewer (None: admins see every count)."""
    return None if session.principal.full_records else config.privacy.min_count


def _type(config: Config, type_key: str | None) -> str:
    if type_key is None:
        return "home" if "home" in config.facility_types else next(iter(config.facility_types))
    if type_key not in config.facility_types:
        known = "、".join(config.facility_types)
        raise InputError(f"没有设施类型 {type_key}；可选：{known}")
    return type_key


def _frame(request: Request, parts: tuple[Any, ...], draw: Any) -> HTMLResponse:
    """The rendered map of ``parts``, drawn once per data version and day."""
    state = request.app.state
    store = state.store
    key = ("map", *parts, store.data_version(), date.today().isoformat())

    def render() -> str:
        base = load_base(store, config=state.config, networks=state.networks)
        return to_html(draw(base))

    return HTMLResponse(state.answers.get(key, render))


@router.get("/maps/coverage.html", response_class=HTMLResponse)
def coverage_frame(request: Request, session: Analysts, type: TypeQuery = None) -> Response:
    config: Config = request.app.state.config
    t, mc = _type(config, type), _min_count(session, config)
    result = cached_service_areas(request, t)
    return _frame(
        request,
        ("coverage", t, mc),
        lambda base: coverage_map(result, base=base, config=config, type_key=t, min_count=mc),
    )


@router.get("/maps/gaps.html", response_class=HTMLResponse)
def gaps_frame(request: Request, session: Analysts, type: TypeQuery = None) -> Response:
    config: Config = request.app.state.config
    t = None if type is None else _type(config, type)
    mc = _min_count(session, config)
    found = cached_gaps(request)
    return _frame(
        request,
        ("gaps", t, mc),
        lambda base: gaps_map(found, base=base, config=config, type_key=t, min_count=mc),
    )


@router.get("/maps/indicators.html", response_class=HTMLResponse)
def indicators_frame(
    request: Request,
    session: Analysts,
    indicator: Annotated[str, Query(max_length=40, pattern=r"^[a-z_]+$")] = DEFAULT_INDICATOR,
) -> Response:
    config: Config = request.app.state.config
    mc = _min_count(session, config)
    table = cached_indicators(request)
    return _frame(
        request,
        ("indicators", indicator, mc),
        lambda base: indicator_map(table, base=base, config=config, key=indicator, min_count=mc),
    )


@router.get("/maps/siting.html", response_class=HTMLResponse)
def siting_frame(
    request: Request,
    session: Analysts,
    scenario: Annotated[str, Query(min_length=1, max_length=80)],
) -> Response:
    state = request.app.state
    found = show_scenario(state.store, scenario)
    return _frame(
        request,
        ("siting", scenario),
        lambda base: siting_map(
            found, base=base, config=state.config, facilities=facilities_frame(state.store)
        ),
    )


@router.get("/maps/retrofit.html", response_class=HTMLResponse)
def retrofit_frame(request: Request, session: Field) -> Response:
    config: Config = request.app.state.config
    suppressed = session.principal.role not in (Role.ADMIN, Role.OUTREACH)
    mc = config.privacy.min_count if suppressed else None
    plan = cached_retrofit(request, RetrofitOptions())
    return _frame(
        request,
        ("retrofit", mc),
        lambda base: retrofit_map(plan, base=base, config=config, min_count=mc),
    )


@router.get("/maps/outreach.html", response_class=HTMLResponse)
def outreach_frame(
    request: Request,
    session: Team,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    team: Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")],
    day: date,
    purpose: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """One team-day's route map: the team's own (or an admin's), audited as an export."""
    state = request.app.state
    year, mon = month_of(month)
    plan = month_plans(request).get(state.store, config=state.config, year=year, month=mon)
    one = sheet_plan(
        state.store,
        plan,
        principal=session.principal,
        team=team,
        day=day,
        fmt="map",
        purpose=purpose,
    )
    base = load_base(state.store, config=state.config, networks=state.networks)
    m = outreach_map(one, base=base, config=state.config, team=team, day=day)
    return HTMLResponse(to_html(m))


@router.get("/maps/whatif.html", response_class=HTMLResponse)
def whatif_frame(
    request: Request,
    session: Leaders,
    session_id: Annotated[str, Query(alias="session", min_length=8, max_length=64)],
    step: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The signed-in user's own what-if after its changes (``step`` only defeats
    the browser's cache); another user's session id is not found."""
    from api.web.routes.leader_whatif import registry

    entry = registry(request).by_id(session_id)
    if entry is None or entry.subject != session.principal.subject:
        raise NotFoundError("没有这个推演（或已过期）：请回到「选址推演」页面重新打开")
    config: Config = request.app.state.config
    with entry.lock:
        figures = entry.whatif.figures()
        candidates = entry.whatif.candidates()
    state = request.app.state
    base = load_base(state.store, config=config, networks=state.networks)
    m = whatif_map(
        figures,
        base=base,
        config=config,
        min_count=_min_count(session, config),
        candidates=candidates,
    )
    return HTMLResponse(to_html(m))
