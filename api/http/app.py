"""The FastAPI application of ``coverplan serve``.

``create_app`` opens the same store and configuration as the CLI (``--db`` /
``COVERPLAN_DB_URL``, ``--config`` / ``COVERPLAN_CONFIG``) and the token secret:
``COVERPLAN_SECRET`` (at least ``[auth] secret_min_length`` characters). Without
it the app refuses to start, unless in demo mode (``demo=True``, i.e.
``coverplan serve --demo``) on the demo district (built by ``coverplan demo``):
then the fixed, public :data:`DEMO_SECRET` signs tokens and a warning is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request

from api.analyses import MAX_ANSWERS, AnalysisCache
from api.http import problems
from api.http.jobs import JobRunner
from api.http.routes import (
    auth,
    coverage,
    facilities,
    health,
    imports,
    outreach,
    places,
    residents,
    retrofits,
    siting,
    visits,
)
from api.http.throttle import LoginThrottle
from api.web.app import install_web
from planner.errors import ConfigError
from planner.networks import NetworkCache
from planner.settings import Config, get_config, get_settings, load_config
from planner.store.core import Store, open_district_store

__all__ = ["DEMO_SECRET", "create_app", "resolve_secret"]

log = logging.getLogger("coverplan.http")
access_log = logging.getLogger("coverplan.http.access")

#: The demo's token secret: public, so only for the synthetic demo district.
DEMO_SECRET = "coverplan-demo-secret-not-for-real-data-0000"
#: ``meta.district_source`` of the demo district (``data.demo.build.DEMO_SOURCE``).
DEMO_SOURCE = "demo"

ROUTERS = (
    health.router,
    auth.router,
    places.router,
    facilities.router,
    residents.router,
    coverage.router,
    siting.router,
    retrofits.router,
    outreach.router,
    visits.router,
    imports.router,
)


def resolve_secret(*, store: Store, config: Config, demo: bool) -> str:
    """The key that signs tokens.

    Raises
    ------
    ConfigError
        ``COVERPLAN_SECRET`` unset (outside demo mode) or too short, or demo mode
        asked for on a store that is not the demo district.
    """
    secret = get_settings().secret
    need = config.auth.secret_min_length
    if secret:
        if len(secret) < need:
            raise ConfigError(
                f"环境变量 COVERPLAN_SECRET 太短（{len(secret)} 个字符）；至少 {need} 个字符"
                "（配置 [auth] secret_min_length），可用 python -c "
                '"import secrets; print(secrets.token_urlsafe(48))" 生成'
            )
        return secret
    if not demo:
        raise ConfigError(
            "未设置环境变量 COVERPLAN_SECRET（签发令牌的密钥），服务不能启动；请设置至少 "
            f"{need} 个字符的随机串，如 export COVERPLAN_SECRET=$(python -c "
            '"import secrets; print(secrets.token_urlsafe(48))")。只看演示：coverplan serve --demo'
        )
    source = store.get_meta("district_source")
    if source != DEMO_SOURCE:
        raise ConfigError(
            f"--demo 只能用于演示数据库（coverplan demo 生成），而 {store.display_url} 不是"
            f"（来源：{source or '未知'}）；真实数据请设置环境变量 COVERPLAN_SECRET"
        )
    log.warning("演示模式：使用公开的演示密钥签发令牌，切勿用于真实数据（请设置 COVERPLAN_SECRET）")
    return DEMO_SECRET


def create_app(
    *, db_url: str | None = None, config_path: Path | str | None = None, demo: bool = False
) -> FastAPI:
    """The application on the store at ``db_url`` (default: the CLI's store).

    Parameters
    ----------
    db_url
        SQLAlchemy URL; default ``COVERPLAN_DB_URL`` or ``var/coverplan.db``.
    config_path
        A user TOML overlaid on the defaults; default ``COVERPLAN_CONFIG``.
    demo
        Allow the public demo secret on the demo district when ``COVERPLAN_SECRET``
        is unset.

    Raises
    ------
    StoreError, ConfigError
        No district store, a bad configuration, or no usable secret.
    """
    config = load_config(Path(config_path)) if config_path is not None else get_config()
    store = open_district_store(db_url)
    try:
        secret = resolve_secret(store=store, config=config, demo=demo)
    except ConfigError:
        store.dispose()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        store.dispose()

    app = FastAPI(
        lifespan=lifespan,
        # FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN: an
        # air-gapped intranet shows a blank page, so they are off; /openapi.json
        # is the contract (the web UI issue vendors the assets it needs)
        docs_url=None,
        redoc_url=None,
        title="coverplan API",
        version="1",
        summary="残疾人服务覆盖规划：供其他系统调用的接口",
        description=(
            "登录：POST /api/v1/auth/token 获取令牌后以 Authorization: Bearer 调用；"
            "系统调用用 X-API-Key。错误为 application/problem+json。"
        ),
    )
    app.state.store = store
    app.state.config = config
    app.state.secret = secret
    app.state.login_throttle = LoginThrottle(per_minute=config.auth.login_per_minute)
    app.state.demo = demo and secret == DEMO_SECRET
    # coverage, gaps, indicators and retrofit results per store data version
    # (api.analyses); road networks loaded once; siting jobs, one at a time
    app.state.analyses = AnalysisCache()
    app.state.answers = AnalysisCache(max_entries=MAX_ANSWERS)
    app.state.networks = NetworkCache()
    jobs = JobRunner()
    app.state.jobs = jobs
    problems.install(app)
    _log_requests(app)
    for router in ROUTERS:
        app.include_router(router)
    install_web(app, tile_host=urlsplit(config.maps.tile_url).hostname or None)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            _apply_limits(schema, config, store)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _log_requests(app: FastAPI) -> None:
    """Log each request's method, route, status and time: the route's template
    (``/api/v1/scenarios/{name}``), never the path's values nor the query string (a
    caller might put a name or an ID number in either: a scenario named after a
    person, a mistyped URL); ``coverplan serve`` turns uvicorn's own access log
    (which has both) off. A path no route matches is logged as ``(no route)``."""

    @app.middleware("http")
    async def _access(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        access_log.info(
            "%s %s %d %.0f ms",
            request.method,
            getattr(route, "path_format", None) or "(no route)",
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response


def _apply_limits(schema: dict[str, Any], config: Config, store: Store) -> None:
    """Write the configuration and the district into the schema: the ``[server]``
    page-size limits into every ``page_size`` parameter, the ``[facility_types]``
    keys as the enum of a facility's and a siting job's ``type`` and of every
    ``type`` query parameter, ``[server] solver_seconds_max`` as a siting job's
    ``time_limit`` maximum, the store's village codes as the enum of a facility's
    ``village_code`` (with an example from this district)."""
    villages = store.gazetteer().villages
    for name in ("FacilityIn", "SitingJobIn"):
        model = schema.get("components", {}).get("schemas", {}).get(name, {})
        props = model.get("properties", {})
        if "type" in props:
            props["type"]["enum"] = list(config.facility_types)
        if "time_limit" in props:  # a siting job's solve time: [server] solver_seconds_max
            for alt in props["time_limit"].get("anyOf", [props["time_limit"]]):
                if alt.get("type") == "number":
                    alt["maximum"] = config.server.solver_seconds_max
        if name == "FacilityIn" and "village_code" in props and villages:
            for alt in props["village_code"].get("anyOf", [props["village_code"]]):
                if alt.get("type") == "string":
                    alt["enum"] = [v.code for v in villages]
            sample = next((v for v in villages if v.has_point), villages[0])
            for example in model.get("examples", []):
                example["village_code"] = sample.code
                if sample.has_point:
                    example["lon"], example["lat"] = sample.lon, sample.lat
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("name") == "type" and param.get("in") == "query":
                    target = param["schema"]
                    for alt in target.get("anyOf", [target]):
                        if alt.get("type") == "string":
                            alt["enum"] = list(config.facility_types)
                if param.get("name") == "page_size":
                    target = param["schema"]
                    for alt in target.get("anyOf", [target]):
                        if alt.get("type") == "integer":
                            alt["maximum"] = config.server.page_size_max
                    target["default"] = config.server.page_size_default
