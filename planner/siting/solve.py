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
5. **Ties**: the plans tied on the objective are ordered by the fewest new
   sites and upgrades, the most persons in reach, the fewest minutes and the
   smallest code, one exact MILP stage each (:mod:`planner.siting.lexicographic`),
   then improving swaps (:func:`planner.siting.explain.polish`).
6. **Result**: the best solution found and its proven bound, sites ranked by
   marginal gain, and why each is there (:func:`planner.siting.explain.explain`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.progress import Progress, silent
from planner.siting.backends import (
    FEASIBILITY_TOL,
    MilpOutcome,
    feasible,
    fix_and_evaluate,
    lp_bound,
    solve_model,
)
from planner.siting.explain import explain
from planner.siting.figures import PlanScorer
from planner.siting.heuristics import greedy, interchange
from planner.siting.milp import Model, Solver, build_model
from planner.siting.options import DEFAULT_MIP_GAP, DEFAULT_TIME_LIMIT_S, KERNEL_PAIRS
from planner.siting.problem import (
    SitingError,
    SitingProblem,
    SitingResult,
    Status,
    relative_gap,
)
from planner.siting.ranking import (
    cover_instance,
    decisions,
    drop_idle,
    evaluate,
    objective_value,
    person_minutes,
    rank_new_sites,
    served,
)
from planner.siting.settle import Settled, settle_ties
from planner.units import FLOAT_TOL

#: Gap at which the MILPs that diagnose an infeasible rule stop, and their time.
DIAGNOSE_GAP = 1e-3
DIAGNOSE_SECONDS = 30.0
#: LP share above which a candidate joins the kernel of a large MCLP.
KERNEL_LP_SHARE = 1e-3
#: Share of the time limit the LP relaxation of a large MCLP may use.
KERNEL_LP_TIME_SHARE = 0.5
#: Below this share of the time limit a non-optimal stop is a heuristic's, not the limit's.
TIME_LIMIT_SHARE = 0.9
#: Slack on the accepted gap when calling a solution optimal.
GAP_TOL = 1e-12
#: Minimum seconds given to a MILP solve, even when the limit is used up.
MIN_SOLVE_SECONDS = 1.0


DEFAULT_SOLVERS: dict[str, Solver] = {
    "mclp": "highs",
    "mclp_capacitated": "cbc",
    "pmedian": "highs",
    "pmedian_capacitated": "cbc",
    "lscp": "cbc",
    "lscp_capacitated": "cbc",
    "ties": "highs",
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
    if p.budget is not None and cheapest > p.budget + FEASIBILITY_TOL and not shared:
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
        out = solve_model(relaxed, solver="highs", time_limit=DIAGNOSE_SECONDS, gap=DIAGNOSE_GAP)
        if not out.infeasible:
            label = names.get(rule, f"「{rule.split(':', 1)[-1]}」至少一处的规则（--no-town-rule）")
            return SitingError(f"在当前条件下无解；放宽这一条即可求解：{label}")
    return SitingError("在当前条件下无解：请同时放宽预算、新建数量和覆盖目标")


def _proxy_greedy(p: SitingProblem, model: Model) -> NDArray[np.int64]:
    """A start for capacitated coverage and p-median: greedy on a simple gain.

    Coverage: a site's gain is the uncovered persons it reaches, capped by its
    capacity. p-median: the person-minutes it saves given the sites open.
    """
    inst, cand = cover_instance(p, model)
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
        ok[cand] = p.site_cost[cand] <= budget - spent + FLOAT_TOL
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


def _pick_solver(
    p: SitingProblem, solver: Solver | Mapping[str, Solver] | None, *, ties: bool = False
) -> Solver:
    """The solver of ``p``'s class (``mclp``, ``mclp_capacitated``, …), or of its
    tie-breaking stages (``ties``)."""
    if solver is not None and not isinstance(solver, Mapping):
        return solver
    table = solver or DEFAULT_SOLVERS
    if ties:
        return table.get("ties", DEFAULT_SOLVERS["ties"])
    key = f"{p.objective}_capacitated" if p.capacitated else p.objective
    return table.get(key, table.get(p.objective, "highs"))


@dataclass(frozen=True)
class _Start:
    """The warm start: its sites, method, exact evaluation, and full start vector
    (``None`` when the heuristic's plan breaks a rule)."""

    sites: NDArray[np.int64]
    method: str
    out: MilpOutcome
    x: NDArray[np.float64] | None


def _warm_start(p: SitingProblem, model: Model) -> _Start:
    if not p.capacitated and p.objective == "mclp":
        inst, cand = cover_instance(p, model)
        at = inst.AT
        sites = cand[np.asarray(interchange(inst, greedy(inst, AT=at), AT=at), np.int64)]
        method = "greedy+interchange"
    else:
        sites = _proxy_greedy(p, model)
        method = "greedy"
    out = fix_and_evaluate(model, sites, np.zeros(0, np.int64))
    ok = not out.infeasible and feasible(model, out.x)
    return _Start(sites=sites, method=method, out=out, x=out.x if ok else None)


def _solve_kernel(
    p: SitingProblem,
    model: Model,
    start: _Start,
    *,
    solver: Solver,
    time_limit_s: float,
    started: float,
    mip_gap: float,
    threads: int,
    progress: Progress,
) -> tuple[MilpOutcome, str]:
    """A large uncapacitated MCLP: the LP relaxation (its optimum is the proven
    bound), then the MILP over the candidates it uses plus the start's."""
    remaining = time_limit_s - (time.perf_counter() - started)
    progress("求解线性松弛（界）", 0.2)
    lp_value, lp_x = lp_bound(
        model, time_limit=max(remaining * KERNEL_LP_TIME_SHARE, MIN_SOLVE_SECONDS), threads=threads
    )
    if lp_x is None:
        final = start.out
        label = f"{start.method} (LP time limit)"
    else:
        used = np.flatnonzero(
            (model.y_col >= 0) & (lp_x[np.maximum(model.y_col, 0)] > KERNEL_LP_SHARE)
        )
        kernel = np.union1d(used, start.sites)
        sub = build_model(p, restrict=kernel)
        sub_start = fix_and_evaluate(sub, start.sites, np.zeros(0, np.int64))
        remaining = time_limit_s - (time.perf_counter() - started)
        progress(f"在 {len(kernel)} 个候选点上求解（{solver}）", 0.4)
        out = solve_model(
            sub,
            solver=solver,
            time_limit=max(remaining, MIN_SOLVE_SECONDS),
            gap=mip_gap,
            start=sub_start.x,
            threads=threads,
        )
        label = f"{start.method} + LP kernel ({len(kernel)} sites) + {solver}"
        if out.x is not None and out.value <= start.out.value:
            opened, upgraded = decisions(sub, out.x)
            final = fix_and_evaluate(model, opened, upgraded)
        else:
            final = start.out
    return MilpOutcome(final.x, final.value, lp_value, False, False, 0.0), label


def _solve_full(
    p: SitingProblem,
    model: Model,
    start: _Start,
    *,
    solver: Solver,
    time_limit_s: float,
    started: float,
    mip_gap: float,
    threads: int,
    progress: Progress,
) -> tuple[MilpOutcome, str]:
    """Branch and bound on the whole model from the warm start."""
    remaining = time_limit_s - (time.perf_counter() - started)
    progress(f"分支定界求解（{solver}）", 0.3)
    out = solve_model(
        model,
        solver=solver,
        time_limit=max(remaining, MIN_SOLVE_SECONDS),
        gap=mip_gap,
        start=start.x,
        threads=threads,
    )
    if out.infeasible:
        progress("无解：查找需放宽的条件", None)
        raise _diagnose_infeasible(p, model)
    if out.x is None or (start.x is not None and start.out.value < out.value):
        if start.x is None:
            raise SitingError("在时间限制内没有找到可行方案：请延长 --time-limit 或放宽条件")
        kept = MilpOutcome(start.x, start.out.value, out.bound, False, False, out.seconds)
        return kept, f"{start.method} ({solver} found no better)"
    return out, solver


def _without_idle_upgrades(
    model: Model, opened: NDArray[np.int64], upgraded: NDArray[np.int64], final: MilpOutcome
) -> tuple[NDArray[np.int64], MilpOutcome]:
    """Drop upgrades that add nothing: they cost nothing in the MCLP/p-median
    objective, so the solver may pick one that only spends money."""
    for j in upgraded:
        rest = upgraded[upgraded != j]
        trial = fix_and_evaluate(model, opened, rest)
        tol = FLOAT_TOL * max(1.0, abs(final.value))
        if not trial.infeasible and trial.value <= final.value + tol:
            upgraded, final = rest, trial
    return upgraded, final


def solve(
    problem: SitingProblem,
    *,
    solver: Solver | Mapping[str, Solver] | None = None,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    mip_gap: float = DEFAULT_MIP_GAP,
    threads: int = 1,
    kernel_pairs: int = KERNEL_PAIRS,
    tie_break: bool = True,
    progress: Progress = silent,
) -> SitingResult:
    """Solve ``problem`` and return the best solution with its proven bound.

    Parameters
    ----------
    problem
        The problem on arrays.
    solver
        ``"highs"`` or ``"cbc"``, or a mapping from problem class
        (``mclp``, ``mclp_capacitated``, ``pmedian``, …, and ``ties`` for the
        tie-breaking stages) to solver; ``None`` uses :data:`DEFAULT_SOLVERS`
        (chosen by ``make bench-siting``).
    time_limit_s
        Wall-clock limit for the whole solve, seconds.
    mip_gap
        Relative gap at which the MILP stops as optimal.
    threads
        Solver threads.
    kernel_pairs
        Uncapacitated MCLPs with more coverage entries than this solve the LP
        relaxation first and then the MILP on the candidates it uses.
    tie_break
        Break ties on the objective and say why each site (``why``); ``False``
        returns the objective's first optimum, without reasons (benchmarks).
    progress
        Told each stage (checks, warm start, LP, branch and bound, ranking) with
        the share of the work done (0–1).

    Raises
    ------
    SitingError
        The problem is infeasible; the message names the rule to relax.
    """
    started = time.perf_counter()
    p = problem
    progress("检查约束、建立模型", 0.0)
    _check(p)
    chosen = _pick_solver(p, solver)
    model = build_model(p)
    if not model.integer.any():
        return _nothing_to_choose(p, model, started)
    progress(f"求初始解（{'贪心+交换' if p.objective == 'mclp' else '贪心'}）", 0.1)
    start = _warm_start(p, model)
    uncapacitated = not p.capacitated and p.objective != "pmedian"
    kernel = uncapacitated and p.objective == "mclp" and model.A.nnz > kernel_pairs
    run = _solve_kernel if kernel else _solve_full
    outcome, label = run(
        p,
        model,
        start,
        solver=chosen,
        time_limit_s=time_limit_s,
        started=started,
        mip_gap=mip_gap,
        threads=threads,
        progress=progress,
    )
    opened, upgraded, final_eval, label = _rounded(p, model, outcome, start, chosen, label)
    ties = settle_ties(
        p,
        model,
        (opened, upgraded, final_eval),
        stages=not kernel,
        enabled=tie_break,
        solver=_pick_solver(p, solver, ties=True),
        time_limit_s=max(time_limit_s - (time.perf_counter() - started), MIN_SOLVE_SECONDS),
        threads=threads,
        progress=progress,
    )
    progress("按边际增益排序", 0.9)
    return _result(
        p,
        model,
        ties,
        bound_min=outcome.bound if kernel else min(outcome.bound, ties.final.value),
        label=label,
        started=started,
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
    )


def _rounded(
    p: SitingProblem,
    model: Model,
    outcome: MilpOutcome,
    start: _Start,
    chosen: Solver,
    label: str,
) -> tuple[NDArray[np.int64], NDArray[np.int64], MilpOutcome, str]:
    """The back end's sites, rounded and checked; idle upgrades dropped; the
    warm start instead when the rounded solution does not hold."""
    assert outcome.x is not None
    opened, upgraded = decisions(model, outcome.x)
    final_eval = fix_and_evaluate(model, opened, upgraded)
    if p.objective != "lscp" and not final_eval.infeasible:
        upgraded, final_eval = _without_idle_upgrades(model, opened, upgraded, final_eval)
    if final_eval.x is None or not feasible(model, final_eval.x):
        # a back end's solution that does not hold once rounded: keep the start
        if start.x is None:
            raise SitingError("求解器返回的方案不满足约束：请改用另一求解器（highs/cbc）重试")
        opened, upgraded = start.sites, np.zeros(0, np.int64)
        final_eval = start.out
        label = f"{start.method} ({chosen} solution rejected)"
    return opened, upgraded, final_eval, label


def _result(
    p: SitingProblem,
    model: Model,
    tied: Settled,
    *,
    bound_min: float,
    label: str,
    started: float,
    time_limit_s: float,
    mip_gap: float,
) -> SitingResult:
    """The result of the final decisions: objective, bound, gap, status, ranking, why."""
    final, opened, upgraded = tied.final, tied.opened, tied.upgraded
    x = final.x
    assert x is not None
    value = float(model.c @ x)
    objective = objective_value(p, model, value)
    bound = objective_value(p, model, bound_min)
    gap = relative_gap(objective, bound, maximise=p.maximise)
    if p.objective == "lscp":
        bound = float(np.ceil(bound - FEASIBILITY_TOL))
        gap = relative_gap(objective, bound, maximise=False)
    status: Status = "optimal" if gap <= mip_gap + GAP_TOL else "time_limit"
    if status != "optimal" and time.perf_counter() - started < TIME_LIMIT_SHARE * time_limit_s:
        status = "heuristic"  # stopped before the limit (LP kernel): bound not closed
    ranked, marginal = rank_new_sites(p, model, opened, upgraded)
    if p.objective != "lscp":
        ranked, marginal = drop_idle(p, ranked, marginal)
        opened = ranked
    cost = float(p.site_cost[opened].sum())
    if len(upgraded) and p.upgrade_cost is not None:
        cost += float(p.upgrade_cost[upgraded].sum())
    known = tied.polished.reasons(ranked) if tied.polished is not None else None
    if known is not None and tied.polished is not None:
        figures, why = tied.polished.figures, known
    elif tied.explained:
        figures, why = explain(p, opened=ranked, upgraded=upgraded, scorer=tied.scorer)
    else:
        figures, why = tied.scorer.figures(ranked, upgraded), ()
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
            else served(p, model, x)
        ),
        person_minutes=person_minutes(model, x),
        figures=figures,
        why=why,
        tie_break=tied.status,
    )


def _nothing_to_choose(p: SitingProblem, model: Model, started: float) -> SitingResult:
    """No candidate and no upgrade: the result is what exists."""
    none = np.zeros(0, np.int64)
    out = fix_and_evaluate(model, none, none)
    if out.x is None:
        raise SitingError("没有可选的候选点，现有设施达不到覆盖目标：请添加候选点（--candidates）")
    value = objective_value(p, model, out.value)
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
        served=served(p, model, out.x),
        person_minutes=person_minutes(model, out.x),
        figures=PlanScorer(p).figures(none, none),
    )


__all__ = ["DEFAULT_SOLVERS", "evaluate", "solve"]
