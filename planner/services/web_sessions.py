"""Sign-in sessions of the web UI (one function per action: open, check, close).

A browser holds a random token in an HttpOnly, SameSite=Strict cookie; the store
keeps only its SHA-256 (:mod:`planner.store.web_sessions`). Every request re-reads
the account, so a disabled or locked account is signed out at once; a session
unused for ``[auth] session_idle_minutes`` ends. Each session has a CSRF token that
the pages' forms and htmx requests send back (SameSite=Strict already keeps other
sites' requests from carrying the cookie; the token is the second lock).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from planner.domain.access import Principal
from planner.errors import AuthenticationError
from planner.services.accounts import authenticate, principal_of
from planner.settings import Config
from planner.store import web_sessions as db
from planner.store.core import Store

__all__ = ["SESSION_EXPIRED", "WebSession", "close_session", "open_session", "session_of"]

#: The token's random bytes (URL-safe base64 in the cookie).
TOKEN_BYTES = 32
#: A session's ``last_seen_at`` is written at most this often (seconds): a page and
#: its map frames do not each cost a write.
TOUCH_EVERY_S = 60
SESSION_EXPIRED = "登录已过期或已退出，请重新登录"


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser: its cookie token (only when just opened), the CSRF token
    of its forms, and who it is."""

    token: str
    csrf: str
    principal: Principal


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(store: Store, *, config: Config, username: str, password: str) -> WebSession:
    """Sign in: check the password (lockout as for the API) and open a session.

    Raises
    ------
    AuthenticationError
        Unknown user, wrong password, locked or disabled account (one message).
    """
    principal = authenticate(store, config=config, username=username, password=password)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    db.insert_session(store, id_hash=_hash(token), username=username, csrf=csrf, now=_now())
    return WebSession(token=token, csrf=csrf, principal=principal)


def session_of(store: Store, *, config: Config, token: str) -> WebSession:
    """The session of a cookie token, its account re-read from the store.

    Raises
    ------
    AuthenticationError
        No such session, idle longer than ``[auth] session_idle_minutes``, or an
        account that is gone, disabled or locked (the session is ended).
    """
    id_hash = _hash(token)
    record = db.find_session(store, id_hash)
    if record is None:
        raise AuthenticationError(SESSION_EXPIRED)
    now = _now()
    idle = timedelta(minutes=config.auth.session_idle_minutes)
    principal = principal_of(store, record.username)
    if principal is None or now - record.last_seen_at > idle:
        db.delete_session(store, id_hash)
        raise AuthenticationError(SESSION_EXPIRED)
    if (now - record.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
        db.touch_session(store, id_hash, now=now)
    return WebSession(token="", csrf=record.csrf, principal=principal)


def close_session(store: Store, *, token: str) -> None:
    """Sign out: end the session of ``token`` (nothing when there is none)."""
    db.delete_session(store, _hash(token))
