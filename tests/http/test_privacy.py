"""Who sees what: planners and leaders get suppressed aggregates and 403 on persons,
outreach sees only its towns with masked IDs ("not yours" is "not found"), admins
see full records; every person-level read is audited and the audit cannot be
changed; mass assignment is refused; no ID number or name reaches the logs."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from geo.gazetteer import load_fenghua
from planner.store import schema as t
from planner.store.audit import audit_rows, record_access
from planner.store.core import init_store
from tests.http.conftest import COUNTS, World

ID_PATTERN = re.compile(r"\d{17}[\dXx]")
PHONE_PATTERN = re.compile(r"1[3-9]\d{9}")


def _village(world: World, role: str) -> dict[str, dict[str, object]]:
    doc = world.client.get("/api/v1/villages", headers=world.as_(role)).json()
    assert doc["type"] == "FeatureCollection"
    return {f["id"]: f["properties"] for f in doc["features"]}


@pytest.mark.parametrize("role", ["planner", "leader"])
def test_planners_and_leaders_get_suppressed_aggregates_and_no_persons(
    world: World, role: str
) -> None:
    props = _village(world, role)
    assert len(props) == 337  # every village of 奉化区
    # 6 residents: shown; 3, 2 and 4: below min_count 5, suppressed; none: 0
    assert props["330213001001"]["residents"] == 6
    assert props["330213001001"]["by_category"] == {"physical": None, "vision": None}  # 3 and 3
    assert props["330213001002"]["residents"] is None
    assert props["330213002001"]["residents"] is None
    assert props["330213003002"]["residents"] is None
    assert props["330213001003"]["residents"] == 0
    h = world.as_(role)
    r = world.client.get("/api/v1/residents", headers=h, params={"purpose": "统计"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem")
    rid = world.ids["330213001001"][0]
    r = world.client.get(f"/api/v1/residents/{rid}", headers=h, params={"purpose": "统计"})
    assert r.status_code == 403
    for url in ("/api/v1/villages", "/api/v1/towns", "/api/v1/facilities", "/api/v1/me"):
        body = world.client.get(url, headers=h).text
        assert not ID_PATTERN.search(body) and not PHONE_PATTERN.search(body), url
        assert not any(name in body for name in world.names), url


def test_admin_sees_exact_counts_and_full_records(world: World) -> None:
    props = _village(world, "admin")
    assert {c: props[c]["residents"] for c in COUNTS} == COUNTS
    r = world.client.get(
        "/api/v1/residents", headers=world.as_("admin"), params={"purpose": "核查", "page_size": 4}
    )
    body = r.json()
    assert body["total"] == 15 and body["page_size"] == 4 and len(body["items"]) == 4
    assert body["items"][0]["id_number"] == world.id_numbers[0]
    assert body["items"][0]["phone"] == "13800000001"


def test_outreach_sees_only_its_towns_masked(world: World) -> None:
    h = world.as_("outreach")
    r = world.client.get("/api/v1/residents", headers=h, params={"purpose": "入户走访"})
    body = r.json()
    assert body["total"] == 6 + 3 + 2  # towns 330213001 and 330213002, not 江口街道's 4
    assert {p["town_code"] for p in body["items"]} == {"330213001", "330213002"}
    first = body["items"][0]
    assert first["id_number"] == world.id_numbers[0][:6] + "********" + world.id_numbers[0][-4:]
    assert first["phone"] == "138****0001"
    assert first["name"] == world.names[0]  # outreach teams need names and addresses
    r = world.client.get(
        "/api/v1/residents",
        headers=h,
        params={"purpose": "入户走访", "village": "330213001002", "grade": 2},
    )
    assert [p["village_code"] for p in r.json()["items"]] == ["330213001002"]  # i = 1 of 3
    other = world.ids["330213003002"][0]
    missing = max(i for ids in world.ids.values() for i in ids) + 100
    a = world.client.get(f"/api/v1/residents/{other}", headers=h, params={"purpose": "走访"})
    b = world.client.get(f"/api/v1/residents/{missing}", headers=h, params={"purpose": "走访"})
    assert a.status_code == b.status_code == 404
    assert a.json()["detail"].replace(str(other), "N") == b.json()["detail"].replace(
        str(missing), "N"
    )
    own = world.ids["330213002001"][0]
    r = world.client.get(f"/api/v1/residents/{own}", headers=h, params={"purpose": "走访"})
    assert r.status_code == 200 and "*" in r.json()["id_number"]


def test_page_size_limit_and_purpose_are_required(world: World) -> None:
    h = world.as_("admin")
    r = world.client.get("/api/v1/residents", headers=h, params={"purpose": "x", "page_size": 501})
    assert r.status_code == 422 and "500" in r.json()["detail"]
    r = world.client.get("/api/v1/residents", headers=h)
    assert r.status_code == 422 and "purpose" in r.json()["detail"]
    r = world.client.get(
        "/api/v1/residents", headers=h, params={"purpose": f"查 {world.id_numbers[0]}"}
    )
    assert r.status_code == 422 and "不要写身份证号" in r.json()["detail"]
    assert audit_rows(world.store, limit=5) == []  # nothing read, nothing audited
    spec = world.client.app.openapi()  # type: ignore[attr-defined]
    params = spec["paths"]["/api/v1/residents"]["get"]["parameters"]
    size = next(p for p in params if p["name"] == "page_size")["schema"]
    assert size["default"] == 50 and size["anyOf"][0]["maximum"] == 500


def test_every_person_read_is_audited(world: World) -> None:
    h = world.as_("outreach")
    world.client.get("/api/v1/residents", headers=h, params={"purpose": "五月入户", "page_size": 5})
    own = world.ids["330213001001"][1]
    world.client.get(f"/api/v1/residents/{own}", headers=h, params={"purpose": "电话回访"})
    rows = audit_rows(world.store, limit=10)
    assert [(r.subject, r.role, r.purpose, r.count) for r in rows] == [
        ("outreach", "outreach", "电话回访", 1),
        ("outreach", "outreach", "五月入户", 5),
    ]
    assert rows[0].target == f"resident/{own}"
    assert rows[1].target == 'residents?{"page": 1}'
    for r in rows:
        assert not ID_PATTERN.search(str(r.to_json()))


@pytest.fixture
def audit_store(any_db_url: str):  # type: ignore[no-untyped-def]
    s = init_store(any_db_url, gazetteer=load_fenghua())
    yield s
    s.dispose()


def test_the_database_refuses_to_change_the_audit(audit_store) -> None:  # type: ignore[no-untyped-def]
    record_access(
        audit_store, subject="a", role="admin", action="read", target="x", purpose="p", count=1
    )
    for stmt in (
        update(t.AuditLog).values(purpose="changed"),
        delete(t.AuditLog),
    ):
        with pytest.raises(DBAPIError, match="append-only"), audit_store.write() as s:
            s.execute(stmt)
    with audit_store.engine.connect() as conn:
        assert conn.execute(text("SELECT purpose FROM audit_log WHERE role = 'admin'")).all() == [
            ("p",)
        ]


@pytest.mark.parametrize(
    "extra", [{"id": 99}, {"content_hash": "x"}, {"needs_review": True}, {"town_code": "1"}]
)
def test_mass_assignment_is_refused(world: World, extra: dict[str, object]) -> None:
    body = {"key": "H-1", "type": "home", "name": "新家", "village_code": "330213001001", **extra}
    r = world.client.post("/api/v1/facilities", headers=world.as_("admin"), json=body)
    assert r.status_code == 422 and "不允许的字段" in r.json()["detail"]
    assert world.client.get("/api/v1/facilities", headers=world.as_("admin")).json() == []


def test_facilities_crud_for_admins_only(world: World) -> None:
    admin, planner = world.as_("admin"), world.as_("planner")
    body = {"key": "H-1", "type": "home", "name": "新家", "village_code": "330213002001"}
    assert world.client.post("/api/v1/facilities", headers=planner, json=body).status_code == 403
    r = world.client.post("/api/v1/facilities", headers=admin, json=body)
    assert r.status_code == 201
    made = r.json()
    assert made["town_code"] == "330213002" and made["capacity"] is None
    fid = made["id"]
    assert world.client.get(f"/api/v1/facilities/{fid}", headers=planner).json() == made
    again = world.client.post("/api/v1/facilities", headers=admin, json=body)
    assert again.status_code == 409 and "H-1" in again.json()["detail"]
    bad = world.client.post("/api/v1/facilities", headers=admin, json={**body, "type": "x"})
    assert bad.status_code == 422 and "facility_types" in bad.json()["detail"]
    r = world.client.put(f"/api/v1/facilities/{fid}", headers=admin, json={**body, "capacity": 30})
    assert r.json()["capacity"] == 30
    assert world.client.delete(f"/api/v1/facilities/{fid}", headers=planner).status_code == 403
    assert world.client.delete(f"/api/v1/facilities/{fid}", headers=admin).status_code == 204
    assert world.client.get(f"/api/v1/facilities/{fid}", headers=admin).status_code == 404
    assert world.client.delete(f"/api/v1/facilities/{fid}", headers=admin).status_code == 404


def test_logs_hold_no_id_numbers_names_or_phones(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    h = world.as_("admin")
    world.client.get("/api/v1/residents", headers=h, params={"purpose": "核查"})
    rid = world.ids["330213001001"][0]
    world.client.get(f"/api/v1/residents/{rid}", headers=h, params={"purpose": "核查"})
    world.client.get("/api/v1/residents/999999", headers=h, params={"purpose": "核查"})
    logged = caplog.text
    server = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "GET /api/v1/residents 200" in server  # the app's access log, without the query
    assert "purpose" not in server
    assert not ID_PATTERN.search(logged) and not PHONE_PATTERN.search(logged)
    assert not any(name in logged for name in world.names)
