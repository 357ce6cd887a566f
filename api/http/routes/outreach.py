"""``/api/v1/outreach``: the outreach calendar, a month's plan and its route sheets.

- ``GET /calendar?from=YYYY-MM``: every role (integration: ``read:aggregates``);
  as ``coverplan outreach year --json``, small person counts suppressed for all
  but admins.
- ``GET /months/{YYYY-MM}``: planners and leaders (and integration keys) get the
  plan without persons; outreach accounts also their own team's stops (masked);
  admins the whole plan (``plan``, as ``coverplan outreach month --json``).
  The plan is computed on the first request and kept per store data version and
  day (:class:`planner.services.outreach_views.MonthPlans`): the first request of
  a month waits for the planning (routing ``[outreach] solver_seconds`` a day).
- ``GET /months/{YYYY-MM}/sheets/{team}/{date}.{xlsx|html|gpx}``: the team's own
  route sheet (full phones) for that team's outreach account, or an admin; another
  team's sheet is 404 exactly as a missing one; audited as an export.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.background import BackgroundTask

from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from planner.domain.access import Principal, Role
from planner.services.types import MonthPlan
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/outreach", tags=["outreach"])

ANY_ROLE = (Role.ADMIN, Role.PLANNER, Role.LEADER, Role.OUTREACH)
aggregates = require(*ANY_ROLE, scope="read:aggregates")
sheet_readers = require(Role.ADMIN, Role.OUTREACH)
MONTH = r"^20\d{2}-(0[1-9]|1[0-2])$"  # 2000-01 … 2099-12
MonthParam = Annotated[
    str, PathParam(pattern=MONTH, description="月份 YYYY-MM", examples=["2027-01"])
]
PurposeParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"\S",  # as /residents' purpose: not blank
        description=(
            "查看入户名单的目的（记入审计日志）；管理员与入户服务队给出时才返回名单，不给只返回汇总"
        ),
        examples=["1月入户走访"],
    ),
]


class CalendarVillageOut(BaseModel):
    code: str
    name: str
    town_name: str
    score: float
    home_visits: int | None = Field(description="需入户人数；管理员以外 1–4 显示为 null")
    parts: dict[str, float | None]
    drive_min: float | None


class CalendarMonthOut(BaseModel):
    month: str
    dates: list[str]
    villages: list[CalendarVillageOut]
    note: str | None


class CalendarTownOut(BaseModel):
    town_code: str
    town_name: str
    villages: int
    eligible: int
    need: float
    share: float
    minimum: int
    months: int
    visits: int


class CalendarOut(BaseModel):
    """The 12 months' calendar (``coverplan outreach year --json``)."""

    model_config = ConfigDict(populate_by_name=True)

    year: int
    from_: str = Field(alias="from")
    to: str
    capacity: int
    part_labels: dict[str, str]
    pairing: dict[str, Any]
    towns: list[CalendarTownOut]
    months: list[CalendarMonthOut]


class InvitationOut(BaseModel):
    service: str
    label: str
    count: int | None


class MonthVillageOut(BaseModel):
    code: str
    name: str
    town_name: str
    dates: list[str]
    service_point: dict[str, Any]
    invited: list[InvitationOut]


class TeamDayOut(BaseModel):
    date: str
    stops_count: int | None
    travel_min: float
    distance_km: float | None


class TeamSummaryOut(BaseModel):
    team: str
    label: str
    skills: list[str]
    skill_labels: list[str]
    days: list[TeamDayOut]


class RoutineOut(BaseModel):
    town_code: str
    town_name: str
    poor_households: int | None
    poor_visited: int | None
    overdue: int | None


