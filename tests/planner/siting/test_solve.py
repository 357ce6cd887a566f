"""solve(): brute force on random small instances, known answers, errors, determinism.

The brute force enumerates every plan (new sites and upgrades) that respects
the rules and scores it here, independently of planner code: set logic for
uncapacitated coverage, networkx max-flow for capacitated coverage, the
nearest open site for p-median, and scipy's linprog for capacitated p-median.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import networkx as nx
import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import sparse
from scipy.optimize import linprog

from planner.siting import SiteGroup, SitingError, SitingProblem, SitingResult, evaluate, solve
from planner.siting.milp import Solver
from tests.planner.siting.conftest import line_problem, random_problem

REL = 1e-6
EXACT_GAP = 1e-9  # the default 1e-4 would allow a near-optimal answer


# --------------------------------------------------------------------------
# independent scoring of one plan


def _open_mask(p: SitingProblem, new: tuple[int, ...]) -> NDArray[np.bool_]:
    is_open = p.existing.copy()
    is_open[list(new)] = True
    return is_open


def _capacity(p: SitingProblem, upgraded: tuple[int, ...]) -> NDArray[np.float64]:
    cap = p.site_capacity.copy()
    if upgraded:
        assert p.upgrade_capacity is not None
        cap[list(upgraded)] += p.upgrade_capacity[list(upgraded)]
    return cap


def covered_persons(p: SitingProblem, new: tuple[int, ...], upgraded: tuple[int, ...]) -> float:
    """Persons covered within the threshold (capacitated: a max-flow)."""
    is_open = _open_mask(p, new)
    near = (p.pair_minutes <= p.threshold_min) & is_open[p.pair_site]
    if not p.capacitated:
        covered = np.zeros(p.n_demand, bool)
        covered[p.pair_demand[near]] = True
        return float(p.demand[covered].sum())
    cap = _capacity(p, upgraded)
    g = nx.DiGraph()
    g.add_node("s")
    g.add_node("t")
    for i in range(p.n_demand):
        g.add_edge("s", ("d", i), capacity=float(p.demand[i]))
    for i, j in zip(p.pair_demand[near], p.pair_site[near], strict=True):
        g.add_edge(("d", int(i)), ("f", int(j)))  # no capacity attribute: unbounded
    for j in np.flatnonzero(is_open):
        if np.isfinite(cap[j]):
            g.add_edge(("f", int(j)), "t", capacity=float(cap[j]))
        else:
            g.add_edge(("f", int(j)), "t")
    return float(nx.maximum_flow_value(g, "s", "t"))


def person_minutes(p: SitingProblem, new: tuple[int, ...], upgraded: tuple[int, ...]) -> float:
    """p-median objective: persons × minutes, unassigned persons at the penalty."""
    is_open = _open_mask(p, new)
    use = is_open[p.pair_site]
    d, s, t = p.pair_demand[use], p.pair_site[use], p.pair_minutes[use]
    if not p.capacitated:
        best = np.full(p.n_demand, p.unserved_minutes)
        np.minimum.at(best, d, t)
        return float(p.demand @ best)
    # variables: share x per usable pair, then unassigned share per point
    cap = _capacity(p, upgraded)
    n, k = p.n_demand, len(d)
    c = np.concatenate([p.demand[d] * t, p.demand * p.unserved_minutes])
    a_eq = sparse.hstack(
        [sparse.csr_matrix((np.ones(k), (d, np.arange(k))), shape=(n, k)), sparse.eye(n)]
    )
    fin = np.flatnonzero(np.isfinite(cap) & is_open)
    row = {int(j): r for r, j in enumerate(fin)}
    on = np.isin(s, fin)
    a_ub = sparse.csr_matrix(
        (p.demand[d[on]], ([row[int(j)] for j in s[on]], np.flatnonzero(on))),
        shape=(len(fin), k + n),
    )
    res = linprog(
        c,
        A_ub=a_ub if len(fin) else None,
        b_ub=cap[fin] if len(fin) else None,
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0, res.message
    return float(res.fun)


def coverable(p: SitingProblem) -> float:
    reach = np.zeros(p.n_demand, bool)
    reach[p.pair_demand[p.pair_minutes <= p.threshold_min]] = True
    return float(p.demand[reach].sum())


# --------------------------------------------------------------------------
# enumeration of the plans that respect the rules


def upgradable(p: SitingProblem) -> list[int]:
    if p.upgrade_cost is None:
        return []
    return [int(j) for j in np.flatnonzero(p.existing & np.isfinite(p.upgrade_cost))]


def feasible_plans(p: SitingProblem, *, max_new: int | None = None):
    """Every (new sites, upgrades) that respects max_new, budget, groups, max_upgrades."""
    cand = [int(j) for j in np.flatnonzero(~p.existing)]
    upg = upgradable(p)
    k_new = len(cand) if p.max_new is None else min(p.max_new, len(cand))
    if max_new is not None:
        k_new = min(k_new, max_new)
    k_upg = len(upg) if p.max_upgrades is None else min(p.max_upgrades, len(upg))
    for r in range(k_new + 1):
        for new in itertools.combinations(cand, r):
            is_open = _open_mask(p, new)
            if any(int(is_open[g.sites].sum()) < g.minimum for g in p.groups):
                continue
            build = float(p.site_cost[list(new)].sum())
            for ru in range(k_upg + 1):
                for up in itertools.combinations(upg, ru):
                    cost = build
                    if up:
                        assert p.upgrade_cost is not None
                        cost += float(p.upgrade_cost[list(up)].sum())
                    if p.budget is not None and cost > p.budget + 1e-6:
                        continue
                    yield new, up


def brute_force(p: SitingProblem) -> float:
    """The optimum of ``p`` by enumeration (raises LookupError when infeasible)."""
    if p.objective == "mclp":
        return max(covered_persons(p, new, up) for new, up in feasible_plans(p))
    if p.objective == "pmedian":
        return min(person_minutes(p, new, up) for new, up in feasible_plans(p))
    need = p.target * coverable(p) - 1e-9
    everything = tuple(int(j) for j in np.flatnonzero(~p.existing))
    all_upg = tuple(upgradable(p))
    if covered_persons(p, everything, all_upg) < need:  # coverage only grows with sites
        raise LookupError("infeasible")
    best = np.inf
    for new, up in feasible_plans(p):
        size = len(new) + len(up)
        if size < best and covered_persons(p, new, up) >= need:
            best = size
    if not np.isfinite(best):
        raise LookupError("infeasible")
    return float(best)


# --------------------------------------------------------------------------
# checks every result must pass


def plan(r: SitingResult) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(int(j) for j in r.opened), tuple(int(j) for j in r.upgraded)


def check_rules(p: SitingProblem, r: SitingResult) -> None:
    """The result respects the problem's rules and is self-consistent."""
    new, up = plan(r)
    assert len(set(new)) == len(new)
    assert not p.existing[list(new)].any(), "an existing site was opened"
    assert p.existing[list(up)].all(), "a site that is not open was upgraded"
    assert set(up) <= set(upgradable(p)), "a site that cannot be upgraded was upgraded"
    if p.max_new is not None:
        assert len(new) <= p.max_new
    if p.max_upgrades is not None:
        assert len(up) <= p.max_upgrades
    cost = float(p.site_cost[list(new)].sum())
    if up:
        assert p.upgrade_cost is not None
        cost += float(p.upgrade_cost[list(up)].sum())
    assert r.cost == pytest.approx(cost)
    if p.budget is not None:
        assert r.cost <= p.budget + 1e-6
    is_open = _open_mask(p, new)
    for g in p.groups:
        assert int(is_open[g.sites].sum()) >= g.minimum, g.name
    # bound and gap
    assert r.gap >= 0
    tol = 1e-6 * max(1.0, abs(r.objective))
    if p.maximise:
        assert r.bound >= r.objective - tol
    else:
        assert r.bound <= r.objective + tol
    # served persons
    assert r.served.shape == p.demand.shape
    assert (r.served >= -1e-9).all()
    assert (r.served <= p.demand + 1e-9).all()
    # the objective is what the plan really achieves, scored here
    if p.objective == "mclp":
        assert r.objective == pytest.approx(covered_persons(p, new, up), rel=REL)
        assert r.served.sum() == pytest.approx(r.objective, rel=REL)
    elif p.objective == "pmedian":
        assert r.objective == pytest.approx(person_minutes(p, new, up), rel=REL)
        unserved = float((p.demand - r.served).sum())
        assert r.person_minutes + unserved * p.unserved_minutes == pytest.approx(
            r.objective, rel=REL, abs=1e-6
        )
    else:
        assert r.objective == len(new) + len(up)
        covered = covered_persons(p, new, up)
        assert covered >= p.target * coverable(p) - 1e-6
        # served: what the plan covers (not just the target)
        assert r.served.sum() == pytest.approx(covered, rel=REL)
    # no upgrade is bought for nothing
    if p.objective != "lscp":
        score = covered_persons if p.objective == "mclp" else person_minutes
        for j in up:
            without = score(p, new, tuple(u for u in up if u != j))
            assert (without < r.objective - 1e-6) if p.maximise else (without > r.objective + 1e-6)
    # marginal gains: one per new site, finite, adding up to the plan's gain
    assert len(r.marginal) == len(new)
    assert np.isfinite(r.marginal).all(), r.marginal
    assert (np.asarray(r.marginal) >= -1e-6).all()
    if p.objective == "pmedian":
        total = person_minutes(p, (), up) - r.objective
    else:
        cover = SitingProblem(**{**p.__dict__, "objective": "mclp"})
        total = covered_persons(cover, new, up) - covered_persons(cover, (), up)
    assert float(np.sum(r.marginal)) == pytest.approx(total, rel=REL, abs=1e-6)
    if not p.capacitated and p.objective != "pmedian":
        # coverage is submodular: greedy ranking gives non-increasing gains
        assert (np.diff(r.marginal) <= 1e-9).all(), r.marginal


