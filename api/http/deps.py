"""Dependencies of the routes: the store, the configuration, the caller.

``current_principal`` accepts a bearer JWT or an ``X-API-Key`` and answers 401
(problem+json) otherwise; ``require(*roles, scope=…)`` answers 403 to anyone
else. An integration key passes ``require`` when ``scope`` is given and granted.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials

from api.http.security import api_key, bearer
from planner.domain.access import Principal, Role
from planner.errors import AuthenticationError, PermissionDeniedError
from planner.services.accounts import BAD_TOKEN, principal_from_key, principal_from_token
from planner.settings import Config
from planner.store.core import Store

__all__ = ["current_principal", "get_config", "get_secret", "get_store", "require"]

NO_CREDENTIALS = (
    "需要登录：请在请求头加 Authorization: Bearer <令牌>（POST /api/v1/auth/token 获取）"
    "或 X-API-Key: <密钥>"
)
FORBIDDEN = "您的角色（{role}）无权使用此功能；需要：{need}"


async def get_store(request: Request) -> Store:
    """The app's store (opened once by :func:`api.http.app.create_app`)."""
    store: Store = request.app.state.store
    return store


async def get_config(request: Request) -> Config:
    """The app's configuration."""
    config: Config = request.app.state.config
    return config


async def get_secret(request: Request) -> str:
    """The key that signs tokens (``COVERPLAN_SECRET`` or the demo secret)."""
    secret: str = request.app.state.secret
    return secret


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    key: Annotated[str | None, Depends(api_key)],
) -> Principal:
    """The caller: a bearer token or an API key (401 problem+json without either).

    ``async``, like the other dependencies here, so FastAPI calls it on the event
    loop instead of handing it to a worker thread: it only reads (one primary-key
    read of an account or a key, never a write, never waiting for a lock in WAL
    mode), and a thread hop per dependency cost more than the read (measured with
    ``wrk``: /api/v1/me from 247 to 338 requests/s on the demo).
    """
    store: Store = request.app.state.store
    if credentials is not None:
        if credentials.scheme.lower() != "bearer":
            raise AuthenticationError(BAD_TOKEN)
        secret: str = request.app.state.secret
        principal = principal_from_token(store, credentials.credentials, secret=secret)
    elif key:
        principal = principal_from_key(store, key)
    else:
        raise AuthenticationError(NO_CREDENTIALS)
    request.state.subject = principal.subject
    return principal


def require(
    *roles: Role, scope: str | None = None
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency giving the caller when its role is one of ``roles`` (or, for an
    integration key, when it holds ``scope``); 403 problem+json otherwise."""
    allowed = frozenset(roles)
    need = "、".join(r.value for r in roles) + (f"，或密钥权限 {scope}" if scope else "")

    async def _dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role is Role.INTEGRATION:
            ok = scope in principal.scopes if scope is not None else Role.INTEGRATION in allowed
        else:
            ok = principal.role in allowed
        if not ok:
            raise PermissionDeniedError(FORBIDDEN.format(role=principal.role.value, need=need))
        return principal

    return _dependency
