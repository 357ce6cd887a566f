"""Routing core: optimal answers on tiny instances, rules, both solvers, Solomon C101."""

from __future__ import annotations

import dataclasses
import itertools
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from bench.routing_ortools import SOLVERS, solve_routes
from planner.outreach.routing import (
    RoutingError,
    RoutingProblem,
    RoutingResult,
    Shift,
    Stop,
    schedule,
    violations,
)
from tests.planner.outreach.checker import check

SOLOMON = Path(__file__).parents[3] / "bench" / "data" / "solomon"
FAST = {"pyvrp": 0.3, "ortools": 0.5}  # seconds per tiny solve
H = 3600


def line(xs: list[int]) -> np.ndarray:
    """Travel seconds between points on a line."""
    x = np.asarray(xs)
    return np.abs(x[:, None] - x[None, :]).astype(np.int64)


def solved(problem: RoutingProblem, solver: str, seconds: float | None = None) -> RoutingResult:
    """Solve and assert the independent checker finds nothing wrong."""
    result = solve_routes(problem, solver=solver, seconds=seconds or FAST[solver])  # type: ignore[arg-type]
    assert check(problem, result) == []
    assert result.is_feasible, result.violations
    return result


# --- brute force ----------------------------------------------------------


def brute_force(problem: RoutingProblem) -> int | None:
    """The optimal cost by enumerating every assignment and every order (None: infeasible)."""

    @cache
    def best_order(shift: int, stops: frozenset[int]) -> float:
        sh = problem.shifts[shift]
        if any(not problem.stops[i].skills <= sh.skills for i in stops):
            return math.inf
        if sum(problem.stops[i].demand for i in stops) > sh.capacity:
            return math.inf
        if not stops:
            return 0
        best: float = math.inf
        for order in itertools.permutations(sorted(stops)):
            t, here, travel, ok = sh.earliest_s, sh.start, 0, True
            for i in order:
                s = problem.stops[i]
                leg = int(problem.duration[here, s.location])
                travel += leg
                t = max(t + leg, s.earliest_s)
                if t > s.latest_s:
                    ok = False
                    break
                t += s.service_s
                here = s.location
            leg = int(problem.duration[here, sh.end])
            if ok and t + leg <= sh.latest_s:
                best = min(best, travel + leg)
        return best

    n, m = len(problem.stops), len(problem.shifts)
    best: float = math.inf
    for where in itertools.product(range(-1, m), repeat=n):  # -1: skipped
        if any(w < 0 and problem.stops[i].required for i, w in enumerate(where)):
            continue
        cost: float = sum(problem.stops[i].prize for i, w in enumerate(where) if w < 0)
        for k in range(m):
            cost += best_order(k, frozenset(i for i, w in enumerate(where) if w == k))
        best = min(best, cost)
    return None if best == math.inf else int(best)


