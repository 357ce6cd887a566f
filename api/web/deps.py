"""Who is signed in to a page, and the checks every page route makes.

``page_session`` reads the session cookie (:mod:`planner.services.web_sessions`);
without a valid one a page answers with a redirect to ``/login`` (and an htmx
request with ``HX-Redirect``). ``page_for(*roles)`` answers 403 (an HTML page in
Chinese) to other roles; admins may open every page. A state-changing request
(POST) must carry the session's CSRF token (form field ``csrf`` or header
``X-CSRF-Token``; htmx sends the header, set once in the base template).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request

from planner.domain.access import Role
from planner.errors import AuthenticationError, PermissionDeniedError
from planner.services.web_sessions import WebSession, session_of
from planner.store.core import Store

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "LoginRequired",
    "check_csrf",
    "page_for",
    "page_session",
]

COOKIE = "cp_session"
CSRF_HEADER = "X-CSRF-Token"
BAD_CSRF = "表单已过期（校验码不符），请刷新页面后重试"
FORBIDDEN_PAGE = "您的角色（{role}）不能打开此页面"


class LoginRequired(Exception):
    """Raised by :func:`page_session` when no valid session: redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def page_session(request: Request) -> WebSession:
    """The signed-in session of this request (LoginRequired otherwise)."""
    token = request.cookies.get(COOKIE)
    store: Store = request.app.state.store
    if not token:
        raise LoginRequired(_next(request))
    try:
        return session_of(store, config=request.app.state.config, token=token)
    except AuthenticationError:
        raise LoginRequired(_next(request)) from None


def _next(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path += "?" + request.url.query
    return quote(path, safe="/?=&")


def page_for(*roles: Role) -> Callable[..., Coroutine[Any, Any, WebSession]]:
    """A dependency giving the session when its role is one of ``roles`` or admin;
    PermissionDeniedError (a 403 page) otherwise."""
    allowed = frozenset((*roles, Role.ADMIN))

    async def _dependency(
        session: Annotated[WebSession, Depends(page_session)],
    ) -> WebSession:
        if session.principal.role not in allowed:
            raise PermissionDeniedError(FORBIDDEN_PAGE.format(role=session.principal.role.value))
        return session

    return _dependency


def check_csrf(request: Request, session: WebSession, form_value: str | None = None) -> None:
    """PermissionDeniedError unless the request carries the session's CSRF token."""
    sent = request.headers.get(CSRF_HEADER) or form_value or ""
    if not secrets.compare_digest(sent.encode(), session.csrf.encode()):
        raise PermissionDeniedError(BAD_CSRF)
