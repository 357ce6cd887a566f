"""The month plan of the village outreach: service point, invitations, two
home-visit teams with routes, who is left for next month, routine visits.

The villages come from the year's calendar (:func:`plan_year`). Every outreach
day, each team works a morning shift (``shift_start`` → the service point by
``lunch_start``) and an afternoon shift (the service point at ``lunch_end`` →
the end by ``shift_end``): lunch at the service point holds exactly because the
two halves are separate vehicles of the routing problem. Skills hold because a
household needing a skill can only be routed to a shift of a team that has it.
Every home visit is optional with a prize by priority, so when not everyone
fits the lowest priorities wait for next month, with the reason.

Points farther than ``[network] snap_max_m`` from the road network
(:mod:`planner.coverage.offnetwork`) are never routed: such a household (own point or
its village's) goes to ``unplanned`` with the reason "距路网过远（N 米），无法
安排路线", as does one without any point. The service point is the first of
the month's villages whose point is on the network (a skipped village is
reported under ``off_network`` as ``service_point``); when none is, or when
the teams start at an office that is off the network, planning stops with a
message naming the place, the distance and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from geo.graph import RoadNetwork
from geo.traveltime import od_matrix
from planner.coverage.offnetwork import (
    NetworkCoverageError,
    PointSnap,
    resident_entries,
    snap_to_network,
)
from planner.domain.eligibility import POOR
from planner.ingest.idnumber import mask_id, mask_phone
from planner.outreach.calendar import outreach_days, plan_year
from planner.outreach.needs import POINT_SERVICES, person_needs
from planner.outreach.routing import RoutingProblem, RoutingResult, Shift, Stop, solve_routes
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame

PRIZE_PER_PRIORITY_S = 4 * 3600  # a visit is worth up to 4 h of driving per priority point
SECONDS_PER_MINUTE = 60
METRES_PER_KM = 1000.0
ROUTINE_OVERDUE_DAYS = 365


def _clock(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


@dataclass(frozen=True)
class MonthPlan:
    """A month's outreach plan.

    Attributes
    ----------
    month
        ``YYYY-MM``.
    plan
        The JSON form (see :meth:`to_json`): villages, service point,
        invitations, teams → days → stops, unplanned, routine, stats.
    routing
        The routing result per outreach day, with its problem (for checks).
    seconds
        Wall-clock planning time.
    """

    month: str
    plan: dict[str, Any]
    routing: tuple[tuple[RoutingProblem, RoutingResult], ...]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-serialisable data (WGS-84 points, HH:MM times)."""
        return self.plan


def _duration_matrix(network: RoadNetwork, nodes: np.ndarray) -> np.ndarray:
    """Whole travel seconds between the network nodes (each distinct node routed once)."""
    uniq, inv = np.unique(nodes, return_inverse=True)
    od = od_matrix(network, uniq, uniq)
    secs = np.full((len(uniq), len(uniq)), np.inf)
    secs[od.rows, od.cols] = od.seconds
    np.fill_diagonal(secs, 0.0)
    if not np.isfinite(secs).all():
        secs[~np.isfinite(secs)] = 24 * 3600  # unreachable: never feasible in a day
    return np.ceil(secs[np.ix_(inv, inv)]).astype(np.int64)


def _service_point(
    network: RoadNetwork, vf: pd.DataFrame, villages: list[str], *, max_m: float
) -> tuple[str, list[dict[str, Any]]]:
    """The first village whose point is on the network, and the villages skipped."""
    lon = vf.loc[villages, "lon"].to_numpy(float)
    lat = vf.loc[villages, "lat"].to_numpy(float)
    snap = snap_to_network(network, lon, lat, max_m=max_m)
    names = [str(vf.at[c, "town_name"]) + str(vf.at[c, "name"]) for c in villages]
    usable = np.flatnonzero(snap.usable)
    first = int(usable[0]) if usable.size else len(villages)
    skipped = [
        {
            "kind": "service_point",
            "code": villages[i],
            "name": names[i],
            "distance_m": None if not snap.located[i] else round(float(snap.distance_m[i]), 1),
            "mode": network.mode,
        }
        for i in range(first)
    ]
    if not usable.size:
        why = "；".join(
            f"{e['name']}（{e['code']}）"
            + ("没有点位或边界" if e["distance_m"] is None else f"距路网 {e['distance_m']:.0f} 米")
            for e in skipped
        )
        raise NetworkCoverageError(
            f"无法设置现场服务点：{why}，超过 [network] snap_max_m（{max_m:g} 米）；"
            "请用 --village 另选村社，或导入更准确的村社点位（coverplan import villages）"
            "或更完整的道路网络（coverplan network build）"
        )
    return villages[first], skipped


