"""Every household reachable by some team, or a true reason: on the demo district.

Two months are planned and every visit and every ``unplanned`` reason is
recomputed independently (:mod:`tests.planner.outreach.reasons`):

- the demo month of :mod:`tests.planner.outreach.test_month` (2026-12, the
  calendar's villages);
- 2027-12 in the four villages of 岳林街道 where the households whose services
  need skills no single team has live (found here from the register: a
  wheelchair user with a device due and a re-assessment due needs team A's
  ``device`` and team B's ``assessment``). Each of them gets one visit per
  team: planned, or left with the true reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from planner.networks import load_network
from planner.outreach.needs import month_end, person_needs
from planner.outreach.plan import MonthPlan
from planner.services.outreach import MonthOptions, outreach_month
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame
from planner.store.outreach import devices_due, leads_to_visit
from tests.demo_district import DemoDistrict
from tests.planner.outreach.checker import check
from tests.planner.outreach.reasons import able_teams, check_visits, recheck_unplanned

SECONDS = 2.0
TOWN = "330213002"  # 岳林街道


@pytest.fixture
def demo(demo_copy: DemoDistrict) -> Iterator[tuple[Store, Any]]:
    from planner.settings import get_config

    store = Store(demo_copy.db_url)
    network = load_network(store, config=get_config(), mode="drive").network
    yield store, network
    store.dispose()


def _needs(store: Store, config: Config, codes: list[str], year: int, month: int) -> Any:
    first = date(year, month, 1)
    home, _ = person_needs(
        residents_frame(store, personal=True), villages_frame(store),
        leads=leads_to_visit(store), devices_due=devices_due(store, by=month_end(first)),
        config=config, codes=codes, start=first,
    )  # fmt: skip
    return home


def _verify(store: Store, network: Any, config: Config, plan: MonthPlan) -> dict[str, str]:
    for problem, result in plan.routing:
        assert check(problem, result) == []
    year, month = map(int, plan.month.split("-"))
    home = _needs(store, config, [v.code for v in plan.villages], year, month)
    needs = {k: set(s) for k, s in zip(home["key"], home["services"], strict=True)}
    assert check_visits(plan, config=config, needs=needs) == []
    wrong, codes = recheck_unplanned(
        plan,
        config=config,
        network=network,
        residents=residents_frame(store, personal=True),
        villages=villages_frame(store),
    )
    assert wrong == []
    return codes


@pytest.mark.slow
def test_demo_split_households_are_visited_by_each_team_or_told_why(
    demo: tuple[Store, Any], config: Config
) -> None:
    store, network = demo
    plan = outreach_month(
        store,
        config=config,
        options=MonthOptions(year=2026, month=12, time_limit_s=SECONDS),
        network=network,
    )
    _verify(store, network, config, plan)

    villages = villages_frame(store)
    town = sorted(villages.loc[villages["town_code"] == TOWN, "code"])
    home = _needs(store, config, town, 2027, 12)
    split = home[[not able_teams(set(s), config) for s in home["skills"]]]
    assert len(split) == 4  # the demo's households needing two teams in 岳林街道
    codes = sorted(set(split["village_code"]))
    plan = outreach_month(
        store,
        config=config,
        options=MonthOptions(year=2027, month=12, villages=tuple(codes), time_limit_s=SECONDS),
        network=network,
    )
    recomputed = _verify(store, network, config, plan)
    doc = plan.to_json()
    stops = [(tm["team"], s) for tm in doc["teams"] for d in tm["days"] for s in d["stops"]]
    for key in split["key"]:
        rid = int(key[1:])
        mine = [(team, s["services"]) for team, s in stops if s["resident_id"] == rid]
        left = [u for u in doc["unplanned"] if u["resident_id"] == rid]
        # one visit by team A (device) and one by team B (re-assessment), each planned
        # or in unplanned with its reason
        visits = sorted([*(s for _, s in mine), *(u["services"] for u in left)])
        assert visits == [["device_replacement"], ["reassessment"]], key
        assert all(team == "A" for team, s in mine if s == ["device_replacement"])
        assert all(team == "B" for team, s in mine if s == ["reassessment"])
        for u in left:
            assert recomputed[f"{key}:{'+'.join(u['services'])}"] == u["reason_code"]
            assert "拆分入户" in u["reason"]
    assert plan.stats.split_households == 4
    assert plan.stats.visits_needed == len(home[home["village_code"].isin(codes)]) + 4
