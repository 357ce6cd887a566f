"""``GET /api/v1/towns`` and ``GET /api/v1/villages`` (GeoJSON, aggregates only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from api.analyses import cached_json
from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from planner.domain.access import Principal, Role
from planner.services.people import village_features
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1", tags=["places"])

ANY_ROLE = (Role.ADMIN, Role.PLANNER, Role.LEADER, Role.OUTREACH)
aggregates = require(*ANY_ROLE, scope="read:aggregates")


class TownOut(BaseModel):
    code: str
    name: str
    villages: int


@router.get(
    "/towns", response_model=list[TownOut], summary="镇街列表", responses=responses(401, 403)
)
def towns(
    _: Annotated[Principal, Depends(aggregates)],
    store: Annotated[Store, Depends(get_store)],
) -> list[TownOut]:
    gaz = store.gazetteer()
    return [
        TownOut(code=t.code, name=t.name, villages=len(gaz.villages_of(t.code))) for t in gaz.towns
    ]


@router.get(
    "/villages",
    summary="村社（GeoJSON，WGS-84）及按类别的持证人数",
    description="管理员以外的角色，1 至 [privacy] min_count-1 的人数显示为 null（小数抑制）",
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "FeatureCollection"},
        **responses(401, 403),
    },
)
def villages(
    request: Request,
    principal: Annotated[Principal, Depends(aggregates)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> Response:
    # encoded once per data version and what the caller may see (admins: counts as
    # they are; every other role the same suppressed counts)
    return cached_json(
        request,
        ("villages", principal.full_records),
        lambda: village_features(store, config=config, principal=principal),
        media_type="application/geo+json",
    )
