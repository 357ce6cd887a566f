"""The admin's users and API keys (`/admin/users`), through
:mod:`planner.services.accounts` (as ``coverplan users`` and ``coverplan keys``).

Users: list (role, team, towns, status), add (role, team and towns for an
outreach account, password), disable (its sessions and tokens stop at once; an
admin cannot disable the account it is signed in with). Keys: list (prefix,
name, scopes, made, revoked), add (the key is shown this once, never stored),
revoke. Every POST checks the session's CSRF token; a refused change is told in
Chinese next to the form (422) and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.web.deps import check_csrf, page_for
from api.web.render import page
from planner.domain.access import SCOPES, Role
from planner.errors import AccountError
from planner.services.accounts import (
    UserOptions,
    add_key,
    add_user,
    disable_user,
    list_keys,
    list_users,
    revoke_key,
)
from planner.services.web_sessions import WebSession

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.ADMIN))]
Csrf = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=200)]

#: Roles an account can have (API keys are the ``integration`` role), in form order.
ACCOUNT_ROLES = {
    "planner": "规划人员",
    "leader": "领导",
    "outreach": "入户服务队",
    "admin": "管理员",
}
SCOPE_LABELS = {
    "read:aggregates": "读取汇总数据",
    "read:persons": "读取个人信息（脱敏、审计）",
    "read:facilities": "读取设施",
    "write:facilities": "修改设施",
}
NOT_SELF = "不能停用自己正在使用的账户「{user}」；请用另一个管理员账户操作"


def _users_page(
    request: Request,
    session: WebSession,
    *,
    message: str = "",
    error: str = "",
    new_key: Any = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    state = request.app.state
    store = state.store
    towns = [(t.code, t.name) for t in store.gazetteer().towns]
    return page(
        request,
        "admin_users.html",
        session=session,
        title="系统管理 · 用户与密钥",
        tab="users",
        users=list_users(store),
        keys=list_keys(store),
        roles=ACCOUNT_ROLES,
        teams=list(state.config.outreach.teams),
        towns=towns,
        town_names=dict(towns),
        scopes=[(s, SCOPE_LABELS.get(s, s)) for s in SCOPES],
        message=message,
        error=error,
        new_key=new_key,
        form=form or {},
        min_password=state.config.auth.password_min_length,
        status_code=status_code,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, session: Session) -> Response:
    return _users_page(request, session)


@router.post("/admin/users", response_class=HTMLResponse)
async def admin_add_user(
    request: Request,
    session: Session,
    csrf: Csrf = "",
    username: Annotated[str, Form(max_length=64)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    team: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    check_csrf(request, session, csrf)
    towns = tuple(str(t) for t in (await request.form()).getlist("towns"))
    form = {"username": username, "role": role, "team": team, "towns": towns}
    options = UserOptions(
        username=username.strip(),
        password=password,
        role=role,
        team=team or None,
        towns=towns,
    )
    try:
        info = add_user(request.app.state.store, config=request.app.state.config, options=options)
    except AccountError as exc:
        return _users_page(request, session, error=str(exc), form=form, status_code=422)
    label = ACCOUNT_ROLES.get(info.role, info.role)
    return _users_page(request, session, message=f"已添加用户「{info.username}」（{label}）")


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
def admin_disable_user(
    request: Request, session: Session, username: str, csrf: Csrf = ""
) -> Response:
    check_csrf(request, session, csrf)
    try:
        if username == session.principal.subject:
            raise AccountError(NOT_SELF.format(user=username))
        disable_user(request.app.state.store, username)
    except AccountError as exc:
        return _users_page(request, session, error=str(exc), status_code=422)
    return _users_page(request, session, message=f"已停用用户「{username}」，其登录即刻失效")


@router.post("/admin/keys", response_class=HTMLResponse)
async def admin_add_key(
    request: Request, session: Session, csrf: Csrf = "", name: Text = ""
) -> Response:
    check_csrf(request, session, csrf)
    scopes = tuple(str(s) for s in (await request.form()).getlist("scopes"))
    try:
        made = add_key(request.app.state.store, name=name, scopes=scopes)
    except AccountError as exc:
        return _users_page(
            request, session, error=str(exc), form={"name": name, "scopes": scopes}, status_code=422
        )
    return _users_page(
        request,
        session,
        message=f"已生成密钥「{made.info.name}」（前缀 {made.info.prefix}）",
        new_key=made,
    )


@router.post("/admin/keys/{prefix}/revoke", response_class=HTMLResponse)
def admin_revoke_key(request: Request, session: Session, prefix: str, csrf: Csrf = "") -> Response:
    check_csrf(request, session, csrf)
    try:
        revoke_key(request.app.state.store, prefix)
    except AccountError as exc:
        return _users_page(request, session, error=str(exc), status_code=422)
    return _users_page(request, session, message=f"已吊销密钥（前缀 {prefix}），即刻失效")