def _check_office(network: RoadNetwork, office: dict[str, Any], *, max_m: float) -> None:
    """Refuse an office (where the teams start) that is off the network."""
    snap = snap_to_network(network, [office["lon"]], [office["lat"]], max_m=max_m)
    if snap.off_network[0]:
        raise NetworkCoverageError(
            f"出发地点「{office['name']}」（{office['lon']},{office['lat']}）距路网 "
            f"{float(snap.distance_m[0]):.0f} 米，超过 [network] snap_max_m（{max_m:g} 米），"
            "无法安排路线；请在配置 [outreach] office（或 coverplan init --office）中更正其经纬度，"
            '或设 start_at = "service_point" 从服务点出发'
        )


def _unroutable(snap: PointSnap, i: int) -> str | None:
    """Why household ``i`` cannot be routed (None: it can)."""
    if not snap.located[i]:
        return "没有住户点位，所在村社也没有点位或边界，无法安排路线"
    if snap.off_network[i]:
        return f"距路网过远（{float(snap.distance_m[i]):.0f} 米），无法安排路线"
    return None


def plan_month(
    store: Store,
    *,
    config: Config,
    network: RoadNetwork,
    year: int,
    month: int,
    villages: list[str] | None = None,
    seconds: float | None = None,
    seed: int | None = None,
) -> MonthPlan:
    """Plan the outreach of ``year``-``month``.

    Parameters
    ----------
    store
        The store.
    config
        ``[outreach]``: teams, services, shifts, calendar rules, privacy masks.
    network
        The drive network (travel times between the office, the service point
        and the households).
    year, month
        The month.
    villages
        Village codes (default: the calendar's choice for the month); the
        first one hosts the service point.
    seconds
        Routing time limit per outreach day (default ``solver_seconds``).
    seed
        Routing seed (default ``[outreach] seed``): the same store and seed
        give the same plan.
    """
    import time

    started = time.perf_counter()
    oc = config.outreach
    first_day = date(year, month, 1)
    from planner.outreach.calendar import CalendarError

    if villages is None:
        cal = plan_year(store, config=config, year=year, today=first_day)
        villages = cal.villages_in(month)
        if not villages:
            raise CalendarError(
                f"{year}-{month:02d} 的日历上没有入村村社（{cal.notes.get(month, '日历为空')}）；"
                "可用 --village 村社代码 指定本月入村的村社"
            )
    vf = villages_frame(store).set_index("code")
    unknown = [v for v in villages if v not in vf.index]
    if unknown or not villages:
        raise CalendarError(f"没有可入村的村社（{'、'.join(unknown) or '日历为空'}）")
    days = outreach_days(year, month, weekday=oc.weekday, days=oc.days)
    home, invited = person_needs(store, config=config, villages=villages, start=first_day)
    hh: list[dict[str, Any]] = home.to_dict(orient="records")  # type: ignore[assignment]
    people = residents_frame(store, personal=True)
    with store.read() as s:
        leads = {
            r.id: r
            for r in s.execute(
                select(t.Lead.id, t.Lead.name, t.Lead.phone, t.Lead.address)
                .where(t.Lead.village_code.in_(villages))
                .order_by(t.Lead.id)
            )
        }
    pv = config.privacy
    max_m = config.network.snap_max_m
    sp_code, off_network = _service_point(network, vf, villages, max_m=max_m)
    sp = {
        "name": f"{vf.at[sp_code, 'town_name']}{vf.at[sp_code, 'name']}",
        "lon": float(vf.at[sp_code, "lon"]),
        "lat": float(vf.at[sp_code, "lat"]),
        "village_code": sp_code,
    }
    office, office_from = _office(store, config)
    start_at = oc.start_at if office is not None else "service_point"
    base = office or sp  # without an office, location 0 is the service point too
    if start_at == "office":
        _check_office(network, base, max_m=max_m)

    # households off the network (or without any point) are never routed
    hh_snap = snap_to_network(
        network, home["lon"].to_numpy(float), home["lat"].to_numpy(float), max_m=max_m
    )
    skip_reason: dict[int, str] = {}
    for i in range(len(hh)):
        why = _unroutable(hh_snap, i)
        if why:
            skip_reason[i] = why
    off_hh = hh_snap.off_network
    off_network += resident_entries(
        home["village_code"].to_numpy()[off_hh],
        hh_snap.distance_m[off_hh],
        village_names={str(c): str(vf.at[c, "name"]) for c in villages},
        mode=network.mode,
    )
    # locations: 0 office, 1 service point, then households (an unroutable one
    # stands at the service point in the matrix; it is never a stop)
    ends = network.snap(
        np.array([base["lon"], sp["lon"]], dtype=float),
        np.array([base["lat"], sp["lat"]], dtype=float),
    ).node
    nodes = np.concatenate([ends, np.where(hh_snap.usable, hh_snap.node, ends[1])])
    duration = _duration_matrix(network, nodes)
    begin, finish = (0, 0) if start_at == "office" else (1, 1)
    team_skills = {k: frozenset(tm.skills) for k, tm in oc.teams.items()}
    all_skills = frozenset().union(*team_skills.values()) if team_skills else frozenset()
    servable = [i for i in range(len(hh)) if hh[i]["skills"] <= all_skills and i not in skip_reason]
    for i in range(len(hh)):
        if i not in servable and i not in skip_reason:
            lacking = "、".join(sorted(hh[i]["skills"] - all_skills))
            skip_reason[i] = f"没有具备“{lacking}”技能的入户服务队"

    remaining = list(servable)
    routing: list[tuple[RoutingProblem, RoutingResult]] = []
    team_days: dict[str, list[dict[str, Any]]] = {k: [] for k in oc.teams}
    for day in days:
        stops = tuple(
            Stop(
                location=2 + i,
                service_s=round(float(hh[i]["minutes"]) * SECONDS_PER_MINUTE),
                skills=hh[i]["skills"],
                required=False,
                prize=int(PRIZE_PER_PRIORITY_S * hh[i]["priority"]),
            )
            for i in remaining
        )
        shifts = []
        shift_team = []
        for key in oc.teams:
            shifts.append(
                Shift(
                    start=begin,
                    end=1,
                    earliest_s=_clock(oc.shift_start),
                    latest_s=_clock(oc.lunch_start),
                    skills=team_skills[key],
                    label=f"{key} 上午",
                )
            )
            shifts.append(
                Shift(
                    start=1,
                    end=finish,
                    earliest_s=_clock(oc.lunch_end),
                    latest_s=_clock(oc.shift_end),
                    skills=team_skills[key],
                    label=f"{key} 下午",
                )
            )
            shift_team += [key, key]
        problem = RoutingProblem(duration=duration, stops=stops, shifts=tuple(shifts))
        result = solve_routes(
            problem,
            solver="pyvrp",
            seconds=seconds or oc.solver_seconds,
            seed=oc.seed if seed is None else seed,
        )
        routing.append((problem, result))
        visited = set()
        for route in result.routes:
            key = shift_team[route.shift]
            day_entry = next((d for d in team_days[key] if d["date"] == day.isoformat()), None)
            if day_entry is None:
                day_entry = {
                    "date": day.isoformat(),
                    "start": base if begin == 0 else sp,
                    "end": base if finish == 0 else sp,
                    "lunch": {"start": oc.lunch_start, "end": oc.lunch_end, "place": sp["name"]},
                    "stops": [],
                    "travel_min": 0.0,
                }
                team_days[key].append(day_entry)
            prev = problem.shifts[route.shift].start
            for v in route.visits:
                i = remaining[v.stop]
                visited.add(i)
                loc = problem.stops[v.stop].location
                day_entry["stops"].append(
                    _stop_json(
                        hh[i],
                        people=people,
                        leads=leads,
                        config=config,
                        day=day,
                        team=key,
                        visit=(v.arrival_s, v.start_s, v.departure_s),
                        travel_s=int(duration[prev, loc]),
                    )
                )
                prev = loc
            day_entry["travel_min"] += round(route.travel_s / SECONDS_PER_MINUTE, 1)
        remaining = [i for i in remaining if i not in visited]
    for entries in team_days.values():
        for d in entries:
            d["stops"].sort(key=lambda s: s["arrival"])
            for n, s in enumerate(d["stops"], start=1):
                s["order"] = n
            d["stops_count"] = len(d["stops"])
            d["travel_min"] = round(d["travel_min"], 1)
    for i in remaining:
        pr = hh[i]["priority"]
        skip_reason[i] = f"本月时间排满（优先级 {pr:g}），顺延下月"
    unplanned = []
    for i, why in sorted(skip_reason.items()):
        r = hh[i]
        unplanned.append(
            {
                **_who(r, people=people, leads=leads, config=config),
                "village_code": r["village_code"],
                "services": list(r["services"]),
                "service_labels": [oc.services[s].label for s in r["services"]],
                "priority": float(r["priority"]),
                "reason": why,
            }
        )
    village_entries = []
    for code in villages:
        inv = invited[invited["village_code"] == code]
        village_entries.append(
            {
                "code": code,
                "name": str(vf.at[code, "name"]),
                "town_name": str(vf.at[code, "town_name"]),
                "dates": [d.isoformat() for d in days],
                "service_point": sp,
                "invited": [
                    {
                        "service": s,
                        "label": POINT_SERVICES[s],
                        "count": int((inv["service"] == s).sum()),
                    }
                    for s in POINT_SERVICES
                ],
            }
        )
    ids, names = people["id_number"].to_dict(), people["name"].to_dict()
    invited_people = [
        {
            "resident_id": int(r["resident_id"]),
            "masked_id": mask_id(
                ids[r["resident_id"]], keep_head=pv.id_keep_head, keep_tail=pv.id_keep_tail
            ),
            "name": names[r["resident_id"]],
            "village_code": r["village_code"],
            "service": r["service"],
            "label": POINT_SERVICES[str(r["service"])],
        }
        for r in invited.to_dict(orient="records")
    ]
    teams: list[dict[str, Any]] = [
        {
            "team": key,
            "label": tm.label,
            "skills": list(tm.skills),
            "skill_labels": list(tm.skill_labels),
            "days": team_days[key],
        }
        for key, tm in oc.teams.items()
    ]
    planned = sum(len(d["stops"]) for tm in teams for d in tm["days"])
    plan: dict[str, Any] = {
        "month": f"{year}-{month:02d}",
        "villages": village_entries,
        "service_point": sp,
        "office": office,
        "office_from": office_from,
        "start_at": start_at,
        "start_note": _start_note(office, office_from, start_at),
        "invited_people": invited_people,
        "teams": teams,
        "unplanned": unplanned,
        "off_network": off_network,
        "routine": routine_visits(store, config=config, year=year, month=month),
        "stats": {
            "households_needing_visit": len(home),
            "planned": planned,
            "unplanned": len(unplanned),
            "invited": len(invited_people),
            "days": len(days),
            "travel_min": round(sum(d["travel_min"] for tm in teams for d in tm["days"]), 1),
            "feasible": all(r.is_feasible for _, r in routing),
        },
    }
    return MonthPlan(
        month=plan["month"],
        plan=plan,
        routing=tuple(routing),
        seconds=time.perf_counter() - started,
    )


