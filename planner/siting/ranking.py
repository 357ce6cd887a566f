"""A plan's value and the order of its new sites.

:func:`evaluate` gives the objective and the persons served of any plan (open
these sites, upgrade those) on a problem; :func:`rank_new_sites` orders a
solution's new sites by marginal gain, best first, and :func:`drop_idle` removes
the ones that add nothing. The helpers turn a model's columns back into the
problem's terms (sites opened, persons served, person-minutes).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from planner.siting.backends import fix_and_evaluate
from planner.siting.heuristics import CoverInstance, order_by_gain
from planner.siting.milp import Model, build_model, cover_matrix
from planner.siting.problem import SitingError, SitingProblem
from planner.units import FLOAT_TOL

__all__ = [
    "cover_instance",
    "decisions",
    "drop_idle",
    "evaluate",
    "objective_value",
    "person_minutes",
    "rank_new_sites",
    "served",
    "without_rules",
]


#: A binary column above this value is taken as 1 (solvers return 0.9999…).
CHOSEN = 0.5


def decisions(model: Model, x: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Sites opened and sites upgraded by the columns ``x`` of ``model``."""
    y = np.flatnonzero((model.y_col >= 0) & (x[np.maximum(model.y_col, 0)] > CHOSEN))
    u = np.flatnonzero((model.u_col >= 0) & (x[np.maximum(model.u_col, 0)] > CHOSEN))
    return y, u


def served(p: SitingProblem, model: Model, x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Persons of each demand point served by the columns ``x``."""
    out = model.base_served.copy()
    np.add.at(out, model.served_demand, x[model.served_col] * model.served_factor)
    return np.minimum(out, p.demand)


def person_minutes(model: Model, x: NDArray[np.float64]) -> float:
    """Minutes travelled by the persons the columns ``x`` serve."""
    return float(x[model.served_col] @ model.minutes_factor)


def cover_instance(p: SitingProblem, model: Model) -> tuple[CoverInstance, NDArray[np.int64]]:
    """The uncapacitated coverage of ``model``'s candidates (for the heuristics)
    and the site index of each of its columns."""
    cand = np.flatnonzero(model.y_col >= 0)
    cm = cover_matrix(p, y_col=model.y_col, n_cand=len(cand))
    pos = np.full(p.n_sites, -1, np.int64)
    pos[cand] = np.arange(len(cand))
    groups = []
    for g in p.groups:
        need = g.minimum - int(p.existing[g.sites].sum())
        cols = pos[g.sites]
        cols = cols[cols >= 0]
        if need > 0:
            groups.append((cols, need))
    inst = CoverInstance(
        w=cm.w,
        A=cm.A,
        cost=p.site_cost[cand],
        k=len(cand) if p.max_new is None else p.max_new,
        budget=np.inf if p.budget is None else p.budget,
        groups=tuple(groups),
    )
    return inst, cand


def objective_value(p: SitingProblem, model: Model, value: float) -> float:
    """A model's (minimisation) value in the problem's sense."""
    return model.sign * value + model.offset if p.objective == "mclp" else value


def rank_new_sites(
    p: SitingProblem, model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Order new sites by marginal gain (added one by one, best first)."""
    if len(opened) == 0:
        return opened, np.zeros(0)
    if p.objective == "lscp":
        # rank by persons covered: the same sites under the coverage objective
        p = SitingProblem(**{**p.__dict__, "objective": "mclp", "max_new": None, "budget": None})
        p = SitingProblem(**{**p.__dict__, "groups": (), "max_upgrades": None})
        model = build_model(p)
    if not p.capacitated and p.objective != "pmedian":
        inst, cand = cover_instance(p, model)
        pos = {int(j): t for t, j in enumerate(cand)}
        order, gains = order_by_gain(inst, [pos[int(j)] for j in opened])
        return cand[np.asarray(order, np.int64)], np.asarray(gains)
    # partial plans need not meet the rules (groups, budget): rank without them
    model = build_model(without_rules(p))
    left = list(map(int, opened))
    done: list[int] = []
    prev = fix_and_evaluate(model, np.zeros(0, np.int64), upgraded).value
    step_gains: list[float] = []
    while left:
        vals = [
            fix_and_evaluate(model, np.asarray([*done, j], np.int64), upgraded).value for j in left
        ]
        t = int(np.argmin(vals))
        done.append(left.pop(t))
        step_gains.append(abs(prev - vals[t]))
        prev = vals[t]
    return np.asarray(done, np.int64), np.asarray(step_gains)


def drop_idle(
    p: SitingProblem, ranked: NDArray[np.int64], marginal: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Drop new sites that add nothing (ranked last), unless a rule needs them."""
    keep = list(range(len(ranked)))
    for t in reversed(range(len(ranked))):
        if marginal[t] > FLOAT_TOL:
            break
        trial = [ranked[s] for s in keep if s != t]
        open_ = np.zeros(p.n_sites, bool)
        open_[p.existing] = True
        open_[np.asarray(trial, np.int64)] = True
        if all(int(open_[g.sites].sum()) >= g.minimum for g in p.groups):
            keep.remove(t)
    return ranked[keep], marginal[keep]


def without_rules(p: SitingProblem) -> SitingProblem:
    """``p`` without the limits and must-have rules (for scoring given plans)."""
    return SitingProblem(
        **{**p.__dict__, "max_new": None, "budget": None, "groups": (), "max_upgrades": None}
    )


def evaluate(
    problem: SitingProblem,
    *,
    opened: NDArray[np.int64],
    upgraded: NDArray[np.int64] | None = None,
) -> tuple[float, NDArray[np.float64]]:
    """Objective and persons served per demand point of a given plan.

    Used for "before" (nothing opened) and to check other plans (e.g. spopt's)
    on the same problem. Rules (budget, groups) are not checked here.
    """
    relaxed = without_rules(problem)
    if problem.objective == "lscp":
        # coverage of the plan; the target is a rule too (a "before" plan misses it)
        relaxed = SitingProblem(**{**relaxed.__dict__, "objective": "mclp"})
    model = build_model(relaxed)
    out = fix_and_evaluate(
        model,
        np.asarray(opened, np.int64),
        np.asarray(upgraded if upgraded is not None else np.zeros(0, np.int64), np.int64),
    )
    if out.x is None:
        raise SitingError("该方案不可行")
    if problem.objective == "lscp":
        return float(len(opened) + (0 if upgraded is None else len(upgraded))), served(
            relaxed, model, out.x
        )
    return objective_value(relaxed, model, out.value), served(relaxed, model, out.x)
