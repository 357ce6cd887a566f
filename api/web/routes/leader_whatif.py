"""The leader's what-if (`/leader/whatif?type=T[&scenario=NAME]`; leaders and admins).

The page is a shell; its panel (``GET /leader/whatif/panel``) opens this browser's
what-if session (:mod:`api.web.whatif_sessions`: seconds the first time) and
shows the candidates, the figures, the sites and the people. Each click is an
htmx POST (CSRF header) that answers the panel again:

- ``POST /leader/whatif/change``: ``action`` add / remove / upgrade, ``site``,
  optional ``places``;
- ``POST /leader/whatif/apply``: several ``change`` fields ``action|site|places``
  (the budget proposal taken as a whole);
- ``POST /leader/whatif/undo``, ``/reset``;
- ``POST /leader/whatif/suggest`` (「建议下一个站点」, :meth:`WhatIf.suggest_next`)
  and ``/best`` (「预算内最优改进」: ``sites`` and/or ``budget`` yuan,
  :meth:`WhatIf.best_within_budget`): the panel with the proposals to take.

Each answer shows the engine's time of the click and the server's time up to
rendering (and a ``Server-Timing`` header with the whole). A user's mistake (an
open site added again, a bad number) is shown in the panel, not as an error page.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.web.deps import COOKIE, check_csrf, page_for
from api.web.leader_views import fmt_num
from api.web.render import TEMPLATES, page
from api.web.whatif_sessions import WhatIfEntry, WhatIfRegistry
from api.web.whatif_view import ACTION_ZH, candidates_view, figures_view
from geo.errors import CoverplanError
from planner.domain.access import Role
from planner.errors import InputError
from planner.services.scenarios import list_scenarios
from planner.services.web_sessions import WebSession
from planner.services.whatif import Change, Suggestion, WhatIfOptions, open_whatif

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.LEADER))]
TypeKey = Annotated[str, Form(alias="type", max_length=64)]
ScenarioForm = Annotated[str, Form(max_length=200)]
MS_PER_S = 1000.0
#: Suggestions shown by 「建议下一个站点」.
SUGGESTIONS = 5
_REGISTRY_LOCK = threading.Lock()


def registry(request: Request) -> WhatIfRegistry:
    """The app's what-if sessions (created with the first one)."""
    state = request.app.state
    with _REGISTRY_LOCK:
        if getattr(state, "whatifs", None) is None:
            state.whatifs = WhatIfRegistry()
    found: WhatIfRegistry = state.whatifs
    return found


def _check_type(request: Request, type_key: str) -> str:
    types = {
        k: ft.label
        for k, ft in request.app.state.config.facility_types.items()
        if ft.catchment == "travel"
    }
    if type_key not in types:
        listed = "、".join(f"{v}（{k}）" for k, v in types.items())
        raise InputError(f"设施类型「{type_key[:64]}」不能推演；可选：{listed}")
    return type_key


def _entry(request: Request, session: WebSession, type_key: str, scenario: str) -> WhatIfEntry:
    state = request.app.state
    store = state.store
    options = WhatIfOptions(type_key=_check_type(request, type_key), scenario=scenario or None)
    # the browser's session cookie (WebSession.token is only set when just opened)
    token = f"{session.principal.subject}\n{request.cookies.get(COOKIE, '')}"
    return registry(request).get(
        token=token,
        subject=session.principal.subject,
        type_key=type_key,
        scenario=scenario or None,
        version=store.data_version(),
        open_=lambda: open_whatif(
            store, config=state.config, options=options, networks=state.networks
        ),
    )


