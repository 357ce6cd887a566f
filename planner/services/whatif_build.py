"""Building a what-if session from the store: persons, sites and OD pairs, once.

The persons, their points, eligibility, the snap to the network and the tie keys
are those of the coverage engine (:mod:`planner.coverage.reach`), so that a
what-if equals ``coverplan coverage`` on the same open set. Sites are the
type's facilities with a point (an off-network one is a site that reaches
nobody), then the candidates as ``coverplan site`` takes them: every village
committee point on the network without a facility of the type, and the points
of a candidates file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.graph import RoadNetwork
from geo.traveltime import od_matrix
from planner.coverage.offnetwork import snap_to_network
from planner.coverage.reach import facility_rank, locate, person_key, snap_all
from planner.coverage.whatif import WhatIfArrays
from planner.domain.eligibility import eligibility_table
from planner.settings import Config
from planner.siting.after import NEW_ID_BASE
from planner.units import SECONDS_PER_MINUTE

__all__ = ["Built", "build_arrays"]


@dataclass(frozen=True)
class Built:
    """The static arrays and the frames they index.

    ``sites``: one row per site (index = site index): ``code, key, id, name, kind
    (facility|village|point), village_code, town_code, town_name, lon, lat, node,
    places (inf: no limit), existing, build_cost``. ``villages``: ``code, name,
    town_code, town_name`` (index = village index). ``pinned_towns``: towns with a
    facility of the type that is not a site (no point).
    """

    arrays: WhatIfArrays
    sites: pd.DataFrame
    villages: pd.DataFrame
    pinned_towns: frozenset[str]
    pinned_count: int


def _places(values: pd.Series) -> np.ndarray:
    return values.astype(float).fillna(np.inf).to_numpy()


def _site_frame(
    type_key: str,
    *,
    config: Config,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    candidates: pd.DataFrame | None,
    network: RoadNetwork,
) -> pd.DataFrame:
    """Existing facilities (code order), then villages and file points (on the network)."""
    ft = config.facility_types[type_key]
    new_places = float(ft.siting.capacity) if ft.siting.capacity is not None else math.inf
    facs = facilities[(facilities["type"] == type_key) & facilities["lon"].notna()]
    facs = facs.sort_values(["key", "id"], key=lambda c: c.astype(str) if c.name == "key" else c)
    vinfo = villages.set_index("code")
    existing = pd.DataFrame(
        {
            "code": facs["key"].astype(str).to_numpy(),
            "key": facs["key"].astype(str).to_numpy(),
            "id": facs["id"].to_numpy(np.int64),
            "name": facs["name"].to_numpy(),
            "kind": "facility",
            "village_code": facs["village_code"].to_numpy(),
            "town_code": facs["town_code"].to_numpy(),
            "lon": facs["lon"].to_numpy(float),
            "lat": facs["lat"].to_numpy(float),
            "places": _places(facs["capacity"]),
            "existing": True,
            "build_cost": np.nan,
        }
    )
    hosted = set(facs["village_code"].dropna())
    v = villages[villages["lon"].notna() & ~villages["code"].isin(hosted)].sort_values("code")
    vill = pd.DataFrame(
        {
            "code": v["code"].astype(str).to_numpy(),
            "name": (v["town_name"] + v["name"] + "（新建）").to_numpy(),
            "kind": "village",
            "village_code": v["code"].to_numpy(),
            "town_code": v["town_code"].to_numpy(),
            "lon": v["lon"].to_numpy(float),
            "lat": v["lat"].to_numpy(float),
            "places": new_places,
            "build_cost": ft.siting.build_cost,
        }
    )
    parts = [existing, vill]
    if candidates is not None and len(candidates):
        c = candidates.reset_index(drop=True)
        parts.append(
            pd.DataFrame(
                {
                    "code": [f"P{k + 1}" for k in range(len(c))],
                    "name": c["name"].to_numpy(),
                    "kind": "point",
                    "village_code": c["village_code"].to_numpy(),
                    "town_code": c["village_code"].map(vinfo["town_code"]).to_numpy(),
                    "lon": c["lon"].to_numpy(float),
                    "lat": c["lat"].to_numpy(float),
                    "places": c["capacity"].astype(float).fillna(new_places).to_numpy(),
                    "build_cost": c["build_cost"].astype(float).fillna(ft.siting.build_cost),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    new = frame["existing"].isna()
    frame["existing"] = ~new
    frame.loc[new, "key"] = frame.loc[new, "code"]
    frame.loc[new, "id"] = NEW_ID_BASE + np.flatnonzero(new.to_numpy())
    frame["id"] = frame["id"].astype(np.int64)
    frame["town_name"] = frame["town_code"].map(
        villages.drop_duplicates("town_code").set_index("town_code")["town_name"]
    )
    if not ft.capacity_binding:
        frame["places"] = math.inf
    snap = snap_to_network(
        network,
        frame["lon"].to_numpy(float),
        frame["lat"].to_numpy(float),
        max_m=config.network.snap_max_m,
    )
    frame["node"] = snap.node
    # an off-network candidate is left out; an off-network facility stays (reaches nobody)
    return frame[frame["existing"] | (snap.node >= 0)].reset_index(drop=True)


def build_arrays(
    type_key: str,
    *,
    config: Config,
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: RoadNetwork,
    today: date,
    candidates: pd.DataFrame | None = None,
) -> Built:
    """The what-if arrays of ``type_key`` (one cut-off OD computation).

    Parameters
    ----------
    type_key
        A facility type with a travel catchment.
    config
        Its threshold (minutes), eligibility, ``capacity_binding`` and siting
        places/costs; ``[network] snap_max_m`` (metres).
    residents, villages, facilities
        As :mod:`planner.store.frames` gives them.
    network
        The type's road network.
    today
        Reference day for ages.
    candidates
        Extra candidate points (:func:`planner.ingest.candidates.read_candidates`).
    """
    ft = config.facility_types[type_key]
    located = locate(residents, villages)
    elig = eligibility_table(located.frame, config, today=today)[type_key]
    snapped = snap_all(network, located, villages, facilities, max_m=config.network.snap_max_m)
    mask = elig.reindex(located.frame.index, fill_value=False).to_numpy()
    people = located.frame[mask]
    home = people["bedridden"].fillna(False).astype(bool).to_numpy()
    nodes = snapped.resident.node[mask]
    travel = (nodes >= 0) & ~home
    group_nodes, inverse = np.unique(nodes[travel], return_inverse=True)
    group = np.full(len(people), -1, dtype=np.int64)
    group[travel] = inverse
    sites = _site_frame(
        type_key,
        config=config,
        facilities=facilities,
        villages=villages,
        candidates=candidates,
        network=network,
    )
    on = np.flatnonzero(sites["node"].to_numpy() >= 0)
    od = od_matrix(
        network,
        group_nodes,
        sites["node"].to_numpy()[on],
        limit_s=ft.threshold_min * SECONDS_PER_MINUTE,
    )
    vframe = villages[["code", "name", "town_code", "town_name"]].reset_index(drop=True)
    vpos = pd.Series(np.arange(len(vframe)), index=vframe["code"])
    facs = facilities[facilities["type"] == type_key]
    pinned = facs[facs["lon"].isna()]
    arrays = WhatIfArrays(
        person_village=vpos.reindex(people["village_code"]).to_numpy(np.int64),
        person_group=group,
        person_key=person_key(people),
        home_service=home,
        n_villages=len(vframe),
        pair_group=od.rows.astype(np.int64),
        pair_site=on[od.cols].astype(np.int64),
        pair_minutes=od.seconds / SECONDS_PER_MINUTE,
        site_rank=facility_rank(sites[["key", "id"]]),
        places=sites["places"].to_numpy(float),
        is_open=sites["existing"].to_numpy(bool),
        binding=ft.capacity_binding,
    )
    return Built(
        arrays=arrays,
        sites=sites,
        villages=vframe,
        pinned_towns=frozenset(pinned["town_code"].dropna().astype(str)),
        pinned_count=len(pinned),
    )