# --------------------------------------------------------------------------
# 1. brute force on random instances

SEEDS = range(5)


@dataclass(frozen=True)
class Case:
    seed: int
    objective: str
    capacitated: bool

    @property
    def id(self) -> str:
        return f"{self.objective}-{'cap' if self.capacitated else 'uncap'}-{self.seed}"


@cache
def case_problem(case: Case) -> SitingProblem:
    overrides: dict = {}
    if case.objective == "lscp":
        # capacities make a full target unreachable: aim lower
        if case.capacitated:
            overrides["target"] = 0.6
        # some LSCPs with a limit on new sites or a budget too
        if case.seed % 2:
            overrides["max_new"] = 3
        if case.seed % 3 == 0:
            overrides["budget"] = 200_000.0
    elif case.seed == 3:
        overrides.update(max_new=None, budget=150_000.0)  # budget only
    m = (6, 9) if case.capacitated else (6, 12)
    return random_problem(case.seed, case.objective, capacitated=case.capacitated, m=m, **overrides)


@cache
def case_optimum(case: Case) -> float:
    return brute_force(case_problem(case))


CASES = [
    Case(seed, objective, capacitated)
    for objective in ("mclp", "pmedian", "lscp")
    for capacitated in (False, True)
    for seed in SEEDS
]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_brute_force(case: Case, solver: Solver) -> None:
    p = case_problem(case)
    try:
        optimum = case_optimum(case)
    except LookupError:
        with pytest.raises(SitingError, match="--target"):
            solve(p, solver=solver, mip_gap=EXACT_GAP)
        return
    r = solve(p, solver=solver, mip_gap=EXACT_GAP)
    assert r.objective == pytest.approx(optimum, rel=REL)
    assert r.status == "optimal"
    assert r.gap <= EXACT_GAP
    check_rules(p, r)


