"""Routing core of the village outreach: shifts visit stops (build → solve → result).

- :mod:`~planner.outreach.routing.problem`: :class:`Stop`, :class:`Shift`,
  :class:`RoutingProblem` and the solved :class:`RoutingResult` (:class:`Route`,
  :class:`Visit`);
- :mod:`~planner.outreach.routing.schedule`: :func:`schedule` of a route from the
  matrix, :func:`violations` of the rules, :func:`result_from_orders`,
  :func:`insert_skipped` (skipped stops into routes with room left);
- :mod:`~planner.outreach.routing.solver`: :func:`solve_routes` with PyVRP, the
  product's solver (the OR-Tools baseline is ``bench/routing_ortools.py``).
"""

from planner.outreach.routing.problem import (
    MAX_TIME,
    NO_LATEST,
    Route,
    RoutingError,
    RoutingProblem,
    RoutingResult,
    Shift,
    Stop,
    Visit,
    servable_stops,
)
from planner.outreach.routing.schedule import (
    fits,
    insert_skipped,
    result_from_orders,
    schedule,
    violations,
)
from planner.outreach.routing.solver import SOLVERS, Solver, check_time_limit, solve_routes

__all__ = [
    "MAX_TIME",
    "NO_LATEST",
    "SOLVERS",
    "Route",
    "RoutingError",
    "RoutingProblem",
    "RoutingResult",
    "Shift",
    "Solver",
    "Stop",
    "Visit",
    "check_time_limit",
    "fits",
    "insert_skipped",
    "result_from_orders",
    "schedule",
    "servable_stops",
    "solve_routes",
    "violations",
]
