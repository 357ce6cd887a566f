"""What the outreach reads from the store (planner.store.outreach): the rules in the queries.

A lead needs a visit while open or visited, not once registered; only visits of an
outreach team count as a village's last outreach; a device is due when the latest
of its type has reached its service life and was not replaced.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import select

from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from planner.store.outreach import devices_due, lead_contacts, leads_to_visit, team_visits
from planner.units import LeadStatus
from tests.planner.test_visits import VILLAGE, build_town

OTHER = "330213100002"  # 溪口镇, another village of the packaged gazetteer


def _lead(s: object, name: str, village: str | None, status: LeadStatus) -> int:
    lead = t.Lead(
        key=f"lead-{name}",
        name=name,
        village_code=village,
        phone="13800001111",
        address=f"{name}的住址",
        status=status.value,
        content_hash=hashlib.sha256(name.encode()).hexdigest(),
    )
    s.add(lead)  # type: ignore[attr-defined]
    s.flush()  # type: ignore[attr-defined]
    return lead.id


def test_leads_to_visit_are_open_or_visited(store: Store, config: Config, tmp_path: Path) -> None:
    town = build_town(store, config, tmp_path)  # 王五: open, in 武岭社区
    with store.write() as s:
        visited = _lead(s, "赵六", VILLAGE, LeadStatus.VISITED)
        registered = _lead(s, "钱七", VILLAGE, LeadStatus.REGISTERED)
        elsewhere = _lead(s, "孙八", OTHER, LeadStatus.OPEN)
        nowhere = _lead(s, "周九", None, LeadStatus.OPEN)
    every = leads_to_visit(store)
    assert every["id"].tolist() == [town.lead, visited, elsewhere, nowhere]
    assert every["village_code"].tolist() == [VILLAGE, VILLAGE, OTHER, None]
    here = leads_to_visit(store, villages=[VILLAGE])
    assert here["id"].tolist() == [town.lead, visited]
    # contacts: every lead of the villages, whatever its status
    contacts = lead_contacts(store, villages=[VILLAGE])
    assert contacts.index.tolist() == [town.lead, visited, registered]
    assert contacts.loc[visited, "name"] == "赵六"
    assert contacts.loc[registered, "address"] == "钱七的住址"
    assert leads_to_visit(store, villages=["330213999999"]).empty


def test_team_visits_leave_out_routine_visits(store: Store, config: Config, tmp_path: Path) -> None:
    town = build_town(store, config, tmp_path)
    rid = town.people["甲"]
    with store.write() as s:
        for day, team in (
            (date(2026, 3, 2), "A"),
            (date(2026, 5, 4), None),
            (date(2026, 4, 6), "B"),
        ):
            s.add(
                t.Visit(
                    resident_id=rid,
                    village_code=VILLAGE,
                    visited_on=day,
                    team=team,
                    outcome="done",
                    services=[],
                )
            )
    visits = team_visits(store)
    assert visits["visited_on"].tolist() == [date(2026, 3, 2), date(2026, 4, 6)]
    assert visits["village_code"].tolist() == [VILLAGE, VILLAGE]


def test_devices_due_by_a_day(store: Store, config: Config, tmp_path: Path) -> None:
    # 甲: 轮椅 2018 + 5 years (due 2023-01-01), 拐杖 2021-12-25 + 5 (due 2026-12-25),
    # 助听器 2026-06-01 + 5 (due 2031)
    town = build_town(store, config, tmp_path)
    rid = town.people["甲"]
    due = devices_due(store, by=date(2026, 12, 31))
    assert list(due.columns) == ["resident_id", "device_type", "issued_on", "due_on"]
    assert sorted(due["device_type"]) == ["拐杖", "轮椅"]
    assert set(due["resident_id"]) == {rid}
    assert devices_due(store, by=date(2026, 12, 24))["device_type"].tolist() == ["轮椅"]
    with store.write() as s:
        for d in s.scalars(select(t.Device).where(t.Device.device_type == "轮椅")):
            d.replaced_on = date(2026, 1, 1)
    assert devices_due(store, by=date(2026, 12, 24)).empty
