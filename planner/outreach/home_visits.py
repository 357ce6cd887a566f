"""The teams' home visits of the month: households on the network, routed day by day.

:func:`locate_households` snaps the households to the drive network (an
unroutable one gets its reason) and builds the travel-time matrix (location 0
the office or the service point, 1 the service point, households from 2 on);
:func:`servable` drops visits no team has the skills for; :func:`route_days`
solves one routing problem per outreach day — each team a morning shift ending
at the service point and an afternoon shift starting there — puts the visits
the solver skipped into any route that still has room for them, and carries who
is left to the next day; :func:`unplanned` gives each visit left its reason and
:func:`mark_other_visits` tells each visit of a split household about the
others. The households arrive as visits (:func:`planner.outreach.skills.split_visits`):
one per household, or one per team for a household no single team can serve.
Used by :func:`planner.outreach.month.plan_month`. The planning state
(:class:`HomeVisits`) and the labels of visits, persons and teams live in
:mod:`planner.outreach.visit_state`.

Reason codes (:data:`planner.outreach.plan.REASON_CODES`), in the order they are
decided: ``not_located`` and ``off_network`` (no point, or too far from the
road network), ``no_team_skill`` (no team has the skills of the visit),
``too_far`` (even alone, the visit does not fit in any half-day shift of a
team able to make it), ``shift_full`` (it would fit alone, but no such shift
of any outreach day had the time left once the routes were made).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import NetworkError
from geo.graph import RoadNetwork
from geo.traveltime import od_matrix
from geo.traveltime import route as fastest_route
from planner.coverage.offnetwork import PointSnap, resident_entries, snap_to_network
from planner.domain.visits import visit_key
from planner.outreach.hops import ESTIMATED, HOUSEHOLD, travel_seconds, village_hop_minutes
from planner.outreach.plan import (
    REASON_CODES,
    Lunch,
    OtherVisit,
    PlannedStop,
    TeamDay,
    TeamPlan,
    Unplanned,
)
from planner.outreach.routing import (
    RoutingProblem,
    RoutingResult,
    Shift,
    Stop,
    insert_skipped,
    solve_routes,
)
from planner.outreach.skills import skill_names, team_skills
from planner.outreach.visit_state import (
    FIRST_HOUSEHOLD,
    OFFICE,
    SERVICE_POINT,
    HomeVisits,
    _clock,
    _hhmm,
    _labels,
    _team_names,
    _who,
    visit_label,
)
from planner.units import METRES_PER_KM, SECONDS_PER_MINUTE

__all__ = [
    "OFFICE",
    "SERVICE_POINT",
    "HomeVisits",
    "ProgressFn",
    "leg_km",
    "locate_households",
    "mark_other_visits",
    "route_days",
    "servable",
    "unplanned",
    "visit_label",
]

PRIZE_PER_PRIORITY_S = 4 * 3600  # a visit is worth up to 4 h of driving per priority point
UNREACHABLE_S = 24 * 3600  # travel seconds between points the network does not join

ProgressFn = Callable[[str, float | None], None]
"""Progress callback: a Chinese message and the share done (0–1) or None."""


def _duration_matrix(network: RoadNetwork, nodes: np.ndarray) -> np.ndarray:
    """Whole travel seconds between the network nodes (each distinct node routed once)."""
    uniq, inv = np.unique(nodes, return_inverse=True)
    od = od_matrix(network, uniq, uniq)
    secs = np.full((len(uniq), len(uniq)), np.inf)
    secs[od.rows, od.cols] = od.seconds
    np.fill_diagonal(secs, 0.0)
    if not np.isfinite(secs).all():
        secs[~np.isfinite(secs)] = UNREACHABLE_S  # never feasible in a day
    return np.ceil(secs[np.ix_(inv, inv)]).astype(np.int64)


def _unroutable(snap: PointSnap, i: int) -> str | None:
    """Why household ``i`` cannot be routed (None: it can)."""
    if not snap.located[i]:
        return "没有住户点位，所在村社也没有点位或边界，无法安排路线"
    if snap.off_network[i]:
        return f"距路网过远（{float(snap.distance_m[i]):.0f} 米），无法安排路线"
    return None


def locate_households(
    m: HomeVisits,
    network: RoadNetwork,
    home: pd.DataFrame,
    *,
    villages: Sequence[str],
    max_m: float,
) -> list[dict[str, Any]]:
    """Snap the households, note the unroutable ones, build the travel-time matrix.

    Returns the ``off_network`` entries of the households off the network.
    """
    snap = snap_to_network(
        network, home["lon"].to_numpy(float), home["lat"].to_numpy(float), max_m=max_m
    )
    for i in range(len(m.hh)):
        why = _unroutable(snap, i)
        if why:
            m.skip_reason[i] = why
            m.skip_code[i] = "off_network" if snap.located[i] else "not_located"
    off = snap.off_network & (home["part"].to_numpy() <= 1 if "part" in home else True)
    entries = resident_entries(
        home["village_code"].to_numpy()[off],
        snap.distance_m[off],
        village_names={str(c): str(m.vf.at[c, "name"]) for c in villages},
        mode=network.mode,
    )
    # locations: 0 office, 1 service point, then households (an unroutable one
    # stands at the service point in the matrix; it is never a stop)
    ends = network.snap(
        np.array([m.base.lon, m.sp.lon], dtype=float),
        np.array([m.base.lat, m.sp.lat], dtype=float),
    ).node
    nodes = np.concatenate([ends, np.where(snap.usable, snap.node, ends[SERVICE_POINT])])
    m.duration = _with_hops(m, _duration_matrix(network, nodes), villages=villages)
    m.network, m.nodes = network, nodes.astype(np.int64)
    return entries


def _with_hops(m: HomeVisits, network_s: np.ndarray, *, villages: Sequence[str]) -> np.ndarray:
    """The routing matrix with the hop rule of :mod:`planner.outreach.hops`."""
    hops = m.config.outreach.hops
    codes = [str(r["village_code"]) for r in m.hh]
    minutes = village_hop_minutes(m.vf, [*villages, *codes], hops=hops)
    return travel_seconds(
        network_s,
        first_household=FIRST_HOUSEHOLD,
        estimated=[r.get("point_source") == ESTIMATED for r in m.hh],
        villages=codes,
        addresses=[str(r.get("address_key") or r["key"]) for r in m.hh],
        hop_s={c: math.ceil(x * SECONDS_PER_MINUTE) for c, x in minutes.items()},
        min_s=math.ceil(hops.min_minutes * SECONDS_PER_MINUTE),
    )


def servable(m: HomeVisits) -> list[int]:
    """Visits some team has the skills for (and routable); notes the others."""
    teams = team_skills(m.config)
    out = []
    for i, r in enumerate(m.hh):
        if i in m.skip_reason:
            continue
        if any(r["skills"] <= have for have in teams.values()):
            out.append(i)
            continue
        m.skip_reason[i] = _no_skill(m, r, held=frozenset().union(*teams.values()))
        m.skip_code[i] = "no_team_skill"
    return out


def _no_skill(m: HomeVisits, r: dict[str, Any], *, held: frozenset[str]) -> str:
    """Why no team can make visit ``r``, with the setting that fixes it."""
    oc = m.config.outreach
    missing = r["skills"] - held
    if missing:
        lacking = [s for s in r["services"] if oc.services[s].skill in missing]
        keys = "、".join(f'"{k}"' for k in sorted(missing))
        return (
            f"没有具备{skill_names(missing, config=m.config)}技能的入户服务队，"
            f"无法入户提供{'、'.join(_labels(m, lacking))}；"
            f"请在配置 [outreach.teams.*] 的 skills 中为一个服务队加上 {keys}"
        )
    return (
        f"没有一个入户服务队同时具备{skill_names(r['skills'], config=m.config)}技能，"
        '且 [outreach] split_skills = "never" 不拆分入户；改为 "when_needed" 即由各队分别入户，'
        "或为一个服务队配齐这些技能"
    )


def _day_problem(m: HomeVisits, remaining: list[int]) -> tuple[RoutingProblem, list[str]]:
    """One outreach day's routing problem, and the team of each shift."""
    oc = m.config.outreach
    stops = tuple(
        Stop(
            location=FIRST_HOUSEHOLD + i,
            service_s=round(float(m.hh[i]["minutes"]) * SECONDS_PER_MINUTE),
            skills=m.hh[i]["skills"],
            required=False,
            prize=int(PRIZE_PER_PRIORITY_S * m.hh[i]["priority"]),
            label=visit_label(m.hh[i]["key"], m.hh[i]["services"]),
        )
        for i in remaining
    )
    shifts = []
    shift_team = []
    for key, tm in oc.teams.items():
        skills = frozenset(tm.skills)
        shifts.append(
            Shift(
                start=m.begin,
                end=SERVICE_POINT,
                earliest_s=_clock(oc.shift_start),
                latest_s=_clock(oc.lunch_start),
                skills=skills,
                label=f"{key} 上午",
            )
        )
        shifts.append(
            Shift(
                start=SERVICE_POINT,
                end=m.begin,
                earliest_s=_clock(oc.lunch_end),
                latest_s=_clock(oc.shift_end),
                skills=skills,
                label=f"{key} 下午",
            )
        )
        shift_team += [key, key]
    return RoutingProblem(duration=m.duration, stops=stops, shifts=tuple(shifts)), shift_team


