"""``/api/v1/visits``: record one home visit, or import a filled-in route sheet.

Outreach accounts record visits of their own plan's households (the persons on
their team's stops of the visit's month, when that plan was made, or of their
towns; anyone else is 404 as a missing person), always as their own team; admins
record any. ``POST /import`` takes a route sheet (``.xlsx``) as
``multipart/form-data`` (field ``file``, at most ``[server] upload_max_mb``,
413 above) and answers the batch report of ``coverplan visits import --json``.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from api.http.routes.outreach import month_plans
from api.http.uploads import multipart_body, receive_file
from planner.domain.access import Principal, Role
from planner.errors import PermissionDeniedError
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/visits", tags=["visits"])

recorders = require(Role.ADMIN, Role.OUTREACH)
SHEET_SUFFIXES = (".xlsx",)


class VisitIn(BaseModel):
    """One visit (as ``coverplan visits record``): exactly one of ``resident_id``
    and ``lead_id``; ``point`` is ``"LON,LAT"`` in ``point_crs``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "resident_id": 12,
                    "visited_on": "2026-11-03",
                    "outcome": "done",
                    "services": ["device_replacement"],
                    "team": "A",
                    "notes": "已更换轮椅",
                }
            ]
        },
    )

    resident_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    lead_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    visited_on: date
    outcome: str = Field(min_length=1, max_length=32, description="结果：键或中文名，如 done／完成")
    services: list[str] = Field(default=[], max_length=20, description="已提供的服务（键或中文名）")
    team: str | None = Field(
        default=None, max_length=32, description="服务队；入户服务队账户只能是本队（默认本队）"
    )
    notes: str | None = Field(default=None, max_length=500)
    point: str | None = Field(default=None, max_length=64, description="住户位置 LON,LAT")
    point_crs: Literal["wgs84", "gcj02"] = "wgs84"


class SavedVisitOut(BaseModel):
    status: str
    inserted: bool
    resident_id: int | None
    lead_id: int | None
    masked_id: str | None
    visited_on: str
    team: str | None
    outcome: str
    outcome_label: str
    services: list[str]
    updated: dict[str, int]
    warnings: list[Any]
    point: list[float] | None


class VisitProblemOut(BaseModel):
    file: str
    row: int
    column: str | None
    value: str | None
    masked_id: str | None
    reason: str


class FailedFileOut(BaseModel):
    file: str
    reason: str


class VisitImportOut(BaseModel):
    """The batch report of ``coverplan visits import --json``."""

    files: list[str]
    rows: int
    stored: int
    inserted: int
    revised: int
    unchanged: int
    skipped_blank: int
    rejected: int
    problems: list[VisitProblemOut]
    warnings: list[VisitProblemOut]
    updated: dict[str, int]
    batch_ids: list[int]
    failed_files: list[FailedFileOut]


@router.post(
    "",
    response_model=SavedVisitOut,
    status_code=201,
    summary="登记一次入户走访（入户服务队：本队名单；管理员）",
    responses=responses(401, 403, 404, 422),
)
def record(
    body: VisitIn,
    request: Request,
    principal: Annotated[Principal, Depends(recorders)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> SavedVisitOut:
    from planner.services.outreach_views import check_visit_scope
    from planner.services.visits import RecordVisitOptions, record_visit

    team = body.team
    if principal.role is Role.OUTREACH:
        if team is not None and team != principal.team:
            raise PermissionDeniedError(
                f"只能登记本服务队（{principal.team}）的走访，不能登记服务队 {team} 的"
            )
        team = principal.team
    options = RecordVisitOptions(
        resident_id=body.resident_id,
        lead_id=body.lead_id,
        visited_on=body.visited_on,
        outcome=body.outcome,
        services=tuple(body.services),
        team=team,
        notes=body.notes,
        point=body.point,
        point_crs=body.point_crs,
    )
    period = f"{body.visited_on.year}-{body.visited_on.month:02d}"
    check_visit_scope(
        store,
        principal=principal,
        resident_id=body.resident_id,
        lead_id=body.lead_id,
        plan=month_plans(request).latest(period),
    )
    saved = record_visit(store, config=config, options=options)
    return SavedVisitOut.model_validate(saved.to_json())


@router.post(
    "/import",
    response_model=VisitImportOut,
    summary="导入填好的入户路线单（.xlsx；同 coverplan visits import --json）",
    description=(
        "multipart/form-data，文件放在字段 file；大小上限见 [server] upload_max_mb（超出 413）"
    ),
    responses=responses(401, 403, 413, 422),
    openapi_extra=multipart_body("填好的入户路线单 .xlsx（coverplan outreach month 生成）"),
)
async def import_sheet(
    request: Request,
    principal: Annotated[Principal, Depends(recorders)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> VisitImportOut:
    from planner.services.outreach_views import check_sheet_team
    from planner.services.visits import VisitImportOptions, import_visits

    with tempfile.TemporaryDirectory(prefix="coverplan-upload-") as tmp:
        up = await receive_file(
            request, dest=Path(tmp), max_mb=config.server.upload_max_mb, suffixes=SHEET_SUFFIXES
        )
        if principal.role is Role.OUTREACH:
            await run_in_threadpool(check_sheet_team, up.path, principal=principal, config=config)
        result = await run_in_threadpool(
            import_visits, store, config=config, options=VisitImportOptions(path=up.path)
        )
    result = replace(result, files=(up.name,))
    return VisitImportOut.model_validate(result.to_json())
