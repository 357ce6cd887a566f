"""Render a page: the template, the signed-in user's navigation and the context
every page shares (district name, the demo banner, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from planner.domain.access import Role
from planner.services.web_sessions import WebSession

__all__ = ["NAV", "TEMPLATES", "home_of", "page"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

#: The pages of each role (path, label), in menu order; admins see every menu.
NAV: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.PLANNER: (("/planner", "覆盖总览"),),
    Role.LEADER: (("/leader", "选址方案"),),
    Role.OUTREACH: (("/outreach", "本月走访"),),
    Role.ADMIN: (("/admin", "系统管理"),),
}


def home_of(role: Role) -> str:
    """The first page of a role."""
    return NAV.get(role, NAV[Role.ADMIN])[0][0]


def _menu(role: Role) -> list[tuple[str, str]]:
    if role is Role.ADMIN:
        order = (Role.PLANNER, Role.LEADER, Role.OUTREACH, Role.ADMIN)
        return [item for r in order for item in NAV[r]]
    return list(NAV.get(role, ()))


def page(
    request: Request,
    template: str,
    *,
    session: WebSession | None,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The HTML response of ``template`` with the shared context."""
    state = request.app.state
    store = state.store
    meta = store.meta()
    shared = {
        "title": title,
        "session": session,
        "user": None if session is None else session.principal.subject,
        "role": None if session is None else session.principal.role.value,
        "menu": [] if session is None else _menu(session.principal.role),
        "csrf": "" if session is None else session.csrf,
        "district": meta.get("district_name", ""),
        "synthetic": meta.get("district_source") == "demo",
        "path": request.url.path,
    }
    return TEMPLATES.TemplateResponse(
        request, template, {**shared, **context}, status_code=status_code
    )
