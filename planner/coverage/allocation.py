"""Capacity-aware assignment of demand groups to facilities.

Demand comes in groups (eligible residents aggregated by network node and
priority); each group may use the facilities it can reach within the travel
threshold (a sparse list of candidate pairs). :func:`assign` returns an integral
assignment that, lexicographically,

1. maximises the priority-weighted number of persons served, then
2. among those, minimises the total travel minutes (persons × minutes).

Method
------
The feasible *served vectors* of a transportation network form a polymatroid
(the rank of a set of groups is the maximum flow out of it), so for positive
weights the weighted maximum is reached exactly by the solutions that serve,
for every priority level ``k``, as many persons of priority ``>= k`` as the
network allows (Edmonds' greedy theorem). Only the *order* of the priority
values matters, not their size. So:

* **Phase 1 (coverage, exact integers).** A lexicographic maximum flow with
  :func:`scipy.sparse.csgraph.maximum_flow`: one augmentation per priority
  level, highest first, each on the residual network of the previous flow.
  The minimum cut of each level describes the *face* of optimal coverage
  without any objective row: groups on the sink side must be fully served,
  facilities on the source side must be exactly full, and pairs crossing the
  cut backwards (or lower-priority pairs into a full facility) carry nothing.
* **Phase 2 (time, LP).** Minimise minutes over that face with HiGHS dual
  simplex (:func:`scipy.optimize.linprog`, ``method="highs-ds"``). The
  constraints are the transportation rows, some turned into equalities, so
  the matrix stays totally unimodular and the vertex HiGHS returns is integral
  (checked, then rounded and re-verified in integers). To give the dual
  simplex a nearly feasible start, each group's flow at its nearest facility
  is eliminated (``x_nearest = demand - unserved - sum(other pairs)``, an
  integral unimodular substitution): the all-zero start is "everyone fully
  served at the nearest facility" and only facilities that are overloaded,
  or must be full and are not, need simplex work (see :func:`_min_minutes`).

No big-M anywhere: an unlimited facility (``np.inf``) has no capacity row, and
is first used to drop dominated pairs (a group never needs a pair that is not
faster than its nearest unlimited facility). A finite capacity at least the
demand of all groups that can reach it is treated as unlimited too.

Measured (2-core container shared with other jobs, load 1–2.6, November 2026;
everything here is single-threaded; synthetic district: groups uniform in
40 × 40 km, each with its 3 nearest of ``F`` facilities within 30 min, demand
1–5 persons, 4 priority levels, finite capacities summing to 80 % of demand,
5 % unlimited; wall seconds)::

    groups × facilities  pairs    coverage LP  lex max-flow  2-phase LP  OR-Tools MCMF  assign
    3,000 × 50           8,787    0.14         0.02          0.43        0.16           0.05
    30,000 × 200         90,000   2.2          0.14          11          0.7–1.3        0.7–1.0
    100,000 × 700        300,000  15           0.7           186         6.7            3.3–4.7
    300,000 × 2,000      900,000  (not run)    1.5–3.2       (not run)   25             11–16

"coverage LP" is phase 1 alone as an LP (HiGHS dual simplex, pair upper
bounds; 40 s and 290 s at the two middle sizes without them); "2-phase LP"
is that plus the minutes LP with dense coverage rows; "OR-Tools MCMF" is
``SimpleMinCostFlow.solve_max_flow_with_min_cost`` with a priority cost step
(same optima). A single LP with a coverage weight ``B > min(G, F) · max
minutes`` took 26 s at 300,000 pairs. Without priorities the 300,000 × 2,000
case takes about the same (11–15 s; 26 s before unserved persons were
substituted too); with ample capacity (150 % of demand) 4–6.5 s (OR-Tools
18 s). So the maximum flow wins phase 1 by 20–400× at every size, and the
substituted minutes LP on the cut face is what keeps phase 2 within the
~30 s target.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from planner.coverage._pairs import pairs, vector
from planner.errors import InputError
from planner.units import FLOAT_TOL

__all__ = ["Assignment", "assign"]

SOLVER = "maximum_flow+highs-ds"
DEFAULT_TIME_LIMIT_S = 60.0  # seconds for the minutes LP (the maximum flow always finishes)
_INT32_MAX = np.iinfo(np.int32).max
_INTEGRAL_TOL = 1e-6


@dataclass(frozen=True)
class Assignment:
    """An integral assignment of persons to facilities.

    Attributes
    ----------
    group, facility
        Indices of the pairs that carry persons (only flows > 0), sorted by
        group then facility.
    persons
        Persons assigned on each of those pairs (> 0).
    served
        Persons served per group, shape ``(n_groups,)``.
    unserved
        ``demand - served`` per group (persons), including groups without any
        candidate pair.
    load
        Persons assigned per facility, shape ``(n_facilities,)``.
    total_served
        Sum of ``served`` (persons, not weighted by priority).
    total_minutes
        Sum of persons × travel minutes over the assigned pairs.
    solver
        What produced the result: ``"maximum_flow+highs-ds"``, or
        ``"maximum_flow"`` for the phase-1 fallback (``optimal=False``).
    seconds
        Wall time of the call (s).
    optimal
        True when coverage is maximal (always, it is exact) *and* the minutes
        are proven minimal. False only when the LP hit the time limit or
        failed; the result is then the maximum-coverage flow of phase 1,
        without minimised minutes.
    """

    group: NDArray[np.int64]
    facility: NDArray[np.int64]
    persons: NDArray[np.int64]
    served: NDArray[np.int64]
    unserved: NDArray[np.int64]
    load: NDArray[np.int64]
    total_served: int
    total_minutes: float
    solver: str
    seconds: float
    optimal: bool


def assign(
    demand: ArrayLike,
    capacity: ArrayLike,
    *,
    group: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    priority: ArrayLike | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> Assignment:
    """Assign persons to facilities: maximum priority coverage, then minimum minutes.

    Parameters
    ----------
    demand
        Persons per group, shape ``(n_groups,)``, non-negative whole numbers.
    capacity
        Places per facility (persons), shape ``(n_facilities,)``, non-negative
        whole numbers or ``np.inf`` for unlimited.
    group, facility, minutes
        Candidate pairs (same length): group index, facility index and travel
        time in minutes (finite, ``>= 0``). Each (group, facility) pair at
        most once. A group–facility combination not listed cannot be used.
    priority
        Optional weight per group (``>= 1``, finite; e.g. by disability
        grade). Higher is served first when capacity is short. Only the order
        of the values matters (see the module notes): the objective
        ``sum(priority × served)`` is maximised exactly by serving strictly
        by priority. Default: all groups equal.
    time_limit_s
        Wall-time budget (s) for the minutes LP. When it runs out the result
        keeps maximal coverage but is not time-minimal (``optimal=False``).

    Returns
    -------
    Assignment

    Raises
    ------
    InputError
        On mismatched shapes, negative, non-integral or non-finite values,
        indices out of range, duplicate pairs, or more than 2^31 - 2 persons
        in total (the maximum flow works in 32-bit integers).

    Notes
    -----
    Coverage is exact (integer maximum flow). Minutes are minimal up to
    HiGHS's optimality tolerance (1e-7): totals that differ by less than that
    count as ties. ``time_limit_s`` bounds the LP only; the maximum flow runs
    to the end (about 2 s for 900,000 pairs).
    """
    start = time.perf_counter()
    if not (np.isfinite(time_limit_s) and time_limit_s > 0):
        raise InputError("time_limit_s 必须是正数（秒）")
    d = _persons("demand", demand)
    cap_in = _capacity(capacity)
    n_g, n_f = d.shape[0], cap_in.shape[0]
    g, f, m = pairs(
        group,
        facility,
        minutes,
        n_rows=n_g,
        n_f=n_f,
        row_name="group",
        row_label="需求组",
        pair_label="候选配对",
    )
    level = _levels(priority, n_g)
    if int(d.sum()) >= _INT32_MAX - 1:
        raise InputError("demand 总人数过大（须小于 2^31 - 1）")

    # ---- exact reductions -------------------------------------------------
    cap = np.minimum(cap_in, float(d.sum()))  # inf and huge capacities alike
    useful = (d[g] > 0) & (cap[f] > 0)
    g, f, m = g[useful], f[useful], m[useful]
    reach = np.bincount(f, weights=d[g], minlength=n_f)
    unlimited = ~np.isfinite(cap_in) | (cap >= reach)
    keep = _undominated(g, m, unlimited[f], n_g)
    g, f, m = g[keep], f[keep], m[keep]
    cap_lp = np.where(unlimited, np.inf, cap)

    # ---- phase 1: lexicographic max flow and its optimal face --------------
    x, full_group, full_facility, dead = _lex_max_flow(d, cap_lp, g, f, level)
    solver, optimal = "maximum_flow", False
    live = ~dead
    remaining = time_limit_s - (time.perf_counter() - start)
    if remaining > 0:
        x_lp = _min_minutes(
            d, cap_lp, g[live], f[live], m[live], level, full_group, full_facility, remaining
        )
        if x_lp is not None:
            cand = np.zeros_like(x)
            cand[live] = x_lp
            if _verified(cand, x, d, cap_lp, g, f, m, level):
                x, solver, optimal = cand, SOLVER, True

    return _assignment(x, d, g, f, m, n_f=n_f, solver=solver, optimal=optimal, start=start)


def _assignment(
    x: NDArray[np.int64],
    d: NDArray[np.int64],
    g: NDArray[np.int64],
    f: NDArray[np.int64],
    m: NDArray[np.float64],
    *,
    n_f: int,
    solver: str,
    optimal: bool,
    start: float,
) -> Assignment:
    """The :class:`Assignment` of the persons ``x`` per candidate pair (``start``: the
    ``perf_counter`` at the call)."""
    pos = x > 0
    rg, rf, rp, rm = g[pos], f[pos], x[pos], m[pos]
    order = np.lexsort((rf, rg))
    rg, rf, rp, rm = rg[order], rf[order], rp[order], rm[order]
    served = np.bincount(rg, weights=rp, minlength=d.shape[0]).astype(np.int64)
    load = np.bincount(rf, weights=rp, minlength=n_f).astype(np.int64)
    return Assignment(
        group=rg,
        facility=rf,
        persons=rp,
        served=served,
        unserved=d - served,
        load=load,
        total_served=int(served.sum()),
        total_minutes=float(np.dot(rp.astype(np.float64), rm)),
        solver=solver,
        seconds=time.perf_counter() - start,
        optimal=optimal,
    )


# ---- validation ---------------------------------------------------------------


def _persons(name: str, values: ArrayLike) -> NDArray[np.int64]:
    """Non-negative whole numbers of persons."""
    arr = vector(name, values)
    if not np.isfinite(arr).all():
        raise InputError(f"{name} 必须是有限数（人），不能有缺失值")
    if (arr < 0).any():
        raise InputError(f"{name}（人数）不能为负数")
    if (arr != np.floor(arr)).any():
        raise InputError(f"{name} 必须是整数（人）")
    return arr.astype(np.int64)


def _capacity(values: ArrayLike) -> NDArray[np.float64]:
    """Non-negative whole numbers of places, ``inf`` for unlimited."""
    arr = vector("capacity", values)
    if np.isnan(arr).any():
        raise InputError("capacity 不能有缺失值；不限容量请用 inf")
    if (arr < 0).any():
        raise InputError("capacity（容量）不能为负数")
    finite = np.isfinite(arr)
    if (arr[finite] != np.floor(arr[finite])).any():
        raise InputError("capacity 必须是整数（人）或 inf")
    return arr


def _levels(priority: ArrayLike | None, n_g: int) -> NDArray[np.int64]:
    """Priority level per group: 0 = lowest, dense ranks of the distinct values."""
    if priority is None:
        return np.zeros(n_g, dtype=np.int64)
    p = vector("priority", priority)
    if p.shape != (n_g,):
        raise InputError(f"priority 长度必须等于 demand 长度（{p.size} ≠ {n_g}）")
    if not np.isfinite(p).all() or (p < 1).any():
        raise InputError("priority 必须是不小于 1 的有限数")
    return np.unique(p, return_inverse=True)[1].astype(np.int64)


# ---- reductions -----------------------------------------------------------------


def _undominated(
    g: NDArray[np.int64], m: NDArray[np.float64], to_unlimited: NDArray[np.bool_], n_g: int
) -> NDArray[np.bool_]:
    """Pairs worth keeping: faster than the group's nearest unlimited facility.

    Moving persons from any other pair to the nearest unlimited facility keeps
    coverage, frees capacity and does not add minutes, so some lexicographic
    optimum uses only the nearest unlimited pair and strictly faster ones.
    """
    keep = np.ones(g.shape[0], dtype=bool)
    u = np.nonzero(to_unlimited)[0]
    if u.size == 0:
        return keep
    u = u[np.lexsort((m[u], g[u]))]
    first = np.ones(u.size, dtype=bool)
    first[1:] = g[u][1:] != g[u][:-1]
    best_m = np.full(n_g, np.inf)
    best_m[g[u[first]]] = m[u[first]]
    keep = m < best_m[g]
    keep[u[first]] = True
    return keep


# ---- phase 1 ----------------------------------------------------------------------


def _lex_max_flow(
    d: NDArray[np.int64],
    cap: NDArray[np.float64],
    g: NDArray[np.int64],
    f: NDArray[np.int64],
    level: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Lexicographic maximum flow and the face of all lexicographic maxima.

    Returns
    -------
    x
        Persons per pair of a lexicographically maximal flow.
    full_group
        Groups that every optimum serves completely.
    full_facility
        Facilities that every optimum fills exactly to capacity.
    dead
        Pairs that carry nothing in every optimum.
    """
    n_g, n_f, n_p = d.shape[0], cap.shape[0], g.shape[0]
    n = n_g + n_f + 2
    s, t = n_g + n_f, n_g + n_f + 1
    big = int(d.sum()) + 1  # more than any flow: stands for "unlimited"
    cap_i = np.where(np.isfinite(cap), cap, big).astype(np.int64)
    x = np.zeros(n_p, dtype=np.int64)
    full_group = np.zeros(n_g, dtype=bool)
    full_facility = np.zeros(n_f, dtype=bool)
    dead = np.zeros(n_p, dtype=bool)
    fnode = n_g + f
    for k in np.unique(level)[::-1]:
        active = (level >= k) & (d > 0)
        ap = np.nonzero(active[g])[0]
        src = np.nonzero(active)[0]
        served = np.bincount(g, weights=x, minlength=n_g).astype(np.int64)
        load = np.bincount(f, weights=x, minlength=n_f).astype(np.int64)
        back = np.nonzero(x > 0)[0]
        rows = np.concatenate([np.full(src.size, s), g[ap], fnode[back], n_g + np.arange(n_f)])
        cols = np.concatenate([src, fnode[ap], g[back], np.full(n_f, t)])
        vals = np.concatenate([d[src] - served[src], big - x[ap], x[back], cap_i - load])
        pos = vals > 0
        net = sparse.csr_array((vals[pos].astype(np.int32), (rows[pos], cols[pos])), shape=(n, n))
        flow = maximum_flow(net, s, t).flow
        if ap.size:
            x[ap] += np.asarray(flow[g[ap], fnode[ap]], dtype=np.int64).ravel()
        # minimum cut: what is reachable from s in the residual network
        served = np.bincount(g, weights=x, minlength=n_g).astype(np.int64)
        open_src = src[d[src] > served[src]]
        back = np.nonzero(x > 0)[0]
        rows = np.concatenate([np.full(open_src.size, s), g[ap], fnode[back]])
        cols = np.concatenate([open_src, fnode[ap], g[back]])
        resid = sparse.csr_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
        reach = np.zeros(n, dtype=bool)
        reach[breadth_first_order(resid, s, directed=True, return_predecessors=False)] = True
        g_src, f_src = reach[:n_g], reach[n_g : n_g + n_f]
        full_group |= active & ~g_src
        full_facility |= f_src
        in_k = active[g]
        dead |= f_src[f] & (~in_k | ~g_src[g])
    return x, full_group, full_facility & np.isfinite(cap), dead


