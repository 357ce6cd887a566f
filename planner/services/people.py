"""Residents and per-village aggregates as the caller's role allows (HTTP API).

- ``admin``: full records. ``outreach``: residents of its team's towns, ID numbers
  and phones masked. ``integration`` with ``read:persons``: residents, masked.
  ``planner`` and ``leader``: never persons (``PermissionDeniedError``), only
  :func:`village_aggregates`, whose counts 1..``[privacy] min_count``-1 are
  suppressed for every role but admin.
- A resident outside the caller's scope is "not found", exactly as a missing one.
- Every person-level read writes an audit row (who, what, why, how many).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from planner.domain.access import Principal, suppress_small
from planner.domain.privacy import mask_id, mask_phone
from planner.errors import InputError, NotFoundError, PermissionDeniedError
from planner.settings import Config
from planner.store.audit import record_access
from planner.store.core import Store
from planner.store.people import (
    PersonRecord,
    resident_by_id,
    resident_page,
    village_category_counts,
)

__all__ = [
    "ResidentPage",
    "ResidentQuery",
    "check_purpose",
    "get_resident",
    "list_residents",
    "record_read",
    "village_aggregates",
    "village_features",
]

NOT_FOUND = "没有这位残疾人（编号 {id}），或不在您的权限范围内"
NO_PERSONS = (
    "您的角色（{role}）不能查看个人信息，只能查看按村社汇总的人数（GET /api/v1/villages）；"
    "如需个人信息请联系管理员"
)


@dataclass(frozen=True, kw_only=True)
class ResidentQuery:
    """One page of residents (``GET /api/v1/residents``).

    Attributes
    ----------
    purpose
        Why the records are read (recorded in the audit log).
    page
        1-based page number.
    page_size
        Rows per page (at most ``[server] page_size_max``).
    village, category, grade
        Filters (12-digit village code, category key, grade 1–4).
    """

    purpose: str
    page: int = 1
    page_size: int = 50
    village: str | None = None
    category: str | None = None
    grade: int | None = None


@dataclass(frozen=True)
class ResidentPage:
    """A page of residents as shown to the caller."""

    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int

    def to_json(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "page": self.page,
            "page_size": self.page_size,
            "total": self.total,
        }


def _shown(p: PersonRecord, principal: Principal, config: Config) -> dict[str, Any]:
    full = principal.full_records
    return {
        "id": p.id,
        "id_number": p.id_number if full else mask_id(p.id_number, privacy=config.privacy),
        "name": p.name,
        "sex": p.sex,
        "birth_date": p.birth_date.isoformat(),
        "category": p.category,
        "grade": p.grade,
        "village_code": p.village_code,
        "town_code": p.town_code,
        "address": p.address,
        "phone": p.phone if full else (mask_phone(p.phone, privacy=config.privacy) or None),
    }


_PERSONAL = re.compile(r"\d{15}|\d{17}[\dXx]|1[3-9]\d{9}")
NO_PURPOSE = "请用 purpose 参数说明查看个人信息的目的（将记入审计日志），如「5月入户走访」"


def record_read(
    store: Store, *, principal: Principal, target: str, purpose: str, count: int
) -> None:
    """Write the audit row of a person-level read by ``principal`` (``count`` persons)."""
    record_access(
        store,
        subject=principal.subject,
        role=principal.role.value,
        action="read",
        target=target,
        purpose=purpose,
        count=count,
    )


def check_purpose(text: str) -> str:
    """The declared purpose of a person-level read, stripped and checked (not
    empty, no ID or phone number in it); InputError otherwise."""
    purpose = text.strip()
    if not purpose:
        raise InputError(NO_PURPOSE)
    if _PERSONAL.search(purpose):
        raise InputError("purpose 只写目的，不要写身份证号或电话号码（目的会记入审计日志）")
    return purpose


def _check_persons(principal: Principal) -> None:
    if not principal.sees_persons:
        raise PermissionDeniedError(NO_PERSONS.format(role=principal.role.value))


def list_residents(
    store: Store, *, config: Config, principal: Principal, query: ResidentQuery
) -> ResidentPage:
    """A page of the residents the principal may see (audited).

    Raises
    ------
    PermissionDeniedError
        Planner, leader, or integration without ``read:persons``.
    InputError
        A page size above ``[server] page_size_max`` or an empty purpose.
    """
    _check_persons(principal)
    q = query
    if not 1 <= q.page_size <= config.server.page_size_max:
        raise InputError(
            f"每页条数 page_size={q.page_size} 超出范围；应为 1 到 {config.server.page_size_max}"
            "（配置 [server] page_size_max）"
        )
    purpose = check_purpose(q.purpose)
    towns = principal.towns if principal.role.value == "outreach" else None
    total, rows = resident_page(
        store,
        towns=towns,
        village=q.village,
        category=q.category,
        grade=q.grade,
        offset=(q.page - 1) * q.page_size,
        limit=q.page_size,
    )
    filters = {"village": q.village, "category": q.category, "grade": q.grade, "page": q.page}
    target = "residents?" + json.dumps(
        {k: v for k, v in filters.items() if v is not None}, ensure_ascii=False, sort_keys=True
    )
    record_read(store, principal=principal, target=target, purpose=purpose, count=len(rows))
    return ResidentPage(
        items=[_shown(p, principal, config) for p in rows],
        page=q.page,
        page_size=q.page_size,
        total=total,
    )


def get_resident(
    store: Store, *, config: Config, principal: Principal, resident_id: int, purpose: str
) -> dict[str, Any]:
    """One resident the principal may see (audited).

    Raises
    ------
    PermissionDeniedError
        Planner, leader, or integration without ``read:persons``.
    NotFoundError
        No such resident, or one outside the principal's towns (the same message).
    """
    _check_persons(principal)
    purpose = check_purpose(purpose)
    person = resident_by_id(store, resident_id)
    if person is None or not principal.may_see_town(person.town_code):
        raise NotFoundError(NOT_FOUND.format(id=resident_id))
    record_read(
        store, principal=principal, target=f"resident/{resident_id}", purpose=purpose, count=1
    )
    return _shown(person, principal, config)


def village_aggregates(
    store: Store, *, config: Config, principal: Principal
) -> dict[str, dict[str, int | None]]:
    """Residents per village: ``{village_code: {"residents": n, <category>: n, …}}``.

    Counts 1..``[privacy] min_count``-1 are ``None`` for every role but admin.
    """
    counts = village_category_counts(store)
    if counts.empty:
        return {}
    wide = counts.pivot_table(
        index="village_code", columns="category", values="n", aggfunc="sum", fill_value=0
    )
    wide.insert(0, "residents", wide.sum(axis=1))
    if not principal.full_records:
        wide = suppress_small(wide, list(wide.columns), min_count=config.privacy.min_count)
    out: dict[str, dict[str, int | None]] = {}
    for code, row in wide.iterrows():
        out[str(code)] = {str(k): (None if v is None else int(v)) for k, v in row.items()}
    return out


def village_features(store: Store, *, config: Config, principal: Principal) -> dict[str, Any]:
    """Villages as a GeoJSON FeatureCollection (WGS-84) with resident counts.

    Properties: ``code``, ``name``, ``town_code``, ``town_name``, ``residents`` and
    ``by_category`` (category key → count); counts suppressed as in
    :func:`village_aggregates`. Geometry: the boundary when known, else the point.
    """
    from shapely.geometry import mapping

    from planner.store.frames import villages_frame

    counts = village_aggregates(store, config=config, principal=principal)
    frame = villages_frame(store)
    features: list[dict[str, Any]] = []
    for row in frame.itertuples(index=False):
        c = counts.get(str(row.code), {})
        geom = row.geometry
        features.append(
            {
                "type": "Feature",
                "id": str(row.code),
                "geometry": None if geom is None or geom.is_empty else mapping(geom),
                "properties": {
                    "code": str(row.code),
                    "name": str(row.name),
                    "town_code": str(row.town_code),
                    "town_name": str(row.town_name),
                    "residents": c.get("residents", 0),
                    "by_category": {k: v for k, v in c.items() if k != "residents"},
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
