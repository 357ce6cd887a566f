"""The benchmark's routing baseline: OR-Tools on the product's RoutingProblem.

OR-Tools' routing library (parallel cheapest insertion, then guided local
search) solves the same :class:`~planner.outreach.routing.RoutingProblem` as the
product's PyVRP solver, and its stop orders are scheduled and checked by the
same code (:func:`~planner.outreach.routing.result_from_orders`), so
``bench/routing.py`` (Solomon instances) and ``bench/outreach_month.py`` (the
demo month) compare like with like. The product never imports this module.

:func:`solve_routes` takes ``solver="pyvrp"`` (the product's) or
``solver="ortools"`` (this baseline).
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Literal

import numpy as np

from planner.errors import RoutingError
from planner.outreach.routing import (
    RoutingProblem,
    RoutingResult,
    check_time_limit,
    result_from_orders,
    servable_stops,
)
from planner.outreach.routing import solve_routes as solve_pyvrp

__all__ = ["SOLVERS", "Solver", "solve_ortools", "solve_routes"]

Solver = Literal["pyvrp", "ortools"]
SOLVERS: tuple[Solver, ...] = ("pyvrp", "ortools")


def solve_routes(
    problem: RoutingProblem,
    *,
    solver: Solver = "pyvrp",
    seconds: float = 5.0,
    seed: int = 1,
) -> RoutingResult:
    """Solve with the product's solver (``"pyvrp"``) or the baseline (``"ortools"``).

    Parameters
    ----------
    problem
        The problem.
    solver
        ``"pyvrp"`` (:func:`planner.outreach.routing.solve_routes`) or
        ``"ortools"`` (:func:`solve_ortools`).
    seconds
        Wall-clock limit of the search, seconds (building excluded).
    seed
        Random seed (PyVRP only).

    Raises
    ------
    RoutingError
        On an unknown solver or a negative time limit.
    """
    if solver == "ortools":
        return solve_ortools(problem, seconds=seconds)
    if solver not in SOLVERS:
        raise RoutingError(f"未知的求解器 {solver!r}；可选 {', '.join(SOLVERS)}")
    return solve_pyvrp(problem, solver=solver, seconds=seconds, seed=seed)


def solve_ortools(problem: RoutingProblem, *, seconds: float = 5.0) -> RoutingResult:
    """Route the shifts through the stops with OR-Tools, in a child process.

    Parameters
    ----------
    problem
        The problem.
    seconds
        Wall-clock limit of the search, seconds (building excluded).
    """
    check_time_limit(seconds)
    started = time.perf_counter()
    if not servable_stops(problem)[0]:
        orders: list[list[int]] = [[] for _ in problem.shifts]
    else:
        orders = _in_child_process(problem, seconds=seconds)
    return result_from_orders(problem, orders, solver="ortools", started=started)


def _in_child_process(problem: RoutingProblem, *, seconds: float) -> list[list[int]]:
    """OR-Tools in a fresh process: its bundled HiGHS clashes with highspy's
    (``undefined symbol`` on import, either order), and siting loads highspy."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_solve_ortools, (problem,), {"seconds": seconds})


def _solve_ortools(problem: RoutingProblem, *, seconds: float) -> list[list[int]]:
    """Stop orders per shift from OR-Tools (insertion + guided local search).

    Nodes are the servable stops, then one node per start/end location;
    the time dimension carries travel plus the service at the tail node, its
    slack is waiting; skipped optional stops cost their prize (disjunctions).
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    stops, allowed = servable_stops(problem)
    n = len(stops)
    depot_locs = sorted({loc for sh in problem.shifts for loc in (sh.start, sh.end)})
    node_of_depot = {loc: n + k for k, loc in enumerate(depot_locs)}
    locs = [problem.stops[i].location for i in stops] + depot_locs
    travel = problem.duration[np.ix_(locs, locs)]
    service = np.array([problem.stops[i].service_s for i in stops] + [0] * len(depot_locs))
    n_veh = len(problem.shifts)
    manager = pywrapcp.RoutingIndexManager(
        len(locs),
        n_veh,
        [node_of_depot[sh.start] for sh in problem.shifts],
        [node_of_depot[sh.end] for sh in problem.shifts],
    )
    model = pywrapcp.RoutingModel(manager)
    # Transit matrices are indexed by node; callbacks in C++, not Python.
    cost_cb = model.RegisterTransitMatrix(travel.tolist())
    time_cb = model.RegisterTransitMatrix((travel + service[:, None]).tolist())
    model.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    horizon = max(
        [sh.latest_s for sh in problem.shifts] + [problem.stops[i].latest_s for i in stops]
    )
    horizon += int(service.max(initial=0))
    model.AddDimension(time_cb, horizon, horizon, False, "time")
    clock = model.GetDimensionOrDie("time")
    for j, i in enumerate(stops):
        s = problem.stops[i]
        index = manager.NodeToIndex(j)
        clock.CumulVar(index).SetRange(s.earliest_s, s.latest_s)
        if len(allowed[j]) < n_veh:
            # What SetAllowedVehiclesForIndex does; its binding in OR-Tools 9.15
            # rejects every Python sequence (no absl::Span typemap).
            model.VehicleVar(index).RemoveValues(sorted(set(range(n_veh)) - set(allowed[j])))
        if not s.required:
            model.AddDisjunction([index], s.prize)
    for v, sh in enumerate(problem.shifts):
        clock.CumulVar(model.Start(v)).SetRange(sh.earliest_s, sh.latest_s)
        clock.CumulVar(model.End(v)).SetRange(sh.earliest_s, sh.latest_s)
    if problem.has_demand:
        demand_cb = model.RegisterUnaryTransitVector(
            [problem.stops[i].demand for i in stops] + [0] * len(depot_locs)
        )
        model.AddDimensionWithVehicleCapacity(
            demand_cb, 0, [sh.capacity for sh in problem.shifts], True, "load"
        )

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, round(seconds * 1000)))
    solution = model.SolveWithParameters(params)

    orders: list[list[int]] = [[] for _ in problem.shifts]
    if solution is None:
        return orders
    for v in range(n_veh):
        index = solution.Value(model.NextVar(model.Start(v)))
        while not model.IsEnd(index):
            orders[v].append(stops[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
    return orders
