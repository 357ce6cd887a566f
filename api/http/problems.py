"""Errors as ``application/problem+json`` (RFC 9457), mapped in one place.

Every :class:`geo.errors.CoverplanError` is a user's mistake and becomes a 4xx
with its Chinese message as ``detail`` (never a 500): authentication → 401,
permission → 403, not found → 404, conflict → 409, too large → 413, too many
attempts → 429, another writer → 503, any other → 422. Operations declare what
they can answer with :func:`responses`. A 405 names every method of the path in
``Allow``; a body FastAPI cannot decode (not UTF-8) is a 422.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from geo.errors import CoverplanError
from planner.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StoreBusyError,
    TooLargeError,
    TooManyRequestsError,
)

__all__ = ["PROBLEM", "Problem", "install", "problem", "responses", "status_of"]

PROBLEM = "application/problem+json"
log = logging.getLogger("coverplan.http")

TITLES = {
    400: "请求有误",
    401: "未登录或凭据无效",
    403: "无权访问",
    404: "未找到",
    405: "不支持的请求方法",
    409: "与已有数据冲突",
    413: "请求内容过大",
    422: "请求参数有误",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "服务繁忙",
}


class Problem(BaseModel):
    """A problem document (RFC 9457); ``detail`` in Chinese names the fix."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str


def problem(
    status: int, detail: str, *, instance: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A problem+json response."""
    body = Problem(
        title=TITLES.get(status, "错误"), status=status, detail=detail, instance=instance
    )
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM, headers=headers)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of an operation that may answer these problem statuses."""
    return {
        code: {
            "model": Problem,
            "description": TITLES.get(code, "错误"),
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def status_of(exc: CoverplanError) -> int:
    """The HTTP status of a user's mistake."""
    if isinstance(exc, AuthenticationError):
        return 401
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, TooLargeError):
        return 413
    if isinstance(exc, TooManyRequestsError):
        return 429
    if isinstance(exc, StoreBusyError):
        return 503
    return 422


_LOCATIONS = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头"}


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        where = _LOCATIONS.get(loc[0], loc[0]) if loc else ""
        name = ".".join(loc[1:]) or "（整体）"
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            reason = "不允许的字段（只能提交文档列出的字段）"
        elif kind == "missing":
            reason = "缺少此项"
        else:
            reason = f"值无效（{err.get('msg', '')}）"
        parts.append(f"{where} {_scrub(name)}：{_scrub(reason)}")
    return "；".join(parts) or "请求参数有误"


#: A run of digits long enough to be (part of) an ID or phone number.
_DIGIT_RUN = re.compile(r"\d{6,}")


def _scrub(text: str) -> str:
    """``text`` with long digit runs replaced: a validation message repeats the
    caller's field names and values, which may hold an ID or phone number."""
    return _DIGIT_RUN.sub(lambda m: "#" * len(m.group()), text)


def _page(request: Request, status: int, detail: str) -> Response | None:
    """The web UI's HTML error page for a path outside ``/api/`` (None: an API path,
    or no web UI installed)."""
    web = getattr(request.app.state, "web_error", None)
    if web is None or request.url.path.startswith("/api/"):
        return None
    response: Response = web(request, status, detail)
    return response


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json (an HTML page
    for the web UI's paths)."""

    @app.exception_handler(CoverplanError)
    async def _coverplan(request: Request, exc: CoverplanError) -> Response:
        status = status_of(exc)
        html = _page(request, status, str(exc))
        if html is not None:
            return html
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyRequestsError):
            headers = {"Retry-After": str(exc.retry_after)}
        return problem(status, str(exc), instance=request.url.path, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("未处理的错误 %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem(
            500, "服务器内部错误，已记录；请稍后重试或联系管理员", instance=request.url.path
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = _validation_detail(exc)
        return _page(request, 422, detail) or problem(422, detail, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(status, "")
        headers = dict(exc.headers or {})
        if status == 404 and detail == "Not Found":
            detail = f"没有这个地址：{request.url.path}；接口列表见 /openapi.json"
        elif status == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            methods = "、".join(allowed)
            detail = (
                f"{request.url.path} 不支持 {request.method}；可用：{methods}（见 /openapi.json）"
            )
        elif status == 400 and detail == BODY_UNPARSABLE:
            # FastAPI's answer to a body it cannot decode (e.g. not UTF-8): a 422 like
            # any other malformed body (a JSON syntax error already is one).
            status = 422
            detail = "请求体无法解析：应为 UTF-8 编码的 JSON（或接口文档所列的表单格式）"
        if status == 404 and not request.url.path.startswith("/api/"):
            detail = f"没有这个页面：{request.url.path}"
        return _page(request, status, detail) or problem(
            status, detail, instance=request.url.path, headers=headers
        )


#: FastAPI's (English) detail for a request body it could not decode.
BODY_UNPARSABLE = "There was an error parsing the body"


#: The methods a 405's ``Allow`` may name.
METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (each HTTP method is a
    route of its own, so Starlette's 405 names only the first route's), as the
    OpenAPI documents the path: of ``/scenarios/compare`` (GET) and
    ``/scenarios/{name}`` (GET, DELETE), a request to ``/scenarios/compare`` is
    about the literal path, so DELETE is not offered."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    documented = _documented_methods(request)
    return [m for m in allowed if m in documented] if documented else allowed


def _documented_methods(request: Request) -> set[str]:
    """The methods of the OpenAPI path that matches the request's path with the
    fewest parameters (empty when none matches)."""
    paths: dict[str, Any] = request.app.openapi().get("paths", {})
    matching = [
        template
        for template in paths
        if re.fullmatch(
            "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", template)
            ),
            request.url.path,
        )
    ]
    if not matching:
        return set()
    best = min(matching, key=lambda template: template.count("{"))
    return {method.upper() for method in paths[best]}
