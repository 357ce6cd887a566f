"""The demo month with honest travel between homes, checked independently.

The checker below recomputes every arrival of the plan from the hop rule as the
README states it, with its own inputs: the households' points and addresses
read from the store (not from the plan), village areas in UTM zone 51N (the
planner measures them on the ellipsoid), drive seconds from ``geo.traveltime``
between snapped network nodes (not the planner's routing matrix), and the
service minutes of the configuration. It never calls the planner's scheduling.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from geo.traveltime import od_matrix
from planner.networks import load_network
from planner.outreach.plan import MonthPlan, PlannedStop, TeamDay
from planner.services.outreach import MonthOptions, outreach_month
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame
from planner.store.outreach import lead_contacts
from tests.demo_district import DemoDistrict

pytestmark = pytest.mark.slow

YEAR, MONTH = 2026, 12
SECONDS = 2.0
UTM_51N = 32651
ROUNDING_S = 2  # a hop's whole seconds may differ by 1 s between area methods


@pytest.fixture
def demo(demo_copy: DemoDistrict) -> Iterator[tuple[Store, Any]]:
    from planner.settings import get_config

    store = Store(demo_copy.db_url)
    network = load_network(store, config=get_config(), mode="drive").network
    yield store, network
    store.dispose()


@dataclass(frozen=True)
class Where:
    """A place of a route: its network node, whether estimated, its village, its address."""

    node: int
    estimated: bool = False
    village: str | None = None
    address: str | None = None  # None: the office or the service point


def _clock(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 3600 + int(m) * 60


class Checker:
    """The hop rule, from the README, on the checker's own inputs."""

    def __init__(self, store: Store, network: Any, config: Config, plan: MonthPlan) -> None:
        self.config, self.network, self.plan = config, network, plan
        hops = config.outreach.hops
        self.min_s = math.ceil(hops.min_minutes * 60)
        vf = villages_frame(store).set_index("code")
        self.vf = vf
        areas = gpd.GeoSeries(list(vf["polygon"]), index=vf.index, crs=4326).to_crs(UTM_51N).area
        kmh = hops.walk_kmh if hops.mode == "walk" else hops.drive_kmh
        self.hop_s: dict[str, int] = {}
        for code, area in areas.items():
            if hops.by == "fixed" or not area > 0:
                minutes = hops.minutes
            else:
                mean_m = 128 / (45 * math.pi) * math.sqrt(area / math.pi) * hops.detour
                minutes = mean_m / (kmh * 1000 / 60)
            self.hop_s[str(code)] = math.ceil(max(minutes, hops.min_minutes) * 60)
        self.people = residents_frame(store, personal=True)
        codes = [v.code for v in plan.villages]
        self.leads = lead_contacts(store, villages=codes)

    def node(self, lon: float, lat: float) -> int:
        return int(self.network.snap([lon], [lat]).node[0])

    def where(self, stop: PlannedStop) -> tuple[Where, str]:
        """The stop's place from the store, and its point source by the rule."""
        code = stop.village_code
        if stop.person.resident_id is not None:
            r = self.people.loc[stop.person.resident_id]
            code = str(r["village_code"])
            own = bool(np.isfinite(r["lon"]) and np.isfinite(r["lat"]))
            hid = r["household_id"]
            addr = f"H{hid}" if isinstance(hid, str) and hid.strip() else f"A{r['address']}"
        else:
            own = False
            addr = f"A{self.leads.loc[stop.person.lead_id, 'address']}"
        if own:
            return Where(self.node(r["lon"], r["lat"]), False, code, addr), "household"
        v = self.vf.loc[code]
        return Where(self.node(v["lon"], v["lat"]), True, code, addr), "estimated"

    def hop(self, w: Where) -> int:
        return self.hop_s[str(w.village)] if w.estimated else 0

    def leg(self, a: Where, b: Where) -> tuple[int, int]:
        """Seconds of the move and the part of it that is hops."""
        if a.address is not None and a.address == b.address:
            return 0, 0
        if a.estimated and b.estimated and a.village == b.village:
            return self.hop(a), self.hop(a)
        od = od_matrix(self.network, [a.node], [b.node])
        net = 0 if a.node == b.node else math.ceil(float(od.seconds[0]))
        hops = self.hop(a) + self.hop(b)
        secs = net + hops
        if a.address is not None or b.address is not None:
            secs = max(secs, self.min_s)
        return secs, hops