def test_brute_force_cases_are_varied() -> None:
    """The random cases exercise the rules (else the brute force proves little)."""
    problems = [case_problem(c) for c in CASES]
    assert sum(bool(p.groups) for p in problems) >= len(problems) // 2
    assert sum(p.budget is not None for p in problems) >= len(problems) // 4
    assert all(p.existing.any() for p in problems)
    assert all(len(upgradable(p)) for p in problems)
    # most LSCPs are feasible (an infeasible one only checks the error)
    lscp_ok = 0
    for c in CASES:
        if c.objective == "lscp":
            try:
                case_optimum(c)
                lscp_ok += 1
            except LookupError:
                pass
    assert lscp_ok >= 7


@pytest.mark.parametrize("seed", range(4))
def test_lp_kernel_path_keeps_a_true_bound(seed: int) -> None:
    """Forcing the LP-kernel path: a valid plan, an honest bound, gap consistent."""
    case = Case(seed, "mclp", False)
    p, optimum = case_problem(case), case_optimum(case)
    r = solve(p, solver="highs", mip_gap=EXACT_GAP, kernel_pairs=0)
    assert "LP kernel" in r.solver
    assert r.objective <= optimum + 1e-6
    assert r.bound >= optimum - 1e-6
    check_rules(p, r)
    if r.status == "optimal":
        assert r.objective == pytest.approx(optimum, rel=REL)


