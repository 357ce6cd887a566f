"""Who may see what: roles, the principal of a request, small-count suppression.

Roles (issue 13): ``admin`` (everything, full records), ``planner`` and ``leader``
(aggregates per village only, small counts suppressed), ``outreach`` (persons of
its team's towns, ID numbers masked) and ``integration`` (a system calling with an
API key; persons only with the scope ``read:persons``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

import pandas as pd

__all__ = [
    "PERSON_SCOPE",
    "SCOPES",
    "Principal",
    "Role",
    "suppress_small",
]

#: The scope an integration key needs to read person-level records.
PERSON_SCOPE = "read:persons"
#: Every scope an API key can carry.
SCOPES = ("read:aggregates", PERSON_SCOPE, "read:facilities", "write:facilities")


class Role(StrEnum):
    """The role of an account (or ``integration`` for an API key)."""

    ADMIN = "admin"
    PLANNER = "planner"
    LEADER = "leader"
    OUTREACH = "outreach"
    INTEGRATION = "integration"


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    Attributes
    ----------
    subject
        The username, or ``key:<prefix>`` for an API key.
    role
        Its role.
    team
        Outreach: the team key of ``[outreach.teams]`` (e.g. ``A``).
    towns
        Outreach: the 9-digit codes of the towns whose persons it may see.
    scopes
        Integration keys: the scopes granted (e.g. ``read:persons``).
    """

    subject: str
    role: Role
    team: str | None = None
    towns: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def sees_persons(self) -> bool:
        """Whether person-level records are allowed (admin, outreach, integration
        with ``read:persons``)."""
        if self.role in (Role.ADMIN, Role.OUTREACH):
            return True
        return self.role is Role.INTEGRATION and PERSON_SCOPE in self.scopes

    @property
    def full_records(self) -> bool:
        """Whether ID numbers and phones are shown unmasked (admin only)."""
        return self.role is Role.ADMIN

    def may_see_town(self, town_code: str | None) -> bool:
        """Whether a person of ``town_code`` is within this principal's scope."""
        if self.role is Role.OUTREACH:
            return town_code is not None and town_code in self.towns
        return self.sees_persons


def suppress_small(frame: pd.DataFrame, columns: Iterable[str], *, min_count: int) -> pd.DataFrame:
    """A copy of ``frame`` whose counts 1..``min_count``-1 in ``columns`` are ``None``.

    Zero stays zero (nobody can be singled out from an empty cell); the columns
    become ``object`` dtype so that ``None`` survives JSON output.

    Parameters
    ----------
    frame
        Counts per row (e.g. per village).
    columns
        The count columns to suppress.
    min_count
        ``[privacy] min_count``: the least count shown (persons).
    """
    out = frame.copy()
    for col in columns:
        values = out[col].astype(object)
        small = values.map(lambda v: v is not None and not pd.isna(v) and 0 < int(v) < min_count)
        out[col] = values.where(~small.astype(bool), None)
    return out
