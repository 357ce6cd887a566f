"""``/api/v1/siting/jobs`` (a siting solve as a background job) and
``/api/v1/scenarios`` (saved scenarios: list, show, compare, delete).

``POST /siting/jobs`` takes the options of ``coverplan site`` as JSON, checks
them at once (422 for a bad option, a solve time above ``[server]
solver_seconds_max``, an unknown candidate village) and answers 202 with the
job; the solve runs in the app's single job thread (:mod:`api.http.jobs`).
``GET /siting/jobs/{id}`` gives its status, progress and, once ``done``, the
JSON of ``coverplan site --json`` (``failed``: a problem document with the
Chinese reason). Roles: admin, planner, leader (deleting a scenario: admin,
planner).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.http.deps import get_config, get_store, require
from api.http.fields import NUMBER_ONLY, unknown_type
from api.http.jobs import Job, JobRunner
from api.http.problems import responses
from planner.domain.access import Principal, Role
from planner.errors import InputError, NotFoundError, ScenarioError
from planner.networks import NetworkCache, load_networks
from planner.progress import Progress
from planner.services.scenarios import (
    compare_scenarios,
    delete_scenario,
    list_scenarios,
    save_proposal,
    show_scenario,
)
from planner.services.siting import site
from planner.services.types import NAME_MAX_CHARS, SitingOptions, check_scenario_name
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1", tags=["siting"])

planners = require(Role.ADMIN, Role.PLANNER, Role.LEADER)
editors = require(Role.ADMIN, Role.PLANNER)
Caller = Annotated[Principal, Depends(planners)]
StoreDep = Annotated[Store, Depends(get_store)]
Cfg = Annotated[Config, Depends(get_config)]
JOB_ID = r"^[0-9a-f]{32}$"
#: A text with something in it besides spaces (facility names, places).
TEXT = r"[^\s\x00-\x1f\x7f-\x9f]"
#: A scenario name as planner.scenarios.check_scenario_name accepts it (no leading or
#: trailing spaces, no control characters).
NAME = r"^[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$"
ScenarioName = Annotated[str, Path(min_length=1, max_length=200, description="方案名称")]


class RelocationIn(BaseModel):
    """One relocation: the facility (code or name) and where it goes."""

    model_config = ConfigDict(extra="forbid")

    facility: str = Field(min_length=1, max_length=200, pattern=TEXT, description="设施代码或名称")
    to: str = Field(
        min_length=1,
        max_length=200,
        pattern=TEXT,
        description="候选点名称、村社代码或名称、经度,纬度，或 best（求解器选最佳地块）",
    )


class SitingJobIn(BaseModel):
    """The options of ``coverplan site`` (unknown fields: 422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"type": "home", "new": 2, "objective": "mclp", "scenario": "新建2处"},
            ]
        },
    )

    type: str = Field(min_length=1, max_length=64, description="设施类型代码，如 home")
    new: Annotated[int, Field(ge=0, le=10_000), NUMBER_ONLY] | None = Field(
        default=None, description="最多新建几处"
    )
    budget: Annotated[float, Field(ge=0), NUMBER_ONLY] | None = Field(
        default=None, description="预算（元），含新建和升级"
    )
    upgrade: StrictBool = Field(default=False, description="同时考虑升级现有设施")
    max_upgrades: Annotated[int, Field(ge=0, le=10_000), NUMBER_ONLY] | None = Field(
        default=None, description="最多升级几处"
    )
    objective: Literal["mclp", "pmedian", "lscp"] = "mclp"
    target: Annotated[float, Field(gt=0, le=1), NUMBER_ONLY] = Field(
        default=1.0, description="lscp 的覆盖目标（0–1）"
    )
    candidates: list[Annotated[str, Field(pattern=r"^\d{12}$")]] | None = Field(
        default=None,
        max_length=10_000,
        description="候选村社代码（12 位）；省略则为所有尚无该类设施的村委会点",
    )
    exclude: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default=[], max_length=10_000, description="排除的村社代码"
    )
    town_rule: StrictBool | None = Field(default=None, description="每个镇街至少一处（默认取配置）")
    capacitated: StrictBool | None = Field(default=None, description="是否考虑名额（默认取配置）")
    close: list[Annotated[str, Field(min_length=1, max_length=200, pattern=TEXT)]] = Field(
        default=[], max_length=1000, description="关闭的现有设施（代码或名称）"
    )
    relocate: list[RelocationIn] = Field(default=[], max_length=1000)
    scenario: str | None = Field(
        default=None,
        min_length=1,
        max_length=NAME_MAX_CHARS,
        pattern=NAME,
        description="把方案以此名称保存",
    )
    time_limit: Annotated[float, Field(gt=0), NUMBER_ONLY] | None = Field(
        default=None, description="求解时间上限（秒）；不得超过 [server] solver_seconds_max"
    )


