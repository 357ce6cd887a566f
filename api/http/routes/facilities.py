"""``/api/v1/facilities``: read by every role (integration: ``read:facilities``),
written by admins (integration: ``write:facilities``). Bodies refuse unknown
fields (mass assignment → 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from api.http.deps import get_config, get_store, require
from api.http.fields import NUMBER_ONLY, unknown_type
from api.http.problems import responses
from planner.domain.access import Principal, Role
from planner.services import facilities as svc
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/facilities", tags=["facilities"])

readers = require(Role.ADMIN, Role.PLANNER, Role.LEADER, Role.OUTREACH, scope="read:facilities")
writers = require(Role.ADMIN, scope="write:facilities")
FacilityId = Annotated[int, Path(ge=1, le=2**31 - 1, description="设施编号（数据库 id）")]


class FacilityIn(BaseModel):
    """A facility as written by an admin (WGS-84 degrees; capacity in places)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "HOME-099",
                    "type": "home",
                    "name": "示例残疾人之家",
                    "village_code": "330213001001",
                    "lon": 121.41,
                    "lat": 29.66,
                    "capacity": 20,
                }
            ],
            # lon and lat come together or not at all (the service's rule, stated
            # in the schema so that clients and fuzzers know it)
            "anyOf": [
                {
                    "required": ["lon", "lat"],
                    "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}},
                },
                {"properties": {"lon": {"type": "null"}, "lat": {"type": "null"}}},
            ],
        },
    )

    key: str = Field(min_length=1, max_length=128, description="设施编号（唯一）")
    type: str = Field(min_length=1, max_length=32, description="设施类型键，见 [facility_types]")
    name: str = Field(min_length=1, max_length=128)
    village_code: str | None = Field(
        default=None,
        pattern=r"^\d{12}$",
        description="村社代码（本库行政区划中的，见 /api/v1/villages）",
    )
    address: str | None = Field(default=None, max_length=500)
    lon: Annotated[float, Field(ge=-180, le=180), NUMBER_ONLY] | None = None
    lat: Annotated[float, Field(ge=-90, le=90), NUMBER_ONLY] | None = None
    capacity: Annotated[int, Field(ge=0, le=1_000_000), NUMBER_ONLY] | None = None


class FacilityOut(BaseModel):
    id: int
    key: str
    type: str
    name: str
    village_code: str | None
    town_code: str | None
    address: str | None
    lon: float | None
    lat: float | None
    capacity: int | None


def _out(r: svc.FacilityRecord) -> FacilityOut:
    return FacilityOut(**r.to_json())


def _input(body: FacilityIn) -> svc.FacilityInput:
    return svc.FacilityInput(**body.model_dump())


@router.get(
    "", response_model=list[FacilityOut], summary="设施列表", responses=responses(401, 403, 422)
)
def list_facilities(
    _: Annotated[Principal, Depends(readers)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    type: Annotated[str | None, Query(max_length=32, description="设施类型键")] = None,
) -> list[FacilityOut]:
    if type is not None and type not in config.facility_types:
        # the OpenAPI lists [facility_types] as the parameter's enum: refuse the rest
        raise unknown_type(type, list(config.facility_types))
    return [_out(r) for r in svc.list_facilities(store, type_=type)]


@router.get(
    "/{facility_id}",
    response_model=FacilityOut,
    summary="一处设施",
    responses=responses(401, 403, 404, 422),
)
def get_facility(
    facility_id: FacilityId,
    _: Annotated[Principal, Depends(readers)],
    store: Annotated[Store, Depends(get_store)],
) -> FacilityOut:
    return _out(svc.get_facility(store, facility_id))


@router.post(
    "",
    response_model=FacilityOut,
    status_code=201,
    summary="新增设施（管理员）",
    responses=responses(401, 403, 409, 422),
)
def create_facility(
    body: FacilityIn,
    principal: Annotated[Principal, Depends(writers)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> FacilityOut:
    return _out(
        svc.create_facility(store, config=config, data=_input(body), subject=principal.subject)
    )


@router.put(
    "/{facility_id}",
    response_model=FacilityOut,
    summary="修改设施（管理员）",
    responses=responses(401, 403, 404, 409, 422),
)
def update_facility(
    facility_id: FacilityId,
    body: FacilityIn,
    principal: Annotated[Principal, Depends(writers)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
) -> FacilityOut:
    return _out(
        svc.update_facility(
            store,
            config=config,
            facility_id=facility_id,
            data=_input(body),
            subject=principal.subject,
        )
    )


@router.delete(
    "/{facility_id}",
    status_code=204,
    summary="删除设施（管理员）",
    responses=responses(401, 403, 404, 422),
)
def delete_facility(
    facility_id: FacilityId,
    principal: Annotated[Principal, Depends(writers)],
    store: Annotated[Store, Depends(get_store)],
) -> Response:
    svc.delete_facility(store, facility_id=facility_id, subject=principal.subject)
    return Response(status_code=204)
