"""``POST /api/v1/auth/token``: OAuth2 password flow → a short-lived JWT;
``GET /api/v1/me``: who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field

from api.http.deps import current_principal, get_config, get_secret, get_store
from api.http.problems import responses
from planner.domain.access import Principal
from planner.services.accounts import authenticate, issue_token
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = Field(examples=["bearer"])
    expires_in: int = Field(description="有效秒数", examples=[1800])


class Me(BaseModel):
    subject: str = Field(examples=["zhang.planner"])
    role: str = Field(examples=["planner"])
    team: str | None = None
    towns: list[str] = []
    scopes: list[str] = []
    sees_persons: bool


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="用户名与密码换取访问令牌（OAuth2 password）",
    responses=responses(401, 422, 429),
)
def token(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    secret: Annotated[str, Depends(get_secret)],
    grant_type: Annotated[str, Form(pattern="^password$")] = "password",
) -> TokenOut:
    request.app.state.login_throttle.check(request.client.host if request.client else "?")
    principal = authenticate(store, config=config, username=username, password=password)
    t = issue_token(principal, config=config, secret=secret)
    return TokenOut(access_token=t.access_token, token_type=t.token_type, expires_in=t.expires_in)


@router.get("/me", response_model=Me, summary="当前调用者", responses=responses(401))
def me(principal: Annotated[Principal, Depends(current_principal)]) -> Me:
    return Me(
        subject=principal.subject,
        role=principal.role.value,
        team=principal.team,
        towns=sorted(principal.towns),
        scopes=sorted(principal.scopes),
        sees_persons=principal.sees_persons,
    )
