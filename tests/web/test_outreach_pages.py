"""The outreach pages in-process (``TestClient`` over the app of 示例县,
:mod:`tests.http.county_rb`): privacy (own team only, "not found" for another's
plan, sheet or stop, exactly as a missing one), the purpose asked and audited,
audited exports, CSRF on every POST, and the upload of a good and a bad sheet.

Known answers (the API tests' world, see ``tests/http/test_visits_api.py``): last
month's plan visits 竹园村 V08; team A's stops are three households (董建国, 萧秀英,
程大勇), team B's two (袁志明 and the lead 邓小芳).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from maps.assets import outside_urls
from planner.store.audit import audit_rows
from planner.store.core import open_district_store
from tests.http.county_rb import PASSWORD, UPLOAD_MAX_MB, CountyApi, county_api, scan_private

TEAM_A = {"董建国", "萧秀英", "程大勇"}
TEAM_B = {"袁志明", "邓小芳"}
MONTH = f"{(date.today().replace(day=1) - timedelta(days=1)):%Y-%m}"
PURPOSE = "上月入户走访"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    with county_api(tmp_path_factory.mktemp("outreach_pages")) as a:
        yield a


class User:
    """A signed-in browser of the app (its own cookie) and its page's CSRF token."""

    def __init__(self, api: CountyApi, username: str) -> None:
        self.client = TestClient(api.client.app)
        r = self.client.post("/login", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text  # followed to the role's page
        found = CSRF.search(self.client.get("/outreach").text)
        assert found, "no CSRF token on the page"
        self.csrf = found.group(1)

    def get(self, path: str, **params: str) -> Any:
        return self.client.get(path, params=params)

    def post(self, path: str, *, data: dict[str, Any], csrf: bool = True, **kw: Any) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.client.post(path, data=data, headers=headers, **kw)


@pytest.fixture(scope="module")
def users(api: CountyApi) -> dict[str, User]:
    return {name: User(api, name) for name in ("team_a", "team_b", "admin")}


@pytest.fixture(scope="module")
def plan(api: CountyApi) -> dict[str, Any]:
    """Last month's whole plan (admin, API) and team A's sheet (``sheet``, XLSX bytes)
    as handed out before any visit is recorded (a visit changes the data, and the
    plan is made anew)."""
    r = api.client.get(
        f"/api/v1/outreach/months/{MONTH}",
        headers=api.as_("admin"),
        params={"purpose": PURPOSE},
    )
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()["plan"]
    day = _days(doc, "A")[0]["date"]
    sheet = api.client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/A/{day}.xlsx",
        headers=api.as_("team_a"),
        params={"purpose": PURPOSE},
    )
    assert sheet.status_code == 200, sheet.text
    return {**doc, "sheet": sheet.content}


def _days(plan: dict[str, Any], team: str) -> list[dict[str, Any]]:
    return list(next(t["days"] for t in plan["teams"] if t["team"] == team))


def _audit(api: CountyApi) -> list[Any]:
    store = open_district_store(api.db)
    try:
        return audit_rows(store, limit=500)
    finally:
        store.dispose()


def _plan_page(user: User, **params: str) -> Any:
    return user.get("/outreach/plan", month=MONTH, **params)


# --- the month plan ---------------------------------------------------------------------


def test_the_page_asks_the_purpose_before_showing_persons(
    api: CountyApi, users: dict[str, User]
) -> None:
    page = users["team_a"].get("/outreach", month=MONTH)
    assert page.status_code == 200
    assert "查看目的" in page.text and 'name="purpose"' in page.text
    assert "/outreach/plan" not in page.text  # nothing loads before a purpose
    assert not any(n in page.text for n in TEAM_A | TEAM_B)
    before = len(_audit(api))
    for params in ({}, {"purpose": "  "}):
        r = _plan_page(users["team_a"], **params)
        assert r.status_code == 422 and "查看目的" in r.text
        assert "<header" not in r.text  # a fragment for the page's plan area
        assert not any(n in r.text for n in TEAM_A)
    assert len(_audit(api)) == before
    assert outside_urls(page.text) == []
    with_purpose = users["team_a"].get("/outreach", month=MONTH, purpose=PURPOSE)
    assert "/outreach/plan?" in with_purpose.text and 'hx-trigger="load"' in with_purpose.text


