"""What the API-wide schemathesis run found in phase 1, pinned: a 405 names every
method of the path, a body that is not UTF-8 is a 422 in Chinese, a facility's
numbers are JSON numbers, and its schema states the lon/lat pairing and the
store's village codes; and the personal-data scanner's own rules."""

from __future__ import annotations

import logging
import time

import pytest

from api.http.jobs import JobRunner
from tests.county import PEOPLE, id_number
from tests.http.conftest import World
from tests.http.county_api import Sensitive, id_numbers_in

BODY = {"key": "H-1", "type": "home", "name": "新家", "village_code": "330213002001"}


def test_405_lists_every_method_of_the_path(world: World) -> None:
    h = world.as_("admin")
    r = world.client.request("PATCH", "/api/v1/facilities/1", headers=h)
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET, PUT"
    detail = "/api/v1/facilities/1 不支持 PATCH；可用：DELETE、GET、PUT（见 /openapi.json）"
    assert r.json()["detail"] == detail
    r = world.client.request("OPTIONS", "/api/v1/facilities", headers=h)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


def test_a_body_that_is_not_utf8_is_a_422_in_chinese(world: World) -> None:
    r = world.client.post(
        "/api/v1/facilities",
        headers={**world.as_("admin"), "Content-Type": "application/json"},
        content=b'\xff"}\x80',
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "UTF-8" in r.json()["detail"]


@pytest.mark.parametrize(
    ("extra", "status", "capacity"),
    [
        ({"capacity": True}, 422, None),
        ({"capacity": "20"}, 422, None),
        ({"lon": False, "lat": 29.6}, 422, None),
        ({"capacity": 20.0}, 201, 20),
        ({"lon": 121.4}, 422, None),  # lat missing
    ],
)
def test_facility_numbers_are_json_numbers(
    world: World, extra: dict[str, object], status: int, capacity: int | None
) -> None:
    r = world.client.post("/api/v1/facilities", headers=world.as_("admin"), json=BODY | extra)
    assert r.status_code == status, r.text
    if status == 201:
        assert r.json()["capacity"] == capacity


def test_facility_schema_states_the_pairing_and_the_villages(world: World) -> None:
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    model = spec["components"]["schemas"]["FacilityIn"]
    assert model["anyOf"][0]["required"] == ["lon", "lat"]
    codes = model["properties"]["village_code"]["anyOf"][0]["enum"]
    assert len(codes) == 337 and "330213002001" in codes  # 奉化区's villages
    example = model["examples"][0]
    assert example["village_code"] in codes
    r = world.client.post("/api/v1/facilities", headers=world.as_("admin"), json=example)
    assert r.status_code == 201, r.text  # the documented example works on this store


def test_the_id_scan_validates_the_check_character() -> None:
    number = id_number(0, PEOPLE[0])
    assert id_numbers_in(f"编号{number}。") == [number]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert id_numbers_in(f"x{wrong}x") == []  # 18 digits, wrong check character
    assert id_numbers_in("330999001001330999001002") == []  # two village codes in a row
    found = Sensitive().leaks("电话 13900001111，座机 057488881234")
    assert found == ["phone 13900001111"]


# --- found after merging the routes of coverage, siting and retrofits ----------------


def test_jobs_run_after_the_apps_lifespan_ended_once() -> None:
    """A second test client (or a restarted lifespan) used to get a 500: the worker
    pool had been shut down ("cannot schedule new futures after shutdown")."""
    runner = JobRunner()
    first = runner.submit(kind="site", subject="t", work=lambda progress: {"n": 1})
    runner.shutdown()
    again = runner.submit(kind="site", subject="t", work=lambda progress: {"n": 2})
    deadline = time.monotonic() + 10
    while runner.get(again.id).status not in ("done", "failed"):  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert runner.get(again.id).result == {"n": 2}  # type: ignore[union-attr]
    assert runner.get(first.id).status in ("done", "failed")  # type: ignore[union-attr]
    runner.shutdown()


def test_the_access_log_names_the_route_not_the_path(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """A scenario name (or a mistyped URL) may hold a person's name or number."""
    h = world.as_("planner")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="coverplan.http.access"):
        assert world.client.get("/api/v1/scenarios/张三", headers=h).status_code == 404
        assert world.client.get("/api/v1/x/13800000001", headers=h).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "coverplan.http.access"]
    assert [line.rsplit(" ", 2)[0] for line in lines] == [
        "GET /api/v1/scenarios/{name} 404",
        "GET (no route) 404",
    ]


def test_allow_of_a_literal_path_is_its_own(world: World) -> None:
    """/scenarios/compare (GET) is not /scenarios/{name} (GET, DELETE)."""
    h = world.as_("planner")
    r = world.client.options("/api/v1/scenarios/compare", params={"names": ["a", "b"]}, headers=h)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = world.client.options("/api/v1/scenarios/a", headers=h)
    assert r.status_code == 405 and r.headers["allow"] == "DELETE, GET"


def test_an_unknown_type_is_refused_without_echoing_digits(world: World) -> None:
    h = world.as_("planner")
    r = world.client.get("/api/v1/facilities", params={"type": "13800000001"}, headers=h)
    assert r.status_code == 422 and "13800000001" not in r.text
    assert r.json()["detail"].startswith("未知的设施类型 type 的值；可选：home、")
    r = world.client.get("/api/v1/facilities", params={"type": "hom"}, headers=h)
    assert r.status_code == 422 and "type=hom；" in r.json()["detail"]
    r = world.client.post("/api/v1/siting/jobs", json={"type": "home", "capacitated": 0}, headers=h)
    assert r.status_code == 422 and "capacitated" in r.json()["detail"]


def test_a_validation_error_never_repeats_a_digit_run(world: World) -> None:
    """An unknown field named like a phone number is refused without repeating it."""
    phone = "19612543417"
    r = world.client.post(
        "/api/v1/siting/jobs", json={"type": "home", phone: 1}, headers=world.as_("planner")
    )
    assert r.status_code == 422
    assert phone not in r.text and "###########" in r.text
