"""``/api/v1/residents``: person-level records, by role (admin: full; outreach:
its towns, IDs and phones masked; integration: ``read:persons``, masked;
planner and leader: 403). Every call needs ``purpose`` (why the records are
read) and writes an audit row. Another team's resident is 404, like a missing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from planner.domain.access import PERSON_SCOPE, Principal, Role
from planner.services.people import ResidentQuery, get_resident, list_residents
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])

persons = require(Role.ADMIN, Role.OUTREACH, scope=PERSON_SCOPE)
Purpose = Annotated[
    str,
    Query(
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="查看目的（必填，记入审计日志），如「5月入户走访」",
        examples=["5月入户走访"],
    ),
]


class ResidentOut(BaseModel):
    id: int
    id_number: str = Field(
        description="身份证号；管理员以外的角色为脱敏形式，如 330213********1234"
    )
    name: str
    sex: str
    birth_date: str
    category: str
    grade: int
    village_code: str | None
    town_code: str | None
    address: str | None
    phone: str | None = Field(description="电话；管理员以外的角色为脱敏形式")


class ResidentPageOut(BaseModel):
    items: list[ResidentOut]
    page: int
    page_size: int
    total: int


@router.get(
    "",
    response_model=ResidentPageOut,
    summary="持证残疾人（分页；按村社、类别、等级筛选；记入审计）",
    responses=responses(401, 403, 422),
)
def residents(
    purpose: Purpose,
    principal: Annotated[Principal, Depends(persons)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[
        int | None, Query(ge=1, description="每页条数，默认与上限见 [server]")
    ] = None,
    village: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    grade: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> ResidentPageOut:
    query = ResidentQuery(
        purpose=purpose,
        page=page,
        page_size=page_size or config.server.page_size_default,
        village=village,
        category=category,
        grade=grade,
    )
    result = list_residents(store, config=config, principal=principal, query=query)
    return ResidentPageOut.model_validate(result.to_json())


@router.get(
    "/{resident_id}",
    response_model=ResidentOut,
    summary="一位持证残疾人（记入审计）",
    responses=responses(401, 403, 404, 422),
)
def resident(
    resident_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    purpose: Purpose,
    principal: Annotated[Principal, Depends(persons)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> ResidentOut:
    shown = get_resident(
        store, config=config, principal=principal, resident_id=resident_id, purpose=purpose
    )
    return ResidentOut.model_validate(shown)
