"""``/api/v1/outreach``: the calendar, the month plan by role, the route sheets.

Known answers come from the CLI's ``--json`` on the same store, and by hand from
:mod:`tests.county` (January 2027 visits 竹园村 V08: team A 董建国, 萧秀英,
程大勇; team B 袁志明 and the lead 邓小芳; 5 households; V08's need: 4 devices
overdue, 1 supervised medication, 1 open lead, see tests/e2e/test_second_district.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from planner.store.audit import audit_rows
from planner.store.core import open_district_store
from tests.county import VILLAGE
from tests.http.county_rb import MONTH, CountyApi, county_api, scan_private

V08 = VILLAGE["V08"].code
TEAM_A = {"董建国", "萧秀英", "程大勇"}
TEAM_B = {"袁志明", "邓小芳"}
PURPOSE = {"purpose": "1月入户走访"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    with county_api(tmp_path_factory.mktemp("outreach_api")) as a:
        yield a


@pytest.fixture(scope="module")
def cli_month(api: CountyApi) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        api.env(mp)
        doc: dict[str, Any] = api.cli("outreach", "month", MONTH)
    return doc


def _month(api: CountyApi, user: str, **params: str) -> Any:
    r = api.client.get(f"/api/v1/outreach/months/{MONTH}", headers=api.as_(user), params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _audit(api: CountyApi) -> list[Any]:
    store = open_district_store(api.db)
    try:
        return audit_rows(store, limit=100)
    finally:
        store.dispose()


# --- calendar ---------------------------------------------------------------------------


def test_calendar_equals_the_cli_and_suppresses_small_counts(
    api: CountyApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.env(monkeypatch)
    cli = api.cli("outreach", "year", "--from", MONTH)
    url = "/api/v1/outreach/calendar"
    admin = api.client.get(url, params={"from": MONTH}, headers=api.as_("admin"))
    assert admin.status_code == 200, admin.text
    assert admin.json() == cli
    planner = api.client.get(url, params={"from": MONTH}, headers=api.as_("planner")).json()
    first = planner["months"][0]["villages"][0]
    assert first["code"] == V08 and first["score"] == pytest.approx(20.2)
    # 4 devices overdue, 1 supervised medication, 1 open lead: all under 5 → null;
    # 5 home visits are shown; the policy-gap score and months are not counts
    assert first["parts"]["devices_overdue"] is None
    assert first["parts"]["supervised_medication"] is None
    assert first["parts"]["leads_open"] is None
    assert first["home_visits"] == 5
    cli_first = cli["months"][0]["villages"][0]
    assert first["parts"]["months_since"] == cli_first["parts"]["months_since"]
    assert planner["towns"] == cli["towns"]
    for user in ("planner", "leader", "team_a"):
        r = api.client.get(url, params={"from": MONTH}, headers=api.as_(user))
        assert r.status_code == 200
        assert scan_private(r.text, api.names) == []
    assert api.client.get(url, params={"from": MONTH}).status_code == 401
    bad = api.client.get(url, params={"from": "2027-13"}, headers=api.as_("planner"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


# --- the month plan ---------------------------------------------------------------------


def test_admin_gets_the_cli_plan_and_an_audit_row(
    api: CountyApi, cli_month: dict[str, Any]
) -> None:
    doc = _month(api, "admin", **PURPOSE)
    assert doc["plan"] == cli_month
    assert doc["team"] is None
    rows = [r for r in _audit(api) if r.target == f"outreach/{MONTH}" and r.subject == "admin"]
    assert rows and rows[0].purpose == PURPOSE["purpose"] and rows[0].count > 0
    # no purpose: the summary only, and no audit row
    before = len(_audit(api))
    r = api.client.get(f"/api/v1/outreach/months/{MONTH}", headers=api.as_("admin"))
    assert r.status_code == 200 and r.json()["plan"] is None
    assert scan_private(r.text, api.names) == [] and len(_audit(api)) == before


def test_planner_and_leader_get_the_plan_without_persons(
    api: CountyApi, cli_month: dict[str, Any]
) -> None:
    for user in ("planner", "leader"):
        r = api.client.get(f"/api/v1/outreach/months/{MONTH}", headers=api.as_(user))
        assert r.status_code == 200, r.text
        assert scan_private(r.text, api.names) == []
        doc = r.json()
        assert doc["plan"] is None and doc["team"] is None
        assert [v["code"] for v in doc["villages"]] == [V08]
        assert doc["service_point"] == cli_month["service_point"]
        days = {t["team"]: t["days"] for t in doc["teams"]}
        cli_days = {t["team"]: t["days"] for t in cli_month["teams"]}
        for team, expect in cli_days.items():
            assert [d["travel_min"] for d in days[team]] == [d["travel_min"] for d in expect]
            assert [d["date"] for d in days[team]] == [d["date"] for d in expect]
        # 3 and 2 households a team: under 5, suppressed; 5 households in all are shown
        assert all(d["stops_count"] is None for ds in days.values() for d in ds)
        assert doc["stats"]["households_needing_visit"] == 5
        assert doc["unplanned_by_reason"] == dict.fromkeys(doc["reason_labels"], 0)
        # 曹红 alone is invited (device assessment): 1 → null; the other services 0
        cli_counts = [i["count"] for i in cli_month["villages"][0]["invited"]]
        assert cli_counts == [1, 0, 0]
        assert [i["count"] for i in doc["villages"][0]["invited"]] == [None, 0, 0]
        # routine visits: 2 and 3 poor households per town, both suppressed
        assert [r["poor_households"] for r in doc["routine"]] == [None, None]
    assert api.client.get(f"/api/v1/outreach/months/{MONTH}").status_code == 401


def test_outreach_gets_its_own_teams_stops_masked(api: CountyApi) -> None:
    r = api.client.get(
        f"/api/v1/outreach/months/{MONTH}", headers=api.as_("team_a"), params=PURPOSE
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["plan"] is None and doc["team"]["team"] == "A"
    stops = [s for d in doc["team"]["days"] for s in d["stops"]]
    assert {s["name"] for s in stops} == TEAM_A
    assert not any(n in r.text for n in TEAM_B)  # team B's persons are not shown
    assert all("*" in s["masked_id"] and "*" in s["masked_phone"] for s in stops)
    assert scan_private(r.text, []) == []  # no full ID or phone number
    rows = [r for r in _audit(api) if r.subject == "team_a" and r.target == f"outreach/{MONTH}"]
    assert rows and rows[0].count == 3


# --- route sheets -----------------------------------------------------------------------


def _day(cli_month: dict[str, Any], team: str) -> str:
    days = next(t["days"] for t in cli_month["teams"] if t["team"] == team)
    return str(days[0]["date"])


def test_route_sheets_for_the_own_team_only(api: CountyApi, cli_month: dict[str, Any]) -> None:
    day = _day(cli_month, "A")
    base = f"/api/v1/outreach/months/{MONTH}/sheets/A/{day}"
    r = api.client.get(f"{base}.html", headers=api.as_("team_a"), params=PURPOSE)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert all(n in r.text for n in TEAM_A) and not any(n in r.text for n in TEAM_B)
    assert "1390999" in r.text  # full phones on the team's own sheet (county phones 1390999…)
    x = api.client.get(f"{base}.xlsx", headers=api.as_("team_a"), params=PURPOSE)
    assert x.status_code == 200
    book = load_workbook(io.BytesIO(x.content))
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert cells >= TEAM_A
    g = api.client.get(f"{base}.gpx", headers=api.as_("admin"), params=PURPOSE)
    assert g.status_code == 200 and g.content.startswith(b"<?xml")
    # another team's sheet: 404, exactly as a sheet that does not exist
    other = api.client.get(f"{base}.xlsx", headers=api.as_("team_b"), params=PURPOSE)
    later = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    missing = api.client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/B/{later}.xlsx",
        headers=api.as_("team_b"),
        params=PURPOSE,
    )
    assert other.status_code == missing.status_code == 404
    assert other.json()["title"] == missing.json()["title"]
    assert other.json()["detail"].replace(f"A {day}", "") == missing.json()["detail"].replace(
        f"B {later}", ""
    )
    # planners and leaders never get a sheet; nobody without credentials or purpose
    for user in ("planner", "leader"):
        r = api.client.get(f"{base}.xlsx", headers=api.as_(user), params=PURPOSE)
        assert r.status_code == 403
    assert api.client.get(f"{base}.xlsx", params=PURPOSE).status_code == 401
    assert api.client.get(f"{base}.xlsx", headers=api.as_("team_a")).status_code == 422
    rows = [r for r in _audit(api) if r.action == "export"]
    targets = {(r.subject, r.target, r.purpose) for r in rows}
    assert ("team_a", f"outreach/{MONTH}/sheets/A/{day}.xlsx", PURPOSE["purpose"]) in targets
    assert ("admin", f"outreach/{MONTH}/sheets/A/{day}.gpx", PURPOSE["purpose"]) in targets
    assert not any(r.subject == "team_b" for r in rows)  # a 404 exports nothing
    assert next(r.count for r in rows if r.subject == "team_a") == 3


def test_openapi_declares_the_routes(api: CountyApi) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    sheet = paths["/api/v1/outreach/months/{month}/sheets/{team}/{day}.{fmt}"]["get"]
    assert {"401", "403", "404", "422"} <= set(sheet["responses"])
    month = paths["/api/v1/outreach/months/{month}"]["get"]
    assert {"401", "403", "422"} <= set(month["responses"])