class JobOut(BaseModel):
    """A job: ``queued`` → ``running`` → ``done`` (``result``) or ``failed`` (``error``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f2c9a0e6b7d4c1a9e8f7a6b5c4d3e2f",
                    "kind": "site",
                    "status": "running",
                    "progress": 0.4,
                    "message": "求解",
                    "created_at": "2026-05-01T08:00:00Z",
                    "started_at": "2026-05-01T08:00:01Z",
                    "finished_at": None,
                    "result": None,
                    "error": None,
                }
            ]
        }
    )

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1, description="进度（0–1）")
    message: str = Field(description="当前阶段（中文）；失败时为原因")
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None = Field(description="完成后：同 coverplan site --json")
    error: dict[str, Any] | None = Field(description="失败时：problem 文档（detail 为中文原因）")


def _runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


def _check(body: SitingJobIn, *, config: Config) -> float:
    """What is refused at once (422): a solve time above ``[server]
    solver_seconds_max``, an unknown facility type. Returns the time limit, seconds."""
    cap = config.server.solver_seconds_max
    if body.time_limit is not None and body.time_limit > cap:
        raise InputError(
            f"求解时间上限 time_limit={body.time_limit:g} 秒超过服务器允许的 {cap:g} 秒"
            "（配置 [server] solver_seconds_max）；请改小，或在命令行用 coverplan site 求解"
            # the number only as %g (6 digits): never a caller's long digit run
            # (an ID number or a phone typed into the wrong field) echoed back
        )
    if body.type not in config.facility_types:
        raise unknown_type(body.type, list(config.facility_types))
    return body.time_limit or min(config.siting.time_limit_s, cap)


def _options(body: SitingJobIn, *, store: Store, time_limit: float) -> SitingOptions:
    """The siting options of the job (InputError / SitingError naming the field:
    the job fails with it)."""
    if body.scenario is not None:
        check_scenario_name(body.scenario)  # a bad name is refused before the solve
    exclude = list(body.exclude)
    if body.candidates is not None:
        codes = {v.code for v in store.gazetteer().villages}
        unknown = sorted(set(body.candidates) - codes)
        if unknown:
            raise InputError(
                f"candidates 中的村社代码不在本区：{'、'.join(unknown[:5])}；"
                "请用 GET /api/v1/villages 查村社代码",
                value=unknown[0],
            )
        exclude += sorted(codes - set(body.candidates))
    return SitingOptions(
        facility_type=body.type,
        objective=body.objective,
        new=body.new,
        budget=body.budget,
        upgrade=body.upgrade,
        max_upgrades=body.max_upgrades,
        exclude=tuple(exclude),
        town_rule=body.town_rule,
        capacitated=body.capacitated,
        target=body.target,
        time_limit_s=time_limit,
        close=tuple(body.close),
        relocate=tuple((r.facility, r.to) for r in body.relocate),
    )


@router.post(
    "/siting/jobs",
    response_model=JobOut,
    status_code=202,
    summary="选址求解（后台作业）：提交 coverplan site 的选项，返回作业编号",
    description=(
        "字段、设施类型与求解时间上限先检查（有误即 422）；与数据有关的错误（设施、村社、"
        "方案名称）使作业失败，原因见作业的 error。同一时间只解一个作业，其余排队。"
        "用 GET /api/v1/siting/jobs/{id} 查看进度与结果。"
    ),
    responses=responses(401, 403, 422),
)
def create_job(
    body: SitingJobIn, request: Request, principal: Caller, store: StoreDep, config: Cfg
) -> dict[str, Any]:
    time_limit = _check(body, config=config)
    networks: NetworkCache = request.app.state.networks
    scenario = body.scenario

    def work(progress: Progress) -> dict[str, Any]:
        progress("检查选项", 0.0)
        options = _options(body, store=store, time_limit=time_limit)
        ft = options.type_config(config)
        progress(f"读取 {ft.mode} 道路网络", 0.0)
        builds = load_networks(store, config=config, modes=[ft.mode], cache=networks)
        roads = {mode: b.network for mode, b in builds.items()}
        proposal = site(store, config=config, options=options, networks=roads, progress=progress)
        out = proposal.to_json()
        if scenario:
            save_proposal(store, name=scenario, proposal=proposal)
            out["scenario"] = scenario
        return out

    job = _runner(request).submit(kind="site", subject=principal.subject, work=work)
    return job.to_json()


@router.get(
    "/siting/jobs/{job_id}",
    response_model=JobOut,
    summary="选址作业的状态、进度与结果",
    responses=responses(401, 403, 404, 422),
)
def get_job(
    job_id: Annotated[str, Path(pattern=JOB_ID, description="作业编号（32 位十六进制）")],
    request: Request,
    _: Caller,
) -> dict[str, Any]:
    job: Job | None = _runner(request).get(job_id)
    if job is None:
        raise NotFoundError(f"没有这个作业：{job_id}（作业只保存在服务器内存中，重启后需重新提交）")
    return job.to_json()


class ScenarioSummaryOut(BaseModel):
    name: str
    kind: str
    facility_type: str | None
    created_at: str
    updated_at: str
    metrics: dict[str, Any]


class ScenarioListOut(BaseModel):
    """``coverplan scenarios list --json``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scenarios": [
                        {
                            "name": "新建2处",
                            "kind": "site",
                            "facility_type": "home",
                            "created_at": "2026-05-01T08:00:00",
                            "updated_at": "2026-05-01T08:00:00",
                            "metrics": {"covered_after": 1300},
                        }
                    ]
                }
            ]
        }
    )

    scenarios: list[ScenarioSummaryOut]


