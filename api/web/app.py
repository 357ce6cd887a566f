"""Add the web UI to the app: static files, page routes, HTML error pages and the
security headers of every page (no request may leave the server: pages, maps and
their assets all come from ``/static``; a configured tile server is the one
exception)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web.deps import LoginRequired
from api.web.render import page
from api.web.routes import admin, leader, leader_whatif, maps, outreach, planner, signin
from maps.assets import STATIC_DIR

__all__ = ["PAGE_ROUTERS", "install_web"]

WEB_STATIC = Path(__file__).parent / "static"
#: The routers of the pages, one module per role's area (each adds its own).
PAGE_ROUTERS: list[Any] = [
    signin.router,
    planner.router,
    leader.router,
    leader_whatif.router,
    outreach.router,
    admin.router,
    maps.router,
]

HEADINGS = {401: "请先登录", 403: "无权访问", 404: "未找到", 413: "文件过大", 422: "请求有误"}


def _csp(tile_host: str | None) -> str:
    img = "'self' data: blob:" + (f" https://{tile_host} http://{tile_host}" if tile_host else "")
    return (
        "default-src 'self'; "
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'; "  # folium writes inline scripts
        "style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'self'; form-action 'self'; base-uri 'self'"
    )


def install_web(app: FastAPI, *, tile_host: str | None = None) -> None:
    """Mount ``/static`` (vendored files and the UI's own), the page routers, the
    HTML error pages for paths outside ``/api/`` and the security headers."""
    app.mount("/static/web", StaticFiles(directory=WEB_STATIC), name="web-static")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in PAGE_ROUTERS:
        app.include_router(router)
    policy = _csp(tile_host)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = f"/login?next={exc.next_path}"
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    def web_error(request: Request, status: int, message: str) -> HTMLResponse:
        return page(
            request,
            "error.html",
            session=None,
            title=HEADINGS.get(status, "出错了"),
            heading=HEADINGS.get(status, "出错了"),
            message=message,
            status_code=status,
        )

    app.state.web_error = web_error

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        if not request.url.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", policy)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            if not request.url.path.startswith("/static/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response
