"""Capacity-aware assignment: brute force on tiny instances, known answers, validation."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from planner.coverage.allocation import SOLVER, Assignment, assign
from planner.errors import InputError

Instance = tuple[
    NDArray[np.int64],  # demand
    NDArray[np.float64],  # capacity
    NDArray[np.int64],  # group
    NDArray[np.int64],  # facility
    NDArray[np.float64],  # minutes
    NDArray[np.float64] | None,  # priority
]


def tiny_instance(seed: int) -> Instance:
    """≤ 4 groups with demand ≤ 3, ≤ 3 facilities with capacity 0–4 or inf."""
    rng = np.random.default_rng(seed)
    n_g, n_f = int(rng.integers(1, 5)), int(rng.integers(1, 4))
    demand = rng.integers(0, 4, n_g)
    capacity = rng.integers(0, 5, n_f).astype(float)
    capacity[rng.random(n_f) < 0.25] = np.inf
    pairs = [(g, f) for g in range(n_g) for f in range(n_f) if rng.random() < 0.6]
    group = np.array([p[0] for p in pairs], dtype=np.int64)
    facility = np.array([p[1] for p in pairs], dtype=np.int64)
    if rng.random() < 0.5:  # whole minutes: many ties
        minutes = rng.integers(0, 31, len(pairs)).astype(float)
    else:
        minutes = np.round(rng.uniform(0, 30, len(pairs)), 2)
    kind = seed % 3
    priority = (
        None
        if kind == 0
        else rng.integers(1, 4, n_g).astype(float)
        if kind == 1
        else np.round(rng.uniform(1, 5, n_g), 1)
    )
    return demand, capacity, group, facility, minutes, priority


def brute_force(inst: Instance) -> tuple[float, float]:
    """Lexicographic optimum (max priority-weighted served, min minutes) by enumeration."""
    demand, capacity, group, facility, minutes, priority = inst
    w = np.ones(demand.size) if priority is None else priority
    n_p = group.size
    flows = np.zeros((1, n_p), dtype=np.int64)
    for g in range(demand.size):
        mine = np.nonzero(group == g)[0]
        opts = [np.zeros(n_p, dtype=np.int64)]
        for q in mine:  # every split of the group's demand over its pairs
            opts = [o + k * np.eye(n_p, dtype=np.int64)[q] for o in opts for k in range(4)]
        options = np.array([o for o in opts if o.sum() <= demand[g]])
        flows = (flows[:, None, :] + options[None, :, :]).reshape(
            flows.shape[0] * len(options), n_p
        )
        load = np.zeros((flows.shape[0], capacity.size))
        for p in range(n_p):
            load[:, facility[p]] += flows[:, p]
        flows = flows[(load <= capacity).all(axis=1)]  # prune: loads only grow
    served = np.zeros((flows.shape[0], demand.size))
    for p in range(n_p):
        served[:, group[p]] += flows[:, p]
    weighted = served @ w
    time = flows @ minutes
    best = weighted.max()
    return float(best), float(time[weighted >= best - 1e-9].min())


def check_feasible(res: Assignment, inst: Instance) -> None:
    demand, capacity, group, facility, minutes, _ = inst
    assert np.all(res.persons > 0)
    candidates = {
        (int(g), int(f)): float(m) for g, f, m in zip(group, facility, minutes, strict=True)
    }
    assert all((int(g), int(f)) in candidates for g, f in zip(res.group, res.facility, strict=True))
    assert np.array_equal(res.served, np.bincount(res.group, res.persons, demand.size))
    assert np.array_equal(res.load, np.bincount(res.facility, res.persons, capacity.size))
    assert np.all(res.served <= demand) and np.all(res.load <= capacity)
    assert np.array_equal(res.served + res.unserved, demand)
    assert res.total_served == res.served.sum()
    t = sum(
        p * candidates[(int(g), int(f))]
        for g, f, p in zip(res.group, res.facility, res.persons, strict=True)
    )
    assert res.total_minutes == pytest.approx(t)
    key = res.group * max(capacity.size, 1) + res.facility
    assert np.all(np.diff(key) > 0)  # sorted by group, then facility


@pytest.mark.parametrize("seed", range(300))
def test_matches_brute_force(seed: int) -> None:
    inst = tiny_instance(seed)
    demand, capacity, group, facility, minutes, priority = inst
    res = assign(
        demand, capacity, group=group, facility=facility, minutes=minutes, priority=priority
    )
    check_feasible(res, inst)
    assert res.optimal and res.solver == SOLVER
    w = np.ones(demand.size) if priority is None else priority
    best_weighted, best_minutes = brute_force(inst)
    assert float(res.served @ w) == pytest.approx(best_weighted, abs=1e-9)
    assert res.total_minutes == pytest.approx(best_minutes, abs=1e-9)


def reference_lp(inst: Instance) -> tuple[float, float]:
    """Plain two-phase LP over all pairs, no reductions (independent of the module)."""
    demand, capacity, group, facility, minutes, priority = inst
    w = np.ones(demand.size) if priority is None else priority
    n = group.size
    cols = np.arange(n)
    rows_g = sparse.csr_array((np.ones(n), (group, cols)), shape=(demand.size, n))
    rows_f = sparse.csr_array((np.ones(n), (facility, cols)), shape=(capacity.size, n))
    fin = np.isfinite(capacity)
    a = sparse.vstack([rows_g, rows_f[fin]]).tocsr()
    b = np.concatenate([demand, capacity[fin]])
    one = linprog(-w[group], A_ub=a, b_ub=b, bounds=(0, None), method="highs-ds")
    best = -one.fun
    two = linprog(
        minutes,
        A_ub=sparse.vstack([a, -w[group][None, :]]).tocsr(),
        b_ub=np.append(b, -best + 1e-7),
        bounds=(0, None),
        method="highs-ds",
    )
    return best, two.fun


@pytest.mark.parametrize("seed", range(8))
def test_matches_plain_lp_on_medium_instances(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    n_g, n_f, k = 400, 25, 3
    gx, fx = rng.random((n_g, 2)), rng.random((n_f, 2))
    dist = np.linalg.norm(gx[:, None, :] - fx[None, :, :], axis=2)
    near = np.argsort(dist, axis=1)[:, :k]
    group = np.repeat(np.arange(n_g), k)
    facility = near.ravel()
    minutes = np.round(dist[group, facility] * 60 + rng.uniform(0, 2, group.size), 1)
    demand = rng.integers(0, 6, n_g)
    capacity = np.floor(rng.uniform(0.2, 1.4, n_f) * demand.sum() / n_f)
    capacity[rng.random(n_f) < 0.1] = np.inf
    priority = rng.integers(1, 4, n_g).astype(float) if seed % 2 else None
    inst = (demand, capacity, group, facility, minutes, priority)
    res = assign(
        demand, capacity, group=group, facility=facility, minutes=minutes, priority=priority
    )
    check_feasible(res, inst)
    w = np.ones(n_g) if priority is None else priority
    best_weighted, best_minutes = reference_lp(inst)
    assert float(res.served @ w) == pytest.approx(best_weighted, abs=1e-6)
    assert res.total_minutes == pytest.approx(best_minutes, abs=1e-3)


def test_shortage_leaves_out_the_lower_priority_group() -> None:
    # two groups of 3 want one facility with 4 places; the farther group 1 has priority
    res = assign([3, 3], [4], group=[0, 1], facility=[0, 0], minutes=[1, 5], priority=[1, 2])
    assert res.served.tolist() == [1, 3] and res.unserved.tolist() == [2, 0]
    assert res.total_minutes == 1 * 1 + 3 * 5
    # only the order of priorities matters
    again = assign([3, 3], [4], group=[0, 1], facility=[0, 0], minutes=[1, 5], priority=[1, 99])
    assert again.served.tolist() == [1, 3]
    # equal priority: the nearer group is served first
    res = assign([3, 3], [4], group=[0, 1], facility=[0, 0], minutes=[1, 5])
    assert res.served.tolist() == [3, 1] and res.total_minutes == 3 * 1 + 1 * 5


def test_coverage_beats_minutes() -> None:
    # group 0 reaches both facilities (f0 nearer), group 1 only f0; one place each
    res = assign([1, 1], [1, 1], group=[0, 0, 1], facility=[0, 1, 0], minutes=[1, 20, 9])
    assert res.total_served == 2 and res.load.tolist() == [1, 1]
    assert list(zip(res.group.tolist(), res.facility.tolist(), strict=True)) == [(0, 1), (1, 0)]
    assert res.total_minutes == 29


def test_group_without_candidate_pair_is_unserved() -> None:
    res = assign([2, 5, 4], [10], group=[1, 2], facility=[0, 0], minutes=[3, 4])
    assert res.served.tolist() == [0, 5, 4] and res.unserved.tolist() == [2, 0, 0]


def test_unlimited_capacity_serves_everyone_at_the_nearest() -> None:
    res = assign(
        [2, 5, 1],
        [np.inf, np.inf, 3],
        group=[0, 0, 1, 1, 2, 2],
        facility=[0, 1, 0, 1, 1, 2],
        minutes=[9, 3, 2, 8, 5, 5],
    )
    assert res.unserved.tolist() == [0, 0, 0]
    assert list(zip(res.group.tolist(), res.facility.tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
        (2, 1),
    ]
    assert res.total_minutes == 2 * 3 + 5 * 2 + 1 * 5
    assert res.load.tolist() == [5, 3, 0]


def test_empty_and_zero_cases() -> None:
    res = assign([3, 0], [2], group=[], facility=[], minutes=[])
    assert res.served.tolist() == [0, 0] and res.unserved.tolist() == [3, 0]
    assert res.group.size == 0 and res.total_minutes == 0.0 and res.optimal
    res = assign([0, 4], [0, 3], group=[0, 1, 1], facility=[1, 0, 1], minutes=[1, 1, 2])
    assert res.served.tolist() == [0, 3] and res.load.tolist() == [0, 3]
    res = assign([], [], group=[], facility=[], minutes=[])
    assert res.total_served == 0 and res.served.shape == (0,)


def test_time_limit_keeps_maximal_coverage() -> None:
    rng = np.random.default_rng(5)
    group = np.repeat(np.arange(50), 2)
    facility = rng.integers(0, 5, 100)
    facility[1::2] = (facility[::2] + 1) % 5
    demand = rng.integers(1, 4, 50)
    full = assign(demand, [10] * 5, group=group, facility=facility, minutes=rng.uniform(0, 30, 100))
    res = assign(
        demand,
        [10] * 5,
        group=group,
        facility=facility,
        minutes=rng.uniform(0, 30, 100),
        time_limit_s=1e-12,
    )
    assert not res.optimal and res.solver == "maximum_flow"
    assert res.total_served == full.total_served
    assert np.all(res.load <= 10)


def test_accepts_whole_floats_and_lists() -> None:
    res = assign(np.array([2.0]), np.array([5.0]), group=[0.0], facility=[0], minutes=[1])
    assert res.served.dtype == np.int64 and res.served.tolist() == [2]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"group": [0, 0], "facility": [0], "minutes": [1]}, "长度必须一致"),
        ({"group": [0], "facility": [3], "minutes": [1]}, "不存在的设施"),
        ({"group": [2], "facility": [0], "minutes": [1]}, "不存在的需求组"),
        ({"group": [-1], "facility": [0], "minutes": [1]}, "不存在的需求组"),
        ({"group": [0.5], "facility": [0], "minutes": [1]}, "group 必须是整数下标"),
        ({"group": [0], "facility": [0], "minutes": [-1]}, "minutes"),
        ({"group": [0], "facility": [0], "minutes": [np.nan]}, "minutes"),
        ({"group": [0, 0], "facility": [0, 0], "minutes": [1, 2]}, "出现了多次"),
        ({"group": [0], "facility": [0], "minutes": [1], "priority": [0.5, 1]}, "priority"),
        ({"group": [0], "facility": [0], "minutes": [1], "priority": [1]}, "priority 长度"),
        ({"group": [0], "facility": [0], "minutes": [1], "time_limit_s": 0}, "time_limit_s"),
    ],
)
def test_invalid_pairs_and_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        assign([1, 1], [1], **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("demand", "capacity", "match"),
    [
        ([-1], [1], "demand（人数）不能为负数"),
        ([1.5], [1], "demand 必须是整数"),
        ([np.inf], [1], "demand 必须是有限数"),
        ([[1]], [1], "demand 必须是一维数组"),
        ([1], [-2], "capacity（容量）不能为负数"),
        ([1], [np.nan], "capacity 不能有缺失值"),
        ([1], [2.5], "capacity 必须是整数"),
        (["x"], [1], "demand 必须是数值数组"),
    ],
)
def test_invalid_demand_and_capacity(demand: object, capacity: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        assign(demand, capacity, group=[], facility=[], minutes=[])  # type: ignore[arg-type]
