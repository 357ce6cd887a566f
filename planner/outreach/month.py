"""The month plan of the village outreach: service point, invitations, two
home-visit teams with routes, who is left for next month, routine visits.

The villages are given (the service layer takes them from the year's calendar
by default). Every outreach day, each team works a morning shift
(``shift_start`` → the service point by ``lunch_start``) and an afternoon shift
(the service point at ``lunch_end`` → the end by ``shift_end``): lunch at the
service point holds exactly because the two halves are separate vehicles of the
routing problem. Skills hold because a visit needing a skill can only be
routed to a shift of a team that has it; a household whose services need skills
no single team has is split into one visit per team (``[outreach]
split_skills``, :mod:`planner.outreach.skills`). Every home visit is optional
with a prize by priority, so when not everyone fits the lowest priorities wait
for next month, with the reason and its code (``no_team_skill``,
``not_located``, ``off_network``, ``too_far``, ``shift_full``).

Points farther than ``[network] snap_max_m`` from the road network
(:mod:`planner.coverage.offnetwork`) are never routed: such a household (own point or
its village's) goes to ``unplanned`` with the reason "距路网过远（N 米），无法
安排路线", as does one without any point. The service point is the first of
the month's villages whose point is on the network (a skipped village is
reported under ``off_network`` as ``service_point``); when none is, or when
the teams start at an office that is off the network, planning stops with a
message naming the place, the distance and the fix.

Frames in (:class:`MonthData`, read by :mod:`planner.store.outreach` and
:mod:`planner.store.frames`), a typed :class:`~planner.outreach.plan.MonthPlan` out.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from geo.graph import RoadNetwork
from planner.coverage.offnetwork import (
    NetworkCoverageError,
    snap_to_network,
)
from planner.domain.privacy import mask_id
from planner.errors import CalendarError
from planner.outreach.calendar import outreach_days
from planner.outreach.home_visits import (
    OFFICE,
    SERVICE_POINT,
    HomeVisits,
    ProgressFn,
    locate_households,
    mark_other_visits,
    route_days,
    servable,
    unplanned,
)
from planner.outreach.hops import place_households
from planner.outreach.needs import POINT_SERVICES, person_needs
from planner.outreach.plan import (
    Invitation,
    InvitedPerson,
    MonthPlan,
    Place,
    ServicePoint,
    Stats,
    TeamPlan,
    Unplanned,
    VillageDay,
)
from planner.outreach.routine import routine_visits
from planner.outreach.routing import RoutingResult
from planner.outreach.sheet_data import sheet_extras
from planner.outreach.skills import split_visits
from planner.settings import Config

__all__ = ["MonthData", "MonthPlan", "month_of", "next_month", "plan_month"]


@dataclass(frozen=True, kw_only=True)
class MonthData:
    """What the month plan reads from the store, as frames.

    Attributes
    ----------
    residents
        :func:`planner.store.frames.residents_frame` with personal columns
        (``personal=True``), indexed by resident id.
    villages
        :func:`planner.store.frames.villages_frame` (WGS-84 points).
    leads
        Leads still to certify in the month's villages, ``id, village_code``
        (:func:`planner.store.outreach.leads_to_visit`).
    lead_contacts
        ``name, phone, address`` of the villages' leads, indexed by lead id
        (:func:`planner.store.outreach.lead_contacts`).
    devices_due
        Devices due by the end of the month (:func:`planner.store.outreach.devices_due`).
    office
        The federation office recorded in the store (``Store.district_office``),
        or None; ``[outreach] office`` overrides it.
    recorded
        Points the teams recorded: ``key`` (``R<id>``/``L<id>``), ``lon``,
        ``lat`` (:func:`planner.store.outreach.recorded_points`), or None.
    """

    residents: pd.DataFrame
    villages: pd.DataFrame
    leads: pd.DataFrame
    lead_contacts: pd.DataFrame
    devices_due: pd.DataFrame
    office: Place | None = None
    recorded: pd.DataFrame | None = None


def _service_point(
    network: RoadNetwork, vf: pd.DataFrame, villages: Sequence[str], *, max_m: float
) -> tuple[ServicePoint, list[dict[str, Any]]]:
    """The point of the first village on the network, and the villages skipped."""
    lon = vf.loc[list(villages), "lon"].to_numpy(float)
    lat = vf.loc[list(villages), "lat"].to_numpy(float)
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
    code = villages[first]
    row: dict[Any, Any] = vf.loc[code].to_dict()
    sp = ServicePoint(
        name=f"{row['town_name']}{row['name']}",
        lon=float(row["lon"]),
        lat=float(row["lat"]),
        village_code=code,
    )
    return sp, skipped


def _check_office(network: RoadNetwork, office: Place, *, max_m: float) -> None:
    """Refuse an office (where the teams start) that is off the network."""
    snap = snap_to_network(network, [office.lon], [office.lat], max_m=max_m)
    if snap.off_network[0]:
        raise NetworkCoverageError(
            f"出发地点「{office.name}」（{office.lon},{office.lat}）距路网 "
            f"{float(snap.distance_m[0]):.0f} 米，超过 [network] snap_max_m（{max_m:g} 米），"
            "无法安排路线；请在配置 [outreach] office（或 coverplan init --office）中更正其经纬度，"
            '或设 start_at = "service_point" 从服务点出发'
        )


def _office(config: Config, stored: Place | None) -> tuple[Place | None, str | None]:
    """The federation office the teams start from, and where it comes from.

    ``[outreach] office`` when the configuration sets it (``"config"``), else
    the office recorded by ``coverplan init`` (``"store"``), else None.
    """
    if config.outreach.office is not None:
        o = config.outreach.office
        return Place(name=o.name, lon=o.lon, lat=o.lat), "config"
    if stored is not None:
        return Place(name=stored.name, lon=stored.lon, lat=stored.lat), "store"
    return None, None


def _start(
    config: Config, stored: Place | None, network: RoadNetwork, *, max_m: float
) -> tuple[Place | None, str | None, str]:
    """The office, where it comes from, and where the teams start (``start_at``)."""
    office, office_from = _office(config, stored)
    start_at = config.outreach.start_at if office is not None else "service_point"
    if start_at == "office" and office is not None:
        _check_office(network, office, max_m=max_m)
    return office, office_from, start_at


def _start_note(office: Place | None, source: str | None, start_at: str) -> str:
    """Where the teams start and end, in words for the plan."""
    if office is None:
        return (
            "未设置残联办公地点（coverplan init --district 区县代码 --office 经度,纬度，"
            "或配置 [outreach] office），入户队从现场服务点出发并返回"
        )
    where = "配置 [outreach] office" if source == "config" else "数据库（coverplan init --office）"
    if start_at == "office":
        return f"入户队从{office.name}出发并返回（办公地点取自{where}）"
    return '入户队从现场服务点出发并返回（[outreach] start_at = "service_point"）'


def _check_villages(villages: Sequence[str], vf: pd.DataFrame) -> None:
    unknown = [v for v in villages if v not in vf.index]
    if unknown or not villages:
        raise CalendarError(f"没有可入村的村社（{'、'.join(unknown) or '日历为空'}）")


def plan_month(
    data: MonthData,
    *,
    config: Config,
    network: RoadNetwork,
    year: int,
    month: int,
    villages: Sequence[str],
    seconds: float | None = None,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> MonthPlan:
    """Plan the outreach of ``year``-``month`` in ``villages``.

    Parameters
    ----------
    data
        The store's residents, villages, leads, devices due and office.
    config
        ``[outreach]``: teams, services, shifts, calendar rules; ``[privacy]``
        masks; ``[network] snap_max_m``.
    network
        The drive network (travel times between the office, the service point
        and the households).
    year, month
        The month.
    villages
        Village codes; the first one on the network hosts the service point.
    seconds
        Routing time limit per outreach day (default ``[outreach] solver_seconds``).
    seed
        Routing seed (default ``[outreach] seed``): the same store and seed
        give the same plan.
    progress
        Called with a Chinese message and the share of outreach days routed.

    Raises
    ------
    CalendarError
        When a village code is unknown (or none is given).
    NetworkCoverageError
        When no village can host the service point, or the office is off the network.
    """
    started = time.perf_counter()
    oc = config.outreach
    vf = data.villages.set_index("code")
    _check_villages(villages, vf)
    first_day = date(year, month, 1)
    days = outreach_days(year, month, weekday=oc.weekday, days=oc.days)
    home, invited = person_needs(
        data.residents, data.villages, leads=data.leads, devices_due=data.devices_due,
        config=config, codes=villages, start=first_day,
    )  # fmt: skip
    home = place_households(
        home, people=data.residents, contacts=data.lead_contacts, recorded=data.recorded,
        villages=vf,
    )  # fmt: skip
    visits = split_visits(home, config=config)  # a household no team can serve whole: split
    max_m = config.network.snap_max_m
    sp, off_network = _service_point(network, vf, villages, max_m=max_m)
    office, office_from, start_at = _start(config, data.office, network, max_m=max_m)
    m = _visits_state(data, visits, config=config, vf=vf, sp=sp, office=office, start_at=start_at)
    off_network += locate_households(m, network, visits, villages=villages, max_m=max_m)
    teams, routing, remaining = route_days(
        m, days, servable(m), seconds=seconds, seed=seed, progress=progress
    )
    left = unplanned(m, remaining)
    teams = mark_other_visits(m, teams)
    invited_people = _invited_people(invited, m.people, config=config)
    return MonthPlan(
        month=f"{year}-{month:02d}",
        villages=tuple(_village_day(c, vf, invited, days=days, sp=sp) for c in villages),
        service_point=sp,
        office=office,
        office_from=office_from,
        start_at=start_at,
        start_note=_start_note(office, office_from, start_at),
        invited_people=invited_people,
        teams=teams,
        unplanned=left,
        off_network=tuple(off_network),
        routine=routine_visits(
            data.residents, data.villages, config=config, year=year, month=month
        ),
        stats=_stats(
            teams,
            routing,
            households=len(home),
            visits=visits,
            left=left,
            invited=len(invited_people),
            days=len(days),
        ),
        routing=routing,
        seconds=time.perf_counter() - started,
        **sheet_extras(teams, people=m.people, contacts=m.contacts, villages=vf, codes=villages),
    )


def _visits_state(
    data: MonthData,
    visits: pd.DataFrame,
    *,
    config: Config,
    vf: pd.DataFrame,
    sp: ServicePoint,
    office: Place | None,
    start_at: str,
) -> HomeVisits:
    """The routing state of the month's visits (location 0 the office or, without
    one, the service point)."""
    return HomeVisits(
        config=config,
        vf=vf,
        people=data.residents,
        contacts=data.lead_contacts,
        hh=visits.to_dict(orient="records"),  # type: ignore[arg-type]
        sp=sp,
        base=office or sp,
        begin=OFFICE if start_at == "office" else SERVICE_POINT,
    )


def _stats(
    teams: Sequence[TeamPlan],
    routing: Sequence[tuple[Any, RoutingResult]],
    *,
    households: int,
    visits: pd.DataFrame,
    left: Sequence[Unplanned],
    invited: int,
    days: int,
) -> Stats:
    """The month's totals (a split household is one household, one visit per team)."""
    return Stats(
        households_needing_visit=households,
        planned=sum(d.stops_count for tm in teams for d in tm.days),
        unplanned=len(left),
        invited=invited,
        days=days,
        travel_min=round(sum(d.travel_min for tm in teams for d in tm.days), 1),
        feasible=all(r.is_feasible for _, r in routing),
        visits_needed=len(visits),
        split_households=int(visits.loc[visits["parts"] > 1, "key"].nunique()),
    )


