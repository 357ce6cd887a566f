"""``/api/v1/coverage``, ``/coverage/villages(.geojson)``, ``/coverage/towns``,
``/gaps`` and ``/indicators`` on the example county: the figures of the CLI's
``--json`` on the same store, suppressed for every role but admin, cached per
data version, and the role matrix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planner.services.accounts import add_key
from tests.county import VILLAGE, make_county
from tests.http.county_ra import CountyApi, assert_private, county_api

MIN_COUNT = 5  # [privacy] min_count
ROUTES = (
    "/api/v1/coverage",
    "/api/v1/coverage/villages",
    "/api/v1/coverage/villages.geojson",
    "/api/v1/coverage/towns",
    "/api/v1/gaps",
    "/api/v1/indicators",
)


@pytest.fixture
def api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[CountyApi]:
    with county_api(tmp_path, capsys, monkeypatch) as world:
        yield world


def _shown(value: Any) -> Any:
    """What a planner sees of an admin's count."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < MIN_COUNT:
        return None
    return value


def test_admin_figures_equal_the_cli(api: CountyApi) -> None:
    cli = api.cli("coverage")
    doc = api.get("admin", "/api/v1/coverage").json()
    assert doc["today"] == cli["today"]
    assert doc["facility_types"] == cli["facility_types"]
    assert doc["indicators"] == cli["indicators"]
    assert doc["policy_checks"] == cli["policy_checks"]
    assert doc["awaiting_review"] == cli["awaiting_review"]
    home = next(t for t in doc["facility_types"] if t["type"] == "home")
    assert home["facilities"] == 2 and home["capacity"] == 40  # V02 and V07, 20 places each
    station = next(t for t in doc["facility_types"] if t["type"] == "psych_station")
    # tests/planner/siting/test_changes.py: the 12 psychiatric persons, 7 within 30 minutes
    assert (station["eligible"], station["covered"]) == (12, 7)
    only = api.get("admin", "/api/v1/coverage", type="psych_station").json()
    assert [t["type"] for t in only["facility_types"]] == ["psych_station"]

    towns = api.get("admin", "/api/v1/coverage/towns").json()
    expected = [
        {"town_code": t["town_code"], "town_name": t["town_name"], "has_home": t["has_home"], **f}
        for t in cli["towns"]
        for f in t["facility_types"]
    ]
    assert [{k: r[k] for k in e} for r, e in zip(towns, expected, strict=True)] == expected
    by_town = {r["town_name"]: r["covered"] for r in towns if r["type"] == "psych_station"}
    assert by_town == {"清河街道": 4, "云岭镇": 3}

    rows = api.get("admin", "/api/v1/coverage/villages", type="psych_station").json()
    assert len(rows) == 12 and {r["type"] for r in rows} == {"psych_station"}
    covered = {r["village_code"]: r["covered"] for r in rows if r["covered"]}
    # V01 王强, V02 杨帆, V03 徐芳, V05 高翔, V07 谢婷, V08 于洁 and 袁志明
    assert covered == {
        VILLAGE[k].code: n
        for k, n in (("V01", 1), ("V02", 1), ("V03", 1), ("V05", 1), ("V07", 1), ("V08", 2))
    }
    for town in ("清河街道", "云岭镇"):
        assert sum(r["covered"] for r in rows if r["town_name"] == town) == by_town[town]
    geo = api.get("admin", "/api/v1/coverage/villages.geojson", type="psych_station").json()
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 12
    r = api.get("admin", "/api/v1/coverage/villages.geojson")
    assert r.headers["content-type"] == "application/geo+json"
    v08 = next(f for f in geo["features"] if f["id"] == VILLAGE["V08"].code)
    assert v08["properties"]["by_type"]["psych_station"]["covered"] == 2
    assert v08["geometry"]["type"] == "Point"  # 云岭镇's villages are points only

    gaps = api.get("admin", "/api/v1/gaps", top=3).json()
    cli_gaps = api.cli("gaps", "--top", "3")
    for key in ("coverage_gaps", "policy_gaps", "off_network", "not_located"):
        assert gaps[key] == cli_gaps[key], key
    for row in gaps["coverage_gaps"]:
        assert row["unmet"] == row["in_reach_no_place"] + row["out_of_reach"]

    table = api.get("admin", "/api/v1/indicators").json()
    cli_table = api.cli("indicators")
    assert len(table["indicators"]) == 14
    for key in ("today", "home_reading", "indicators", "policy_checks", "awaiting_review"):
        assert table[key] == cli_table[key], key


def _pairs(admin: Any, other: Any) -> Iterator[tuple[Any, Any]]:
    """Every (admin value, other value) at the same place of two JSON documents."""
    if isinstance(admin, dict):
        assert set(admin) == set(other)
        for k in admin:
            yield from _pairs(admin[k], other[k])
    elif isinstance(admin, list):
        assert len(admin) == len(other)
        for a, o in zip(admin, other, strict=True):
            yield from _pairs(a, o)
    else:
        yield admin, other


