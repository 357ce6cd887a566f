"""The frame adapter: residents, villages and facilities → a :class:`SitingProblem`.

Demand: the residents eligible for the facility type who travel (bedridden
residents are served at home), at their household point or else their
village's point, snapped to the type's road network; residents on the same
node and in the same town form one demand point. Sites: the type's existing
facilities (open, with their capacities; optionally upgradable) and the
candidates: village committee points by default, or a user's list
(:func:`planner.ingest.candidates.read_candidates`). A resident, candidate or
facility farther than ``[network] snap_max_m`` from the network
(:mod:`planner.coverage.offnetwork`) is off the network: such demand is not
coverable, such candidates are left out, such facilities serve nobody; the
left-out candidates are reported under ``off_network``.

Costs and places come from the type's ``[facility_types.<type>] siting`` table,
the per-town rule from ``[siting] one_per_town`` unless the options say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.graph import RoadNetwork
from geo.traveltime import od_matrix
from planner.coverage.offnetwork import point_entries, snap_to_network
from planner.domain.eligibility import eligibility_table
from planner.errors import SitingError
from planner.settings import Config, FacilityTypeConfig
from planner.siting.options import SitingOptions
from planner.siting.problem import SiteGroup, SitingProblem
from planner.units import SECONDS_PER_MINUTE

__all__ = [
    "CANDIDATE_FRAME_COLUMNS",
    "BuiltProblem",
    "Sites",
    "demand_points",
    "problem_from_frames",
    "site_table",
]

#: Columns of a candidates frame (:func:`planner.ingest.candidates.read_candidates`).
CANDIDATE_FRAME_COLUMNS = ("name", "village_code", "lon", "lat", "build_cost", "capacity")


@dataclass(frozen=True)
class Sites:
    """All sites of a problem: existing facilities by code, then candidates by
    village code, name and point (so the index order, the last tie-break of
    :mod:`planner.siting.figures`, is that of the codes, whatever the input order).

    ``frame`` columns: ``site`` (index in the problem), ``kind``
    (``existing``/``candidate``), ``facility_id`` (existing only), ``code``
    (the facility's code, or the candidate's village code), ``name``,
    ``village_code``, ``village_name``, ``town_code``, ``town_name``, ``lon``,
    ``lat`` (WGS-84), ``node``, ``capacity`` (places; inf: no limit),
    ``build_cost`` and ``upgrade_cost`` (yuan; NaN: not applicable),
    ``upgrade_capacity`` (places), ``on_network`` (within ``snap_max_m``;
    an existing facility off the network is kept but reaches nobody).
    ``off_network``: the candidates left out because they lie off the network.
    """

    frame: pd.DataFrame
    off_network: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class BuiltProblem:
    """A siting problem with the frames it was built from.

    Attributes
    ----------
    problem
        The arrays to solve.
    sites
        Its sites, in the problem's index order.
    demand
        Its demand points: ``node, town_code, persons``, in index order.
    """

    problem: SitingProblem
    sites: Sites
    demand: pd.DataFrame


def _existing_sites(
    facilities: gpd.GeoDataFrame, *, type_key: str, ft: FacilityTypeConfig
) -> pd.DataFrame:
    costs = ft.siting
    fac = facilities[(facilities["type"] == type_key) & facilities["lon"].notna()]
    cap = fac["capacity"].astype(float).fillna(np.inf).to_numpy()
    if not ft.capacity_binding:
        cap = np.full(len(fac), np.inf)
    return pd.DataFrame(
        {
            "kind": "existing",
            "facility_id": fac["id"].to_numpy(),
            "code": fac["key"].to_numpy(),
            "name": fac["name"].to_numpy(),
            "village_code": fac["village_code"].to_numpy(),
            "lon": fac["lon"].to_numpy(float),
            "lat": fac["lat"].to_numpy(float),
            "capacity": cap,
            "build_cost": np.nan,
            "upgrade_cost": np.nan if costs.upgrade_cost is None else costs.upgrade_cost,
            "upgrade_capacity": float(costs.upgrade_capacity),
        }
    )


def _candidate_sites(
    villages: gpd.GeoDataFrame,
    *,
    hosted: set[str],
    ft: FacilityTypeConfig,
    candidates: pd.DataFrame | None,
    exclude: tuple[str, ...],
) -> pd.DataFrame:
    """The candidates with their costs and places: the user's, or every village
    committee point without a facility of the type (``hosted``)."""
    costs = ft.siting
    new_cap = np.inf if costs.capacity is None or not ft.capacity_binding else costs.capacity
    if candidates is None:
        v = villages[villages["lon"].notna() & ~villages["code"].isin(hosted)]
        cand = pd.DataFrame(
            {
                "name": (v["town_name"] + v["name"] + "（新建）").to_numpy(),
                "village_code": v["code"].to_numpy(),
                "lon": v["lon"].to_numpy(float),
                "lat": v["lat"].to_numpy(float),
                "build_cost": costs.build_cost,
                "capacity": new_cap,
            }
        )
    else:
        cand = candidates.copy()
        cand["build_cost"] = cand["build_cost"].astype(float).fillna(costs.build_cost)
        cand["capacity"] = cand["capacity"].astype(float).fillna(new_cap)
        if not ft.capacity_binding:
            cand["capacity"] = np.inf
    if exclude:
        drop = cand["village_code"].isin(exclude) | cand["name"].isin(exclude)
        cand = cand[~drop]
    return cand.assign(
        kind="candidate",
        facility_id=None,
        code=cand["village_code"],
        upgrade_cost=np.nan,
        upgrade_capacity=0.0,
    )


def site_table(
    *,
    type_key: str,
    config: Config,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    candidates: pd.DataFrame | None,
    exclude: tuple[str, ...],
    network: RoadNetwork,
) -> Sites:
    """The sites of one facility type: its facilities, then the candidates, snapped.

    ``candidates``: ``name, village_code, lon, lat, build_cost, capacity`` (as
    :func:`planner.ingest.candidates.read_candidates` gives them; missing cost
    and capacity take the type's), or ``None`` for the village committee points.
    """
    ft = config.facility_types[type_key]
    vinfo = villages.set_index("code")
    existing = _existing_sites(facilities, type_key=type_key, ft=ft)
    hosted = set(existing["village_code"].dropna())
    cand = _candidate_sites(villages, hosted=hosted, ft=ft, candidates=candidates, exclude=exclude)
    # the stable order of the sites (the last tie-break): existing facilities by
    # code, then candidates by village code, name and point
    frame = (
        pd.concat([existing, cand], ignore_index=True)
        .assign(_first=lambda f: f["kind"] != "existing")
        .sort_values(["_first", "code", "name", "lon", "lat"], na_position="last", kind="stable")
        .drop(columns="_first")
        .reset_index(drop=True)
    )
    frame["village_name"] = frame["village_code"].map(vinfo["name"])
    frame["town_code"] = frame["village_code"].map(vinfo["town_code"])
    frame["town_name"] = frame["village_code"].map(vinfo["town_name"])
    snap = snap_to_network(
        network,
        frame["lon"].to_numpy(float),
        frame["lat"].to_numpy(float),
        max_m=config.network.snap_max_m,
    )
    # an off-network candidate is left out (reported); an existing facility stays
    # (it exists) but reaches nobody
    is_cand = (frame["kind"] == "candidate").to_numpy()
    dropped = is_cand & ~snap.usable
    off = point_entries(
        "candidate",
        replace(snap, off_network=snap.off_network & is_cand),
        keys=frame["village_code"].to_list(),
        names=frame["name"].to_list(),
    )
    frame["node"] = snap.nearest
    frame["on_network"] = snap.usable
    frame = frame[~dropped].reset_index(drop=True)
    frame.insert(0, "site", np.arange(len(frame)))
    return Sites(frame=frame, off_network=tuple(off))


def demand_points(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    *,
    type_key: str,
    config: Config,
    network: RoadNetwork,
    today: date,
) -> pd.DataFrame:
    """Travelling eligible residents per (network node, town): ``node, town_code, persons``.

    Residents without a point of their own stand at their village's point;
    those off the network (or without any point) are not coverable: left out.
    """
    vp = villages.set_index("code")[["lon", "lat"]]
    frame = residents[residents["village_code"].notna()]
    elig = eligibility_table(frame, config, today=today)[type_key]
    people = frame[elig.to_numpy() & ~frame["bedridden"].fillna(False).astype(bool).to_numpy()]
    own = people["lon"].notna() & people["lat"].notna()
    lon = people["lon"].where(own, people["village_code"].map(vp["lon"])).to_numpy(float)
    lat = people["lat"].where(own, people["village_code"].map(vp["lat"])).to_numpy(float)
    snap = snap_to_network(network, lon, lat, max_m=config.network.snap_max_m)
    ok = snap.usable
    return (
        pd.DataFrame({"node": snap.node[ok], "town_code": people["town_code"].to_numpy()[ok]})
        .groupby(["node", "town_code"], sort=True)
        .size()
        .rename("persons")
        .reset_index()
    )


def _town_groups(villages: gpd.GeoDataFrame, sf: pd.DataFrame) -> tuple[SiteGroup, ...]:
    """At least one site in every town (existing ones count)."""
    towns = villages.drop_duplicates("town_code")[["town_code", "town_name"]].sort_values(
        "town_code"
    )
    return tuple(
        SiteGroup(
            name=str(t.town_name),
            sites=np.flatnonzero((sf["town_code"] == t.town_code).to_numpy()),
            minimum=1,
        )
        for t in towns.itertuples()
    )


def _upgrades(
    sf: pd.DataFrame, *, existing: NDArray[np.bool_], ft: FacilityTypeConfig, type_key: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Upgrade cost (NaN: not upgradable) and places of each site."""
    if ft.siting.upgrade_cost is None:
        raise SitingError(
            f"{ft.label}没有配置升级费用：在配置的 [facility_types.{type_key}] 中设置 "
            "siting.upgrade_cost 和 upgrade_capacity"
        )
    cost = np.where(existing, sf["upgrade_cost"].to_numpy(float), np.nan)
    return cost, sf["upgrade_capacity"].to_numpy(float)


def problem_from_frames(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    config: Config,
    options: SitingOptions,
    network: RoadNetwork,
    today: date,
    candidates: pd.DataFrame | None = None,
) -> BuiltProblem:
    """The siting problem of ``options.facility_type`` from frames.

    Parameters
    ----------
    residents, villages, facilities
        As :mod:`planner.store.frames` gives them.
    config
        Thresholds, costs and places (``[facility_types.<type>]``), the per-town
        rule and p-median settings (``[siting]``), ``[network] snap_max_m``.
    options
        What is asked (objective, limits, upgrades, exclusions, rules).
    network
        The road network of the type's travel mode.
    today
        Reference day for ages.
    candidates
        The user's candidate sites (see :func:`site_table`), or ``None``.

    Raises
    ------
    SitingError
        For an unknown type, a type sited by village (not by travel), or upgrades
        asked of a type without upgrade costs.
    """
    type_key = options.facility_type
    ft = options.type_config(config)
    if ft.catchment != "travel":
        raise SitingError(f"{ft.label}按村社认定，不做选址；请用 coverplan retrofit 查看候选村社")
    demand = demand_points(
        residents, villages, type_key=type_key, config=config, network=network, today=today
    )
    sites = site_table(
        type_key=type_key,
        config=config,
        facilities=facilities,
        villages=villages,
        candidates=candidates,
        exclude=options.exclude,
        network=network,
    )
    sf = sites.frame
    factor = config.siting.pmedian_cutoff_factor if options.objective == "pmedian" else 1.0
    limit_s = ft.threshold_min * factor * SECONDS_PER_MINUTE
    # residents travel to the site, as in the coverage engine
    od = od_matrix(network, demand["node"].to_numpy(), sf["node"].to_numpy(), limit_s=limit_s)
    reach = sf["on_network"].to_numpy(bool)[od.cols]
    existing = (sf["kind"] == "existing").to_numpy()
    capacitated = options.capacitated
    if capacitated is None:
        capacitated = ft.capacity_binding and bool(np.isfinite(sf["capacity"]).any())
    up_cost, up_cap = (
        _upgrades(sf, existing=existing, ft=ft, type_key=type_key)
        if options.upgrade
        else (None, None)
    )
    problem = SitingProblem(
        objective=options.objective,
        demand=demand["persons"].to_numpy(float),
        pair_demand=od.rows[reach],
        pair_site=od.cols[reach],
        pair_minutes=od.seconds[reach] / SECONDS_PER_MINUTE,
        existing=existing,
        site_cost=np.where(existing, 0.0, sf["build_cost"].to_numpy(float)),
        site_capacity=sf["capacity"].to_numpy(float),
        threshold_min=ft.threshold_min,
        capacitated=capacitated,
        max_new=options.new,
        budget=options.budget,
        upgrade_cost=up_cost,
        upgrade_capacity=up_cap,
        max_upgrades=options.max_upgrades,
        groups=_town_groups(villages, sf) if options.town_rule_for(config) else (),
        target=options.target,
        unserved_minutes=config.siting.unserved_minutes,
    )
    return BuiltProblem(problem=problem, sites=sites, demand=demand)
