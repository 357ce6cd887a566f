"""Which town a person (a resident or a lead) belongs to.

The data version of a store, which outreach caches are keyed by, is
:meth:`planner.store.core.Store.data_version` (one mechanism for the HTTP
caches and the month plans).
"""

from __future__ import annotations

from planner.store import schema as t
from planner.store.core import Store

__all__ = ["person_town"]


def person_town(store: Store, *, resident_id: int | None, lead_id: int | None) -> str | None:
    """The town code of a resident or a lead (None: no such person, or no town)."""
    with store.read() as s:
        if resident_id is not None:
            r = s.get(t.Resident, resident_id)
            return None if r is None else r.town_code
        if lead_id is not None:
            lead = s.get(t.Lead, lead_id)
            return None if lead is None else lead.town_code
    return None