@pytest.mark.parametrize("role", ["planner", "leader"])
def test_small_counts_are_suppressed_and_nothing_personal_shown(api: CountyApi, role: str) -> None:
    rows = api.get(role, "/api/v1/coverage/villages", type="psych_station").json()
    v08 = next(r for r in rows if r["village_code"] == VILLAGE["V08"].code)
    assert v08["covered"] is None  # 2 persons: below 5
    admin_rows = api.get("admin", "/api/v1/coverage/villages").json()
    mine = api.get(role, "/api/v1/coverage/villages").json()
    counts = ("eligible", "covered", "covered_within_capacity", "uncovered", "off_network")
    for a, m in zip(admin_rows, mine, strict=True):
        assert {k: _shown(a[k]) for k in counts} == {k: m[k] for k in counts}
    towns = api.get(role, "/api/v1/coverage/towns", type="psych_station").json()
    assert {r["town_name"]: r["covered"] for r in towns} == {"清河街道": None, "云岭镇": None}
    gaps = api.get(role, "/api/v1/gaps", top=50).json()
    admin_gaps = api.get("admin", "/api/v1/gaps", top=50).json()
    for a, m in _pairs(admin_gaps["coverage_gaps"], gaps["coverage_gaps"]):
        assert m == a or (m is None and 0 < a < MIN_COUNT)
    for a, m in zip(admin_gaps["policy_gaps"], gaps["policy_gaps"], strict=True):
        assert m["residents"] == _shown(a["residents"])
        assert m["severe_without_care"] == _shown(a["severe_without_care"])
        if m["severe_without_care"] is None:
            assert m["severe_without_care_per_100"] is None
    table = api.get(role, "/api/v1/indicators").json()
    admin_table = api.get("admin", "/api/v1/indicators").json()
    for a, m in zip(admin_table["indicators"], table["indicators"], strict=True):
        for ta, tm in zip(a["by_town"], m["by_town"], strict=True):
            assert (tm["numerator"], tm["denominator"]) == (
                _shown(ta["numerator"]),
                _shown(ta["denominator"]),
            )
    for url in ROUTES:
        r = api.get(role, url)
        assert r.status_code == 200, (url, r.text)
        assert_private(r.text)


def test_role_matrix(api: CountyApi) -> None:
    store = api.client.app.state.store  # type: ignore[attr-defined]
    other = add_key(store, name="设施系统", scopes=("read:facilities",)).key
    for url in ROUTES:
        for who in ("admin", "planner", "leader", "outreach", "integration"):
            assert api.get(who, url).status_code == 200, (who, url)
        r = api.get("none", url)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = api.client.get(url, headers={"X-API-Key": other})
        assert r.status_code == 403, url
        assert "read:aggregates" in r.json()["detail"]
    r = api.get("planner", "/api/v1/coverage", type="no_such_type")
    assert r.status_code == 422
    assert "no_such_type" in r.json()["detail"] and "home" in r.json()["detail"]
    assert api.get("planner", "/api/v1/gaps", top=0).status_code == 422


def test_results_are_cached_until_the_data_changes(api: CountyApi, tmp_path: Path) -> None:
    cache = api.client.app.state.analyses  # type: ignore[attr-defined]
    first = api.get("planner", "/api/v1/coverage").json()
    misses = cache.misses
    for _ in range(3):
        assert api.get("leader", "/api/v1/coverage").json() == first
    assert cache.misses == misses  # answered from memory
    # the admin closes the only 精神残疾人社区康复站 (JK-01): the data version moves
    facilities = api.get("admin", "/api/v1/facilities").json()
    station = next(f for f in facilities if f["type"] == "psych_station")
    r = api.client.delete(f"/api/v1/facilities/{station['id']}", headers=api.as_("admin"))
    assert r.status_code in (200, 204), r.text
    after = api.get("planner", "/api/v1/coverage").json()
    assert after["data_version"] != first["data_version"]
    assert cache.misses == misses + 1  # computed again, once
    psych = next(t for t in after["facility_types"] if t["type"] == "psych_station")
    assert (psych["facilities"], psych["covered"]) == (0, 0)
    version = after["data_version"]
    api.cli("scenarios", "list")  # a read: nothing changes
    assert api.get("planner", "/api/v1/coverage").json()["data_version"] == version
    # a change by another process: the CLI imports the facilities file again, JK-01 is back
    files = make_county(tmp_path / "again")
    assert api.cli("import", "facilities", str(files.facilities))["inserted"] == 1
    back = api.get("planner", "/api/v1/coverage").json()
    assert back["data_version"] != version
    psych = next(t for t in back["facility_types"] if t["type"] == "psych_station")
    assert (psych["facilities"], psych["covered"]) == (1, 7)
