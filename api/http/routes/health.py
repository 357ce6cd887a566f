"""``GET /api/v1/health``: public liveness check (no data)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/api/v1/health", tags=["health"])


class Health(BaseModel):
    status: str = "ok"


@router.get("", response_model=Health, summary="服务是否在运行（无需登录）")
def health() -> Health:
    return Health()
