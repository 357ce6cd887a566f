"""The data version of a store: a short text that changes whenever its data does.

Results that take long to compute (the month's outreach plan) are kept per data
version: every write of the application (an import batch, a visit, a facility, a
scenario, a reset, a correction) adds a row to ``audit_log``, and the ``meta`` table
holds the district's facts and the registered road network. The version is a hash
of the last such audit row, the meta table and the network file's size and time.
Person-level reads (audit rows of entity ``person``) do not change it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import func, select

from planner.store import schema as t
from planner.store.audit import ACCESS_ENTITY
from planner.store.core import Store

__all__ = ["data_version", "person_town"]

#: ``meta`` key of the registered road network file (``planner.networks.NETWORK_META_KEY``).
NETWORK_META_KEY = "network_file"


def data_version(store: Store) -> str:
    """A hex digest that changes whenever the store's data (or its network file) does."""
    with store.read() as s:
        last, writes = s.execute(
            select(func.max(t.AuditLog.id), func.count(t.AuditLog.id)).where(
                t.AuditLog.entity != ACCESS_ENTITY
            )
        ).one()
        meta = {r.key: r.value for r in s.scalars(select(t.Meta))}
    network = meta.get(NETWORK_META_KEY)
    stat: list[int] = []
    if network:
        try:
            st = Path(network).stat()
            stat = [st.st_size, st.st_mtime_ns]
        except OSError:
            stat = [-1]
    text = json.dumps([last, writes, sorted(meta.items()), stat], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


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
