"""Recording visits from the outreach page: one visit by a form
(``POST /outreach/visits``, as ``coverplan visits record``) and a filled-in route
sheet (``POST /outreach/visits/import``, as ``coverplan visits import``).

Both check the session's CSRF token (the upload before its body is read: htmx
sends the ``X-CSRF-Token`` header) and answer an htmx fragment: the saved visit or
the import report (rows, stored, rejected rows with row, column and reason), or
the user's mistake in Chinese with its HTTP status. An outreach account records
visits of its own team's stops of the visit's month only (anyone else is "not
found", with the API's message) and imports its own team's sheets only (as the
API: :func:`planner.services.outreach_views.check_sheet_team`).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.problems import status_of
from api.http.routes.outreach import month_plans
from api.http.routes.visits import SHEET_SUFFIXES
from api.http.uploads import receive_file
from api.web.deps import check_csrf, page_for
from api.web.render import TEMPLATES
from geo.errors import CoverplanError
from planner.domain.access import Role
from planner.domain.visits import OUTCOMES, SERVICE_LABELS
from planner.errors import NotFoundError
from planner.outreach.plan import MonthPlan
from planner.services.outreach_views import NOT_YOURS
from planner.services.web_sessions import WebSession
from planner.settings import Config

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.OUTREACH))]
OptionalId = Annotated[int | None, Form(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=500)]


def _fragment(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "outreach_result.html", context, status_code=status)


def _failed(request: Request, exc: CoverplanError) -> HTMLResponse:
    return _fragment(request, status_of(exc), error=str(exc))


def _plan_of(request: Request, visited_on: date) -> MonthPlan:
    """The plan of the visit's month the page showed (the last one made), or made now."""
    plans = month_plans(request)
    kept: MonthPlan | None = plans.latest(f"{visited_on.year}-{visited_on.month:02d}")
    if kept is not None:
        return kept
    state = request.app.state
    got: MonthPlan = plans.get(
        state.store, config=state.config, year=visited_on.year, month=visited_on.month
    )
    return got


def _check_own_stop(
    request: Request,
    session: WebSession,
    *,
    team: str,
    resident_id: int | None,
    lead_id: int | None,
    visited_on: date,
) -> None:
    """An outreach account records only the stops of its team's plan of that month.

    Raises
    ------
    NotFoundError
        Anyone else (the message of a person who does not exist).
    """
    if session.principal.role is not Role.OUTREACH:
        return
    plan = _plan_of(request, visited_on)
    for tm in plan.teams:
        if tm.team != team:
            continue
        for d in tm.days:
            for s in d.stops:
                if (resident_id is not None and s.person.resident_id == resident_id) or (
                    lead_id is not None and s.person.lead_id == lead_id
                ):
                    return
    what, ident = ("残疾人", resident_id) if resident_id is not None else ("线索", lead_id)
    raise NotFoundError(NOT_YOURS.format(what=what, id=ident))


@router.post("/outreach/visits", response_class=HTMLResponse)
def record_visit_form(
    request: Request,
    session: Session,
    visited_on: Annotated[date, Form()],
    outcome: Annotated[str, Form(min_length=1, max_length=32)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    team: Annotated[str, Form(max_length=32)] = "",
    resident_id: OptionalId = None,
    lead_id: OptionalId = None,
    services: Annotated[list[str] | None, Form(max_length=20)] = None,
    notes: Text = "",
    point: Annotated[str, Form(max_length=64)] = "",
    point_crs: Annotated[str, Form(pattern="^(wgs84|gcj02)$")] = "wgs84",
) -> Response:
    """Record one visit of a stop (as ``coverplan visits record``)."""
    from api.web.routes.outreach import team_of
    from planner.services.visits import RecordVisitOptions, record_visit

    check_csrf(request, session, csrf)
    config: Config = request.app.state.config
    try:
        code = team_of(session, team or None, config=config)
        _check_own_stop(
            request,
            session,
            team=code,
            resident_id=resident_id,
            lead_id=lead_id,
            visited_on=visited_on,
        )
        options = RecordVisitOptions(
            resident_id=resident_id,
            lead_id=lead_id,
            visited_on=visited_on,
            outcome=outcome,
            services=tuple(services or ()),
            team=code,
            notes=notes.strip() or None,
            point=point.strip() or None,
            point_crs="gcj02" if point_crs == "gcj02" else "wgs84",
        )
        saved = record_visit(request.app.state.store, config=config, options=options)
    except CoverplanError as exc:
        return _failed(request, exc)
    doc = saved.to_json()
    doc["service_labels"] = [SERVICE_LABELS.get(s, s) for s in saved.services]
    return _fragment(request, saved=doc, outcomes=OUTCOMES)


@router.post("/outreach/visits/import", response_class=HTMLResponse)
async def import_sheet_form(request: Request, session: Session) -> Response:
    """Import a filled-in route sheet (as ``coverplan visits import``): the report."""
    from planner.services.outreach_views import check_sheet_team
    from planner.services.visits import VisitImportOptions, import_visits

    check_csrf(request, session)  # the header, before the upload is read
    state = request.app.state
    config: Config = state.config
    principal = session.principal
    try:
        with tempfile.TemporaryDirectory(prefix="coverplan-upload-") as tmp:
            up = await receive_file(
                request,
                dest=Path(tmp),
                max_mb=config.server.upload_max_mb,
                suffixes=SHEET_SUFFIXES,
            )
            if principal.role is Role.OUTREACH:
                await run_in_threadpool(
                    check_sheet_team, up.path, principal=principal, config=config
                )
            result = await run_in_threadpool(
                import_visits, state.store, config=config, options=VisitImportOptions(path=up.path)
            )
    except CoverplanError as exc:
        return _failed(request, exc)
    result = replace(result, files=(up.name,))
    return _fragment(request, report=result.to_json())
