"""The state of a month's home visits while they are planned, and their labels.

:class:`HomeVisits` holds the inputs, the routing matrix (location 0 the office
or the service point, :data:`SERVICE_POINT` the service point, visits from
:data:`FIRST_HOUSEHOLD` on), why visits cannot be routed and where the planned
ones went. The helpers here name what a plan shows: the person of a visit,
masked by ``[privacy]``, the labels of its services and of the teams able to
make it, the routing label of a visit, and clock times (``HH:MM`` ↔ seconds
since midnight). Filled and used by :mod:`planner.outreach.home_visits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo.graph import RoadNetwork
from planner.domain.privacy import mask_id, mask_phone
from planner.outreach.plan import Person, Place, ServicePoint
from planner.settings import Config
from planner.units import SECONDS_PER_MINUTE

__all__ = ["FIRST_HOUSEHOLD", "OFFICE", "SERVICE_POINT", "HomeVisits", "visit_label"]

SECONDS_PER_HOUR = 3600
OFFICE, SERVICE_POINT = 0, 1  # locations of the routing matrix; households from 2 on
FIRST_HOUSEHOLD = 2


def _clock(text: str) -> int:
    h, m = text.split(":")
    return int(h) * SECONDS_PER_HOUR + int(m) * int(SECONDS_PER_MINUTE)


def _hhmm(seconds: int) -> str:
    return f"{seconds // SECONDS_PER_HOUR:02d}:{seconds % SECONDS_PER_HOUR // 60:02d}"


@dataclass
class HomeVisits:
    """The month's home visits being planned: inputs, the routing matrix, the reasons
    why visits cannot be routed (visit index → Chinese reason, and its code), and
    where the planned ones went (visit index → team, day, arrival ``HH:MM``).

    ``hh`` holds the visits: a household's row of
    :func:`planner.outreach.needs.person_needs`, or one per team for a split
    household (:func:`planner.outreach.skills.split_visits`, columns ``part``
    and ``parts``).
    """

    config: Config
    vf: pd.DataFrame  # villages by code
    people: pd.DataFrame  # residents (personal) by id
    contacts: pd.DataFrame  # leads by id
    hh: list[dict[str, Any]]  # households needing a home visit
    sp: ServicePoint
    base: Place | ServicePoint  # where the teams start and end (location 0)
    begin: int  # location the morning starts from and the afternoon ends at
    duration: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    skip_reason: dict[int, str] = field(default_factory=dict)
    network: RoadNetwork | None = None  # the drive network (leg kilometres)
    nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # node per location
    leg_m: dict[tuple[int, int], float] = field(default_factory=dict)  # cache of leg metres
    skip_code: dict[int, str] = field(default_factory=dict)
    placed: dict[int, tuple[str, date, str]] = field(default_factory=dict)


def visit_label(key: str, services: Sequence[str]) -> str:
    """The routing stop label of a visit: household key (``R<resident id>`` or
    ``L<lead id>``), a colon, its service keys joined by ``+``."""
    return f"{key}:{'+'.join(services)}"


def _who(m: HomeVisits, r: dict[str, Any]) -> Person:
    """The person of household record ``r``, masked by ``[privacy]``."""
    pv = m.config.privacy
    if pd.notna(r["resident_id"]):
        rid = int(r["resident_id"])
        p: dict[Any, Any] = m.people.loc[rid].to_dict()
        return Person(
            resident_id=rid,
            lead_id=None,
            name=p["name"],
            masked_id=mask_id(p["id_number"], privacy=pv),
            masked_phone=mask_phone(p["phone"], privacy=pv),
            address=p["address"] or "",
        )
    lid = int(r["lead_id"])
    lead: dict[str, Any] = (
        m.contacts.loc[lid].to_dict() if lid in m.contacts.index else {}  # type: ignore[assignment]
    )
    return Person(
        resident_id=None,
        lead_id=lid,
        name=lead.get("name") or "",
        masked_id="",
        masked_phone=mask_phone(lead.get("phone"), privacy=pv),
        address=lead.get("address") or "",
    )


def _labels(m: HomeVisits, services: Sequence[str]) -> tuple[str, ...]:
    return tuple(m.config.outreach.services[s].label for s in services)


def _team_names(m: HomeVisits, skills: frozenset[str]) -> str:
    """The labels of the teams having ``skills`` (empty when none has)."""
    teams = m.config.outreach.teams
    able = [tm.label or k for k, tm in teams.items() if skills <= frozenset(tm.skills)]
    return "、".join(able)
