"""The plain records of the month plan: service point, villages, invitations,
persons, the towns' routine-visit lists and the totals, with their JSON form.

Split from :mod:`planner.outreach.plan` (which re-exports every name here);
see there for the whole plan. Points are WGS-84 lon/lat; times ``HH:MM``;
durations minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, ClassVar, Self

from geo.gazetteer import Place
from planner.errors import InputError

__all__ = [
    "REASON_CODES",
    "Invitation",
    "InvitedPerson",
    "Person",
    "RoutinePerson",
    "RoutineVisits",
    "ServicePoint",
    "Stats",
    "VillageDay",
]


def _need(data: Mapping[str, Any], key: str, what: str) -> Any:
    """``data[key]``, or :class:`InputError` naming the key (``None`` is refused too)."""
    if not isinstance(data, Mapping) or key not in data or data[key] is None:
        raise InputError(f"月计划缺少「{key}」（{what}）；请重新生成月计划")
    return data[key]


_CASTS: dict[str, Callable[[Any], Any]] = {"int": int, "float": float, "str": str, "bool": bool}


class _Record:
    """A flat part of the plan: its JSON is its fields, in their order.

    :meth:`from_json` requires every field (a ``… | None`` field may be null)
    and converts the values to the field's type.
    """

    _what: ClassVar[str] = ""  # what the record is, in Chinese (for the missing-key message)

    def to_json(self) -> dict[str, Any]:
        """The fields, in order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        """Read :meth:`to_json`'s form."""
        values: dict[str, Any] = {}
        for f in fields(cls):  # type: ignore[arg-type]
            kind = str(f.type)
            if kind.endswith("| None"):
                value = data.get(f.name) if isinstance(data, Mapping) else None
                cast = _CASTS[kind.removesuffix("| None").strip()]
                values[f.name] = None if value is None else cast(value)
            else:
                values[f.name] = _CASTS[kind](_need(data, f.name, cls._what))
        return cls(**values)


def _place_json(p: Place | ServicePoint) -> dict[str, Any]:
    return (
        p.to_json() if isinstance(p, ServicePoint) else {"name": p.name, "lon": p.lon, "lat": p.lat}
    )


def _place_from(data: Mapping[str, Any]) -> Place | ServicePoint:
    if isinstance(data, Mapping) and "village_code" in data:
        return ServicePoint.from_json(data)
    return _office_from(data)


def _office_from(data: Mapping[str, Any]) -> Place:
    return Place(
        name=str(_need(data, "name", "地点名称")),
        lon=float(_need(data, "lon", "地点经度")),
        lat=float(_need(data, "lat", "地点纬度")),
    )


@dataclass(frozen=True)
class ServicePoint:
    """The month's on-site service point (现场服务点), at a village's point.

    ``address`` is shown on the index page when set (the planner does not set it).
    """

    name: str
    lon: float
    lat: float
    village_code: str
    address: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"name", "lon", "lat", "village_code"}`` (+ ``"address"`` when set)."""
        out: dict[str, Any] = {
            "name": self.name,
            "lon": self.lon,
            "lat": self.lat,
            "village_code": self.village_code,
        }
        if self.address is not None:
            out["address"] = self.address
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServicePoint:
        """Read :meth:`to_json`'s form."""
        return cls(
            name=str(_need(data, "name", "服务点名称")),
            lon=float(_need(data, "lon", "服务点经度")),
            lat=float(_need(data, "lat", "服务点纬度")),
            village_code=str(_need(data, "village_code", "服务点村社代码")),
            address=data.get("address"),
        )


@dataclass(frozen=True)
class Invitation(_Record):
    """How many of a village's people are invited to the point for one service."""

    _what: ClassVar[str] = "邀请人数"

    service: str
    label: str
    count: int


