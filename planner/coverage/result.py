"""The typed result of a coverage run: totals per type, per-village and per-town tables.

Figures are persons unless stated. ``coverage_pct`` is covered / (eligible −
home_service) × 100: the share of those who can travel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.coverage.nearest_first import RULE_ZH
from planner.domain.indicators import Indicator
from planner.jsonable import to_jsonable
from planner.units import PERCENT

__all__ = [
    "COUNTED",
    "PCT_DECIMALS",
    "TOWN_JSON_FIELDS",
    "VILLAGE_FIELDS",
    "CoverageResult",
    "TypeCoverage",
]

PCT_DECIMALS = 2
# per (village, type) figures, in the order of CoverageResult.villages
VILLAGE_FIELDS = (
    "eligible",
    "home_service",
    "covered",
    "covered_within_capacity",
    "uncovered",
    "over_capacity",
    "coverage_pct",
    "accessibility",
    "off_network",
    "not_located",
)
# the person counts that add up from residents to villages to towns
COUNTED = (
    "eligible",
    "home_service",
    "covered",
    "covered_within_capacity",
    "off_network",
    "not_located",
)
# per (town, type) figures in the JSON document
TOWN_JSON_FIELDS = (
    "type",
    "eligible",
    "home_service",
    "covered",
    "covered_within_capacity",
    "coverage_pct",
    "off_network",
    "not_located",
)


@dataclass(frozen=True)
class TypeCoverage:
    """Totals of one facility type (persons unless stated).

    Attributes
    ----------
    type, label
        The type's key and Chinese name.
    mode, catchment
        Travel mode (``drive``, ``walk``, ``wheelchair``) and catchment
        (``travel`` within ``threshold_min``, or ``village``: own village only).
    threshold_min
        Travel-time threshold, minutes.
    facilities
        Facilities of the type.
    capacity
        Places in total; ``inf`` when some facility has no capacity.
    eligible, home_service, covered, covered_within_capacity
        Eligible persons, those on home services (bedridden), those within the
        threshold, and those a facility can take within its capacity.
    off_network
        Travellers whose point is beyond ``snap_max_m`` of the network.
    not_located
        Travellers without any point (village without point or polygon).
    nearest_first_skipped
        (person, facility) pairs the nearest-first rule passed over only to keep
        the maximum (:mod:`planner.coverage.nearest_first`); 0: giving each
        person the nearest free place, shortest trips first, gives the same split.
    """

    type: str
    label: str
    mode: str
    catchment: str
    threshold_min: float
    facilities: int
    capacity: float
    eligible: int
    home_service: int
    covered: int
    covered_within_capacity: int
    off_network: int = 0
    not_located: int = 0
    nearest_first_skipped: int = 0

    @property
    def coverage_pct(self) -> float | None:
        """Covered / travellers × 100, two decimals (None without travellers)."""
        travellers = self.eligible - self.home_service
        return round(PERCENT * self.covered / travellers, PCT_DECIMALS) if travellers else None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "label": self.label,
            "eligible": self.eligible,
            "covered": self.covered,
            "covered_within_capacity": self.covered_within_capacity,
            "coverage_pct": self.coverage_pct,
            "threshold_min": self.threshold_min,
            "mode": self.mode,
            "catchment": self.catchment,
            "home_service": self.home_service,
            "uncovered": self.eligible - self.home_service - self.covered,
            "over_capacity": self.covered - self.covered_within_capacity,
            "facilities": self.facilities,
            "capacity": None if np.isinf(self.capacity) else self.capacity,
            "off_network": self.off_network,
            "not_located": self.not_located,
            "nearest_first_skipped": self.nearest_first_skipped,
        }


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of all requested facility types.

    Attributes
    ----------
    today
        Reference day for ages and device dates.
    types
        Totals per facility type, in the order requested.
    residents
        One row per (eligible resident, type): ``resident_id, type, village_code,
        town_code, home_service, minutes, facility_id, covered, within_capacity,
        assigned_facility_id, off_network, not_located, snap_m`` (``minutes`` and
        ``facility_id``: the nearest facility, NaN/NA when none is within reach or
        for village catchments; ``assigned_facility_id``: the facility whose place
        the nearest-first rule gave, NA without one or for village catchments;
        ``off_network``/``not_located``:
        the reason a traveller is not covered; ``snap_m``: metres from the
        point to the network, NaN without a point or for village catchments).
    villages
        One row per (village, type), every pair present: ``village_code,
        village_name, town_code, town_name, type, eligible, home_service,
        covered, covered_within_capacity, uncovered, over_capacity, coverage_pct,
        accessibility, off_network, not_located`` (persons; ``coverage_pct``
        percent, NaN without travellers; ``accessibility``: E2SFCA places per
        1,000 eligible persons).
    towns
        One row per (town, type): ``town_code, town_name, type``, the person
        counts and ``uncovered, over_capacity, coverage_pct`` as for villages
        (no accessibility), plus ``has_home`` (the town has a 残疾人之家).
    facilities
        GeoDataFrame (EPSG:4326, points) of the facilities of the requested
        types: ``id, key, type, name, village_code, town_code, lon, lat,
        capacity, placed, geometry`` as stored, plus ``load`` (persons given a
        place there by the nearest-first rule), ``free`` (capacity − load, NaN
        when unlimited), ``nearest`` (covered persons whose nearest facility of
        the type it is) and ``label`` (the type's Chinese name).
    indicators
        The 十四五 plan's indicator table, its 14 rows in order
        (:mod:`planner.domain.indicators`).
    isochrones
        GeoDataFrame (EPSG:4326, polygons) of the service areas: ``minutes``
        (the type's threshold), ``type``, ``label``, ``geometry``; one row per
        type with a reachable facility (empty unless asked for).
    awaiting_review
        Residents not yet assigned to a village (not counted above).
    seconds
        Wall time of the computation, seconds.
    networks
        Travel mode → the network's source (file name and SHA-256 prefix).
    off_network
        The ``off_network`` entries (see :mod:`planner.coverage.offnetwork`): villages,
        facilities and residents (per village) beyond ``snap_max_m``, per mode.
    not_located
        Per village without a point or polygon: ``village_code, village_name,
        count`` (eligible travellers counted as not located).
    snap_max_m
        The snap limit used, metres.
    village_geometry
        GeoDataFrame (EPSG:4326) of the villages the coverage was computed on,
        as :func:`planner.store.frames.villages_frame` returns them (``code, name,
        town_code, town_name, synthetic, geometry``, …): the map layer of the
        per-village figures.
    policy_checks
        Further policy checks (a home in every town, provincial accessible
        communities, 家庭医生签约率), listed apart from the plan's table.
    """

    today: date
    types: tuple[TypeCoverage, ...]
    residents: pd.DataFrame
    villages: pd.DataFrame
    towns: pd.DataFrame
    facilities: gpd.GeoDataFrame
    indicators: tuple[Indicator, ...]
    isochrones: gpd.GeoDataFrame
    awaiting_review: int
    seconds: float
    networks: dict[str, str] = field(default_factory=dict)
    off_network: tuple[dict[str, Any], ...] = ()
    not_located: tuple[dict[str, Any], ...] = ()
    snap_max_m: float | None = None
    village_geometry: gpd.GeoDataFrame | None = None
    policy_checks: tuple[Indicator, ...] = ()

    def type(self, key: str) -> TypeCoverage:
        """The totals of type ``key``."""
        return next(t for t in self.types if t.type == key)

    def towns_json(self) -> list[dict[str, Any]]:
        """Per town (code order): ``town_code, town_name, has_home, facility_types``."""
        towns = []
        for (code, name), rows in self.towns.groupby(["town_code", "town_name"], sort=True):
            towns.append(
                {
                    "town_code": code,
                    "town_name": name,
                    "has_home": bool(rows["has_home"].iloc[0]),
                    "facility_types": [
                        {k: to_jsonable(r[k]) for k in TOWN_JSON_FIELDS} for _, r in rows.iterrows()
                    ],
                }
            )
        return towns

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "facility_types": [t.to_json() for t in self.types],
            "towns": self.towns_json(),
            "indicators": [i.to_json() for i in self.indicators],
            "policy_checks": [i.to_json() for i in self.policy_checks],
            "awaiting_review": self.awaiting_review,
            "off_network": list(self.off_network),
            "not_located": list(self.not_located),
            "snap_max_m": self.snap_max_m,
            "networks": self.networks,
            "assignment_rule": RULE_ZH,
            "seconds": round(self.seconds, 3),
        }
