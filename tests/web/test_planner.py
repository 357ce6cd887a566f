"""The planner dashboard in the browser, on the served demo district: the plan's
indicator table as the API gives it (met / not met), coverage per facility type,
the type selector switching tables and map frames (htmx), a CSV download with a
BOM and Chinese headers; clean (no console error, no outside request)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.conftest import PASSWORDS

#: The first load computes coverage of every type on the demo district (seconds to
#: a minute on a busy machine); later requests answer from the cache.
FIRST_LOAD_MS = 240_000


def _api(b: Any, role: str, path: str) -> Any:
    request = b.page.request
    token = request.post(
        b.server.base + "/api/v1/auth/token",
        form={"username": role, "password": PASSWORDS[role]},
    ).json()["access_token"]
    r = request.get(b.server.base + path, headers={"Authorization": f"Bearer {token}"})
    assert r.ok, r.text()
    return r.json()


def _open_dashboard(b: Any, role: str) -> None:
    b.page.set_default_timeout(FIRST_LOAD_MS)
    b.login(role)
    response = b.goto("/planner")
    assert response.status == 200


def test_the_planner_dashboard(browse: Any) -> None:
    b = browse()
    _open_dashboard(b, "planner")
    page = b.page
    doc = _api(b, "planner", "/api/v1/indicators")
    items = doc["indicators"] + doc["policy_checks"]
    keys = page.eval_on_selector_all("tr[data-key]", "rows => rows.map(r => r.dataset.key)")
    assert keys == [i["key"] for i in items] and len(doc["indicators"]) == 14
    for item in items:
        row = page.locator(f'tr[data-key="{item["key"]}"]')
        assert item["name"] in row.inner_text()
        if item["met"] is True:
            assert row.locator(".met").inner_text() == "达标"
        elif item["met"] is False:
            assert row.locator(".unmet").inner_text() == "未达标"
        elif item["value"] is None:
            assert "无数据" in row.inner_text()
    # coverage per type: the API's figures
    cov = {t["type"]: t for t in _api(b, "planner", "/api/v1/coverage")["facility_types"]}
    home = page.locator('#types tr[data-type="home"]').inner_text()
    assert cov["home"]["label"] in home and str(cov["home"]["eligible"]) in home
    assert "/maps/coverage.html?type=home" in page.get_attribute("#type-panel iframe", "src")
    b.shot("planner-dashboard")
    # the type selector swaps the panel (tables and map frames)
    page.select_option("#type-select", "psych_station")
    page.wait_for_selector('#type-panel iframe[src="/maps/coverage.html?type=psych_station"]')
    assert "精神残疾人社区康复站" in page.inner_text("#type-panel h3")
    frames = page.eval_on_selector_all("#type-panel iframe", "fs => fs.map(f => f.src)")
    assert [f.split(b.server.base)[1] for f in frames] == [
        "/maps/coverage.html?type=psych_station",
        "/maps/gaps.html?type=psych_station",
    ]
    # the indicator selector swaps the indicator map
    page.select_option('select[name="indicator"]', "living_subsidy")
    page.wait_for_selector(
        '#indicator-map iframe[src="/maps/indicators.html?indicator=living_subsidy"]'
    )
    # a download: CSV with a BOM and Chinese headers
    page.click('details[data-fold="villages"] > summary')  # folded at first
    with page.expect_download() as info:
        page.click('#table-villages a[href^="/planner/download/villages.csv"]')
    body = Path(info.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").splitlines()[0].startswith("村社代码,村社,镇街,符合条件人数")
    _clean_but_frames(b)


def _clean_but_frames(b: Any) -> None:
    """No console error (the map frames included) and no request to another host."""
    b.assert_clean()


def test_an_admin_opens_the_planner_dashboard(browse: Any) -> None:
    b = browse()
    _open_dashboard(b, "admin")
    assert b.page.locator("tr[data-key]").count() >= 14
    b.shot("admin-planner")
    _clean_but_frames(b)
