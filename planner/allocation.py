"""Capacity-aware assignment of demand to facilities within reach.

Demand comes in groups (eligible residents aggregated by network node), each
with a number of persons; facilities have capacities (persons; ``inf`` =
unlimited); candidate pairs are the (group, facility) pairs within the travel
threshold, with their minutes. The assignment is lexicographically optimal:

1. as many persons served as the capacities allow (a maximum flow),
2. among those, higher-priority groups first,
3. then the least total travel minutes.

Solved exactly as a min-cost maximum flow in integer arithmetic (OR-Tools
``SimpleMinCostFlow.solve_max_flow_with_min_cost``): source → group (demand)
→ facility (pair) → sink (capacity). Costs are centi-minutes, shifted by a
priority term larger than any possible difference in minutes, so priorities
always win over travel time but never over the number served.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner._errors import InputError

COST_SCALE = 100  # integer costs in centi-minutes
SOLVER = "ortools-min-cost-max-flow"


@dataclass(frozen=True)
class Assignment:
    """An integral assignment of persons to facilities.

    Attributes
    ----------
    group, facility, persons
        Pairs carrying a positive flow and its number of persons.
    served, unserved
        Persons per group (``unserved`` includes groups with no candidate pair).
    load
        Persons assigned per facility.
    total_served
        Sum of ``served``.
    total_minutes
        Sum over pairs of persons × minutes.
    """

    group: NDArray[np.int64]
    facility: NDArray[np.int64]
    persons: NDArray[np.int64]
    served: NDArray[np.int64]
    unserved: NDArray[np.int64]
    load: NDArray[np.int64]
    total_served: int
    total_minutes: float
    solver: str
    seconds: float
    optimal: bool


def _validate(
    demand: NDArray[np.int64],
    capacity: NDArray[np.float64],
    group: NDArray[np.int64],
    facility: NDArray[np.int64],
    minutes: NDArray[np.float64],
    priority: NDArray[np.int64],
) -> None:
    if not (group.shape == facility.shape == minutes.shape):
        raise InputError("候选配对的 group、facility、minutes 长度必须一致")
    if np.any(demand < 0) or np.any(np.isnan(capacity)) or np.any(capacity < 0):
        raise InputError("需求人数和设施容量不能为负数")
    if group.size and (group.min() < 0 or group.max() >= demand.size):
        raise InputError("候选配对引用了不存在的需求组")
    if facility.size and (facility.min() < 0 or facility.max() >= capacity.size):
        raise InputError("候选配对引用了不存在的设施")
    if np.any(~np.isfinite(minutes)) or np.any(minutes < 0):
        raise InputError("通行时间必须是非负有限数（分钟）")
    if priority.shape != demand.shape or np.any(priority < 1):
        raise InputError("优先级必须是与需求组一一对应的正整数")


def assign(
    demand: ArrayLike,
    capacity: ArrayLike,
    *,
    group: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    priority: ArrayLike | None = None,
) -> Assignment:
    """Assign demand to facilities within capacity (see the module docstring).

    Parameters
    ----------
    demand
        Persons per group, shape ``(G,)``, non-negative integers.
    capacity
        Places per facility, shape ``(F,)``; ``inf`` for unlimited.
    group, facility, minutes
        Candidate pairs (within the threshold) and their travel minutes.
    priority
        Positive integer weight per group (default 1): when capacity is short,
        groups with a higher priority are served first.

    Raises
    ------
    InputError
        On inconsistent shapes, negative values or indices out of range.
    """
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    dem = np.asarray(demand, dtype=np.int64)
    cap = np.asarray(capacity, dtype=np.float64)
    g = np.asarray(group, dtype=np.int64)
    f = np.asarray(facility, dtype=np.int64)
    mins = np.asarray(minutes, dtype=np.float64)
    prio = np.ones_like(dem) if priority is None else np.asarray(priority, dtype=np.int64)
    _validate(dem, cap, g, f, mins, prio)
    n_g, n_f = dem.size, cap.size
    total = int(dem.sum())
    cap_int = np.where(np.isfinite(cap), np.minimum(np.floor(cap), total), total).astype(np.int64)
    cost = np.rint(mins * COST_SCALE).astype(np.int64)
    # a priority step must outweigh any achievable saving in minutes
    step = int(cost.max(initial=0)) * max(total, 1) + 1
    group_cost = (int(prio.max(initial=1)) - prio) * step

    source, sink = n_g + n_f, n_g + n_f + 1
    tails = np.concatenate([np.full(n_g, source), g, n_g + np.arange(n_f)])
    heads = np.concatenate([np.arange(n_g), n_g + f, np.full(n_f, sink)])
    caps = np.concatenate([dem, np.minimum(dem[g], cap_int[f]), cap_int])
    costs = np.concatenate([group_cost, cost, np.zeros(n_f, dtype=np.int64)])
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    solver.set_node_supply(source, total)
    solver.set_node_supply(sink, -total)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise InputError(f"容量分配求解失败（状态 {status}）；请检查容量和需求数据")
    flows = np.asarray(solver.flows(np.arange(tails.size)), dtype=np.int64)
    pair_flow = flows[n_g : n_g + g.size]
    served = flows[:n_g]
    load = np.bincount(f, weights=pair_flow, minlength=n_f).astype(np.int64)
    used = pair_flow > 0
    return Assignment(
        group=g[used],
        facility=f[used],
        persons=pair_flow[used],
        served=served,
        unserved=dem - served,
        load=load,
        total_served=int(served.sum()),
        total_minutes=float(np.sum(pair_flow * mins)),
        solver=SOLVER,
        seconds=time.perf_counter() - started,
        optimal=True,
    )
