"""Routing core of the village outreach: shifts visit stops (build → solve → Result).

A :class:`RoutingProblem` holds an integer travel-time matrix, the stops
(households, each with a service duration, a time window, the skills it needs
and whether it may be skipped) and the shifts (one home-visit team for one
half-day, each with its own start and end location, time window, skills and
capacity). It knows nothing of villages or teams: the caller splits a team-day
into a morning and an afternoon shift, so the lunch break at the village
service point holds by construction. The same core solves the Solomon VRPTW
instances in ``bench/routing.py``.

:func:`solve_routes` solves it with PyVRP (the product's solver) or OR-Tools
(the benchmark baseline) and returns a frozen :class:`RoutingResult`. The
schedule of every route is recomputed here from the matrix by
:func:`schedule`, and :func:`violations` checks it; ``is_feasible`` comes from
that check, not from the solver's own flag.

Times are integer seconds (since midnight, or since time 0 for Solomon); the
objective is travel seconds plus the prizes of the optional stops skipped.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from planner.errors import RoutingError

__all__ = [
    "SOLVERS",
    "Route",
    "RoutingError",
    "RoutingProblem",
    "RoutingResult",
    "Shift",
    "Solver",
    "Stop",
    "Visit",
    "schedule",
    "solve_routes",
    "violations",
]

Solver = Literal["pyvrp", "ortools"]
SOLVERS: tuple[Solver, ...] = ("pyvrp", "ortools")

MAX_TIME = 2**31
"""Largest time, duration, prize, demand or capacity accepted (68 years of seconds).