def _office(store: Store, config: Config) -> tuple[dict[str, Any] | None, str | None]:
    """The federation office the teams start from, and where it comes from.

    ``[outreach] office`` when the configuration sets it (``"config"``), else
    the office recorded by ``coverplan init`` (``"store"``), else None.
    """
    if config.outreach.office is not None:
        o = config.outreach.office
        return {"name": o.name, "lon": o.lon, "lat": o.lat}, "config"
    stored = store.district_office()
    if stored is not None:
        return {"name": stored.name, "lon": stored.lon, "lat": stored.lat}, "store"
    return None, None


def _start_note(office: dict[str, Any] | None, source: str | None, start_at: str) -> str:
    """Where the teams start and end, in words for the plan."""
    if office is None:
        return (
            "未设置残联办公地点（coverplan init --district 区县代码 --office 经度,纬度，"
            "或配置 [outreach] office），入户队从现场服务点出发并返回"
        )
    where = "配置 [outreach] office" if source == "config" else "数据库（coverplan init --office）"
    if start_at == "office":
        return f"入户队从{office['name']}出发并返回（办公地点取自{where}）"
    return '入户队从现场服务点出发并返回（[outreach] start_at = "service_point"）'


def _who(
    r: dict[str, Any], *, people: pd.DataFrame, leads: dict[int, Any], config: Config
) -> dict[str, Any]:
    pv = config.privacy
    if pd.notna(r["resident_id"]):
        rid = int(r["resident_id"])
        p: dict[Any, Any] = people.loc[rid].to_dict()
        return {
            "resident_id": rid,
            "lead_id": None,
            "name": p["name"],
            "masked_id": mask_id(
                p["id_number"], keep_head=pv.id_keep_head, keep_tail=pv.id_keep_tail
            ),
            "masked_phone": mask_phone(
                p["phone"], keep_head=pv.phone_keep_head, keep_tail=pv.phone_keep_tail
            ),
            "address": p["address"] or "",
        }
    lid = int(r["lead_id"])
    lead = leads.get(lid)
    return {
        "resident_id": None,
        "lead_id": lid,
        "name": getattr(lead, "name", "") or "",
        "masked_id": "",
        "masked_phone": mask_phone(
            getattr(lead, "phone", None), keep_head=pv.phone_keep_head, keep_tail=pv.phone_keep_tail
        ),
        "address": getattr(lead, "address", "") or "",
    }


