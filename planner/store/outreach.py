"""What the monthly outreach reads from the store, as frames.

The queries carry rules of the outreach, kept here in one place:

- a lead (疑似未登记线索) still needs a visit while its status is ``open`` or
  ``visited`` (:data:`LEADS_TO_VISIT`); a ``registered`` lead does not;
- only visits recorded by an outreach team (``team`` set) count as the village's
  last outreach, not a town officer's routine home visit;
- a device is due when the latest device of its type for its owner has reached
  its service life and was not replaced (:func:`planner.domain.devices.due_in_frame`).

The analysis (:mod:`planner.outreach`) takes these frames in and never queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import select

from planner.domain.devices import due_in_frame
from planner.store import schema as t
from planner.store.core import Store
from planner.store.frames import devices_frame
from planner.units import LeadStatus

__all__ = [
    "DUE_DEVICE_COLUMNS",
    "LEADS_TO_VISIT",
    "devices_due",
    "lead_contacts",
    "leads_to_visit",
    "recorded_points",
    "team_visits",
]

LEADS_TO_VISIT: tuple[LeadStatus, ...] = (LeadStatus.OPEN, LeadStatus.VISITED)
"""Lead statuses that still call for a certification visit."""

DUE_DEVICE_COLUMNS = ("resident_id", "device_type", "issued_on", "due_on")


def leads_to_visit(store: Store, *, villages: Sequence[str] | None = None) -> pd.DataFrame:
    """Leads still to certify (status in :data:`LEADS_TO_VISIT`), in id order.

    Parameters
    ----------
    store
        The store.
    villages
        Only the leads of these village codes (default: every lead, those
        without a village included).

    Returns
    -------
    pandas.DataFrame
        ``id`` (int), ``village_code`` (str or None).
    """
    q = select(t.Lead.id, t.Lead.village_code)
    if villages is not None:
        q = q.where(t.Lead.village_code.in_(list(villages)))
    q = q.where(t.Lead.status.in_([s.value for s in LEADS_TO_VISIT])).order_by(t.Lead.id)
    with store.read() as s:
        rows = s.execute(q).all()
    return pd.DataFrame(
        {
            "id": pd.Series([int(r[0]) for r in rows], dtype="int64"),
            "village_code": pd.Series([r[1] for r in rows], dtype=object),
        }
    )


def lead_contacts(store: Store, *, villages: Sequence[str]) -> pd.DataFrame:
    """Name, phone and address of every lead of ``villages`` (any status; personal data).

    Returns
    -------
    pandas.DataFrame
        Indexed by lead id (in id order): ``name``, ``phone``, ``address``
        (str or None).
    """
    q = (
        select(t.Lead.id, t.Lead.name, t.Lead.phone, t.Lead.address)
        .where(t.Lead.village_code.in_(list(villages)))
        .order_by(t.Lead.id)
    )
    with store.read() as s:
        rows = s.execute(q).all()
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=["id", "name", "phone", "address"], dtype=object
    )
    return frame.set_index("id")


RECORDED_COLUMNS = ("key", "lon", "lat", "recorded_on")


def recorded_points(store: Store, *, villages: Sequence[str]) -> pd.DataFrame:
    """Points the outreach teams recorded for the residents and leads of ``villages``.

    Returns
    -------
    pandas.DataFrame
        ``key`` (``R<resident id>`` or ``L<lead id>``, as the month plan keys its
        households), ``lon``, ``lat`` (WGS-84) and ``recorded_on`` (the visit
        day), residents first, each in id order.
    """
    rows: list[tuple[object, ...]] = []
    codes = list(villages)
    with store.read() as s:
        for prefix, model in (("R", t.Resident), ("L", t.Lead)):
            q = (
                select(model.id, model.recorded_lon, model.recorded_lat, model.recorded_on)
                .where(model.village_code.in_(codes), model.recorded_lon.is_not(None))
                .where(model.recorded_lat.is_not(None))
                .order_by(model.id)
            )
            rows += [(f"{prefix}{int(i)}", x, y, d) for i, x, y, d in s.execute(q)]
    return pd.DataFrame(rows, columns=list(RECORDED_COLUMNS))


def team_visits(store: Store) -> pd.DataFrame:
    """Visits recorded by an outreach team (``team`` set), in id order.

    Returns
    -------
    pandas.DataFrame
        ``village_code`` (str or None), ``visited_on`` (:class:`datetime.date`).
    """
    q = (
        select(t.Visit.village_code, t.Visit.visited_on)
        .where(t.Visit.team.is_not(None))
        .order_by(t.Visit.id)
    )
    with store.read() as s:
        rows = s.execute(q).all()
    return pd.DataFrame(
        [tuple(r) for r in rows], columns=["village_code", "visited_on"], dtype=object
    )


def devices_due(store: Store, *, by: date) -> pd.DataFrame:
    """Current devices that reach the end of their service life on or before ``by``.

    Returns
    -------
    pandas.DataFrame
        :data:`DUE_DEVICE_COLUMNS`: ``resident_id`` (int), ``device_type``,
        ``issued_on`` and ``due_on`` (:class:`datetime.date`), one row per
        resident and device type.
    """
    due = due_in_frame(devices_frame(store), today=by, within_days=0)
    return pd.DataFrame(
        [(d.resident_id, d.device_type, d.issued_on, d.due_on) for d in due],
        columns=list(DUE_DEVICE_COLUMNS),
    )