@pytest.mark.parametrize("case", CASES[::3], ids=[c.id for c in CASES[::3]])
def test_evaluate_agrees_with_solve(case: Case) -> None:
    p = case_problem(case)
    try:
        r = solve(p, solver="highs", mip_gap=EXACT_GAP)
    except SitingError:
        pytest.skip("infeasible instance")
    value, served = evaluate(p, opened=r.opened, upgraded=r.upgraded)
    assert value == pytest.approx(r.objective, rel=REL)
    np.testing.assert_allclose(served, r.served, rtol=1e-6, atol=1e-6)


def test_evaluate_before_any_new_site() -> None:
    """'Before' plans (nothing new) are scored for every objective, the rules ignored."""
    for objective in ("mclp", "pmedian", "lscp"):
        for capacitated in (False, True):
            p = random_problem(0, objective, capacitated=capacitated)
            value, served = evaluate(p, opened=np.zeros(0, np.int64))
            if objective == "mclp":
                assert value == pytest.approx(covered_persons(p, (), ()), rel=REL)
            elif objective == "pmedian":
                assert value == pytest.approx(person_minutes(p, (), ()), rel=REL)
            else:
                assert value == 0
                cover = SitingProblem(**{**p.__dict__, "objective": "mclp"})
                assert served.sum() == pytest.approx(covered_persons(cover, (), ()), rel=REL)


# --------------------------------------------------------------------------
# 2. hand-built instances with known answers


def test_line_mclp_one_site_goes_to_the_middle() -> None:
    r = solve(line_problem("mclp", max_new=1))
    assert list(r.opened) == [2]  # C covers B, C, D: 120 persons
    assert r.objective == 120
    np.testing.assert_array_equal(r.served, [0, 50, 20, 50, 0])
    np.testing.assert_array_equal(r.marginal, [120])
    assert r.status == "optimal"
    assert r.cost == 100_000


def test_line_mclp_two_sites_cover_everyone() -> None:
    r = solve(line_problem("mclp", max_new=2))
    assert r.objective == 140
    assert set(map(int, r.opened)) in ({0, 3}, {1, 3}, {1, 4})
    np.testing.assert_array_equal(r.served, [10, 50, 20, 50, 10])
    assert list(r.marginal) == [80, 60]  # ranked: the 80-person site first


def test_line_pmedian() -> None:
    one = solve(line_problem("pmedian", max_new=1))
    assert list(one.opened) == [2]
    assert one.objective == pytest.approx(10 * 12 + 50 * 6 + 50 * 6 + 10 * 12)
    two = solve(line_problem("pmedian", max_new=2))
    assert sorted(map(int, two.opened)) == [1, 3]
    assert two.objective == pytest.approx(10 * 6 + 20 * 6 + 10 * 6)
    nothing = 140 * 100.0  # everyone unassigned at the 100-minute penalty
    assert float(np.sum(two.marginal)) == pytest.approx(nothing - two.objective)


def test_line_pmedian_penalty_caps_far_assignments() -> None:
    """A person farther than the penalty is better left unassigned."""
    r = solve(line_problem("pmedian", max_new=1, unserved_minutes=5.0))
    # every neighbour is 6 minutes away: only the site's own village is served
    # (B or D: 50 persons at 0 minutes, the other 90 at the 5-minute penalty)
    assert list(r.opened) in ([1], [3])
    assert r.objective == pytest.approx(90 * 5)
    expected = np.zeros(5)
    expected[r.opened[0]] = 50
    np.testing.assert_array_equal(r.served, expected)
    assert r.person_minutes == 0


