"""A team-day's drive, minutes and kilometres, empty shifts included (a toy network).

Office O, service point S and one household H on a three-node road network:
O–S 100 min / 48 km, O–H 100 min / 50 km, H–S 10 min / 5 km. H needs 100
minutes of service: the morning (08:30–11:30) cannot take it (100 + 100 + 10 =
210 > 180 min), the afternoon (13:00–17:00) can (10 + 100 + 100 = 210 ≤ 240).
The team with H still drives O→S in the morning: its day is 100 + 10 + 100 =
210 min and 48 + 5 + 50 = 103 km (the routing's own travel counts only the
afternoon, 110 min); the other team drives O→S→O, 200 min and 96 km.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from geo.graph import RoadNetwork
from planner.outreach.home_visits import (
    OFFICE,
    HomeVisits,
    locate_households,
    route_days,
    servable,
)
from planner.outreach.plan import MonthPlan, Place, ServicePoint, TeamDay
from planner.reports.route_sheets import write_route_sheets
from planner.settings import Config
from tests.planner.outreach.sheet_plans import day, month

CODE = "330283100201"
DAY = date(2027, 1, 5)
LON = (121.40, 121.24, 121.25)  # O, S, H
LAT = (29.66, 29.67, 29.67)
PERSON = {"name": ["张三"], "id_number": ["330283197001011234"], "phone": ["13800001111"]}
PERSON |= {"address": ["武岭路1号"]}
EDGES = ((0, 1, 6000, 48000), (0, 2, 6000, 50000), (2, 1, 600, 5000))  # u, v, s, m


def _network() -> RoadNetwork:
    both = [*EDGES, *((v, u, s, m) for u, v, s, m in EDGES)]
    return RoadNetwork.from_edges(
        mode="drive",
        lon=LON,
        lat=LAT,
        u=[e[0] for e in both],
        v=[e[1] for e in both],
        seconds=[e[2] for e in both],
        metres=[e[3] for e in both],
    )


def _plan_teams(config: Config) -> tuple[dict[str, TeamDay], float]:
    hh = {
        "key": "R1",
        "resident_id": 1,
        "lead_id": None,
        "village_code": CODE,
        "lon": LON[2],
        "lat": LAT[2],
        "services": ["stroke_rehab"],
        "minutes": 100,
        "skills": frozenset({"rehab"}),
        "priority": 5.0,
    }
    m = HomeVisits(
        config=config,
        vf=pd.DataFrame({"name": ["武岭村"]}, index=pd.Index([CODE], name="code")),
        people=pd.DataFrame(PERSON, index=pd.Index([1], name="id")),
        contacts=pd.DataFrame(columns=["name", "phone", "address"]),
        hh=[hh],
        sp=ServicePoint(name="武岭村村委会", lon=LON[1], lat=LAT[1], village_code=CODE),
        base=Place(name="区残联", lon=LON[0], lat=LAT[0]),
        begin=OFFICE,
    )
    home = pd.DataFrame([hh])
    locate_households(m, _network(), home, villages=[CODE], max_m=500)
    teams, routing, left = route_days(m, [DAY], servable(m), seconds=1, seed=1, progress=None)
    assert left == []
    ((_, result),) = routing
    days = {tm.team: d for tm in teams for d in tm.days}
    return days, result.travel_s / 60


def test_empty_shifts_count_their_drive(config: Config) -> None:
    days, routing_min = _plan_teams(config)
    busy = next(d for d in days.values() if d.stops)
    idle = next(d for d in days.values() if not d.stops)
    (stop,) = busy.stops
    assert (stop.travel_min, stop.travel_km) == (10.0, 5.0)
    assert (busy.to_lunch_min, busy.to_lunch_km) == (100.0, 48.0)  # the empty morning
    assert (busy.to_end_min, busy.to_end_km) == (100.0, 50.0)
    assert (busy.travel_min, busy.distance_km) == (210.0, 103.0)
    assert (idle.travel_min, idle.distance_km) == (200.0, 96.0)
    assert (idle.to_lunch_min, idle.to_end_min) == (100.0, 100.0)
    assert routing_min == 110.0  # what the day reported before empty shifts counted


def _header_drive(text: str) -> tuple[float, float]:
    total = re.search(r"<dt>合计</dt><dd>[^<]*?路程 ([\d.]+) 分钟，([\d.]+) 公里", text)
    assert total, "the header has no 路程 … 分钟，… 公里"
    return float(total.group(1)), float(total.group(2))


def test_sheet_header_gives_the_days_minutes_and_km(config: Config, tmp_path: Path) -> None:
    days, _ = _plan_teams(config)
    plan = MonthPlan.from_json(month({"A": day(1, morning=0), "B": day(1, morning=0)}))
    teams = tuple(dataclasses.replace(tm, days=(days[tm.team],)) for tm in plan.teams)
    files = write_route_sheets(dataclasses.replace(plan, teams=teams), tmp_path / "out")
    for path, tm in zip(files.html, teams, strict=True):
        d = tm.days[0]
        legs_km = sum(s.travel_km or 0 for s in d.stops) + (d.to_lunch_km or 0) + (d.to_end_km or 0)
        legs_min = sum(s.travel_min for s in d.stops) + (d.to_lunch_min or 0) + (d.to_end_min or 0)
        minutes, km = _header_drive(path.read_text(encoding="utf-8"))
        assert km == pytest.approx(legs_km) and minutes == pytest.approx(legs_min)
        assert (minutes, km) == ((210.0, 103.0) if d.stops else (200.0, 96.0))


def test_hand_plan_header_km_equal_the_legs(tmp_path: Path) -> None:
    """17 stops of 1.2 km, 48.25 km to lunch, 47.5 km home: 116.15 km, 238.5 min."""
    plan = MonthPlan.from_json(month({"A": day(17, morning=8, to_lunch=(70.5, 48.25))}))
    (path,) = write_route_sheets(plan, tmp_path / "out").html
    assert _header_drive(path.read_text(encoding="utf-8")) == (238.5, 116.15)


def test_day_legs_round_trip_through_json() -> None:
    data = month({"A": day(3, morning=2)})
    plan = MonthPlan.from_json(data)
    d = plan.teams[0].days[0]
    assert (d.to_lunch_km, d.to_end_min, d.stops[0].travel_km) == (48.25, 66.0, 1.2)
    assert plan.to_json() == data
