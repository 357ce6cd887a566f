"""Assistive devices: which ones are past, or near, the end of their service life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.store import schema as t

_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class DueDevice:
    """A resident's current device of one type and the day it is due for replacement."""

    resident_id: int
    device_type: str
    issued_on: date
    due_on: date


def due_on(issued_on: date, service_years: float) -> date:
    """The day a device issued on ``issued_on`` reaches ``service_years`` years."""
    whole = int(service_years)
    try:
        day = issued_on.replace(year=issued_on.year + whole)
    except ValueError:  # 29 February
        day = issued_on.replace(year=issued_on.year + whole, day=28)
    return day + timedelta(days=round((service_years - whole) * _DAYS_PER_YEAR))


def due_devices(session: Session, *, today: date, within_days: int = 365) -> list[DueDevice]:
    """Current devices due for replacement by ``today + within_days``.

    A device is current when it is the latest of its type for its owner and has
    no ``replaced_on`` date; an earlier device of the same type counts as replaced.
    """
    latest: dict[tuple[int, str], tuple[date, float, date | None]] = {}
    q = select(
        t.Device.resident_id,
        t.Device.device_type,
        t.Device.issued_on,
        t.Device.service_years,
        t.Device.replaced_on,
    ).order_by(t.Device.id)
    for rid, kind, issued, years, replaced in session.execute(q):
        key = (rid, kind)
        if key not in latest or issued > latest[key][0]:
            latest[key] = (issued, years, replaced)
    horizon = today + timedelta(days=within_days)
    out = []
    for (rid, kind), (issued, years, replaced) in sorted(latest.items()):
        due = due_on(issued, years)
        if replaced is None and due <= horizon:
            out.append(DueDevice(rid, kind, issued, due))
    return out
