"""The leader's scenario pages (`/leader`; leaders and admins).

- ``GET /leader``: the saved siting scenarios (pick two or more to compare), and
  the form that starts a new siting scenario as a background job.
- ``GET /leader/compare?names=A&names=B``: scenarios side by side (the figures of
  ``coverplan scenarios compare --json``), each with its proposal map.
- ``GET /leader/scenarios/{name}``: one scenario: what is proposed, before and
  after, the indicators it changes, the sites with "why here", the map.
- ``GET /leader/scenarios/{name}/print``: the same on one A4 page.
- ``POST /leader/scenarios/jobs``: a siting solve in the app's job runner (the
  HTTP API's :class:`api.http.jobs.JobRunner`); ``GET /leader/jobs/{id}``: its
  progress (htmx polls it every second); once done the list is refreshed.

Creating a scenario is open to the same roles as ``POST /api/v1/siting/jobs``
(admin, planner, leader); these pages to leaders and admins.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.web.deps import check_csrf, page_for
from api.web.leader_views import comparison_view, fmt_num, scenario_view
from api.web.render import TEMPLATES, page
from planner.domain.access import Role
from planner.errors import InputError, NotFoundError, ScenarioError
from planner.networks import NetworkCache, load_networks
from planner.progress import Progress
from planner.scenarios import NAME_MAX_CHARS, check_scenario_name
from planner.services.scenarios import (
    SITE_KIND,
    compare_scenarios,
    list_scenarios,
    save_proposal,
    show_scenario,
)
from planner.services.siting import site
from planner.services.types import SitingOptions
from planner.services.web_sessions import WebSession
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.LEADER))]
ScenarioName = Annotated[str, Path(min_length=1, max_length=200)]
JOB_ID = r"^[0-9a-f]{32}$"
#: Most new sites one form may ask for (the API's own limit).
MAX_NEW = 10_000
#: Separators of the closures field (codes or names).
SEPARATORS = re.compile(r"[,，;；、\s]+")


def _travel_types(config: Config) -> list[tuple[str, str]]:
    """``(key, label)`` of the facility types sited by travel time."""
    return [(k, ft.label) for k, ft in config.facility_types.items() if ft.catchment == "travel"]


def _list_context(store: Store) -> dict[str, Any]:
    rows = []
    for sc in list_scenarios(store):
        if sc.kind != SITE_KIND:
            continue
        m = sc.metrics
        rows.append(
            {
                "name": sc.name,
                "type": sc.facility_type or "",
                "label": str(sc.result.get("label") or sc.facility_type or ""),
                "created": sc.created_at.strftime("%Y-%m-%d %H:%M"),
                "new": fmt_num(m.get("new_sites")),
                "upgrades": fmt_num(m.get("upgrades")),
                "closures": fmt_num(m.get("closures")),
                "relocations": fmt_num(m.get("relocations")),
                "covered": (
                    f"{fmt_num(m.get('covered_before'))} → {fmt_num(m.get('covered_after'))}"
                ),
                "within": (
                    f"{fmt_num(m.get('within_capacity_before'))} → "
                    f"{fmt_num(m.get('within_capacity_after'))}"
                ),
                "cost": fmt_num(m.get("cost")),
            }
        )
    return {"scenarios": rows}


@router.get("/leader", response_class=HTMLResponse)
def leader_home(request: Request, session: Session) -> Response:
    state = request.app.state
    return page(
        request,
        "leader.html",
        session=session,
        title="选址方案",
        types=_travel_types(state.config),
        **_list_context(state.store),
    )


@router.get("/leader/scenarios", response_class=HTMLResponse)
def scenario_list(request: Request, session: Session) -> Response:
    """The scenario table alone (htmx refreshes it when a job is done)."""
    context = {"csrf": session.csrf, **_list_context(request.app.state.store)}
    return TEMPLATES.TemplateResponse(request, "leader_list.html", context)


def _load(store: Store, name: str) -> Any:
    try:
        return show_scenario(store, name)
    except ScenarioError as exc:
        raise NotFoundError(str(exc)) from None


@router.get("/leader/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    session: Session,
    names: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006 (FastAPI default)
) -> Response:
    store = request.app.state.store
    try:
        comparison = compare_scenarios(store, names)
    except ScenarioError as exc:
        status = 404 if "没有名为" in str(exc) else 422
        return request.app.state.web_error(request, status, str(exc))
    scenarios = [_load(store, n) for n in comparison.names]
    return page(
        request,
        "leader_compare.html",
        session=session,
        title="方案比较",
        view=comparison_view(comparison, scenarios),
    )


@router.get("/leader/scenarios/{name}", response_class=HTMLResponse)
def scenario(request: Request, session: Session, name: ScenarioName) -> Response:
    view = scenario_view(_load(request.app.state.store, name))
    return page(
        request, "leader_scenario.html", session=session, title=f"方案：{view.name}", sc=view
    )


@router.get("/leader/scenarios/{name}/print", response_class=HTMLResponse)
def scenario_print(request: Request, session: Session, name: ScenarioName) -> Response:
    view = scenario_view(_load(request.app.state.store, name))
    return page(
        request, "leader_print.html", session=session, title=f"方案摘要：{view.name}", sc=view
    )


# ---------------------------------------------------------------- new scenario jobs


def _closures(text: str) -> tuple[str, ...]:
    return tuple(p for p in SEPARATORS.split(text.strip()) if p)


def _job_options(
    config: Config, *, type_key: str, new: str, close: str, name: str
) -> tuple[SitingOptions, str]:
    """The siting options of the form and the scenario name (InputError naming the
    field and the fix)."""
    types = dict(_travel_types(config))
    if type_key not in types:
        raise InputError(f"设施类型「{type_key}」不能选址；可选：{'、'.join(types.values())}")
    text = new.strip()
    if not text.isdigit() or int(text) > MAX_NEW:
        raise InputError(f"新建处数须为 0–{MAX_NEW} 的整数，收到「{text[:20]}」；请改正后重试")
    closures = _closures(close)
    if int(text) == 0 and not closures:
        raise InputError(
            "新建处数为 0 且没有关闭的设施：方案没有任何变化；请填新建处数或关闭的设施"
        )
    check_scenario_name(name.strip())
    cap = config.server.solver_seconds_max
    options = SitingOptions(
        facility_type=type_key,
        new=int(text),
        close=closures,
        time_limit_s=min(config.siting.time_limit_s, cap),
    )
    return options, name.strip()


def _job_fragment(request: Request, job: Any, **extra: Any) -> Response:
    """The job's progress (polling while queued or running); a done job also tells
    the page to refresh the scenario list (``HX-Trigger: scenarios-changed``)."""
    headers = {"HX-Trigger": "scenarios-changed"} if job.status == "done" else {}
    return TEMPLATES.TemplateResponse(
        request,
        "leader_job.html",
        {"job": job.to_json(), "percent": round(job.progress * 100), **extra},
        headers=headers,
    )


@router.post("/leader/scenarios/jobs", response_class=HTMLResponse)
def start_job(
    request: Request,
    session: Session,
    type: Annotated[str, Form(max_length=64)] = "",
    new: Annotated[str, Form(max_length=20)] = "0",
    close: Annotated[str, Form(max_length=2000)] = "",
    name: Annotated[str, Form(max_length=NAME_MAX_CHARS + 10)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, session, csrf)
    state = request.app.state
    store: Store = state.store
    config: Config = state.config
    try:
        options, scenario_name = _job_options(
            config, type_key=type, new=new, close=close, name=name
        )
    except (InputError, ScenarioError) as exc:
        context = {"job": None, "error": str(exc)}
        return TEMPLATES.TemplateResponse(request, "leader_job.html", context)
    networks: NetworkCache = state.networks

    def work(progress: Progress) -> dict[str, Any]:
        ft = options.type_config(config)
        progress(f"读取 {ft.mode} 道路网络", 0.0)
        builds = load_networks(store, config=config, modes=[ft.mode], cache=networks)
        roads = {mode: b.network for mode, b in builds.items()}
        proposal = site(store, config=config, options=options, networks=roads, progress=progress)
        save_proposal(store, name=scenario_name, proposal=proposal)
        return {"scenario": scenario_name, "metrics": proposal.metrics()}

    runner = state.jobs  # the HTTP API's JobRunner (api.http.jobs; not imported: layers)
    job = runner.submit(kind="site", subject=session.principal.subject, work=work)
    return _job_fragment(request, job)


@router.get("/leader/jobs/{job_id}", response_class=HTMLResponse)
def job_status(
    request: Request, session: Session, job_id: Annotated[str, Path(pattern=JOB_ID)]
) -> Response:
    runner = request.app.state.jobs
    job = runner.get(job_id)
    mine = job is not None and (
        job.subject == session.principal.subject or session.principal.role is Role.ADMIN
    )
    if job is None or not mine:
        raise NotFoundError(f"没有这个作业：{job_id}（作业只保存在服务器内存中，重启后需重新提交）")
    return _job_fragment(request, job)