def test_outreach_sees_its_own_teams_route_masked_and_audited(
    api: CountyApi, users: dict[str, User], plan: dict[str, Any]
) -> None:
    r = _plan_page(users["team_a"], purpose=PURPOSE)
    assert r.status_code == 200, r.text
    assert all(n in r.text for n in TEAM_A) and not any(n in r.text for n in TEAM_B)
    assert scan_private(r.text, []) == []  # no full ID or phone number
    (day,) = _days(plan, "A")
    stops = day["stops"]
    for s in stops:  # the numbered stop, its time window, the masked ID
        assert f"{s['arrival']} 到达 · {s['start']}–{s['departure']}" in r.text
        assert s["masked_id"] in r.text and s["address"] in r.text
    assert r.text.count('class="stop"') == len(stops) == 3
    assert outside_urls(r.text) == []
    assert (
        f"/maps/outreach.html?month={MONTH}&amp;team=A&amp;day={day['date']}&amp;purpose=" in r.text
    )
    for fmt in ("html", "xlsx", "gpx"):
        assert f"/outreach/sheets/{MONTH}/A/{day['date']}.{fmt}?purpose=" in r.text
    estimated = sum(s["point_source"] == "estimated" for s in stops)
    assert r.text.count("位置为估计</span>") == estimated
    rows = [x for x in _audit(api) if x.subject == "team_a" and x.target == f"outreach/{MONTH}"]
    assert rows and rows[0].purpose == PURPOSE and rows[0].count == 3
    # another team's plan is "not found", exactly as a team that does not exist
    other = _plan_page(users["team_a"], team="B", purpose=PURPOSE)
    missing = _plan_page(users["team_a"], team="Z", purpose=PURPOSE)
    assert other.status_code == missing.status_code == 404
    assert not any(n in other.text for n in TEAM_B)
    assert other.text.replace("服务队 B", "服务队 Z") == missing.text
    assert users["team_a"].get("/outreach", team="B").status_code == 404


def test_admin_chooses_a_team(api: CountyApi, users: dict[str, User]) -> None:
    page = users["admin"].get("/outreach", month=MONTH, team="B", purpose=PURPOSE)
    assert page.status_code == 200 and 'name="team"' in page.text
    r = _plan_page(users["admin"], team="B", purpose=PURPOSE)
    assert r.status_code == 200, r.text
    assert all(n in r.text for n in TEAM_B) and not any(n in r.text for n in TEAM_A)
    assert "（疑似未登记）" in r.text  # 邓小芳 is a lead
    assert any(x.subject == "admin" and x.target == f"outreach/{MONTH}" for x in _audit(api))


# --- route sheets -----------------------------------------------------------------------


