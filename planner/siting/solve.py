"""Solve a siting problem: checks, warm start, MILP (or LP kernel), result.

The pipeline, per the measurements in ``bench/siting.py``:

1. **Checks** that name the rule to relax before any solver runs (a town
   without candidates, too few new sites for the must-have rules, a budget
   below the cheapest way to meet them, an unreachable coverage target).
2. **Shrink**: demand points covered by existing sites leave the model, points
   with the same covering candidates are merged, only pairs within the
   threshold are kept (p-median: within the pairs given).
3. **Warm start**: greedy + interchange on the coverage matrix (uncapacitated),
   or a greedy on a proxy gain whose allocation is then solved exactly.
4. **MILP** with the start and the time limit, by HiGHS or CBC. Large
   uncapacitated MCLPs first solve the LP relaxation (interior point), then
   the MILP over the candidates the LP uses plus the heuristic's: the LP
   optimum stays the proven bound.
5. **Result**: the best solution found and its proven bound, sites ranked by
   marginal gain.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from planner.siting.heuristics import CoverInstance, greedy, interchange, order_by_gain
from planner.siting.milp import (
    MilpOutcome,
    Model,
    Solver,
    build_model,
    cover_matrix,
    covering_pairs,
    fix_and_evaluate,
    lp_bound,
    solve_model,
    start_vector,
)
from planner.siting.problem import (
    SitingError,
    SitingProblem,
    SitingResult,
    Status,
    relative_gap,
)

DEFAULT_SOLVERS: dict[str, Solver] = {
    "mclp": "highs",
    "mclp_capacitated": "cbc",
    "pmedian": "highs",
    "pmedian_capacitated": "cbc",
    "lscp": "cbc",
    "lscp_capacitated": "cbc",
}


def _check(p: SitingProblem) -> None:
    """Raise a SitingError naming the rule that cannot hold."""
    cand = p.candidates
    limit = len(cand) if p.max_new is None else min(p.max_new, len(cand))
    needed = 0
    cheapest = 0.0
    # groups sharing candidates can be met by the same site: the sums below are
    # then no lower bounds, and the MILP (with its diagnosis) decides instead
    seen: set[int] = set()
    shared = False
    for g in p.groups:
        need = g.minimum - int(p.existing[g.sites].sum())
        if need <= 0:
            continue
        options = np.intersect1d(g.sites, cand)
        if len(options) < need:
            raise SitingError(
                f"「{g.name}」需要至少 {g.minimum} 处，但只有 {len(options)} 个候选点："
                "请为它添加候选点，或取消“每个镇街至少一处”规则（--no-town-rule）"
            )
        shared = shared or not seen.isdisjoint(options.tolist())
        seen.update(options.tolist())
        needed += need
        cheapest += float(np.sort(p.site_cost[options])[:need].sum())
    if needed > limit and not shared:
        raise SitingError(
            f"满足“每个镇街至少一处”需要新建至少 {needed} 处，但只允许新建 {limit} 处："
            f"请把 --new 提高到 {needed} 以上，或取消该规则（--no-town-rule）"
        )
    if p.budget is not None and cheapest > p.budget + 1e-6 and not shared:
        raise SitingError(
            f"满足“每个镇街至少一处”至少需要 {cheapest:,.0f} 元，预算只有 {p.budget:,.0f} 元："
            "请提高预算（--budget），或取消该规则（--no-town-rule）"
        )
    if p.objective in ("mclp", "pmedian") and p.max_new is None and p.budget is None:
        raise SitingError("请给出新建数量（--new）或预算（--budget）")


def _diagnose_infeasible(p: SitingProblem, model: Model) -> SitingError:
    """Find which rule makes the problem infeasible by dropping each in turn."""
    names = {
        "target": "覆盖目标（降低 --target，或增加候选点）",
        "max_new": "新建数量上限（提高 --new）",
        "max_upgrades": "升级数量上限",
        "budget": "预算（提高 --budget）",
    }
    # the limits first: the target is what the user asked for, relax it last
    order = sorted(model.rules.items(), key=lambda kv: kv[0] == "target")
    for rule, row in order:
        lo, hi = model.row_lo.copy(), model.row_hi.copy()
        lo[row], hi[row] = -np.inf, np.inf
        relaxed = Model(**{**model.__dict__, "row_lo": lo, "row_hi": hi})
        out = solve_model(relaxed, solver="highs", time_limit=30.0, gap=1e-3)
        if not out.infeasible:
            label = names.get(rule, f"「{rule.split(':', 1)[-1]}」至少一处的规则（--no-town-rule）")
            return SitingError(f"在当前条件下无解；放宽这一条即可求解：{label}")
    return SitingError("在当前条件下无解：请同时放宽预算、新建数量和覆盖目标")


def _decisions(model: Model, x: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    y = np.flatnonzero((model.y_col >= 0) & (x[np.maximum(model.y_col, 0)] > 0.5))
    u = np.flatnonzero((model.u_col >= 0) & (x[np.maximum(model.u_col, 0)] > 0.5))
    return y, u


def _served(p: SitingProblem, model: Model, x: NDArray[np.float64]) -> NDArray[np.float64]:
    served = model.base_served.copy()
    np.add.at(served, model.served_demand, x[model.served_col] * model.served_factor)
    return np.minimum(served, p.demand)


def _person_minutes(model: Model, x: NDArray[np.float64]) -> float:
    return float(x[model.served_col] @ model.minutes_factor)


def _cover_instance(p: SitingProblem, model: Model) -> tuple[CoverInstance, NDArray[np.int64]]:
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


def _proxy_greedy(p: SitingProblem, model: Model) -> NDArray[np.int64]:
    """A start for capacitated coverage and p-median: greedy on a simple gain.

    Coverage: a site's gain is the uncovered persons it reaches, capped by its
    capacity. p-median: the person-minutes it saves given the sites open.
    """
    inst, cand = _cover_instance(p, model)
    if p.objective != "pmedian" and not np.isfinite(p.site_capacity[cand]).any():
        return cand[greedy(inst)]
    pairs = (model.y_col[p.pair_site] >= 0) | p.existing[p.pair_site]
    d, s, t = p.pair_demand[pairs], p.pair_site[pairs], p.pair_minutes[pairs]
    best = np.full(p.n_demand, p.unserved_minutes)
    ex = p.existing[s]
    np.minimum.at(best, d[ex], t[ex])
    chosen: list[int] = []
    spent = 0.0
    remaining = p.demand.copy()
    remaining[best <= p.threshold_min] = 0.0
    limit = len(cand) if p.max_new is None else p.max_new
    budget = np.inf if p.budget is None else p.budget
    need_sites = [
        (np.intersect1d(g.sites, cand), g.minimum - int(p.existing[g.sites].sum()))
        for g in p.groups
    ]
    while len(chosen) < limit:
        col = model.y_col[s]
        new = (col >= 0) & ~np.isin(s, chosen)
        if p.objective == "pmedian":
            saving = p.demand[d[new]] * np.maximum(best[d[new]] - t[new], 0.0)
        else:
            near = t[new] <= p.threshold_min
            saving = np.where(near, remaining[d[new]], 0.0)
        gain = np.bincount(s[new], weights=saving, minlength=p.n_sites)
        if p.objective != "pmedian":
            gain = np.minimum(gain, p.site_capacity)
        ok = np.zeros(p.n_sites, bool)
        ok[cand] = p.site_cost[cand] <= budget - spent + 1e-9
        ok[chosen] = False
        due = [sites for sites, need in need_sites if need > len(np.intersect1d(sites, chosen))]
        if due:
            mask = np.zeros(p.n_sites, bool)
            mask[due[0]] = True
            ok &= mask
        if not ok.any():
            break
        j = int(np.argmax(np.where(ok, gain, -np.inf)))
        if gain[j] <= 0 and not due:
            break
        chosen.append(j)
        spent += float(p.site_cost[j])
        hit = s == j
        if p.objective == "pmedian":
            np.minimum.at(best, d[hit], t[hit])
        else:
            reach = d[hit & (t <= p.threshold_min)]
            taken = np.minimum(remaining[reach], p.site_capacity[j] / max(len(reach), 1))
            remaining[reach] -= taken
    return np.asarray(chosen, np.int64)


def _objective(p: SitingProblem, model: Model, value: float) -> float:
    return model.sign * value + model.offset if p.objective == "mclp" else value


def _rank(
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
        inst, cand = _cover_instance(p, model)
        pos = {int(j): t for t, j in enumerate(cand)}
        order, gains = order_by_gain(inst, [pos[int(j)] for j in opened])
        return cand[np.asarray(order, np.int64)], np.asarray(gains)
    # partial plans need not meet the rules (groups, budget): rank without them
    model = build_model(_without_rules(p))
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


def solve(
    problem: SitingProblem,
    *,
    solver: Solver | Mapping[str, Solver] | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 1e-4,
    threads: int = 1,
    kernel_pairs: int = 200_000,
) -> SitingResult:
    """Solve ``problem`` and return the best solution with its proven bound.

    Parameters
    ----------
    problem
        The problem on arrays.
    solver
        ``"highs"`` or ``"cbc"``, or a mapping from problem class
        (``mclp``, ``mclp_capacitated``, ``pmedian``, …) to solver; ``None``
        uses :data:`DEFAULT_SOLVERS` (chosen by ``make bench-siting``).
    time_limit_s
        Wall-clock limit for the whole solve, seconds.
    mip_gap
        Relative gap at which the MILP stops as optimal.
    threads
        Solver threads.
    kernel_pairs
        Uncapacitated MCLPs with more coverage entries than this solve the LP
        relaxation first and then the MILP on the candidates it uses.

    Raises
    ------
    SitingError
        The problem is infeasible; the message names the rule to relax.
    """
    started = time.perf_counter()
    p = problem
    _check(p)
    chosen_solver: Solver
    if solver is None or isinstance(solver, Mapping):
        table = solver or DEFAULT_SOLVERS
        key = f"{p.objective}_capacitated" if p.capacitated else p.objective
        chosen_solver = table.get(key, table.get(p.objective, "highs"))
    else:
        chosen_solver = solver
    model = build_model(p)
    uncapacitated = not p.capacitated and p.objective != "pmedian"
    if not model.integer.any():
        return _nothing_to_choose(p, model, started)

    # warm start
    start_sites: NDArray[np.int64]
    if uncapacitated and p.objective == "mclp":
        inst, cand = _cover_instance(p, model)
        at = inst.AT
        start_sites = cand[np.asarray(interchange(inst, greedy(inst, AT=at), AT=at), np.int64)]
        method = "greedy+interchange"
    else:
        start_sites = _proxy_greedy(p, model)
        method = "greedy"
    start_out = fix_and_evaluate(model, start_sites, np.zeros(0, np.int64))
    feasible_start = not start_out.infeasible and _feasible(model, start_out.x)
    start = start_out.x if feasible_start else None

    remaining = time_limit_s - (time.perf_counter() - started)
    label: str = chosen_solver
    bound_override: float | None = None
    if uncapacitated and p.objective == "mclp" and model.A.nnz > kernel_pairs:
        lp_value, lp_x = lp_bound(model, time_limit=max(remaining * 0.5, 1.0), threads=threads)
        bound_override = lp_value
        if lp_x is not None:
            used = np.flatnonzero((model.y_col >= 0) & (lp_x[np.maximum(model.y_col, 0)] > 1e-3))
            kernel = np.union1d(used, start_sites)
            sub = build_model(p, restrict=kernel)
            sub_start = fix_and_evaluate(sub, start_sites, np.zeros(0, np.int64))
            remaining = time_limit_s - (time.perf_counter() - started)
            out = solve_model(
                sub,
                solver=chosen_solver,
                time_limit=max(remaining, 1.0),
                gap=mip_gap,
                start=sub_start.x,
                threads=threads,
            )
            label = f"{method} + LP kernel ({len(kernel)} sites) + {chosen_solver}"
            if out.x is not None and out.value <= start_out.value:
                opened, upgraded = _decisions(sub, out.x)
                final = fix_and_evaluate(model, opened, upgraded)
            else:
                final = start_out
        else:
            final = start_out
            label = f"{method} (LP time limit)"
        outcome = MilpOutcome(final.x, final.value, lp_value, False, False, 0.0)
    else:
        out = solve_model(
            model,
            solver=chosen_solver,
            time_limit=max(remaining, 1.0),
            gap=mip_gap,
            start=start,
            threads=threads,
        )
        if out.infeasible:
            raise _diagnose_infeasible(p, model)
        if out.x is None or (start is not None and start_out.value < out.value):
            if start is None:
                raise SitingError("在时间限制内没有找到可行方案：请延长 --time-limit 或放宽条件")
            outcome = MilpOutcome(start, start_out.value, out.bound, False, False, out.seconds)
            label = f"{method} ({chosen_solver} found no better)"
        else:
            outcome = out
    assert outcome.x is not None
    opened, upgraded = _decisions(model, outcome.x)
    final_eval = fix_and_evaluate(model, opened, upgraded)
    if p.objective != "lscp" and not final_eval.infeasible:
        # upgrades cost nothing in the MCLP/p-median objective: the solver may
        # pick one that adds nothing; drop those (they would only spend money)
        for j in upgraded:
            rest = upgraded[upgraded != j]
            trial = fix_and_evaluate(model, opened, rest)
            tol = 1e-9 * max(1.0, abs(final_eval.value))
            if not trial.infeasible and trial.value <= final_eval.value + tol:
                upgraded, final_eval = rest, trial
    if final_eval.x is None or not _feasible(model, final_eval.x):
        # a back end's solution that does not hold once rounded: keep the start
        if start is None:
            raise SitingError("求解器返回的方案不满足约束：请改用另一求解器（highs/cbc）重试")
        opened, upgraded = start_sites, np.zeros(0, np.int64)
        final_eval = start_out
        label = f"{method} ({chosen_solver} solution rejected)"
    x = final_eval.x
    assert x is not None
    value = float(model.c @ x)
    bound_min = min(outcome.bound, value) if bound_override is None else bound_override
    objective = _objective(p, model, value)
    bound = _objective(p, model, bound_min)
    gap = relative_gap(objective, bound, maximise=p.maximise)
    if p.objective == "lscp":
        bound = float(np.ceil(bound - 1e-6))
        gap = relative_gap(objective, bound, maximise=False)
    status: Status = "optimal" if gap <= mip_gap + 1e-12 else "time_limit"
    if status != "optimal" and time.perf_counter() - started < 0.9 * time_limit_s:
        status = "heuristic"  # stopped before the limit (LP kernel): bound not closed
    ranked, marginal = _rank(p, model, opened, upgraded)
    if p.objective != "lscp":
        ranked, marginal = _drop_idle(p, ranked, marginal)
        opened = ranked
    cost = float(p.site_cost[opened].sum())
    if len(upgraded) and p.upgrade_cost is not None:
        cost += float(p.upgrade_cost[upgraded].sum())
    return SitingResult(
        objective_kind=p.objective,
        opened=ranked,
        marginal=marginal,
        upgraded=upgraded,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        status=status,
        solver=label,
        cost=cost,
        served=(
            evaluate(p, opened=opened, upgraded=upgraded)[1]
            if p.objective == "lscp"
            else _served(p, model, x)
        ),
        person_minutes=_person_minutes(model, x),
    )


def _drop_idle(
    p: SitingProblem, ranked: NDArray[np.int64], marginal: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Drop new sites that add nothing (ranked last), unless a rule needs them."""
    keep = list(range(len(ranked)))
    for t in reversed(range(len(ranked))):
        if marginal[t] > 1e-9:
            break
        trial = [ranked[s] for s in keep if s != t]
        open_ = np.zeros(p.n_sites, bool)
        open_[p.existing] = True
        open_[np.asarray(trial, np.int64)] = True
        if all(int(open_[g.sites].sum()) >= g.minimum for g in p.groups):
            keep.remove(t)
    return ranked[keep], marginal[keep]


