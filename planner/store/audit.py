"""The access audit: one append-only row per person-level read or export.

The database refuses UPDATE and DELETE of ``audit_log`` (triggers of migration
0005), so the application can only add rows. Rows hold who (``subject``,
``role``), when (``at``, UTC), what (``action``, ``target``, ``count`` persons)
and why (``purpose``); never an ID number, name or phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from planner.store import schema as t
from planner.store.core import Store

__all__ = ["AuditRow", "audit_count", "audit_rows", "record_access"]

#: ``audit_log.entity`` of a person-level access row.
ACCESS_ENTITY = "person"


@dataclass(frozen=True)
class AuditRow:
    """One access row (``at`` naive UTC)."""

    id: int
    at: datetime
    subject: str
    role: str
    action: str
    target: str
    purpose: str
    count: int

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds") + "Z",
            "subject": self.subject,
            "role": self.role,
            "action": self.action,
            "target": self.target,
            "purpose": self.purpose,
            "count": self.count,
        }


def record_access(
    store: Store,
    *,
    subject: str,
    role: str,
    action: str,
    target: str,
    purpose: str,
    count: int,
) -> None:
    """Append one access row in its own write transaction.

    Parameters
    ----------
    subject
        Username, or ``key:<prefix>`` for an API key.
    role
        The role of the subject (``admin``, ``outreach``, …).
    action
        What was done (``read``, ``export``).
    target
        What was read, e.g. ``residents?village=330213001212`` or ``resident/12``.
    purpose
        Why, as the caller declared it.
    count
        Persons returned.
    """
    with store.write() as s:
        s.add(
            t.AuditLog(
                at=datetime.now(UTC).replace(tzinfo=None),
                actor=subject[:64],
                action=action[:32],
                entity=ACCESS_ENTITY,
                detail={},
                subject=subject,
                role=role,
                target=target,
                purpose=purpose,
                count=int(count),
            )
        )


def audit_count(store: Store) -> int:
    """How many access rows there are."""
    with store.read() as s:
        n = s.scalar(
            select(func.count()).select_from(t.AuditLog).where(t.AuditLog.entity == ACCESS_ENTITY)
        )
    return int(n or 0)


def audit_rows(store: Store, *, limit: int, offset: int = 0) -> list[AuditRow]:
    """The latest ``limit`` access rows after skipping the ``offset`` newest, newest first."""
    with store.read() as s:
        rows = s.scalars(
            select(t.AuditLog)
            .where(t.AuditLog.entity == ACCESS_ENTITY)
            .order_by(t.AuditLog.id.desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return [
        AuditRow(
            id=r.id,
            at=r.at,
            subject=r.subject or r.actor,
            role=r.role or "",
            action=r.action,
            target=r.target or "",
            purpose=r.purpose or "",
            count=r.count or 0,
        )
        for r in rows
    ]