Far below PyVRP's limit of 2**44, so that penalised costs of routes through
forbidden edges cannot overflow 64-bit integers."""

NO_LATEST = 10**9
"""Default latest start of a stop: no time window."""


def _as_int(value: object, what: str, *, low: int = 0, high: int = MAX_TIME) -> int:
    """``value`` as a Python int in ``[low, high]``, or :class:`RoutingError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise RoutingError(f"{what} 必须是整数（秒），实际为 {value!r}；请先取整")
    out = int(value)
    if not low <= out <= high:
        raise RoutingError(f"{what} = {out} 超出范围 [{low}, {high}]")
    return out


def _as_skills(value: object, what: str) -> frozenset[str]:
    if isinstance(value, str):
        raise RoutingError(f"{what} 必须是技能名称的集合，而不是字符串 {value!r}")
    if not isinstance(value, Iterable):
        raise RoutingError(f"{what} 必须是技能名称的集合，实际为 {value!r}")
    skills = frozenset(value)
    if not all(isinstance(s, str) and s for s in skills):
        raise RoutingError(f"{what} 中的技能名称必须是非空字符串：{sorted(map(repr, skills))}")
    return skills


@dataclass(frozen=True)
class Stop:
    """A place to visit (a household; a Solomon customer).

    Parameters
    ----------
    location
        Row/column of the stop in the problem's matrices.
    service_s
        Time spent at the stop, seconds.
    earliest_s, latest_s
        Time window of the start of service, seconds (since midnight, or since
        time 0). A team arriving before ``earliest_s`` waits.
    skills
        Skills the visiting shift must all have (e.g. ``{"device"}``).
    required
        ``False``: the stop may be skipped, at a cost of ``prize``.
    prize
        Objective units (seconds of travel) lost when an optional stop is
        skipped; ignored for required stops.
    demand
        Load taken by the visit, in the shifts' capacity units.
    """

    location: int
    service_s: int
    earliest_s: int = 0
    latest_s: int = NO_LATEST
    skills: frozenset[str] = frozenset()
    required: bool = True
    prize: int = 0
    demand: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", _as_int(self.location, "走访点的位置编号"))
        object.__setattr__(self, "service_s", _as_int(self.service_s, "走访点的服务时长"))
        object.__setattr__(self, "earliest_s", _as_int(self.earliest_s, "走访点的最早开始时间"))
        object.__setattr__(self, "latest_s", _as_int(self.latest_s, "走访点的最晚开始时间"))
        object.__setattr__(self, "skills", _as_skills(self.skills, "走访点所需技能"))
        object.__setattr__(self, "required", bool(self.required))
        object.__setattr__(self, "prize", _as_int(self.prize, "可选走访点的奖励"))
        object.__setattr__(self, "demand", _as_int(self.demand, "走访点的需求量"))
        if self.latest_s < self.earliest_s:
            raise RoutingError(
                f"走访点（位置 {self.location}）的时间窗 [{self.earliest_s}, {self.latest_s}] 秒"
                "为空：最晚开始时间早于最早开始时间"
            )


@dataclass(frozen=True)
class Shift:
    """A vehicle: one team for one half-day (or one Solomon vehicle).

    Parameters
    ----------
    start, end
        Locations (matrix rows) where the shift starts and ends.
    earliest_s, latest_s
        The shift leaves ``start`` at or after ``earliest_s`` and reaches
        ``end`` at or before ``latest_s``, seconds.
    skills
        Skills of the team on this shift.
    capacity
        Largest total ``demand`` of the stops it visits.
    label
        Shown in summaries (e.g. ``"第1天 上午 一组"``).
    """

    start: int
    end: int
    earliest_s: int
    latest_s: int
    skills: frozenset[str] = frozenset()
    capacity: int = 10**9
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _as_int(self.start, "班次的出发位置编号"))
        object.__setattr__(self, "end", _as_int(self.end, "班次的结束位置编号"))
        object.__setattr__(self, "earliest_s", _as_int(self.earliest_s, "班次的最早出发时间"))
        object.__setattr__(self, "latest_s", _as_int(self.latest_s, "班次的最晚结束时间"))
        object.__setattr__(self, "skills", _as_skills(self.skills, "班次的技能"))
        object.__setattr__(self, "capacity", _as_int(self.capacity, "班次的容量"))
        if self.latest_s < self.earliest_s:
            raise RoutingError(
                f"班次「{self.label}」的时间 [{self.earliest_s}, {self.latest_s}] 秒为空："
                "最晚结束时间早于最早出发时间"
            )


def _matrix(values: object, name: str) -> NDArray[np.int64]:
    arr = np.asarray(values)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise RoutingError(f"{name} 必须是方阵 (L, L)，实际形状为 {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or (arr != np.round(arr)).any():
            raise RoutingError(f"{name} 必须是有限的整数秒；请先取整（例如 np.rint）")
    elif arr.dtype.kind not in "iu":
        raise RoutingError(f"{name} 必须是整数矩阵，实际类型为 {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > MAX_TIME):
        raise RoutingError(f"{name} 的取值必须在 [0, {MAX_TIME}] 之间")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class RoutingProblem:
    """Stops to visit with shifts, on an integer travel-time matrix.

    Parameters
    ----------
    duration
        Travel seconds between locations, shape ``(L, L)``, integer, zero
        diagonal; the objective. Not necessarily symmetric.
    stops
        The stops; a stop's index in this tuple is its id in results.
    shifts
        The shifts; a shift's index is its id in results.
    distance
        Optional metres between locations, shape ``(L, L)``; reported only.

    Raises
    ------
    RoutingError
        On a malformed matrix or index, or when a required stop needs a skill
        (or combination of skills) that no shift has.
    """

    duration: NDArray[np.int64]
    stops: tuple[Stop, ...]
    shifts: tuple[Shift, ...]
    distance: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        duration = _matrix(self.duration, "行程时间矩阵 duration")
        object.__setattr__(self, "duration", duration)
        if np.diagonal(duration).any():
            raise RoutingError("行程时间矩阵 duration 的对角线必须为 0（原地不需要行程时间）")
        if self.distance is not None:
            distance = _matrix(self.distance, "距离矩阵 distance")
            if distance.shape != duration.shape:
                raise RoutingError(
                    f"距离矩阵的形状 {distance.shape} 与行程时间矩阵的形状 {duration.shape} 不一致"
                )
            object.__setattr__(self, "distance", distance)
        object.__setattr__(self, "stops", tuple(self.stops))
        object.__setattr__(self, "shifts", tuple(self.shifts))
        n_loc = duration.shape[0]
        for i, stop in enumerate(self.stops):
            if not isinstance(stop, Stop):
                raise RoutingError(f"第 {i} 个走访点不是 Stop 对象：{stop!r}")
            if stop.location >= n_loc:
                raise RoutingError(
                    f"第 {i} 个走访点的位置编号 {stop.location} 超出矩阵范围（共 {n_loc} 个位置）"
                )
        for k, shift in enumerate(self.shifts):
            if not isinstance(shift, Shift):
                raise RoutingError(f"第 {k} 个班次不是 Shift 对象：{shift!r}")
            for loc in (shift.start, shift.end):
                if loc >= n_loc:
                    raise RoutingError(
                        f"班次「{shift.label or k}」的位置编号 {loc} 超出矩阵范围"
                        f"（共 {n_loc} 个位置）"
                    )
        all_skills = frozenset().union(*(s.skills for s in self.shifts))
        for i, stop in enumerate(self.stops):
            if not stop.required or self.eligible_shifts(i):
                continue
            missing = sorted(stop.skills - all_skills)
            if not self.shifts:
                why = "没有任何班次"
            elif missing:
                why = f"需要技能「{'、'.join(missing)}」，但没有任何班次具备"
            else:
                both = "、".join(sorted(stop.skills))
                why = f"需要同时具备技能「{both}」，但没有一个班次全部具备"
            raise RoutingError(
                f"第 {i} 个走访点（位置 {stop.location}）{why}；"
                "请给某个班次加上所需技能，或把该点设为可选（required=False）"
            )

    def eligible_shifts(self, stop: int) -> tuple[int, ...]:
        """Shifts whose skills include all the skills of stop ``stop``."""
        need = self.stops[stop].skills
        return tuple(k for k, sh in enumerate(self.shifts) if need <= sh.skills)

    @property
    def has_demand(self) -> bool:
        """Whether any stop has a positive demand (capacity then matters)."""
        return any(s.demand for s in self.stops)


@dataclass(frozen=True)
class Visit:
    """One stop on a route; times in seconds.

    Parameters
    ----------
    stop
        Index of the stop in :attr:`RoutingProblem.stops`.
    arrival_s
        Arrival at the stop.
    start_s
        Start of service, ``max(arrival_s, stop.earliest_s)``.
    departure_s
        ``start_s + stop.service_s``.
    """

    stop: int
    arrival_s: int
    start_s: int
    departure_s: int

    @property
    def waiting_s(self) -> int:
        """Seconds waited before the time window opens."""
        return self.start_s - self.arrival_s


@dataclass(frozen=True)
class Route:
    """The visits of one shift, in order; times in seconds.

    Parameters
    ----------
    shift
        Index of the shift in :attr:`RoutingProblem.shifts`.
    visits
        The visits in order; empty when the shift is not used.
    travel_s
        Travel seconds from the start through the visits to the end (0 when
        empty).
    end_s
        Arrival at the shift's end location (``start_s`` when empty).
    start_s
        Departure from the shift's start location: the latest departure that
        keeps the earliest possible ``end_s`` (the team does not wait longer
        than it has to).
    distance_m
        Metres travelled, when the problem has a distance matrix.
    """

    shift: int
    visits: tuple[Visit, ...]
    travel_s: int
    end_s: int
    start_s: int
    distance_m: int | None = None

    @property
    def stops(self) -> tuple[int, ...]:
        """Stop indices in visiting order."""
        return tuple(v.stop for v in self.visits)

    @property
    def duration_s(self) -> int:
        """Seconds from departure to arrival at the end."""
        return self.end_s - self.start_s


@dataclass(frozen=True)
class RoutingResult:
    """A solved :class:`RoutingProblem`.

    Parameters
    ----------
    routes
        One route per shift, in shift order (empty routes for unused shifts).
    unvisited
        Stops on no route, ascending. In a feasible result these are optional.
    cost
        Objective: ``travel_s`` plus the prizes of the optional stops skipped.
    travel_s
        Total travel seconds.
    seconds
        Wall-clock seconds of the solve, building included.
    solver
        ``"pyvrp"`` or ``"ortools"``.
    is_feasible
        Whether the recomputed schedule meets every rule (see
        :func:`violations`).
    violations
        What breaks the rules, in Chinese; empty when feasible.
    distance_m
        Total metres, when the problem has a distance matrix.
    """

    routes: tuple[Route, ...]
    unvisited: tuple[int, ...]
    cost: int
    travel_s: int
    seconds: float
    solver: Solver
    is_feasible: bool
    violations: tuple[str, ...] = ()
    distance_m: int | None = None

    @property
    def num_routes(self) -> int:
        """Shifts that visit at least one stop."""
        return sum(1 for r in self.routes if r.visits)

    def summary(self) -> str:
        """A few lines in Chinese for the command line."""
        visited = sum(len(r.visits) for r in self.routes)
        lines = [
            f"出动 {self.num_routes} 个班次，走访 {visited} 户，未走访 {len(self.unvisited)} 户；"
            f"行程 {self.travel_s / 60:,.1f} 分钟，目标值 {self.cost:,}"
            + (f"，里程 {self.distance_m / 1000:,.1f} 公里" if self.distance_m is not None else "")
            + f"（{self.solver}，{self.seconds:.1f} 秒）",
            "可行" if self.is_feasible else f"不可行：{'；'.join(self.violations[:3])}",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------
# Schedules and rules (shared by both solvers and by the benchmark)


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


def _result(
    problem: RoutingProblem,
    orders: Sequence[Sequence[int]],
    *,
    solver: Solver,
    started: float,
) -> RoutingResult:
    """Schedule the stop orders (one per shift) and check them."""
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


# --------------------------------------------------------------------------
# Solvers


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
        ``"pyvrp"`` (the product's solver: iterated local search, one thread)
        or ``"ortools"`` (the benchmark baseline: parallel cheapest insertion
        and guided local search).
    seconds
        Wall-clock limit of the search, seconds (building excluded).
    seed
        Random seed (PyVRP only). With PyVRP the same problem and seed give
        the same result whenever the best solution is found before the time
        limit in both runs; a run cut short by a busy machine can differ.

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
    if not seconds >= 0:
        raise RoutingError(f"求解时间 seconds 必须是非负数，实际为 {seconds!r}")
    started = time.perf_counter()
    if not any(problem.eligible_shifts(i) for i in range(len(problem.stops))):
        orders: list[list[int]] = [[] for _ in problem.shifts]
    elif solver == "pyvrp":
        orders = _solve_pyvrp(problem, seconds=seconds, seed=seed)
    else:
        orders = _in_child_process(problem, seconds=seconds)
    return _result(problem, orders, solver=solver, started=started)


def _in_child_process(problem: RoutingProblem, *, seconds: float) -> list[list[int]]:
    """OR-Tools in a fresh process: its bundled HiGHS clashes with highspy's
    (``undefined symbol`` on import, either order), and siting loads highspy."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_solve_ortools, (problem,), {"seconds": seconds})


def _servable(problem: RoutingProblem) -> tuple[list[int], list[tuple[int, ...]]]:
    """Stops some shift can serve, and the shifts allowed at each of them."""
    stops, allowed = [], []
    for i in range(len(problem.stops)):
        shifts = problem.eligible_shifts(i)
        if shifts:
            stops.append(i)
            allowed.append(shifts)
    return stops, allowed


def _solve_pyvrp(problem: RoutingProblem, *, seconds: float, seed: int) -> list[list[int]]:
    """Stop orders per shift from PyVRP's iterated local search."""
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning
    from pyvrp.stop import MaxRuntime

    data, stops, type_shifts = _pyvrp_data(problem)
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


def _pyvrp_data(problem: RoutingProblem) -> tuple[Any, list[int], list[list[int]]]:
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

    stops, allowed = _servable(problem)
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


def _solve_ortools(problem: RoutingProblem, *, seconds: float) -> list[list[int]]:
    """Stop orders per shift from OR-Tools (insertion + guided local search).

    Nodes are the servable stops, then one node per start/end location;
    the time dimension carries travel plus the service at the tail node, its
    slack is waiting; skipped optional stops cost their prize (disjunctions).
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    stops, allowed = _servable(problem)
    n = len(stops)
    depot_locs = sorted({loc for sh in problem.shifts for loc in (sh.start, sh.end)})
    node_of_depot = {loc: n + k for k, loc in enumerate(depot_locs)}
    locs = [problem.stops[i].location for i in stops] + depot_locs
    travel = problem.duration[np.ix_(locs, locs)]
    service = np.array([problem.stops[i].service_s for i in stops] + [0] * len(depot_locs))
    n_veh = len(problem.shifts)
    manager = pywrapcp.RoutingIndexManager(
        len(locs),
        n_veh,
        [node_of_depot[sh.start] for sh in problem.shifts],
        [node_of_depot[sh.end] for sh in problem.shifts],
    )
    model = pywrapcp.RoutingModel(manager)
    # Transit matrices are indexed by node; callbacks in C++, not Python.
    cost_cb = model.RegisterTransitMatrix(travel.tolist())
    time_cb = model.RegisterTransitMatrix((travel + service[:, None]).tolist())
    model.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    horizon = max(
        [sh.latest_s for sh in problem.shifts] + [problem.stops[i].latest_s for i in stops]
    )
    horizon += int(service.max(initial=0))
    model.AddDimension(time_cb, horizon, horizon, False, "time")
    clock = model.GetDimensionOrDie("time")
    for j, i in enumerate(stops):
        s = problem.stops[i]
        index = manager.NodeToIndex(j)
        clock.CumulVar(index).SetRange(s.earliest_s, s.latest_s)
        if len(allowed[j]) < n_veh:
            # What SetAllowedVehiclesForIndex does; its binding in OR-Tools 9.15
            # rejects every Python sequence (no absl::Span typemap).
            model.VehicleVar(index).RemoveValues(sorted(set(range(n_veh)) - set(allowed[j])))
        if not s.required:
            model.AddDisjunction([index], s.prize)
    for v, sh in enumerate(problem.shifts):
        clock.CumulVar(model.Start(v)).SetRange(sh.earliest_s, sh.latest_s)
        clock.CumulVar(model.End(v)).SetRange(sh.earliest_s, sh.latest_s)
    if problem.has_demand:
        demand_cb = model.RegisterUnaryTransitVector(
            [problem.stops[i].demand for i in stops] + [0] * len(depot_locs)
        )
        model.AddDimensionWithVehicleCapacity(
            demand_cb, 0, [sh.capacity for sh in problem.shifts], True, "load"
        )

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, round(seconds * 1000)))
    solution = model.SolveWithParameters(params)

    orders: list[list[int]] = [[] for _ in problem.shifts]
    if solution is None:
        return orders
    for v in range(n_veh):
        index = solution.Value(model.NextVar(model.Start(v)))
        while not model.IsEnd(index):
            orders[v].append(stops[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
    return orders
