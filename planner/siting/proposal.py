"""A siting proposal from frames: build the problem, solve, before/after coverage.

:func:`propose` takes the frames of the store (residents, villages, facilities),
the road networks and the :class:`~planner.siting.options.SitingOptions`, and
returns a typed :class:`Proposal`: the new sites and upgrades ranked, and the
type's coverage before and after. The before/after figures come from the
coverage engine itself (:func:`planner.coverage.engine.coverage_from_frames`),
run on the facilities before and after the proposal, so they match
``coverplan coverage`` exactly. Reading the store and the candidates file is the
caller's (:func:`planner.services.siting.site`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from geo.graph import RoadNetwork
from planner.coverage.engine import CoverageResult, coverage_from_frames
from planner.errors import SitingError
from planner.jsonable import records, to_jsonable
from planner.progress import Progress, scaled, silent
from planner.settings import Config
from planner.siting.from_frames import Sites, problem_from_frames
from planner.siting.options import SitingOptions, SolverParams
from planner.siting.problem import Objective, SitingResult
from planner.siting.solve import solve
from planner.units import PERCENT

__all__ = [
    "NEW_ID_BASE",
    "SELECTED_COLUMNS",
    "IndicatorChange",
    "Proposal",
    "Totals",
    "facilities_after",
    "propose",
    "selected_table",
]

NEW_ID_BASE = 10_000_000  # ids of proposed facilities, clear of stored ones
#: Columns of :attr:`Proposal.selected`, in order.
SELECTED_COLUMNS = (
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
)
#: Decimals of the WGS-84 degrees shown for a site (about 0.1 m).
LONLAT_DECIMALS = 6
#: Decimals of the marginal gain (persons or person-minutes) shown per site.
MARGINAL_DECIMALS = 3
#: Decimals of percentages and of mean minutes in the totals.
PCT_DECIMALS = 2
MINUTES_DECIMALS = 1
#: Decimals of the solve time in the JSON and in a saved scenario's metrics.
SECONDS_DECIMALS = 3
METRIC_SECONDS_DECIMALS = 2


@dataclass(frozen=True)
class Totals:
    """One facility type's coverage before or after a proposal.

    Attributes
    ----------
    facilities
        Facilities of the type.
    capacity
        Their places (``None``: some have no limit).
    eligible
        Eligible residents, home service included.
    home_service
        Eligible residents served at home (bedridden).
    covered
        Travellers within the type's threshold of a facility.
    within_capacity
        Of those, served within the facilities' places.
    coverage_pct
        ``covered`` per traveller, percent.
    within_capacity_pct
        ``within_capacity`` per traveller, percent (``None``: no travellers).
    mean_minutes
        Mean minutes of the covered travellers (``None``: nobody covered).
    """

    facilities: int
    capacity: float | None
    eligible: int
    home_service: int
    covered: int
    within_capacity: int
    coverage_pct: float | None
    within_capacity_pct: float | None
    mean_minutes: float | None

    @classmethod
    def of(cls, coverage: CoverageResult) -> Totals:
        """The totals of the (only) type of ``coverage``."""
        tc = coverage.types[0]
        travellers = tc.eligible - tc.home_service
        res = coverage.residents
        minutes = res.loc[res["covered"], "minutes"]
        return cls(
            facilities=tc.facilities,
            capacity=None if math.isinf(tc.capacity) else tc.capacity,
            eligible=tc.eligible,
            home_service=tc.home_service,
            covered=tc.covered,
            within_capacity=tc.covered_within_capacity,
            coverage_pct=tc.coverage_pct,
            within_capacity_pct=round(
                PERCENT * tc.covered_within_capacity / travellers, PCT_DECIMALS
            )
            if travellers
            else None,
            mean_minutes=round(float(minutes.mean()), MINUTES_DECIMALS) if len(minutes) else None,
        )

    def to_json(self) -> dict[str, Any]:
        """The totals as JSON (the command's ``before`` and ``after``)."""
        return to_jsonable(
            {
                "facilities": self.facilities,
                "capacity": self.capacity,
                "eligible": self.eligible,
                "home_service": self.home_service,
                "covered": self.covered,
                "within_capacity": self.within_capacity,
                "coverage_pct": self.coverage_pct,
                "within_capacity_pct": self.within_capacity_pct,
                "mean_minutes": self.mean_minutes,
            }
        )


@dataclass(frozen=True)
class IndicatorChange:
    """A 十四五 indicator the proposal moves: its value before and after, percent."""

    key: str
    name: str
    target_pct: float | None
    before_pct: float | None
    after_pct: float | None

    def to_json(self) -> dict[str, Any]:
        """``key, name, target_pct, before_pct, after_pct``."""
        return to_jsonable(
            {
                "key": self.key,
                "name": self.name,
                "target_pct": self.target_pct,
                "before_pct": self.before_pct,
                "after_pct": self.after_pct,
            }
        )


@dataclass(frozen=True)
class Proposal:
    """A solved siting proposal with its before/after effect.

    Attributes
    ----------
    options
        What was asked (``today`` filled in).
    label
        The facility type's Chinese label.
    result
        The solver's result on the arrays.
    selected
        One row per action, ranked (:data:`SELECTED_COLUMNS`): ``rank, action
        (new|upgrade), name, village_code, village_name, town_name, lon, lat``
        (WGS-84), ``cost`` (yuan), ``places`` (added; NaN: no limit),
        ``marginal`` (objective gain of that new site; NaN for upgrades).
    before, after
        :class:`~planner.coverage.engine.CoverageResult` of the type without and
        with the proposal.
    town_rule, capacitated
        The rules the problem was solved with (the options' defaults resolved).
    off_network
        Points off the road network: villages, facilities and residents (from
        ``before``) and the candidates left out.
    """

    options: SitingOptions
    label: str
    result: SitingResult
    selected: pd.DataFrame
    before: CoverageResult
    after: CoverageResult
    town_rule: bool
    capacitated: bool
    off_network: tuple[dict[str, Any], ...] = ()

    @property
    def type(self) -> str:
        """The facility type key."""
        return self.options.facility_type

    @property
    def objective(self) -> Objective:
        """``mclp`` / ``pmedian`` / ``lscp``."""
        return self.options.objective

    @property
    def today(self) -> date:
        """The reference day of the run."""
        assert self.options.today is not None
        return self.options.today

    @property
    def inputs(self) -> dict[str, Any]:
        """What the proposal was asked (saved with a scenario)."""
        return self.options.inputs(
            town_rule=self.town_rule, capacitated=self.capacitated, today=self.today
        )

    def totals(self, which: Literal["before", "after"]) -> Totals:
        """Before or after totals of the type (persons, percent, minutes)."""
        return Totals.of(self.before if which == "before" else self.after)

    def towns(self) -> pd.DataFrame:
        """Per town: ``town_name``, then ``eligible, covered, covered_within_capacity,
        coverage_pct`` with ``_before`` and ``_after``, and ``gain`` (within capacity)."""
        cols = ["eligible", "covered", "covered_within_capacity", "coverage_pct"]
        b = self.before.towns.set_index("town_name")[cols]
        a = self.after.towns.set_index("town_name")[cols]
        out = b.add_suffix("_before").join(a.add_suffix("_after"), how="outer").fillna(0)
        out = out.reset_index()
        out["gain"] = out["covered_within_capacity_after"] - out["covered_within_capacity_before"]
        return out

    def indicators(self) -> list[IndicatorChange]:
        """十四五 indicators the proposal changes, before and after."""
        after = {k: v for k, _, _, v in _percents(self.after)}
        return [
            IndicatorChange(key, name, target, before, after[key])
            for key, name, target, before in _percents(self.before)
            if key in after and before != after[key]
        ]

    def metrics(self) -> dict[str, float | int | str | None]:
        """Flat figures for a saved scenario (see :mod:`planner.scenarios`)."""
        b, a = self.totals("before"), self.totals("after")
        r = self.result
        return {
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "seconds": round(r.seconds, METRIC_SECONDS_DECIMALS),
            "cost": r.cost,
            "new_sites": len(r.opened),
            "upgrades": len(r.upgraded),
            "eligible": b.eligible,
            "covered_before": b.covered,
            "covered_after": a.covered,
            "within_capacity_before": b.within_capacity,
            "within_capacity_after": a.within_capacity,
            "coverage_pct_before": b.coverage_pct,
            "coverage_pct_after": a.coverage_pct,
            "mean_minutes_before": b.mean_minutes,
            "mean_minutes_after": a.mean_minutes,
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
        """The command's JSON (and a saved scenario's ``result``): ``type, label,
        objective_kind, selected, objective, bound, gap, seconds, status, solver,
        cost, before, after, towns, indicators, inputs, off_network, not_located``."""
        r = self.result
        return {
            "type": self.type,
            "label": self.label,
            "objective_kind": self.objective,
            "selected": records(self.selected),
            "objective": to_jsonable(r.objective),
            "bound": to_jsonable(r.bound),
            "gap": to_jsonable(r.gap),
            "seconds": round(r.seconds, SECONDS_DECIMALS),
            "status": r.status,
            "solver": r.solver,
            "cost": to_jsonable(r.cost),
            "before": self.totals("before").to_json(),
            "after": self.totals("after").to_json(),
            "towns": records(self.towns()),
            "indicators": [i.to_json() for i in self.indicators()],
            "inputs": to_jsonable(self.inputs),
            "off_network": to_jsonable(list(self.off_network)),
            "not_located": to_jsonable(list(self.before.not_located)),
        }


def _percents(result: CoverageResult) -> list[tuple[str, str, float | None, float | None]]:
    """``(key, name, target_pct, value_pct)`` of every indicator, reading and policy check."""
    return [f for i in (*result.indicators, *result.policy_checks) for f in i.percents()]


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
        "lon": round(float(site["lon"]), LONLAT_DECIMALS),
        "lat": round(float(site["lat"]), LONLAT_DECIMALS),
    }


def selected_table(sites: Sites, result: SitingResult) -> pd.DataFrame:
    """The proposal's actions, ranked: new sites by marginal gain, then upgrades
    (columns :data:`SELECTED_COLUMNS`)."""
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
                "marginal": round(float(gain), MARGINAL_DECIMALS),
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
    return pd.DataFrame(rows, columns=list(SELECTED_COLUMNS))


def propose(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    config: Config,
    options: SitingOptions,
    networks: Mapping[str, RoadNetwork],
    candidates: pd.DataFrame | None = None,
    progress: Progress = silent,
) -> Proposal:
    """Propose new sites (and upgrades) of one facility type.

    Parameters
    ----------
    residents, villages, facilities
        The store's frames (:mod:`planner.store.frames`).
    config
        Thresholds, costs (``[facility_types.<type>.siting]``), solver choice
        and limits (``[siting]``).
    options
        What is asked; ``today`` ``None`` means the day of the run,
        ``time_limit_s`` ``None`` the ``[siting]`` limit.
    networks
        Road network per mode (the type's mode is needed).
    candidates
        The user's candidate sites (:func:`planner.ingest.candidates.read_candidates`),
        or ``None`` for every village committee point without a facility of the type.
    progress
        Told each stage with the share done (0–1).

    Raises
    ------
    SitingError
        Unknown type, missing network, or a problem that cannot be solved (the
        message names the rule to relax).
    """
    ft = options.type_config(config)
    network = networks.get(ft.mode)
    if network is None:
        raise SitingError(f"缺少 {ft.mode} 道路网络：先运行 coverplan network build")
    today = options.today or date.today()
    options = replace(options, today=today)
    ft_key = options.facility_type
    progress("建立选址问题（需求点、候选点、通行时间）", 0.0)
    built = problem_from_frames(
        residents,
        villages,
        facilities,
        config=config,
        options=options,
        network=network,
        today=today,
        candidates=candidates,
    )
    params = SolverParams.from_config(config, time_limit_s=options.time_limit_s)
    result = solve(
        built.problem,
        solver=params.solver,
        time_limit_s=params.time_limit_s,
        mip_gap=params.mip_gap,
        threads=params.threads,
        kernel_pairs=params.kernel_pairs,
        progress=scaled(progress, 0.1, 0.8),
    )
    progress("计算方案前后的覆盖", 0.8)

    def coverage(fac: gpd.GeoDataFrame) -> CoverageResult:
        return coverage_from_frames(
            residents,
            villages,
            fac,
            config=config,
            networks=networks,
            types=[options.facility_type],
            today=today,
            isochrones=False,
        )

    before = coverage(facilities)
    after = coverage(facilities_after(facilities, built.sites, result, type_key=ft_key))
    progress("完成", 1.0)
    return Proposal(
        options=options,
        label=ft.label,
        result=result,
        selected=selected_table(built.sites, result),
        before=before,
        after=after,
        town_rule=bool(built.problem.groups),
        capacitated=built.problem.capacitated,
        off_network=(*before.off_network, *built.sites.off_network),
    )