def test_sheets_are_the_apis_audited_and_only_the_own_teams(
    api: CountyApi, users: dict[str, User], plan: dict[str, Any]
) -> None:
    day = _days(plan, "A")[0]["date"]
    base = f"/outreach/sheets/{MONTH}/A/{day}"
    a = users["team_a"]
    html = a.get(f"{base}.html", purpose=PURPOSE)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-disposition"].startswith("inline")
    assert all(n in html.text for n in TEAM_A) and not any(n in html.text for n in TEAM_B)
    api_html = api.client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/A/{day}.html",
        headers=api.as_("team_a"),
        params={"purpose": PURPOSE},
    )
    assert html.text == api_html.text  # the very sheet the API writes
    # nothing loads from outside; the one kind of outside link is the Amap navigation
    # of a household (a link the team taps on its phone, no request of the page)
    links = outside_urls(html.text)
    assert links and all(u.startswith("https://uri.amap.com/marker?") for u in links)
    xlsx = a.get(f"{base}.xlsx", purpose=PURPOSE)
    assert xlsx.status_code == 200 and xlsx.headers["content-disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert cells >= TEAM_A
    gpx = users["admin"].get(f"{base}.gpx", purpose=PURPOSE)
    assert gpx.status_code == 200 and gpx.content.startswith(b"<?xml")
    # another team's sheet: 404 exactly as a missing one; no purpose: 422
    later = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    other = users["team_b"].get(f"{base}.xlsx", purpose=PURPOSE)
    missing = users["team_b"].get(f"/outreach/sheets/{MONTH}/B/{later}.xlsx", purpose=PURPOSE)
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(f"A {day}", "X") == missing.text.replace(f"B {later}", "X")
    assert a.get(f"{base}.xlsx").status_code == 422
    exports = {(x.subject, x.target, x.purpose) for x in _audit(api) if x.action == "export"}
    for who, fmt in (("team_a", "html"), ("team_a", "xlsx"), ("admin", "gpx")):
        assert (who, f"outreach/{MONTH}/sheets/A/{day}.{fmt}", PURPOSE) in exports
    assert not any(w == "team_b" for w, _, _ in exports)


# --- recording visits -------------------------------------------------------------------


def test_record_a_visit_of_an_own_stop_with_csrf(
    api: CountyApi, users: dict[str, User], plan: dict[str, Any]
) -> None:
    _plan_page(users["team_a"], purpose=PURPOSE)  # the page the form is on
    day = _days(plan, "A")[0]
    stop = next(s for s in day["stops"] if s["resident_id"] is not None)
    form = {
        "team": "A",
        "resident_id": str(stop["resident_id"]),
        "visited_on": day["date"],
        "outcome": "not_home",
        "notes": "网页登记",
    }
    a = users["team_a"]
    assert a.post("/outreach/visits", data=form, csrf=False).status_code == 403
    wrong = a.post("/outreach/visits", data={**form, "csrf": "x" * 20}, csrf=False)
    assert wrong.status_code == 403 and "校验码" in wrong.text
    ok = a.post("/outreach/visits", data={**form, "csrf": a.csrf}, csrf=False)  # plain form
    assert ok.status_code == 200, ok.text
    assert "已登记" in ok.text and "不在家" in ok.text and "新增" in ok.text
    again = a.post("/outreach/visits", data=form)  # htmx: the header
    assert again.status_code == 200 and "未改动" in again.text
    # team B's stop (袁志明, in team A's towns too) and a missing person: the same 404
    b_stop = next(s for s in _days(plan, "B")[0]["stops"] if s["resident_id"] is not None)
    other = a.post("/outreach/visits", data={**form, "resident_id": str(b_stop["resident_id"])})
    missing = a.post("/outreach/visits", data={**form, "resident_id": "99999"})
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(str(b_stop["resident_id"]), "N") == missing.text.replace("99999", "N")
    # an unknown outcome is told in Chinese (422), nothing stored
    bad = a.post("/outreach/visits", data={**form, "outcome": "不知道"})
    assert bad.status_code == 422 and "不知道" in bad.text


def _filled_sheet(plan: dict[str, Any], folder: Path) -> tuple[Path, int]:
    """Team A's sheet as handed out before any visit, filled in: the first household
    done, the second with an outcome nobody knows (不知道), the third left blank.
    Returns the bad row."""
    day = _days(plan, "A")[0]["date"]
    path = folder / f"{day}_A.xlsx"
    path.write_bytes(plan["sheet"])
    wb = openpyxl.load_workbook(path)
    ws = wb["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    cols = {c.value: c.column for c in ws[header]}
    rows = [r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value]
    assert len(rows) == 3
    ws.cell(rows[0], cols["结果"], "完成")
    ws.cell(rows[0], cols["已提供服务"], ws.cell(rows[0], cols["服务项目"]).value)
    ws.cell(rows[1], cols["结果"], "不知道")
    wb.save(path)
    return path, rows[1]


def test_upload_a_good_and_a_bad_sheet(
    api: CountyApi, users: dict[str, User], plan: dict[str, Any], tmp_path: Path
) -> None:
    path, bad_row = _filled_sheet(plan, tmp_path)
    a = users["team_a"]
    url = "/outreach/visits/import"

    def upload(user: User, name: str, content: bytes, *, csrf: bool = True) -> Any:
        return user.post(url, data={}, csrf=csrf, files={"file": (name, content, XLSX)})

    # no CSRF header: refused before the upload is read
    assert upload(a, path.name, path.read_bytes(), csrf=False).status_code == 403
    r = upload(a, path.name, path.read_bytes())
    assert r.status_code == 200, r.text
    text = re.sub(r"\s+", " ", r.text)
    assert f"导入结果：{path.name}" in text and str(tmp_path) not in text
    assert '<th>数据行</th><td class="num">3</td>' in text.replace("> <", "><")
    assert '<th>拒绝</th><td class="num unmet">1</td>' in text.replace("> <", "><")
    assert f'<td class="num">{bad_row}</td><td>结果</td><td>不知道</td>' in text
    assert '未走访（结果为空）</th><td class="num">1' in text.replace("> <", "><")
    assert scan_private(r.text, []) == []
    # a plain form sends the token as a field: the same sheet again is "unchanged"
    plain = a.client.post(
        url, data={"csrf": a.csrf}, files={"file": (path.name, path.read_bytes(), XLSX)}
    )
    assert plain.status_code == 200 and '与已存记录相同</th><td class="num">1' in re.sub(
        r">\s+<", "><", plain.text
    )
    forged = a.client.post(
        url, data={"csrf": "x" * 20}, files={"file": (path.name, path.read_bytes(), XLSX)}
    )
    assert forged.status_code == 403
    # over [server] upload_max_mb: 413 naming the setting, nothing stored
    big = upload(a, "big.xlsx", b"PK" + b"\0" * int(UPLOAD_MAX_MB * 1024 * 1024 + 10))
    assert big.status_code == 413 and "upload_max_mb" in big.text
    # a bad file: 422 naming it; another team's sheet: 403 (as the API)
    bad = upload(a, "名单.xlsx", b"not a workbook")
    assert bad.status_code == 422 and "名单.xlsx" in bad.text
    assert upload(a, "名单.txt", b"x").status_code == 422
    other = upload(users["team_b"], path.name, path.read_bytes())
    assert other.status_code == 403 and "本队" in other.text
