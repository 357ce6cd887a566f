"""Facilities one by one, for the HTTP API's CRUD (SQL only; checks in
:mod:`planner.services.facilities`). Every change is audited with its subject."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = [
    "FacilityRecord",
    "delete_facility",
    "facility_by_id",
    "facility_records",
    "insert_facility",
    "update_facility",
]

#: Fields a caller may set (anything else is refused before it gets here).
FIELDS = ("key", "type", "name", "village_code", "town_code", "address", "lon", "lat", "capacity")


@dataclass(frozen=True)
class FacilityRecord:
    """A facility row (WGS-84 lon/lat; capacity in places)."""

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

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _record(r: t.Facility) -> FacilityRecord:
    return FacilityRecord(**{"id": r.id, **{f: getattr(r, f) for f in FIELDS}})


def _hash(values: dict[str, Any]) -> str:
    text = json.dumps({f: values.get(f) for f in FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def facility_records(store: Store, *, type_: str | None = None) -> list[FacilityRecord]:
    """Every facility (of ``type_``), by id."""
    q = select(t.Facility).order_by(t.Facility.id)
    if type_ is not None:
        q = q.where(t.Facility.type == type_)
    with store.read() as s:
        return [_record(r) for r in s.scalars(q)]


def facility_by_id(store: Store, facility_id: int) -> FacilityRecord | None:
    with store.read() as s:
        row = s.get(t.Facility, facility_id)
        return None if row is None else _record(row)


def key_taken(store: Store, key: str, *, other_than: int | None = None) -> bool:
    """Whether another facility has ``key``."""
    q = select(t.Facility.id).where(t.Facility.key == key)
    if other_than is not None:
        q = q.where(t.Facility.id != other_than)
    with store.read() as s:
        return s.scalar(q) is not None


def insert_facility(store: Store, values: dict[str, Any], *, subject: str) -> FacilityRecord:
    """Add a facility (``values``: the :data:`FIELDS`)."""
    with store.write() as s:
        row = t.Facility(**{f: values.get(f) for f in FIELDS}, content_hash=_hash(values))
        row.attributes = {}
        row.needs_review = False
        s.add(row)
        s.flush()
        audit(s, action="create", entity="facility", detail={"id": row.id, "by": subject})
        return _record(row)


def update_facility(
    store: Store, facility_id: int, values: dict[str, Any], *, subject: str
) -> FacilityRecord | None:
    """Replace a facility's fields; None when there is no such facility."""
    with store.write() as s:
        row = s.get(t.Facility, facility_id)
        if row is None:
            return None
        for f in FIELDS:
            setattr(row, f, values.get(f))
        row.content_hash = _hash(values)
        audit(s, action="update", entity="facility", detail={"id": row.id, "by": subject})
        return _record(row)


def delete_facility(store: Store, facility_id: int, *, subject: str) -> bool:
    """Delete a facility; False when there is none (or it is referenced)."""
    with store.write() as s:
        row = s.get(t.Facility, facility_id)
        if row is None:
            return False
        s.delete(row)
        audit(s, action="delete", entity="facility", detail={"id": facility_id, "by": subject})
    return True
