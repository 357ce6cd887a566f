"""Coverage: who is within reach of which facility type, with capacities.

For every facility type in the configuration: which residents are eligible
(:mod:`planner.domain.eligibility`), the travel minutes to the nearest facility of that
type on the type's road network (from the household's own point when it has
one, else from its village's point), whether that is within the type's
threshold, and who gets the facilities' places when they do not suffice for
everyone within reach (the nearest-first rule, :mod:`planner.coverage.nearest_first`).
Residents who cannot travel (``bedridden``) need home services and are never
counted as covered by a facility. Villages get the E2SFCA accessibility index
(:func:`planner.coverage.accessibility.e2sfca`). Only residents assigned to a village are
counted (those awaiting village review are reported apart), so per-village sums
equal the totals.

Points are snapped to the network with the limit ``[network] snap_max_m``
(:mod:`planner.coverage.offnetwork`): a resident whose point (own, else the village's)
is farther than that from the network is not covered, with the reason
``off_network``, whatever facility sits next to the node it would snap to; a
resident whose village has no point and no polygon is ``not_located``; an
off-network facility serves nobody. All of them are listed under
``off_network`` / ``not_located``. So ``uncovered`` = ``off_network`` +
``not_located`` + those beyond the threshold.

``coverage_pct`` is covered / (eligible − home_service) × 100: the share of those
who can travel.

:func:`coverage_from_frames` is the one entry point: frames in (as
:mod:`planner.store.frames` returns them), a :class:`CoverageResult` out. The
per-type core is in :mod:`planner.coverage.reach`, the tables in
:mod:`planner.coverage.aggregate`, the result types in :mod:`planner.coverage.result`,
the 十四五 indicators in :mod:`planner.domain.indicators`.
:func:`planner.services.coverage.coverage` reads the frames from the store.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.graph import RoadNetwork
from geo.traveltime import service_area
from planner.coverage.aggregate import (
    facility_loads,
    not_located_entries,
    off_network_entries,
    town_table,
    village_table,
)
from planner.coverage.reach import Located, Snapped, locate, snap_all, type_reach
from planner.coverage.result import VILLAGE_FIELDS, CoverageResult, TypeCoverage
from planner.domain.devices import DeviceCounts
from planner.domain.eligibility import eligibility_table
from planner.domain.indicators import (
    HOME_TYPE,
    HomeReach,
    Indicator,
    IndicatorInputs,
    IndicatorTable,
    indicators,
)
from planner.errors import ConfigError
from planner.settings import Config

__all__ = [
    "HOME_TYPE",
    "ISOCHRONE_BUFFER_M",
    "VILLAGE_FIELDS",
    "CoverageResult",
    "DeviceCounts",
    "Indicator",
    "TypeCoverage",
    "check_types",
    "coverage_from_frames",
]

#: Metres around the reachable road edges drawn as a service area.
ISOCHRONE_BUFFER_M = 150.0
WGS84 = "EPSG:4326"


def check_types(config: Config, types: Iterable[str] | None) -> list[str]:
    """The facility types to compute (default: all configured), in order.

    Raises
    ------
    ConfigError
        For a type the configuration does not define.
    """
    keys = list(types) if types is not None else list(config.facility_types)
    unknown = [k for k in keys if k not in config.facility_types]
    if unknown:
        raise ConfigError(
            f"未知的设施类型：{'、'.join(unknown)}；可用：{'、'.join(config.facility_types)}"
        )
    return keys


@dataclass
class _Run:
    """What the per-type loop accumulates."""

    types: dict[str, TypeCoverage] = field(default_factory=dict)
    rows: list[pd.DataFrame] = field(default_factory=list)
    loads: list[pd.Series] = field(default_factory=list)
    access: dict[str, pd.Series] = field(default_factory=dict)
    areas: list[gpd.GeoDataFrame] = field(default_factory=list)
    snapped: dict[str, Snapped] = field(default_factory=dict)


def _totals(
    key: str, config: Config, rows: pd.DataFrame, facs: pd.DataFrame, *, skipped: int = 0
) -> TypeCoverage:
    ft = config.facility_types[key]
    cap = facs["capacity"].astype(float).fillna(np.inf).sum() if len(facs) else 0.0
    return TypeCoverage(
        type=key,
        label=ft.label,
        mode=ft.mode,
        catchment=ft.catchment,
        threshold_min=ft.threshold_min,
        facilities=len(facs),
        capacity=float(cap),
        eligible=len(rows),
        home_service=int(rows["home_service"].sum()),
        covered=int(rows["covered"].sum()),
        covered_within_capacity=int(rows["within_capacity"].sum()),
        off_network=int(rows["off_network"].sum()),
        not_located=int(rows["not_located"].sum()),
        nearest_first_skipped=skipped,
    )


def _service_area(
    key: str, config: Config, run: _Run, facs: pd.DataFrame, net: RoadNetwork | None
) -> gpd.GeoDataFrame | None:
    """The type's service area from its on-network facilities (None: nothing to draw)."""
    ft = config.facility_types[key]
    pts = facs[facs["lon"].notna()]
    if ft.catchment != "travel" or net is None or not len(pts):
        return None
    nodes = run.snapped[ft.mode].facility_nodes(pts["id"].to_numpy(np.int64))
    nodes = nodes[nodes >= 0]
    if not nodes.size:
        return None
    area = service_area(net, nodes, minutes=[ft.threshold_min], buffer_m=ISOCHRONE_BUFFER_M)
    return area.assign(type=key, label=ft.label)


