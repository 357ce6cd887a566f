"""Mixed-integer models of siting problems, built with numpy.

:func:`build_model` turns a :class:`~planner.siting.problem.SitingProblem` into
one minimisation model (maximisation objectives are negated), with sparse rows
added per family of constraints: the allocation of demand (coverage or
assignment), the links between allocation and open sites, the capacities, then
the objective's target and the rules (new sites, upgrades, budget, groups).
:mod:`planner.siting.backends` solves it with HiGHS or CBC.

Columns, in order: ``y`` (open a candidate site), ``u`` (upgrade an existing
site), then the allocation columns: ``z`` per demand point (uncapacitated
coverage), or ``x`` per reachable pair (capacitated coverage: persons;
p-median: share of the point's demand) and ``s`` per demand point (p-median:
unassigned share).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.problem import SitingProblem
from planner.units import FLOAT_TOL

__all__ = [
    "INF",
    "SOLVERS",
    "CoverMatrix",
    "Model",
    "Solver",
    "build_model",
    "cover_matrix",
    "coverable_demand",
    "covering_pairs",
]

Solver = Literal["highs", "cbc"]
SOLVERS: tuple[Solver, ...] = ("highs", "cbc")
INF = np.inf


@dataclass(frozen=True)
class Model:
    """A minimisation MILP: ``min c·x + offset`` s.t. ``row_lo ≤ A x ≤ row_hi``.

    ``sign`` maps back to the problem's sense: problem objective =
    ``sign * (c·x) + offset``. ``y_col[j]`` / ``u_col[j]`` give the column of site
    ``j``'s open / upgrade variable (-1 when none). ``demand_of_col`` and
    ``served_factor`` turn allocation columns into persons served per demand
    point; ``base_served`` is what is served regardless (covered by existing
    sites in uncapacitated coverage). ``row_names`` labels the rules for messages.
    """

    c: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    integer: NDArray[np.bool_]
    A: sp.csr_matrix
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    offset: float
    sign: float
    y_col: NDArray[np.int64]
    u_col: NDArray[np.int64]
    served_col: NDArray[np.int64]  # allocation columns that serve persons
    served_demand: NDArray[np.int64]  # demand point of each of those columns
    served_factor: NDArray[np.float64]  # persons per unit of the column
    minutes_factor: NDArray[np.float64]  # person-minutes per unit of the column
    base_served: NDArray[np.float64]
    rules: dict[str, int]  # rule name → row index

    @property
    def n_cols(self) -> int:
        return len(self.c)


class _Rows:
    """Accumulates sparse rows as coordinate triplets."""

    def __init__(self) -> None:
        self.r: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.int64]] = []
        self.v: list[NDArray[np.float64]] = []
        self.lo: list[NDArray[np.float64]] = []
        self.hi: list[NDArray[np.float64]] = []
        self.n = 0

    def add(
        self,
        row: NDArray[np.int64],
        col: NDArray[np.int64],
        val: NDArray[np.float64],
        lo: NDArray[np.float64],
        hi: NDArray[np.float64],
    ) -> int:
        first = self.n
        self.r.append(np.asarray(row, np.int64) + first)
        self.c.append(np.asarray(col, np.int64))
        self.v.append(np.asarray(val, np.float64))
        self.lo.append(np.asarray(lo, np.float64))
        self.hi.append(np.asarray(hi, np.float64))
        self.n += len(lo)
        return first

    def add_one(
        self, col: NDArray[np.int64], val: NDArray[np.float64], lo: float, hi: float
    ) -> int:
        return self.add(np.zeros(len(col), np.int64), col, val, np.array([lo]), np.array([hi]))

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
        if not self.r:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        r, c, v = np.concatenate(self.r), np.concatenate(self.c), np.concatenate(self.v)
        a = sp.csr_matrix((v, (r, c)), shape=(self.n, n_cols))
        a.sum_duplicates()
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


def covering_pairs(problem: SitingProblem) -> NDArray[np.bool_]:
    """Mask of the pairs within the covering threshold."""
    return problem.pair_minutes <= problem.threshold_min


def coverable_demand(problem: SitingProblem) -> float:
    """Persons within the threshold of at least one site (existing or candidate)."""
    coverable = np.zeros(problem.n_demand, bool)
    coverable[problem.pair_demand[covering_pairs(problem)]] = True
    return float(problem.demand[coverable].sum())


@dataclass(frozen=True)
class CoverMatrix:
    """Demand not covered by existing sites, merged into groups of points with
    the same covering candidates: ``A`` is groups × candidate columns,
    ``w`` the persons per group, ``group[t]`` the group of point ``points[t]``."""

    A: sp.csr_matrix
    w: NDArray[np.float64]
    points: NDArray[np.int64]
    group: NDArray[np.int64]
    base_served: NDArray[np.float64]


def cover_matrix(problem: SitingProblem, *, y_col: NDArray[np.int64], n_cand: int) -> CoverMatrix:
    """The merged coverage matrix of the demand left by the existing sites."""
    p = problem
    n = p.n_demand
    near = covering_pairs(p)
    pd_, ps = p.pair_demand[near], p.pair_site[near]
    by_existing = np.zeros(n, bool)
    by_existing[pd_[p.existing[ps]]] = True
    base_served = np.where(by_existing, p.demand, 0.0)
    new = (y_col[ps] >= 0) & ~by_existing[pd_]
    full = sp.csr_matrix((np.ones(int(new.sum())), (pd_[new], y_col[ps[new]])), shape=(n, n_cand))
    full.sum_duplicates()
    full.sort_indices()
    full.data[:] = 1.0
    points = np.flatnonzero((full.getnnz(axis=1) > 0) & (p.demand > 0))
    keys: dict[bytes, int] = {}
    group = np.empty(len(points), np.int64)
    ind, ptr = full.indices, full.indptr
    for t, i in enumerate(points):
        group[t] = keys.setdefault(ind[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    first = np.full(len(keys), -1, np.int64)
    first[group[::-1]] = points[::-1]
    w = np.bincount(group, weights=p.demand[points], minlength=len(keys)).astype(np.float64)
    return CoverMatrix(full[first], w, points, group, base_served)


def _group_by_sites(
    n: int, pd_: NDArray[np.int64], ps: NDArray[np.int64], m: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Group demand points with identical site sets: group per point (-1: no
    pairs) and the first point of each group."""
    mat = sp.csr_matrix((np.ones(len(pd_)), (pd_, ps)), shape=(n, m))
    mat.sum_duplicates()
    mat.sort_indices()
    group_of = np.full(n, -1, np.int64)
    keys: dict[bytes, int] = {}
    ind, ptr = mat.indices, mat.indptr
    for i in np.flatnonzero(np.diff(ptr) > 0):
        group_of[i] = keys.setdefault(ind[ptr[i] : ptr[i + 1]].tobytes(), len(keys))
    reps = np.full(len(keys), -1, np.int64)
    has = np.flatnonzero(group_of >= 0)
    reps[group_of[has[::-1]]] = has[::-1]
    return group_of, reps


