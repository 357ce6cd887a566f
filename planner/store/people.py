"""Person-level reads and per-village counts for the HTTP API (SQL only).

The rules of who sees what live in :mod:`planner.services.people`; these queries
only filter by what they are given (towns of an outreach team, village, category,
grade) and page by resident id.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, func, select

from planner.store import schema as t
from planner.store.core import Store

__all__ = ["PersonRecord", "resident_by_id", "resident_page", "village_category_counts"]


@dataclass(frozen=True)
class PersonRecord:
    """A resident as the API may show it (masking is the caller's)."""

    id: int
    id_number: str
    name: str
    sex: str
    birth_date: date
    category: str
    grade: int
    village_code: str | None
    town_code: str | None
    address: str | None
    phone: str | None


def _record(r: t.Resident) -> PersonRecord:
    return PersonRecord(
        id=r.id,
        id_number=r.id_number,
        name=r.name,
        sex=r.sex,
        birth_date=r.birth_date,
        category=r.category,
        grade=r.grade,
        village_code=r.village_code,
        town_code=r.town_code,
        address=r.address,
        phone=r.phone,
    )


def _conditions(
    *,
    towns: Collection[str] | None,
    village: str | None,
    category: str | None,
    grade: int | None,
) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if towns is not None:
        out.append(t.Resident.town_code.in_(sorted(towns)))
    if village is not None:
        out.append(t.Resident.village_code == village)
    if category is not None:
        out.append(t.Resident.category == category)
    if grade is not None:
        out.append(t.Resident.grade == grade)
    return out


def resident_page(
    store: Store,
    *,
    towns: Collection[str] | None,
    village: str | None,
    category: str | None,
    grade: int | None,
    offset: int,
    limit: int,
) -> tuple[int, list[PersonRecord]]:
    """The total matching and one page of residents, by id.

    ``towns``: only residents of these town codes (None: any town).
    """
    where = _conditions(towns=towns, village=village, category=category, grade=grade)
    with store.read() as s:
        total = int(s.scalar(select(func.count(t.Resident.id)).where(*where)) or 0)
        rows = s.scalars(
            select(t.Resident).where(*where).order_by(t.Resident.id).offset(offset).limit(limit)
        ).all()
        return total, [_record(r) for r in rows]


def resident_by_id(store: Store, resident_id: int) -> PersonRecord | None:
    """The resident with database id ``resident_id``, or None."""
    with store.read() as s:
        row = s.get(t.Resident, resident_id)
        return None if row is None else _record(row)


def village_category_counts(store: Store) -> pd.DataFrame:
    """Residents per village and category: columns ``village_code``, ``category``, ``n``."""
    with store.read() as s:
        rows = s.execute(
            select(t.Resident.village_code, t.Resident.category, func.count(t.Resident.id))
            .where(t.Resident.village_code.is_not(None))
            .group_by(t.Resident.village_code, t.Resident.category)
        ).all()
    return pd.DataFrame(
        [(v, c, int(n)) for v, c, n in rows], columns=["village_code", "category", "n"]
    )
