"""Rows of the web UI's sessions (``web_sessions``, migration 0007).

Only the SHA-256 of a session's cookie token is stored; the service layer
(:mod:`planner.services.web_sessions`) makes and checks the tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update

from planner.store import schema as t
from planner.store.core import Store

__all__ = [
    "SessionRecord",
    "delete_session",
    "delete_sessions_of",
    "find_session",
    "insert_session",
    "touch_session",
]


@dataclass(frozen=True)
class SessionRecord:
    """A stored session: token hash, account, CSRF token, times (naive UTC)."""

    id: str
    username: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime


def insert_session(store: Store, *, id_hash: str, username: str, csrf: str, now: datetime) -> None:
    """Store a new session."""
    with store.write() as s:
        s.add(
            t.WebSession(id=id_hash, username=username, csrf=csrf, created_at=now, last_seen_at=now)
        )


def find_session(store: Store, id_hash: str) -> SessionRecord | None:
    """The session whose token hashes to ``id_hash``, or None."""
    with store.read() as s:
        r = s.get(t.WebSession, id_hash)
        if r is None:
            return None
        return SessionRecord(r.id, r.username, r.csrf, r.created_at, r.last_seen_at)


def touch_session(store: Store, id_hash: str, *, now: datetime) -> None:
    """Mark the session used at ``now``."""
    with store.write() as s:
        s.execute(update(t.WebSession).where(t.WebSession.id == id_hash).values(last_seen_at=now))


def delete_session(store: Store, id_hash: str) -> None:
    """End one session (sign-out, or found idle)."""
    with store.write() as s:
        s.execute(delete(t.WebSession).where(t.WebSession.id == id_hash))


def delete_sessions_of(store: Store, username: str, *, idle_before: datetime | None = None) -> int:
    """End the sessions of ``username`` (only those idle since before ``idle_before``
    when given); the number ended."""
    q = delete(t.WebSession).where(t.WebSession.username == username)
    if idle_before is not None:
        q = q.where(t.WebSession.last_seen_at < idle_before)
    with store.write() as s:
        return int(s.execute(q).rowcount or 0)  # type: ignore[attr-defined]
