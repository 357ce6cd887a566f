"""The leader's pages in a real browser on the demo district (奉化区, synthetic).

Two siting scenarios of 残疾人之家 (2 and 3 new homes) are saved by ``coverplan site`` on the served
copy; a third is started from the page as a job (htmx polls its progress). The
comparison shows the figures of ``coverplan scenarios compare --json``; the
printable summary prints on one A4 page (Chromium's PDF, counted with pypdf);
the what-if changes the figures after a click (the server time per click is
printed, not asserted). The map frames (``/maps/*.html``) are the lead's after
the maps merge: their content is not checked here.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from io import BytesIO
from typing import Any
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from api.web.leader_views import fmt_num
from tests.web.conftest import COVERPLAN, WebServer

TYPE = "home"
SAVED = ("之家新建2处", "之家新建3处")  # two towns have no home: at least 2 new
JOB_S = 180_000  # ms: a demo solve from the page, on a shared machine
PANEL_S = 120_000  # ms: opening the what-if (OD pairs of the demo)
CLICKS = 10


def _cli(server: WebServer, *args: str) -> Any:
    out = subprocess.run(
        [COVERPLAN, *args, "--json"],
        env=server.demo.env(),
        cwd=server.demo.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def saved(web_server: WebServer) -> tuple[str, ...]:
    listed = {s["name"] for s in _cli(web_server, "scenarios", "list")["scenarios"]}
    for n, name in enumerate(SAVED, start=2):
        if name not in listed:
            _cli(web_server, "site", "--type", TYPE, "--new", str(n), "--scenario", name)
    return SAVED


def _nav_errors(b: Any) -> list[str]:
    """Console errors (the map frames included: every /maps route exists)."""
    return list(b.console_errors)


def test_scenarios_list_and_a_new_one_from_the_page(browse: Any, saved: tuple[str, ...]) -> None:
    b = browse()
    b.login("leader")
    assert b.page.url.endswith("/leader")
    table = b.page.inner_text("#scenario-list")
    for name in saved:
        assert name in table
    b.page.select_option("select[name=type] >> nth=0", TYPE)
    b.page.fill("input[name=new]", "2")
    b.page.fill("input[name=name]", "网页新建2处")
    b.page.click("text=开始求解")
    b.page.wait_for_selector("progress, .job-status", timeout=10_000)
    b.page.wait_for_selector("text=求解完成", timeout=JOB_S)
    b.page.wait_for_selector("#scenario-list >> text=网页新建2处", timeout=10_000)
    b.shot("leader-scenarios")
    assert _nav_errors(b) == [] and b.outside == []


def test_compare_shows_the_clis_figures(
    browse: Any, web_server: WebServer, saved: tuple[str, ...]
) -> None:
    b = browse()
    b.login("leader")
    for name in saved:
        b.page.check(f'input[name=names][value="{name}"]')
    with b.page.expect_navigation():
        b.page.click("text=并排比较所选方案")
    assert "/leader/compare" in b.page.url
    doc = _cli(web_server, "scenarios", "compare", *saved)
    for metric in doc["metrics"]:
        if metric["key"] == "seconds":
            continue
        cells = b.page.locator(f'tr[data-key="{metric["key"]}"] td').all_inner_texts()
        assert cells == [metric["label"], *(fmt_num(metric[n]) for n in saved)], metric["key"]
    assert b.page.locator("iframe.map").count() == 2
    b.shot("leader-compare")
    assert _nav_errors(b) == [] and b.outside == []


def test_the_summary_prints_on_one_a4_page(browse: Any, saved: tuple[str, ...]) -> None:
    b = browse()
    b.login("leader")
    b.goto(f"/leader/scenarios/{quote(saved[1])}/print")
    text = b.page.inner_text("main")
    assert f"选址方案摘要：{saved[1]}" in text and "残疾人之家：新建 3 处" in text
    assert "为什么选这里" in text
    b.shot("leader-print")
    pdf = b.page.pdf(format="A4", print_background=True)
    assert len(PdfReader(BytesIO(pdf)).pages) == 1
    assert _nav_errors(b) == [] and b.outside == []


def _figures(b: Any) -> tuple[str, str]:
    """In reach and within capacity now (the panel's 「现在」 column)."""
    cell = '.wi-totals tr[data-key="{}"] td:nth-child(3)'
    return (
        str(b.page.inner_text(cell.format("in_reach"))),
        str(b.page.inner_text(cell.format("within_capacity"))),
    )


def _timed(b: Any, path: str, click: Any) -> float:
    with b.page.expect_response(f"**{path}") as r:
        click()
    return float(r.value.headers["server-timing"].split("dur=")[1])


def test_the_whatif_changes_the_figures_after_a_click(browse: Any) -> None:
    b = browse()
    b.login("leader")
    b.goto(f"/leader/whatif?type={TYPE}")
    b.page.wait_for_selector(".wi-totals", timeout=PANEL_S)
    start = _figures(b)
    _timed(b, "/leader/whatif/suggest", lambda: b.page.click("text=建议下一个站点"))
    b.page.wait_for_selector(".wi-suggestions")
    _timed(b, "/leader/whatif/change", lambda: b.page.click(".wi-suggestions button >> nth=0"))
    b.page.wait_for_selector('.wi-layout[data-step="1"]', timeout=PANEL_S)
    b.page.wait_for_selector(".wi-changes")
    assert _figures(b) != start
    closed = b.page.locator("select[name=site] option", has_text="未开放")
    site = closed.first.get_attribute("value")
    times = []
    step = int(b.page.get_attribute(".wi-layout", "data-step") or 0)
    for _ in range(CLICKS):
        # each click waits for its panel to be swapped in (the step it shows), so the
        # next click never acts on the panel being replaced
        times.append(_timed(b, "/leader/whatif/undo", lambda: b.page.click("text=撤销")))
        b.page.wait_for_selector(f'.wi-layout[data-step="{step - 1}"]', timeout=PANEL_S)
        times.append(
            _timed(
                b,
                "/leader/whatif/change",
                lambda: (
                    b.page.select_option("select[name=site]", site),
                    b.page.click("button[name=action][value=add]"),
                ),
            )
        )
        b.page.wait_for_selector(f'.wi-layout[data-step="{step}"]', timeout=PANEL_S)
    print(
        f"\nwhat-if server time per click (demo, {len(times)} clicks, incl. rendering): "
        f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms; "
        f"last click on the page: {b.page.inner_text('#wi-time')}"
    )
    b.page.frame_locator("iframe.map").locator(".leaflet-container").wait_for()
    b.shot("leader-whatif")
    assert _nav_errors(b) == [] and b.outside == []


#: Open the popup of the first map layer whose popup offers ``text`` (Leaflet's map
#: object is a global of the folium page).
_OPEN_POPUP = """text => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  let opened = false;
  map.eachLayer(l => {
    const p = l.getPopup && l.getPopup();
    if (!opened && p && String(p.getContent().innerHTML || p.getContent()).includes(text)) {
      l.openPopup(); opened = true;
    }
  });
  return opened;
}"""


def test_a_click_on_the_map_changes_the_whatif(browse: Any) -> None:
    """在此新增 in a candidate's popup (inside the map frame) adds that site; 关闭 in
    a site's popup closes one: the panel's figures change each time."""
    b = browse()
    b.login("leader")
    b.goto(f"/leader/whatif?type={TYPE}")
    b.page.wait_for_selector(".wi-totals", timeout=PANEL_S)
    sites = b.page.locator(".wi-changes li").count()
    frame = b.page.frame_locator("iframe.map")
    frame.locator(".leaflet-container").wait_for()
    handle = b.page.frame_locator("iframe.map").locator("body")
    assert handle.evaluate(f"(_, t) => ({_OPEN_POPUP})(t)", "在此新增")
    start = _figures(b)
    frame.locator("button.wi-map-btn", has_text="在此新增").first.click()
    b.page.wait_for_selector(".wi-changes li", timeout=PANEL_S)
    assert b.page.locator(".wi-changes li").count() == sites + 1
    assert "新增" in b.page.inner_text(".wi-changes")
    added = _figures(b)
    assert added != start
    frame = b.page.frame_locator("iframe.map")
    frame.locator(".leaflet-container").wait_for()
    assert frame.locator("body").evaluate(f"(_, t) => ({_OPEN_POPUP})(t)", "关闭")
    frame.locator("button.wi-map-btn", has_text="关闭").first.click()
    b.page.wait_for_function(
        "n => document.querySelectorAll('.wi-changes li').length === n", arg=sites + 2
    )
    assert "关闭" in b.page.inner_text(".wi-changes")
    assert _nav_errors(b) == [] and b.outside == []
