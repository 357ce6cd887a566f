"""Ties on the objective: the lexicographic optimum and "why here", against brute force.

Every plan that respects the rules is enumerated and scored here, independently
of planner code (the objective with the scorers of ``test_solve``: networkx
max-flow, scipy's linprog, set logic). Plans are then ordered by the objective,
the fewest new sites and upgrades (MCLP, p-median), the most persons in reach
(not for the uncapacitated MCLP, whose objective it is), the fewest minutes to
the nearest open site, and the smallest sum of ``site index + 1``. The solver
must return the first plan, on both back ends; each site's best alternative
and tied alternatives must be those of the one-site swaps enumerated here.

Ties are made on purpose: "twin" sites (a copy of a candidate, same pairs,
places and cost) and whole minutes, so that the later criteria and the key
decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cmp_to_key, partial
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from planner.siting import SiteGroup, SitingError, SitingProblem, SitingResult, solve
from planner.siting.milp import Solver
from tests.planner.siting.conftest import line_problem, random_problem
from tests.planner.siting.test_solve import (
    EXACT_GAP,
    coverable,
    covered_persons,
    feasible_plans,
    person_minutes,
    upgradable,
)

TOL = 1e-7  # relative: figures closer than this are equal


# --------------------------------------------------------------------------
# independent scoring and order


Plan = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class Score:
    objective: float
    count: int
    in_reach: float
    minutes: float
    key: int


def score(p: SitingProblem, plan: Plan) -> Score:
    new, up = plan
    is_open = p.existing.copy()
    is_open[list(new)] = True
    best = np.full(p.n_demand, np.inf)
    for i, j, t in zip(p.pair_demand, p.pair_site, p.pair_minutes, strict=True):
        if is_open[j] and t <= p.threshold_min:
            best[i] = min(best[i], t)
    reached = np.isfinite(best)
    if p.objective == "mclp":
        objective = covered_persons(p, new, up)
    elif p.objective == "pmedian":
        objective = person_minutes(p, new, up)
    else:
        objective = float(len(new) + len(up))
    return Score(
        objective=objective,
        count=len(new) + len(up),
        in_reach=float(p.demand[reached].sum()),
        minutes=float(p.demand[reached] @ best[reached]),
        key=sum(j + 1 for j in new) + sum(j + 1 for j in up),
    )


def _order(p: SitingProblem, key: bool = True) -> list[str]:
    if p.objective == "lscp":
        names = ["objective", "in_reach", "minutes"]
    elif p.objective == "mclp" and not p.capacitated:
        names = ["objective", "count", "minutes"]
    else:
        names = ["objective", "count", "in_reach", "minutes"]
    return names + (["key"] if key else [])


def _value(p: SitingProblem, s: Score, name: str) -> float:
    v = float(getattr(s, name))
    if name == "in_reach" or (name == "objective" and p.objective == "mclp"):
        return -v
    return v


def cmp(p: SitingProblem, a: Score, b: Score, *, key: bool = True) -> int:
    for name in _order(p, key):
        va, vb = _value(p, a, name), _value(p, b, name)
        if abs(va - vb) > TOL * max(1.0, abs(va), abs(vb)):
            return -1 if va < vb else 1
    return 0


def meets_target(p: SitingProblem, plan: Plan) -> bool:
    return covered_persons(p, *plan) >= p.target * coverable(p) - 1e-6


def plans(p: SitingProblem) -> dict[Plan, Score]:
    out = {}
    for plan in feasible_plans(p):
        if p.objective == "lscp" and not meets_target(p, plan):
            continue
        out[(tuple(sorted(plan[0])), tuple(sorted(plan[1])))] = score(p, plan)
    if not out:
        raise LookupError("infeasible")
    return out


def first_plans(p: SitingProblem) -> tuple[set[Plan], Score]:
    """The plans that come first (several only when they tie on the key too)."""
    scored = plans(p)
    best = min(scored.values(), key=cmp_to_key(lambda a, b: cmp(p, a, b)))
    return {plan for plan, s in scored.items() if cmp(p, s, best) == 0}, best


# --------------------------------------------------------------------------
# instances with ties


def with_twins(p: SitingProblem, twins: list[int]) -> SitingProblem:
    """``p`` with a copy of each site of ``twins`` (candidates) appended."""
    m = p.n_sites
    new_index = {j: m + k for k, j in enumerate(twins)}
    d, s, t = [p.pair_demand], [p.pair_site], [p.pair_minutes]
    for j, k in new_index.items():
        at = p.pair_site == j
        d.append(p.pair_demand[at])
        s.append(np.full(int(at.sum()), k))
        t.append(p.pair_minutes[at])

    def extend(values: NDArray[Any] | None) -> NDArray[Any] | None:
        return None if values is None else np.concatenate([values, values[twins]])

    groups = tuple(
        SiteGroup(
            g.name,
            np.concatenate(
                [g.sites, np.asarray([new_index[j] for j in g.sites if j in new_index], np.int64)]
            ),
            g.minimum,
        )
        for g in p.groups
    )
    fields = {
        **p.__dict__,
        "pair_demand": np.concatenate(d),
        "pair_site": np.concatenate(s),
        "pair_minutes": np.concatenate(t),
        "existing": extend(p.existing),
        "site_cost": extend(p.site_cost),
        "site_capacity": extend(p.site_capacity),
        "upgrade_cost": extend(p.upgrade_cost),
        "upgrade_capacity": extend(p.upgrade_capacity),
        "groups": groups,
    }
    return SitingProblem(**fields)


@dataclass(frozen=True)
class Case:
    seed: int
    objective: str
    capacitated: bool
    variant: str  # "plain", "twins" (copies of candidates), "whole" (whole minutes)

    @property
    def id(self) -> str:
        cap = "cap" if self.capacitated else "uncap"
        return f"{self.objective}-{cap}-{self.variant}-{self.seed}"


@cache
def case_problem(case: Case) -> SitingProblem:
    overrides: dict[str, Any] = {}
    if case.objective == "lscp" and case.capacitated:
        overrides["target"] = 0.6
    p = random_problem(
        case.seed, case.objective, capacitated=case.capacitated, m=(5, 7), **overrides
    )
    if case.variant == "twins":
        cand = [int(j) for j in np.flatnonzero(~p.existing)][:2]
        p = with_twins(p, cand)
    elif case.variant == "whole":
        p = SitingProblem(**{**p.__dict__, "pair_minutes": np.round(p.pair_minutes / 3.0)})
    return p


CASES = [
    Case(seed, objective, capacitated, variant)
    for objective in ("mclp", "pmedian", "lscp")
    for capacitated in (False, True)
    for variant in ("plain", "twins", "whole")
    for seed in range(3)
]


def as_plan(r: SitingResult) -> Plan:
    return tuple(sorted(map(int, r.opened))), tuple(sorted(map(int, r.upgraded)))


def check_why(p: SitingProblem, r: SitingResult) -> None:
    """Each decision's figures, best and tied alternatives equal the enumerated swaps."""
    new, up = as_plan(r)
    mine = score(p, (new, up))
    scored = plans(p)
    assert r.figures is not None
    assert r.figures.in_reach == pytest.approx(mine.in_reach)
    assert r.figures.minutes == pytest.approx(mine.minutes)
    assert r.figures.key == mine.key
    assert len(r.why) == len(new) + len(up)
    for w in r.why:
        if w.action == "new":
            rest: Plan = (tuple(j for j in new if j != w.site), up)
            swaps = {a: (tuple(sorted((*rest[0], a))), up) for a in np.flatnonzero(~p.existing)}
        else:
            rest = (new, tuple(j for j in up if j != w.site))
            swaps = {a: (new, tuple(sorted((*rest[1], a)))) for a in upgradable(p)}
        without = score(p, rest)
        assert w.adds_in_reach == pytest.approx(mine.in_reach - without.in_reach)
        assert w.adds_minutes == pytest.approx(mine.minutes - without.minutes, abs=1e-6)
        assert w.adds_objective == pytest.approx(mine.objective - without.objective, abs=1e-6)
        options = {
            int(a): scored[plan]
            for a, plan in swaps.items()
            if int(a) not in (new if w.action == "new" else up) and plan in scored
        }
        tied = {a for a, s in options.items() if cmp(p, s, mine, key=False) == 0}
        assert {a.site for a in w.tied} == tied
        if not options:
            assert w.best is None
            continue
        first = min(options.values(), key=cmp_to_key(lambda a, b: cmp(p, a, b)))
        assert w.best is not None
        assert cmp(p, options[w.best.site], first) == 0
        assert cmp(p, mine, first) <= 0, "an alternative beats the plan"


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_lexicographic_optimum_matches_brute_force(case: Case, solver: Solver) -> None:
    p = case_problem(case)
    try:
        best_plans, best = first_plans(p)
    except LookupError:
        with pytest.raises(SitingError):
            solve(p, solver=solver, mip_gap=EXACT_GAP)
        return
    r = solve(p, solver=solver, mip_gap=EXACT_GAP)
    assert as_plan(r) in best_plans, (as_plan(r), best_plans, score(p, as_plan(r)), best)
    assert r.tie_break == "optimal"
    check_why(p, r)