def _stop_json(
    r: dict[str, Any],
    *,
    people: pd.DataFrame,
    leads: dict[int, Any],
    config: Config,
    day: date,
    team: str,
    visit: tuple[int, int, int],
    travel_s: int,
) -> dict[str, Any]:
    who = _who(r, people=people, leads=leads, config=config)
    arrival, start, departure = visit
    prefix = f"R{who['resident_id']}" if who["resident_id"] is not None else f"L{who['lead_id']}"
    return {
        "order": 0,
        "visit_key": f"{prefix}-{day.isoformat()}-{team}",
        **who,
        "village_code": r["village_code"],
        "lon": round(float(r["lon"]), 6),
        "lat": round(float(r["lat"]), 6),
        "services": list(r["services"]),
        "service_labels": [config.outreach.services[s].label for s in r["services"]],
        "arrival": _hhmm(arrival),
        "start": _hhmm(start),
        "departure": _hhmm(departure),
        "travel_min": round(travel_s / SECONDS_PER_MINUTE, 1),
        "service_min": round((departure - start) / SECONDS_PER_MINUTE, 1),
    }


def routine_visits(store: Store, *, config: Config, year: int, month: int) -> list[dict[str, Any]]:
    """Per town: the poor disabled households town officers must visit this
    month (100 %), and persons with no home visit for over a year.

    Returns one dict per town: ``town_code, town_name, poor_households``
    (count), ``poor_visited`` (visited this month already), ``overdue``
    (count), and the lists ``poor`` and ``overdue_people`` (resident id,
    masked ID, name, village, last visit).
    """
    pv = config.privacy
    res = residents_frame(store, personal=True)
    res = res[res["town_code"].notna() & ~res["needs_review"].fillna(False)]
    vf = villages_frame(store).set_index("code")
    month_start = pd.Timestamp(date(year, month, 1))
    last = pd.to_datetime(res["last_visit"])
    poor = res["low_income"].isin(POOR)
    visited_now = last >= month_start
    overdue = last.isna() | (last < month_start - pd.Timedelta(days=ROUTINE_OVERDUE_DAYS))
    out = []
    towns = vf.drop_duplicates("town_code").set_index("town_code")["town_name"]
    for code, name in towns.sort_index().items():
        here = res["town_code"] == code

        def people(mask: pd.Series) -> list[dict[str, Any]]:
            rows = res[mask]
            return [
                {
                    "resident_id": rid,
                    "masked_id": mask_id(
                        r["id_number"], keep_head=pv.id_keep_head, keep_tail=pv.id_keep_tail
                    ),
                    "name": r["name"],
                    "village_name": str(vf.at[r["village_code"], "name"]),
                    "last_visit": None if pd.isna(r["last_visit"]) else str(r["last_visit"]),
                }
                for rid, r in zip(
                    rows.index.astype(int), rows.to_dict(orient="records"), strict=True
                )
            ]

        out.append(
            {
                "town_code": code,
                "town_name": name,
                "poor_households": int((here & poor).sum()),
                "poor_visited": int((here & poor & visited_now).sum()),
                "overdue": int((here & overdue).sum()),
                "poor": people(here & poor & ~visited_now),
                "overdue_people": people(here & overdue & ~poor),
            }
        )
    return out


def month_of(text: str) -> tuple[int, int]:
    """``2026-12`` → (2026, 12); a clear error otherwise."""
    from planner.outreach.calendar import CalendarError

    try:
        d = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise CalendarError(f"月份格式应为 YYYY-MM，例如 2026-12（收到 {text!r}）") from None
    return d.year, d.month


def next_month(today: date) -> tuple[int, int]:
    """The month after ``today``'s."""
    d = date(today.year, today.month, 28) + timedelta(days=4)
    return d.year, d.month


__all__ = ["MonthPlan", "month_of", "next_month", "plan_month", "routine_visits"]
