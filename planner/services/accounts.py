"""Accounts, API keys, logins and tokens (application layer of ``coverplan users``,
``coverplan keys`` and the HTTP API).

- Passwords: Argon2 (pwdlib). Tests install a cheap hasher with
  :func:`use_password_hasher`; the product never does.
- Lockout: ``[auth] lockout_attempts`` failed logins in a row lock the account for
  ``lockout_minutes`` minutes; the counters live in the store, so a restart does
  not reset them.
- Tokens: HS256 JWTs signed with ``COVERPLAN_SECRET`` (``algorithms`` pinned;
  ``exp``, ``iat`` and ``sub`` required), valid ``[auth] token_minutes`` minutes.
  The principal is re-read from the store on every request: a disabled account's
  tokens stop working at once.
- API keys: ``cp_<prefix>_<secret>`` with 32 random bytes, shown once; the store
  keeps the prefix and the SHA-256 of the whole key, compared in constant time.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from planner.domain.access import SCOPES, Principal, Role
from planner.errors import AccountError, AuthenticationError
from planner.settings import Config
from planner.store import accounts as db
from planner.store.core import Store

__all__ = [
    "BAD_CREDENTIALS",
    "NewKey",
    "Token",
    "UserOptions",
    "add_key",
    "add_user",
    "authenticate",
    "disable_user",
    "issue_token",
    "list_keys",
    "list_users",
    "principal_from_key",
    "principal_from_token",
    "revoke_key",
    "use_password_hasher",
]

ALGORITHM = "HS256"
#: Random bytes of an API key (its secret part).
KEY_BYTES = 32
#: Hex characters of a key's public prefix.
PREFIX_CHARS = 8
KEY_PATTERN = re.compile(r"^cp_([0-9a-f]{8})_([A-Za-z0-9_-]{20,})$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")

#: The one message for every failed login: unknown user, wrong password, locked or
#: disabled account look the same to the caller.
BAD_CREDENTIALS = "用户名或密码错误，或账户已被锁定/停用；请核对后重试，或请管理员解锁"
BAD_TOKEN = "凭据无效或已过期；请重新登录获取令牌（POST /api/v1/auth/token）或检查 X-API-Key"

_hasher = PasswordHash((Argon2Hasher(),))


def use_password_hasher(hasher: PasswordHash) -> None:
    """Install the password hasher (tests: a cheap Argon2; the product never calls this)."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = None


_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    """A hash to verify against for an unknown user (same time as a real one)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True, kw_only=True)
class UserOptions:
    """A new account (``coverplan users add``).

    Attributes
    ----------
    username
        Letters, digits, ``_ . -``; 2–64 characters.
    password
        At least ``[auth] password_min_length`` characters.
    role
        ``admin``, ``planner``, ``leader`` or ``outreach`` (``integration`` is a key).
    team
        Outreach: a team key of ``[outreach.teams]`` (required for outreach).
    towns
        Outreach: 9-digit town codes of the store (required for outreach).
    """

    username: str
    password: str
    role: str
    team: str | None = None
    towns: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserInfo:
    """An account as listed (never its hash)."""

    username: str
    role: str
    team: str | None
    towns: tuple[str, ...]
    disabled: bool
    locked_until: datetime | None
    created_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "team": self.team,
            "towns": list(self.towns),
            "disabled": self.disabled,
            "locked_until": None if self.locked_until is None else self.locked_until.isoformat(),
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


@dataclass(frozen=True)
class KeyInfo:
    """An API key as listed (never the key)."""

    prefix: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "prefix": self.prefix,
            "name": self.name,
            "scopes": list(self.scopes),
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


@dataclass(frozen=True)
class NewKey:
    """A key just made: ``key`` is shown this once and never stored."""

    key: str
    info: KeyInfo

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, **self.info.to_json()}


@dataclass(frozen=True)
class Token:
    """An access token (``expires_in`` in seconds)."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


def _info(r: db.UserRecord) -> UserInfo:
    return UserInfo(r.username, r.role, r.team, r.towns, r.disabled, r.locked_until, r.created_at)


def _key_info(r: db.KeyRecord) -> KeyInfo:
    return KeyInfo(r.prefix, r.name, r.scopes, r.created_at, r.revoked_at)


