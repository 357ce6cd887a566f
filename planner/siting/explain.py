"""Why each site of a plan: what it adds, and the best site that could replace it.

For every decision of a plan (a new site, an upgrade), :func:`explain` gives
what it adds (the plan's figures minus those of the plan without it) and the
alternatives: the plan with that decision swapped for another candidate (or
another upgrade) that keeps the rules (budget, must-have groups; the LSCP's
target). The best alternative is the first swap in the lexicographic order of
:func:`planner.siting.figures.compare`; the tied alternatives are the swaps
equal to the plan on every criterion but the stable key. :func:`polish` makes
swaps while one comes first in that order, so that no reported alternative
beats the plan (a safety net behind the exact stages of
:mod:`planner.siting.lexicographic`, and the improvement of a plan found under
a time limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cmp_to_key, partial
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from planner.siting.figures import PlanFigures, PlanScorer, compare
from planner.siting.milp import coverable_demand
from planner.siting.problem import SitingProblem

__all__ = ["Alternative", "Polished", "Why", "explain", "polish"]

Action = Literal["new", "upgrade"]


@dataclass(frozen=True)
class Alternative:
    """The plan with one decision swapped for ``site``, and its figures."""

    site: int
    figures: PlanFigures


@dataclass(frozen=True)
class Why:
    """Why a decision is in the plan.

    Attributes
    ----------
    site
        The site opened (``action="new"``) or upgraded.
    action
        ``new`` or ``upgrade``.
    plan
        The figures of the whole plan.
    without
        The figures of the plan without this decision.
    best
        The best alternative (``None``: no other site may replace it).
    tied
        Alternatives equal to the plan on every criterion but the stable key,
        in site order.
    """

    site: int
    action: Action
    plan: PlanFigures
    without: PlanFigures
    best: Alternative | None
    tied: tuple[Alternative, ...]

    @property
    def adds_objective(self) -> float:
        """Change of the objective the decision brings (persons; p-median:
        person-minutes, negative = saved; LSCP: 1)."""
        return self.plan.objective - self.without.objective

    @property
    def adds_within_capacity(self) -> float | None:
        """Persons within the places it adds (``None``: uncapacitated)."""
        if self.plan.within_capacity is None or self.without.within_capacity is None:
            return None
        return self.plan.within_capacity - self.without.within_capacity

    @property
    def adds_in_reach(self) -> float:
        """Persons it brings within reach."""
        return self.plan.in_reach - self.without.in_reach

    @property
    def adds_minutes(self) -> float:
        """Change of the total minutes (the newly reached persons' minutes
        count; shorter trips of the others are negative)."""
        return self.plan.minutes - self.without.minutes


def _need(p: SitingProblem) -> float | None:
    return p.target * coverable_demand(p) if p.objective == "lscp" else None


def _why(
    p: SitingProblem,
    scorer: PlanScorer,
    opened: NDArray[np.int64],
    upgraded: NDArray[np.int64],
    *,
    plan: PlanFigures,
    site: int,
    action: Action,
) -> Why:
    if action == "new":
        without = scorer.figures(opened[opened != site], upgraded)
        pool = np.setdiff1d(p.candidates, opened)
    else:
        without = scorer.figures(opened, upgraded[upgraded != site])
        pool = np.setdiff1d(p.upgradable, upgraded)
    pool = pool[scorer.swap_ok(opened, upgraded, out=site, pool=pool, kind=action)]
    need = _need(p)
    figures = scorer.swap_figures(opened, upgraded, out=site, pool=pool, kind=action, need=need)
    alternatives = [
        Alternative(int(a), f)
        for a, f in zip(pool, figures, strict=True)
        if f is not None and (need is None or scorer.meets_target(f, need=need))
    ]
    best = min(alternatives, key=cmp_to_key(partial(_cmp_alt, p))) if alternatives else None
    tied = tuple(a for a in alternatives if compare(p, a.figures, plan, key=False) == 0)
    return Why(site=site, action=action, plan=plan, without=without, best=best, tied=tied)


def explain(
    problem: SitingProblem,
    *,
    opened: NDArray[np.int64],
    upgraded: NDArray[np.int64],
    scorer: PlanScorer | None = None,
) -> tuple[PlanFigures, tuple[Why, ...]]:
    """The plan's figures and, per decision (new sites in the order given, then
    upgrades), why it is there.

    Parameters
    ----------
    problem
        The siting problem.
    opened, upgraded
        The plan: candidate sites opened, existing sites upgraded.
    scorer
        A scorer of ``problem`` to reuse (its flow network and LPs).
    """
    scorer = scorer or PlanScorer(problem)
    opened = np.asarray(opened, np.int64)
    upgraded = np.asarray(upgraded, np.int64)
    plan = scorer.figures(opened, upgraded)
    whys = [
        _why(problem, scorer, opened, upgraded, plan=plan, site=int(j), action="new")
        for j in opened
    ] + [
        _why(problem, scorer, opened, upgraded, plan=plan, site=int(j), action="upgrade")
        for j in upgraded
    ]
    return plan, tuple(whys)


@dataclass(frozen=True)
class Polished:
    """A plan after :func:`polish`: decisions, swaps made, figures and reasons."""

    opened: NDArray[np.int64]
    upgraded: NDArray[np.int64]
    swaps: int
    figures: PlanFigures
    why: tuple[Why, ...]

    def reasons(self, opened: NDArray[np.int64]) -> tuple[Why, ...] | None:
        """The reasons in the order of ``opened`` (then upgrades), or ``None``
        when ``opened`` is not the polished plan's set of new sites."""
        if sorted(map(int, opened)) != sorted(map(int, self.opened)):
            return None
        new = {w.site: w for w in self.why if w.action == "new"}
        return tuple(new[int(j)] for j in opened) + tuple(
            w for w in self.why if w.action == "upgrade"
        )


def polish(
    problem: SitingProblem,
    *,
    opened: NDArray[np.int64],
    upgraded: NDArray[np.int64],
    scorer: PlanScorer | None = None,
    max_swaps: int | None = None,
) -> Polished:
    """Swap decisions while a swap comes first in the lexicographic order.

    At most ``max_swaps`` swaps (``None``: the number of sites; each swap
    strictly improves the plan, so the loop ends).
    """
    p = problem
    scorer = scorer or PlanScorer(p)
    opened = np.asarray(opened, np.int64)
    upgraded = np.asarray(upgraded, np.int64)
    limit = p.n_sites if max_swaps is None else max_swaps
    made = 0
    while True:
        plan, whys = explain(p, opened=opened, upgraded=upgraded, scorer=scorer)
        better = [w for w in whys if w.best is not None and compare(p, w.best.figures, plan) < 0]
        if not better or made == limit:
            return Polished(opened, upgraded, made, plan, whys)
        w = min(better, key=cmp_to_key(partial(_cmp_best, p)))
        assert w.best is not None
        if w.action == "new":
            opened = np.where(opened == w.site, w.best.site, opened)
        else:
            upgraded = np.where(upgraded == w.site, w.best.site, upgraded)
        made += 1


def _cmp_best(p: SitingProblem, a: Why, b: Why) -> int:
    assert a.best is not None and b.best is not None
    return compare(p, a.best.figures, b.best.figures)


def _cmp_alt(p: SitingProblem, a: Alternative, b: Alternative) -> int:
    return compare(p, a.figures, b.figures)