@dataclass
class _DayDraft:
    """A team-day while its routes come in (morning, then afternoon).

    ``to_lunch`` / ``to_end``: (minutes, km) of the leg into the service point
    at lunch and of the leg home.
    """

    day: date
    stops: list[PlannedStop] = field(default_factory=list)
    to_lunch: tuple[float, float] = (0.0, 0.0)
    to_end: tuple[float, float] = (0.0, 0.0)


def leg_km(m: HomeVisits, a: int, b: int) -> float:
    """Kilometres of the fastest drive from location ``a`` to ``b`` (0.01 km).

    Along the network path the travel times come from (metres of its edges);
    0 without a network or when the network does not join the two.
    """
    if a == b or m.network is None or max(a, b) >= len(m.nodes):
        return 0.0
    key = (int(m.nodes[a]), int(m.nodes[b]))
    if key not in m.leg_m:
        try:
            m.leg_m[key] = fastest_route(m.network, *key).metres
        except NetworkError:
            m.leg_m[key] = 0.0
    return round(m.leg_m[key] / METRES_PER_KM, 2)


def _leg(m: HomeVisits, a: int, b: int) -> tuple[float, float]:
    """(minutes, km) of the drive from location ``a`` to ``b``."""
    return round(int(m.duration[a, b]) / SECONDS_PER_MINUTE, 1), leg_km(m, a, b)