def test_line_lscp() -> None:
    full = solve(line_problem("lscp", max_new=None))
    assert full.objective == 2
    np.testing.assert_array_equal(full.served, [10, 50, 20, 50, 10])
    half = solve(line_problem("lscp", max_new=None, target=0.5))
    assert half.objective == 1  # one site covers ≥ 70 of 140
    assert half.served.sum() >= 70
    assert half.bound == 1
    # existing sites already meet the target: nothing to build
    existing = np.array([False, False, True, False, False])
    none = solve(line_problem("lscp", max_new=None, target=0.8, existing=existing))
    assert none.objective == 0
    assert len(none.opened) == 0
    np.testing.assert_array_equal(none.served, [0, 50, 20, 50, 0])


def test_budget_leaves_only_the_cheap_far_site() -> None:
    # C (the best) costs 200k; A at the end of the road 50k; the rest 300k
    cost = np.array([50_000.0, 300_000.0, 200_000.0, 300_000.0, 300_000.0])
    for solver in ("highs", "cbc"):
        p = line_problem("mclp", max_new=None, budget=100_000.0, site_cost=cost)
        r = solve(p, solver=solver)
        assert list(r.opened) == [0]
        assert r.objective == 60  # A and B
        assert r.cost == 50_000
    # with the budget for C, C wins again
    r = solve(line_problem("mclp", max_new=None, budget=200_000.0, site_cost=cost))
    assert list(r.opened) == [2]


def upgrade_problem(objective: str = "mclp", **overrides) -> SitingProblem:
    """Line villages; an existing site in C is full (60 places for 120 within reach).

    Upgrading it (+60 places) costs 30k; new sites at A or E cost 100k and
    have 30 places each.
    """
    existing = np.array([False, False, True, False, False])
    fields = {
        "existing": existing,
        "capacitated": True,
        "site_capacity": np.array([30.0, 0.0, 60.0, 0.0, 30.0]),
        "site_cost": np.array([100_000.0, 1e9, 0.0, 1e9, 100_000.0]),
        "upgrade_cost": np.array([np.nan, np.nan, 30_000.0, np.nan, np.nan]),
        "upgrade_capacity": np.array([0.0, 0.0, 60.0, 0.0, 0.0]),
        "max_new": 1,
        "budget": 100_000.0,
    }
    fields.update(overrides)
    return line_problem(objective, **fields)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_upgrade_beats_a_new_site(solver: Solver) -> None:
    p = upgrade_problem()
    assert evaluate(p, opened=np.zeros(0, np.int64))[0] == 60
    r = solve(p, solver=solver)
    assert list(r.upgraded) == [2]
    assert len(r.opened) == 0  # a new site does not fit the budget beside it
    assert r.objective == 120
    assert r.cost == 30_000
    # a new site instead: 60 + 30
    assert evaluate(p, opened=np.array([0]))[0] == 90
    check_rules(p, r)


def test_upgrade_not_allowed_falls_back_to_a_new_site() -> None:
    r = solve(upgrade_problem(max_upgrades=0))
    assert len(r.upgraded) == 0
    assert len(r.opened) == 1
    assert r.objective == 90


def test_lscp_counts_an_upgrade_as_one_action() -> None:
    # target 6/7 of 140 = 120: the upgrade alone reaches it
    r = solve(upgrade_problem("lscp", max_new=None, budget=None, target=120 / 140))
    assert r.objective == 1
    assert list(r.upgraded) == [2]
    assert len(r.opened) == 0
    assert r.served.sum() == pytest.approx(120)


def test_pmedian_capacitated_upgrade() -> None:
    r = solve(upgrade_problem("pmedian", max_new=0))
    assert list(r.upgraded) == [2]
    # 120 places at C: B, C and D assigned (6, 0, 6 minutes); no place is left
    # for the 20 persons of A and E (100-minute penalty each)
    assert r.objective == pytest.approx(50 * 6 + 50 * 6 + 20 * 100)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("objective", ["mclp", "pmedian"])
def test_closed_site_without_a_limit_serves_nobody(objective: str, solver: Solver) -> None:
    """A candidate with no capacity limit (inf) serves only when opened."""
    p = upgrade_problem(
        objective, site_capacity=np.array([np.inf, 0.0, 60.0, 0.0, 30.0]), max_upgrades=0
    )
    closed = SitingProblem(**{**p.__dict__, "max_new": 0})
    r = solve(closed, solver=solver)
    assert len(r.opened) == 0
    if objective == "mclp":
        assert r.objective == 60  # the existing site's places only
        assert evaluate(p, opened=np.zeros(0, np.int64))[0] == 60
    else:  # C: its own 20 and 40 of B/D (6 min); 80 persons unassigned
        assert r.objective == pytest.approx(40 * 6 + 80 * 100)
    opened = solve(p, solver=solver)
    assert list(opened.opened) == [0]  # A: unlimited places for A and B
    check_rules(p, opened)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("objective", ["mclp", "pmedian"])
