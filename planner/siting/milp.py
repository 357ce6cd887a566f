"""Mixed-integer models of siting problems and the two solver back ends.

:func:`build_model` turns a :class:`~planner.siting.problem.SitingProblem` into
one minimisation model (maximisation objectives are negated), with sparse rows
built by numpy. It is solved by HiGHS (``highspy``) or by the CBC binary that
ships with PuLP, reading the model as MPS with a MIP start.

Columns, in order: ``y`` (open a candidate site), ``u`` (upgrade an existing
site), then the allocation columns: ``z`` per demand point (uncapacitated
coverage), or ``x`` per reachable pair (capacitated coverage: persons;
p-median: share of the point's demand) and ``s`` per demand point (p-median:
unassigned share).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.problem import SitingError, SitingProblem

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
    n, m = p.n_demand, p.n_sites
    cand = p.candidates if restrict is None else np.intersect1d(restrict, p.candidates)
    y_col = np.full(m, -1, np.int64)
    y_col[cand] = np.arange(len(cand))
    upg = p.upgradable if p.capacitated or p.objective == "pmedian" else np.zeros(0, np.int64)
    u_col = np.full(m, -1, np.int64)
    u_col[upg] = len(cand) + np.arange(len(upg))
    n_int = len(cand) + len(upg)

    cost = np.zeros(n_int)
    cost[: len(cand)] = p.site_cost[cand]
    if len(upg):
        assert p.upgrade_cost is not None
        cost[len(cand) :] = p.upgrade_cost[upg]

    rows = _Rows()
    rules: dict[str, int] = {}
    base_served = np.zeros(n)
    sign = -1.0 if p.maximise else 1.0

    if p.objective == "pmedian":
        keep = y_col[p.pair_site] >= 0
        keep |= p.existing[p.pair_site]
    else:
        keep = covering_pairs(p) & ((y_col[p.pair_site] >= 0) | p.existing[p.pair_site])
    pd_, ps, pm = p.pair_demand[keep], p.pair_site[keep], p.pair_minutes[keep]

    if not p.capacitated and p.objective != "pmedian":
        # uncapacitated coverage: z_g ≤ Σ_{new j covering group g} y_j, one z per
        # group of demand points with the same set of covering candidates
        cover = cover_matrix(p, y_col=y_col, n_cand=len(cand))
        base_served = cover.base_served
        n_groups = cover.A.shape[0]
        z_col = n_int + np.arange(n_groups)
        n_cols = n_int + n_groups
        c = np.zeros(n_cols)
        lower, upper = np.zeros(n_cols), np.ones(n_cols)
        a = cover.A.tocoo()
        rows.add(
            np.concatenate([np.arange(n_groups), a.row]),
            np.concatenate([z_col, a.col]),
            np.concatenate([np.ones(n_groups), -np.ones(a.nnz)]),
            np.full(n_groups, -INF),
            np.zeros(n_groups),
        )
        served_col = z_col[cover.group]
        served_demand = cover.points
        served_factor = p.demand[cover.points]
        minutes_factor = np.zeros(len(served_col))
    else:
        if p.objective == "pmedian":
            # no merging: a point's minutes to each site matter
            gp_d, gp_s, gw = pd_, ps, p.demand
            contrib_col = np.arange(len(pd_))
            contrib_factor = p.demand[pd_]
            contrib_demand = pd_
        else:
            # merge points with the same covering sites; x = persons of the group
            group_of, reps = _group_by_sites(n, pd_, ps, m)
            grp = sp.csr_matrix((np.ones(len(pd_)), (group_of[pd_], ps)), shape=(len(reps), m))
            grp.sum_duplicates()
            grp.sort_indices()
            g = grp.tocoo()
            gp_d, gp_s = g.row.astype(np.int64), g.col.astype(np.int64)
            member = np.flatnonzero(group_of >= 0)
            gw = np.bincount(
                group_of[member], weights=p.demand[member], minlength=len(reps)
            ).astype(np.float64)
            keys = gp_d * m + gp_s
            contrib_col = np.searchsorted(keys, group_of[pd_] * m + ps)
            contrib_factor = p.demand[pd_] / gw[group_of[pd_]]
            contrib_demand = pd_
        n_pairs = len(gp_d)
        n_groups = len(gw)
        x_col = n_int + np.arange(n_pairs)
        s_col = np.zeros(0, np.int64)
        if p.objective == "pmedian":
            s_col = n_int + n_pairs + np.arange(n)
        n_cols = n_int + n_pairs + len(s_col)
        c = np.zeros(n_cols)
        lower, upper = np.zeros(n_cols), np.ones(n_cols)
        w = gw[gp_d]
        if p.objective == "pmedian":
            # x = share of demand point i assigned to site j; Σ_j x + s = 1
            rows.add(
                np.concatenate([gp_d, np.arange(n)]),
                np.concatenate([x_col, s_col]),
                np.ones(n_pairs + n),
                np.ones(n),
                np.ones(n),
            )
            load = w  # persons per unit x
            link_val = np.ones(n_pairs)
        else:
            # x = persons of group g served by site j; Σ_j x ≤ W_g
            upper[x_col] = w
            rows.add(gp_d, x_col, np.ones(n_pairs), np.full(n_groups, -INF), gw)
            load = np.ones(n_pairs)
            link_val = w
        is_new = y_col[gp_s] >= 0
        if p.capacitated and not strong:
            # the capacity row ties x to y; a new site without a limit (inf)
            # has no such row and needs the link, else it serves while closed
            is_new &= ~np.isfinite(p.site_capacity[gp_s])
        if is_new.any():
            # x_ij ≤ (W or 1) · y_j for new sites: a tight link, one row per pair
            k = int(is_new.sum())
            rows.add(
                np.concatenate([np.arange(k), np.arange(k)]),
                np.concatenate([x_col[is_new], y_col[gp_s[is_new]]]),
                np.concatenate([np.ones(k), -link_val[is_new]]),
                np.full(k, -INF),
                np.zeros(k),
            )
        if p.capacitated:
            sites = np.unique(gp_s)
            finite = sites[np.isfinite(p.site_capacity[sites])]
            spos = np.full(m, -1, np.int64)
            spos[finite] = np.arange(len(finite))
            on = spos[gp_s] >= 0
            r = [spos[gp_s[on]]]
            cc = [x_col[on]]
            v = [load[on]]
            hi = np.where(p.existing[finite], p.site_capacity[finite], 0.0)
            newf = finite[y_col[finite] >= 0]
            r.append(spos[newf])
            cc.append(y_col[newf])
            v.append(-p.site_capacity[newf])
            upf = finite[u_col[finite] >= 0]
            if len(upf):
                assert p.upgrade_capacity is not None
                r.append(spos[upf])
                cc.append(u_col[upf])
                v.append(-p.upgrade_capacity[upf])
            rows.add(
                np.concatenate(r),
                np.concatenate(cc),
                np.concatenate(v),
                np.full(len(finite), -INF),
                hi,
            )
        served_col = x_col[contrib_col]
        served_demand = contrib_demand
        served_factor = contrib_factor
        if p.objective == "pmedian":
            minutes_factor = pm * p.demand[pd_]
            c[x_col] = pm * w
            c[s_col] = p.unserved_minutes * p.demand
        else:
            minutes_factor = pm * contrib_factor

    value = np.zeros(n_cols)
    np.add.at(value, served_col, served_factor)
    value_cols = np.unique(served_col)
    if p.objective == "mclp":
        c[value_cols] = value[value_cols]
    elif p.objective == "lscp":
        c[:n_int] = 1.0
        need = p.target * coverable_demand(p) - float(base_served.sum())
        rules["target"] = rows.add_one(value_cols, value[value_cols], need - 1e-9, INF)

    integer = np.zeros(n_cols, bool)
    integer[:n_int] = True
    if p.max_new is not None and len(cand):
        rules["max_new"] = rows.add_one(
            np.arange(len(cand)), np.ones(len(cand)), -INF, float(p.max_new)
        )
    if p.max_upgrades is not None and len(upg):
        rules["max_upgrades"] = rows.add_one(
            u_col[upg], np.ones(len(upg)), -INF, float(p.max_upgrades)
        )
    if p.budget is not None and n_int:
        rules["budget"] = rows.add_one(np.arange(n_int), cost, -INF, float(p.budget))
    for g in p.groups:
        need_g = g.minimum - int(p.existing[g.sites].sum())
        cols = y_col[g.sites]
        cols = cols[cols >= 0]
        if need_g > 0:
            rules[f"group:{g.name}"] = rows.add_one(cols, np.ones(len(cols)), float(need_g), INF)
    a, lo, hi = rows.matrix(n_cols)
    offset = float(base_served.sum()) if p.objective == "mclp" else 0.0
    return Model(
        c=sign * c if p.objective == "mclp" else c,
        lower=lower,
        upper=upper,
        integer=integer,
        A=a,
        row_lo=lo,
        row_hi=hi,
        offset=offset,
        sign=sign if p.objective == "mclp" else 1.0,
        y_col=y_col,
        u_col=u_col,
        served_col=served_col,
        served_demand=served_demand,
        served_factor=served_factor,
        minutes_factor=minutes_factor,
        base_served=base_served,
        rules=rules,
    )


@dataclass(frozen=True)
class MilpOutcome:
    """What a back end returns: the columns, objective and bound in the
    model's (minimisation) sense, and whether the search finished."""

    x: NDArray[np.float64] | None
    value: float
    bound: float
    finished: bool
    infeasible: bool
    seconds: float