def add_user(store: Store, *, config: Config, options: UserOptions) -> UserInfo:
    """Add an account.

    Raises
    ------
    AccountError
        Bad username, short password, unknown role, team or town, outreach without
        a team or towns, or a username that exists.
    """
    o = options
    if not USERNAME_PATTERN.match(o.username):
        raise AccountError(
            f"用户名「{o.username}」无效；只能用字母、数字、下划线、点和减号，2–64 个字符"
        )
    roles = [r.value for r in Role if r is not Role.INTEGRATION]
    if o.role not in roles:
        raise AccountError(
            f"角色「{o.role}」无效；可选：{'、'.join(roles)}（系统调用请用 coverplan keys add）"
        )
    need = config.auth.password_min_length
    if len(o.password) < need:
        raise AccountError(f"密码太短：至少 {need} 个字符（配置 [auth] password_min_length）")
    team: str | None = o.team
    towns = tuple(dict.fromkeys(o.towns))
    if o.role == Role.OUTREACH:
        if not team or team not in config.outreach.teams:
            known = "、".join(config.outreach.teams) or "（无）"
            raise AccountError(
                f"入户服务队「{team or ''}」不在配置 [outreach.teams] 中；"
                f"外联账户需 --team，可选：{known}"
            )
        if not towns:
            raise AccountError("外联账户需 --towns：所负责镇街的 9 位代码，逗号分隔")
        known_towns = {town.code for town in store.gazetteer().towns}
        unknown = [c for c in towns if c not in known_towns]
        if unknown:
            raise AccountError(
                f"镇街代码 {'、'.join(unknown)} 不在本库的行政区划中；"
                "请用 coverplan status 查看镇街代码"
            )
    elif team or towns:
        raise AccountError("只有外联（outreach）账户绑定 --team 与 --towns")
    now = _now()
    if not db.insert_user(
        store,
        username=o.username,
        password_hash=_hasher.hash(o.password),
        role=o.role,
        team=team,
        towns=towns,
        now=now,
    ):
        raise AccountError(f"用户「{o.username}」已存在；停用请用 coverplan users disable")
    found = db.find_user(store, o.username)
    assert found is not None
    return _info(found)


def list_users(store: Store) -> list[UserInfo]:
    """Every account, by username (never a hash)."""
    return [_info(r) for r in db.user_records(store)]


def disable_user(store: Store, username: str) -> None:
    """Disable an account: it can no longer log in, its tokens stop working.

    Raises
    ------
    AccountError
        When there is no such account.
    """
    if not db.set_disabled(store, username, disabled=True):
        raise AccountError(f"没有用户「{username}」；用 coverplan users list 查看")