# ---- phase 2 ------------------------------------------------------------------------


def _nearest_pairs(
    g: NDArray[np.int64], m: NDArray[np.float64], n_g: int
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Each group's nearest pair (fewest minutes; the first listed on a tie).

    Returns ``first`` (per pair: is its group's nearest), ``nearest`` (per
    group: that pair's position, -1 without pairs), ``has`` (groups with a
    pair) and ``near_m`` (per group: its nearest minutes, 0 without pairs).
    """
    n_p = g.shape[0]
    order = np.lexsort((m, g))
    first = np.zeros(n_p, dtype=bool)
    head = np.ones(n_p, dtype=bool)
    head[1:] = g[order][1:] != g[order][:-1]
    first[order[head]] = True
    nearest = np.full(n_g, -1, dtype=np.int64)
    nearest[g[first]] = np.nonzero(first)[0]
    has = np.nonzero(nearest >= 0)[0]
    near_m = np.zeros(n_g)
    near_m[has] = m[nearest[has]]
    return first, nearest, has, near_m


def _min_minutes(
    d: NDArray[np.int64],
    cap: NDArray[np.float64],
    g: NDArray[np.int64],
    f: NDArray[np.int64],
    m: NDArray[np.float64],
    level: NDArray[np.int64],
    full_group: NDArray[np.bool_],
    full_facility: NDArray[np.bool_],
    time_limit_s: float,
) -> NDArray[np.int64] | None:
    """Minimum-minutes vertex of the coverage face, or None if HiGHS did not finish.

    Every group's flow at its nearest facility is eliminated,
    ``x_nearest = demand - unserved - sum(other pairs)``, so the LP's zero
    start is "everyone fully served at the nearest facility". The variables
    are the other pairs (cost: minutes beyond the nearest, ``>= 0``) and, for
    groups the face does not force to be fully served, ``unserved`` (cost
    ``C_L - nearest minutes`` with ``C_L`` the largest such nearest time in
    the group's priority level ``L``). On the face the unserved persons of
    each level add up to a constant, so ``C_L`` shifts the objective by a
    constant only, and with all costs ``>= 0`` the start is dual feasible.
    """
    n_g, n_f, n_p = d.shape[0], cap.shape[0], g.shape[0]
    if n_p == 0:
        return np.zeros(0, dtype=np.int64)
    finite = np.isfinite(cap)
    first, nearest, has, near_m = _nearest_pairs(g, m, n_g)
    fixed_load = np.bincount(f[nearest[has]], weights=d[has], minlength=n_f).astype(np.float64)
    x = np.zeros(n_p, dtype=np.int64)
    x[nearest[has]] = d[has]

    other = np.nonzero(~first)[0]
    slack = has[~full_group[has]]  # groups that may stay partly unserved
    shift = np.zeros(int(level.max(initial=0)) + 1)
    np.maximum.at(shift, level[slack], near_m[slack])
    n_o = other.size
    n_var = n_o + slack.size
    if n_var == 0:
        return x if _fits(fixed_load, cap, full_facility) else None
    col_g = np.concatenate([g[other], slack])
    cost = np.concatenate([m[other] - near_m[g[other]], shift[level[slack]] - near_m[slack]])
    upper = np.concatenate(
        [np.minimum(d[g[other]].astype(np.float64), cap[f[other]]), d[slack].astype(np.float64)]
    )
    cols = np.arange(n_var)
    base = f[nearest[col_g]]
    # facility rows: +1 where an other pair arrives, -1 at the nearest it leaves
    own = finite[f[other]]
    left = finite[base]
    fac = np.concatenate([f[other][own], base[left]])
    fac_cols = np.concatenate([cols[:n_o][own], cols[left]])
    fac_vals = np.concatenate([np.ones(int(own.sum())), -np.ones(int(left.sum()))])
    touched = np.zeros(n_f, dtype=bool)
    touched[fac] = True
    if not _fits(fixed_load[~touched], cap[~touched], full_facility[~touched]):
        return None
    fac_ids = np.nonzero(touched)[0]
    frow = np.full(n_f, -1, dtype=np.int64)
    frow[fac_ids] = np.arange(fac_ids.size)
    # group rows: sum of a group's variables <= demand, where it has two or more
    grp_ids = np.nonzero(np.bincount(col_g, minlength=n_g) >= 2)[0]
    grow = np.full(n_g, -1, dtype=np.int64)
    grow[grp_ids] = fac_ids.size + np.arange(grp_ids.size)
    in_grp = np.nonzero(grow[col_g] >= 0)[0]
    a = sparse.csr_array(
        (
            np.concatenate([fac_vals, np.ones(in_grp.size)]),
            (np.concatenate([frow[fac], grow[col_g[in_grp]]]), np.concatenate([fac_cols, in_grp])),
        ),
        shape=(fac_ids.size + grp_ids.size, n_var),
    )
    rhs = np.concatenate([cap[fac_ids] - fixed_load[fac_ids], d[grp_ids].astype(np.float64)])
    eq = np.concatenate([full_facility[fac_ids], np.zeros(grp_ids.size, dtype=bool)])
    res = linprog(
        cost,
        A_ub=a[~eq] if (~eq).any() else None,
        b_ub=rhs[~eq] if (~eq).any() else None,
        A_eq=a[eq] if eq.any() else None,
        b_eq=rhs[eq] if eq.any() else None,
        bounds=np.column_stack([np.zeros(n_var), upper]),
        method="highs-ds",
        # presolve off: measured ~30 % faster at 900,000 pairs; the start is already good
        options={"presolve": False, "time_limit": float(time_limit_s)},
    )
    if res.status != 0 or res.x is None:
        return None
    xv = np.asarray(res.x, dtype=np.float64)
    rounded = np.rint(xv)
    if np.abs(xv - rounded).max(initial=0.0) > _INTEGRAL_TOL:
        return None
    sol = rounded.astype(np.int64)
    x[other] = sol[:n_o]
    moved = np.bincount(col_g, weights=sol, minlength=n_g).astype(np.int64)
    x[nearest[has]] = d[has] - moved[has]
    return x


def _fits(load: NDArray[np.float64], cap: NDArray[np.float64], full: NDArray[np.bool_]) -> bool:
    """Fixed loads within capacity, and exactly at capacity where the face says full."""
    return bool((load <= cap).all() and (load[full] == cap[full]).all())


def _verified(
    x: NDArray[np.int64],
    x0: NDArray[np.int64],
    d: NDArray[np.int64],
    cap: NDArray[np.float64],
    g: NDArray[np.int64],
    f: NDArray[np.int64],
    m: NDArray[np.float64],
    level: NDArray[np.int64],
) -> bool:
    """Integer check of the LP result: feasible, same coverage per level as ``x0``."""
    if (x < 0).any():
        return False
    served = np.bincount(g, weights=x, minlength=d.shape[0]).astype(np.int64)
    served0 = np.bincount(g, weights=x0, minlength=d.shape[0]).astype(np.int64)
    load = np.bincount(f, weights=x, minlength=cap.shape[0])
    if (served > d).any() or (load > cap).any():
        return False
    for k in np.unique(level):
        if served[level >= k].sum() != served0[level >= k].sum():
            return False
    scale = max(1.0, float(np.dot(x0, m)))
    return float(np.dot(x, m)) <= float(np.dot(x0, m)) + FLOAT_TOL * scale
