"""The two ways to authenticate, declared so that the OpenAPI shows both:
``Authorization: Bearer <JWT>`` (accounts, ``POST /api/v1/auth/token``) and
``X-API-Key: cp_…`` (integration keys, ``coverplan keys add``)."""

from __future__ import annotations

from fastapi.security import APIKeyHeader, HTTPBearer

__all__ = ["API_KEY_HEADER", "api_key", "bearer"]

API_KEY_HEADER = "X-API-Key"

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description="账户令牌：POST /api/v1/auth/token 获取，有效期见配置 [auth] token_minutes",
)
api_key = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="apiKey",
    description="系统调用密钥：管理员用 coverplan keys add 生成",
)
