"""The typed month plan of the village outreach, and its JSON form.

:func:`planner.outreach.month.plan_month` returns a :class:`MonthPlan`; the route
sheets (:mod:`planner.reports.route_sheets`) are written from it, and its
:meth:`MonthPlan.to_json` is the ``--json`` document of ``coverplan outreach
month`` and the ``plan.json`` written next to the sheets — a contract: keys,
their order and value types stay as they are. :meth:`MonthPlan.from_json` reads
that form back (e.g. a saved ``plan.json``), refusing one that lacks a key.

The parts, as a newcomer would look for them:

- :class:`VillageDay`: a village of the month, its outreach days, the
  :class:`ServicePoint` and the :class:`Invitation` counts to the point;
- :class:`InvitedPerson`: one person invited to the service point;
- :class:`TeamPlan` → :class:`TeamDay` → :class:`PlannedStop`: a home-visit team,
  its days (start, end, :class:`Lunch`) and the households in visiting order;
- :class:`Unplanned`: a household (or one visit of a split household) left for
  next month, with the reason and its code (:data:`REASON_CODES`);
- :class:`OtherVisit`: on a visit of a split household, the household's other
  visit by another team;
- :class:`RoutineVisits`: per town, the households its officers must visit
  (:class:`RoutinePerson`);
- :class:`Stats`: the totals.

Points are WGS-84 lon/lat; times ``HH:MM``; durations minutes. Names are shown
as written, ID numbers and phones masked (``[privacy]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from geo.gazetteer import Place
from planner.outreach.plan_records import (
    REASON_CODES,
    Invitation,
    InvitedPerson,
    Person,
    RoutinePerson,
    RoutineVisits,
    ServicePoint,
    Stats,
    VillageDay,
    _need,
    _office_from,
    _place_from,
    _place_json,
    _Record,
)
from planner.outreach.routing import RoutingProblem, RoutingResult

__all__ = [
    "REASON_CODES",
    "Invitation",
    "InvitedPerson",
    "Lunch",
    "MonthPlan",
    "OtherVisit",
    "Person",
    "Place",
    "PlannedStop",
    "RoutinePerson",
    "RoutineVisits",
    "ServicePoint",
    "Stats",
    "TeamDay",
    "TeamPlan",
    "Unplanned",
    "VillageDay",
]


_LEGACY_REASONS = (  # reason text of plans written before reason_code → code
    ("技能", "no_team_skill"),
    ("没有住户点位", "not_located"),
    ("距路网过远", "off_network"),
    ("排满", "shift_full"),
)


def _legacy_code(reason: str) -> str:
    return next((code for word, code in _LEGACY_REASONS if word in reason), "shift_full")


@dataclass(frozen=True)
class OtherVisit:
    """Another visit this month to the same household, by another team.

    A household whose services need skills no single team has is split into
    visits each team can do (``[outreach] split_skills``); each visit lists the
    others here. ``team`` is the visiting team (``None`` with ``team_label``
    naming the teams able to make it, empty when none is, when the visit is not
    planned); ``date``
    and ``arrival`` (``YYYY-MM-DD``, ``HH:MM``) are set when it is planned,
    ``reason_code`` when it is not.
    """

    team: str | None
    team_label: str
    services: tuple[str, ...]
    service_labels: tuple[str, ...]
    date: str | None
    arrival: str | None
    reason_code: str | None

    @property
    def planned(self) -> bool:
        """Whether the other visit is on a route this month."""
        return self.date is not None

    def note(self) -> str:
        """The visit in a few Chinese words, for the sheets."""
        what = "、".join(self.service_labels)
        if self.planned:
            return f"另由{self.team_label}入户（{self.date} {self.arrival}）：{what}"
        why = REASON_CODES.get(self.reason_code or "", "")
        return f"另需入户：{what}，本月未能安排（{why}，见顺延名单）"

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "team_label": self.team_label,
            "services": list(self.services),
            "service_labels": list(self.service_labels),
            "date": self.date,
            "arrival": self.arrival,
            "reason_code": self.reason_code,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OtherVisit:
        def opt(key: str) -> str | None:
            value = data.get(key)
            return None if value is None else str(value)

        return cls(
            team=opt("team"),
            team_label=str(_need(data, "team_label", "另一服务队")),
            services=tuple(_need(data, "services", "另一次入户的服务")),
            service_labels=tuple(_need(data, "service_labels", "另一次入户的服务名称")),
            date=opt("date"),
            arrival=opt("arrival"),
            reason_code=opt("reason_code"),
        )


def _others(data: Mapping[str, Any]) -> tuple[OtherVisit, ...]:
    """The ``other_visits`` of a stop or an unplanned visit (absent in older plans)."""
    return tuple(OtherVisit.from_json(o) for o in data.get("other_visits") or ())


@dataclass(frozen=True)
class PlannedStop:
    """A household on a team's route: who, where, what, and when (``HH:MM``).

    ``point_source``: where ``lon``/``lat`` come from — ``"household"`` (its own
    point from the register), ``"recorded"`` (a point a team recorded) or
    ``"estimated"`` (no point of its own: its village's point; no navigation
    link). See :mod:`planner.outreach.hops`.

    ``travel_min``/``travel_km``: the drive to it from the previous stop or the start.

    ``services`` are those of this visit; ``other_visits`` (JSON key only when
    not empty) lists the household's visits by other teams when it was split.
    """

    order: int
    visit_key: str
    person: Person
    village_code: str
    lon: float
    lat: float
    services: tuple[str, ...]
    service_labels: tuple[str, ...]
    arrival: str
    start: str
    departure: str
    travel_min: float
    service_min: float
    point_source: str = "household"
    travel_km: float | None = None
    other_visits: tuple[OtherVisit, ...] = ()

    @property
    def is_lead(self) -> bool:
        """Whether the visit is for a lead (a suspected unregistered person)."""
        return self.person.lead_id is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "order": self.order,
            "visit_key": self.visit_key,
            **self.person.to_json(),
            "village_code": self.village_code,
            "lon": self.lon,
            "lat": self.lat,
            "services": list(self.services),
            "service_labels": list(self.service_labels),
            "arrival": self.arrival,
            "start": self.start,
            "departure": self.departure,
            "travel_min": self.travel_min,
            "service_min": self.service_min,
            "point_source": self.point_source,
            **({} if self.travel_km is None else {"travel_km": self.travel_km}),
            **(
                {"other_visits": [o.to_json() for o in self.other_visits]}
                if self.other_visits
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedStop:
        return cls(
            order=int(_need(data, "order", "序号")),
            visit_key=str(_need(data, "visit_key", "编号")),
            person=Person.from_json(data),
            village_code=str(_need(data, "village_code", "村社代码")),
            lon=float(_need(data, "lon", "经度")),
            lat=float(_need(data, "lat", "纬度")),
            services=tuple(_need(data, "services", "服务")),
            service_labels=tuple(_need(data, "service_labels", "服务名称")),
            arrival=str(_need(data, "arrival", "到达时间")),
            start=str(_need(data, "start", "开始时间")),
            departure=str(_need(data, "departure", "离开时间")),
            travel_min=float(_need(data, "travel_min", "路程")),
            service_min=float(_need(data, "service_min", "服务时长")),
            point_source=str(data.get("point_source") or "household"),
            travel_km=None if data.get("travel_km") is None else float(data["travel_km"]),
            other_visits=_others(data),
        )


@dataclass(frozen=True)
class Lunch(_Record):
    """The lunch break at the service point (``HH:MM``)."""

    _what: ClassVar[str] = "午休"

    start: str
    end: str
    place: str


@dataclass(frozen=True)
class TeamDay:
    """One outreach day of a team: where it starts and ends, lunch, the stops.

    ``travel_min``/``distance_km``: the day's whole drive (minutes, km), the sum of the legs
    to each stop, to lunch at the service point (``to_lunch_*``) and home (``to_end_*``);
    a shift without stops still counts its drive (None in plans written before).
    """

    date: date
    start: Place | ServicePoint
    end: Place | ServicePoint
    lunch: Lunch
    stops: tuple[PlannedStop, ...]
    travel_min: float
    distance_km: float | None = None
    to_lunch_min: float | None = None
    to_lunch_km: float | None = None
    to_end_min: float | None = None
    to_end_km: float | None = None
    _legs: ClassVar[tuple[str, ...]] = ("to_lunch_min", "to_lunch_km", "to_end_min", "to_end_km")

    @property
    def stops_count(self) -> int:
        """Households visited."""
        return len(self.stops)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "date": self.date.isoformat(),
            "start": _place_json(self.start),
            "end": _place_json(self.end),
            "lunch": self.lunch.to_json(),
            "stops": [s.to_json() for s in self.stops],
            "travel_min": self.travel_min,
        }
        if self.distance_km is not None:
            out["distance_km"] = self.distance_km
        out["stops_count"] = self.stops_count
        out.update({k: getattr(self, k) for k in self._legs if getattr(self, k) is not None})
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamDay:
        km = data.get("distance_km")
        legs = {k: None if data.get(k) is None else float(data[k]) for k in cls._legs}
        return cls(
            date=date.fromisoformat(str(_need(data, "date", "日期"))),
            start=_place_from(_need(data, "start", "出发地点")),
            end=_place_from(_need(data, "end", "返回地点")),
            lunch=Lunch.from_json(_need(data, "lunch", "午休")),
            stops=tuple(PlannedStop.from_json(s) for s in _need(data, "stops", "入户名单")),
            travel_min=float(_need(data, "travel_min", "车程")),
            distance_km=None if km is None else float(km),
            **legs,
        )


@dataclass(frozen=True)
class TeamPlan:
    """A home-visit team (``[outreach.teams]``) and its days of the month."""

    team: str
    label: str
    skills: tuple[str, ...]
    skill_labels: tuple[str, ...]
    days: tuple[TeamDay, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "label": self.label,
            "skills": list(self.skills),
            "skill_labels": list(self.skill_labels),
            "days": [d.to_json() for d in self.days],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeamPlan:
        return cls(
            team=str(_need(data, "team", "服务队代码")),
            label=str(_need(data, "label", "服务队名称")),
            skills=tuple(data.get("skills") or ()),
            skill_labels=tuple(data.get("skill_labels") or ()),
            days=tuple(TeamDay.from_json(d) for d in _need(data, "days", "入村日")),
        )


@dataclass(frozen=True)
class Unplanned:
    """A household needing a home visit that this month's plan leaves out, and why.

    For a split household (see :class:`OtherVisit`), one entry per visit not
    planned: ``services`` are that visit's, ``other_visits`` the household's others
    (JSON key only when not empty).
    ``reason_code`` is one of :data:`REASON_CODES`; ``reason`` the Chinese text.
    """

    person: Person
    village_code: str
    services: tuple[str, ...]
    service_labels: tuple[str, ...]
    priority: float
    reason: str
    reason_code: str = "shift_full"
    other_visits: tuple[OtherVisit, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.person.to_json(),
            "village_code": self.village_code,
            "services": list(self.services),
            "service_labels": list(self.service_labels),
            "priority": self.priority,
            "reason": self.reason,
            "reason_code": self.reason_code,
            **(
                {"other_visits": [o.to_json() for o in self.other_visits]}
                if self.other_visits
                else {}
            ),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Unplanned:
        reason = str(_need(data, "reason", "原因"))
        return cls(
            person=Person.from_json(data),
            village_code=str(_need(data, "village_code", "村社代码")),
            services=tuple(_need(data, "services", "服务")),
            service_labels=tuple(_need(data, "service_labels", "服务名称")),
            priority=float(_need(data, "priority", "优先级")),
            reason=reason,
            reason_code=str(data.get("reason_code") or _legacy_code(reason)),
            other_visits=_others(data),
        )


@dataclass(frozen=True)
class MonthPlan:
    """A month's outreach plan.

    Attributes
    ----------
    month
        ``YYYY-MM``.
    villages
        The month's villages; the service point is at the first one on the network.
    service_point
        Where people are invited and the teams take lunch.
    office, office_from
        The federation office the teams start from (None when unknown) and where
        it comes from: ``"config"`` (``[outreach] office``) or ``"store"``
        (``coverplan init --office``).
    start_at, start_note
        ``"office"`` or ``"service_point"``, and the sentence saying so.
    invited_people
        Everyone invited to the service point.
    teams
        The home-visit teams, their days and routes.
    unplanned
        Households left for next month, with the reason.
    off_network
        Points too far from the road network, in the form of
        :mod:`planner.coverage.offnetwork` (``kind`` ``"service_point"``: a village
        skipped as service point; ``"resident"``: households, per village).
    routine
        Routine visits per town.
    stats
        The totals.
    routing
        The routing problem and result of every outreach day (for checks; not
        part of the JSON).
    seconds
        Wall-clock planning time (not part of the JSON).
    phones, outlines
        Not in the JSON: visit key → full phone (for the team's own sheets only);
        village code → boundary rings, WGS-84 ``(lon, lat)`` (for the sheets' maps).
    """

    month: str
    villages: tuple[VillageDay, ...]
    service_point: ServicePoint
    office: Place | None
    office_from: str | None
    start_at: str
    start_note: str
    invited_people: tuple[InvitedPerson, ...]
    teams: tuple[TeamPlan, ...]
    unplanned: tuple[Unplanned, ...]
    off_network: tuple[Mapping[str, Any], ...]
    routine: tuple[RoutineVisits, ...]
    stats: Stats
    routing: tuple[tuple[RoutingProblem, RoutingResult], ...] = field(default=(), compare=False)
    seconds: float = field(default=0.0, compare=False)
    phones: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    outlines: Mapping[str, tuple[Any, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def team_days(self) -> Sequence[tuple[TeamPlan, TeamDay]]:
        """Every team-day, team by team."""
        return [(tm, d) for tm in self.teams for d in tm.days]

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON-serialisable data (WGS-84 points, HH:MM times): the
        ``--json`` document of ``coverplan outreach month`` and ``plan.json``."""
        return {
            "month": self.month,
            "villages": [v.to_json() for v in self.villages],
            "service_point": self.service_point.to_json(),
            "office": None if self.office is None else _place_json(self.office),
            "office_from": self.office_from,
            "start_at": self.start_at,
            "start_note": self.start_note,
            "invited_people": [p.to_json() for p in self.invited_people],
            "teams": [tm.to_json() for tm in self.teams],
            "unplanned": [u.to_json() for u in self.unplanned],
            "off_network": [dict(e) for e in self.off_network],
            "routine": [r.to_json() for r in self.routine],
            "stats": self.stats.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MonthPlan:
        """Read :meth:`to_json`'s form (e.g. a ``plan.json``).

        Raises
        ------
        InputError
            Naming the first key the plan lacks.
        """
        office = data.get("office") if isinstance(data, Mapping) else None
        return cls(
            month=str(_need(data, "month", "月份")),
            villages=tuple(VillageDay.from_json(v) for v in _need(data, "villages", "村社")),
            teams=tuple(TeamPlan.from_json(tm) for tm in _need(data, "teams", "服务队")),
            service_point=ServicePoint.from_json(_need(data, "service_point", "服务点")),
            office=None if office is None else _office_from(office),
            office_from=data.get("office_from"),
            start_at=str(_need(data, "start_at", "出发方式")),
            start_note=str(_need(data, "start_note", "出发说明")),
            invited_people=tuple(
                InvitedPerson.from_json(p) for p in _need(data, "invited_people", "邀请名单")
            ),
            unplanned=tuple(Unplanned.from_json(u) for u in _need(data, "unplanned", "顺延名单")),
            off_network=tuple(dict(e) for e in data.get("off_network") or ()),
            routine=tuple(RoutineVisits.from_json(r) for r in _need(data, "routine", "日常走访")),
            stats=Stats.from_json(_need(data, "stats", "统计")),
        )
