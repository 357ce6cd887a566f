"""Assistive devices: which ones are current, and which are past, or near, the end of
their service life.

The rules work on device records (``resident_id, device_type, issued_on,
service_years, replaced_on`` in id order, as :func:`planner.store.frames.devices_frame`
returns them): :func:`due_from_records` is the core, :func:`due_in_frame` and
:func:`count_devices` its frame adapters. :func:`due_devices` reads the records
from an open session (kept for the callers that still hold one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from planner.units import DAYS_PER_YEAR

DEVICE_COLUMNS = ("resident_id", "device_type", "issued_on", "service_years", "replaced_on")
DeviceRecord = tuple[int, str, date, float, date | None]


@dataclass(frozen=True)
class DueDevice:
    """A resident's current device of one type and the day it is due for replacement."""

    resident_id: int
    device_type: str
    issued_on: date
    due_on: date


@dataclass(frozen=True)
class DeviceCounts:
    """Current devices (latest per person and type), how many are past due, and
    who has any device on record (resident ids)."""

    current: int
    overdue: int
    holders: frozenset[int] = frozenset()


def due_on(issued_on: date, service_years: float) -> date:
    """The day a device issued on ``issued_on`` reaches ``service_years`` years."""
    whole = int(service_years)
    try:
        day = issued_on.replace(year=issued_on.year + whole)
    except ValueError:  # 29 February
        day = issued_on.replace(year=issued_on.year + whole, day=28)
    return day + timedelta(days=round((service_years - whole) * DAYS_PER_YEAR))


def _latest(
    records: Iterable[DeviceRecord],
) -> dict[tuple[int, str], tuple[date, float, date | None]]:
    """The latest device (by issue date; the first stored on a tie) per person and type."""
    latest: dict[tuple[int, str], tuple[date, float, date | None]] = {}
    for rid, kind, issued, years, replaced in records:
        key = (rid, kind)
        if key not in latest or issued > latest[key][0]:
            latest[key] = (issued, years, replaced)
    return latest


def due_from_records(
    records: Iterable[DeviceRecord], *, today: date, within_days: int = 365
) -> list[DueDevice]:
    """Current devices due for replacement by ``today + within_days``.

    A device is current when it is the latest of its type for its owner and has
    no ``replaced_on`` date; an earlier device of the same type counts as replaced.

    Parameters
    ----------
    records
        ``(resident_id, device_type, issued_on, service_years, replaced_on)`` in
        the order stored (device id).
    today
        The reference day.
    within_days
        Horizon in days (0: due today or earlier).
    """
    horizon = today + timedelta(days=within_days)
    out = []
    for (rid, kind), (issued, years, replaced) in sorted(_latest(records).items()):
        due = due_on(issued, years)
        if replaced is None and due <= horizon:
            out.append(DueDevice(rid, kind, issued, due))
    return out


def _records(devices: pd.DataFrame) -> list[DeviceRecord]:
    cols = [devices[c].tolist() for c in DEVICE_COLUMNS]
    return [
        (int(rid), str(kind), issued, float(years), None if _missing(rep) else rep)
        for rid, kind, issued, years, rep in zip(*cols, strict=True)
    ]


def _missing(value: object) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def due_in_frame(devices: pd.DataFrame, *, today: date, within_days: int = 365) -> list[DueDevice]:
    """:func:`due_from_records` over a frame with the columns :data:`DEVICE_COLUMNS`."""
    return due_from_records(_records(devices), today=today, within_days=within_days)


def count_devices(devices: pd.DataFrame, *, today: date) -> DeviceCounts:
    """Current devices (distinct person and type) and those past due on ``today``."""
    records = _records(devices)
    return DeviceCounts(
        current=len(_latest(records)),
        overdue=len(due_from_records(records, today=today, within_days=0)),
        holders=frozenset(int(r[0]) for r in records),
    )
