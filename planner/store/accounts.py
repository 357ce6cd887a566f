"""Accounts and API keys in the store (SQL only; the rules live in
:mod:`planner.services.accounts`).

Times are naive UTC. Password hashes are Argon2 strings made by the service
layer; API keys are kept as their public prefix and the SHA-256 of the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from planner.store import schema as t
from planner.store.core import Store

__all__ = [
    "KeyRecord",
    "UserRecord",
    "find_key",
    "find_user",
    "insert_key",
    "insert_user",
    "key_records",
    "login_failed",
    "login_succeeded",
    "revoke_key",
    "set_disabled",
    "set_password_hash",
    "user_records",
]


@dataclass(frozen=True)
class UserRecord:
    """A ``users`` row."""

    username: str
    password_hash: str
    role: str
    team: str | None
    towns: tuple[str, ...]
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class KeyRecord:
    """An ``api_keys`` row."""

    prefix: str
    key_hash: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def _user(r: t.User) -> UserRecord:
    return UserRecord(
        username=r.username,
        password_hash=r.password_hash,
        role=r.role,
        team=r.team,
        towns=tuple(r.towns or ()),
        disabled=bool(r.disabled),
        failed_logins=int(r.failed_logins or 0),
        locked_until=r.locked_until,
        created_at=r.created_at,
    )


def _key(r: t.ApiKey) -> KeyRecord:
    return KeyRecord(
        prefix=r.prefix,
        key_hash=r.key_hash,
        name=r.name,
        scopes=tuple(r.scopes or ()),
        created_at=r.created_at,
        revoked_at=r.revoked_at,
    )


def find_user(store: Store, username: str) -> UserRecord | None:
    """The account ``username``, or None."""
    with store.read() as s:
        row = s.scalar(select(t.User).where(t.User.username == username))
        return None if row is None else _user(row)


def user_records(store: Store) -> list[UserRecord]:
    """Every account, by username."""
    with store.read() as s:
        return [_user(r) for r in s.scalars(select(t.User).order_by(t.User.username))]


def insert_user(
    store: Store,
    *,
    username: str,
    password_hash: str,
    role: str,
    team: str | None,
    towns: tuple[str, ...],
    now: datetime,
) -> bool:
    """Add an account; False (nothing written) when ``username`` exists."""
    with store.write() as s:
        if s.scalar(select(t.User.id).where(t.User.username == username)) is not None:
            return False
        s.add(
            t.User(
                username=username,
                password_hash=password_hash,
                role=role,
                team=team,
                towns=list(towns),
                disabled=False,
                failed_logins=0,
                locked_until=None,
                created_at=now,
            )
        )
    return True


def set_password_hash(store: Store, username: str, password_hash: str) -> bool:
    """Replace the password hash (and clear the lockout); False when no such account."""
    with store.write() as s:
        row = s.scalar(select(t.User).where(t.User.username == username))
        if row is None:
            return False
        row.password_hash = password_hash
        row.failed_logins = 0
        row.locked_until = None
    return True


def set_disabled(store: Store, username: str, *, disabled: bool) -> bool:
    """Disable (or enable) an account; False when no such account."""
    with store.write() as s:
        row = s.scalar(select(t.User).where(t.User.username == username))
        if row is None:
            return False
        row.disabled = disabled
    return True


def login_failed(
    store: Store, username: str, *, attempts: int, lock_until: datetime
) -> UserRecord | None:
    """Count one failed login; at ``attempts`` failures in a row lock the account
    until ``lock_until`` and start counting again. None when no such account."""
    with store.write() as s:
        row = s.scalar(select(t.User).where(t.User.username == username))
        if row is None:
            return None
        row.failed_logins = int(row.failed_logins or 0) + 1
        if row.failed_logins >= attempts:
            row.locked_until = lock_until
            row.failed_logins = 0
        return _user(row)


def login_succeeded(store: Store, username: str) -> None:
    """Reset the failure counter after a good password."""
    with store.write() as s:
        row = s.scalar(select(t.User).where(t.User.username == username))
        if row is not None and (row.failed_logins or row.locked_until is not None):
            row.failed_logins = 0
            row.locked_until = None


def insert_key(
    store: Store,
    *,
    prefix: str,
    key_hash: str,
    name: str,
    scopes: tuple[str, ...],
    now: datetime,
) -> None:
    """Add an API key (its prefix and SHA-256 only)."""
    with store.write() as s:
        s.add(
            t.ApiKey(
                prefix=prefix,
                key_hash=key_hash,
                name=name,
                scopes=list(scopes),
                created_at=now,
                revoked_at=None,
            )
        )


def find_key(store: Store, prefix: str) -> KeyRecord | None:
    """The key with ``prefix``, or None."""
    with store.read() as s:
        row = s.scalar(select(t.ApiKey).where(t.ApiKey.prefix == prefix))
        return None if row is None else _key(row)


def key_records(store: Store) -> list[KeyRecord]:
    """Every key, oldest first."""
    with store.read() as s:
        return [_key(r) for r in s.scalars(select(t.ApiKey).order_by(t.ApiKey.id))]


def revoke_key(store: Store, prefix: str, *, now: datetime) -> bool:
    """Mark the key revoked; False when no such key (or revoked already)."""
    with store.write() as s:
        row = s.scalar(select(t.ApiKey).where(t.ApiKey.prefix == prefix))
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
    return True