class ScenarioOut(ScenarioSummaryOut):
    """``coverplan scenarios show NAME --json``."""

    inputs: dict[str, Any]
    result: dict[str, Any]
    by_town: dict[str, Any]


class ComparisonOut(BaseModel):
    """``coverplan scenarios compare A B --json`` (without ``files``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"names": ["A", "B"], "metrics": [], "towns": [], "inputs": []}]
        }
    )

    names: list[str]
    metrics: list[dict[str, Any]]
    towns: list[dict[str, Any]]
    inputs: list[dict[str, Any]]


class DeletedOut(BaseModel):
    deleted: str


@router.get(
    "/scenarios",
    response_model=ScenarioListOut,
    summary="已保存的方案",
    responses=responses(401, 403),
    tags=["scenarios"],
)
def scenarios(_: Caller, store: StoreDep) -> dict[str, Any]:
    return {"scenarios": [sc.summary_json() for sc in list_scenarios(store)]}


@router.get(
    "/scenarios/compare",
    response_model=ComparisonOut,
    summary="并排比较两个或多个方案",
    responses=responses(401, 403, 404, 422),
    tags=["scenarios"],
)
def compare(
    _: Caller,
    store: StoreDep,
    names: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=NAME_MAX_CHARS)]],
        Query(
            min_length=2,
            max_length=20,
            description="方案名称（至少两个，各不相同）",
            json_schema_extra={"uniqueItems": True},
        ),
    ],
) -> dict[str, Any]:
    if len(set(names)) != len(names):
        return compare_scenarios(store, names).to_json()  # ScenarioError: a name twice
    try:
        return compare_scenarios(store, names).to_json()
    except ScenarioError as exc:
        raise NotFoundError(str(exc)) from None


@router.get(
    "/scenarios/{name}",
    response_model=ScenarioOut,
    summary="一个方案的输入、结果、指标和各镇街指标",
    responses=responses(401, 403, 404, 422),
    tags=["scenarios"],
)
def scenario(name: ScenarioName, _: Caller, store: StoreDep) -> dict[str, Any]:
    try:
        return show_scenario(store, name).to_json()
    except ScenarioError as exc:
        raise NotFoundError(str(exc)) from None


@router.delete(
    "/scenarios/{name}",
    response_model=DeletedOut,
    summary="删除一个方案（管理员、规划人员）",
    responses=responses(401, 403, 404, 422),
    tags=["scenarios"],
)
def remove(
    name: ScenarioName,
    _: Annotated[Principal, Depends(editors)],
    store: StoreDep,
) -> dict[str, Any]:
    try:
        delete_scenario(store, name)
    except ScenarioError as exc:
        raise NotFoundError(str(exc)) from None
    return {"deleted": name}