def route_days(
    m: HomeVisits,
    days: Sequence[date],
    servable: list[int],
    *,
    seconds: float | None,
    seed: int | None,
    progress: ProgressFn | None,
) -> tuple[tuple[TeamPlan, ...], tuple[tuple[RoutingProblem, RoutingResult], ...], list[int]]:
    """Route the outreach days one after the other; who is left goes to the next day.

    Returns the teams with their days, the routing of each day, and the
    households no day could take.
    """
    oc = m.config.outreach
    remaining = list(servable)
    routing: list[tuple[RoutingProblem, RoutingResult]] = []
    drafts: dict[str, list[_DayDraft]] = {k: [] for k in oc.teams}
    for n, day in enumerate(days):
        if progress is not None:
            progress(f"求解入户路线：{day.isoformat()}（第 {n + 1}/{len(days)} 天）", n / len(days))
        problem, shift_team = _day_problem(m, remaining)
        result = solve_routes(
            problem,
            solver="pyvrp",
            seconds=seconds or oc.solver_seconds,
            seed=oc.seed if seed is None else seed,
        )
        result = insert_skipped(problem, result)  # "shift full" then holds for who is left
        routing.append((problem, result))
        visited = set()
        for route in result.routes:
            key = shift_team[route.shift]
            draft = next((d for d in drafts[key] if d.day == day), None)
            if draft is None:
                draft = _DayDraft(day=day)
                drafts[key].append(draft)
            shift = problem.shifts[route.shift]
            prev = shift.start
            for v in route.visits:
                i = remaining[v.stop]
                visited.add(i)
                loc = problem.stops[v.stop].location
                visit = (v.arrival_s, v.start_s, v.departure_s)
                m.placed[i] = (key, day, _hhmm(v.arrival_s))
                travel_s = int(m.duration[prev, loc])
                stop = _stop(m, i, day=day, team=key, visit=visit, travel_s=travel_s)
                draft.stops.append(dataclasses.replace(stop, travel_km=leg_km(m, prev, loc)))
                prev = loc
            # the drive to the shift's end counts even when the shift has no stop
            if shift.latest_s == _clock(oc.lunch_start):
                draft.to_lunch = _leg(m, prev, shift.end)
            else:
                draft.to_end = _leg(m, prev, shift.end)
        remaining = [i for i in remaining if i not in visited]
    if progress is not None and days:
        progress("入户路线求解完成", 1.0)
    teams = tuple(
        TeamPlan(
            team=key,
            label=tm.label,
            skills=tuple(tm.skills),
            skill_labels=tuple(tm.skill_labels),
            days=tuple(_team_day(m, d) for d in drafts[key]),
        )
        for key, tm in oc.teams.items()
    )
    return teams, tuple(routing), remaining


