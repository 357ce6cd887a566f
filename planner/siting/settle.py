"""Settling the ties of a solved plan: exact stages, then swaps.

:func:`settle_ties` runs the lexicographic stages of
:mod:`planner.siting.lexicographic` on the objective's optimal plan (not on the
LP-kernel path, whose objective is not proven either), then the improving swaps
of :func:`planner.siting.explain.polish`; every plan it keeps is checked
against the model's rules. :func:`planner.siting.solve.solve` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.progress import Progress
from planner.siting.backends import MilpOutcome, feasible, fix_and_evaluate
from planner.siting.explain import Polished, polish
from planner.siting.figures import PlanScorer
from planner.siting.lexicographic import break_ties
from planner.siting.milp import Model, Solver
from planner.siting.problem import SitingProblem, Status

__all__ = ["Settled", "settle_ties"]


@dataclass(frozen=True)
class Settled:
    """The plan after tie-breaking: its decisions, exact evaluation, the status of
    the stages, the scorer, the polished plan's reasons (``None`` when the plan
    kept is another) and whether reasons are wanted (``explained``)."""

    opened: NDArray[np.int64]
    upgraded: NDArray[np.int64]
    final: MilpOutcome
    status: Status
    scorer: PlanScorer
    polished: Polished | None
    explained: bool = True


def settle_ties(
    p: SitingProblem,
    model: Model,
    plan: tuple[NDArray[np.int64], NDArray[np.int64], MilpOutcome],
    *,
    stages: bool,
    enabled: bool = True,
    solver: Solver,
    time_limit_s: float,
    threads: int,
    progress: Progress,
) -> Settled:
    """The lexicographic stages (:mod:`planner.siting.lexicographic`; not when
    ``stages`` is false: the LP-kernel path) then improving swaps
    (:func:`planner.siting.explain.polish`); nothing when ``enabled`` is false."""
    opened, upgraded, final = plan
    status: Status = "heuristic"
    if not enabled:
        return Settled(opened, upgraded, final, status, PlanScorer(p), None, explained=False)
    if stages:
        progress("目标值并列时依次比较：新建数、可达人数、出行时间、代码", 0.7)
        ties = break_ties(
            p,
            model,
            opened=opened,
            upgraded=upgraded,
            solver=solver,
            time_limit_s=time_limit_s,
            threads=threads,
        )
        status = "optimal" if ties.proven else "time_limit"
        trial = fix_and_evaluate(model, ties.opened, ties.upgraded)
        if trial.x is not None and feasible(model, trial.x):
            opened, upgraded, final = ties.opened, ties.upgraded, trial
    scorer = PlanScorer(p)
    progress("检查逐个替换是否更好", 0.8)
    polished = polish(p, opened=opened, upgraded=upgraded, scorer=scorer)
    if polished.swaps:
        trial = fix_and_evaluate(model, polished.opened, polished.upgraded)
        if trial.x is not None and feasible(model, trial.x):
            opened, upgraded, final = polished.opened, polished.upgraded, trial
    same_plan = np.array_equal(np.sort(opened), np.sort(polished.opened)) and np.array_equal(
        np.sort(upgraded), np.sort(polished.upgraded)
    )
    return Settled(
        opened=opened,
        upgraded=upgraded,
        final=final,
        status=status,
        scorer=scorer,
        polished=polished if same_plan else None,
    )