def _run_types(
    keys: list[str],
    *,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    located: Located,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    today: date,
    isochrones: bool,
) -> _Run:
    """Each type's coverage, snapping each mode's points once."""
    elig = eligibility_table(located.frame, config, today=today)
    run = _Run()
    for key in keys:
        ft = config.facility_types[key]
        net = networks.get(ft.mode)
        if ft.catchment == "travel":
            if net is None:
                raise ConfigError(f"设施类型 {ft.label} 需要 {ft.mode} 道路网络")
            if ft.mode not in run.snapped:
                run.snapped[ft.mode] = snap_all(
                    net, located, villages, facilities, max_m=config.network.snap_max_m
                )
        reach = type_reach(
            key,
            config=config,
            located=located,
            elig=elig[key],
            facilities=facilities,
            villages=villages,
            snapped=run.snapped.get(ft.mode),
        )
        run.rows.append(reach.rows)
        run.loads.append(reach.load)
        run.access[key] = reach.access
        facs = facilities[facilities["type"] == key]
        run.types[key] = _totals(key, config, reach.rows, facs, skipped=reach.skipped)
        area = _service_area(key, config, run, facs, net) if isochrones else None
        if area is not None:
            run.areas.append(area)
    return run


def _isochrone_frame(areas: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    if areas:
        return gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=WGS84)
    return gpd.GeoDataFrame({"type": [], "label": [], "minutes": []}, geometry=[], crs=WGS84)


def _indicator_table(
    run: _Run,
    *,
    located: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    towns: pd.DataFrame,
    config: Config,
    today: date,
    devices: DeviceCounts | None,
) -> IndicatorTable:
    """The plan's indicator table, with the home reach of this run (if homes were run)."""
    home = run.types.get(HOME_TYPE)
    return indicators(
        IndicatorInputs(
            residents=located,
            towns=IndicatorInputs.towns_of(villages),
            facilities=facilities,
            today=today,
            home=None
            if home is None
            else HomeReach(home.threshold_min, towns[towns["type"] == HOME_TYPE]),
            devices=devices,
        ),
        config=config,
    )


def coverage_from_frames(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    types: Iterable[str] | None = None,
    today: date,
    isochrones: bool = True,
    devices: DeviceCounts | None = None,
) -> CoverageResult:
    """Coverage of ``types`` (default: all configured) for the residents given.

    Parameters
    ----------
    residents
        As :func:`planner.store.frames.residents_frame` (index: resident id;
        ``lon``/``lat`` the household's own WGS-84 point, NaN when absent;
        ``tie_key``, the ID number's rank, orders residents on equal minutes in
        the capacity split: without it, the resident id does).
    villages
        As :func:`planner.store.frames.villages_frame` (``lon``/``lat``: the
        point to route from, NaN when the village is not located).
    facilities
        As :func:`planner.store.frames.facilities_frame`.
    config
        Facility types (eligibility, threshold minutes, mode, catchment),
        ``[network] snap_max_m`` (metres), indicator targets.
    networks
        Road network per travel mode used by the types (``drive``, ``walk``, …).
    types
        Facility type keys, in the order reported.
    today
        Reference day for ages and device dates.
    isochrones
        Also compute service-area polygons per type (for maps).
    devices
        Current and overdue devices and their holders (for the device
        indicator; None: 无数据).

    Raises
    ------
    ConfigError
        For an unknown type or a missing network.
    """
    started = time.perf_counter()
    keys = check_types(config, types)
    located = locate(residents, villages)
    run = _run_types(
        keys,
        config=config,
        networks=networks,
        located=located,
        villages=villages,
        facilities=facilities,
        today=today,
        isochrones=isochrones,
    )
    per_resident = pd.concat(run.rows, ignore_index=True) if run.rows else pd.DataFrame()
    vtab = village_table(per_resident, villages=villages, keys=keys, access=run.access)
    ttab = town_table(vtab, facilities=facilities)
    table = _indicator_table(
        run,
        located=located.frame,
        villages=villages,
        facilities=facilities,
        towns=ttab,
        config=config,
        today=today,
        devices=devices,
    )
    return CoverageResult(
        today=today,
        types=tuple(run.types[k] for k in keys),
        residents=per_resident,
        villages=vtab,
        towns=ttab,
        facilities=facility_loads(
            facilities, keys=keys, loads=run.loads, config=config, per_resident=per_resident
        ),
        indicators=table.indicators,
        policy_checks=table.policy_checks,
        isochrones=_isochrone_frame(run.areas),
        awaiting_review=int(residents["village_code"].isna().sum()),
        seconds=time.perf_counter() - started,
        networks={m: n.source for m, n in networks.items()},
        off_network=off_network_entries(
            run.snapped,
            per_resident,
            villages=villages,
            facilities=facilities,
            config=config,
            keys=keys,
        ),
        not_located=not_located_entries(per_resident, villages=villages),
        snap_max_m=config.network.snap_max_m,
        village_geometry=villages,
    )
