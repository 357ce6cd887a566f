"""Hand-built month plans for the route-sheet tests (JSON form, as in ``plan.json``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from planner.outreach.plan import MonthPlan

VILLAGE = "330283100201"
OTHER = "330283100202"
OFFICE = {"name": "奉化区残联", "lon": 121.4068, "lat": 29.6551}
SP = {"name": "武岭村村委会", "lon": 121.240, "lat": 29.670, "village_code": VILLAGE}
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦"
STREETS = ("武岭路", "中兴路", "溪口镇畸山下村岩头自然村", "东街", "西街弄堂")


def square(lon: float, lat: float, half: float) -> tuple[tuple[float, float], ...]:
    """A closed square ring around (lon, lat), half-width ``half`` degrees."""
    return (
        (lon - half, lat - half),
        (lon + half, lat - half),
        (lon + half, lat + half),
        (lon - half, lat + half),
        (lon - half, lat - half),
    )


def stop(order: int, *, afternoon: bool = False, **kw: Any) -> dict[str, Any]:
    """Stop ``order``: 20 minutes of service, 1.2 km and 6 minutes from the previous one."""
    minute = 8 * 60 + 45 + 15 * order if not afternoon else 13 * 60 + 20 * (order - 8)
    hhmm = f"{minute // 60:02d}:{minute % 60:02d}"
    out: dict[str, Any] = {
        "order": order,
        "visit_key": f"R{500 + order}-2027-01-05-A",
        "resident_id": 500 + order,
        "lead_id": None,
        "name": f"{SURNAMES[order % len(SURNAMES)]}晓{order}",
        "masked_id": f"330283********{1000 + order}",
        "masked_phone": f"138****{5600 + order}",
        "address": f"浙江省宁波市奉化区溪口镇{STREETS[order % len(STREETS)]}{order * 7}号{order}幢",
        "village_code": VILLAGE if order % 3 else OTHER,
        "lon": 121.230 + (order % 6) * 0.004,
        "lat": 29.660 + (order // 6) * 0.005,
        "services": ["device_replacement", "stroke_rehab"] if order % 4 == 0 else ["stroke_rehab"],
        "service_labels": ["辅具更换", "脑卒中康复"] if order % 4 == 0 else ["脑卒中康复"],
        "arrival": hhmm,
        "start": hhmm,
        "departure": hhmm,
        "travel_min": 6.0,
        "service_min": 20.0,
        "point_source": "household",
        "travel_km": 1.2,
    }
    out.update(kw)
    return out


def day(n_stops: int, *, morning: int, to_lunch: tuple[float, float] = (70.5, 48.25)) -> dict:
    """A team-day of ``n_stops`` stops, the first ``morning`` of them before lunch;
    minutes and km the sum of the legs, as the planner writes them."""
    stops = [stop(k, afternoon=k > morning) for k in range(1, n_stops + 1)]
    legs_min = [s["travel_min"] for s in stops] + [to_lunch[0], 66.0]
    legs_km = [s["travel_km"] for s in stops] + [to_lunch[1], 47.5]
    return {
        "date": "2027-01-05",
        "start": OFFICE,
        "end": OFFICE,
        "lunch": {"start": "11:30", "end": "13:00", "place": SP["name"]},
        "stops": stops,
        "travel_min": round(sum(legs_min), 1),
        "distance_km": round(sum(legs_km), 2),
        "stops_count": len(stops),
        "to_lunch_min": to_lunch[0],
        "to_lunch_km": to_lunch[1],
        "to_end_min": 66.0,
        "to_end_km": 47.5,
    }


def month(days: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A month plan with one day per team (``days``: team → day)."""
    teams = [
        {
            "team": key,
            "label": f"第{'一二三'[k]}入户服务队",
            "skills": ["device", "rehab"],
            "skill_labels": ["辅具技师", "康复治疗师"],
            "days": [d],
        }
        for k, (key, d) in enumerate(days.items())
    ]
    return {
        "month": "2027-01",
        "villages": [
            {
                "code": VILLAGE,
                "name": "武岭村",
                "town_name": "溪口镇",
                "dates": ["2027-01-05"],
                "service_point": SP,
                "invited": [],
            }
        ],
        "service_point": SP,
        "office": OFFICE,
        "office_from": "store",
        "start_at": "office",
        "start_note": "入户队从奉化区残联出发并返回",
        "invited_people": [],
        "teams": teams,
        "unplanned": [],
        "off_network": [],
        "routine": [],
        "stats": {
            "households_needing_visit": 17,
            "planned": 17,
            "unplanned": 0,
            "invited": 0,
            "days": 1,
            "travel_min": 0,
            "feasible": True,
        },
    }


def with_extras(plan: MonthPlan) -> MonthPlan:
    """The plan with full phones (visit key → 1380000xxxx) and two village squares."""
    phones = {
        s.visit_key: f"1380000{s.person.resident_id or 0:04d}"
        for _, d in plan.team_days
        for s in d.stops
    }
    outlines = {
        VILLAGE: (square(121.240, 29.668, 0.014),),
        OTHER: (square(121.262, 29.668, 0.008),),
    }
    return dataclasses.replace(plan, phones=phones, outlines=outlines)