@router.get("/leader/whatif", response_class=HTMLResponse)
def whatif_page(
    request: Request,
    session: Session,
    type: Annotated[str, Query(max_length=64)] = "home",
    scenario: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    config = request.app.state.config
    _check_type(request, type)
    types = [(k, ft.label) for k, ft in config.facility_types.items() if ft.catchment == "travel"]
    scenarios = [
        sc.name for sc in list_scenarios(request.app.state.store) if sc.facility_type == type
    ]
    return page(
        request,
        "leader_whatif.html",
        session=session,
        title="推演",
        type_key=type,
        type_label=config.facility_types[type].label,
        scenario=scenario,
        types=types,
        scenarios=scenarios,
    )


def _panel(
    request: Request,
    session: WebSession,
    entry: WhatIfEntry | None,
    *,
    started: float,
    error: str = "",
    suggestions: list[Suggestion] | None = None,
    best: list[Change] | None = None,
    asked: str = "",
) -> Response:
    context: dict[str, Any] = {"error": error, "entry": None, "asked": asked}
    if entry is not None:
        whatif = entry.whatif
        fig = whatif.figures()
        min_count = request.app.state.config.privacy.min_count
        candidates = whatif.candidates()
        names = {c.code: c.name for c in candidates}
        context.update(
            entry=entry,
            fig=figures_view(fig, principal=session.principal, min_count=min_count, names=names),
            candidates=candidates_view(candidates),
            step=len(whatif.changes),
            suggestions=None if suggestions is None else [_suggestion(s) for s in suggestions],
            best=None if best is None else [_best(names, c) for c in best],
        )
    context["handler_ms"] = f"{(time.perf_counter() - started) * MS_PER_S:.1f}"
    response = TEMPLATES.TemplateResponse(request, "leader_whatif_panel.html", context)
    total = (time.perf_counter() - started) * MS_PER_S
    response.headers["Server-Timing"] = f"app;dur={total:.1f}"
    return response


def _suggestion(s: Suggestion) -> dict[str, Any]:
    return {
        "action": s.change.action,
        "action_zh": ACTION_ZH.get(s.change.action, s.change.action),
        "site": s.change.site,
        "places": "" if s.change.places is None else str(s.change.places),
        "name": s.name,
        "gain_within": fmt_num(s.gain_within_capacity),
        "gain_reach": fmt_num(s.gain_in_reach),
        "cost": fmt_num(s.cost),
    }


def _best(names: dict[str, str], change: Change) -> dict[str, Any]:
    return {
        "action_zh": ACTION_ZH.get(change.action, change.action),
        "name": names.get(change.site, change.site),
        "site": change.site,
        "value": f"{change.action}|{change.site}|{'' if change.places is None else change.places}",
    }


@router.get("/leader/whatif/panel", response_class=HTMLResponse)
def whatif_panel(
    request: Request,
    session: Session,
    type: Annotated[str, Query(max_length=64)] = "home",
    scenario: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    started = time.perf_counter()
    try:
        entry = _entry(request, session, type, scenario)
    except CoverplanError as exc:
        return _panel(request, session, None, started=started, error=str(exc))
    return _panel(request, session, entry, started=started)


def _places(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"名额须为正整数（人），收到「{text[:20]}」；不填则按配置的默认名额")
    return int(text)


def _parse(value: str) -> Change:
    action, _, rest = value.partition("|")
    site, _, places = rest.partition("|")
    if action not in ACTION_ZH:
        raise InputError(f"未知的操作「{action[:20]}」：只能是 add、remove 或 upgrade")
    return Change(action, site, _places(places))  # type: ignore[arg-type]


def _click(
    request: Request,
    session: WebSession,
    type_key: str,
    scenario: str,
    act: Any,
) -> Response:
    """Run ``act(whatif)`` under the session's lock; a dict it returns goes to the panel."""
    check_csrf(request, session)
    started = time.perf_counter()
    try:
        entry = _entry(request, session, type_key, scenario)
    except CoverplanError as exc:
        return _panel(request, session, None, started=started, error=str(exc))
    extra: dict[str, Any] = {}
    with entry.lock:
        try:
            done = act(entry.whatif)
            extra = done if isinstance(done, dict) else {}
        except CoverplanError as exc:
            extra = {"error": str(exc)}
        return _panel(request, session, entry, started=started, **extra)


@router.post("/leader/whatif/change", response_class=HTMLResponse)
def whatif_change(
    request: Request,
    session: Session,
    type_key: TypeKey = "",
    scenario: ScenarioForm = "",
    action: Annotated[str, Form(max_length=16)] = "",
    site: Annotated[str, Form(max_length=200)] = "",
    places: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def act(w: Any) -> None:
        w.apply(_parse(f"{action}|{site}|{places}"))

    return _click(request, session, type_key, scenario, act)


@router.post("/leader/whatif/apply", response_class=HTMLResponse)
def whatif_apply(
    request: Request,
    session: Session,
    type_key: TypeKey = "",
    scenario: ScenarioForm = "",
    change: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006 (FastAPI default)
) -> Response:
    def act(w: Any) -> None:
        for value in change:
            w.apply(_parse(value))

    return _click(request, session, type_key, scenario, act)


@router.post("/leader/whatif/undo", response_class=HTMLResponse)
def whatif_undo(
    request: Request, session: Session, type_key: TypeKey = "", scenario: ScenarioForm = ""
) -> Response:
    return _click(request, session, type_key, scenario, lambda w: w.undo())


@router.post("/leader/whatif/reset", response_class=HTMLResponse)
def whatif_reset(
    request: Request, session: Session, type_key: TypeKey = "", scenario: ScenarioForm = ""
) -> Response:
    return _click(request, session, type_key, scenario, lambda w: w.reset())


@router.post("/leader/whatif/suggest", response_class=HTMLResponse)
def whatif_suggest(
    request: Request, session: Session, type_key: TypeKey = "", scenario: ScenarioForm = ""
) -> Response:
    def act(w: Any) -> dict[str, Any]:
        return {"suggestions": w.suggest_next(k=SUGGESTIONS), "asked": "suggest"}

    return _click(request, session, type_key, scenario, act)


def _number(text: str, what: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:
        raise InputError(f"{what}须为非负数，收到「{text[:20]}」；请改正后重试")
    return value


@router.post("/leader/whatif/best", response_class=HTMLResponse)
def whatif_best(
    request: Request,
    session: Session,
    type_key: TypeKey = "",
    scenario: ScenarioForm = "",
    sites: Annotated[str, Form(max_length=20)] = "",
    budget: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    def act(w: Any) -> dict[str, Any]:
        n = _number(sites, "站点数")
        if n is not None and not n.is_integer():
            raise InputError(f"站点数须为整数，收到「{sites[:20]}」")
        money = _number(budget, "预算（元）")
        best = w.best_within_budget(sites=None if n is None else int(n), budget=money)
        return {"best": best, "asked": "best"}

    return _click(request, session, type_key, scenario, act)