def random_problem(seed: int) -> RoutingProblem:
    """4–6 stops in a 20-minute square, 1–2 shifts, binding windows, an optional stop, skills."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 7))
    m = int(rng.integers(1, 3))
    xy = rng.uniform(0, 1200, (n + 2, 2))
    dur = np.rint(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))).astype(np.int64)
    stops = []
    for i in range(n):
        open_ = int(rng.integers(0, 4000))
        stops.append(
            Stop(
                location=i + 2,
                service_s=int(rng.integers(60, 600)),
                earliest_s=open_,
                latest_s=open_ + int(rng.integers(1200, 3600)),
                skills=frozenset({"device"}) if i == 0 and m == 2 else frozenset(),
                required=i != n - 1,
                prize=int(rng.integers(0, 2000)),
                demand=int(rng.integers(1, 4)),
            )
        )
    shifts = [Shift(start=0, end=1, earliest_s=0, latest_s=12_000, capacity=12)]
    if m == 2:
        shifts.append(
            Shift(start=1, end=0, earliest_s=600, latest_s=12_000, skills=frozenset({"device"}))
        )
    return RoutingProblem(duration=dur, stops=tuple(stops), shifts=tuple(shifts))


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("solver", SOLVERS)
def test_reaches_brute_force_optimum(seed: int, solver: str) -> None:
    # Seed 0 has no feasible solution; in the others the windows bind (the
    # optimum without them is lower).
    problem = random_problem(seed)
    optimum = brute_force(problem)
    if optimum is None:
        result = solve_routes(problem, solver=solver, seconds=FAST[solver])  # type: ignore[arg-type]
        assert not result.is_feasible
        assert check(problem, result) != []
    else:
        assert solved(problem, solver).cost == optimum
        free = dataclasses.replace(
            problem,
            stops=tuple(
                dataclasses.replace(s, earliest_s=0, latest_s=10**9) for s in problem.stops
            ),
        )
        assert (brute_force(free) or 0) < optimum


@pytest.mark.parametrize("solver", SOLVERS)
def test_line_round_trip(solver: str) -> None:
    # Five stops on a line east of the depot: out to the farthest and back.
    problem = RoutingProblem(
        duration=line([0, 300, 700, 1000, 1600, 2000]),
        stops=tuple(Stop(location=i, service_s=600) for i in (3, 1, 5, 2, 4)),
        shifts=(Shift(start=0, end=0, earliest_s=8 * H, latest_s=12 * H),),
    )
    result = solved(problem, solver)
    assert result.cost == result.travel_s == 4000  # out to the farthest and back
    assert len(result.routes[0].visits) == 5


@pytest.mark.parametrize("solver", SOLVERS)
def test_two_shifts_split_the_line(solver: str) -> None:
    # Depots at both ends, each shift ends where it starts: each takes its half.
    problem = RoutingProblem(
        duration=line([0, 3000, 500, 1000, 2000, 2500]),
        stops=tuple(Stop(location=i, service_s=300) for i in (2, 3, 4, 5)),
        shifts=(
            Shift(start=0, end=0, earliest_s=0, latest_s=10 * H),
            Shift(start=1, end=1, earliest_s=0, latest_s=10 * H),
        ),
    )
    result = solved(problem, solver)
    assert result.cost == 2000 + 2000
    assert sorted(result.routes[0].stops) == [0, 1]
    assert sorted(result.routes[1].stops) == [2, 3]


# --- rules ----------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_device_stop_goes_to_the_shift_with_the_device(solver: str) -> None:
    # Stop 1 sits next to shift 1's base, but only shift 0 carries the device.
    problem = RoutingProblem(
        duration=line([0, 5000, 200, 4800]),
        stops=(
            Stop(location=2, service_s=600),
            Stop(location=3, service_s=900, skills=frozenset({"device"})),
        ),
        shifts=(
            Shift(start=0, end=0, earliest_s=0, latest_s=10 * H, skills=frozenset({"device"})),
            Shift(start=1, end=1, earliest_s=0, latest_s=10 * H),
        ),
    )
    result = solved(problem, solver)
    assert 1 in result.routes[0].stops
    assert result.cost == 2 * 4800
    # Without the skill the nearby shift would take it.
    plain = dataclasses.replace(
        problem, stops=(problem.stops[0], dataclasses.replace(problem.stops[1], skills=frozenset()))
    )
    assert solved(plain, solver).routes[1].stops == (1,)


@pytest.mark.parametrize("solver", SOLVERS)
def test_windows_force_waiting(solver: str) -> None:
    # A must come first (closes at 20 s); B opens only at 100 s.
    problem = RoutingProblem(
        duration=line([0, 10, 20]),
        stops=(
            Stop(location=2, service_s=5, earliest_s=100, latest_s=200),  # B
            Stop(location=1, service_s=5, earliest_s=10, latest_s=20),  # A
        ),
        shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=1000),),
    )
    route = solved(problem, solver).routes[0]
    assert route.stops == (1, 0)
    a, b = route.visits
    # Leaving 10 s later than the shift allows still meets A's window and
    # shortens the wait at B; more would break A's window.
    assert route.start_s == 10
    assert (a.arrival_s, a.start_s, a.departure_s) == (20, 20, 25)
    assert (b.arrival_s, b.start_s, b.departure_s) == (35, 100, 105)
    assert b.waiting_s == 65
    assert route.end_s == 125


def far_optional(prize: int) -> RoutingProblem:
    # The optional stop is a 2 × 1000 s detour from the depot.
    return RoutingProblem(
        duration=line([0, 100, 1000]),
        stops=(
            Stop(location=1, service_s=60),
            Stop(location=2, service_s=60, required=False, prize=prize),
        ),
        shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=H),),
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_optional_stop_skipped_when_its_prize_is_small(solver: str) -> None:
    result = solved(far_optional(500), solver)
    assert result.unvisited == (1,)
    assert (result.travel_s, result.cost) == (200, 700)


@pytest.mark.parametrize("solver", SOLVERS)
def test_optional_stop_visited_when_its_prize_is_large(solver: str) -> None:
    result = solved(far_optional(5000), solver)
    assert result.unvisited == ()
    assert result.cost == result.travel_s == 2000


@pytest.mark.parametrize("solver", SOLVERS)
def test_lunch_gap_between_morning_and_afternoon(solver: str) -> None:
    # One team: morning 8:00–11:30 and afternoon 13:00–17:00 from the village
    # service point (location 0). Seven 45-minute visits cannot fit in one shift.
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 900, (8, 2))
    dur = np.rint(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))).astype(np.int64)
    np.fill_diagonal(dur, 0)
    stops = tuple(
        Stop(location=i, service_s=45 * 60, earliest_s=8 * H, latest_s=17 * H) for i in range(1, 8)
    )
    shifts = (
        Shift(start=0, end=0, earliest_s=8 * H, latest_s=11 * H + 1800, label="上午"),
        Shift(start=0, end=0, earliest_s=13 * H, latest_s=17 * H, label="下午"),
    )
    problem = RoutingProblem(duration=dur, stops=stops, shifts=shifts)
    result = solved(problem, solver)
    assert result.unvisited == ()
    assert all(r.visits for r in result.routes)
    lunch = (11 * H + 1800, 13 * H)
    for route in result.routes:
        for v in route.visits:
            assert v.departure_s <= lunch[0] or v.arrival_s >= lunch[1]
    assert result.routes[0].end_s <= lunch[0] <= lunch[1] <= result.routes[1].start_s


@pytest.mark.parametrize("solver", SOLVERS)
def test_device_heavy_day(solver: str) -> None:
    # Two teams × two half-days, most households need the device only team 0
    # has: one profile forbids many stops (with PyVRP's MAX_VALUE as the
    # forbidden length, penalised costs overflowed and the search could hang).
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 3000, (15, 2))
    dur = np.rint(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1)) / 8).astype(np.int64)
    stops = tuple(
        Stop(
            location=i,
            service_s=1200,
            earliest_s=8 * H,
            latest_s=17 * H,
            skills=frozenset({"device"}) if i % 3 else frozenset(),
            required=i % 4 != 0,
            prize=1500,
        )
        for i in range(1, 15)
    )
    shifts = tuple(
        Shift(start=0, end=0, earliest_s=a, latest_s=b, skills=frozenset(skills))
        for skills in ({"device"}, set())
        for a, b in ((8 * H + 1800, 11 * H + 1800), (13 * H, 17 * H))
    )
    problem = RoutingProblem(duration=dur, stops=stops, shifts=shifts)
    result = solved(problem, solver, seconds=1.0)
    for route in result.routes[2:]:
        assert all(not problem.stops[i].skills for i in route.stops)


@pytest.mark.parametrize("solver", SOLVERS)
def test_unreachable_window_gives_an_infeasible_result(solver: str) -> None:
    problem = RoutingProblem(
        duration=line([0, 5000]),
        stops=(Stop(location=1, service_s=60, latest_s=1000),),
        shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=20_000),),
    )
    result = solve_routes(problem, solver=solver, seconds=FAST[solver])  # type: ignore[arg-type]
    assert not result.is_feasible
    assert result.violations
    assert check(problem, result) != []


def test_optional_stop_nobody_can_serve_is_left_out() -> None:
    problem = RoutingProblem(
        duration=line([0, 100]),
        stops=(
            Stop(location=1, service_s=60, skills=frozenset({"手语"}), required=False, prize=9),
        ),
        shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=H),),
    )
    result = solved(problem, "pyvrp")
    assert (result.unvisited, result.cost) == ((0,), 9)


def test_pyvrp_is_deterministic() -> None:
    problem = random_problem(5)
    a = solve_routes(problem, seconds=0.2, seed=5)
    b = solve_routes(problem, seconds=0.2, seed=5)
    assert a.routes == b.routes
    assert (a.cost, a.unvisited) == (b.cost, b.unvisited)


# --- validation -----------------------------------------------------------


def test_missing_skill_raises_and_names_it() -> None:
    with pytest.raises(RoutingError, match="device"):
        RoutingProblem(
            duration=line([0, 100]),
            stops=(Stop(location=1, service_s=60, skills=frozenset({"device"})),),
            shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=H, skills=frozenset({"手语"})),),
        )


def test_skill_combination_no_shift_has_raises() -> None:
    with pytest.raises(RoutingError, match=r"同时具备技能「device、手语」"):
        RoutingProblem(
            duration=line([0, 100]),
            stops=(Stop(location=1, service_s=60, skills=frozenset({"device", "手语"})),),
            shifts=(
                Shift(start=0, end=0, earliest_s=0, latest_s=H, skills=frozenset({"手语"})),
                Shift(start=0, end=0, earliest_s=0, latest_s=H, skills=frozenset({"device"})),
            ),
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"duration": np.zeros((2, 3), dtype=np.int64)}, "方阵"),
        ({"duration": -line([0, 100])}, "取值"),
        ({"duration": line([0, 100]) + 0.5}, "取整"),
        ({"duration": line([0, 100]) + 1}, "对角线"),
        ({"stops": (Stop(location=5, service_s=1),)}, "超出矩阵范围"),
        ({"shifts": (Shift(start=0, end=9, earliest_s=0, latest_s=1),)}, "超出矩阵范围"),
        ({"distance": np.zeros((3, 3), dtype=np.int64)}, "形状"),
    ],
)
def test_malformed_problems_raise(kwargs: dict[str, object], match: str) -> None:
    base: dict[str, object] = {
        "duration": line([0, 100]),
        "stops": (Stop(location=1, service_s=60),),
        "shifts": (Shift(start=0, end=0, earliest_s=0, latest_s=H),),
    }
    with pytest.raises(RoutingError, match=match):
        RoutingProblem(**{**base, **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Stop(location=1, service_s=60, earliest_s=100, latest_s=50), "时间窗"),
        (lambda: Stop(location=1, service_s=1.5), "整数"),  # type: ignore[arg-type]
        (lambda: Stop(location=-1, service_s=1), "超出范围"),
        (lambda: Stop(location=1, service_s=1, skills="device"), "字符串"),  # type: ignore[arg-type]
        (lambda: Shift(start=0, end=0, earliest_s=10, latest_s=5), "为空"),
    ],
)
def test_malformed_parts_raise(make: object, match: str) -> None:
    with pytest.raises(RoutingError, match=match):
        make()  # type: ignore[operator]


def test_unknown_solver_raises() -> None:
    with pytest.raises(RoutingError, match="未知的求解器"):
        solve_routes(far_optional(1), solver="gurobi")  # type: ignore[arg-type]


def test_distance_is_reported() -> None:
    problem = dataclasses.replace(far_optional(5000), distance=line([0, 100, 1000]) * 7)
    result = solved(problem, "pyvrp")
    assert result.distance_m == 7 * 2000
    assert "里程 14.0 公里" in result.summary()


# --- the checker can fail -------------------------------------------------


def corrupt(result: RoutingResult, shift: int, **changes: object) -> RoutingResult:
    routes = list(result.routes)
    routes[shift] = dataclasses.replace(routes[shift], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(result, routes=tuple(routes))


def test_checker_catches_corrupted_results() -> None:
    problem = random_problem(4)  # two shifts, a device stop, an optional stop
    assert len(problem.shifts) == 2
    good = solved(problem, "pyvrp")
    k = next(k for k, r in enumerate(good.routes) if len(r.visits) >= 2)
    route = good.routes[k]
    v0, v1 = route.visits[0], route.visits[1]
    late = dataclasses.replace(
        v0, arrival_s=v0.arrival_s + 1, start_s=v0.start_s + 1, departure_s=v0.departure_s + 1
    )
    req = next(j for j, v in enumerate(route.visits) if problem.stops[v.stop].required)
    cases = {
        "arrival": corrupt(good, k, visits=(late, *route.visits[1:])),
        "max(arrival, earliest)": corrupt(
            good, k, visits=(dataclasses.replace(v0, start_s=v0.start_s - 1), *route.visits[1:])
        ),
        "more than once": corrupt(good, k, visits=(*route.visits, route.visits[0])),
        "required stop": corrupt(good, k, visits=route.visits[:req] + route.visits[req + 1 :]),
        "travel": corrupt(good, k, travel_s=route.travel_s + 1),
        "> latest": corrupt(good, k, end_s=problem.shifts[k].latest_s + 1),
        "leaves": corrupt(good, k, start_s=problem.shifts[k].earliest_s - 1),
        "cost": dataclasses.replace(good, cost=good.cost - 1),
        "unvisited": dataclasses.replace(good, unvisited=(*good.unvisited, v1.stop)),
    }
    for what, bad in cases.items():
        found = check(problem, bad)
        assert any(what in msg for msg in found), (what, found)

    # Skills and capacity: move the device stop to the shift without the device.
    device = next(i for i, s in enumerate(problem.stops) if s.skills)
    owner = next(r for r in good.routes if device in r.stops).shift
    other = 1 - owner
    stops = [[i for i in r.stops if i != device] for r in good.routes]
    stops[other].append(device)
    moved = dataclasses.replace(
        good, routes=tuple(schedule(problem, k, s) for k, s in enumerate(stops))
    )
    assert any("needs ['device']" in msg for msg in check(problem, moved))
    assert any("需要技能「device」" in msg for msg in violations(problem, moved.routes))

    tight = dataclasses.replace(
        problem, shifts=tuple(dataclasses.replace(s, capacity=1) for s in problem.shifts)
    )
    assert any("capacity" in msg for msg in check(tight, good))


def test_checker_catches_a_broken_window() -> None:
    problem = RoutingProblem(
        duration=line([0, 10, 20]),
        stops=(Stop(location=2, service_s=5, latest_s=15), Stop(location=1, service_s=5)),
        shifts=(Shift(start=0, end=0, earliest_s=0, latest_s=30),),
    )
    bad = RoutingResult(
        routes=(schedule(problem, 0, [1, 0]),),
        unvisited=(),
        cost=40,
        travel_s=40,
        seconds=0.0,
        solver="pyvrp",
        is_feasible=True,
    )
    found = check(problem, bad)
    assert any("latest 15" in msg for msg in found)
    assert any("ends 50 > latest 30" in msg for msg in found)


# --- Solomon --------------------------------------------------------------


@pytest.mark.slow
def test_solomon_c101_within_one_percent() -> None:
    from bench.routing import best_known, solomon_problem

    path = SOLOMON / "C101.txt"
    problem = solomon_problem(path)
    best = best_known(path, problem)
    assert best["recomputed"] == best["cost"] == 8273  # 827.3 with DIMACS rounding
    assert best["feasible"]
    result = solved(problem, "pyvrp", seconds=2.0)
    assert result.cost <= 1.01 * best["cost"]


def test_solomon_data_is_what_pyvrps_own_reader_builds(tmp_path: Path) -> None:
    # The wrapper must not cost quality: on a Solomon instance, the PyVRP data
    # built through RoutingProblem equals pyvrp.read(..., round_func="dimacs")
    # on the same instance written as VRPLIB (names and coordinates aside, which
    # the search does not use), so the search runs exactly as on PyVRP's own.
    import pyvrp
    import vrplib

    from bench.routing import solomon_problem
    from planner.outreach.routing.solver import pyvrp_data

    path = SOLOMON / "RC201.txt"
    inst = vrplib.read_instance(path, instance_format="solomon")
    written = tmp_path / "RC201.vrp"
    vrplib.write_instance(
        written,
        {
            "NAME": "RC201",
            "TYPE": "VRPTW",
            "DIMENSION": len(inst["demand"]),
            "VEHICLES": inst["vehicles"],
            "CAPACITY": inst["capacity"],
            "EDGE_WEIGHT_TYPE": "EUC_2D",
            "NODE_COORD_SECTION": inst["node_coord"],
            "DEMAND_SECTION": inst["demand"],
            "TIME_WINDOW_SECTION": inst["time_window"],
            "SERVICE_TIME_SECTION": inst["service_time"],
            "DEPOT_SECTION": np.array([1]),
        },
    )
    theirs = pyvrp.read(written, round_func="dimacs")
    ours, stops, _ = pyvrp_data(solomon_problem(path))
    assert stops == list(range(100))
    np.testing.assert_array_equal(ours.distance_matrix(0), theirs.distance_matrix(0))
    np.testing.assert_array_equal(ours.duration_matrix(0), theirs.duration_matrix(0))
    assert ours.num_profiles == theirs.num_profiles == 1
    assert ours.clients() == theirs.clients()
    assert ours.depots() == theirs.depots()
    assert [v.replace(name="") for v in ours.vehicle_types()] == [
        v.replace(name="") for v in theirs.vehicle_types()
    ]