def test_no_upgrade_for_nothing(objective: str, solver: Solver) -> None:
    """An existing site with room to spare is not upgraded (it would only cost money)."""
    p = upgrade_problem(
        objective, site_capacity=np.array([30.0, 0.0, 1_000.0, 0.0, 30.0]), budget=None
    )
    r = solve(p, solver=solver)
    assert len(r.upgraded) == 0
    assert r.cost == 100_000  # one new site
    check_rules(p, r)


def test_groups_sharing_a_candidate() -> None:
    """One site can meet two rules: their needs are not simply added up."""
    groups = (SiteGroup("甲镇", np.array([1, 2])), SiteGroup("乙镇", np.array([1, 3])))
    for limits in ({"max_new": 1}, {"max_new": None, "budget": 100_000.0}):
        r = solve(line_problem("mclp", groups=groups, **limits))
        assert list(r.opened) == [1]  # the only site in both towns
        assert r.objective == 80
    # when the shared site is out of the budget, two sites are needed: the
    # message names a rule to relax
    cost = np.array([1.0, 300_000.0, 1.0, 1.0, 1.0])
    p = line_problem("mclp", groups=groups, max_new=1, budget=100_000.0, site_cost=cost)
    with pytest.raises(SitingError, match="--new"):
        solve(p)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("objective", "capacitated"), [("mclp", False), ("pmedian", True)])
def test_overlapping_groups_match_brute_force(seed: int, objective: str, capacitated: bool) -> None:
    base = random_problem(seed, objective, capacitated=capacitated, m=(8, 8))
    cand = np.flatnonzero(~base.existing)
    groups = (
        SiteGroup("甲", cand[:3]),
        SiteGroup("乙", cand[2:5]),
        SiteGroup("丙", cand[4:6]),
    )
    p = SitingProblem(**{**base.__dict__, "groups": groups, "max_new": 2, "budget": None})
    optimum = brute_force(p)
    r = solve(p, solver="highs", mip_gap=EXACT_GAP)
    assert r.objective == pytest.approx(optimum, rel=REL)
    check_rules(p, r)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_no_candidate_sites(solver: Solver) -> None:
    p = line_problem("mclp", existing=np.ones(5, bool))
    r = solve(p, solver=solver)
    assert len(r.opened) == 0
    assert r.objective == 140


# --------------------------------------------------------------------------
# 3. infeasible and malformed problems


def two_towns(**overrides) -> SitingProblem:
    groups = (
        SiteGroup("甲镇", np.array([0, 1])),
        SiteGroup("乙镇", np.array([3, 4])),
    )
    return line_problem("mclp", groups=groups, **{"max_new": 2, **overrides})


def test_group_without_candidates() -> None:
    existing = np.array([False, False, False, False, True])
    p = line_problem("mclp", groups=(SiteGroup("丙镇", np.array([], np.int64)),), existing=existing)
    with pytest.raises(SitingError, match=r"丙镇.*--no-town-rule"):
        solve(p)
    # the only candidate of the town is already open: the rule holds
    p = line_problem("mclp", groups=(SiteGroup("丁镇", np.array([4])),), existing=existing)
    r = solve(p)
    assert list(r.opened) == [1]  # B covers A–C, the open E covers D and E
    assert r.objective == 140


def test_group_needs_more_sites_than_candidates() -> None:
    p = line_problem("mclp", max_new=3, groups=(SiteGroup("甲镇", np.array([0, 1]), minimum=3),))
    with pytest.raises(SitingError, match=r"甲镇.*3.*--no-town-rule"):
        solve(p)


def test_max_new_below_groups() -> None:
    with pytest.raises(SitingError, match=r"--new.*--no-town-rule"):
        solve(two_towns(max_new=1))
    r = solve(two_towns(max_new=2))
    assert sorted(map(int, r.opened)) in ([0, 3], [1, 3], [1, 4], [0, 4])


