"""``POST /api/v1/visits`` and ``POST /api/v1/visits/import`` on the small district.

The visits are of last month (visit days may not lie in the future): its plan
(the calendar from that month puts 竹园村 V08 first: team A visits three
households, team B two, one of them a lead) is made once by the admin's request.
Known answers: the CLI's ``visits record`` / ``visits import`` ``--json`` on the
same store and file.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from planner.store import schema as t
from planner.store.core import open_district_store
from tests.http.county_rb import UPLOAD_MAX_MB, CountyApi, county_api

PURPOSE = {"purpose": "入户走访登记"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _last_month() -> str:
    d = date.today().replace(day=1) - timedelta(days=1)
    return f"{d.year}-{d.month:02d}"


MONTH = _last_month()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    with county_api(tmp_path_factory.mktemp("visits_api")) as a:
        yield a


@pytest.fixture(scope="module")
def plan(api: CountyApi) -> dict[str, Any]:
    """Last month's plan, and team A's route sheet (``sheet``, XLSX bytes) as handed
    out before any visit is recorded (a recorded visit changes the data, and the
    plan is made anew)."""
    r = api.client.get(f"/api/v1/outreach/months/{MONTH}", headers=api.as_("admin"), params=PURPOSE)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()["plan"]
    day = _day(doc, "A")
    sheet = api.client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/A/{day}.xlsx",
        headers=api.as_("team_a"),
        params=PURPOSE,
    )
    assert sheet.status_code == 200, sheet.text
    return {**doc, "sheet": sheet.content}


def _stops(plan: dict[str, Any], team: str) -> list[dict[str, Any]]:
    return [s for t_ in plan["teams"] if t_["team"] == team for d in t_["days"] for s in d["stops"]]


def _day(plan: dict[str, Any], team: str) -> str:
    return str(next(t_["days"][0]["date"] for t_ in plan["teams"] if t_["team"] == team))


def _batches(api: CountyApi) -> int:
    store = open_district_store(api.db)
    try:
        with store.read() as s:
            return int(s.scalar(select(func.count()).select_from(t.ImportBatch)) or 0)
    finally:
        store.dispose()


# --- one visit --------------------------------------------------------------------------


def test_record_a_visit_as_the_cli_does(
    api: CountyApi, plan: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    stop = [s for s in _stops(plan, "A") if s["resident_id"] is not None][-1]
    day = _day(plan, "A")
    body = {
        "resident_id": stop["resident_id"],
        "visited_on": day,
        "outcome": "done",
        "services": stop["services"],
        "notes": "API 登记",
    }
    r = api.client.post("/api/v1/visits", json=body, headers=api.as_("team_a"))
    assert r.status_code == 201, r.text
    saved = r.json()
    assert (saved["status"], saved["team"], saved["resident_id"]) == (
        "inserted",
        "A",
        stop["resident_id"],
    )
    assert saved["masked_id"] == stop["masked_id"] and saved["updated"]["last_visit"] == 1
    api.env(monkeypatch)
    cli = api.cli(
        "visits", "record",
        "--resident", str(stop["resident_id"]),
        "--date", day,
        "--outcome", "done",
        "--services", ",".join(stop["services"]),
        "--team", "A",
        "--notes", "API 登记",
    )  # fmt: skip
    assert cli["status"] == "unchanged"  # the very visit the API stored
    same = {k: v for k, v in cli.items() if k not in ("status", "inserted", "updated")}
    assert {k: saved[k] for k in same} == same


def test_outreach_records_its_own_plan_and_towns_only(api: CountyApi, plan: dict[str, Any]) -> None:
    a_stop = next(s for s in _stops(plan, "A") if s["resident_id"] is not None)
    b_stop = next(s for s in _stops(plan, "B") if s["resident_id"] is not None)
    day = _day(plan, "B")
    visit = {"visited_on": day, "outcome": "not_home"}
    # team B (town 330999001 only) visits its own plan's household in 云岭镇: allowed
    r = api.client.post(
        "/api/v1/visits",
        json={**visit, "resident_id": b_stop["resident_id"]},
        headers=api.as_("team_b"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["team"] == "B"
    # team A's household in 云岭镇: neither team B's plan nor its town → 404, as a missing one
    other = api.client.post(
        "/api/v1/visits",
        json={**visit, "resident_id": a_stop["resident_id"]},
        headers=api.as_("team_b"),
    )
    missing = api.client.post(
        "/api/v1/visits", json={**visit, "resident_id": 99999}, headers=api.as_("team_b")
    )
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(str(a_stop["resident_id"]), "N") == missing.json()[
        "detail"
    ].replace("99999", "N")
    # another team's name on the visit: 403; unknown fields: 422; planners: 403; nobody: 401
    as_b = {**visit, "resident_id": b_stop["resident_id"], "team": "B"}
    assert (
        api.client.post("/api/v1/visits", json=as_b, headers=api.as_("team_a")).status_code == 403
    )
    extra = {**visit, "resident_id": b_stop["resident_id"], "batch_id": 1}
    r = api.client.post("/api/v1/visits", json=extra, headers=api.as_("admin"))
    assert r.status_code == 422 and "batch_id" in r.json()["detail"]
    for user in ("planner", "leader"):
        assert (
            api.client.post("/api/v1/visits", json=as_b, headers=api.as_(user)).status_code == 403
        )
    assert api.client.post("/api/v1/visits", json=as_b).status_code == 401
    # a future day is the user's mistake: 422, not 500
    future = {**as_b, "visited_on": (date.today() + timedelta(days=3)).isoformat()}
    assert (
        api.client.post("/api/v1/visits", json=future, headers=api.as_("admin")).status_code == 422
    )


# --- importing a sheet ------------------------------------------------------------------


def _filled_sheet(
    api: CountyApi, plan: dict[str, Any], folder: Path
) -> tuple[Path, dict[str, int]]:
    """Team A's sheet as the API hands it out, filled in: the first household done,
    the second with an outcome nobody knows (不知道), the third left blank."""
    path = folder / f"{_day(plan, 'A')}_A.xlsx"
    path.write_bytes(plan["sheet"])
    wb = openpyxl.load_workbook(path)
    ws = wb["入户路线单"]
    header = next(r_ for r_ in range(1, 10) if ws.cell(r_, 1).value == "编号")
    cols = {c.value: c.column for c in ws[header]}
    rows = [r_ for r_ in range(header + 1, ws.max_row + 1) if ws.cell(r_, 1).value]
    assert len(rows) == 3
    ws.cell(rows[0], cols["结果"], "完成")
    ws.cell(rows[0], cols["已提供服务"], ws.cell(rows[0], cols["服务项目"]).value)
    ws.cell(rows[1], cols["结果"], "不知道")
    wb.save(path)
    return path, {"done": rows[0], "bad": rows[1]}


def test_import_a_sheet_as_the_cli_does(
    api: CountyApi, plan: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, rows = _filled_sheet(api, plan, tmp_path)
    with path.open("rb") as f:
        r = api.client.post(
            "/api/v1/visits/import",
            files={"file": (path.name, f, XLSX)},
            headers=api.as_("team_a"),
        )
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["files"] == [path.name] and str(tmp_path) not in r.text
    assert (rep["rows"], rep["stored"], rep["rejected"], rep["skipped_blank"]) == (3, 1, 1, 1)
    (bad,) = rep["problems"]
    assert (bad["file"], bad["row"], bad["column"]) == (path.name, rows["bad"], "结果")
    assert "不知道" in bad["reason"] or bad["value"] == "不知道"
    api.env(monkeypatch)
    cli = api.cli("visits", "import", str(path))
    assert (cli["rows"], cli["stored"], cli["unchanged"], cli["rejected"]) == (3, 0, 1, 1)
    assert cli["problems"] == rep["problems"]
    # team B may not import team A's sheet
    with path.open("rb") as f:
        r = api.client.post(
            "/api/v1/visits/import",
            files={"file": (path.name, f, XLSX)},
            headers=api.as_("team_b"),
        )
    assert r.status_code == 403 and "本队" in r.json()["detail"]


def test_upload_over_the_cap_is_413_and_stores_nothing(api: CountyApi) -> None:
    before = _batches(api)
    big = b"PK" + b"\0" * int(UPLOAD_MAX_MB * 1024 * 1024 + 10)
    r = api.client.post(
        "/api/v1/visits/import",
        files={"file": ("big.xlsx", io.BytesIO(big), XLSX)},
        headers=api.as_("admin"),
    )
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "upload_max_mb" in r.json()["detail"]
    # streamed without a Content-Length: stopped while reading
    boundary = "cpboundary"

    def chunks() -> Iterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n'
            f"Content-Type: {XLSX}\r\n\r\n"
        ).encode()
        for _ in range(8):
            yield b"\0" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = api.client.post(
        "/api/v1/visits/import",
        content=chunks(),
        headers={**api.as_("admin"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413, r.text
    assert _batches(api) == before


def test_a_bad_file_is_422_naming_it(api: CountyApi) -> None:
    before = _batches(api)
    r = api.client.post(
        "/api/v1/visits/import",
        files={"file": ("名单.xlsx", io.BytesIO(b"not a workbook"), XLSX)},
        headers=api.as_("admin"),
    )
    assert r.status_code == 422, r.text
    assert "名单.xlsx" in r.json()["detail"]
    r = api.client.post(
        "/api/v1/visits/import",
        files={"file": ("名单.txt", io.BytesIO(b"x"), "text/plain")},
        headers=api.as_("admin"),
    )
    assert r.status_code == 422 and ".xlsx" in r.json()["detail"]
    r = api.client.post("/api/v1/visits/import", headers=api.as_("admin"))
    assert r.status_code == 422
    assert api.client.post("/api/v1/visits/import").status_code == 401
    planner = api.client.post(
        "/api/v1/visits/import",
        files={"file": ("a.xlsx", io.BytesIO(b"x"), XLSX)},
        headers=api.as_("planner"),
    )
    assert planner.status_code == 403
    assert _batches(api) == before