def _nothing_to_choose(p: SitingProblem, model: Model, started: float) -> SitingResult:
    """No candidate and no upgrade: the result is what exists."""
    none = np.zeros(0, np.int64)
    out = fix_and_evaluate(model, none, none)
    if out.x is None:
        raise SitingError("没有可选的候选点，现有设施达不到覆盖目标：请添加候选点（--candidates）")
    value = _objective(p, model, out.value)
    return SitingResult(
        objective_kind=p.objective,
        opened=none,
        marginal=np.zeros(0),
        upgraded=none,
        objective=value,
        bound=value,
        gap=0.0,
        seconds=time.perf_counter() - started,
        status="optimal",
        solver="no choice",
        cost=0.0,
        served=_served(p, model, out.x),
        person_minutes=_person_minutes(model, out.x),
    )


def _feasible(model: Model, x: NDArray[np.float64] | None, tol: float = 1e-6) -> bool:
    if x is None:
        return False
    ax = model.A @ x
    return bool(
        (ax >= model.row_lo - tol * (1 + np.abs(model.row_lo))).all()
        and (ax <= model.row_hi + tol * (1 + np.abs(model.row_hi))).all()
    )


def _without_rules(p: SitingProblem) -> SitingProblem:
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
    relaxed = _without_rules(problem)
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
        return float(len(opened) + (0 if upgraded is None else len(upgraded))), _served(
            relaxed, model, out.x
        )
    return _objective(relaxed, model, out.value), _served(relaxed, model, out.x)


__all__ = ["DEFAULT_SOLVERS", "covering_pairs", "evaluate", "solve", "start_vector"]
