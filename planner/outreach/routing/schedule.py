"""Schedules and rules of routes, shared by every solver and by the benchmark.

:func:`schedule` recomputes the timed route of a shift from the matrix,
:func:`violations` checks routes against the rules, and
:func:`result_from_orders` turns the stop orders a solver found into a
:class:`~planner.outreach.routing.problem.RoutingResult` whose ``is_feasible``
comes from that check, not from the solver's own flag; :func:`insert_skipped`
puts skipped optional stops into routes that still have room for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from planner.outreach.routing.problem import (
    Route,
    RoutingProblem,
    RoutingResult,
    Shift,
    Visit,
)

__all__ = ["fits", "insert_skipped", "result_from_orders", "schedule", "violations"]


def _forward(
    problem: RoutingProblem, shift: Shift, stops: Sequence[int], depart: int
) -> tuple[list[Visit], int, int]:
    """Visits, arrival at the end and travel seconds when leaving at ``depart``."""
    d = problem.duration
    t, prev, travel = depart, shift.start, 0
    visits = []
    for i in stops:
        stop = problem.stops[i]
        leg = int(d[prev, stop.location])
        arrival = t + leg
        start = max(arrival, stop.earliest_s)
        t = start + stop.service_s
        travel += leg
        prev = stop.location
        visits.append(Visit(stop=i, arrival_s=arrival, start_s=start, departure_s=t))
    leg = int(d[prev, shift.end])
    return visits, t + leg, travel + leg


def schedule(problem: RoutingProblem, shift: int, stops: Sequence[int]) -> Route:
    """The timed route of ``shift`` visiting ``stops`` in this order.

    Arrivals follow the travel-time matrix; a team arriving before a window
    opens waits. The departure is the latest one that still gives the earliest
    possible arrival at the end and breaks no window that leaving at
    ``shift.earliest_s`` keeps (Savelsbergh's forward time slack, capped by the
    total waiting), so the schedule has no needless waiting.

    Parameters
    ----------
    problem
        The problem.
    shift
        Shift index.
    stops
        Stop indices in visiting order (may be empty).

    Returns
    -------
    Route
        Times in seconds; windows are not enforced here (see
        :func:`violations`).
    """
    sh = problem.shifts[shift]
    stops = [int(i) for i in stops]
    if not stops:
        return Route(
            shift=shift,
            visits=(),
            travel_s=0,
            end_s=sh.earliest_s,
            start_s=sh.earliest_s,
            distance_m=None if problem.distance is None else 0,
        )
    visits, end, travel = _forward(problem, sh, stops, sh.earliest_s)
    waited, delay = 0, None
    for v in visits:
        waited += v.waiting_s
        slack = waited + problem.stops[v.stop].latest_s - v.start_s
        delay = slack if delay is None else min(delay, slack)
    delay = max(0, min(waited, delay if delay is not None else 0))
    depart = sh.earliest_s
    if delay:
        depart += delay
        visits, end, travel = _forward(problem, sh, stops, depart)
    distance_m = None
    if problem.distance is not None:
        path = [sh.start, *(problem.stops[i].location for i in stops), sh.end]
        distance_m = int(problem.distance[path[:-1], path[1:]].sum())
    return Route(
        shift=shift,
        visits=tuple(visits),
        travel_s=travel,
        end_s=end,
        start_s=depart,
        distance_m=distance_m,
    )


def violations(problem: RoutingProblem, routes: Sequence[Route]) -> list[str]:
    """The rules a set of routes breaks, in Chinese (empty: feasible).

    Checks windows, the shifts' end times, skills, capacity, stops visited
    twice and required stops not visited. The times themselves are trusted
    (build routes with :func:`schedule`).
    """
    out: list[str] = []
    seen: dict[int, int] = {}
    for route in routes:
        sh = problem.shifts[route.shift]
        name = sh.label or f"班次 {route.shift}"
        load = 0
        for v in route.visits:
            stop = problem.stops[v.stop]
            if v.start_s > stop.latest_s:
                out.append(
                    f"{name}：走访点 {v.stop} 开始于 {v.start_s} 秒，晚于时间窗 {stop.latest_s} 秒"
                )
            if not stop.skills <= sh.skills:
                lack = "、".join(sorted(stop.skills - sh.skills))
                out.append(f"{name}：走访点 {v.stop} 需要技能「{lack}」")
            if v.stop in seen:
                out.append(f"走访点 {v.stop} 被走访了不止一次")
            seen[v.stop] = route.shift
            load += stop.demand
        if route.visits and route.end_s > sh.latest_s:
            out.append(f"{name}：{route.end_s} 秒才到达终点，晚于 {sh.latest_s} 秒")
        if load > sh.capacity:
            out.append(f"{name}：需求 {load} 超过容量 {sh.capacity}")
    for i, stop in enumerate(problem.stops):
        if stop.required and i not in seen:
            out.append(f"必访点 {i} 没有被走访")
    return out


def result_from_orders(
    problem: RoutingProblem,
    orders: Sequence[Sequence[int]],
    *,
    solver: str,
    started: float,
) -> RoutingResult:
    """Schedule the stop orders a solver found (one per shift) and check them.

    Parameters
    ----------
    problem
        The problem solved.
    orders
        Per shift, the stop indices in visiting order.
    solver
        Name of the back end, kept in the result.
    started
        ``time.perf_counter()`` when the solve began (the result's ``seconds``).
    """
    routes = tuple(schedule(problem, k, order) for k, order in enumerate(orders))
    visited = {v.stop for r in routes for v in r.visits}
    unvisited = tuple(i for i in range(len(problem.stops)) if i not in visited)
    travel = sum(r.travel_s for r in routes)
    prizes = sum(problem.stops[i].prize for i in unvisited if not problem.stops[i].required)
    broken = violations(problem, routes)
    distance = None if problem.distance is None else sum(r.distance_m or 0 for r in routes)
    return RoutingResult(
        routes=routes,
        unvisited=unvisited,
        cost=travel + prizes,
        travel_s=travel,
        seconds=time.perf_counter() - started,
        solver=solver,
        is_feasible=not broken,
        violations=tuple(broken),
        distance_m=distance,
    )


def fits(problem: RoutingProblem, route: Route) -> bool:
    """Whether one route keeps its windows, its shift's end time, skills and capacity."""
    sh = problem.shifts[route.shift]
    stops = [problem.stops[v.stop] for v in route.visits]
    visits = zip(route.visits, stops, strict=True)
    return (
        all(v.start_s <= s.latest_s and s.skills <= sh.skills for v, s in visits)
        and (not route.visits or route.end_s <= sh.latest_s)
        and sum(s.demand for s in stops) <= sh.capacity
    )


def _insertions(
    problem: RoutingProblem, k: int, order: list[int], i: int, travel: int
) -> Iterator[tuple[int, int]]:
    """Positions of ``order`` (shift ``k``'s stops, ``travel`` seconds) where stop ``i``
    fits, with the travel seconds it adds.

    When no window can bind (every stop opens by the shift's start and closes no
    earlier than its end), a route leaving at the shift's start ends at start +
    travel + service, so each position is checked in constant time; otherwise
    the route is scheduled (:func:`schedule`) and checked (:func:`fits`).
    """
    sh, stops, d = problem.shifts[k], problem.stops, problem.duration
    new = stops[i]
    if sum(stops[j].demand for j in order) + new.demand > sh.capacity:
        return
    plain = all(
        stops[j].earliest_s <= sh.earliest_s and stops[j].latest_s >= sh.latest_s
        for j in [*order, i]
    )
    if not plain:
        for pos in range(len(order) + 1):
            route = schedule(problem, k, [*order[:pos], i, *order[pos:]])
            if fits(problem, route):
                yield pos, route.travel_s - travel
        return
    # an unused shift travels nothing; with its first stop it goes start → stop → end
    base = travel if order else int(d[sh.start, sh.end])
    busy = sh.earliest_s + base + sum(stops[j].service_s for j in order) + new.service_s
    path = [sh.start, *(stops[j].location for j in order), sh.end]
    here = new.location
    for pos in range(len(order) + 1):
        a, b = path[pos], path[pos + 1]
        added = int(d[a, here]) + int(d[here, b]) - int(d[a, b])
        if busy + added <= sh.latest_s:
            yield pos, added + base - travel


def insert_skipped(problem: RoutingProblem, result: RoutingResult) -> RoutingResult:
    """``result`` with the skipped optional stops that still fit put into routes.

    Highest prize first (then stop index), each stop goes where it adds the
    least travel among every position of every shift having its skills that
    keeps the route within the rules (:func:`fits`); passes repeat until no
    skipped stop fits anywhere. So a stop the returned result leaves out fits
    into no route: no shift able to serve it had the time (or capacity) left.
    An infeasible ``result`` is returned unchanged.

    Parameters
    ----------
    problem
        The problem solved.
    result
        A solver's result for it.
    """
    if not result.is_feasible:
        return result
    started = time.perf_counter() - result.seconds
    orders = [list(r.stops) for r in result.routes]
    travel = [r.travel_s for r in result.routes]
    skipped = sorted(
        (i for i in result.unvisited if not problem.stops[i].required),
        key=lambda i: (-problem.stops[i].prize, i),
    )
    inserted, changed = False, True
    while changed:
        changed = False
        for i in list(skipped):
            best: tuple[int, int, int] | None = None
            for k in problem.eligible_shifts(i):
                for pos, added in _insertions(problem, k, orders[k], i, travel[k]):
                    if best is None or added < best[0]:
                        best = (added, k, pos)
            if best is not None:
                _, k, pos = best
                orders[k].insert(pos, i)
                travel[k] = schedule(problem, k, orders[k]).travel_s
                skipped.remove(i)
                changed = inserted = True
    if not inserted:
        return result
    return result_from_orders(problem, orders, solver=result.solver, started=started)
