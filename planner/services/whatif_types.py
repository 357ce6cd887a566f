"""The typed inputs and results of the leader's what-if (:mod:`planner.services.whatif`).

Counts are persons and raw (the web layer suppresses small counts for leaders);
percentages are percent with two decimals; costs yuan; points WGS-84 lon/lat.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from planner.errors import InputError
from planner.jsonable import to_jsonable

__all__ = [
    "ACTIONS",
    "Candidate",
    "Change",
    "IndicatorRow",
    "SiteRow",
    "Suggestion",
    "VillageRow",
    "WhatIfFigures",
    "WhatIfOptions",
    "WhatIfTotals",
]

Action = Literal["add", "remove", "upgrade"]
ACTIONS: tuple[Action, ...] = ("add", "remove", "upgrade")
ACTIONS_ZH = {"add": "新增", "remove": "关闭", "upgrade": "扩容"}


@dataclass(frozen=True)
class WhatIfOptions:
    """What the what-if is about.

    Attributes
    ----------
    type_key
        The facility type (``[facility_types.<key>]``), a travel catchment.
    scenario
        A saved siting scenario of that type to start from (its new sites,
        upgrades, closures and relocations applied to the base); None: the
        facilities as stored.
    today
        Reference day for ages (eligibility); None: today.
    candidates_file
        Extra candidate points (CSV/XLSX as for ``coverplan site --candidates``),
        besides every village committee point without a facility of the type.
    """

    type_key: str
    scenario: str | None = None
    today: date | None = None
    candidates_file: Path | None = None


@dataclass(frozen=True)
class Change:
    """One click of the leader.

    Attributes
    ----------
    action
        ``add`` (open a candidate, or re-open a closed facility), ``remove``
        (close a site) or ``upgrade`` (more places at an open site).
    site
        The candidate's code (the village code, or ``P<n>`` for a point of the
        candidates file) or the facility's code.
    places
        ``add``: places of the new site (None: ``[facility_types.<type>.siting]
        capacity``; a re-opened facility keeps its own); ``upgrade``: the site's
        new number of places (None: its places plus ``upgrade_capacity``);
        ``remove``: ignored.
    """

    action: Action
    site: str
    places: int | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise InputError(
                f"未知的操作「{self.action}」：只能是 add（新增）、remove（关闭）或 upgrade（扩容）"
            )
        if not isinstance(self.site, str) or not self.site.strip():
            raise InputError("请给出站点编号（候选点的村社代码或设施编号）")
        if self.places is not None:
            if isinstance(self.places, bool) or not isinstance(self.places, int):
                raise InputError(f"名额必须是整数（人），收到「{self.places}」")
            if self.places < 1:
                raise InputError(f"名额至少为 1 人，收到 {self.places}；关闭站点请用 remove")

    def to_json(self) -> dict[str, Any]:
        """``action, site, places``."""
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    """A site the leader can click: an existing facility or a candidate point.

    Attributes
    ----------
    code, name
        Code to use in a :class:`Change`, and the Chinese name.
    lon, lat
        WGS-84 degrees.
    kind
        ``facility`` (existing), ``village`` (a village committee point) or
        ``point`` (from the candidates file).
    status
        ``existing`` (an open facility), ``open`` (a candidate opened in this
        what-if) or ``closed`` (a candidate not opened, or a facility closed).
    village_code, town_code, town_name
        Where it is.
    places
        Its places now (None: no limit).
    """

    code: str
    name: str
    lon: float
    lat: float
    kind: Literal["facility", "village", "point"]
    status: Literal["existing", "open", "closed"]
    village_code: str | None
    town_code: str | None
    town_name: str | None
    places: int | None


@dataclass(frozen=True)
class WhatIfTotals:
    """District totals of the type (persons, percent).

    ``coverage_pct`` = in_reach / travellers × 100, ``capacity_pct`` =
    within_capacity / travellers × 100, travellers = eligible − home_service
    (None without travellers).
    """

    eligible: int
    home_service: int
    in_reach: int
    within_capacity: int
    coverage_pct: float | None
    capacity_pct: float | None
    sites: int
    places: float


@dataclass(frozen=True)
class IndicatorRow:
    """An indicator the what-if moves, at the start and now.

    ``unit`` is ``%`` or ``家``; ``target`` the plan's wording (``≥90%``; "" for
    none); ``met_*`` None without a target or a value.
    """

    key: str
    name: str
    unit: str
    target: str
    before: float | None
    after: float | None
    met_before: bool | None
    met_after: bool | None


@dataclass(frozen=True)
class VillageRow:
    """Eligible persons of one village split by what the open sites give them.

    ``eligible`` = ``served`` + ``in_reach_no_place`` + ``out_of_reach`` +
    ``home_service``; out of reach includes persons off the network or without a point.
    """

    code: str
    name: str
    town: str
    eligible: int
    home_service: int
    served: int
    in_reach_no_place: int
    out_of_reach: int


@dataclass(frozen=True)
class SiteRow:
    """One site of the what-if map (existing facilities and opened candidates).

    Attributes
    ----------
    places
        Places (None: no limit).
    demand
        Travellers whose nearest open site it is (0 when closed).
    in_reach
        Travellers within the threshold of it, whatever other sites.
    assigned
        Persons given a place there by the nearest-first rule.
    status
        ``shortage`` (demand > places), ``full`` (every place given), ``spare``,
        or ``closed``.
    """

    code: str
    name: str
    lon: float
    lat: float
    places: int | None
    demand: int
    in_reach: int
    assigned: int
    status: Literal["shortage", "full", "spare", "closed"]
    is_new: bool
    is_closed: bool
    town_code: str | None


@dataclass(frozen=True)
class WhatIfFigures:
    """The figures after the changes applied so far.

    Attributes
    ----------
    type_key, label
        The facility type.
    before, totals
        District totals at the start and now.
    indicators
        Indicators of the type at the start and now (coverage %, within-capacity
        %, for homes 残疾人之家覆盖率 in both readings and a home in every town).
    villages
        Per village (code order).
    sites
        Existing facilities (open or closed, by code), then opened candidates (by code).
    changes
        The changes applied, in order.
    cost
        Build and upgrade cost of the changes, yuan (upgrades of a type without
        ``upgrade_cost`` count 0).
    server_ms
        Milliseconds of the last apply / undo / evaluation.
    """

    type_key: str
    label: str
    before: WhatIfTotals
    totals: WhatIfTotals
    indicators: tuple[IndicatorRow, ...]
    villages: tuple[VillageRow, ...]
    sites: tuple[SiteRow, ...]
    changes: tuple[Change, ...]
    cost: float
    server_ms: float

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON (unlimited places as null)."""
        out = asdict(self)
        out["before"]["places"] = _places(self.before.places)
        out["totals"]["places"] = _places(self.totals.places)
        return to_jsonable(out)


def _places(value: float) -> float | None:
    return None if math.isinf(value) else value


@dataclass(frozen=True)
class Suggestion:
    """A scored next decision.

    Attributes
    ----------
    change
        The change to apply.
    name
        The site's name.
    gain_within_capacity, gain_in_reach
        Persons gained within capacity, and newly within reach.
    minutes_change
        Change of the total minutes of the persons in reach to their nearest
        open site.
    cost
        Yuan (None: no cost configured).
    """

    change: Change
    name: str
    gain_within_capacity: int
    gain_in_reach: int
    minutes_change: float
    cost: float | None
