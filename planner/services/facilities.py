"""Facilities one by one (HTTP API CRUD; admins write, every role reads).

Checks a facility's type against ``[facility_types]``, its village against the
store's gazetteer (the town follows from it), WGS-84 lon/lat ranges and a unique
key; every change is audited with the caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from planner.errors import ConflictError, GazetteerError, InputError, NotFoundError
from planner.settings import Config
from planner.store import facility_records as db
from planner.store.core import Store
from planner.store.facility_records import FacilityRecord

__all__ = [
    "FacilityInput",
    "FacilityRecord",
    "create_facility",
    "delete_facility",
    "get_facility",
    "list_facilities",
    "update_facility",
]

NOT_FOUND = "没有编号为 {id} 的设施；用 GET /api/v1/facilities 查看"


@dataclass(frozen=True, kw_only=True)
class FacilityInput:
    """The fields of a facility a caller sets (WGS-84 degrees; capacity in places)."""

    key: str
    type: str
    name: str
    village_code: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    capacity: int | None = None


def _values(store: Store, config: Config, data: FacilityInput) -> dict[str, object]:
    if data.type not in config.facility_types:
        raise InputError(
            f"设施类型「{data.type}」不在配置 [facility_types] 中；"
            f"可选：{'、'.join(config.facility_types)}"
        )
    town: str | None = None
    if data.village_code is not None:
        gaz = store.gazetteer()
        try:
            town = gaz.village(data.village_code).town_code
        except GazetteerError:
            raise InputError(
                f"村社代码 {data.village_code} 不在本库的行政区划中；用 GET /api/v1/villages 查看"
            ) from None
    if (data.lon is None) != (data.lat is None):
        raise InputError("经度 lon 与纬度 lat 应同时给出或同时省略（WGS-84）")
    values = asdict(data)
    values["town_code"] = town
    return values


def list_facilities(store: Store, *, type_: str | None = None) -> list[FacilityRecord]:
    """Every facility (of ``type_``)."""
    return db.facility_records(store, type_=type_)


def get_facility(store: Store, facility_id: int) -> FacilityRecord:
    """One facility. Raises :class:`NotFoundError` when there is none."""
    found = db.facility_by_id(store, facility_id)
    if found is None:
        raise NotFoundError(NOT_FOUND.format(id=facility_id))
    return found


def create_facility(
    store: Store, *, config: Config, data: FacilityInput, subject: str
) -> FacilityRecord:
    """Add a facility. Raises :class:`InputError` (type, village, point) or
    :class:`ConflictError` (a taken key)."""
    values = _values(store, config, data)
    if db.key_taken(store, data.key):
        raise ConflictError(f"设施编号「{data.key}」已存在；修改请用 PUT /api/v1/facilities/{{id}}")
    return db.insert_facility(store, values, subject=subject)


def update_facility(
    store: Store, *, config: Config, facility_id: int, data: FacilityInput, subject: str
) -> FacilityRecord:
    """Replace a facility's fields. Raises :class:`NotFoundError` or :class:`InputError`."""
    get_facility(store, facility_id)
    values = _values(store, config, data)
    if db.key_taken(store, data.key, other_than=facility_id):
        raise ConflictError(f"设施编号「{data.key}」已被另一设施使用")
    updated = db.update_facility(store, facility_id, values, subject=subject)
    if updated is None:
        raise NotFoundError(NOT_FOUND.format(id=facility_id))
    return updated


def delete_facility(store: Store, *, facility_id: int, subject: str) -> None:
    """Delete a facility. Raises :class:`NotFoundError` when there is none."""
    if not db.delete_facility(store, facility_id, subject=subject):
        raise NotFoundError(NOT_FOUND.format(id=facility_id))
