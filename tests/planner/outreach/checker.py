"""An independent feasibility checker for routing results.

Written from the rules, not from :mod:`planner.outreach.routing`: it reads only
the fields of the problem and result dataclasses and recomputes every time,
load and cost itself, so a bug in the planner's own schedule cannot hide here.
"""

from __future__ import annotations

from typing import Any


def check(problem: Any, result: Any) -> list[str]:
    """Every rule ``result`` breaks for ``problem`` (empty list: all good).

    Rules: one route per shift in shift order; each visit's arrival is the
    previous departure (the route's departure from the shift start for the
    first) plus the travel time; departure from the start not before the
    shift's earliest time; start of service = max(arrival, window opens);
    start ≤ window closes; departure = start + service; arrival at the end =
    last departure + travel, not after the shift's latest time; stop skills ⊆
    shift skills; load ≤ capacity; each stop at most once; every required stop
    visited; ``unvisited`` exactly the stops on no route; travel and cost
    (travel + prizes of skipped optional stops) recomputed.
    """
    out: list[str] = []
    d = problem.duration
    n_stops = len(problem.stops)
    if len(result.routes) != len(problem.shifts):
        out.append(f"{len(result.routes)} routes for {len(problem.shifts)} shifts")
    seen: set[int] = set()
    total_travel = 0
    for k, route in enumerate(result.routes):
        if route.shift != k:
            out.append(f"route {k} is labelled shift {route.shift}")
            continue
        shift = problem.shifts[k]
        travel = 0
        load = 0
        if route.visits:
            if route.start_s < shift.earliest_s:
                out.append(f"shift {k} leaves at {route.start_s} < earliest {shift.earliest_s}")
            t, here = route.start_s, shift.start
            for v in route.visits:
                if not 0 <= v.stop < n_stops:
                    out.append(f"shift {k} visits unknown stop {v.stop}")
                    continue
                stop = problem.stops[v.stop]
                leg = int(d[here][stop.location])
                travel += leg
                if v.arrival_s != t + leg:
                    out.append(f"stop {v.stop}: arrival {v.arrival_s} != {t} + {leg}")
                if v.start_s != max(v.arrival_s, stop.earliest_s):
                    out.append(f"stop {v.stop}: start {v.start_s} != max(arrival, earliest)")
                if v.start_s > stop.latest_s:
                    out.append(f"stop {v.stop}: start {v.start_s} > latest {stop.latest_s}")
                if v.departure_s != v.start_s + stop.service_s:
                    out.append(f"stop {v.stop}: departure {v.departure_s} != start + service")
                if not set(stop.skills) <= set(shift.skills):
                    out.append(f"stop {v.stop} needs {sorted(stop.skills)}, shift {k} lacks them")
                if v.stop in seen:
                    out.append(f"stop {v.stop} visited more than once")
                seen.add(v.stop)
                load += stop.demand
                t, here = v.departure_s, stop.location
            leg = int(d[here][shift.end])
            travel += leg
            if route.end_s != t + leg:
                out.append(f"shift {k}: end {route.end_s} != {t} + {leg}")
            if route.end_s > shift.latest_s:
                out.append(f"shift {k}: ends {route.end_s} > latest {shift.latest_s}")
        if route.travel_s != travel:
            out.append(f"shift {k}: travel {route.travel_s} != recomputed {travel}")
        if load > shift.capacity:
            out.append(f"shift {k}: load {load} > capacity {shift.capacity}")
        total_travel += travel
    for i, stop in enumerate(problem.stops):
        if stop.required and i not in seen:
            out.append(f"required stop {i} not visited")
    not_visited = sorted(set(range(n_stops)) - seen)
    if sorted(result.unvisited) != not_visited:
        out.append(f"unvisited {sorted(result.unvisited)} != {not_visited}")
    if result.travel_s != total_travel:
        out.append(f"travel {result.travel_s} != recomputed {total_travel}")
    prizes = sum(problem.stops[i].prize for i in not_visited if not problem.stops[i].required)
    if result.cost != total_travel + prizes:
        out.append(f"cost {result.cost} != travel {total_travel} + prizes {prizes}")
    if not out and not result.is_feasible:
        out.append("result says infeasible but breaks no rule")
    return out
