"""What a plan achieves, criterion by criterion, and the order that breaks ties.

A plan (candidate sites opened, existing sites upgraded) of a
:class:`~planner.siting.problem.SitingProblem` is scored by :class:`PlanScorer`
as :class:`PlanFigures`:

``objective``
    The problem's own objective (MCLP: persons covered, within the places when
    capacitated; p-median: person-minutes with unassigned persons at the
    penalty; LSCP: new sites + upgrades).
``count``
    New sites + upgrades.
``within_capacity``
    Persons within the threshold who get a place (a maximum flow over the
    reachable pairs and the places); ``None`` for an uncapacitated problem.
``in_reach``
    Persons within the threshold of an open site, places aside.
``minutes``
    Total minutes of those persons to their nearest open site.
``key``
    The stable key: the sum of ``site index + 1`` over the plan's decisions.
    The frame adapter numbers sites in code order, so a smaller key means
    smaller codes.

Plans are compared lexicographically in the order of :func:`criteria`: the
objective; then (MCLP and p-median) the fewest new sites and upgrades, so that
nothing is built that adds nothing to the objective; then the most persons in
reach (not for the uncapacitated MCLP, whose objective it is); then the fewest
minutes; then the smallest key. Two figures within :data:`TIE_REL_TOL` of each
other (relative) are equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import maximum_flow

from planner.siting.backends import FixedLp
from planner.siting.milp import build_model, covering_pairs
from planner.siting.problem import SitingProblem

__all__ = [
    "TIE_REL_TOL",
    "Criterion",
    "PlanFigures",
    "PlanScorer",
    "compare",
    "criteria",
    "same",
]

Criterion = Literal["objective", "count", "in_reach", "minutes", "key"]
#: Relative difference under which two figures (persons, minutes) are equal.
TIE_REL_TOL = 1e-7
#: Largest total a maximum flow is computed on in 32-bit integers.
_FLOW_MAX = 2**31 - 1


def criteria(p: SitingProblem) -> tuple[Criterion, ...]:
    """The lexicographic order of ``p``'s criteria, most important first."""
    if p.objective == "lscp":
        return ("objective", "in_reach", "minutes", "key")
    if p.objective == "mclp" and not p.capacitated:
        return ("objective", "count", "minutes", "key")
    return ("objective", "count", "in_reach", "minutes", "key")


@dataclass(frozen=True)
class PlanFigures:
    """A plan's figures (see the module docstring); persons, minutes."""

    objective: float
    count: int
    within_capacity: float | None
    in_reach: float
    minutes: float
    key: int

    def value(self, criterion: Criterion, *, maximise: bool) -> float:
        """The figure of ``criterion`` in minimisation sense (smaller is better)."""
        if criterion == "objective":
            return -self.objective if maximise else self.objective
        if criterion == "in_reach":
            return -self.in_reach
        return float(getattr(self, criterion))


def same(a: float, b: float) -> bool:
    """Whether two figures are equal within :data:`TIE_REL_TOL`."""
    return abs(a - b) <= TIE_REL_TOL * max(1.0, abs(a), abs(b))


def compare(p: SitingProblem, a: PlanFigures, b: PlanFigures, *, key: bool = True) -> int:
    """-1 when plan ``a`` comes first, 1 when ``b`` does, 0 when they tie
    (on every criterion; on every criterion but the key when ``key`` is false)."""
    for c in criteria(p):
        if c == "key" and not key:
            return 0
        va, vb = a.value(c, maximise=p.maximise), b.value(c, maximise=p.maximise)
        if not same(va, vb):
            return -1 if va < vb else 1
    return 0


def _integral(values: NDArray[np.float64]) -> bool:
    finite = values[np.isfinite(values)]
    return bool(np.all(finite == np.round(finite)))


class _Flow:
    """Maximum flow from the demand points to the open sites' places (persons).

    Nodes: source 0, demand points ``1..n``, sites ``n+1..n+m``, sink ``n+m+1``;
    the places of the sites are the only capacities that change between plans.
    """

    def __init__(self, p: SitingProblem) -> None:
        near = covering_pairs(p)
        d, s = p.pair_demand[near], p.pair_site[near]
        n, m = p.n_demand, p.n_sites
        w = p.demand.astype(np.int64)
        self.total = int(w.sum())
        src = np.zeros(n, np.int64), 1 + np.arange(n), w
        pairs = 1 + d, 1 + n + s, w[d]
        sink = 1 + n + np.arange(m), np.full(m, n + m + 1), np.zeros(m, np.int64)
        rows = np.concatenate([src[0], pairs[0], sink[0]])
        cols = np.concatenate([src[1], pairs[1], sink[1]])
        data = np.concatenate([src[2], pairs[2], sink[2]]).astype(np.int32)
        size = n + m + 2
        graph = sp.csr_array((data, (rows, cols)), shape=(size, size))
        graph.sum_duplicates()
        graph.sort_indices()
        self.graph = graph
        self.sink_pos = graph.indptr[1 + n + np.arange(m)]  # each site row: one edge, to the sink
        self.sink = n + m + 1

    def value(self, places: NDArray[np.float64]) -> float:
        """Persons served with ``places`` per site (0: closed; inf: no limit)."""
        g = self.graph.copy()
        cap = np.where(np.isfinite(places), places, self.total)
        g.data[self.sink_pos] = cap.astype(np.int32)
        return float(maximum_flow(g, 0, self.sink).flow_value)


