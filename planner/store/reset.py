"""Removing a district's register data (people, their devices, leads and visits, facilities).

Used by the demo builder (``data.demo.build``) to replace the synthetic people when
the demo is rebuilt; the gazetteer, scenarios and import history stay.
"""

from __future__ import annotations

from sqlalchemy import delete

from planner.store import schema as t
from planner.store.core import Store, audit

# Children before parents: visits and devices refer to residents.
REGISTER_TABLES: tuple[type[t.Base], ...] = (t.Visit, t.Device, t.Lead, t.Resident, t.Facility)


def clear_registers(store: Store, *, entity: str, reason: str) -> None:
    """Delete every resident, device, lead, visit and facility, in one transaction.

    Parameters
    ----------
    store
        The store to clear.
    entity, reason
        What the audit log records: ``entity`` names what was cleared (e.g.
        ``"demo"``), ``reason`` why (e.g. ``"demo rebuilt"``).
    """
    with store.write() as s:
        for table in REGISTER_TABLES:
            s.execute(delete(table))
        audit(s, action="reset", entity=entity, detail={"reason": reason})
