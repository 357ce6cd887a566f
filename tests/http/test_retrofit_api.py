"""``/api/v1/retrofits`` (aggregates, every role) and ``/retrofits/households``
(persons: admin, outreach of its towns; audited) on the example county, against
``coverplan retrofit --json`` on the same store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner.store.audit import audit_rows
from tests.http.county_ra import OUTREACH_TOWN, CountyApi, assert_private, county_api

URL = "/api/v1/retrofits"
YEAR = "2026"
MIN_COUNT = 5


@pytest.fixture
def api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[CountyApi]:
    with county_api(tmp_path, capsys, monkeypatch) as world:
        yield world


def test_summary_equals_the_cli_and_is_suppressed(api: CountyApi) -> None:
    cli = api.cli("retrofit", "--year", YEAR, "--quota", "3")
    doc = api.get("admin", URL, year=YEAR, quota=3).json()
    for key in ("year", "quota", "cost", "stopped_by", "candidates", "selected_count"):
        assert doc[key] == cli[key], key
    for key in ("before", "after", "by_town", "communities", "households"):
        assert doc[key] == cli[key], key
    assert doc["selected_count"] == 3 and doc["stopped_by"] == "quota"
    per_village = Counter(r["village_code"] for r in cli["selected"])
    assert {r["village_code"]: r["selected"] for r in doc["villages"] if r["selected"]} == dict(
        per_village
    )
    assert sum(r["candidates"] for r in doc["villages"]) == cli["candidates"]
    assert "selected" not in doc  # families are counted here, never listed

    for role in ("planner", "leader", "outreach", "integration"):
        r = api.get(role, URL, year=YEAR, quota=3)
        assert r.status_code == 200, role
        assert "*" not in r.text  # not even masked ID numbers
        assert_private(r.text)
        mine = r.json()
        for a, m in zip(doc["villages"], mine["villages"], strict=True):
            for k in ("candidates", "selected"):
                assert m[k] == (None if 0 < a[k] < MIN_COUNT else a[k])
        for a, m in zip(doc["by_town"], mine["by_town"], strict=True):
            assert m["eligible"] == (None if 0 < a["eligible"] < MIN_COUNT else a["eligible"])
        assert any(m["candidates"] is None for m in mine["villages"])  # the county is small
    assert api.get("none", URL).status_code == 401
    r = api.get("planner", URL, year=1800)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert api.get("planner", URL, quota=-1).status_code == 422


def test_households_for_admin_and_outreach_only_audited(api: CountyApi) -> None:
    cli = api.cli("retrofit", "--year", YEAR, "--quota", "10")
    params = {"year": YEAR, "quota": 10, "purpose": "改造入户核实"}
    doc = api.get("admin", f"{URL}/households", **params).json()
    assert doc["households"] == cli["selected"]
    assert doc["selected_count"] == cli["selected_count"] == len(cli["selected"])
    assert all("*" in h["masked_id"] for h in doc["households"])
    assert_private(str(doc))  # masked IDs, no names, no phones

    mine = api.get("outreach", f"{URL}/households", **params).json()
    ours = [h for h in cli["selected"] if h["village_code"].startswith(OUTREACH_TOWN)]
    assert mine["households"] == ours
    assert 0 < len(ours) < len(cli["selected"])  # both towns have selected families

    store = api.client.app.state.store  # type: ignore[attr-defined]
    rows = [r for r in audit_rows(store, limit=10) if r.target.startswith("retrofits/")]
    assert {(r.subject, r.purpose) for r in rows} == {
        ("admin", "改造入户核实"),
        ("outreach", "改造入户核实"),
    }
    outreach_row = next(r for r in rows if r.subject == "outreach")
    assert outreach_row.count == sum(h["member_count"] for h in ours)

    for who, status in (("planner", 403), ("leader", 403), ("integration", 403), ("none", 401)):
        assert api.get(who, f"{URL}/households", **params).status_code == status, who
    r = api.get("admin", f"{URL}/households", year=YEAR)
    assert r.status_code == 422 and "purpose" in r.json()["detail"]
