"""The product's routing solver: PyVRP's iterated local search on a RoutingProblem.

:func:`solve_routes` builds PyVRP's data straight from the problem's matrices
(:func:`pyvrp_data`), solves it on one thread within a time limit and returns a
:class:`~planner.outreach.routing.problem.RoutingResult` scheduled and checked by
:mod:`planner.outreach.routing.schedule`. (The OR-Tools baseline the benchmark
compares it with lives in ``bench/routing_ortools.py``.)
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from typing import Any, Literal

import numpy as np

from planner.errors import RoutingError
from planner.outreach.routing.problem import RoutingProblem, RoutingResult, servable_stops
from planner.outreach.routing.schedule import result_from_orders

__all__ = ["SOLVERS", "Solver", "check_time_limit", "pyvrp_data", "solve_routes"]

Solver = Literal["pyvrp"]
SOLVERS: tuple[Solver, ...] = ("pyvrp",)


def check_time_limit(seconds: float) -> None:
    """Refuse a negative (or NaN) time limit, in Chinese (:class:`RoutingError`)."""
    if not seconds >= 0:
        raise RoutingError(f"求解时间 seconds 必须是非负数，实际为 {seconds!r}")


def solve_routes(
    problem: RoutingProblem,
    *,
    solver: Solver = "pyvrp",
    seconds: float = 5.0,
    seed: int = 1,
) -> RoutingResult:
    """Route the shifts through the stops at least travel time.

    Parameters
    ----------
    problem
        The problem.
    solver
        ``"pyvrp"``, the only solver of the product (iterated local search,
        one thread).
    seconds
        Wall-clock limit of the search, seconds (building excluded).
    seed
        Random seed. The same problem and seed give the same result whenever
        the best solution is found before the time limit in both runs; a run
        cut short by a busy machine can differ.

    Returns
    -------
    RoutingResult
        One route per shift. ``is_feasible`` is ``False`` (with the reasons in
        ``violations``) when the solver found no solution meeting every rule.

    Raises
    ------
    RoutingError
        On an unknown solver or a negative time limit.
    """
    if solver not in SOLVERS:
        raise RoutingError(f"未知的求解器 {solver!r}；可选 {', '.join(SOLVERS)}")
    check_time_limit(seconds)
    started = time.perf_counter()
    if not servable_stops(problem)[0]:
        orders: list[list[int]] = [[] for _ in problem.shifts]
    else:
        orders = _solve_pyvrp(problem, seconds=seconds, seed=seed)
    return result_from_orders(problem, orders, solver=solver, started=started)


def _solve_pyvrp(problem: RoutingProblem, *, seconds: float, seed: int) -> list[list[int]]:
    """Stop orders per shift from PyVRP's iterated local search."""
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxRuntime

    data, stops, type_shifts = pyvrp_data(problem)
    with warnings.catch_warnings():
        # Raised when no feasible solution turns up; the result says so itself.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, MaxRuntime(seconds), seed=seed, collect_stats=False)

    orders: list[list[int]] = [[] for _ in problem.shifts]
    used = [0] * len(type_shifts)
    for route in result.best.routes():
        t = route.vehicle_type()
        shift = type_shifts[t][used[t]]
        used[t] += 1
        orders[shift] = [stops[a.idx] for a in route if a.is_client()]
    return orders


def pyvrp_data(problem: RoutingProblem) -> tuple[Any, list[int], list[list[int]]]:
    """PyVRP's data for ``problem``, the stop of each client, the shifts of each vehicle type.

    The model is built as :class:`pyvrp.ProblemData` directly (what
    ``pyvrp.Model.data()`` produces) to pass whole matrices without one Python
    object per edge. Every stop gets its own PyVRP location, so two stops at
    one matrix location may need different skills. Identical shifts become one
    vehicle type. Skills are routing profiles: profile 0 is the plain matrix;
    a profile for shifts lacking some skills makes every edge into and out of
    the stops they cannot serve longer than any shift, so a route using one
    breaks its time window (as ``pyvrp.read`` does for VRPLIB's allowed
    clients, though with a smaller value than its ``MAX_VALUE``, see below).
    """
    import pyvrp

    stops, allowed = servable_stops(problem)
    depot_locs = sorted({loc for sh in problem.shifts for loc in (sh.start, sh.end)})
    depot_of = {loc: k for k, loc in enumerate(depot_locs)}
    n_dep = len(depot_locs)
    locs = depot_locs + [problem.stops[i].location for i in stops]
    base = problem.duration[np.ix_(locs, locs)].copy()
    np.fill_diagonal(base, 0)
    # Longer than any shift, yet far from PyVRP's MAX_VALUE (2**44): the time
    # warp of a route through several MAX_VALUE edges times the time-warp
    # penalty overflows int64, and PyVRP's search hung on an outreach day.
    forbid = 2 * max(sh.latest_s for sh in problem.shifts) + int(base.max()) + 1

    # Profiles: one per distinct set of stops a shift cannot serve.
    forbidden: list[frozenset[int]] = []  # per shift: model client indices
    for k in range(len(problem.shifts)):
        forbidden.append(frozenset(j for j, ok in enumerate(allowed) if k not in ok))
    profile_of: dict[frozenset[int], int] = {frozenset(): 0}
    matrices: list[Any] = [base]  # pyvrp's stubs spell the type np.ndarray[int]
    for bad in forbidden:
        if bad in profile_of:
            continue
        mat = base.copy()
        cols = [n_dep + j for j in sorted(bad)]
        mat[:, cols] = forbid
        mat[cols, :] = forbid
        np.fill_diagonal(mat, 0)
        profile_of[bad] = len(matrices)
        matrices.append(mat)

    loads = problem.has_demand
    clients = []
    for j, i in enumerate(stops):
        s = problem.stops[i]
        clients.append(
            pyvrp.Client(
                location=n_dep + j,
                delivery=[s.demand] if loads else [],
                service_duration=s.service_s,
                tw_early=s.earliest_s,
                tw_late=s.latest_s,
                prize=0 if s.required else s.prize,
                required=s.required,
            )
        )

    # Identical shifts (labels aside) are one vehicle type with several vehicles.
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for k, sh in enumerate(problem.shifts):
        key = (sh.start, sh.end, sh.earliest_s, sh.latest_s, sh.capacity, profile_of[forbidden[k]])
        groups[key].append(k)
    vehicle_types = []
    type_shifts = []
    for (start, end, early, late, capacity, profile), shifts in groups.items():
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(shifts),
                capacity=[capacity] if loads else [],
                start_depot=depot_of[start],
                end_depot=depot_of[end],
                tw_early=early,
                tw_late=late,
                profile=profile,
            )
        )
        type_shifts.append(shifts)

    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(x=0, y=0) for _ in locs],
        clients=clients,
        depots=[pyvrp.Depot(location=k) for k in range(n_dep)],
        vehicle_types=vehicle_types,
        distance_matrices=matrices,
        duration_matrices=matrices,
    )
    return data, stops, type_shifts
