"""The outreach page in a real browser on the served demo (team A's account, towns
the first two by code; admins choose a team): the month's plan after the
「查看目的」, the route list on a phone and on a desktop, the printable sheet, and
the upload of a filled-in sheet with its report.

Known answers come from the API of the same server (the same cached plan): the
team's stops of the month, their order and names.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.web.conftest import PASSWORDS, WebServer

PURPOSE = "入户走访"
PLAN_TIMEOUT_MS = 240_000  # the first view of a month plans it (routing per day)
THIS_MONTH = f"{date.today():%Y-%m}"
LAST_MONTH = f"{(date.today().replace(day=1) - timedelta(days=1)):%Y-%m}"
MIN_TOUCH_PX = 40  # buttons and links a finger can hit


def _api_team(server: WebServer, month: str, user: str) -> dict[str, Any]:
    """The month's plan of the user's team as the API gives it (``team``)."""
    form = urllib.parse.urlencode({"username": user, "password": PASSWORDS[user]}).encode()
    with urllib.request.urlopen(server.base + "/api/v1/auth/token", data=form) as r:
        token = json.load(r)["access_token"]
    url = f"{server.base}/api/v1/outreach/months/{month}?" + urllib.parse.urlencode(
        {"purpose": PURPOSE}
    )
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=PLAN_TIMEOUT_MS / 1000) as r:
        doc: dict[str, Any] = json.load(r)
    return doc


def _open_plan(b: Any, *, month: str | None = None, team: str | None = None) -> None:
    """Open /outreach (the month, the team), give the purpose, wait for the plan."""
    query = {k: v for k, v in (("month", month), ("team", team)) if v}
    b.goto("/outreach" + ("?" + urllib.parse.urlencode(query) if query else ""))
    assert "查看目的" in b.page.inner_text("main")
    assert b.page.locator(".month-facts").count() == 0  # no persons before the purpose
    b.page.fill("input[name=purpose]", PURPOSE)
    with b.page.expect_navigation():
        b.page.click("form.outreach-pick button[type=submit]")
    b.page.wait_for_selector(".month-facts", timeout=PLAN_TIMEOUT_MS)


def _stops_shown(b: Any) -> list[str]:
    return [t.strip() for t in b.page.locator("li.stop .who strong").all_inner_texts()]


def _console_ok(b: Any) -> None:
    """``assert_clean``: the route map frames included."""
    b.assert_clean()


def test_outreach_sees_this_months_route_on_a_desktop(browse: Any, web_server: WebServer) -> None:
    b = browse()
    b.login("outreach")
    _open_plan(b)
    assert b.page.locator("select[name=month] option:checked").inner_text().endswith("（本月）")
    assert b.page.locator("select[name=team]").count() == 0  # the own team only
    doc = _api_team(web_server, THIS_MONTH, "outreach")
    stops = [s for d in (doc["team"] or {}).get("days", []) for s in d["stops"]]
    assert _stops_shown(b) == [s["name"] for s in stops]
    text = b.page.inner_text("main")
    assert all(v["name"] in text for v in doc["villages"])
    assert doc["service_point"]["name"] in text
    estimated = sum(s["point_source"] == "estimated" for s in stops)
    assert b.page.locator(".estimated").count() == estimated
    days = (doc["team"] or {}).get("days", [])
    assert b.page.locator("iframe.map").count() == len(days)
    for d in days:
        src = b.page.locator(f"#day-{d['date']} iframe.map").get_attribute("src")
        assert src.startswith(f"/maps/outreach.html?month={THIS_MONTH}&team=A&day={d['date']}&")
        assert "purpose=" in src  # the frame's read is audited with the page's purpose
    b.shot("outreach-month")
    b.shot("outreach-outreach")
    _console_ok(b)


def test_the_route_list_reads_on_a_phone(browse: Any) -> None:
    b = browse(phone=True)
    b.login("outreach")
    _open_plan(b)
    width = b.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    for el in b.page.locator("a.btn, button.big").all():
        if el.is_visible():
            box = el.bounding_box()
            assert box["height"] >= MIN_TOUCH_PX, (el.inner_text(), box)
    b.shot("outreach-month-phone")
    _console_ok(b)


def test_the_printable_sheet_and_the_upload_of_a_filled_one(
    browse: Any, web_server: WebServer, tmp_path: Path
) -> None:
    """Last month (its days are past: visits can be recorded)."""
    b = browse()
    b.login("outreach")
    _open_plan(b, month=LAST_MONTH)
    doc = _api_team(web_server, LAST_MONTH, "outreach")
    days = [d for d in (doc["team"] or {}).get("days", []) if d["stops"]]
    if not days:
        pytest.skip(f"{LAST_MONTH}: team A has no stops in the demo")
    day = days[0]
    links = b.page.locator(f"#day-{day['date']} .sheet-links a")
    html_href, xlsx_href = links.nth(0).get_attribute("href"), links.nth(1).get_attribute("href")
    with b.page.expect_download() as got:
        links.nth(1).click()
    sheet = tmp_path / got.value.suggested_filename
    got.value.save_as(sheet)
    assert sheet.name == f"{day['date']}_A.xlsx" and xlsx_href.endswith(
        f"{day['date']}.xlsx?purpose=" + urllib.parse.quote(PURPOSE)
    )
    # the printable sheet (as the API writes it): the team's households in order
    b.goto(html_href)
    text = b.page.inner_text("body")
    names = [s["name"] for s in day["stops"]]
    assert all(n in text for n in names)
    b.shot("outreach-sheet")
    # fill the first household in as done, the second with a wrong outcome; upload
    wb = openpyxl.load_workbook(sheet)
    ws = wb["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    cols = {c.value: c.column for c in ws[header]}
    rows = [r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value]
    assert len(rows) == len(names)
    ws.cell(rows[0], cols["结果"], "完成")
    ws.cell(rows[0], cols["已提供服务"], ws.cell(rows[0], cols["服务项目"]).value)
    bad = len(rows) > 1
    if bad:
        ws.cell(rows[1], cols["结果"], "不知道")
    wb.save(sheet)
    _open_plan(b, month=LAST_MONTH)
    # one visit by the form (htmx sends the CSRF header): the last household not at home
    last = b.page.locator(f"#day-{day['date']} li.stop").last
    last.locator("summary").click()
    last.locator("select[name=outcome]").select_option("not_home")
    for box in last.locator("input[name=services]").all():
        box.uncheck()
    last.locator("button[type=submit]").click()
    last.locator(".visit-result .ok").wait_for(timeout=60_000)
    assert "已登记" in last.inner_text() and "不在家" in last.inner_text()
    b.page.set_input_files("#upload input[type=file]", str(sheet))
    b.page.click("#upload button[type=submit]")
    b.page.wait_for_selector(".import-report", timeout=60_000)
    report = b.page.inner_text(".import-report")
    assert f"导入结果：{sheet.name}" in report
    counts = dict(
        (cells[0], cells[1])
        for cells in (
            r.split("\t")
            for r in b.page.locator(".import-report table.counts tr").all_inner_texts()
        )
    )
    assert counts["数据行"] == str(len(rows))
    assert counts["入库"].startswith("1")
    assert counts["拒绝"] == ("1" if bad else "0")
    if bad:
        assert f"{rows[1]}\t结果\t不知道" in b.page.inner_text(".import-report table.problems")
    b.page.locator("#upload").scroll_into_view_if_needed()
    b.shot("outreach-upload")
    _console_ok(b)


def test_admin_chooses_a_team(browse: Any, web_server: WebServer) -> None:
    b = browse()
    b.login("admin")
    _open_plan(b, team="B")
    assert b.page.locator("select[name=team] option:checked").inner_text().startswith("B")
    assert "第二入户服务队" in b.page.inner_text("h1")
    b.shot("admin-outreach")
    _console_ok(b)
