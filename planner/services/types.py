"""Result types and constants of the application layer that clients name.

The HTTP API (``api.http``) uses ``planner`` only through the application layer
(:mod:`planner.services`) and the rules (:mod:`planner.domain`); the result
types its routes annotate and the constants they show are re-exported here so
that the clients never reach into the engine's modules.
"""

from __future__ import annotations

from planner.coverage.gaps import GAP_COUNTS, POLICY_PARTS, Gaps
from planner.coverage.result import COUNTED, CoverageResult
from planner.outreach.plan import MonthPlan
from planner.retrofit import RetrofitPlan
from planner.scenarios import NAME_MAX_CHARS, check_scenario_name
from planner.siting.options import SitingOptions

__all__ = [
    "COUNTED",
    "GAP_COUNTS",
    "NAME_MAX_CHARS",
    "POLICY_PARTS",
    "CoverageResult",
    "Gaps",
    "MonthPlan",
    "RetrofitPlan",
    "SitingOptions",
    "check_scenario_name",
]