def _team_day(m: HomeVisits, draft: _DayDraft) -> TeamDay:
    """The finished day: stops by arrival, numbered from 1; the day's drive is the
    sum of its legs (to each stop, to lunch, home), empty shifts included."""
    oc = m.config.outreach
    ordered = sorted(draft.stops, key=lambda s: s.arrival)
    start = m.base if m.begin == OFFICE else m.sp
    (lunch_min, lunch_km), (end_min, end_km) = draft.to_lunch, draft.to_end
    return TeamDay(
        date=draft.day,
        start=start,
        end=start,
        lunch=Lunch(start=oc.lunch_start, end=oc.lunch_end, place=m.sp.name),
        stops=tuple(dataclasses.replace(s, order=n) for n, s in enumerate(ordered, start=1)),
        travel_min=round(sum(s.travel_min for s in ordered) + lunch_min + end_min, 1),
        distance_km=round(sum(s.travel_km or 0.0 for s in ordered) + lunch_km + end_km, 2),
        to_lunch_min=lunch_min,
        to_lunch_km=lunch_km,
        to_end_min=end_min,
        to_end_km=end_km,
    )


def _stop(
    m: HomeVisits, i: int, *, day: date, team: str, visit: tuple[int, int, int], travel_s: int
) -> PlannedStop:
    """Household ``i`` on ``team``'s route of ``day`` (``order`` set when the day is done)."""
    r = m.hh[i]
    who = _who(m, r)
    arrival, start, departure = visit
    return PlannedStop(
        order=0,
        visit_key=visit_key(
            resident_id=who.resident_id, lead_id=who.lead_id, visited_on=day, team=team
        ),
        person=who,
        village_code=r["village_code"],
        lon=round(float(r["lon"]), 6),
        lat=round(float(r["lat"]), 6),
        services=tuple(r["services"]),
        service_labels=_labels(m, r["services"]),
        arrival=_hhmm(arrival),
        start=_hhmm(start),
        departure=_hhmm(departure),
        travel_min=round(travel_s / SECONDS_PER_MINUTE, 1),
        service_min=round((departure - start) / SECONDS_PER_MINUTE, 1),
        point_source=str(r.get("point_source") or HOUSEHOLD),
    )


def unplanned(m: HomeVisits, remaining: Sequence[int]) -> tuple[Unplanned, ...]:
    """Visits left for next month, with the reason and its code, in visit order.

    ``remaining``: those routable that no outreach day could take: ``too_far``
    when even alone it fits in no half-day shift of a team able to make it,
    else ``shift_full`` (:func:`route_days` has put every skipped visit that
    fitted somewhere into a route).
    """
    problem = _day_problem(m, list(remaining))[0] if remaining else None
    for n, i in enumerate(remaining):
        alone = None if problem is None else _alone_minutes(m, problem, n)
        if alone is not None:
            m.skip_code[i] = "too_far"
            m.skip_reason[i] = (
                f"车程过远：即使单独走访，往返车程加服务也需 {alone[0]:.0f} 分钟，"
                f"超过能做此项入户的半天班次（最长 {alone[1]:.0f} 分钟）；请核对住户点位，"
                "或调整 [outreach] shift_start、lunch_start、lunch_end、shift_end"
            )
        else:
            m.skip_code[i] = "shift_full"
            m.skip_reason[i] = (
                f"本月时间排满（优先级 {m.hh[i]['priority']:g}），顺延下月："
                f"能做此项入户的{_team_names(m, m.hh[i]['skills'])}本月各入村日的班次"
                "都已没有空余时间（可增加 [outreach] days）"
            )
    return tuple(_unplanned(m, i) for i in sorted(m.skip_reason))