@dataclass(frozen=True)
class _Decisions:
    """The integer columns: open candidate ``cand[t]`` is column ``t`` (``y_col``),
    upgrade existing site ``upg[t]`` column ``len(cand) + t`` (``u_col``); ``cost``
    per integer column, yuan."""

    cand: NDArray[np.int64]
    y_col: NDArray[np.int64]
    upg: NDArray[np.int64]
    u_col: NDArray[np.int64]
    cost: NDArray[np.float64]

    @property
    def n_int(self) -> int:
        return len(self.cand) + len(self.upg)


@dataclass(frozen=True)
class _Allocation:
    """The allocation columns after the integer ones, their objective, bounds and
    how they turn into persons served and person-minutes."""

    n_cols: int
    c: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    served_col: NDArray[np.int64]
    served_demand: NDArray[np.int64]
    served_factor: NDArray[np.float64]
    minutes_factor: NDArray[np.float64]
    base_served: NDArray[np.float64]


def _decisions(p: SitingProblem, restrict: NDArray[np.int64] | None) -> _Decisions:
    m = p.n_sites
    cand = p.candidates if restrict is None else np.intersect1d(restrict, p.candidates)
    y_col = np.full(m, -1, np.int64)
    y_col[cand] = np.arange(len(cand))
    upg = p.upgradable if p.capacitated or p.objective == "pmedian" else np.zeros(0, np.int64)
    u_col = np.full(m, -1, np.int64)
    u_col[upg] = len(cand) + np.arange(len(upg))
    cost = np.zeros(len(cand) + len(upg))
    cost[: len(cand)] = p.site_cost[cand]
    if len(upg):
        assert p.upgrade_cost is not None
        cost[len(cand) :] = p.upgrade_cost[upg]
    return _Decisions(cand=cand, y_col=y_col, upg=upg, u_col=u_col, cost=cost)


