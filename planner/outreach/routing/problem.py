"""The routing problem and its result: shifts visit stops on a travel-time matrix.

A :class:`RoutingProblem` holds an integer travel-time matrix, the stops
(households, each with a service duration, a time window, the skills it needs
and whether it may be skipped) and the shifts (one home-visit team for one
half-day, each with its own start and end location, time window, skills and
capacity). It knows nothing of villages or teams: the caller splits a team-day
into a morning and an afternoon shift, so the lunch break at the village
service point holds by construction. The same types carry the Solomon VRPTW
instances of ``bench/routing.py``.

A solved problem is a frozen :class:`RoutingResult` (routes of timed
:class:`Visit` s). Times are integer seconds (since midnight, or since time 0
for Solomon); the objective is travel seconds plus the prizes of the optional
stops skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from planner.errors import RoutingError
from planner.units import METRES_PER_KM, SECONDS_PER_MINUTE

__all__ = [
    "MAX_TIME",
    "NO_LATEST",
    "Route",
    "RoutingError",
    "RoutingProblem",
    "RoutingResult",
    "Shift",
    "Stop",
    "Visit",
    "servable_stops",
]

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
    label
        Names the stop in checks and summaries (the outreach sets the visit:
        ``R<resident id>:<service>+…`` or ``L<lead id>:…``).
    """

    location: int
    service_s: int
    earliest_s: int = 0
    latest_s: int = NO_LATEST
    skills: frozenset[str] = frozenset()
    required: bool = True
    prize: int = 0
    demand: int = 0
    label: str = ""

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
        The back end that found the routes (``"pyvrp"``, the product's; the
        benchmark's baseline ``"ortools"``).
    is_feasible
        Whether the recomputed schedule meets every rule (see
        :func:`~planner.outreach.routing.schedule.violations`).
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
    solver: str
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
            f"行程 {self.travel_s / SECONDS_PER_MINUTE:,.1f} 分钟，目标值 {self.cost:,}"
            + (
                f"，里程 {self.distance_m / METRES_PER_KM:,.1f} 公里"
                if self.distance_m is not None
                else ""
            )
            + f"（{self.solver}，{self.seconds:.1f} 秒）",
            "可行" if self.is_feasible else f"不可行：{'；'.join(self.violations[:3])}",
        ]
        return "\n".join(lines)


def servable_stops(problem: RoutingProblem) -> tuple[list[int], list[tuple[int, ...]]]:
    """Stops some shift can serve, and the shifts allowed at each of them."""
    stops, allowed = [], []
    for i in range(len(problem.stops)):
        shifts = problem.eligible_shifts(i)
        if shifts:
            stops.append(i)
            allowed.append(shifts)
    return stops, allowed