def _alone_minutes(m: HomeVisits, problem: RoutingProblem, n: int) -> tuple[float, float] | None:
    """For stop ``n`` of ``problem`` when no shift able to make it could take it even
    alone: the least minutes it needs in one (travel there and on, service) and the
    longest such shift; None when one could."""
    stop = problem.stops[n]
    d = m.duration
    need, longest = None, 0
    for sh in problem.shifts:
        if not stop.skills <= sh.skills:
            continue
        alone = int(d[sh.start, stop.location]) + stop.service_s + int(d[stop.location, sh.end])
        if alone <= sh.latest_s - sh.earliest_s:
            return None
        need = alone if need is None else min(need, alone)
        longest = max(longest, sh.latest_s - sh.earliest_s)
    if need is None:
        return None
    return need / SECONDS_PER_MINUTE, longest / SECONDS_PER_MINUTE


def _parts(m: HomeVisits, i: int) -> list[int]:
    """The visits of visit ``i``'s household (itself included), in part order."""
    r = m.hh[i]
    if int(r.get("parts", 1) or 1) < 2:
        return [i]
    return [j for j, o in enumerate(m.hh) if o["key"] == r["key"]]


def _other(m: HomeVisits, j: int) -> OtherVisit:
    """Visit ``j`` as seen from another visit of its household."""
    r = m.hh[j]
    teams = m.config.outreach.teams
    if j in m.placed:
        team, day, arrival = m.placed[j]
        return OtherVisit(
            team=team,
            team_label=teams[team].label or team,
            services=tuple(r["services"]),
            service_labels=_labels(m, r["services"]),
            date=day.isoformat(),
            arrival=arrival,
            reason_code=None,
        )
    return OtherVisit(
        team=None,
        team_label=_team_names(m, r["skills"]),
        services=tuple(r["services"]),
        service_labels=_labels(m, r["services"]),
        date=None,
        arrival=None,
        reason_code=m.skip_code.get(j),
    )


def _others(m: HomeVisits, i: int) -> tuple[OtherVisit, ...]:
    return tuple(_other(m, j) for j in _parts(m, i) if j != i)


def _unplanned(m: HomeVisits, i: int) -> Unplanned:
    r = m.hh[i]
    why, others = m.skip_reason[i], _others(m, i)
    if others:
        n = int(r["parts"])
        what = "、".join(_labels(m, r["services"]))
        rest = "；".join(
            f"另一次（{'、'.join(o.service_labels)}）"
            + (
                f"已由{o.team_label}于 {o.date} {o.arrival} 入户"
                if o.planned
                else f"亦未安排（{REASON_CODES.get(o.reason_code or '', o.reason_code)}）"
            )
            for o in others
        )
        why = f"拆分入户 {n} 次之第 {int(r['part'])} 次（{what}）未能安排：{why}；{rest}"
    return Unplanned(
        person=_who(m, r),
        village_code=r["village_code"],
        services=tuple(r["services"]),
        service_labels=_labels(m, r["services"]),
        priority=float(r["priority"]),
        reason=why,
        reason_code=m.skip_code[i],
        other_visits=others,
    )


def mark_other_visits(m: HomeVisits, teams: Sequence[TeamPlan]) -> tuple[TeamPlan, ...]:
    """``teams`` with each stop of a split household listing the household's other visits."""
    index = {(m.hh[i]["key"], tuple(m.hh[i]["services"])): i for i in m.placed}

    def mark(s: PlannedStop, key: str) -> PlannedStop:
        others = _others(m, index[(key, s.services)])
        return dataclasses.replace(s, other_visits=others) if others else s

    def key_of(s: PlannedStop) -> str:
        p = s.person
        return f"R{p.resident_id}" if p.resident_id is not None else f"L{p.lead_id}"

    return tuple(
        dataclasses.replace(
            tm,
            days=tuple(
                dataclasses.replace(d, stops=tuple(mark(s, key_of(s)) for s in d.stops))
                for d in tm.days
            ),
        )
        for tm in teams
    )
