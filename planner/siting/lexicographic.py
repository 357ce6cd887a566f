"""Exact tie-breaking: one MILP stage per criterion after the main objective.

The main objective of a siting problem often has many optimal plans (on the
demo, 204 pairs of sites reach the same persons within the places). The
criteria of :func:`planner.siting.figures.criteria` order them: after the
objective, the fewest new sites and upgrades (MCLP, p-median), the most persons
in reach with the places aside, the fewest total minutes to the nearest open
site, and the smallest stable key. Each stage solves the MILP of the next
criterion with the previous ones held at their optimum (a row ``value ≤
optimum + tolerance`` per criterion), starting from the previous stage's plan.

:func:`tie_model` extends a :class:`~planner.siting.milp.Model` with the columns
these criteria need: ``r`` per group of demand points not reached by the
existing sites (``r ≤`` the candidates that reach it, as in the uncapacitated
coverage), and ``a`` per reachable (point, candidate) pair closer than the
point's nearest existing site (``a ≤ y``; each point's ``a`` sum to its ``r``,
or to at most 1 when an existing site reaches it). The minutes of a plan are
then ``Σ_points persons × minutes to the nearest existing site`` plus
``Σ_a persons × (minutes − that)``, at the optimum the nearest open site's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from planner.siting.backends import fix_and_evaluate, solve_model
from planner.siting.figures import TIE_REL_TOL, Criterion, PlanScorer, criteria
from planner.siting.milp import INF, Model, Solver, cover_matrix, covering_pairs
from planner.siting.problem import SitingProblem
from planner.siting.ranking import decisions

__all__ = ["TIE_GAP", "TieModel", "TieOutcome", "break_ties", "tie_model"]

#: Relative MIP gap of the tie-breaking stages: they are solved to optimality.
TIE_GAP = 1e-9
#: Seconds a stage gets at least, even when the time limit is used up.
MIN_STAGE_SECONDS = 1.0


@dataclass(frozen=True)
class TieModel:
    """A model extended for every criterion: ``vectors[c]`` is criterion ``c``'s
    cost in minimisation sense over the columns of ``model``, ``rows[c]`` the
    row that holds it at its optimum in the later stages (free until then)."""

    model: Model
    vectors: dict[Criterion, NDArray[np.float64]]
    rows: dict[Criterion, int]


def _stack(model: Model, cols: int, rows: list[tuple[NDArray[np.float64], float, float]]) -> Model:
    """``model`` with ``cols`` more columns in [0, 1] and the dense ``rows`` below
    its own rows (each: coefficients over all columns, lower, upper)."""
    import scipy.sparse as sp

    n = model.n_cols + cols
    a = sp.hstack([model.A, sp.csr_matrix((model.A.shape[0], cols))], format="csr")
    extra = sp.csr_matrix(np.vstack([r for r, _, _ in rows])) if rows else None
    if extra is not None:
        a = sp.vstack([a, extra], format="csr")
    return replace(
        model,
        c=np.zeros(n),
        lower=np.concatenate([model.lower, np.zeros(cols)]),
        upper=np.concatenate([model.upper, np.ones(cols)]),
        integer=np.concatenate([model.integer, np.zeros(cols, bool)]),
        A=a,
        row_lo=np.concatenate([model.row_lo, [lo for _, lo, _ in rows]]),
        row_hi=np.concatenate([model.row_hi, [hi for _, _, hi in rows]]),
    )


def _sparse_rows(
    model: Model,
    row: NDArray[np.int64],
    col: NDArray[np.int64],
    val: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
) -> Model:
    """``model`` with sparse rows added (row numbers from 0)."""
    import scipy.sparse as sp

    k = len(lo)
    add = sp.csr_matrix((val, (row, col)), shape=(k, model.n_cols))
    return replace(
        model,
        A=sp.vstack([model.A, add], format="csr"),
        row_lo=np.concatenate([model.row_lo, lo]),
        row_hi=np.concatenate([model.row_hi, hi]),
    )


def _reach_and_minutes(
    p: SitingProblem, base: Model
) -> tuple[Model, NDArray[np.float64], NDArray[np.float64]]:
    """``base`` with the ``r`` and ``a`` columns and their rows; the costs of
    persons in reach (negative) and of minutes over the new columns."""
    n_cand = int((base.y_col >= 0).sum())
    cover = cover_matrix(p, y_col=base.y_col, n_cand=n_cand)
    n_groups = cover.A.shape[0]
    near = covering_pairs(p)
    d, s, t = p.pair_demand[near], p.pair_site[near], p.pair_minutes[near]
    nearest = np.full(p.n_demand, np.inf)
    ex = p.existing[s]
    np.minimum.at(nearest, d[ex], t[ex])
    keep = (base.y_col[s] >= 0) & (t < nearest[d]) & (p.demand[d] > 0)
    d, s, t = d[keep], s[keep], t[keep]
    k = len(d)
    n0 = base.n_cols
    r_col = n0 + np.arange(n_groups)
    a_col = n0 + n_groups + np.arange(k)
    model = _stack(base, n_groups + k, [])
    # r_g ≤ Σ y of the candidates reaching group g
    ac = cover.A.tocoo()
    model = _sparse_rows(
        model,
        np.concatenate([np.arange(n_groups), ac.row]),
        np.concatenate([r_col, ac.col]),
        np.concatenate([np.ones(n_groups), -np.ones(ac.nnz)]),
        np.full(n_groups, -INF),
        np.zeros(n_groups),
    )
    # a_ij ≤ y_j
    model = _sparse_rows(
        model,
        np.concatenate([np.arange(k), np.arange(k)]),
        np.concatenate([a_col, base.y_col[s]]),
        np.concatenate([np.ones(k), -np.ones(k)]),
        np.full(k, -INF),
        np.zeros(k),
    )
    # per point: Σ_j a_ij ≤ 1 (an existing site reaches it), or = r of its group
    points, slot = np.unique(d, return_inverse=True)
    reached = np.isfinite(nearest[points])
    group = np.full(p.n_demand, -1, np.int64)
    group[cover.points] = cover.group
    free = np.flatnonzero(~reached)
    model = _sparse_rows(
        model,
        np.concatenate([slot, free]),
        np.concatenate([a_col, r_col[group[points[free]]]]),
        np.concatenate([np.ones(k), -np.ones(len(free))]),
        np.where(reached, -INF, 0.0),
        np.where(reached, 1.0, 0.0),
    )
    reach = np.zeros(model.n_cols)
    reach[r_col] = -cover.w
    w = p.demand[d]
    minutes = np.zeros(model.n_cols)
    reached_d = np.isfinite(nearest[d])
    minutes[a_col] = w * (t - np.where(reached_d, nearest[d], 0.0))
    return model, reach, minutes


def tie_model(problem: SitingProblem, base: Model) -> TieModel:
    """``base`` (the problem's model, maybe restricted to a kernel of candidates)
    extended with every criterion's columns, costs and (free) bound rows."""
    p = problem
    model, reach, minutes = _reach_and_minutes(p, base)
    n = model.n_cols
    integer = np.flatnonzero(model.integer)
    key = np.zeros(n)
    sites_y = np.flatnonzero(base.y_col >= 0)
    key[base.y_col[sites_y]] = sites_y + 1
    sites_u = np.flatnonzero(base.u_col >= 0)
    key[base.u_col[sites_u]] = sites_u + 1
    count = np.zeros(n)
    count[integer] = 1.0
    objective = np.concatenate([base.c, np.zeros(n - base.n_cols)])
    vectors: dict[Criterion, NDArray[np.float64]] = {
        "objective": objective,
        "count": count,
        "in_reach": reach,
        "minutes": minutes,
        "key": key,
    }
    order = criteria(p)
    first = model.A.shape[0]
    model = _stack(model, 0, [(vectors[c], -INF, INF) for c in order[:-1]])
    return TieModel(
        model=model,
        vectors={c: vectors[c] for c in order},
        rows={c: first + i for i, c in enumerate(order[:-1])},
    )


@dataclass(frozen=True)
class TieOutcome:
    """The plan after the tie-breaking stages.

    ``values``: each criterion's value in minimisation sense (model terms);
    ``proven``: every stage was solved to optimality (or needed no solve).
    """

    opened: NDArray[np.int64]
    upgraded: NDArray[np.int64]
    values: dict[Criterion, float]
    proven: bool


def _tolerance(value: float) -> float:
    return TIE_REL_TOL * max(1.0, abs(value))


def _held(tm: TieModel, values: dict[Criterion, float]) -> Model:
    """The extended model with every criterion solved so far held at its optimum."""
    hi = tm.model.row_hi.copy()
    for c, v in values.items():
        if c in tm.rows:
            hi[tm.rows[c]] = v + _tolerance(v)
    return replace(tm.model, row_hi=hi)


def _largest_gain(p: SitingProblem, model: Model) -> float:
    """An upper bound on what one decision adds to the objective (persons; p-median:
    person-minutes saved): a site serves at most the persons within its reach and
    its places; a person it serves saves at most the penalty minus the trip."""
    n_sites = p.n_sites
    near = covering_pairs(p)
    persons = np.bincount(
        p.pair_site[near], weights=p.demand[p.pair_demand[near]], minlength=n_sites
    )
    up = np.zeros(n_sites) if p.upgrade_capacity is None else p.upgrade_capacity
    if p.objective == "pmedian":
        saved = p.demand[p.pair_demand] * np.maximum(p.unserved_minutes - p.pair_minutes, 0.0)
        per_site = np.bincount(p.pair_site, weights=saved, minlength=n_sites)
        if p.capacitated:
            per_site = np.minimum(per_site, p.site_capacity * p.unserved_minutes)
        per_upgrade = up * p.unserved_minutes
    else:
        per_site = np.minimum(persons, p.site_capacity) if p.capacitated else persons
        per_upgrade = np.minimum(persons, up)
    gains = np.concatenate([per_site[model.y_col >= 0], per_upgrade[model.u_col >= 0], [0.0]])
    return float(gains.max())


def _fewest_decisions(p: SitingProblem, tm: TieModel, objective: float) -> int:
    """A lower bound on the new sites and upgrades of a plan reaching ``objective``
    (model terms): what the must-have groups need, and the gain over the plan of
    nothing new divided by the largest gain one decision can bring."""
    needs = [
        (np.intersect1d(g.sites, p.candidates), g.minimum - int(p.existing[g.sites].sum()))
        for g in p.groups
    ]
    needs = [(sites, need) for sites, need in needs if need > 0]
    union = np.unique(np.concatenate([s for s, _ in needs])) if needs else np.zeros(0)
    disjoint = len(union) == sum(len(s) for s, _ in needs)
    bound = sum(n for _, n in needs) if disjoint else max((n for _, n in needs), default=0)
    nothing = np.zeros(0, np.int64)
    empty = PlanScorer(p).figures(nothing, nothing).objective
    reached = tm.model.sign * objective + tm.model.offset
    gain = (reached - empty) if p.maximise else (empty - reached)
    largest = _largest_gain(p, tm.model)
    if largest > 0:
        bound = max(bound, int(np.ceil((gain - _tolerance(gain)) / largest)))
    return bound


def _single_decision(tm: TieModel, count: int) -> bool:
    """One decision, of the only kind the model has: every such plan is scored
    by the swaps of :func:`planner.siting.explain.polish`, no MILP is needed."""
    kinds = int((tm.model.y_col >= 0).any()) + int((tm.model.u_col >= 0).any())
    return count == 1 and kinds == 1


def break_ties(
    problem: SitingProblem,
    base: Model,
    *,
    opened: NDArray[np.int64],
    upgraded: NDArray[np.int64],
    solver: Solver,
    time_limit_s: float,
    threads: int = 1,
) -> TieOutcome:
    """Solve the criteria after the objective in turn, from the plan given.

    A criterion needs no MILP when the plan has as few decisions as the
    bound of :func:`_fewest_decisions` (``count``), or when the plan is a
    single decision (:func:`_single_decision`: the rest is left to the swaps).

    Parameters
    ----------
    problem
        The siting problem.
    base
        Its model (as solved for the objective).
    opened, upgraded
        The objective's optimal plan (the first stage's start).
    solver
        ``highs`` or ``cbc``.
    time_limit_s
        Seconds for all the stages together; a stage that would start with
        less than :data:`MIN_STAGE_SECONDS` left is not solved (not proven).
    threads
        Solver threads.
    """
    started = time.perf_counter()
    tm = tie_model(problem, base)
    values: dict[Criterion, float] = {}
    proven = True
    for c in criteria(problem):
        count = len(opened) + len(upgraded)
        if c not in ("objective", "count") and _single_decision(tm, count):
            break
        model = replace(_held(tm, values), c=tm.vectors[c])
        start = fix_and_evaluate(model, opened, upgraded)
        if start.x is None:  # numerically off a held row: keep the plan, unproven
            return TieOutcome(opened=opened, upgraded=upgraded, values=values, proven=False)
        left = time_limit_s - (time.perf_counter() - started)
        if c == "objective" or (
            c == "count" and count <= _fewest_decisions(problem, tm, values["objective"])
        ):
            pass
        elif left < MIN_STAGE_SECONDS:
            proven = False
        else:
            out = solve_model(
                model, solver=solver, time_limit=left, gap=TIE_GAP, start=start.x, threads=threads
            )
            proven = proven and out.finished and not out.infeasible
            if out.x is not None and out.value < start.value:
                trial = decisions(model, out.x)
                again = fix_and_evaluate(model, *trial)
                if again.x is not None and again.value < start.value:
                    opened, upgraded, start = trial[0], trial[1], again
        values[c] = start.value
    return TieOutcome(opened=opened, upgraded=upgraded, values=values, proven=proven)