def add_key(store: Store, *, name: str, scopes: tuple[str, ...], key: str | None = None) -> NewKey:
    """Make an API key with ``scopes`` (shown once: only its prefix and SHA-256 are kept).

    ``key``: a given key (``cp_<8 hex>_<secret>``) instead of a random one, for the
    demo's documented key only.

    Raises
    ------
    AccountError
        Empty name, no scope or an unknown scope; a given key that is malformed or
        whose prefix exists.
    """
    if not name.strip():
        raise AccountError("密钥名称不能为空（如调用方系统的名称）")
    scopes = tuple(dict.fromkeys(scopes))
    bad = [s for s in scopes if s not in SCOPES]
    if not scopes or bad:
        raise AccountError(
            f"权限范围 {'、'.join(bad) or '（空）'} 无效；--scopes 可选：{'、'.join(SCOPES)}"
        )
    if key is not None:
        match = KEY_PATTERN.match(key)
        if match is None or db.find_key(store, match.group(1)) is not None:
            raise AccountError("给定的密钥格式不对（cp_8位十六进制_随机串）或其前缀已存在")
        prefix = match.group(1)
    else:
        prefix = secrets.token_hex(PREFIX_CHARS // 2)
        while db.find_key(store, prefix) is not None:
            prefix = secrets.token_hex(PREFIX_CHARS // 2)
        key = f"cp_{prefix}_{secrets.token_urlsafe(KEY_BYTES)}"
    now = _now()
    db.insert_key(store, prefix=prefix, key_hash=_sha256(key), name=name, scopes=scopes, now=now)
    return NewKey(key=key, info=KeyInfo(prefix, name, scopes, now, None))


def list_keys(store: Store) -> list[KeyInfo]:
    """Every API key (never the key itself)."""
    return [_key_info(r) for r in db.key_records(store)]


def revoke_key(store: Store, prefix: str) -> None:
    """Revoke the key with ``prefix`` (it stops working at once).

    Raises
    ------
    AccountError
        When there is no such (unrevoked) key.
    """
    if not db.revoke_key(store, prefix, now=_now()):
        raise AccountError(f"没有未吊销的密钥「{prefix}」；用 coverplan keys list 查看前缀")


def _sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _principal(r: db.UserRecord) -> Principal:
    return Principal(subject=r.username, role=Role(r.role), team=r.team, towns=frozenset(r.towns))


def principal_of(store: Store, username: str) -> Principal | None:
    """The principal of an account as stored now (None: gone, disabled or locked)."""
    record = db.find_user(store, username)
    if record is None or record.disabled:
        return None
    if record.locked_until is not None and record.locked_until > _now():
        return None
    return _principal(record)


def authenticate(store: Store, *, config: Config, username: str, password: str) -> Principal:
    """Check a login; count failures and lock the account after too many.

    Raises
    ------
    AuthenticationError
        With :data:`BAD_CREDENTIALS` for an unknown user, a wrong password, a locked
        or disabled account alike.
    """
    record = db.find_user(store, username)
    if record is None:
        _hasher.verify(password, _dummy_hash())
        raise AuthenticationError(BAD_CREDENTIALS)
    now = _now()
    if record.locked_until is not None and record.locked_until > now:
        raise AuthenticationError(BAD_CREDENTIALS)
    if not _hasher.verify(password, record.password_hash):
        db.login_failed(
            store,
            username,
            attempts=config.auth.lockout_attempts,
            lock_until=now + timedelta(minutes=config.auth.lockout_minutes),
        )
        raise AuthenticationError(BAD_CREDENTIALS)
    if record.disabled:
        raise AuthenticationError(BAD_CREDENTIALS)
    db.login_succeeded(store, username)
    return _principal(record)


def issue_token(principal: Principal, *, config: Config, secret: str) -> Token:
    """A signed HS256 token for ``principal`` (``sub``, ``role``, ``iat``, ``exp``)."""
    now = datetime.now(UTC)
    seconds = int(config.auth.token_minutes * 60)
    claims = {
        "sub": principal.subject,
        "role": principal.role.value,
        "iat": now,
        "exp": now + timedelta(seconds=seconds),
    }
    return Token(access_token=jwt.encode(claims, secret, algorithm=ALGORITHM), expires_in=seconds)


def principal_from_token(store: Store, token: str, *, secret: str) -> Principal:
    """The principal of a bearer token, re-read from the store.

    Raises
    ------
    AuthenticationError
        A forged, expired, malformed or ``alg=none`` token, or an account that is
        gone, disabled or locked.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        raise AuthenticationError(BAD_TOKEN) from None
    subject = claims.get("sub")
    record = db.find_user(store, subject) if isinstance(subject, str) else None
    if record is None or record.disabled:
        raise AuthenticationError(BAD_TOKEN)
    if record.locked_until is not None and record.locked_until > _now():
        raise AuthenticationError(BAD_TOKEN)
    return _principal(record)


def principal_from_key(store: Store, key: str) -> Principal:
    """The principal (role ``integration``) of an API key.

    Raises
    ------
    AuthenticationError
        A malformed, unknown or revoked key.
    """
    match = KEY_PATTERN.match(key)
    record = db.find_key(store, match.group(1)) if match else None
    expected = record.key_hash if record is not None else _sha256("")
    if not secrets.compare_digest(_sha256(key), expected) or record is None:
        raise AuthenticationError(BAD_TOKEN)
    if record.revoked_at is not None:
        raise AuthenticationError(BAD_TOKEN)
    return Principal(
        subject=f"key:{record.prefix}", role=Role.INTEGRATION, scopes=frozenset(record.scopes)
    )
