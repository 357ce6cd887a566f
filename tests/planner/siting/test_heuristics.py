"""Greedy, interchange and ranking on coverage matrices (planner/siting/heuristics.py).

Coverage is scored here with dense set logic, and optima come from
enumerating every selection.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.siting.heuristics import (
    CoverInstance,
    covered_weight,
    greedy,
    interchange,
    order_by_gain,
)


def dense(inst: CoverInstance) -> NDArray[np.bool_]:
    return np.asarray(inst.A.todense()) > 0


def covered(inst: CoverInstance, selected: list[int] | tuple[int, ...]) -> float:
    """Persons covered, by set logic on the dense matrix."""
    if not len(selected):
        return 0.0
    return float(inst.w[dense(inst)[:, list(selected)].any(axis=1)].sum())


def allowed(inst: CoverInstance, selected: list[int] | tuple[int, ...]) -> bool:
    sel = list(selected)
    if len(set(sel)) != len(sel) or len(sel) > inst.k:
        return False
    if float(inst.cost[sel].sum()) > inst.budget + 1e-9:
        return False
    chosen = np.zeros(inst.A.shape[1], bool)
    chosen[sel] = True
    return all(int(chosen[cols].sum()) >= need for cols, need in inst.groups)


def optimum(inst: CoverInstance, size: int | None = None) -> float:
    """Best coverage over every allowed selection (of exactly ``size`` sites if given)."""
    m = inst.A.shape[1]
    sizes = range(inst.k + 1) if size is None else [size]
    best = -np.inf
    for r in sizes:
        for sel in itertools.combinations(range(m), r):
            if allowed(inst, sel):
                best = max(best, covered(inst, sel))
    return best


def random_instance(
    seed: int,
    *,
    budget: bool = False,
    groups: bool = False,
    n: int = 30,
    m: int = 10,
) -> CoverInstance:
    rng = np.random.default_rng(seed)
    a = rng.random((n, m)) < 0.2
    w = rng.integers(1, 50, n).astype(float)
    cost = rng.integers(1, 6, m).astype(float) if budget else np.ones(m)
    k = int(rng.integers(2, 5))
    grp: tuple[tuple[NDArray[np.int64], int], ...] = ()
    if groups:
        cols = rng.permutation(m)
        grp = ((np.sort(cols[:3]), 1), (np.sort(cols[3:5]), 1))
    return CoverInstance(
        w=w,
        A=sp.csr_matrix(a.astype(float)),
        cost=cost,
        k=k,
        budget=float(rng.integers(4, 10)) if budget else np.inf,
        groups=grp,
    )


def trap() -> CoverInstance:
    """The best single site blocks the optimal pair.

    Site 0 covers points 0–3, site 1 covers 0, 1 and 4, site 2 covers 2, 3
    and 5 (one person each). Greedy takes 0 (4) then 1 or 2 (+1): 5; sites
    1 and 2 together cover all 6.
    """
    a = np.zeros((6, 3))
    a[[0, 1, 2, 3], 0] = 1
    a[[0, 1, 4], 1] = 1
    a[[2, 3, 5], 2] = 1
    return CoverInstance(w=np.ones(6), A=sp.csr_matrix(a), cost=np.ones(3), k=2, budget=np.inf)


SEEDS = range(12)


def test_covered_weight_is_set_logic() -> None:
    for seed in SEEDS:
        inst = random_instance(seed)
        for sel in ([], [0], [1, 3], list(range(inst.A.shape[1]))):
            assert covered_weight(inst, sel) == covered(inst, sel)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("budget", "groups"), [(False, False), (True, False), (False, True)])
def test_greedy_respects_the_rules(seed: int, budget: bool, groups: bool) -> None:
    inst = random_instance(seed, budget=budget, groups=groups)
    sel = greedy(inst)
    assert len(set(sel)) == len(sel)
    assert len(sel) <= inst.k
    assert float(inst.cost[sel].sum()) <= inst.budget + 1e-9
    if groups:  # k ≥ 2 = the sites the groups need, no budget: met
        assert allowed(inst, sel)
    # each step of greedy adds persons (or meets a group)
    assert covered(inst, sel) > 0
    # greedy with the transposed matrix given gives the same answer
    assert greedy(inst, AT=inst.AT) == sel


def test_greedy_meets_groups_before_gains() -> None:
    inst = trap()
    g = CoverInstance(**{**inst.__dict__, "groups": ((np.array([2]), 1),)})
    sel = greedy(g)
    # the group's only site first, then the biggest gain: site 1 adds 3, site 0 only 2
    assert sel == [2, 1]


def test_greedy_stops_without_gain() -> None:
    a = np.zeros((3, 3))
    a[:, 0] = 1
    a[0, 1] = 1  # site 1 covers nothing site 0 does not
    inst = CoverInstance(w=np.ones(3), A=sp.csr_matrix(a), cost=np.ones(3), k=3, budget=np.inf)
    assert greedy(inst) == [0]


def test_greedy_budget_compares_gain_per_yuan() -> None:
    # site 0: 10 persons for 10 yuan; site 1: 6 persons for 2 yuan
    a = np.zeros((16, 2))
    a[:10, 0] = 1
    a[10:, 1] = 1
    inst = CoverInstance(
        w=np.ones(16), A=sp.csr_matrix(a), cost=np.array([10.0, 2.0]), k=2, budget=10.0
    )
    assert greedy(inst) == [1]  # then site 0 no longer fits
    roomy = CoverInstance(**{**inst.__dict__, "budget": 12.0})
    assert greedy(roomy) == [1, 0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("budget", "groups"), [(False, False), (True, False), (False, True)])
def test_interchange_never_worse_and_keeps_the_rules(seed: int, budget: bool, groups: bool) -> None:
    inst = random_instance(seed, budget=budget, groups=groups)
    start = greedy(inst)
    before = covered(inst, start)
    after_sel = interchange(inst, list(start))
    assert len(after_sel) == len(start)
    assert covered(inst, after_sel) >= before
    assert covered(inst, after_sel) <= optimum(inst) + 1e-9
    if allowed(inst, start):
        assert allowed(inst, after_sel)
    assert interchange(inst, list(start), AT=inst.AT) == after_sel


@pytest.mark.parametrize("seed", SEEDS)
def test_interchange_is_a_local_optimum(seed: int) -> None:
    """No single swap improves the result (uncapacitated, no rules)."""
    inst = random_instance(seed)
    sel = interchange(inst, greedy(inst))
    base = covered(inst, sel)
    m = inst.A.shape[1]
    for pos in range(len(sel)):
        for j in range(m):
            if j in sel:
                continue
            swapped = [*sel[:pos], j, *sel[pos + 1 :]]
            assert covered(inst, swapped) <= base + 1e-9


def test_interchange_escapes_the_greedy_trap() -> None:
    inst = trap()
    start = greedy(inst)
    assert start[0] == 0
    assert covered(inst, start) == 5
    assert optimum(inst) == 6
    best = interchange(inst, start)
    assert sorted(best) == [1, 2]
    assert covered(inst, best) == 6


def test_interchange_keeps_a_group_site() -> None:
    # the group's only site is 0, the trap's blocking site: it must stay
    inst = CoverInstance(**{**trap().__dict__, "groups": ((np.array([0]), 1),)})
    best = interchange(inst, [0, 1])
    assert 0 in best
    assert covered(inst, best) == 5 == optimum(inst)


def test_interchange_keeps_the_budget() -> None:
    # site 2 would complete the optimum but costs too much beside site 1
    inst = CoverInstance(**{**trap().__dict__, "cost": np.array([1.0, 1.0, 5.0]), "budget": 3.0})
    best = interchange(inst, [0, 1])
    assert float(inst.cost[best].sum()) <= 3.0
    assert covered(inst, best) == 5 == optimum(inst)


def test_interchange_of_nothing() -> None:
    assert interchange(trap(), []) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_order_by_gain(seed: int) -> None:
    inst = random_instance(seed)
    rng = np.random.default_rng(seed)
    sel = [int(j) for j in rng.choice(inst.A.shape[1], 4, replace=False)]
    order, gains = order_by_gain(inst, sel)
    assert sorted(order) == sorted(sel)
    assert sum(gains) == pytest.approx(covered(inst, sel))
    # each gain is the persons the site adds to those before it, the largest first
    for t in range(len(order)):
        assert gains[t] == pytest.approx(covered(inst, order[: t + 1]) - covered(inst, order[:t]))
        for other in order[t + 1 :]:
            assert gains[t] >= covered(inst, [*order[:t], other]) - covered(inst, order[:t])
    assert all(a >= b for a, b in itertools.pairwise(gains))


def test_order_by_gain_of_the_trap() -> None:
    order, gains = order_by_gain(trap(), [1, 2])
    assert gains == [3.0, 3.0]
    order, gains = order_by_gain(trap(), [2, 0])
    assert order == [0, 2]
    assert gains == [4.0, 1.0]
