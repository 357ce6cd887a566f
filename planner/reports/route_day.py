"""One team-day of a month plan as the route sheets show it (shared by HTML, XLSX, GPX,
map).

:func:`sheet_days` gives every team-day of a plan with its header lines
(:meth:`SheetDay.meta`), morning and afternoon stops and the phones and village
outlines that only the team's own sheets carry.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.outreach.plan import (
    MonthPlan,
    Place,
    PlannedStop,
    ServicePoint,
    TeamDay,
    VillageDay,
)
from planner.outreach.sheet_data import Ring

__all__ = [
    "ESTIMATED_HINT",
    "ESTIMATED_MARK",
    "LEAD_MARK",
    "SheetDay",
    "drive",
    "esc",
    "file_stem",
    "labels",
    "num",
    "point",
    "sheet_days",
    "stop_name",
    "team_dir",
]

_SAFE_NAME = re.compile(r"[^\w.-]+")
LEAD_MARK = "（疑似未登记）"
ESTIMATED_MARK = "位置估计"  # a stop without a point of its own (planner.outreach.hops)
ESTIMATED_HINT = "无住户点位，先到村委会，按地址询问"


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def num(value: object, digits: int = 1) -> str:
    if value is None or value == "":
        return ""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


def file_stem(day: str, team: str) -> str:
    return f"{_SAFE_NAME.sub('_', day)}_{_SAFE_NAME.sub('_', team)}"


def team_dir(team: str) -> str:
    return _SAFE_NAME.sub("_", team)


def labels(stop: PlannedStop) -> str:
    """The stop's services; for a split household, its other visits too."""
    return "；".join(["、".join(stop.service_labels), *(o.note() for o in stop.other_visits)])


def point(p: Place | ServicePoint | PlannedStop) -> tuple[float, float]:
    return float(p.lon), float(p.lat)


def stop_name(stop: PlannedStop) -> str:
    name = stop.person.name
    return name + LEAD_MARK if stop.is_lead else name


def drive(minutes: float | None, km: float | None) -> str:
    """``X 分钟，Y 公里`` (km to 10 m; left out when the plan has none)."""
    text = f"{num(minutes)} 分钟"
    return text + ("" if km is None else f"，{num(km, 2)} 公里")


@dataclass(frozen=True)
class SheetDay:
    """One team-day with what its header, map and rows need."""

    month: str
    team: str
    team_label: str
    skills: str
    date: str
    villages: str
    service_point: str
    day: TeamDay
    sp: ServicePoint
    phones: Mapping[str, str]
    outlines: tuple[Ring, ...]
    focus: tuple[Ring, ...]

    @property
    def stops(self) -> tuple[PlannedStop, ...]:
        return self.day.stops

    @property
    def morning(self) -> tuple[PlannedStop, ...]:
        return tuple(s for s in self.stops if s.arrival < self.day.lunch.start)

    @property
    def afternoon(self) -> tuple[PlannedStop, ...]:
        return tuple(s for s in self.stops if s.arrival >= self.day.lunch.start)

    @property
    def title(self) -> str:
        return f"{self.month} 康复入村社入户路线单 · {self.team_label}（{self.team}）· {self.date}"

    def phone(self, stop: PlannedStop) -> str:
        """The full phone for the team's sheet, else the masked one."""
        return self.phones.get(stop.visit_key) or stop.person.masked_phone

    def meta(self) -> list[tuple[str, str]]:
        d = self.day
        lunch = f"{d.lunch.start}–{d.lunch.end} {d.lunch.place}".strip()
        travel = f"路程 {drive(d.travel_min, d.distance_km)}"
        legs = []
        if d.to_lunch_min is not None:
            legs.append(f"前往午餐点 {drive(d.to_lunch_min, d.to_lunch_km)}")
        if d.to_end_min is not None:
            legs.append(f"返回 {drive(d.to_end_min, d.to_end_km)}")
        total = f"{d.stops_count} 户；{travel}" + (f"（含{'、'.join(legs)}）" if legs else "")
        return [
            ("月份", self.month),
            ("日期", self.date),
            ("村社", self.villages),
            ("服务队", f"{self.team_label}（{self.team}）"),
            ("人员", self.skills),
            ("服务点", self.service_point),
            ("出发", d.start.name),
            ("返回", d.end.name),
            ("午餐", lunch),
            ("合计", total),
        ]


def sheet_days(plan: MonthPlan) -> list[SheetDay]:
    """Every team-day of the plan, team by team, with the villages it serves."""
    by_code = {v.code: v for v in plan.villages}
    out = []
    for team, day in plan.team_days:
        on_day = [v for v in plan.villages if day.date in v.dates]
        codes = sorted({s.village_code for s in day.stops})
        here: Sequence[VillageDay] = (
            on_day or [by_code[c] for c in codes if c in by_code] or plan.villages
        )
        keys = {s.visit_key for s in day.stops}
        focus = {*codes, plan.service_point.village_code}
        out.append(
            SheetDay(
                month=plan.month,
                team=team.team,
                team_label=team.label or team.team,
                skills="、".join(team.skill_labels or team.skills),
                date=day.date.isoformat(),
                villages="、".join(f"{v.town_name}{v.name}" for v in here),
                service_point="、".join(dict.fromkeys(v.service_point.name for v in here)),
                day=day,
                sp=plan.service_point,
                phones={k: v for k, v in plan.phones.items() if k in keys},
                outlines=tuple(r for rings in plan.outlines.values() for r in rings),
                focus=tuple(r for c in sorted(focus) for r in plan.outlines.get(c, ())),
            )
        )
    return out
