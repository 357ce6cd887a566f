"""Siting: where new facilities go and which existing ones to upgrade.

Build a :class:`SitingProblem` (arrays), :func:`solve` it, read the frozen
:class:`SitingResult`. :mod:`planner.siting.proposal` builds problems from the
store and reports before/after coverage.
"""

from planner.siting.problem import (
    OBJECTIVES,
    SiteGroup,
    SitingError,
    SitingProblem,
    SitingResult,
)
from planner.siting.solve import evaluate, solve

__all__ = [
    "OBJECTIVES",
    "SiteGroup",
    "SitingError",
    "SitingProblem",
    "SitingResult",
    "evaluate",
    "solve",
]
