"""Siting: where new facilities go and which existing ones to upgrade.

Array core: build a :class:`SitingProblem`, :func:`solve` it, read the frozen
:class:`SitingResult` (:mod:`~planner.siting.problem`, :mod:`~planner.siting.milp`
models, :mod:`~planner.siting.backends` HiGHS/CBC, :mod:`~planner.siting.heuristics`
warm starts, :mod:`~planner.siting.ranking` plan values and site order).
Ties on the objective are broken by :mod:`~planner.siting.lexicographic` (exact
MILP stages) and :mod:`~planner.siting.explain` (swaps, and why each site:
what it adds, the best and tied alternatives), plans scored by
:mod:`~planner.siting.figures`.
Frame adapter: :mod:`~planner.siting.from_frames` builds the problem from the
store's frames and :mod:`~planner.siting.options`; :mod:`~planner.siting.changes`
closes and relocates facilities; :mod:`~planner.siting.proposal` solves it and
reports the coverage before and after as a typed :class:`Proposal`
(:mod:`~planner.siting.after` applies it, :mod:`~planner.siting.reasons` words it).
"""

from planner.siting.options import SitingOptions, SolverParams
from planner.siting.problem import (
    OBJECTIVES,
    SiteGroup,
    SitingError,
    SitingProblem,
    SitingResult,
)
from planner.siting.proposal import IndicatorChange, Proposal, Totals, propose
from planner.siting.ranking import evaluate
from planner.siting.solve import solve

__all__ = [
    "OBJECTIVES",
    "IndicatorChange",
    "Proposal",
    "SiteGroup",
    "SitingError",
    "SitingOptions",
    "SitingProblem",
    "SitingResult",
    "SolverParams",
    "Totals",
    "evaluate",
    "propose",
    "solve",
]