def _coverage_allocation(p: SitingProblem, d: _Decisions, rows: _Rows) -> _Allocation:
    """Uncapacitated coverage: ``z_g ≤ Σ_{new j covering group g} y_j``, one ``z``
    per group of demand points with the same set of covering candidates."""
    cover = cover_matrix(p, y_col=d.y_col, n_cand=len(d.cand))
    n_groups = cover.A.shape[0]
    z_col = d.n_int + np.arange(n_groups)
    n_cols = d.n_int + n_groups
    a = cover.A.tocoo()
    rows.add(
        np.concatenate([np.arange(n_groups), a.row]),
        np.concatenate([z_col, a.col]),
        np.concatenate([np.ones(n_groups), -np.ones(a.nnz)]),
        np.full(n_groups, -INF),
        np.zeros(n_groups),
    )
    served_col = z_col[cover.group]
    return _Allocation(
        n_cols=n_cols,
        c=np.zeros(n_cols),
        lower=np.zeros(n_cols),
        upper=np.ones(n_cols),
        served_col=served_col,
        served_demand=cover.points,
        served_factor=p.demand[cover.points],
        minutes_factor=np.zeros(len(served_col)),
        base_served=cover.base_served,
    )


@dataclass(frozen=True)
class _PairGroups:
    """Allocation pairs ``(gp_d, gp_s)`` over groups of demand points with weight
    ``gw`` (persons); pair ``t`` of the model's pairs feeds column
    ``contrib_col[t]`` with ``contrib_factor[t]`` persons per unit."""

    gp_d: NDArray[np.int64]
    gp_s: NDArray[np.int64]
    gw: NDArray[np.float64]
    contrib_col: NDArray[np.int64]
    contrib_factor: NDArray[np.float64]


def _pair_groups(p: SitingProblem, pd_: NDArray[np.int64], ps: NDArray[np.int64]) -> _PairGroups:
    if p.objective == "pmedian":
        # no merging: a point's minutes to each site matter
        return _PairGroups(pd_, ps, p.demand, np.arange(len(pd_)), p.demand[pd_])
    # merge points with the same covering sites; x = persons of the group
    n, m = p.n_demand, p.n_sites
    group_of, reps = _group_by_sites(n, pd_, ps, m)
    grp = sp.csr_matrix((np.ones(len(pd_)), (group_of[pd_], ps)), shape=(len(reps), m))
    grp.sum_duplicates()
    grp.sort_indices()
    g = grp.tocoo()
    gp_d, gp_s = g.row.astype(np.int64), g.col.astype(np.int64)
    member = np.flatnonzero(group_of >= 0)
    gw = np.bincount(group_of[member], weights=p.demand[member], minlength=len(reps)).astype(
        np.float64
    )
    keys = gp_d * m + gp_s
    contrib_col = np.searchsorted(keys, group_of[pd_] * m + ps)
    contrib_factor = p.demand[pd_] / gw[group_of[pd_]]
    return _PairGroups(gp_d, gp_s, gw, contrib_col, contrib_factor)