def _village_day(
    code: str, vf: pd.DataFrame, invited: pd.DataFrame, *, days: Sequence[date], sp: ServicePoint
) -> VillageDay:
    inv = invited[invited["village_code"] == code]
    return VillageDay(
        code=code,
        name=str(vf.at[code, "name"]),
        town_name=str(vf.at[code, "town_name"]),
        dates=tuple(days),
        service_point=sp,
        invited=tuple(
            Invitation(service=s, label=label, count=int((inv["service"] == s).sum()))
            for s, label in POINT_SERVICES.items()
        ),
    )


def _invited_people(
    invited: pd.DataFrame, people: pd.DataFrame, *, config: Config
) -> tuple[InvitedPerson, ...]:
    ids, names = people["id_number"].to_dict(), people["name"].to_dict()
    return tuple(
        InvitedPerson(
            resident_id=int(r["resident_id"]),
            masked_id=mask_id(ids[r["resident_id"]], privacy=config.privacy),
            name=names[r["resident_id"]],
            village_code=r["village_code"],
            service=r["service"],
            label=POINT_SERVICES[str(r["service"])],
        )
        for r in invited.to_dict(orient="records")
    )


def month_of(text: str) -> tuple[int, int]:
    """``2026-12`` → (2026, 12); a clear error otherwise."""
    try:
        d = datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise CalendarError(f"月份格式应为 YYYY-MM，例如 2026-12（收到 {text!r}）") from None
    return d.year, d.month


def next_month(today: date) -> tuple[int, int]:
    """The month after ``today``'s."""
    d = date(today.year, today.month, 28) + timedelta(days=4)
    return d.year, d.month
