"""Siting proposals from the store: build the problem, solve, before/after.

Demand: the residents eligible for the facility type who travel (bedridden
residents are served at home), at their household point or else their
village's point, snapped to the type's road network; residents on the same
node and in the same town form one demand point. Sites: the type's existing
facilities (open, with their capacities; optionally upgradable) and the
candidates: village committee points by default, or a user's list. A resident, candidate
or facility farther than ``[network] snap_max_m`` from the network
(:mod:`planner.coverage.offnetwork`) is off the network: such demand is not coverable,
such candidates are left out, such facilities serve nobody; all are reported
under ``off_network``. The before/after figures come from the coverage engine itself
(:func:`planner.coverage.engine.coverage_from_frames`), run on the facilities before
and after the proposal, so they match ``coverplan coverage`` exactly.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from geo.crs import to_wgs84
from geo.errors import InputError
from geo.graph import RoadNetwork
from geo.traveltime import od_matrix
from planner.coverage.engine import CoverageResult, coverage_from_frames
from planner.coverage.offnetwork import point_entries, snap_to_network
from planner.domain.eligibility import eligibility_table
from planner.settings import Config
from planner.siting.problem import Objective, SiteGroup, SitingError, SitingProblem, SitingResult
from planner.siting.solve import solve
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame

SECONDS_PER_MINUTE = 60.0
NEW_ID_BASE = 10_000_000  # ids of proposed facilities, clear of stored ones

CANDIDATE_COLUMNS = {
    "name": ("name", "名称", "地块", "候选点"),
    "village": ("village", "village_code", "村社", "村社代码", "村", "社区"),
    "lon": ("lon", "经度", "longitude"),
    "lat": ("lat", "纬度", "latitude"),
    "cost": ("cost", "build_cost", "建设费用", "费用"),
    "capacity": ("capacity", "容量", "床位", "名额"),
}


@dataclass(frozen=True)
class Sites:
    """All sites of a problem: existing facilities first, then candidates.

    ``frame`` columns: ``site`` (index in the problem), ``kind``
    (``existing``/``candidate``), ``facility_id`` (existing only), ``name``,
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
class Proposal:
    """A solved siting proposal with its before/after effect.

    Attributes
    ----------
    type, label
        Facility type key and its Chinese label.
    objective
        ``mclp`` / ``pmedian`` / ``lscp``.
    result
        The solver's result on the arrays.
    selected
        One row per action, ranked: ``rank, action (new|upgrade), name,
        village_code, village_name, town_name, lon, lat, cost (yuan),
        places (added), marginal`` (objective gain of that action).
    before, after
        :class:`~planner.coverage.engine.CoverageResult` of the type without and with
        the proposal.
    inputs
        What the proposal was asked (for scenarios).
    off_network
        Points off the road network: villages, facilities and residents (from
        ``before``) and the candidates left out.
    """

    type: str
    label: str
    objective: Objective
    result: SitingResult
    selected: pd.DataFrame
    before: CoverageResult
    after: CoverageResult
    inputs: dict[str, Any] = field(default_factory=dict)
    off_network: tuple[dict[str, Any], ...] = ()

    def totals(self, which: str) -> dict[str, Any]:
        """Before or after totals of the type (persons, percent, minutes)."""
        cov = self.before if which == "before" else self.after
        tc = cov.types[0]
        travellers = tc.eligible - tc.home_service
        res = cov.residents
        minutes = res.loc[res["covered"], "minutes"]
        return {
            "facilities": tc.facilities,
            "capacity": None if math.isinf(tc.capacity) else tc.capacity,
            "eligible": tc.eligible,
            "home_service": tc.home_service,
            "covered": tc.covered,
            "within_capacity": tc.covered_within_capacity,
            "coverage_pct": tc.coverage_pct,
            "within_capacity_pct": round(100.0 * tc.covered_within_capacity / travellers, 2)
            if travellers
            else None,
            "mean_minutes": round(float(minutes.mean()), 1) if len(minutes) else None,
        }

    def towns(self) -> pd.DataFrame:
        """Per town: eligible, covered and within capacity, before and after."""
        cols = ["eligible", "covered", "covered_within_capacity", "coverage_pct"]
        b = self.before.towns.set_index("town_name")[cols]
        a = self.after.towns.set_index("town_name")[cols]
        out = b.add_suffix("_before").join(a.add_suffix("_after"), how="outer").fillna(0)
        out = out.reset_index()
        out["gain"] = out["covered_within_capacity_after"] - out["covered_within_capacity_before"]
        return out

    def indicators(self) -> list[dict[str, Any]]:
        """十四五 indicators the proposal changes, before and after."""
        after = {i.key: i for i in self.after.indicators}
        rows = []
        for i in self.before.indicators:
            j = after.get(i.key)
            if j is None or i.value_pct == j.value_pct:
                continue  # indicators the proposal does not move
            rows.append(
                {
                    "key": i.key,
                    "name": i.name,
                    "target_pct": i.target_pct,
                    "before_pct": i.value_pct,
                    "after_pct": j.value_pct,
                }
            )
        return rows

    def metrics(self) -> dict[str, float | int | str | None]:
        """Flat figures for a saved scenario (see :mod:`planner.scenarios`)."""
        b, a = self.totals("before"), self.totals("after")
        r = self.result
        return {
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "seconds": round(r.seconds, 2),
            "cost": r.cost,
            "new_sites": len(r.opened),
            "upgrades": len(r.upgraded),
            "eligible": b["eligible"],
            "covered_before": b["covered"],
            "covered_after": a["covered"],
            "within_capacity_before": b["within_capacity"],
            "within_capacity_after": a["within_capacity"],
            "coverage_pct_before": b["coverage_pct"],
            "coverage_pct_after": a["coverage_pct"],
            "mean_minutes_before": b["mean_minutes"],
            "mean_minutes_after": a["mean_minutes"],
        }

    def by_town(self) -> dict[str, dict[str, float]]:
        """Per-town figures for a saved scenario."""
        out: dict[str, dict[str, float]] = {}
        for r in self.towns().to_dict(orient="records"):
            out[str(r["town_name"])] = {
                "eligible": float(r["eligible_after"]),
                "covered_before": float(r["covered_before"]),
                "covered_after": float(r["covered_after"]),
                "within_capacity_before": float(r["covered_within_capacity_before"]),
                "within_capacity_after": float(r["covered_within_capacity_after"]),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        """The command's JSON: ``selected, objective, bound, gap, seconds, before,
        after`` and the details (type, solver, status, cost, towns, indicators)."""
        r = self.result
        sel = self.selected.replace({np.nan: None}).to_dict(orient="records")
        return {
            "type": self.type,
            "label": self.label,
            "objective_kind": self.objective,
            "selected": sel,
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "seconds": round(r.seconds, 3),
            "status": r.status,
            "solver": r.solver,
            "cost": r.cost,
            "before": self.totals("before"),
            "after": self.totals("after"),
            "towns": self.towns().to_dict(orient="records"),
            "indicators": self.indicators(),
            "inputs": self.inputs,
            "off_network": list(self.off_network),
            "not_located": list(self.before.not_located),
        }


def _pick(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {str(c).strip().lower(): str(c) for c in columns}
    for n in names:
        if n.lower() in lowered:
            return lowered[n.lower()]
    return None


def read_candidates(path: Path, *, villages: gpd.GeoDataFrame, crs: str = "wgs84") -> pd.DataFrame:
    """A user's candidate sites (CSV/XLSX): name and a village or a point.

    Columns (Chinese or English): ``名称/name``; ``村社/village`` (code or name)
    and/or ``经度/lon`` + ``纬度/lat`` (in ``crs``); optional ``建设费用/cost``
    (yuan) and ``容量/capacity`` (places). A row with only a village is placed
    at the village's committee point.

    Returns
    -------
    pandas.DataFrame
        ``name, village_code, lon, lat, build_cost, capacity`` (WGS-84).

    Raises
    ------
    InputError
        Naming the file, row and column of the first bad value.
    """
    from planner.ingest.readers import detect_encoding, sniff_table

    if not path.is_file():
        raise InputError(f"候选点文件不存在：{path}", file=str(path))
    try:
        kind = sniff_table(path)  # by content: a CSV may be named .xls
        if kind in ("xlsx", "xls"):
            raw = pd.read_excel(path, dtype=str, engine="openpyxl" if kind == "xlsx" else "xlrd")
        else:
            data = path.read_bytes()
            encoding = detect_encoding(data, file=path.name)
            raw = pd.read_csv(path, dtype=str, encoding=encoding)
    except (UnicodeDecodeError, ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(
            f"无法读取候选点文件 {path.name}：{exc}（请另存为 UTF-8 CSV 或 XLSX）", file=str(path)
        ) from exc
    cols = {k: _pick(list(raw.columns), v) for k, v in CANDIDATE_COLUMNS.items()}
    if cols["village"] is None and (cols["lon"] is None or cols["lat"] is None):
        raise InputError(
            f"候选点文件 {path.name} 需要“村社”列或“经度”“纬度”两列", file=str(path), row=1
        )
    by_code = villages.set_index("code")
    by_name: dict[str, list[str]] = {}
    for v in villages.itertuples():
        for key in (str(v.name), f"{v.town_name}{v.name}"):
            by_name.setdefault(key, []).append(str(v.code))
        core = str(v.name).removesuffix("村委会").removesuffix("居委会")
        by_name.setdefault(core, []).append(str(v.code))
        by_name.setdefault(f"{v.town_name}{core}", []).append(str(v.code))
    rows = []
    for i, rec in enumerate(raw.to_dict(orient="records"), start=2):

        def val(key: str, rec: dict[Any, Any] = rec) -> str | None:
            col = cols[key]
            if col is None:
                return None
            v = rec.get(col)
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()

        def number(key: str, i: int = i) -> float | None:
            text = val(key)
            if not text:
                return None
            try:
                return float(text.replace(",", ""))
            except ValueError:
                raise InputError(
                    f"不是数字：{text}", file=str(path), row=i, column=cols[key], value=text
                ) from None

        code = None
        village = val("village")
        if village:
            if village in by_code.index:
                code = village
            else:
                hits = sorted(set(by_name.get(village, [])))
                if len(hits) != 1:
                    why = "找不到该村社" if not hits else "村社名称有重名，请写镇街+村社或村社代码"
                    raise InputError(
                        why, file=str(path), row=i, column=cols["village"], value=village
                    )
                code = hits[0]
        lon, lat = number("lon"), number("lat")
        if lon is not None and lat is not None:
            lo, la = to_wgs84(lon, lat, crs=crs)
            lon, lat = float(np.atleast_1d(lo)[0]), float(np.atleast_1d(la)[0])
        elif code is not None:
            lon, lat = float(by_code.at[code, "lon"]), float(by_code.at[code, "lat"])
            if not (math.isfinite(lon) and math.isfinite(lat)):
                raise InputError(
                    f"村社 {by_code.at[code, 'name']}（{code}）没有点位或边界；"
                    "请在该行填写经度、纬度，或先用 coverplan import villages 导入村社点位",
                    file=str(path),
                    row=i,
                    column=cols["village"],
                    value=village,
                )
        else:
            raise InputError("需要村社或经纬度", file=str(path), row=i)
        cap = number("capacity")
        rows.append(
            {
                "name": val("name")
                or (f"{by_code.at[code, 'name']}候选点" if code else f"候选点{i}"),
                "village_code": code,
                "lon": float(lon),
                "lat": float(lat),
                "build_cost": number("cost"),
                "capacity": cap,
            }
        )
    if not rows:
        raise InputError(f"候选点文件 {path.name} 没有数据行", file=str(path))
    return pd.DataFrame(rows)


def _sites(
    *,
    type_key: str,
    config: Config,
    facilities: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    candidates: pd.DataFrame | None,
    exclude: Sequence[str],
    network: RoadNetwork,
) -> Sites:
    ft = config.facility_types[type_key]
    costs = ft.siting
    vinfo = villages.set_index("code")
    fac = facilities[(facilities["type"] == type_key) & facilities["lon"].notna()]
    cap = fac["capacity"].astype(float).fillna(np.inf).to_numpy()
    if not ft.capacity_binding:
        cap = np.full(len(fac), np.inf)
    existing = pd.DataFrame(
        {
            "kind": "existing",
            "facility_id": fac["id"].to_numpy(),
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
    new_cap = np.inf if costs.capacity is None or not ft.capacity_binding else costs.capacity
    if candidates is None:
        hosted = set(fac["village_code"].dropna())
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
    cand = cand.assign(
        kind="candidate",
        facility_id=None,
        upgrade_cost=np.nan,
        upgrade_capacity=0.0,
    )
    frame = pd.concat([existing, cand], ignore_index=True)
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


def build_problem(
    *,
    type_key: str,
    config: Config,
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: RoadNetwork,
    today: date,
    objective: Objective = "mclp",
    new: int | None = None,
    budget: float | None = None,
    upgrade: bool = False,
    max_upgrades: int | None = None,
    candidates: pd.DataFrame | None = None,
    exclude: Sequence[str] = (),
    town_rule: bool | None = None,
    capacitated: bool | None = None,
    target: float = 1.0,
) -> tuple[SitingProblem, Sites, pd.DataFrame]:
    """The siting problem of one facility type from frames.

    Returns the problem, its sites and the demand points (``node, town_code,
    persons``), in the problem's index order.
    """
    if type_key not in config.facility_types:
        raise SitingError(f"未知的设施类型 {type_key}；可用：{'、'.join(config.facility_types)}")
    ft = config.facility_types[type_key]
    if ft.catchment != "travel":
        raise SitingError(f"{ft.label}按村社认定，不做选址；请用 coverplan retrofit 查看候选村社")
    vp = villages.set_index("code")[["lon", "lat"]]
    frame = residents[residents["village_code"].notna()]
    elig = eligibility_table(frame, config, today=today)[type_key]
    people = frame[elig.to_numpy() & ~frame["bedridden"].fillna(False).astype(bool).to_numpy()]
    own = people["lon"].notna() & people["lat"].notna()
    lon = people["lon"].where(own, people["village_code"].map(vp["lon"])).to_numpy(float)
    lat = people["lat"].where(own, people["village_code"].map(vp["lat"])).to_numpy(float)
    # demand off the network (or without any point) is not coverable: left out
    snap = snap_to_network(network, lon, lat, max_m=config.network.snap_max_m)
    ok = snap.usable
    node = snap.node
    demand = (
        pd.DataFrame({"node": node[ok], "town_code": people["town_code"].to_numpy()[ok]})
        .groupby(["node", "town_code"], sort=True)
        .size()
        .rename("persons")
        .reset_index()
    )
    sites = _sites(
        type_key=type_key,
        config=config,
        facilities=facilities,
        villages=villages,
        candidates=candidates,
        exclude=exclude,
        network=network,
    )
    sf = sites.frame
    factor = config.siting.pmedian_cutoff_factor if objective == "pmedian" else 1.0
    limit_s = ft.threshold_min * factor * SECONDS_PER_MINUTE
    # residents travel to the site, as in the coverage engine
    od = od_matrix(network, demand["node"].to_numpy(), sf["node"].to_numpy(), limit_s=limit_s)
    reach = sf["on_network"].to_numpy(bool)[od.cols]
    pair_rows, pair_cols, pair_s = od.rows[reach], od.cols[reach], od.seconds[reach]
    existing = (sf["kind"] == "existing").to_numpy()
    groups: list[SiteGroup] = []
    if town_rule is None:
        town_rule = type_key in config.siting.one_per_town
    if town_rule:
        towns = villages.drop_duplicates("town_code")[["town_code", "town_name"]]
        for t in towns.itertuples():
            idx = np.flatnonzero((sf["town_code"] == t.town_code).to_numpy())
            groups.append(SiteGroup(name=str(t.town_name), sites=idx, minimum=1))
    if capacitated is None:
        capacitated = ft.capacity_binding and bool(np.isfinite(sf["capacity"]).any())
    up_cost = up_cap = None
    if upgrade:
        if ft.siting.upgrade_cost is None:
            raise SitingError(
                f"{ft.label}没有配置升级费用：在配置的 [facility_types.{type_key}] 中设置 "
                "siting.upgrade_cost 和 upgrade_capacity"
            )
        up_cost = np.where(existing, sf["upgrade_cost"].to_numpy(float), np.nan)
        up_cap = sf["upgrade_capacity"].to_numpy(float)
    problem = SitingProblem(
        objective=objective,
        demand=demand["persons"].to_numpy(float),
        pair_demand=pair_rows,
        pair_site=pair_cols,
        pair_minutes=pair_s / SECONDS_PER_MINUTE,
        existing=existing,
        site_cost=np.where(existing, 0.0, sf["build_cost"].to_numpy(float)),
        site_capacity=sf["capacity"].to_numpy(float),
        threshold_min=ft.threshold_min,
        capacitated=capacitated,
        max_new=new,
        budget=budget,
        upgrade_cost=up_cost,
        upgrade_capacity=up_cap,
        max_upgrades=max_upgrades,
        groups=tuple(groups),
        target=target,
        unserved_minutes=config.siting.unserved_minutes,
    )
    return problem, sites, demand


def facilities_after(
    facilities: gpd.GeoDataFrame, sites: Sites, result: SitingResult, *, type_key: str
) -> gpd.GeoDataFrame:
    """The facilities frame with the proposal applied (new rows, upgraded capacities)."""
    sf = sites.frame
    out = facilities.copy()
    for j in result.upgraded:
        fid = sf.at[int(j), "facility_id"]
        row = out["id"] == fid
        added = float(sf["upgrade_capacity"].to_numpy()[int(j)])
        out.loc[row, "capacity"] = out.loc[row, "capacity"].astype(float).fillna(0) + added
    new = sf.loc[result.opened]
    if len(new):
        cap = new["capacity"].astype(float)
        add = pd.DataFrame(
            {
                "id": NEW_ID_BASE + np.arange(len(new)),
                "key": [f"proposed:{type_key}:{k}" for k in range(len(new))],
                "type": type_key,
                "name": new["name"].to_numpy(),
                "village_code": new["village_code"].to_numpy(),
                "town_code": new["town_code"].to_numpy(),
                "lon": new["lon"].to_numpy(float),
                "lat": new["lat"].to_numpy(float),
                "capacity": [None if math.isinf(c) else int(c) for c in cap],
                "placed": None,
            }
        )
        geo = gpd.GeoDataFrame(add, geometry=points(add["lon"], add["lat"]), crs="EPSG:4326")
        out = pd.concat([out, geo], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _where(site: dict[Any, Any]) -> dict[str, Any]:
    """Name, village, town and WGS-84 point of a site row."""
    return {
        "name": site["name"],
        "village_code": site["village_code"],
        "village_name": site["village_name"],
        "town_name": site["town_name"],
        "lon": round(float(site["lon"]), 6),
        "lat": round(float(site["lat"]), 6),
    }


def _selected_table(sites: Sites, result: SitingResult) -> pd.DataFrame:
    sf = sites.frame
    rows = []
    for rank, (j, gain) in enumerate(zip(result.opened, result.marginal, strict=True), start=1):
        s: dict[Any, Any] = sf.loc[int(j)].to_dict()
        rows.append(
            {
                "rank": rank,
                "action": "new",
                **_where(s),
                "cost": float(s["build_cost"]),
                "places": None if math.isinf(s["capacity"]) else float(s["capacity"]),
                "marginal": round(float(gain), 3),
            }
        )
    for j in result.upgraded:
        s = sf.loc[int(j)].to_dict()
        rows.append(
            {
                "rank": len(rows) + 1,
                "action": "upgrade",
                **_where(s),
                "cost": float(s["upgrade_cost"]),
                "places": float(s["upgrade_capacity"]),
                "marginal": None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "rank",
            "action",
            "name",
            "village_code",
            "village_name",
            "town_name",
            "lon",
            "lat",
            "cost",
            "places",
            "marginal",
        ],
    )


def propose_sites(
    store: Store,
    *,
    type_key: str,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    today: date | None = None,
    objective: Objective = "mclp",
    new: int | None = None,
    budget: float | None = None,
    upgrade: bool = False,
    max_upgrades: int | None = None,
    candidates_file: Path | None = None,
    candidates_crs: str = "wgs84",
    exclude: Sequence[str] = (),
    town_rule: bool | None = None,
    capacitated: bool | None = None,
    target: float = 1.0,
    time_limit_s: float | None = None,
) -> Proposal:
    """Propose new sites (and upgrades) of one facility type.

    Parameters
    ----------
    store
        The store with residents, villages and facilities.
    type_key
        Facility type (``home``, ``psych_station``, ``care_center``, …).
    config
        Configuration: thresholds, costs (``[facility_types.<type>.siting]``),
        solver choice and limits (``[siting]``).
    networks
        Road network per mode.
    today
        Reference day for ages (default: today).
    objective
        ``mclp`` (most persons covered), ``pmedian`` (least person-minutes),
        ``lscp`` (fewest sites for ``target``).
    new
        At most this many new sites.
    budget
        Build + upgrade budget, yuan.
    upgrade
        Consider upgrading existing facilities (adds ``upgrade_capacity`` places
        for ``upgrade_cost`` yuan each).
    max_upgrades
        At most this many upgrades.
    candidates_file
        CSV/XLSX of candidate sites (default: every village committee point
        without a facility of the type).
    candidates_crs
        CRS of the file's coordinates (``wgs84``, ``gcj02``, ``bd09``).
    exclude
        Village codes or candidate names that must not be chosen.
    town_rule
        Require at least one site per town (default: types in
        ``[siting] one_per_town``).
    capacitated
        Count only persons within capacity (default: when the type's capacity
        binds and is known).
    target
        ``lscp``: share of the coverable demand to cover (0–1].
    time_limit_s
        Solver wall-clock limit (default ``[siting] time_limit_s``).
    """
    today = today or date.today()
    ft = config.facility_types.get(type_key)
    if ft is None:
        raise SitingError(f"未知的设施类型 {type_key}；可用：{'、'.join(config.facility_types)}")
    network = networks.get(ft.mode)
    if network is None:
        raise SitingError(f"缺少 {ft.mode} 道路网络：先运行 coverplan network build")
    residents = residents_frame(store)
    villages = villages_frame(store)
    facilities = facilities_frame(store)
    cands = (
        read_candidates(candidates_file, villages=villages, crs=candidates_crs)
        if candidates_file is not None
        else None
    )
    problem, sites, _ = build_problem(
        type_key=type_key,
        config=config,
        residents=residents,
        villages=villages,
        facilities=facilities,
        network=network,
        today=today,
        objective=objective,
        new=new,
        budget=budget,
        upgrade=upgrade,
        max_upgrades=max_upgrades,
        candidates=cands,
        exclude=exclude,
        town_rule=town_rule,
        capacitated=capacitated,
        target=target,
    )
    result = solve(
        problem,
        solver=config.siting.solver,
        time_limit_s=time_limit_s or config.siting.time_limit_s,
        mip_gap=config.siting.mip_gap,
        threads=config.siting.threads,
    )
    run = {"config": config, "networks": networks, "types": [type_key], "today": today}
    before = coverage_from_frames(residents, villages, facilities, isochrones=False, **run)  # type: ignore[arg-type]
    after_fac = facilities_after(facilities, sites, result, type_key=type_key)
    after = coverage_from_frames(residents, villages, after_fac, isochrones=False, **run)  # type: ignore[arg-type]
    inputs: dict[str, Any] = {
        "type": type_key,
        "objective": objective,
        "new": new,
        "budget": budget,
        "upgrade": upgrade,
        "max_upgrades": max_upgrades,
        "candidates": str(candidates_file) if candidates_file else None,
        "exclude": list(exclude),
        "town_rule": bool(problem.groups),
        "capacitated": problem.capacitated,
        "target": target if objective == "lscp" else None,
        "today": today.isoformat(),
    }
    return Proposal(
        type=type_key,
        label=ft.label,
        objective=objective,
        result=result,
        selected=_selected_table(sites, result),
        before=before,
        after=after,
        inputs=inputs,
        off_network=(*before.off_network, *sites.off_network),
    )