def _link_rows(
    p: SitingProblem,
    d: _Decisions,
    rows: _Rows,
    *,
    gp_s: NDArray[np.int64],
    x_col: NDArray[np.int64],
    link_val: NDArray[np.float64],
    strong: bool,
) -> None:
    """``x_ij ≤ (W or 1) · y_j`` for pairs with a new site: a tight link, one row per pair."""
    is_new = d.y_col[gp_s] >= 0
    if p.capacitated and not strong:
        # the capacity row ties x to y; a new site without a limit (inf)
        # has no such row and needs the link, else it serves while closed
        is_new &= ~np.isfinite(p.site_capacity[gp_s])
    if not is_new.any():
        return
    k = int(is_new.sum())
    rows.add(
        np.concatenate([np.arange(k), np.arange(k)]),
        np.concatenate([x_col[is_new], d.y_col[gp_s[is_new]]]),
        np.concatenate([np.ones(k), -link_val[is_new]]),
        np.full(k, -INF),
        np.zeros(k),
    )


def _capacity_rows(
    p: SitingProblem,
    d: _Decisions,
    rows: _Rows,
    *,
    gp_s: NDArray[np.int64],
    x_col: NDArray[np.int64],
    load: NDArray[np.float64],
) -> None:
    """Persons assigned to a site ≤ its places (existing), or places × ``y`` (new),
    plus the upgrade's places × ``u``; sites without a limit have no row."""
    m = p.n_sites
    sites = np.unique(gp_s)
    finite = sites[np.isfinite(p.site_capacity[sites])]
    spos = np.full(m, -1, np.int64)
    spos[finite] = np.arange(len(finite))
    on = spos[gp_s] >= 0
    r = [spos[gp_s[on]]]
    cc = [x_col[on]]
    v = [load[on]]
    hi = np.where(p.existing[finite], p.site_capacity[finite], 0.0)
    newf = finite[d.y_col[finite] >= 0]
    r.append(spos[newf])
    cc.append(d.y_col[newf])
    v.append(-p.site_capacity[newf])
    upf = finite[d.u_col[finite] >= 0]
    if len(upf):
        assert p.upgrade_capacity is not None
        r.append(spos[upf])
        cc.append(d.u_col[upf])
        v.append(-p.upgrade_capacity[upf])
    rows.add(
        np.concatenate(r),
        np.concatenate(cc),
        np.concatenate(v),
        np.full(len(finite), -INF),
        hi,
    )


def _assignment_allocation(
    p: SitingProblem, d: _Decisions, rows: _Rows, *, strong: bool
) -> _Allocation:
    """Capacitated coverage (``x`` = persons of a group served by a site) and
    p-median (``x`` = share of a point assigned to a site, ``s`` = unassigned share)."""
    n = p.n_demand
    if p.objective == "pmedian":
        keep = (d.y_col[p.pair_site] >= 0) | p.existing[p.pair_site]
    else:
        keep = covering_pairs(p) & ((d.y_col[p.pair_site] >= 0) | p.existing[p.pair_site])
    pd_, ps, pm = p.pair_demand[keep], p.pair_site[keep], p.pair_minutes[keep]
    g = _pair_groups(p, pd_, ps)
    n_pairs, n_groups = len(g.gp_d), len(g.gw)
    x_col = d.n_int + np.arange(n_pairs)
    s_col = d.n_int + n_pairs + np.arange(n) if p.objective == "pmedian" else np.zeros(0, np.int64)
    n_cols = d.n_int + n_pairs + len(s_col)
    c = np.zeros(n_cols)
    lower, upper = np.zeros(n_cols), np.ones(n_cols)
    w = g.gw[g.gp_d]
    if p.objective == "pmedian":
        # x = share of demand point i assigned to site j; Σ_j x + s = 1
        rows.add(
            np.concatenate([g.gp_d, np.arange(n)]),
            np.concatenate([x_col, s_col]),
            np.ones(n_pairs + n),
            np.ones(n),
            np.ones(n),
        )
        load, link_val = w, np.ones(n_pairs)  # persons per unit x
    else:
        # x = persons of group g served by site j; Σ_j x ≤ W_g
        upper[x_col] = w
        rows.add(g.gp_d, x_col, np.ones(n_pairs), np.full(n_groups, -INF), g.gw)
        load, link_val = np.ones(n_pairs), w
    _link_rows(p, d, rows, gp_s=g.gp_s, x_col=x_col, link_val=link_val, strong=strong)
    if p.capacitated:
        _capacity_rows(p, d, rows, gp_s=g.gp_s, x_col=x_col, load=load)
    if p.objective == "pmedian":
        minutes_factor = pm * p.demand[pd_]
        c[x_col] = pm * w
        c[s_col] = p.unserved_minutes * p.demand
    else:
        minutes_factor = pm * g.contrib_factor
    return _Allocation(
        n_cols=n_cols,
        c=c,
        lower=lower,
        upper=upper,
        served_col=x_col[g.contrib_col],
        served_demand=pd_,
        served_factor=g.contrib_factor,
        minutes_factor=minutes_factor,
        base_served=np.zeros(n),
    )


