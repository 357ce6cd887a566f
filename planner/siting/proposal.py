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
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geo.graph import RoadNetwork
from planner.coverage.engine import CoverageResult, coverage_from_frames
from planner.errors import SitingError
from planner.jsonable import records, to_jsonable
from planner.progress import Progress, scaled, silent
from planner.settings import Config
from planner.siting.after import (
    NEW_ID_BASE,
    SELECTED_COLUMNS,
    facilities_after,
    selected_table,
)
from planner.siting.changes import SiteChanges, apply_changes, change_rows, relocation_plots
from planner.siting.from_frames import (
    CANDIDATE_FRAME_COLUMNS,
    BuiltProblem,
    problem_from_frames,
)
from planner.siting.options import SitingOptions, SolverParams
from planner.siting.problem import Objective, SiteGroup, SitingResult
from planner.siting.reasons import tie_break_json, why_json
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

#: The rule that a relocation to the best plot opens one of its plots.
RELOCATION_GROUP = "迁建地块"
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
    extras
        Per row of ``selected``: ``why`` (a solver's choice: what it adds and the
        best and tied alternatives, :func:`planner.siting.reasons.why_json`) and
        ``facility`` (a closure or relocation: the facility's code, name and old
        site); ``None`` where they do not apply.
    tie_break
        The order of the tie-breaking criteria, their status and the plan's
        figures (:func:`planner.siting.reasons.tie_break_json`).
    change_cost
        Build cost of the relocations to a given place, yuan (the solver's
        choices are in ``result.cost``).
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
    extras: tuple[dict[str, Any], ...] = ()
    tie_break: dict[str, Any] = field(default_factory=dict)
    change_cost: float = 0.0

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

    @property
    def cost(self) -> float:
        """Build, upgrade and relocation cost of the proposal, yuan."""
        return self.result.cost + self.change_cost

    def _count(self, action: str) -> int:
        return int((self.selected["action"] == action).sum())

    def metrics(self) -> dict[str, float | int | str | None]:
        """Flat figures for a saved scenario (see :mod:`planner.scenarios`)."""
        b, a = self.totals("before"), self.totals("after")
        r = self.result
        return {
            "objective": r.objective,
            "bound": r.bound,
            "gap": r.gap,
            "seconds": round(r.seconds, METRIC_SECONDS_DECIMALS),
            "cost": self.cost,
            "new_sites": self._count("new"),
            "upgrades": len(r.upgraded),
            "closures": self._count("close"),
            "relocations": self._count("relocate"),
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
        objective_kind, selected`` (each with ``why`` and ``facility``, see
        :attr:`extras`), ``objective, bound, gap, seconds, status, solver,
        tie_break, cost, before, after, towns, indicators, inputs, off_network,
        not_located``."""
        r = self.result
        selected = records(self.selected)
        for row, extra in zip(selected, self.extras, strict=False):
            row.update(extra)
        return {
            "type": self.type,
            "label": self.label,
            "objective_kind": self.objective,
            "selected": selected,
            "objective": to_jsonable(r.objective),
            "bound": to_jsonable(r.bound),
            "gap": to_jsonable(r.gap),
            "seconds": round(r.seconds, SECONDS_DECIMALS),
            "status": r.status,
            "solver": r.solver,
            "tie_break": self.tie_break,
            "cost": to_jsonable(self.cost),
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


def _capacity_of(facilities: pd.DataFrame, code: str) -> float | None:
    value = facilities.loc[facilities["key"] == code, "capacity"].iloc[0]
    return None if value is None or pd.isna(value) else float(value)


def _build(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    base: gpd.GeoDataFrame,
    *,
    facilities: gpd.GeoDataFrame,
    config: Config,
    options: SitingOptions,
    network: RoadNetwork,
    candidates: pd.DataFrame | None,
    changes: SiteChanges,
) -> BuiltProblem:
    """The problem on the facilities after the user's changes (``base``). A
    relocation to the best plot opens exactly one of its plots (with the
    facility's places); closures and moves alone add no new site."""
    ft = options.type_config(config)
    best = changes.best
    new = options.new
    if best is not None:
        hosted = set(base.loc[base["type"] == options.facility_type, "village_code"].dropna())
        candidates = relocation_plots(
            villages,
            candidates=candidates,
            hosted=hosted,
            capacity=_capacity_of(facilities, best.facility),
            build_cost=ft.siting.build_cost,
        )
        new = 1
    elif options.changes_only:
        if not options.upgrade:
            candidates = pd.DataFrame(columns=list(CANDIDATE_FRAME_COLUMNS))
        new = 0
    built = problem_from_frames(
        residents,
        villages,
        base,
        config=config,
        # the changes are applied to ``base``: the problem sees the sites as they are then
        options=replace(
            options, new=new, close=(), relocate=(), town_rule=options.town_rule_for(config)
        ),
        network=network,
        today=options.today or date.today(),
        candidates=candidates,
    )
    if best is None:
        return built
    plots = SiteGroup(name=RELOCATION_GROUP, sites=built.problem.candidates, minimum=1)
    problem = replace(built.problem, groups=(*built.problem.groups, plots))
    return replace(built, problem=problem)


def propose(
    residents: pd.DataFrame,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    config: Config,
    options: SitingOptions,
    networks: Mapping[str, RoadNetwork],
    candidates: pd.DataFrame | None = None,
    changes: SiteChanges | None = None,
    progress: Progress = silent,
) -> Proposal:
    """Propose new sites (and upgrades) of one facility type, after closing or
    relocating existing ones.

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
    changes
        Closures and relocations (:class:`~planner.siting.changes.SiteChanges`):
        "after" is without the closed facilities, with the moved ones moved.
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
    changes = changes or SiteChanges()
    ft_key = options.facility_type
    base = facilities if changes.empty else apply_changes(facilities, changes, villages=villages)
    progress("建立选址问题（需求点、候选点、通行时间）", 0.0)
    built = _build(
        residents,
        villages,
        base,
        facilities=facilities,
        config=config,
        options=options,
        network=network,
        candidates=candidates,
        changes=changes,
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
    after = coverage(facilities_after(base, built.sites, result, type_key=ft_key))
    progress("完成", 1.0)
    return _proposal(
        built,
        result,
        (before, after),
        options=options,
        label=ft.label,
        rows=change_rows(facilities, changes, villages=villages, build_cost=ft.siting.build_cost),
        changes=changes,
        facilities=facilities,
    )


def _proposal(
    built: BuiltProblem,
    result: SitingResult,
    coverage: tuple[CoverageResult, CoverageResult],
    *,
    options: SitingOptions,
    label: str,
    rows: list[dict[str, Any]],
    changes: SiteChanges,
    facilities: pd.DataFrame,
) -> Proposal:
    """The proposal of a solved problem: the user's changes (``rows``) and the
    solver's choices ranked, their reasons, and the coverage before and after."""
    before, after = coverage
    reasons = [why_json(w, built.sites.frame) for w in result.why]
    return Proposal(
        options=options,
        label=label,
        result=result,
        selected=selected_table(
            built.sites,
            result,
            changes=rows,
            opened_as="relocate" if changes.best is not None else "new",
        ),
        before=before,
        after=after,
        town_rule=any(g.name != RELOCATION_GROUP for g in built.problem.groups),
        capacitated=built.problem.capacitated,
        off_network=(
            *before.off_network,
            *(e for e in after.off_network if e not in before.off_network),  # a moved one
            *built.sites.off_network,
        ),
        extras=_extras(rows, reasons, changes=changes, facilities=facilities),
        tie_break=tie_break_json(built.problem, result),
        change_cost=float(sum(r["cost"] for r in rows)),
    )


def _extras(
    rows: list[dict[str, Any]],
    reasons: list[dict[str, Any]],
    *,
    changes: SiteChanges,
    facilities: pd.DataFrame,
) -> tuple[dict[str, Any], ...]:
    """``why`` and ``facility`` per row of the proposal, in its order."""
    out = [{"why": None, "facility": to_jsonable(r["facility"])} for r in rows]
    moved = None
    if changes.best is not None:
        f = facilities[facilities["key"] == changes.best.facility].iloc[0]
        moved = to_jsonable(
            {
                "code": f["key"],
                "name": f["name"],
                "village_code": f["village_code"],
                "lon": f["lon"],
                "lat": f["lat"],
                "capacity": _capacity_of(facilities, changes.best.facility),
            }
        )
    for k, why in enumerate(reasons):
        out.append({"why": why, "facility": moved if k == 0 else None})
    return tuple(out)