def start_vector(
    model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Integer part of a start (open/upgrade decisions); allocation left at 0."""
    x = np.zeros(model.n_cols)
    cols = model.y_col[opened]
    x[cols[cols >= 0]] = 1.0
    ucols = model.u_col[upgraded]
    x[ucols[ucols >= 0]] = 1.0
    return x


def _highs(model: Model, *, integer: bool, time_limit: float, gap: float, threads: int) -> object:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", 0)
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_cols
    lp.num_row_ = model.A.shape[0]
    lp.col_cost_ = model.c
    lp.col_lower_ = model.lower
    lp.col_upper_ = model.upper
    lp.row_lower_ = np.where(np.isinf(model.row_lo), -highspy.kHighsInf, model.row_lo)
    lp.row_upper_ = np.where(np.isinf(model.row_hi), highspy.kHighsInf, model.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = model.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = model.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = model.A.data
    if integer and model.integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if v else highspy.HighsVarType.kContinuous
            for v in model.integer
        ]
    h.passModel(lp)
    return h


def fix_and_evaluate(
    model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
) -> MilpOutcome:
    """Solve the allocation LP with the open/upgrade decisions fixed.

    Gives the exact objective of a set of decisions and a full start vector.
    """
    import highspy

    start = start_vector(model, opened, upgraded)
    if model.n_cols == 0:  # everything is decided already (HiGHS calls it empty)
        feasible = bool((model.row_lo <= 1e-9).all() and (model.row_hi >= -1e-9).all())
        return MilpOutcome(start if feasible else None, 0.0, 0.0, True, not feasible, 0.0)
    lower, upper = model.lower.copy(), model.upper.copy()
    n_int = int(model.integer.sum())
    lower[:n_int] = start[:n_int]
    upper[:n_int] = start[:n_int]
    fixed = Model(**{**model.__dict__, "lower": lower, "upper": upper})
    t = time.perf_counter()
    h = _highs(fixed, integer=False, time_limit=600.0, gap=0.0, threads=1)
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    if status != highspy.HighsModelStatus.kOptimal:
        return MilpOutcome(None, INF, -INF, False, True, time.perf_counter() - t)
    x = np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
    value = float(model.c @ x)
    return MilpOutcome(x, value, value, True, False, time.perf_counter() - t)


def lp_bound(
    model: Model, *, time_limit: float, threads: int = 1
) -> tuple[float, NDArray[np.float64] | None]:
    """The LP relaxation's optimum (a bound on the MILP) and its columns.

    Interior point without crossover: the bound is what matters here, and the
    simplex method is far slower on these models. Returns ``-inf`` (no bound)
    when the time limit is hit.
    """
    import highspy

    h = _highs(model, integer=False, time_limit=time_limit, gap=0.0, threads=threads)
    h.setOptionValue("solver", "ipm")  # type: ignore[attr-defined]
    h.setOptionValue("run_crossover", "off")  # type: ignore[attr-defined]
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    if status == highspy.HighsModelStatus.kInfeasible:
        raise SitingError("问题不可行")
    if status != highspy.HighsModelStatus.kOptimal:
        return -INF, None
    info = h.getInfo()  # type: ignore[attr-defined]
    # the IPM objective is within its tolerance of the LP optimum: use the dual
    # objective when it is available, which is a valid bound
    value = float(info.objective_function_value)
    dual = getattr(info, "dual_objective_value", None)
    bound = min(value, float(dual)) if dual is not None and np.isfinite(dual) else value
    bound -= 1e-7 * max(1.0, abs(bound))
    return bound, np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]


def solve_highs(
    model: Model,
    *,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Branch and bound with HiGHS, from an optional full start vector."""
    import highspy

    t = time.perf_counter()
    h = _highs(model, integer=True, time_limit=time_limit, gap=gap, threads=threads)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(start)
        h.setSolution(sol)  # type: ignore[attr-defined]
    h.run()  # type: ignore[attr-defined]
    status = h.getModelStatus()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - t
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpOutcome(None, INF, INF, True, True, seconds)
    info = h.getInfo()  # type: ignore[attr-defined]
    if info.primal_solution_status != 2:  # no feasible solution found
        return MilpOutcome(None, INF, float(info.mip_dual_bound), False, False, seconds)
    x = np.asarray(h.getSolution().col_value)  # type: ignore[attr-defined]
    value = float(model.c @ x)
    bound = float(info.mip_dual_bound) if model.integer.any() else value
    finished = status == highspy.HighsModelStatus.kOptimal
    return MilpOutcome(x, value, min(bound, value), finished, False, seconds)


_CBC_BOUND = re.compile(r"^(?:Lower bound|Objective value):\s+(\S+)", re.M)


def cbc_path() -> str:
    """Path of the CBC binary bundled with PuLP."""
    import warnings

    import pulp

    with warnings.catch_warnings():
        # PuLP ≥ 3.3 deprecates PULP_CBC_CMD (the bundled binary) with a
        # DeprecationWarning; only its path is wanted here
        warnings.simplefilter("ignore", DeprecationWarning)
        path = pulp.PULP_CBC_CMD().path
    if not path or not Path(path).exists():
        raise SitingError("找不到 CBC 求解器（随 PuLP 安装）；请重新安装 pulp，或改用 highs")
    return str(path)


def solve_cbc(
    model: Model,
    *,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Branch and cut with the CBC binary (MPS in, solution file out)."""
    t = time.perf_counter()
    h = _highs(model, integer=True, time_limit=1.0, gap=gap, threads=1)
    with tempfile.TemporaryDirectory(prefix="coverplan-cbc-") as tmp:
        mps, sol, mst = Path(tmp, "model.mps"), Path(tmp, "model.sol"), Path(tmp, "start.sol")
        h.writeModel(str(mps))  # type: ignore[attr-defined]
        args = [cbc_path(), str(mps), "-sec", f"{max(time_limit, 0.01):.2f}"]
        args += ["-ratioGap", f"{gap:g}", "-threads", str(threads), "-randomSeed", "1"]
        args += ["-timeMode", "elapsed"]  # CBC counts CPU seconds by default
        if start is not None:
            with mst.open("w") as f:
                f.write("Feasible - objective value 0\n")
                f.writelines(f"{j} c{j} {v:.12g} 0\n" for j, v in enumerate(start))
            args += ["-mipstart", str(mst)]
        args += ["-solve", "-solu", str(sol)]
        run = subprocess.run(args, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - t
        if not sol.exists():
            raise SitingError(f"CBC 求解失败：{run.stdout[-500:]}{run.stderr[-500:]}")
        lines = sol.read_text().splitlines()
    head = lines[0].lower() if lines else ""
    if head.startswith("infeasible") or "integer infeasible" in head:
        return MilpOutcome(None, INF, INF, True, True, seconds)
    x = np.zeros(model.n_cols)
    for line in lines[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) >= 3 and parts[1].startswith("c"):
            x[int(parts[1][1:])] = float(parts[2])
    x[model.integer] = np.round(x[model.integer])
    if "no feasible" in head or "objective value" not in head:
        return MilpOutcome(None, INF, -INF, False, False, seconds)
    value = float(model.c @ x)
    found: dict[str, float | None] = dict.fromkeys(("Lower bound", "Objective value"))
    for match in _CBC_BOUND.finditer(run.stdout):
        key = match.group(0).split(":")[0]
        try:
            found[key] = float(match.group(1))
        except ValueError:
            continue
    finished = head.startswith("optimal")
    bound = value if finished else float(found["Lower bound"] or -INF)
    return MilpOutcome(x, value, min(bound, value), finished, False, seconds)


def solve_model(
    model: Model,
    *,
    solver: Solver,
    time_limit: float,
    gap: float,
    start: NDArray[np.float64] | None = None,
    threads: int = 1,
) -> MilpOutcome:
    """Dispatch to :func:`solve_highs` or :func:`solve_cbc`."""
    if solver == "highs":
        return solve_highs(model, time_limit=time_limit, gap=gap, start=start, threads=threads)
    if solver == "cbc":
        return solve_cbc(model, time_limit=time_limit, gap=gap, start=start, threads=threads)
    raise SitingError(f"未知的求解器 {solver!r}；可选 highs、cbc")