def _objective_and_rules(
    p: SitingProblem, d: _Decisions, alloc: _Allocation, rows: _Rows
) -> dict[str, int]:
    """Set the coverage objective (in ``alloc.c``) and add the LSCP target and the
    rules; returns rule name → row index (for diagnosing infeasibility)."""
    rules: dict[str, int] = {}
    c = alloc.c
    value = np.zeros(alloc.n_cols)
    np.add.at(value, alloc.served_col, alloc.served_factor)
    value_cols = np.unique(alloc.served_col)
    n_int, n_cand, n_upg = d.n_int, len(d.cand), len(d.upg)
    if p.objective == "mclp":
        c[value_cols] = value[value_cols]
    elif p.objective == "lscp":
        c[:n_int] = 1.0
        need = p.target * coverable_demand(p) - float(alloc.base_served.sum())
        rules["target"] = rows.add_one(value_cols, value[value_cols], need - FLOAT_TOL, INF)
    if p.max_new is not None and n_cand:
        rules["max_new"] = rows.add_one(np.arange(n_cand), np.ones(n_cand), -INF, float(p.max_new))
    if p.max_upgrades is not None and n_upg:
        rules["max_upgrades"] = rows.add_one(
            d.u_col[d.upg], np.ones(n_upg), -INF, float(p.max_upgrades)
        )
    if p.budget is not None and n_int:
        rules["budget"] = rows.add_one(np.arange(n_int), d.cost, -INF, float(p.budget))
    for g in p.groups:
        need_g = g.minimum - int(p.existing[g.sites].sum())
        cols = d.y_col[g.sites]
        cols = cols[cols >= 0]
        if need_g > 0:
            rules[f"group:{g.name}"] = rows.add_one(cols, np.ones(len(cols)), float(need_g), INF)
    return rules


def build_model(
    problem: SitingProblem,
    *,
    restrict: NDArray[np.int64] | None = None,
    strong: bool = False,
) -> Model:
    """The MILP of ``problem``.

    Parameters
    ----------
    problem
        The siting problem.
    restrict
        Only these candidate sites may open (the others are left out of the
        model: a restricted "kernel" problem). ``None``: all candidates.
    strong
        Capacitated models: add ``x_ij ≤ W_i y_j`` for every pair with a new
        site: a tighter LP but one row per pair. Off by default: on the
        district's capacitated models the larger LP cost more than it saved
        (HiGHS hit its time limit with it, solved in seconds without).
    """
    p = problem
    d = _decisions(p, restrict)
    rows = _Rows()
    if not p.capacitated and p.objective != "pmedian":
        alloc = _coverage_allocation(p, d, rows)
    else:
        alloc = _assignment_allocation(p, d, rows, strong=strong)
    rules = _objective_and_rules(p, d, alloc, rows)
    integer = np.zeros(alloc.n_cols, bool)
    integer[: d.n_int] = True
    a, lo, hi = rows.matrix(alloc.n_cols)
    mclp = p.objective == "mclp"
    sign = -1.0 if p.maximise else 1.0
    return Model(
        c=sign * alloc.c if mclp else alloc.c,
        lower=alloc.lower,
        upper=alloc.upper,
        integer=integer,
        A=a,
        row_lo=lo,
        row_hi=hi,
        offset=float(alloc.base_served.sum()) if mclp else 0.0,
        sign=sign if mclp else 1.0,
        y_col=d.y_col,
        u_col=d.u_col,
        served_col=alloc.served_col,
        served_demand=alloc.served_demand,
        served_factor=alloc.served_factor,
        minutes_factor=alloc.minutes_factor,
        base_served=alloc.base_served,
        rules=rules,
    )
