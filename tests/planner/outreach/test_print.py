"""The route sheet in a real browser: the system's headless Chromium prints a 17-stop
sheet on at most 2 A4 landscape pages, offline (every request that would leave the
machine is blocked and none is attempted), and a screenshot is kept under
``out/screenshots/``.

Chromium and the CJK font (fonts-wqy-microhei) are system packages: ``make test``
installs them (``make test-deps``); Playwright drives that Chromium (it never
downloads a browser of its own).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader

from planner.outreach.plan import MonthPlan
from planner.reports.route_sheets import write_route_sheets
from tests.imports import ROOT
from tests.planner.outreach.sheet_plans import day, month, with_extras

SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
A4_LANDSCAPE_PT = (841.89, 595.28)  # 297 × 210 mm in PDF points
PX_PER_MM = 96 / 25.4  # CSS pixels per millimetre
CONTENT_MM = 297 - 2 * 12  # A4 landscape width between the 12 mm margins
FIXED_COLUMNS_MM = 8 + 11 + 17 + 33 + 22 + 22 + 11 + 11 + 28 + 22 + 24  # all but 地址


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "没有找到系统的 chromium：请运行 make test-deps（apt-get install chromium）"
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _offline_page(browser: Any, attempted: list[str]) -> Any:
    """A page whose requests may only go to files and the loopback address."""
    page = browser.new_page()

    def guard(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("file", "data", "about") or parts.hostname in LOOPBACK:
            route.continue_()
        else:
            attempted.append(url)
            route.abort()

    page.route("**/*", guard)
    return page


def test_17_stop_sheet_prints_on_two_pages_offline(browser: Any, tmp_path: Path) -> None:
    plan = with_extras(MonthPlan.from_json(month({"A": day(17, morning=8)})))
    sheet = write_route_sheets(plan, tmp_path / "out").html[0]
    attempted: list[str] = []
    page = _offline_page(browser, attempted)
    try:
        page.goto(sheet.as_uri(), wait_until="load")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "route_sheet_17_stops.png"), full_page=True)
        pdf = tmp_path / "sheet.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        # the address column under print media, on a page as wide as the printed area
        page.emulate_media(media="print")
        page.set_viewport_size({"width": round(CONTENT_MM * PX_PER_MM), "height": 800})
        address_px = page.evaluate(
            "() => document.querySelector('tbody tr td:nth-child(6)').getBoundingClientRect().width"
        )
        rows = page.evaluate("() => document.querySelectorAll('tbody tr').length")
        has_map = page.evaluate("() => document.querySelectorAll('.map svg circle').length")
    finally:
        page.close()
    assert attempted == []
    pages = PdfReader(pdf).pages
    assert 1 <= len(pages) <= 2
    box = pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(A4_LANDSCAPE_PT, abs=1)
    assert rows == 17 + 2  # the stops, lunch, the way home
    assert has_map == 17  # a numbered circle per stop on the route map
    assert address_px / PX_PER_MM == pytest.approx(CONTENT_MM - FIXED_COLUMNS_MM, abs=2)
    assert (SCREENSHOTS / "route_sheet_17_stops.png").stat().st_size > 0


def test_outside_requests_would_be_caught(browser: Any, tmp_path: Path) -> None:
    """The guard itself: a page that does load an outside image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<img src="https://example.invalid/x.png">', encoding="utf-8")
    attempted: list[str] = []
    page = _offline_page(browser, attempted)
    try:
        page.goto(bad.as_uri(), wait_until="load")
    finally:
        page.close()
    assert attempted == ["https://example.invalid/x.png"]
