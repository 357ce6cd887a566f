"""Coverage: who is within reach of which facility type, with capacities.

For every facility type in the configuration: which residents are eligible
(:mod:`planner.domain.eligibility`), the travel minutes to the nearest facility of that
type on the type's road network (from the household's own point when it has
one, else from its village's point), whether that is within the type's
threshold, and whether the facilities' capacities suffice for everyone within
reach (:func:`planner.coverage.allocation.assign`). Residents who cannot travel
(``bedridden``) need home services and are never counted as covered by a
facility. Villages get the E2SFCA accessibility index
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
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import select

from geo.graph import RoadNetwork
from geo.traveltime import od_matrix, service_area
from planner.coverage.accessibility import e2sfca
from planner.coverage.allocation import assign
from planner.coverage.offnetwork import PointSnap, point_entries, resident_entries, snap_to_network
from planner.domain.devices import due_devices
from planner.domain.eligibility import eligibility_table, retrofit_needy
from planner.errors import ConfigError
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame

SECONDS_PER_MINUTE = 60.0
PERCENT = 100.0
ISOCHRONE_BUFFER_M = 150.0
HOME_TYPE = "home"
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
COUNTED = (
    "eligible",
    "home_service",
    "covered",
    "covered_within_capacity",
    "off_network",
    "not_located",
)


@dataclass(frozen=True)
class TypeCoverage:
    """Totals of one facility type (persons unless stated)."""

    type: str
    label: str
    mode: str
    catchment: str
    threshold_min: float
    facilities: int
    capacity: float  # places; inf when some facility has no capacity
    eligible: int
    home_service: int
    covered: int
    covered_within_capacity: int
    off_network: int = 0  # travellers whose point is beyond snap_max_m of the network
    not_located: int = 0  # travellers without any point (village without point or polygon)

    @property
    def coverage_pct(self) -> float | None:
        travellers = self.eligible - self.home_service
        return round(PERCENT * self.covered / travellers, 2) if travellers else None

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
        }


@dataclass(frozen=True)
class DeviceCounts:
    """Current devices (latest per person and type) and how many are past due."""

    current: int
    overdue: int


def device_counts(store: Store, *, today: date) -> DeviceCounts:
    """Count current and overdue devices in the store."""
    with store.read() as s:
        current = len(
            s.execute(
                select(t.Device.resident_id, t.Device.device_type)
                .distinct()
                .order_by(t.Device.resident_id, t.Device.device_type)
            ).all()
        )
        overdue = len(due_devices(s, today=today, within_days=0))
    return DeviceCounts(current=current, overdue=overdue)


@dataclass(frozen=True)
class Indicator:
    """One 十四五 indicator the data can (or cannot) support."""

    key: str
    name: str
    target_pct: float
    value_pct: float | None
    basis: str

    @property
    def met(self) -> bool | None:
        return None if self.value_pct is None else bool(self.value_pct >= self.target_pct)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "target": self.target_pct,
            "value": self.value_pct,
            "met": self.met,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of all requested facility types.

    Attributes
    ----------
    types
        Totals per facility type.
    residents
        One row per (eligible resident, type): ``resident_id, type, village_code,
        town_code, home_service, minutes, facility_id, covered, within_capacity,
        off_network, not_located, snap_m`` (minutes NaN when no facility is
        within reach or for village catchments; ``off_network``/``not_located``:
        the reason a traveller is not covered; ``snap_m``: metres from the
        point to the network, NaN without a point or for village catchments).
    villages
        One row per (village, type): ``village_code, village_name, town_code,
        town_name, type, eligible, home_service, covered, covered_within_capacity,
        uncovered, over_capacity, coverage_pct, accessibility, off_network,
        not_located`` (accessibility: E2SFCA places per 1,000 eligible persons).
    towns
        The same columns per (town, type), plus ``has_home``.
    facilities
        Facilities of the requested types with ``load`` (persons assigned).
    indicators
        The 十四五 indicators.
    isochrones
        Service areas per type and threshold (EPSG:4326).
    awaiting_review
        Residents not yet assigned to a village (not counted above).
    off_network
        The ``off_network`` entries (see :mod:`planner.coverage.offnetwork`): villages,
        facilities and residents (per village) beyond ``snap_max_m``, per mode.
    not_located
        Per village without a point or polygon: ``village_code, village_name,
        count`` (eligible travellers counted as not located).
    snap_max_m
        The snap limit used, metres.
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

    def type(self, key: str) -> TypeCoverage:
        return next(t for t in self.types if t.type == key)

    def to_json(self) -> dict[str, Any]:
        towns = []
        for (code, name), rows in self.towns.groupby(["town_code", "town_name"], sort=True):
            towns.append(
                {
                    "town_code": code,
                    "town_name": name,
                    "has_home": bool(rows["has_home"].iloc[0]),
                    "facility_types": [
                        {
                            k: _plain(r[k])
                            for k in (
                                "type",
                                "eligible",
                                "home_service",
                                "covered",
                                "covered_within_capacity",
                                "coverage_pct",
                                "off_network",
                                "not_located",
                            )
                        }
                        for _, r in rows.iterrows()
                    ],
                }
            )
        return {
            "today": self.today.isoformat(),
            "facility_types": [t.to_json() for t in self.types],
            "towns": towns,
            "indicators": [i.to_json() for i in self.indicators],
            "awaiting_review": self.awaiting_review,
            "off_network": list(self.off_network),
            "not_located": list(self.not_located),
            "snap_max_m": self.snap_max_m,
            "networks": self.networks,
            "seconds": round(self.seconds, 3),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _pct(num: pd.Series, den: pd.Series) -> pd.Series:
    out = PERCENT * num / den.where(den > 0)
    return out.round(2)


@dataclass
class _Located:
    """Residents (eligible for something) with their point and village."""

    frame: pd.DataFrame  # index = resident id; lon/lat filled from the village when absent
    village_points: pd.DataFrame  # code → lon, lat


def _locate(residents: pd.DataFrame, villages: gpd.GeoDataFrame) -> _Located:
    vp = villages.set_index("code")[["lon", "lat"]]
    frame = residents[residents["village_code"].notna()].copy()
    own = frame["lon"].notna() & frame["lat"].notna()
    v_lon = frame["village_code"].map(vp["lon"])
    v_lat = frame["village_code"].map(vp["lat"])
    frame["point_lon"] = frame["lon"].where(own, v_lon)
    frame["point_lat"] = frame["lat"].where(own, v_lat)
    return _Located(frame=frame, village_points=vp)


@dataclass(frozen=True)
class _Snapped:
    """Residents, villages and facilities snapped to one mode's network (with the limit)."""

    network: RoadNetwork
    resident: PointSnap  # aligned with _Located.frame
    village: PointSnap  # aligned with the villages frame
    facility: PointSnap  # aligned with the facilities frame
    facility_ids: NDArray[np.int64]

    def facility_nodes(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Network node of each facility id (-1: no point or off the network)."""
        pos = pd.Series(np.arange(self.facility_ids.size), index=self.facility_ids)
        at = pos.reindex(ids).to_numpy(np.int64)
        return np.asarray(self.facility.node[at], dtype=np.int64)


def _snap_all(
    network: RoadNetwork,
    located: _Located,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    max_m: float,
) -> _Snapped:
    """Snap every distinct point once; points beyond ``max_m`` get node -1."""
    frame = located.frame
    return _Snapped(
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


def _best_per_row(
    rows: NDArray[np.int64], seconds: NDArray[np.float64], n: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Minimum seconds per row, and the pair position where it occurs (-1: none)."""
    best = np.full(n, np.inf)
    where = np.full(n, -1, dtype=np.int64)
    if rows.size:
        order = np.lexsort((seconds, rows))
        first = np.ones(order.size, dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        pick = order[first]
        best[rows[pick]] = seconds[pick]
        where[rows[pick]] = pick
    return best, where


def _serve_first_by_id(
    group_of: NDArray[np.int64], resident_ids: NDArray[np.int64], served: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Within each group, the first ``served[g]`` residents (by id) are served."""
    order = np.lexsort((resident_ids, group_of))
    sorted_groups = group_of[order]
    starts = np.searchsorted(sorted_groups, sorted_groups, side="left")
    rank = np.empty(group_of.size, dtype=np.int64)
    rank[order] = np.arange(group_of.size) - starts
    return np.asarray(rank < served[group_of])


def _type_residents(
    key: str,
    *,
    config: Config,
    located: _Located,
    elig: pd.Series,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    snapped: _Snapped | None,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Per eligible resident coverage of one type, per-facility load, village accessibility.

    One cut-off OD computation from the type's facilities gives the nearest
    facility of every resident, the candidate pairs of the capacity assignment
    and the village–facility pairs of E2SFCA.
    """
    ft = config.facility_types[key]
    mask = elig.reindex(located.frame.index, fill_value=False).to_numpy()
    people = located.frame[mask]
    home = people["bedridden"].fillna(False).astype(bool).to_numpy()
    out = pd.DataFrame(
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
            "off_network": False,
            "not_located": False,
            "snap_m": np.nan,
        }
    )
    if ft.catchment == "travel" and snapped is not None:
        # why a traveller cannot be covered, whatever the facilities
        out["off_network"] = snapped.resident.off_network[mask] & ~home
        out["not_located"] = ~snapped.resident.located[mask] & ~home
        out["snap_m"] = snapped.resident.distance_m[mask]
    facs = facilities[(facilities["type"] == key) & facilities["lon"].notna()]
    load: pd.Series = pd.Series(0, index=facs["id"].to_numpy(), dtype=np.int64)
    access: pd.Series = pd.Series(0.0, index=villages["code"].to_numpy())
    if facs.empty or people.empty:
        return out, load, access
    if ft.catchment == "village":
        covered = people["village_code"].isin(set(facs["village_code"].dropna())).to_numpy() & ~home
        out["covered"] = covered
        out["within_capacity"] = covered
        return out, load, access
    if snapped is None:
        raise ConfigError(f"设施类型 {ft.label} 需要 {ft.mode} 道路网络")
    res_nodes = snapped.resident.node[mask]
    # an off-network facility serves nobody
    facs = facs[snapped.facility_nodes(facs["id"].to_numpy(np.int64)) >= 0]
    if facs.empty:
        return out, load, access
    limit = ft.threshold_min * SECONDS_PER_MINUTE
    fac_ids = facs["id"].to_numpy()
    fac_nodes = snapped.facility_nodes(fac_ids.astype(np.int64))
    v_nodes = snapped.village.node
    origins = np.unique(np.concatenate([res_nodes[res_nodes >= 0], v_nodes[v_nodes >= 0]]))
    if origins.size == 0:
        return out, load, access
    od = od_matrix(snapped.network, origins, fac_nodes, limit_s=limit)
    od_minutes = od.seconds / SECONDS_PER_MINUTE
    best, where = _best_per_row(od.rows, od.seconds, origins.size)

    # nearest facility of each resident
    pos = np.searchsorted(origins, np.maximum(res_nodes, 0))
    secs = np.where(res_nodes >= 0, best[pos], np.inf)
    reach = np.isfinite(secs) & (secs <= limit)
    out["minutes"] = np.where(reach, secs / SECONDS_PER_MINUTE, np.nan)
    pair = where[pos]
    ids = pd.Series(np.where(pair >= 0, fac_ids[od.cols[np.maximum(pair, 0)]], 0), dtype="Int64")
    out["facility_id"] = ids.mask(~reach).to_numpy()
    covered = reach & ~home
    out["covered"] = covered

    # capacity: covered residents grouped by origin node, assigned within the threshold
    idx = np.flatnonzero(covered)
    if idx.size:
        groups, group_of = np.unique(pos[idx], return_inverse=True)
        demand = np.bincount(group_of, minlength=groups.size).astype(np.int64)
        in_group = np.full(origins.size, -1, dtype=np.int64)
        in_group[groups] = np.arange(groups.size)
        pair_group = in_group[od.rows]
        keep = pair_group >= 0
        capacity = facs["capacity"].astype(float).fillna(np.inf).to_numpy()
        if not ft.capacity_binding:
            capacity = np.full(capacity.shape, np.inf)
        result = assign(
            demand,
            capacity,
            group=pair_group[keep],
            facility=od.cols[keep],
            minutes=od_minutes[keep],
        )
        within = np.zeros(len(out), dtype=bool)
        within[idx] = _serve_first_by_id(
            group_of, out["resident_id"].to_numpy()[idx], result.served
        )
        out["within_capacity"] = within
        load = pd.Series(result.load.astype(np.int64), index=fac_ids)

    # E2SFCA over villages (travellers counted at their village's node)
    travellers = out.loc[~out["home_service"], "village_code"].value_counts()
    pop = travellers.reindex(villages["code"]).fillna(0).to_numpy(float)
    v_has = np.flatnonzero(v_nodes >= 0)
    at_origin = pd.DataFrame({"village": v_has, "row": np.searchsorted(origins, v_nodes[v_has])})
    pairs = pd.DataFrame({"row": od.rows, "facility": od.cols, "minutes": od_minutes})
    vp = at_origin.merge(pairs, on="row", how="inner")
    if len(vp):
        supply = facs["capacity"].astype(float).fillna(1.0).to_numpy()
        span = ft.threshold_min
        bands = ((span / 3, 1.0), (2 * span / 3, 0.68), (span, 0.22))
        acc = e2sfca(
            pop,
            supply,
            demand=vp["village"].to_numpy(np.int64),
            facility=vp["facility"].to_numpy(np.int64),
            minutes=vp["minutes"].to_numpy(float),
            bands=bands,
        )
        access = pd.Series(np.round(acc.index * 1000.0, 3), index=villages["code"].to_numpy())
    return out, load, access


def _aggregate(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = frame.assign(
        eligible=1,
        home_service=frame["home_service"].astype(int),
        covered=frame["covered"].astype(int),
        covered_within_capacity=frame["within_capacity"].astype(int),
        off_network=frame["off_network"].astype(int),
        not_located=frame["not_located"].astype(int),
    ).groupby(keys, sort=True)[list(COUNTED)]
    return g.sum().reset_index()


def _finish(table: pd.DataFrame) -> pd.DataFrame:
    table["uncovered"] = table["eligible"] - table["home_service"] - table["covered"]
    table["over_capacity"] = table["covered"] - table["covered_within_capacity"]
    table["coverage_pct"] = _pct(table["covered"], table["eligible"] - table["home_service"])
    return table


def _indicators(
    *,
    config: Config,
    types: Mapping[str, TypeCoverage],
    per_resident: pd.DataFrame,
    towns: pd.DataFrame,
    residents: pd.DataFrame,
    devices: DeviceCounts | None,
) -> tuple[Indicator, ...]:
    ind = config.indicators
    out: list[Indicator] = []
    if HOME_TYPE in types:
        home = types[HOME_TYPE]
        out.append(
            Indicator(
                "home_reach",
                "残疾人之家服务覆盖率",
                ind.home_reach_pct,
                home.coverage_pct,
                f"符合条件者在 {home.threshold_min:g} 分钟内可达的比例",
            )
        )
        has = towns.drop_duplicates("town_code")["has_home"]
        out.append(
            Indicator(
                "home_town",
                "镇街残疾人之家设置率",
                ind.home_town_pct,
                float(round(PERCENT * has.mean(), 2)) if len(has) else None,
                "设有残疾人之家的镇街比例（浙江：每个镇街至少一家）",
            )
        )
    rehab = per_resident[per_resident["type"].isin(ind.rehab_types) & ~per_resident["home_service"]]
    if not rehab.empty:
        anyc = rehab.groupby("resident_id")["covered"].any()
        out.append(
            Indicator(
                "rehab_reach",
                "基本康复服务覆盖率（代理）",
                ind.rehab_reach_pct,
                float(round(PERCENT * anyc.mean(), 2)),
                "至少一类适用康复设施可达的比例（无康复服务记录，以可达代替）",
            )
        )
    if devices is not None and devices.current:
        out.append(
            Indicator(
                "device_current",
                "辅具适配率（代理）",
                ind.device_current_pct,
                round(PERCENT * (devices.current - devices.overdue) / devices.current, 2),
                "在用辅具未超过使用年限的比例（无适配需求记录，以在用辅具代替）",
            )
        )
    needy = residents[retrofit_needy(residents, config)]
    if len(needy):
        out.append(
            Indicator(
                "retrofit",
                "困难重度残疾人家庭无障碍改造率",
                ind.retrofit_pct,
                float(round(PERCENT * needy["retrofit_year"].notna().mean(), 2)),
                "低保/低边、一二级残疾人（[indicators] retrofit_categories）中已改造的比例",
            )
        )
    out.append(
        Indicator(
            "family_doctor",
            "家庭医生签约率",
            ind.family_doctor_pct,
            None,
            "名册中没有家庭医生签约信息，无法计算",
        )
    )
    return tuple(out)


def compute_coverage(
    store: Store,
    *,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    types: Iterable[str] | None = None,
    today: date | None = None,
    isochrones: bool = True,
) -> CoverageResult:
    """Coverage of ``types`` (default: all configured) for the store's residents.

    Loads the store and calls :func:`coverage_from_frames`.

    Parameters
    ----------
    store
        Residents, villages, facilities and devices.
    config
        Facility types (eligibility, threshold minutes, mode, catchment), targets.
    networks
        Road network per travel mode used by the types (``drive``, ``walk``, …).
    today
        Reference day for ages and device dates (default: today).
    isochrones
        Also compute service-area polygons per type (for maps).

    Raises
    ------
    ConfigError
        For an unknown type or a missing network.
    """
    started = time.perf_counter()
    today = today or date.today()
    result = coverage_from_frames(
        residents_frame(store),
        villages_frame(store),
        facilities_frame(store),
        config=config,
        networks=networks,
        types=types,
        today=today,
        isochrones=isochrones,
        devices=device_counts(store, today=today),
    )
    return replace(result, seconds=time.perf_counter() - started)


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
    """Coverage from frames shaped as :mod:`planner.store.frames` returns them.

    The array-level core behind :func:`compute_coverage` (benchmarks call it
    directly with generated frames).
    """
    started = time.perf_counter()
    keys = list(types) if types is not None else list(config.facility_types)
    unknown = [k for k in keys if k not in config.facility_types]
    if unknown:
        raise ConfigError(
            f"未知的设施类型：{'、'.join(unknown)}；可用：{'、'.join(config.facility_types)}"
        )
    located = _locate(residents, villages)
    elig = eligibility_table(located.frame, config, today=today)
    village_info = villages.set_index("code")[["name", "town_code", "town_name"]]

    per_type: dict[str, TypeCoverage] = {}
    frames: list[pd.DataFrame] = []
    loads: list[pd.Series] = []
    access: dict[str, pd.Series] = {}
    iso: list[gpd.GeoDataFrame] = []
    snapped: dict[str, _Snapped] = {}
    for key in keys:
        ft = config.facility_types[key]
        net = networks.get(ft.mode)
        if ft.catchment == "travel":
            if net is None:
                raise ConfigError(f"设施类型 {ft.label} 需要 {ft.mode} 道路网络")
            if ft.mode not in snapped:
                snapped[ft.mode] = _snap_all(
                    net, located, villages, facilities, max_m=config.network.snap_max_m
                )
        rows, load, access[key] = _type_residents(
            key,
            config=config,
            located=located,
            elig=elig[key],
            facilities=facilities,
            villages=villages,
            snapped=snapped.get(ft.mode),
        )
        frames.append(rows)
        loads.append(load)
        facs = facilities[facilities["type"] == key]
        cap = facs["capacity"].astype(float).fillna(np.inf).sum() if len(facs) else 0.0
        per_type[key] = TypeCoverage(
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
        )
        pts = facs[facs["lon"].notna()]
        if isochrones and ft.catchment == "travel" and net is not None and len(pts):
            nodes = snapped[ft.mode].facility_nodes(pts["id"].to_numpy(np.int64))
            nodes = nodes[nodes >= 0]
        else:
            nodes = np.empty(0, dtype=np.int64)
        if nodes.size and net is not None:
            area = service_area(net, nodes, minutes=[ft.threshold_min], buffer_m=ISOCHRONE_BUFFER_M)
            iso.append(area.assign(type=key, label=ft.label))

    per_resident = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # every (village, type) pair appears, with zeros where nobody is eligible
    grid = pd.MultiIndex.from_product([villages["code"], keys], names=["village_code", "type"])
    vtab = _aggregate(per_resident, ["village_code", "type"]).set_index(["village_code", "type"])
    vtab = vtab.reindex(grid, fill_value=0).reset_index()
    vtab = _finish(vtab)
    vtab["village_name"] = vtab["village_code"].map(village_info["name"])
    vtab["town_code"] = vtab["village_code"].map(village_info["town_code"])
    vtab["town_name"] = vtab["village_code"].map(village_info["town_name"])
    vtab["accessibility"] = [
        access[t].get(c, 0.0) for c, t in zip(vtab["village_code"], vtab["type"], strict=True)
    ]
    ttab = (
        vtab.groupby(["town_code", "town_name", "type"], sort=True)[list(COUNTED)]
        .sum()
        .reset_index()
    )
    ttab = _finish(ttab)
    home_towns = set(facilities.loc[facilities["type"] == HOME_TYPE, "town_code"].dropna())
    ttab["has_home"] = ttab["town_code"].isin(home_towns)
    load_all = pd.concat(loads) if loads else pd.Series(dtype=np.int64)
    fac_out = facilities[facilities["type"].isin(keys)].copy()
    fac_out["load"] = fac_out["id"].map(load_all).fillna(0).astype(int)
    fac_out["label"] = fac_out["type"].map(lambda k: config.facility_label(k))
    indicators = _indicators(
        config=config,
        types=per_type,
        per_resident=per_resident,
        towns=ttab,
        residents=located.frame,
        devices=devices,
    )
    iso_frame = (
        gpd.GeoDataFrame(pd.concat(iso, ignore_index=True), crs="EPSG:4326")
        if iso
        else gpd.GeoDataFrame(
            {"type": [], "label": [], "minutes": []}, geometry=[], crs="EPSG:4326"
        )
    )
    return CoverageResult(
        today=today,
        types=tuple(per_type[k] for k in keys),
        residents=per_resident,
        villages=vtab[
            [
                "village_code",
                "village_name",
                "town_code",
                "town_name",
                "type",
                *VILLAGE_FIELDS,
            ]
        ],
        towns=ttab,
        facilities=fac_out,
        indicators=indicators,
        isochrones=iso_frame,
        awaiting_review=int(residents["village_code"].isna().sum()),
        seconds=time.perf_counter() - started,
        networks={m: n.source for m, n in networks.items()},
        off_network=_off_network_entries(
            snapped,
            per_resident,
            villages=villages,
            facilities=facilities,
            config=config,
            keys=keys,
        ),
        not_located=_not_located_entries(per_resident, villages=villages),
        snap_max_m=config.network.snap_max_m,
    )


def _off_network_entries(
    snapped: Mapping[str, _Snapped],
    per_resident: pd.DataFrame,
    *,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    config: Config,
    keys: list[str],
) -> tuple[dict[str, Any], ...]:
    """Villages, facilities (of the requested types) and residents beyond the limit, per mode."""
    names = dict(zip(villages["code"], villages["name"], strict=True))
    out: list[dict[str, Any]] = []
    for mode, sn in sorted(snapped.items()):
        out += point_entries(
            "village", sn.village, keys=villages["code"].to_list(), names=villages["name"].to_list()
        )
        travel = [
            k
            for k in keys
            if config.facility_types[k].catchment == "travel"
            and config.facility_types[k].mode == mode
        ]
        mine = facilities["type"].isin(travel).to_numpy()
        fac_snap = replace(sn.facility, off_network=sn.facility.off_network & mine)
        out += point_entries(
            "facility",
            fac_snap,
            keys=facilities["id"].to_list(),
            names=facilities["name"].to_list(),
            key="id",
        )
        if len(per_resident):
            rows = per_resident[per_resident["type"].isin(travel) & per_resident["off_network"]]
            rows = rows.drop_duplicates("resident_id")
            out += resident_entries(
                rows["village_code"].to_numpy(),
                rows["snap_m"].to_numpy(float),
                village_names=names,
                mode=mode,
            )
    return tuple(out)


def _not_located_entries(
    per_resident: pd.DataFrame, *, villages: gpd.GeoDataFrame
) -> tuple[dict[str, Any], ...]:
    """Villages whose eligible travellers have no point at all, with their count."""
    if not len(per_resident):
        return ()
    rows = per_resident[per_resident["not_located"]].drop_duplicates("resident_id")
    names = dict(zip(villages["code"], villages["name"], strict=True))
    counts = rows.groupby("village_code", sort=True).size()
    return tuple(
        {"village_code": str(c), "village_name": names.get(str(c), ""), "count": int(n)}
        for c, n in counts.items()
    )