def test_budget_below_the_cheapest_way_to_meet_groups() -> None:
    cost = np.array([80_000.0, 60_000.0, 10_000.0, 70_000.0, 90_000.0])
    with pytest.raises(SitingError, match=r"130,000.*--budget"):
        solve(two_towns(site_cost=cost, budget=129_999.0))
    r = solve(two_towns(site_cost=cost, budget=130_000.0))
    assert sorted(map(int, r.opened)) == [1, 3]


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("limit", [{"max_new": 1}, {"budget": 100_000.0}])
def test_lscp_target_out_of_reach(limit: dict, solver: Solver) -> None:
    # covering all five villages needs two sites (100k each)
    p = line_problem("lscp", **{"max_new": None, **limit})
    with pytest.raises(SitingError, match=r"--target|--new|--budget"):
        solve(p, solver=solver)
    ok = line_problem("lscp", target=80 / 140 - 1e-9, **{"max_new": None, **limit})
    assert solve(ok, solver=solver).objective == 1


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_lscp_target_out_of_reach_within_capacities(solver: Solver) -> None:
    p = line_problem("lscp", max_new=None, capacitated=True, site_capacity=np.full(5, 20.0))
    with pytest.raises(SitingError, match="--target"):
        solve(p, solver=solver)


def test_mclp_needs_a_limit() -> None:
    with pytest.raises(SitingError, match=r"--new.*--budget"):
        solve(line_problem("mclp", max_new=None))


def test_unknown_solver() -> None:
    with pytest.raises(SitingError, match="gurobi"):
        solve(line_problem("mclp"), solver="gurobi")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"demand": [10.0, -1.0, 20.0, 50.0, 10.0]}, "需求人数"),
        ({"demand": [10.0, np.nan, 20.0, 50.0, 10.0]}, "需求人数"),
        ({"pair_demand": [0, 5], "pair_site": [0, 0], "pair_minutes": [1.0, 1.0]}, "不存在"),
        ({"pair_demand": [0, 1], "pair_site": [0, 5], "pair_minutes": [1.0, 1.0]}, "不存在"),
        ({"pair_demand": [0, -1], "pair_site": [0, 0], "pair_minutes": [1.0, 1.0]}, "不存在"),
        ({"pair_demand": [0], "pair_site": [0, 1], "pair_minutes": [1.0]}, "长度不一致"),
        ({"pair_demand": [0], "pair_site": [0], "pair_minutes": [-1.0]}, "非负"),
        ({"target": 0.0}, "覆盖目标"),
        ({"target": 1.2}, "覆盖目标"),
        ({"threshold_min": 0.0}, "阈值"),
        ({"max_new": -1}, "新建数量"),
        ({"budget": -1.0}, "预算"),
        ({"site_cost": [1.0, 1.0]}, "站点数"),
        ({"site_capacity": [1.0, 1.0, 1.0, 1.0, -1.0]}, "负数"),
        ({"upgrade_cost": np.zeros(5)}, "同时给出"),
        ({"upgrade_cost": np.zeros(4), "upgrade_capacity": np.zeros(4)}, "站点数"),
        ({"groups": (SiteGroup("戊镇", np.array([7])),)}, "戊镇"),
        ({"objective": "pcenter"}, "pcenter"),
    ],
)
def test_malformed_problems(overrides: dict, match: str) -> None:
    with pytest.raises(SitingError, match=match):
        line_problem(**{"objective": "mclp", **overrides})


def test_negative_group_minimum() -> None:
    with pytest.raises(SitingError, match="己镇"):
        SiteGroup("己镇", np.array([0]), minimum=-1)


# --------------------------------------------------------------------------
# 6. determinism


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("objective", ["mclp", "pmedian", "lscp"])
def test_same_problem_same_answer(objective: str, solver: Solver) -> None:
    p = random_problem(11, objective, capacitated=objective == "pmedian", m=(10, 10))
    a, b = solve(p, solver=solver), solve(p, solver=solver)
    np.testing.assert_array_equal(a.opened, b.opened)
    np.testing.assert_array_equal(a.upgraded, b.upgraded)
    np.testing.assert_array_equal(a.marginal, b.marginal)
    np.testing.assert_array_equal(a.served, b.served)
    assert a.objective == b.objective