def test_cases_have_ties() -> None:
    """The instances tie on the objective often (else they prove little)."""
    tied_objective = tied_key = 0
    for case in CASES:
        p = case_problem(case)
        try:
            scored = list(plans(p).values())
        except LookupError:
            continue
        best = min(scored, key=cmp_to_key(partial(cmp, p)))
        top = _value(p, best, "objective")
        same_objective = [s for s in scored if abs(_value(p, s, "objective") - top) <= 1e-6]
        tied_objective += len(same_objective) > 1
        tied_key += sum(cmp(p, s, best, key=False) == 0 for s in scored) > 1
    assert tied_objective >= len(CASES) // 2
    assert tied_key >= 6  # twins: the key decides


# --------------------------------------------------------------------------
# hand-built


def test_line_two_sites_the_shortest_trips_win() -> None:
    """A–E on a line: {0,3}, {1,3} and {1,4} all cover 140; {1,3} travels least."""
    r = solve(line_problem("mclp", max_new=2))
    assert sorted(map(int, r.opened)) == [1, 3]
    assert r.figures is not None
    # A→B 6 × 10, C→B 6 × 20, E→D 6 × 10
    assert r.figures.minutes == pytest.approx(240.0)
    assert r.figures.in_reach == 140
    by_site = {w.site: w for w in r.why}
    # without B: A and C (C goes to D) → A out of reach (−10), C 6 min, B 50 → out
    assert by_site[1].adds_in_reach == 60  # A 10 + B 50
    # alternatives of B: A gives {0,3} (140 persons, 480 min), C {2,3} (130), E {3,4} (80)
    assert by_site[1].best is not None and by_site[1].best.site == 0
    assert by_site[1].best.figures.minutes == pytest.approx(480.0)
    assert by_site[1].tied == ()


def test_twin_sites_are_listed_as_tied_and_the_smaller_index_wins() -> None:
    """A copy of site C (index 5) ties with C on everything but the key."""
    p = with_twins(line_problem("mclp", max_new=1), [2])
    r = solve(p)
    assert list(map(int, r.opened)) == [2]
    (w,) = r.why
    assert [a.site for a in w.tied] == [5]
    assert w.best is not None and w.best.site == 5
    assert w.best.figures.key == 6 and r.figures is not None and r.figures.key == 3


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_same_sites_whatever_the_order_of_twins(solver: Solver) -> None:
    """Twins in either order: the smaller index is chosen both times."""
    p = with_twins(line_problem("mclp", max_new=2), [1, 3])  # twins 5 (of B) and 6 (of D)
    r = solve(p, solver=solver)
    assert sorted(map(int, r.opened)) == [1, 3]
    assert {w.site: sorted(a.site for a in w.tied) for w in r.why} == {1: [5], 3: [6]}
