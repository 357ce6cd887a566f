"""Capacity-aware assignment against brute force on tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planner._errors import InputError
from planner.allocation import assign


def brute_force(demand, capacity, group, facility, minutes, priority):  # type: ignore[no-untyped-def]
    """Lexicographic optimum (served, priority-weighted served, -minutes) by enumeration."""
    bounds = [
        range(min(demand[g], int(min(capacity[f], sum(demand)))) + 1)
        for g, f in zip(group, facility, strict=True)
    ]
    best = None
    for flows in itertools.product(*bounds):
        x = np.array(flows, dtype=int)
        served = np.bincount(group, weights=x, minlength=len(demand))
        load = np.bincount(facility, weights=x, minlength=len(capacity))
        if np.any(served > demand) or np.any(load > capacity):
            continue
        key = (served.sum(), float(np.dot(served, priority)), -float(np.dot(x, minutes)))
        if best is None or key > best:
            best = key
    return best


@pytest.mark.parametrize("seed", range(60))
def test_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_g, n_f = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    demand = rng.integers(0, 4, n_g)
    capacity = rng.integers(0, 5, n_f).astype(float)
    if rng.random() < 0.3:
        capacity[rng.integers(n_f)] = np.inf
    pairs = [(g, f) for g in range(n_g) for f in range(n_f) if rng.random() < 0.7]
    group = np.array([p[0] for p in pairs], dtype=int)
    facility = np.array([p[1] for p in pairs], dtype=int)
    minutes = rng.integers(0, 30, len(pairs)).astype(float)
    priority = rng.integers(1, 3, n_g)
    res = assign(
        demand, capacity, group=group, facility=facility, minutes=minutes, priority=priority
    )
    served, load = res.served, res.load
    # feasibility
    assert np.all(served <= demand) and np.all(load <= capacity)
    assert np.all(res.persons > 0)
    assert {(int(g), int(f)) for g, f in zip(res.group, res.facility, strict=True)} <= set(pairs)
    assert np.array_equal(served + res.unserved, demand)
    # optimality, lexicographic
    best = brute_force(demand, capacity, group, facility, minutes, priority)
    got = (served.sum(), float(np.dot(served, priority)), -res.total_minutes)
    assert got == pytest.approx(best)


def test_known_answers() -> None:
    # two groups of 3 want one facility with 4 places; group 1 has priority
    res = assign([3, 3], [4], group=[0, 1], facility=[0, 0], minutes=[5, 1], priority=[1, 2])
    assert res.served.tolist() == [1, 3] and res.total_served == 4
    # without priority the nearer group (1 minute) is served first
    res = assign([3, 3], [4], group=[0, 1], facility=[0, 0], minutes=[5, 1])
    assert res.served.tolist() == [1, 3]
    assert res.total_minutes == 5 + 3
    # a group with no candidate pair is unserved; unlimited capacity serves everyone nearest
    res = assign([2, 5], [np.inf, np.inf], group=[1, 1], facility=[0, 1], minutes=[9, 3])
    assert res.unserved.tolist() == [2, 0] and res.load.tolist() == [0, 5]


def test_validation() -> None:
    with pytest.raises(InputError, match="长度"):
        assign([1], [1], group=[0, 0], facility=[0], minutes=[1])
    with pytest.raises(InputError, match="不存在的设施"):
        assign([1], [1], group=[0], facility=[3], minutes=[1])
    with pytest.raises(InputError, match="负数"):
        assign([-1], [1], group=[0], facility=[0], minutes=[1])