@dataclass(frozen=True)
class VillageDay:
    """A village of the month: its outreach days, the service point, the invitations."""

    code: str
    name: str
    town_name: str
    dates: tuple[date, ...]
    service_point: ServicePoint
    invited: tuple[Invitation, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "town_name": self.town_name,
            "dates": [d.isoformat() for d in self.dates],
            "service_point": self.service_point.to_json(),
            "invited": [i.to_json() for i in self.invited],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VillageDay:
        return cls(
            code=str(_need(data, "code", "村社代码")),
            name=str(_need(data, "name", "村社名称")),
            town_name=str(_need(data, "town_name", "镇街名称")),
            dates=tuple(date.fromisoformat(d) for d in _need(data, "dates", "入村日期")),
            service_point=ServicePoint.from_json(_need(data, "service_point", "服务点")),
            invited=tuple(Invitation.from_json(i) for i in _need(data, "invited", "邀请")),
        )


@dataclass(frozen=True)
class InvitedPerson(_Record):
    """A person invited to the service point for one service."""

    _what: ClassVar[str] = "邀请名单"

    resident_id: int
    masked_id: str
    name: str
    village_code: str
    service: str
    label: str


@dataclass(frozen=True)
class Person(_Record):
    """Who a home visit is for: a registered resident or a lead (疑似未登记), masked."""

    _what: ClassVar[str] = "入户对象"

    resident_id: int | None
    lead_id: int | None
    name: str
    masked_id: str
    masked_phone: str
    address: str


REASON_CODES: dict[str, str] = {
    "no_team_skill": "没有具备所需技能的入户服务队",
    "not_located": "没有住户点位，所在村社也没有点位",
    "off_network": "距路网过远",
    "too_far": "车程过远，半天班次内无法往返",
    "shift_full": "本月时间排满",
}
"""``Unplanned.reason_code`` values, with what each means (the ``reason`` says it in full)."""


@dataclass(frozen=True)
class RoutinePerson(_Record):
    """A resident on a town's routine-visit list (``last_visit``: ISO day or None)."""

    _what: ClassVar[str] = "日常走访名单"

    resident_id: int
    masked_id: str
    name: str
    village_name: str
    last_visit: str | None


@dataclass(frozen=True)
class RoutineVisits:
    """A town's routine home visits of the month (town officers, not the teams).

    ``poor``: poor households not yet visited this month (all must be);
    ``overdue_people``: others with no home visit for over a year.
    """

    town_code: str
    town_name: str
    poor_households: int
    poor_visited: int
    overdue: int
    poor: tuple[RoutinePerson, ...]
    overdue_people: tuple[RoutinePerson, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "town_code": self.town_code,
            "town_name": self.town_name,
            "poor_households": self.poor_households,
            "poor_visited": self.poor_visited,
            "overdue": self.overdue,
            "poor": [p.to_json() for p in self.poor],
            "overdue_people": [p.to_json() for p in self.overdue_people],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RoutineVisits:
        return cls(
            town_code=str(_need(data, "town_code", "镇街代码")),
            town_name=str(_need(data, "town_name", "镇街名称")),
            poor_households=int(_need(data, "poor_households", "困难户数")),
            poor_visited=int(_need(data, "poor_visited", "本月已走访困难户")),
            overdue=int(_need(data, "overdue", "超期未走访人数")),
            poor=tuple(RoutinePerson.from_json(p) for p in data.get("poor") or ()),
            overdue_people=tuple(
                RoutinePerson.from_json(p) for p in data.get("overdue_people") or ()
            ),
        )


@dataclass(frozen=True)
class Stats(_Record):
    """The month's totals (households, invitations, days, travel minutes).

    ``planned`` counts the visits on routes and ``unplanned`` the entries of
    :attr:`MonthPlan.unplanned`; a split household is one of
    ``households_needing_visit`` and one visit per team of ``visits_needed``, so
    ``planned + unplanned == visits_needed`` (``None``, and no JSON key, in plans
    written before households were split).
    """

    _what: ClassVar[str] = "统计"

    households_needing_visit: int
    planned: int
    unplanned: int
    invited: int
    days: int
    travel_min: float
    feasible: bool
    visits_needed: int | None = None  # visits (a split household counts one per team)
    split_households: int | None = None  # households split into visits by several teams

    def to_json(self) -> dict[str, Any]:
        """The fields, in order (the split counts only when known)."""
        return {k: v for k, v in super().to_json().items() if v is not None}
