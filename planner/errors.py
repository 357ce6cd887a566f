"""Planner-level exceptions (see :mod:`geo.errors` for the base class)."""

from __future__ import annotations

from geo.errors import CoverplanError, CRSError, GazetteerError, InputError

__all__ = [
    "AccountError",
    "AuthenticationError",
    "CRSError",
    "ConfigError",
    "ConflictError",
    "CoverplanError",
    "GazetteerError",
    "InputError",
    "NotFoundError",
    "PermissionDeniedError",
    "ScenarioError",
    "StoreBusyError",
    "StoreError",
    "TooLargeError",
]


class ConfigError(CoverplanError):
    """The settings or the TOML configuration are invalid."""


class StoreError(CoverplanError):
    """The store cannot be opened, migrated or written."""


class ScenarioError(CoverplanError):
    """A planning scenario cannot be saved, found or compared (bad name, unknown name)."""


class StoreBusyError(StoreError):
    """Another process was writing the same store (lock timeout, or a clash).

    Nothing of the failed transaction is kept; running the command again is safe.
    """

    def __init__(self, where: str) -> None:
        super().__init__(
            f"另一项导入正在写入同一数据，请稍后重试（数据库 {where} 正被另一个进程写入，"
            "等待超时或发生冲突；本次操作未保存任何内容，可直接重新运行）"
        )
        self.where = where


class SitingError(CoverplanError):
    """A siting problem is malformed or infeasible; the message says what to relax."""


class CalendarError(CoverplanError):
    """The calendar rules cannot all hold; the message says which to relax."""


class RoutingError(CoverplanError):
    """A routing problem is malformed or cannot be served; the message says what to fix."""


class NetworkCoverageError(CoverplanError):
    """A road network file covers too little of the district, or a point lies off it."""


class VisitError(InputError):
    """A visit cannot be recorded: unknown person, outcome or service, bad date."""


class InvalidIdNumber(CoverplanError):
    """An ID number that fails GB 11643; the message says why, in Chinese."""


class AccountError(CoverplanError):
    """An account or API key cannot be added, found or changed (bad role, team, town)."""


class AuthenticationError(CoverplanError):
    """No valid credentials: wrong or unknown user, locked or disabled account, bad,
    forged or expired token, unknown or revoked key (HTTP 401)."""


class PermissionDeniedError(CoverplanError):
    """The caller's role or scopes do not allow the action (HTTP 403)."""


class NotFoundError(CoverplanError):
    """No such object within the caller's scope (HTTP 404; "not yours" looks the same)."""


class TooLargeError(CoverplanError):
    """An upload or a request above a ``[server]`` limit (HTTP 413)."""


class ConflictError(CoverplanError):
    """The change clashes with what is stored, e.g. a key already taken (HTTP 409)."""


class TooManyRequestsError(CoverplanError):
    """Too many attempts in a short time (e.g. sign-ins from one address); the HTTP
    API answers 429 with ``Retry-After`` (whole seconds)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
