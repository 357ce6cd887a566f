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

import re
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.web.deps import BAD_CSRF, CSRF_HEADER, check_csrf, page_for
from api.web.render import TEMPLATES
from geo.errors import CoverplanError
from planner.domain.access import Role
from planner.domain.visits import OUTCOMES, SERVICE_LABELS
from planner.errors import (
    InputError,
    NotFoundError,
    PermissionDeniedError,
    TooLargeError,
)
from planner.outreach.plan import MonthPlan
from planner.services.outreach_views import NOT_YOURS, MonthPlans
from planner.services.web_sessions import WebSession
from planner.settings import Config

__all__ = ["failed", "month_plans", "router"]

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.OUTREACH))]
SHEET_SUFFIXES = (".xlsx",)
MEGABYTE = 1024 * 1024
FRAMING_BYTES = 64 * 1024  # multipart framing and the other fields, on top of the file
CHUNK_BYTES = 1024 * 1024
FORM_FIELDS = 4  # csrf (and room for a few more); one file
_UNSAFE = re.compile(r"[^\w.\-（）()\u4e00-\u9fff]+")
OptionalId = Annotated[int | None, Form(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=500)]


def _fragment(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "outreach_result.html", context, status_code=status)


def _status(exc: CoverplanError) -> int:
    """The HTTP status of a user's mistake (as the API's problems)."""
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, TooLargeError):
        return 413
    return 422


def failed(request: Request, exc: CoverplanError) -> HTMLResponse:
    """The user's mistake as a fragment (Chinese message, the HTTP status of the error)."""
    return _fragment(request, _status(exc), error=str(exc))


def month_plans(request: Request) -> MonthPlans:
    """The app's month plans (``app.state.month_plans``, shared with the API's
    outreach routes: a plan made for either serves both)."""
    state = request.app.state
    plans: MonthPlans | None = getattr(state, "month_plans", None)
    if plans is None:
        config: Config = state.config
        plans = MonthPlans(size=config.server.plan_cache_months)
        state.month_plans = plans
    return plans


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
        return failed(request, exc)
    doc = saved.to_json()
    doc["service_labels"] = [SERVICE_LABELS.get(s, s) for s in saved.services]
    return _fragment(request, saved=doc, outcomes=OUTCOMES)


@router.post("/outreach/visits/import", response_class=HTMLResponse)
async def import_sheet_form(request: Request, session: Session) -> Response:
    """Import a filled-in route sheet (as ``coverplan visits import``): the report."""
    from planner.services.outreach_views import check_sheet_team
    from planner.services.visits import VisitImportOptions, import_visits

    state = request.app.state
    config: Config = state.config
    principal = session.principal
    if request.headers.get(CSRF_HEADER) is not None:
        check_csrf(request, session)  # htmx: the header, before the upload is read
    try:
        max_bytes = _declared_size(request, max_mb=config.server.upload_max_mb)
        with tempfile.TemporaryDirectory(prefix="coverplan-upload-") as tmp:
            async with request.form(max_files=1, max_fields=FORM_FIELDS) as form:
                if request.headers.get(CSRF_HEADER) is None:
                    csrf = form.get("csrf")
                    check_csrf(request, session, csrf if isinstance(csrf, str) else None)
                name, path = await _save_upload(form.get("file"), dest=Path(tmp))
            if path.stat().st_size > max_bytes:
                raise _too_large(config.server.upload_max_mb)
            if principal.role is Role.OUTREACH:
                await run_in_threadpool(check_sheet_team, path, principal=principal, config=config)
            result = await run_in_threadpool(
                import_visits, state.store, config=config, options=VisitImportOptions(path=path)
            )
    except PermissionDeniedError as exc:
        if str(exc) == BAD_CSRF:
            raise
        return failed(request, exc)
    except CoverplanError as exc:
        return failed(request, exc)
    result = replace(result, files=(name,))
    return _fragment(request, report=result.to_json())


def _too_large(max_mb: float) -> TooLargeError:
    return TooLargeError(
        f"上传的文件超过 {max_mb:g} MB（配置 [server] upload_max_mb），未导入任何数据；"
        "请拆分文件后分别上传，或请管理员调大该设置"
    )


def _declared_size(request: Request, *, max_mb: float) -> int:
    """The upload's cap in bytes, checked against the declared ``Content-Length``
    (a browser's form always declares it; the server reads no more than declared).

    Raises
    ------
    TooLargeError
        Declared above the cap (nothing read).
    InputError
        No ``Content-Length``.
    """
    limit = int(max_mb * MEGABYTE)
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise InputError(
            "上传请求缺少文件大小（Content-Length）；请在页面上选择文件后点「上传并导入」"
        )
    if int(declared) > limit + FRAMING_BYTES:
        raise _too_large(max_mb)
    return limit


async def _save_upload(field: Any, *, dest: Path) -> tuple[str, Path]:
    """Write the form's file to ``dest`` under a safe name: (name, path).

    Raises
    ------
    InputError
        No file, or not an ``.xlsx`` file.
    """
    if not isinstance(field, UploadFile) or not field.filename:
        raise InputError("没有选择文件：请选择填好的路线单（.xlsx）后再上传")
    raw = field.filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", raw).strip("._")[-120:] or "upload.xlsx"
    if Path(name).suffix.lower() not in SHEET_SUFFIXES:
        raise InputError(f"上传的文件「{name}」类型不对：应为 .xlsx 路线单（看文件扩展名）")
    path = dest / name
    with path.open("wb") as out:
        while chunk := await field.read(CHUNK_BYTES):
            out.write(chunk)
    return name, path