class PlanScorer:
    """Scores plans of one problem (:class:`PlanFigures`), also many swaps at once.

    Parameters
    ----------
    problem
        The siting problem; its rules (limits, budget, groups) are not checked
        here (see :meth:`swap_ok`).
    """

    def __init__(self, problem: SitingProblem) -> None:
        p = self.p = problem
        near = covering_pairs(p)
        self.d, self.s, self.t = p.pair_demand[near], p.pair_site[near], p.pair_minutes[near]
        self.w = p.demand
        capacity_data = np.concatenate([p.demand, p.site_capacity, self._upgrade_places()])
        self.flow = (
            _Flow(p)
            if p.capacitated and _integral(capacity_data) and p.demand.sum() < _FLOW_MAX
            else None
        )
        self._lp: dict[str, FixedLp] = {}

    def _upgrade_places(self) -> NDArray[np.float64]:
        p = self.p
        return np.zeros(p.n_sites) if p.upgrade_capacity is None else p.upgrade_capacity

    # ------------------------------------------------------------ one plan

    def open_mask(self, opened: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Open sites: the existing ones and ``opened``."""
        is_open = self.p.existing.copy()
        is_open[np.asarray(opened, np.int64)] = True
        return is_open

    def places(self, opened: NDArray[np.int64], upgraded: NDArray[np.int64]) -> NDArray[np.float64]:
        """Places of every site under the plan (0 when closed)."""
        cap = np.where(self.open_mask(opened), self.p.site_capacity, 0.0)
        up = np.asarray(upgraded, np.int64)
        cap[up] += self._upgrade_places()[up]
        return cap

    def nearest(self, is_open: NDArray[np.bool_]) -> NDArray[np.float64]:
        """Minutes of each demand point to its nearest open site within the threshold
        (inf when none)."""
        best = np.full(self.p.n_demand, np.inf)
        use = is_open[self.s]
        np.minimum.at(best, self.d[use], self.t[use])
        return best

    def within_capacity(
        self, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
    ) -> float | None:
        """Persons within the threshold who get a place (``None``: uncapacitated)."""
        if not self.p.capacitated:
            return None
        if self.flow is not None:
            return self.flow.value(self.places(opened, upgraded))
        return self._lp_value("mclp", opened, upgraded)

    def _lp_value(
        self, objective: str, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
    ) -> float:
        """The objective of a fixed plan by the allocation LP (rules left out)."""
        p = self.p
        if objective not in self._lp:
            relaxed = SitingProblem(
                **{
                    **p.__dict__,
                    "objective": objective,
                    "max_new": None,
                    "budget": None,
                    "groups": (),
                    "max_upgrades": None,
                }
            )
            self._lp[objective] = FixedLp(build_model(relaxed))
        lp = self._lp[objective]
        value = lp.value(np.asarray(opened, np.int64), np.asarray(upgraded, np.int64))
        assert value is not None, "a plan without rules is always feasible"
        return lp.model.sign * value + lp.model.offset

    def pmedian_uncapacitated(self, is_open: NDArray[np.bool_]) -> float:
        """Person-minutes when every person goes to the nearest open site of the
        pairs (or pays the penalty): the p-median objective without places."""
        p = self.p
        best = np.full(p.n_demand, p.unserved_minutes)
        use = is_open[p.pair_site]
        np.minimum.at(best, p.pair_demand[use], p.pair_minutes[use])
        return float(p.demand @ best)

    def figures(self, opened: NDArray[np.int64], upgraded: NDArray[np.int64]) -> PlanFigures:
        """The figures of one plan."""
        p = self.p
        opened = np.asarray(opened, np.int64)
        upgraded = np.asarray(upgraded, np.int64)
        is_open = self.open_mask(opened)
        best = self.nearest(is_open)
        reached = np.isfinite(best)
        in_reach = float(self.w[reached].sum())
        minutes = float(self.w[reached] @ best[reached])
        within = self.within_capacity(opened, upgraded)
        count = len(opened) + len(upgraded)
        if p.objective == "lscp":
            objective = float(count)
        elif p.objective == "mclp":
            objective = in_reach if within is None else within
        elif p.capacitated:
            objective = self._lp_value("pmedian", opened, upgraded)
        else:
            objective = self.pmedian_uncapacitated(is_open)
        return PlanFigures(
            objective=objective,
            count=count,
            within_capacity=within,
            in_reach=in_reach,
            minutes=minutes,
            key=int((opened + 1).sum() + (upgraded + 1).sum()),
        )

    def meets_target(self, fig: PlanFigures, *, need: float) -> bool:
        """LSCP: whether the plan covers ``need`` persons (within the places when
        capacitated)."""
        covered = fig.in_reach if fig.within_capacity is None else fig.within_capacity
        return covered >= need - TIE_REL_TOL * max(1.0, need)

    # ------------------------------------------------------------ many swaps

    def swap_ok(
        self,
        opened: NDArray[np.int64],
        upgraded: NDArray[np.int64],
        *,
        out: int,
        pool: NDArray[np.int64],
        kind: Literal["new", "upgrade"],
    ) -> NDArray[np.bool_]:
        """Which sites of ``pool`` may replace decision ``out`` under the rules
        (budget, must-have groups); the number of decisions stays the same."""
        p = self.p
        cost = float(p.site_cost[opened].sum())
        if len(upgraded) and p.upgrade_cost is not None:
            cost += float(p.upgrade_cost[upgraded].sum())
        costs = p.site_cost if kind == "new" else p.upgrade_cost
        assert costs is not None
        ok = np.ones(len(pool), bool)
        if p.budget is not None:
            ok &= cost - costs[out] + costs[pool] <= p.budget + TIE_REL_TOL * max(1.0, p.budget)
        if kind == "new" and p.groups:
            base = self.open_mask(opened)
            base[out] = p.existing[out]
            for g in p.groups:
                members = np.zeros(p.n_sites, bool)
                members[g.sites] = True
                have = int(base[g.sites].sum())
                ok &= have + members[pool] >= g.minimum
        return ok

    def swap_figures(
        self,
        opened: NDArray[np.int64],
        upgraded: NDArray[np.int64],
        *,
        out: int,
        pool: NDArray[np.int64],
        kind: Literal["new", "upgrade"],
        need: float | None = None,
    ) -> list[PlanFigures | None]:
        """The figures of the plan with decision ``out`` replaced by each site of
        ``pool`` (new sites for ``kind="new"``, upgrades otherwise).

        Persons in reach, minutes and the uncapacitated objectives are computed
        for the whole pool at once. The exact places (maximum flows, the
        capacitated p-median's LPs) only for the swaps whose bound can still
        equal the best swap (or, given ``need``, the LSCP's persons to cover),
        best bound first; the others are ``None``: they cannot be the best
        alternative nor tie with a plan at least as good.
        """
        opened = np.asarray(opened, np.int64)
        upgraded = np.asarray(upgraded, np.int64)
        if kind == "new":
            base = opened[opened != out], upgraded
        else:
            base = opened, upgraded[upgraded != out]
        plans = [
            (np.append(base[0], a), base[1]) if kind == "new" else (base[0], np.append(base[1], a))
            for a in pool
        ]
        reach, minutes = self._reach_minutes(base[0], pool, kind=kind)
        objective, within = self._swap_places(
            plans, base, pool, (reach, minutes), kind=kind, need=need
        )
        count = len(opened) + len(upgraded)
        key0 = int((base[0] + 1).sum() + (base[1] + 1).sum())
        return [
            None
            if math.isnan(objective[k])
            else PlanFigures(
                objective=float(objective[k]),
                count=count,
                within_capacity=None if within is None else float(within[k]),
                in_reach=float(reach[k]),
                minutes=float(minutes[k]),
                key=key0 + int(a) + 1,
            )
            for k, a in enumerate(pool)
        ]

    def _reach_minutes(
        self, base_open: NDArray[np.int64], pool: NDArray[np.int64], *, kind: str
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Persons in reach and minutes of ``base_open`` plus each site of ``pool``."""
        best = self.nearest(self.open_mask(base_open))
        reached = np.isfinite(best)
        reach0 = float(self.w[reached].sum())
        minutes0 = float(self.w[reached] @ best[reached])
        if kind != "new":  # an upgrade adds places only
            return np.full(len(pool), reach0), np.full(len(pool), minutes0)
        in_pool = np.full(self.p.n_sites, -1, np.int64)
        in_pool[pool] = np.arange(len(pool))
        use = in_pool[self.s] >= 0
        d, col, t = self.d[use], in_pool[self.s[use]], self.t[use]
        new = ~reached[d]
        b = np.where(new, t, best[d])
        gain = np.where(new, self.w[d], 0.0)
        delta = self.w[d] * np.where(new, t, np.minimum(t - b, 0.0))
        k = len(pool)
        reach = reach0 + np.bincount(col, weights=gain, minlength=k).astype(np.float64)
        minutes = minutes0 + np.bincount(col, weights=delta, minlength=k).astype(np.float64)
        return reach, minutes

    def _swap_places(
        self,
        plans: list[tuple[NDArray[np.int64], NDArray[np.int64]]],
        base: tuple[NDArray[np.int64], NDArray[np.int64]],
        pool: NDArray[np.int64],
        reach_minutes: tuple[NDArray[np.float64], NDArray[np.float64]],
        *,
        kind: str,
        need: float | None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
        """Objective and persons within the places of each swap (NaN: not computed)."""
        p = self.p
        reach, minutes = reach_minutes
        k = len(plans)
        if not p.capacitated:
            if p.objective == "pmedian":
                objective = np.array(
                    [self.pmedian_uncapacitated(self.open_mask(o)) for o, _ in plans]
                )
            elif p.objective == "mclp":
                objective = reach.copy()
            else:
                objective = np.full(k, float(len(base[0]) + len(base[1]) + 1))
            return objective, None
        within = np.full(k, np.nan)
        if p.objective == "mclp":
            bound = self._within_bounds(base, pool, kind=kind)
            within = self._exact_in_order(bound, self._within, plans, up=False)
            return within.copy(), within
        if p.objective == "pmedian":  # without places, a lower bound on the minutes
            lower = np.array([self.pmedian_uncapacitated(self.open_mask(o)) for o, _ in plans])
            objective = self._exact_in_order(
                lower, lambda o, u: self._lp_value("pmedian", o, u), plans, up=True
            )
            for t in np.flatnonzero(~np.isnan(objective)):
                within[t] = self._within(*plans[t])
            return objective, within
        # LSCP: the same number of sites; the first swap in the order of persons in
        # reach and minutes that covers the need is the best, those equal to it tie
        assert need is not None
        first: int | None = None
        for t in np.lexsort((pool, minutes, -reach)):
            if first is not None and not (
                same(reach[t], reach[first]) and same(minutes[t], minutes[first])
            ):
                break
            within[t] = self._within(*plans[t])
            if first is None and within[t] >= need - TIE_REL_TOL * max(1.0, need):
                first = int(t)
        objective = np.where(np.isnan(within), np.nan, float(len(base[0]) + len(base[1]) + 1))
        return objective, within

    def _within(self, opened: NDArray[np.int64], upgraded: NDArray[np.int64]) -> float:
        value = self.within_capacity(opened, upgraded)
        assert value is not None
        return value

    def _within_bounds(
        self,
        base: tuple[NDArray[np.int64], NDArray[np.int64]],
        pool: NDArray[np.int64],
        *,
        kind: str,
    ) -> NDArray[np.float64]:
        """Upper bounds on the persons within the places of each swap: those of
        the plan without the swapped decision, plus at most the places the
        swap adds and the persons within reach of its site."""
        p = self.p
        within0 = self._within(*base)
        added = p.site_capacity[pool] if kind == "new" else self._upgrade_places()[pool]
        near = np.bincount(self.s, weights=self.w[self.d], minlength=p.n_sites)[pool]
        return within0 + np.minimum(added, near)

    def _exact_in_order(
        self,
        bound: NDArray[np.float64],
        exact: Callable[[NDArray[np.int64], NDArray[np.int64]], float],
        plans: list[tuple[NDArray[np.int64], NDArray[np.int64]]],
        *,
        up: bool,
    ) -> NDArray[np.float64]:
        """Exact values of the swaps whose bound can still equal the best exact
        value found, best bound first; the others NaN. ``up``: values are
        minimised and the exact value is at least the bound; else maximised and
        at most the bound."""
        out = np.full(len(plans), np.nan)
        best: float | None = None
        for k in np.argsort(bound if up else -bound, kind="stable"):
            worse = best is not None and ((bound[k] > best) if up else (bound[k] < best))
            if worse and best is not None and not same(bound[k], best):
                break
            out[k] = exact(*plans[k])
            if best is None or ((out[k] < best) if up else (out[k] > best)):
                best = float(out[k])
        return out
