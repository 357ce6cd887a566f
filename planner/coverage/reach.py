"""Who reaches a facility of one type: nearest facility, threshold, capacity, E2SFCA.

The per-type core of :func:`planner.coverage.engine.coverage_from_frames`. For one
facility type, one cut-off OD computation from the type's facilities gives the
nearest facility of every eligible resident, the candidate pairs of the capacity
split (:func:`planner.coverage.nearest_first.nearest_first`) and the village–facility
pairs of the E2SFCA index (:func:`planner.coverage.accessibility.e2sfca`).

Residents travel from their own point when they have one, else from their
village's point (:func:`locate`). Points are snapped once per travel mode with the
limit ``[network] snap_max_m`` (:func:`snap_all`); a point beyond it gets node
``-1`` and is never routed from.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geo.graph import RoadNetwork
from geo.traveltime import ODMatrix, od_matrix
from planner.coverage.accessibility import e2sfca, threshold_bands
from planner.coverage.nearest_first import nearest_first
from planner.coverage.offnetwork import PointSnap, snap_to_network
from planner.errors import ConfigError
from planner.settings import Config, FacilityTypeConfig
from planner.units import SECONDS_PER_MINUTE

#: The accessibility index is reported per this many eligible persons.
ACCESS_PER_PERSONS = 1000.0
ACCESS_DECIMALS = 3


@dataclass(frozen=True)
class Located:
    """Residents with the point they travel from.

    Attributes
    ----------
    frame
        The residents assigned to a village (index: resident id), with
        ``point_lon, point_lat``: their own point, else their village's (WGS-84;
        NaN when neither exists).
    village_points
        Village code → ``lon, lat``.
    """

    frame: pd.DataFrame
    village_points: pd.DataFrame


def locate(residents: pd.DataFrame, villages: gpd.GeoDataFrame) -> Located:
    """The residents assigned to a village, with the point each travels from."""
    vp = villages.set_index("code")[["lon", "lat"]]
    frame = residents[residents["village_code"].notna()].copy()
    own = frame["lon"].notna() & frame["lat"].notna()
    v_lon = frame["village_code"].map(vp["lon"])
    v_lat = frame["village_code"].map(vp["lat"])
    frame["point_lon"] = frame["lon"].where(own, v_lon)
    frame["point_lat"] = frame["lat"].where(own, v_lat)
    return Located(frame=frame, village_points=vp)


@dataclass(frozen=True)
class Snapped:
    """Residents, villages and facilities snapped to one mode's network (with the limit)."""

    network: RoadNetwork
    resident: PointSnap  # aligned with Located.frame
    village: PointSnap  # aligned with the villages frame
    facility: PointSnap  # aligned with the facilities frame
    facility_ids: NDArray[np.int64]

    def facility_nodes(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Network node of each facility id (-1: no point or off the network)."""
        pos = pd.Series(np.arange(self.facility_ids.size), index=self.facility_ids)
        at = pos.reindex(ids).to_numpy(np.int64)
        return np.asarray(self.facility.node[at], dtype=np.int64)


def snap_all(
    network: RoadNetwork,
    located: Located,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_m: float,
) -> Snapped:
    """Snap every distinct point once; points beyond ``max_m`` metres get node -1."""
    frame = located.frame
    return Snapped(
        network=network,
        resident=snap_to_network(
            network,
            frame["point_lon"].to_numpy(float),
            frame["point_lat"].to_numpy(float),
            max_m=max_m,
        ),
        village=snap_to_network(
            network, villages["lon"].to_numpy(float), villages["lat"].to_numpy(float), max_m=max_m
        ),
        facility=snap_to_network(
            network,
            facilities["lon"].to_numpy(float),
            facilities["lat"].to_numpy(float),
            max_m=max_m,
        ),
        facility_ids=facilities["id"].to_numpy(np.int64),
    )


def best_per_row(
    rows: NDArray[np.int64],
    seconds: NDArray[np.float64],
    n: int,
    *,
    tiebreak: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Minimum seconds per row, and the pair position where it occurs (-1: none).

    On equal seconds the pair with the smallest ``tiebreak`` wins (default: the
    first listed).
    """
    best = np.full(n, np.inf)
    where = np.full(n, -1, dtype=np.int64)
    if rows.size:
        ties = np.arange(rows.size) if tiebreak is None else tiebreak
        order = np.lexsort((ties, seconds, rows))
        first = np.ones(order.size, dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        pick = order[first]
        best[rows[pick]] = seconds[pick]
        where[rows[pick]] = pick
    return best, where


def facility_rank(facs: pd.DataFrame) -> NDArray[np.int64]:
    """Rank of each facility's code (``key``; the id without one): the tie-break
    between facilities at equal minutes, the same whatever the import order."""
    keys = (facs["key"] if "key" in facs.columns else facs["id"]).astype(str).tolist()
    ids = facs["id"].astype(np.int64).tolist()
    order = sorted(range(len(facs)), key=lambda i: (keys[i], ids[i]))
    rank = np.empty(len(facs), dtype=np.int64)
    rank[order] = np.arange(len(facs))
    return rank


def person_key(people: pd.DataFrame) -> NDArray[np.int64]:
    """The residents' tie-break key: ``tie_key`` (the ID number's rank) when the frame
    has it, else the resident id."""
    if "tie_key" in people.columns:
        return people["tie_key"].to_numpy(np.int64)
    return people.index.to_numpy(np.int64)


@dataclass(frozen=True)
class TypeReach:
    """Coverage of one facility type.

    Attributes
    ----------
    rows
        One row per eligible resident: ``resident_id, type, village_code,
        town_code, home_service, minutes, facility_id, covered, within_capacity,
        assigned_facility_id, off_network, not_located, snap_m`` (see
        :attr:`planner.coverage.result.CoverageResult.residents`).
    load
        Persons assigned per facility id.
    access
        E2SFCA index per village code (places per 1,000 eligible persons).
    skipped
        Pairs the nearest-first rule passed over only to keep the maximum.
    """

    rows: pd.DataFrame
    load: pd.Series
    access: pd.Series
    skipped: int = 0


def _base_rows(key: str, people: pd.DataFrame, home: NDArray[np.bool_]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "resident_id": people.index.to_numpy(),
            "type": key,
            "village_code": people["village_code"].to_numpy(),
            "town_code": people["town_code"].to_numpy(),
            "home_service": home,
            "minutes": np.nan,
            "facility_id": pd.array([pd.NA] * len(people), dtype="Int64"),
            "covered": False,
            "within_capacity": False,
            "assigned_facility_id": pd.array([pd.NA] * len(people), dtype="Int64"),
            "off_network": False,
            "not_located": False,
            "snap_m": np.nan,
        }
    )


def type_reach(
    key: str,
    *,
    config: Config,
    located: Located,
    elig: pd.Series,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    snapped: Snapped | None,
) -> TypeReach:
    """Per eligible resident coverage of type ``key``, per-facility load, village accessibility.

    Parameters
    ----------
    key
        The facility type (``[facility_types.<key>]``).
    config
        Its threshold (minutes), mode, catchment and whether capacity binds.
    located
        The residents and their points (:func:`locate`).
    elig
        Eligibility for this type per resident id.
    facilities, villages
        As :mod:`planner.store.frames` returns them.
    snapped
        The points snapped to the type's network (None for village catchments).

    Raises
    ------
    ConfigError
        For a travel catchment without its network.
    """
    ft = config.facility_types[key]
    mask = elig.reindex(located.frame.index, fill_value=False).to_numpy()
    people = located.frame[mask]
    home = people["bedridden"].fillna(False).astype(bool).to_numpy()
    out = _base_rows(key, people, home)
    if ft.catchment == "travel" and snapped is not None:
        # why a traveller cannot be covered, whatever the facilities
        out["off_network"] = snapped.resident.off_network[mask] & ~home
        out["not_located"] = ~snapped.resident.located[mask] & ~home
        out["snap_m"] = snapped.resident.distance_m[mask]
    facs = facilities[(facilities["type"] == key) & facilities["lon"].notna()]
    load: pd.Series = pd.Series(0, index=facs["id"].to_numpy(), dtype=np.int64)
    access: pd.Series = pd.Series(0.0, index=villages["code"].to_numpy())
    if facs.empty or people.empty:
        return TypeReach(out, load, access)
    if ft.catchment == "village":
        covered = people["village_code"].isin(set(facs["village_code"].dropna())).to_numpy() & ~home
        out["covered"] = covered
        out["within_capacity"] = covered
        return TypeReach(out, load, access)
    if snapped is None:
        raise ConfigError(f"设施类型 {ft.label} 需要 {ft.mode} 道路网络")
    return _travel_reach(
        ft,
        rows=out,
        keys=person_key(people),
        res_nodes=snapped.resident.node[mask],
        home=home,
        facs=facs,
        villages=villages,
        snapped=snapped,
        empty=TypeReach(out, load, access),
    )


@dataclass(frozen=True)
class _Trips:
    """The cut-off OD pairs from the origin nodes to the type's facilities."""

    origins: NDArray[np.int64]  # distinct origin nodes (residents' and villages'), sorted
    od: ODMatrix  # rows index origins, cols index the facilities
    minutes: NDArray[np.float64]  # od.seconds in minutes
    limit_s: float


def _travel_reach(
    ft: FacilityTypeConfig,
    *,
    rows: pd.DataFrame,
    keys: NDArray[np.int64],
    res_nodes: NDArray[np.int64],
    home: NDArray[np.bool_],
    facs: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    snapped: Snapped,
    empty: TypeReach,
) -> TypeReach:
    """:func:`type_reach` for a travel catchment (``empty``: the result when nothing is reached)."""
    # an off-network facility serves nobody
    facs = facs[snapped.facility_nodes(facs["id"].to_numpy(np.int64)) >= 0]
    if facs.empty:
        return empty
    limit = ft.threshold_min * SECONDS_PER_MINUTE
    fac_ids = facs["id"].to_numpy()
    fac_nodes = snapped.facility_nodes(fac_ids.astype(np.int64))
    v_nodes = snapped.village.node
    origins = np.unique(np.concatenate([res_nodes[res_nodes >= 0], v_nodes[v_nodes >= 0]]))
    if origins.size == 0:
        return empty
    od = od_matrix(snapped.network, origins, fac_nodes, limit_s=limit)
    trips = _Trips(origins=origins, od=od, minutes=od.seconds / SECONDS_PER_MINUTE, limit_s=limit)
    fac_rank = facility_rank(facs)
    pos = _nearest(rows, trips, res_nodes=res_nodes, home=home, fac_ids=fac_ids, fac_rank=fac_rank)
    placed = _capacity(rows, trips, ft=ft, facs=facs, pos=pos, keys=keys, fac_rank=fac_rank)
    access = _accessibility(rows, trips, ft=ft, facs=facs, villages=villages, v_nodes=v_nodes)
    return TypeReach(
        rows,
        empty.load if placed is None else placed[0],
        empty.access if access is None else access,
        0 if placed is None else placed[1],
    )


def _nearest(
    rows: pd.DataFrame,
    trips: _Trips,
    *,
    res_nodes: NDArray[np.int64],
    home: NDArray[np.bool_],
    fac_ids: NDArray[np.int64],
    fac_rank: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Fill ``minutes``, ``facility_id`` (the nearest; on equal minutes the first by
    code) and ``covered``; each resident's origin row."""
    od = trips.od
    best, where = best_per_row(od.rows, od.seconds, trips.origins.size, tiebreak=fac_rank[od.cols])
    pos = np.searchsorted(trips.origins, np.maximum(res_nodes, 0))
    secs = np.where(res_nodes >= 0, best[pos], np.inf)
    reach = np.isfinite(secs) & (secs <= trips.limit_s)
    rows["minutes"] = np.where(reach, secs / SECONDS_PER_MINUTE, np.nan)
    pair = where[pos]
    ids = pd.Series(np.where(pair >= 0, fac_ids[od.cols[np.maximum(pair, 0)]], 0), dtype="Int64")
    rows["facility_id"] = ids.mask(~reach).to_numpy()
    rows["covered"] = reach & ~home
    return np.asarray(pos, dtype=np.int64)


def _capacity(
    rows: pd.DataFrame,
    trips: _Trips,
    *,
    ft: FacilityTypeConfig,
    facs: gpd.GeoDataFrame,
    pos: NDArray[np.int64],
    keys: NDArray[np.int64],
    fac_rank: NDArray[np.int64],
) -> tuple[pd.Series, int] | None:
    """The places by the nearest-first rule (:mod:`planner.coverage.nearest_first`) for the
    covered residents, grouped by origin node.

    Fills ``within_capacity`` and ``assigned_facility_id``; the load per facility id
    and the pairs skipped to keep the maximum (None when nobody is covered).
    """
    idx = np.flatnonzero(rows["covered"].to_numpy(bool))
    if not idx.size:
        return None
    od = trips.od
    groups, group_of = np.unique(pos[idx], return_inverse=True)
    in_group = np.full(trips.origins.size, -1, dtype=np.int64)
    in_group[groups] = np.arange(groups.size)
    pair_group = in_group[od.rows]
    keep = pair_group >= 0
    capacity = facs["capacity"].astype(float).fillna(np.inf).to_numpy()
    if not ft.capacity_binding:
        capacity = np.full(capacity.shape, np.inf)
    split = nearest_first(
        group_of,
        capacity,
        group=pair_group[keep],
        facility=od.cols[keep],
        minutes=trips.minutes[keep],
        person_key=keys[idx],
        facility_key=fac_rank,
    )
    fac_ids = facs["id"].to_numpy(np.int64)
    placed = split.facility >= 0
    within = np.zeros(len(rows), dtype=bool)
    within[idx] = placed
    rows["within_capacity"] = within
    assigned = pd.array([pd.NA] * len(rows), dtype="Int64")
    assigned[idx[placed]] = fac_ids[split.facility[placed]]
    rows["assigned_facility_id"] = assigned
    return pd.Series(split.load.astype(np.int64), index=fac_ids), split.skipped


def _accessibility(
    rows: pd.DataFrame,
    trips: _Trips,
    *,
    ft: FacilityTypeConfig,
    facs: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    v_nodes: NDArray[np.int64],
) -> pd.Series | None:
    """E2SFCA over villages, travellers counted at their village's node (None: no pair)."""
    travellers = rows.loc[~rows["home_service"], "village_code"].value_counts()
    pop = travellers.reindex(villages["code"]).fillna(0).to_numpy(float)
    v_has = np.flatnonzero(v_nodes >= 0)
    at_origin = pd.DataFrame(
        {"village": v_has, "row": np.searchsorted(trips.origins, v_nodes[v_has])}
    )
    od = trips.od
    pairs = pd.DataFrame({"row": od.rows, "facility": od.cols, "minutes": trips.minutes})
    vp = at_origin.merge(pairs, on="row", how="inner")
    if not len(vp):
        return None
    supply = facs["capacity"].astype(float).fillna(1.0).to_numpy()
    acc = e2sfca(
        pop,
        supply,
        demand=vp["village"].to_numpy(np.int64),
        facility=vp["facility"].to_numpy(np.int64),
        minutes=vp["minutes"].to_numpy(float),
        bands=threshold_bands(ft.threshold_min),
    )
    return pd.Series(
        np.round(acc.index * ACCESS_PER_PERSONS, ACCESS_DECIMALS), index=villages["code"].to_numpy()
    )
