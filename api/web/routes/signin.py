"""``/login``, ``/logout`` and ``/``: sign in with the account's password (the same
lockout and per-address limit as the API's token route), sign out, and go to the
first page of one's role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web.deps import COOKIE, check_csrf, page_session
from api.web.render import home_of, page
from planner.errors import AuthenticationError, TooManyRequestsError
from planner.services.web_sessions import WebSession, close_session, open_session

router = APIRouter(include_in_schema=False)


def _safe_next(value: str | None) -> str | None:
    """Only a path of this site (no scheme, no host, no ``//``)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def _demo_accounts(request: Request) -> list[tuple[str, str]]:
    if not request.app.state.demo:
        return []
    from data.demo.accounts import DEMO_USERS

    return [(a.username, a.password) for a in DEMO_USERS]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return page(
        request,
        "login.html",
        session=None,
        title="登录",
        next=_safe_next(next) or "",
        message="",
        demo_accounts=_demo_accounts(request),
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    state = request.app.state
    try:
        state.login_throttle.check(request.client.host if request.client else "?")
        session = open_session(
            state.store, config=state.config, username=username.strip(), password=password
        )
    except (AuthenticationError, TooManyRequestsError) as exc:
        return page(
            request,
            "login.html",
            session=None,
            title="登录",
            next=_safe_next(next) or "",
            message=str(exc),
            demo_accounts=_demo_accounts(request),
            status_code=429 if isinstance(exc, TooManyRequestsError) else 401,
        )
    target = _safe_next(next) or home_of(session.principal.role)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    session: Annotated[WebSession, Depends(page_session)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(request, session, csrf)
    close_session(request.app.state.store, token=request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(session: Annotated[WebSession, Depends(page_session)]) -> Response:
    return RedirectResponse(home_of(session.principal.role), status_code=303)