def check_day(ch: Checker, day: TeamDay, stats: dict[str, Any]) -> list[str]:
    """Every rule the team-day breaks, with the checker's own times."""
    oc = ch.config.outreach
    plan = ch.plan
    sp = Where(ch.node(plan.service_point.lon, plan.service_point.lat))
    base = sp if plan.start_at != "office" or plan.office is None else None
    if base is None:
        assert plan.office is not None
        base = Where(ch.node(plan.office.lon, plan.office.lat))
    out: list[str] = []
    travel = 0
    halves = (
        (base, sp, _clock(oc.shift_start), _clock(oc.lunch_start), "上午"),
        (sp, base, _clock(oc.lunch_end), _clock(oc.shift_end), "下午"),
    )
    for start, end, earliest, latest, label in halves:
        stops = [
            s
            for s in day.stops
            if (_clock(s.arrival) < _clock(oc.lunch_start)) == (label == "上午")
        ]
        if not stops:
            continue
        t, here, slack_tol = earliest, start, 0
        for s in stops:
            w, source = ch.where(s)
            if s.point_source != source:
                out.append(f"{day.date} {s.visit_key}: point_source {s.point_source} != {source}")
            stats["sources"][source] += 1
            secs, hops = ch.leg(here, w)
            slack_tol += ROUNDING_S if hops else 0
            stats["hop_s"] += hops
            if here.address != w.address and s.travel_min < oc.hops.min_minutes:
                out.append(f"{s.visit_key}: move of {s.travel_min} min < the minimum")
            if here.address == w.address and here.address is not None:
                stats["same_address"] += 1
            stats["moves"] += 1
            t += secs
            travel += secs
            planned = _clock(s.arrival)
            if not planned - slack_tol <= t < planned + 60 + slack_tol:
                out.append(f"{s.visit_key}: arrival {s.arrival}, recomputed {t} s")
            t += round(sum(oc.services[k].minutes for k in s.services) * 60)
            planned = _clock(s.departure)
            if not planned - slack_tol <= t < planned + 60 + slack_tol:
                out.append(f"{s.visit_key}: departure {s.departure}, recomputed {t} s")
            here = w
        secs, hops = ch.leg(here, end)
        stats["hop_s"] += hops
        t += secs
        travel += secs
        if t > latest + slack_tol:
            out.append(f"{day.date} {label}: back at {t} s > {latest} s")
        stats["slack_min"].append(round((latest - t) / 60, 1))
    legs = sum(1 for _ in day.stops) + 2
    if abs(day.travel_min * 60 - travel) > 6 + ROUNDING_S * legs:  # 0.1 min per half
        out.append(f"{day.date}: travel {day.travel_min} min, recomputed {travel / 60:.1f} min")
    return out


def test_demo_month_moves_are_honest(demo: Any, config: Config) -> None:
    store, network = demo
    options = MonthOptions(year=YEAR, month=MONTH, time_limit_s=SECONDS)
    plan = outreach_month(store, config=config, options=options, network=network)
    for _problem, result in plan.routing:
        assert result.is_feasible, result.violations
    checker = Checker(store, network, config, plan)
    stats: dict[str, Any] = {
        "sources": {"household": 0, "recorded": 0, "estimated": 0},
        "hop_s": 0,
        "moves": 0,
        "same_address": 0,
        "slack_min": [],
    }
    problems = [p for _, day in plan.team_days for p in check_day(checker, day, stats)]
    assert problems == []
    # the checker sees a plan made without hops: with hops and minimum at 0 it
    # finds the plan's arrivals too late
    blind = Checker(store, network, config, plan)
    blind.hop_s = dict.fromkeys(blind.hop_s, 0)
    blind.min_s = 0
    scratch = {**stats, "sources": dict.fromkeys(stats["sources"], 0), "slack_min": []}
    assert any(check_day(blind, day, scratch) for _, day in plan.team_days)
    stops = [s for _, d in plan.team_days for s in d.stops]
    assert len(stops) == plan.stats.planned > 0
    assert sum(stats["sources"].values()) == len(stops)
    assert stats["sources"]["estimated"] > 0  # the demo's households mostly lack a point
    assert all(x >= 0 for x in stats["slack_min"])
    print(
        f"\ndemo {YEAR}-{MONTH:02d}: {len(stops)} stops — {stats['sources']}; "
        f"hop minutes {stats['hop_s'] / 60:.1f}; moves {stats['moves']} "
        f"({stats['same_address']} at one address); slack per half-day "
        f"{sorted(stats['slack_min'])} min; unplanned {plan.stats.unplanned}"
    )
