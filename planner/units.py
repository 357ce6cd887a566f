"""Units, tolerances and the enumerations of statuses, named once.

Use these instead of literals: ``minutes = seconds / SECONDS_PER_MINUTE``,
``abs(a - b) <= FLOAT_TOL``, ``LeadStatus.VISITED``. Enumerations are ``StrEnum``:
their members compare equal to the strings stored in the database and written
in JSON, so existing data and outputs keep their values.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DAYS_PER_YEAR",
    "FLOAT_TOL",
    "METRES_PER_KM",
    "MINUTES_PER_HOUR",
    "MONTHS_PER_YEAR",
    "PERCENT",
    "SECONDS_PER_MINUTE",
    "LeadStatus",
    "VisitOutcome",
]

SECONDS_PER_MINUTE = 60.0
MINUTES_PER_HOUR = 60.0
METRES_PER_KM = 1000.0
DAYS_PER_YEAR = 365.25
MONTHS_PER_YEAR = 12
PERCENT = 100.0
#: Absolute tolerance when comparing computed floats (minutes, persons, yuan).
FLOAT_TOL = 1e-9


class LeadStatus(StrEnum):
    """Where a suspected unregistered person (线索) stands, in this order."""

    OPEN = "open"  # reported, not yet seen by a team
    VISITED = "visited"  # a team met the person (or was refused)
    REGISTERED = "registered"  # certified (办证)


class VisitOutcome(StrEnum):
    """The outcome of a home visit, as recorded on the route sheet."""

    DONE = "done"  # 完成
    NOT_HOME = "not_home"  # 不在家
    REFUSED = "refused"  # 拒绝
    MOVED = "moved"  # 迁出
    DECEASED = "deceased"  # 死亡