class MonthOut(BaseModel):
    """A month's plan as the caller's role may see it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "month": "2027-01",
                    "villages": [],
                    "service_point": {"name": "竹园村", "lon": 119.8, "lat": 29.1},
                    "start_at": "office",
                    "start_note": "服务队从区残联出发",
                    "teams": [
                        {
                            "team": "A",
                            "label": "A队",
                            "skills": ["device"],
                            "skill_labels": ["辅具"],
                            "days": [
                                {
                                    "date": "2027-01-05",
                                    "stops_count": 6,
                                    "travel_min": 48.1,
                                    "distance_km": 28.0,
                                }
                            ],
                        }
                    ],
                    "unplanned_by_reason": {"shift_full": 0},
                    "reason_labels": {"shift_full": "本月时间排满"},
                    "routine": [],
                    "off_network": [],
                    "stats": {"households_needing_visit": 12},
                    "team": None,
                    "plan": None,
                }
            ]
        }
    )

    month: str
    villages: list[MonthVillageOut]
    service_point: dict[str, Any]
    start_at: str
    start_note: str
    teams: list[TeamSummaryOut]
    unplanned_by_reason: dict[str, int | None]
    reason_labels: dict[str, str]
    routine: list[RoutineOut]
    off_network: list[dict[str, Any]]
    stats: dict[str, Any]
    team: dict[str, Any] | None = Field(
        description=(
            "入户服务队：本队各入村日及入户名单（姓名，身份证号与电话脱敏）；其他角色为 null"
        )
    )
    plan: dict[str, Any] | None = Field(
        description="管理员：完整月计划（同 coverplan outreach month --json）；其他角色为 null"
    )


class SheetFormat(StrEnum):
    xlsx = "xlsx"
    html = "html"
    gpx = "gpx"


MEDIA = {
    SheetFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    SheetFormat.html: "text/html; charset=utf-8",
    SheetFormat.gpx: "application/gpx+xml",
}


def sheet_file(
    one: MonthPlan, *, team: str, day: date, fmt: SheetFormat, inline: bool = False
) -> FileResponse:
    """The route sheet of ``one`` (a plan cut to one team-day, :func:`sheet_plan`)
    written in ``fmt`` to a temporary folder and sent as a file (the folder is
    removed after sending); ``inline``: shown by the browser (the web UI's print
    view) instead of downloaded. Used by the API and the web pages alike."""
    from planner.reports.route_day import file_stem, team_dir
    from planner.reports.route_sheets import write_route_sheets

    tmp = Path(tempfile.mkdtemp(prefix="coverplan-sheet-"))
    try:
        write_route_sheets(one, tmp)
        name = f"{file_stem(day.isoformat(), team)}.{fmt.value}"
        path = tmp / team_dir(team) / name
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA[fmt],
        filename=name,
        content_disposition_type="inline" if inline else "attachment",
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )


def month_plans(request: Request) -> Any:
    """The app's :class:`~planner.services.outreach_views.MonthPlans` (made on first use)."""
    from planner.services.outreach_views import MonthPlans

    state = request.app.state
    plans = getattr(state, "month_plans", None)
    if plans is None:
        config: Config = state.config
        plans = MonthPlans(size=config.server.plan_cache_months)
        state.month_plans = plans
    return plans


def _month(text: str) -> tuple[int, int]:
    from planner.services.outreach_views import parse_month

    return parse_month(text)


@router.get(
    "/calendar",
    response_model=CalendarOut,
    summary="12 个月入村日历（同 coverplan outreach year --json；仅汇总）",
    responses=responses(401, 403, 422),
)
def calendar(
    principal: Annotated[Principal, Depends(aggregates)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    start: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=MONTH,
            description="从该月起 12 个月（默认下个月起）",
            examples=["2027-01"],
        ),
    ] = None,
) -> CalendarOut:
    from planner.services.outreach import YearOptions, outreach_year
    from planner.services.outreach_views import calendar_view

    options = YearOptions(start=_month(start) if start else None)
    cal = outreach_year(store, config=config, options=options)
    return CalendarOut.model_validate(calendar_view(cal, principal=principal, config=config))


@router.get(
    "/months/{month}",
    response_model=MonthOut,
    summary="当月入村方案（按角色：汇总／本队名单／管理员完整方案）",
    description=(
        "首次请求某月时计算方案（每个入村日路线求解 [outreach] solver_seconds 秒），"
        "之后按数据库数据版本与日期缓存；管理员与入户服务队给出 purpose 时返回名单（记入审计）"
    ),
    responses=responses(401, 403, 422),
)
def month_plan(
    month: MonthParam,
    request: Request,
    principal: Annotated[Principal, Depends(aggregates)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    purpose: PurposeParam = None,
) -> MonthOut:
    from planner.services.outreach_views import month_view

    year, mon = _month(month)
    plan = month_plans(request).get(store, config=config, year=year, month=mon)
    doc = month_view(store, plan, config=config, principal=principal, purpose=purpose)
    return MonthOut.model_validate(doc)


@router.get(
    "/months/{month}/sheets/{team}/{day}.{fmt}",
    summary="入户路线单（本服务队或管理员；含完整电话；记入审计）",
    response_class=FileResponse,
    responses={
        200: {
            "description": "路线单文件",
            "content": {m.split(";")[0]: {} for m in MEDIA.values()},
        },
        **responses(401, 403, 404, 422),
    },
)
def route_sheet(
    month: MonthParam,
    team: Annotated[
        str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="服务队代码，如 A")
    ],
    day: Annotated[date, PathParam(description="入村日 YYYY-MM-DD")],
    fmt: Annotated[SheetFormat, PathParam(description="xlsx（填报）、html（打印）或 gpx")],
    request: Request,
    principal: Annotated[Principal, Depends(sheet_readers)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    purpose: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            pattern=r"\S",
            description="下载目的（必填，记入审计日志）",
            examples=["1月入户走访"],
        ),
    ],
) -> FileResponse:
    from planner.services.outreach_views import sheet_plan

    year, mon = _month(month)
    plan = month_plans(request).get(store, config=config, year=year, month=mon)
    one = sheet_plan(
        store,
        plan,
        principal=principal,
        team=team,
        day=day,
        fmt=fmt.value,
        purpose=purpose,
    )
    return sheet_file(one, team=team, day=day, fmt=fmt)
