"""Siting problems on arrays, and their results (build → solve → Result).

A :class:`SitingProblem` holds demand points, sites (existing facilities and
candidate new ones) and the reachable (demand, site, minutes) pairs; it knows
nothing of villages or maps. :func:`planner.siting.solve.solve` solves it and
returns a frozen :class:`SitingResult`.

Site indices run over all sites; ``existing[j]`` marks the open ones (fixed).
Demand is in persons; travel times in minutes; costs in yuan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from planner.errors import SitingError
from planner.units import FLOAT_TOL, PERCENT

if TYPE_CHECKING:
    from planner.siting.explain import Why
    from planner.siting.figures import PlanFigures

Objective = Literal["mclp", "pmedian", "lscp"]
OBJECTIVES: tuple[Objective, ...] = ("mclp", "pmedian", "lscp")
OBJECTIVE_LABELS = {
    "mclp": "最大覆盖（给定新建数）",
    "pmedian": "最小加权出行时间",
    "lscp": "最少新建点达到覆盖目标",
}
Status = Literal["optimal", "time_limit", "heuristic"]


@dataclass(frozen=True)
class SiteGroup:
    """A must-have rule: at least ``minimum`` open sites among ``sites``.

    Parameters
    ----------
    name
        Shown in messages (e.g. the town's name).
    sites
        Site indices of the group (existing ones count as open).
    minimum
        Open sites required in the group.
    """

    name: str
    sites: NDArray[np.int64]
    minimum: int = 1

    def __post_init__(self) -> None:
        if self.minimum < 0:
            raise SitingError(f"规则「{self.name}」的最少数量不能为负数")


def _arr(values: object, dtype: type) -> NDArray[Any]:
    return np.ascontiguousarray(np.asarray(values, dtype=dtype))


@dataclass(frozen=True)
class SitingProblem:
    """A location-allocation problem on arrays.

    Parameters
    ----------
    objective
        ``"mclp"`` maximise demand covered within ``threshold_min`` with at
        most ``max_new`` new sites; ``"pmedian"`` minimise total person-minutes
        (unassigned persons cost ``unserved_minutes`` each); ``"lscp"`` fewest
        new sites (plus upgrades) so that ``target`` of the coverable demand is
        covered.
    demand
        Persons at each demand point, shape ``(n,)``.
    pair_demand, pair_site, pair_minutes
        Reachable pairs: demand point, site and travel minutes. Pairs above
        ``threshold_min`` only matter to ``pmedian``.
    existing
        ``(m,)`` booleans: the site is open already (fixed open).
    site_cost
        ``(m,)`` build cost of each new site, yuan (ignored for existing ones).
    site_capacity
        ``(m,)`` places; ``inf`` for no limit. Used when ``capacitated``.
    threshold_min
        Covering threshold, minutes.
    capacitated
        Demand is covered only within site capacities (an assignment).
    max_new
        At most this many new sites (``None``: no limit).
    budget
        Total build + upgrade cost limit, yuan (``None``: no limit).
    upgrade_cost, upgrade_capacity
        ``(m,)`` cost and added places of upgrading an existing site; NaN cost
        means the site cannot be upgraded. ``None``: no upgrades considered.
    max_upgrades
        At most this many upgrades (``None``: no limit).
    groups
        Must-have rules (e.g. at least one site per town).
    target
        ``lscp`` only: share (0–1] of the coverable demand to cover.
    unserved_minutes
        ``pmedian`` only: minutes charged per person left unassigned.
    """

    objective: Objective
    demand: NDArray[np.float64]
    pair_demand: NDArray[np.int64]
    pair_site: NDArray[np.int64]
    pair_minutes: NDArray[np.float64]
    existing: NDArray[np.bool_]
    site_cost: NDArray[np.float64]
    site_capacity: NDArray[np.float64]
    threshold_min: float
    capacitated: bool = False
    max_new: int | None = None
    budget: float | None = None
    upgrade_cost: NDArray[np.float64] | None = None
    upgrade_capacity: NDArray[np.float64] | None = None
    max_upgrades: int | None = None
    groups: tuple[SiteGroup, ...] = field(default_factory=tuple)
    target: float = 1.0
    unserved_minutes: float = 120.0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise SitingError(f"未知的目标 {self.objective!r}；可选 mclp、pmedian、lscp")
        set_ = object.__setattr__
        set_(self, "demand", _arr(self.demand, np.float64))
        set_(self, "pair_demand", _arr(self.pair_demand, np.int64))
        set_(self, "pair_site", _arr(self.pair_site, np.int64))
        set_(self, "pair_minutes", _arr(self.pair_minutes, np.float64))
        set_(self, "existing", _arr(self.existing, np.bool_))
        set_(self, "site_cost", _arr(self.site_cost, np.float64))
        set_(self, "site_capacity", _arr(self.site_capacity, np.float64))
        n, m = self.n_demand, self.n_sites
        if self.demand.ndim != 1 or (self.demand < 0).any() or not np.isfinite(self.demand).all():
            raise SitingError("需求人数必须是非负的有限数")
        if not (len(self.pair_demand) == len(self.pair_site) == len(self.pair_minutes)):
            raise SitingError("可达对（需求点、站点、分钟）的长度不一致")
        if len(self.pair_demand) and (
            self.pair_demand.min() < 0
            or self.pair_demand.max() >= n
            or self.pair_site.min() < 0
            or self.pair_site.max() >= m
        ):
            raise SitingError("可达对引用了不存在的需求点或站点")
        if (self.pair_minutes < 0).any() or np.isnan(self.pair_minutes).any():
            raise SitingError("通行时间必须是非负数（分钟）")
        if len(self.site_cost) != m or len(self.site_capacity) != m:
            raise SitingError("站点的费用、容量与站点数不一致")
        if (self.site_cost[~self.existing] < 0).any() or (self.site_capacity < 0).any():
            raise SitingError("建设费用和容量不能为负数")
        if self.threshold_min <= 0:
            raise SitingError("覆盖阈值必须大于 0 分钟")
        if self.max_new is not None and self.max_new < 0:
            raise SitingError("新建数量不能为负数")
        if self.budget is not None and self.budget < 0:
            raise SitingError("预算不能为负数")
        if not 0 < self.target <= 1:
            raise SitingError("覆盖目标必须在 (0, 1] 之间，例如 0.9 表示 90%")
        if (self.upgrade_cost is None) != (self.upgrade_capacity is None):
            raise SitingError("升级费用与升级新增容量必须同时给出")
        if self.upgrade_cost is not None and self.upgrade_capacity is not None:
            set_(self, "upgrade_cost", _arr(self.upgrade_cost, np.float64))
            set_(self, "upgrade_capacity", _arr(self.upgrade_capacity, np.float64))
            if len(self.upgrade_cost) != m or len(self.upgrade_capacity) != m:
                raise SitingError("升级费用/容量与站点数不一致")
        for g in self.groups:
            if len(g.sites) and (np.min(g.sites) < 0 or np.max(g.sites) >= m):
                raise SitingError(f"规则「{g.name}」引用了不存在的站点")

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return len(self.demand)

    @property
    def n_sites(self) -> int:
        """Number of sites (existing and candidate)."""
        return len(self.existing)

    @property
    def candidates(self) -> NDArray[np.int64]:
        """Indices of the candidate (not yet open) sites."""
        return np.flatnonzero(~self.existing)

    @property
    def upgradable(self) -> NDArray[np.int64]:
        """Indices of existing sites that may be upgraded."""
        if self.upgrade_cost is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.existing & np.isfinite(self.upgrade_cost))

    @property
    def maximise(self) -> bool:
        """True when a larger objective is better (MCLP)."""
        return self.objective == "mclp"


@dataclass(frozen=True)
class SitingResult:
    """A solved siting problem.

    Attributes
    ----------
    objective_kind
        ``mclp`` / ``pmedian`` / ``lscp``.
    opened
        New sites, ranked: each adds the most to the objective given those
        before it.
    marginal
        Objective change of each opened site in that order (persons for
        MCLP, person-minutes saved for p-median, persons for LSCP).
    upgraded
        Existing sites upgraded.
    objective
        MCLP: persons covered (existing sites included); p-median: person-minutes
        (unassigned persons at ``unserved_minutes``); LSCP: new sites + upgrades.
    bound
        Proven bound on the optimum (upper for MCLP, lower otherwise).
    gap
        Relative distance between ``objective`` and ``bound`` (0 = optimal).
    seconds
        Wall-clock solve time.
    status
        ``optimal`` (gap within the tolerance), ``time_limit`` or ``heuristic``.
    solver
        What produced the solution and the bound (e.g. ``highs``, ``cbc``,
        ``greedy+interchange / lp-bound``).
    cost
        Build + upgrade cost, yuan.
    served
        Persons of each demand point covered (MCLP/LSCP) or assigned
        (p-median), shape ``(n,)``.
    person_minutes
        Total minutes travelled by the served persons.
    figures
        The plan's figures on every tie-breaking criterion
        (:mod:`planner.siting.figures`); ``None`` only for results built by hand.
    why
        Per decision (new sites in ``opened`` order, then upgrades): what it
        adds and the best site that could replace it (:mod:`planner.siting.explain`).
    tie_break
        ``optimal`` when every tie-breaking stage was solved to optimality,
        ``time_limit`` when one stopped at the limit, ``heuristic`` when only
        swaps were tried (the LP-kernel path).
    """

    objective_kind: Objective
    opened: NDArray[np.int64]
    marginal: NDArray[np.float64]
    upgraded: NDArray[np.int64]
    objective: float
    bound: float
    gap: float
    seconds: float
    status: Status
    solver: str
    cost: float
    served: NDArray[np.float64]
    person_minutes: float
    figures: PlanFigures | None = None
    why: tuple[Why, ...] = ()
    tie_break: Status = "optimal"

    @property
    def is_feasible(self) -> bool:
        """Always true: an infeasible problem raises :class:`SitingError`."""
        return True

    def summary(self) -> str:
        """A few lines in Chinese for the command line."""
        gap = f"{self.gap * PERCENT:.2f}%"
        return (
            f"目标：{OBJECTIVE_LABELS[self.objective_kind]}\n"
            f"新建 {len(self.opened)} 处，升级 {len(self.upgraded)} 处，费用 {self.cost:,.0f} 元\n"
            f"目标值 {self.objective:,.1f}，界 {self.bound:,.1f}，差距 {gap}，"
            f"{self.seconds:.1f} 秒（{self.solver}，{self.status}）"
        )


def relative_gap(objective: float, bound: float, *, maximise: bool) -> float:
    """Relative gap between a solution's objective and a proven bound (≥ 0)."""
    if maximise:
        diff, scale = bound - objective, abs(bound)
    else:
        diff, scale = objective - bound, abs(objective)
    if diff <= FLOAT_TOL * max(1.0, scale):
        return 0.0
    return float(diff / scale) if scale > 0 else float("inf")
