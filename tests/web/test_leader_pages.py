"""The leader's pages in-process (TestClient) on 示例县 (:mod:`tests.http.county_api`).

The county's only 精神残疾人社区康复站, 清河精神康复站 (JK-01, 10 places), reaches 7
of the 12 psychiatric persons, all within its places; closed, nobody
(tests/planner/siting/test_changes.py works it out by hand). The world saves
「关闭清河康复站」 (close JK-01) and a copy; this module adds 「新建1处」 (one new
station) so that a comparison has two different columns.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from api.web.leader_views import fmt_num
from api.web.whatif_sessions import WhatIfEntry, WhatIfRegistry
from planner.services.scenarios import compare_scenarios
from planner.services.whatif import Change, WhatIfOptions, open_whatif
from planner.settings import load_config, reset_settings
from tests.http.county_api import (
    PASSWORD,
    SCENARIOS,
    TEST_CONFIG,
    CountyApi,
    copy_scenario,
    open_county_api,
)

SECRET = "test-secret-" + "z" * 40
NEW_ONE = "新建1处"
TYPE = "psych_station"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
WAIT_S = 120.0


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    root = tmp_path_factory.mktemp("leader_pages")
    (root / "test.toml").write_text(TEST_CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COVERPLAN_DATA_DIR", str(root / "var"))
        mp.setenv("COVERPLAN_OUT_DIR", str(root / "out"))
        mp.setenv("COVERPLAN_SECRET", SECRET)
        mp.setenv("COVERPLAN_CONFIG", str(root / "test.toml"))
        for name in ("COVERPLAN_DB_URL", "COVERPLAN_DATA_KEY"):
            mp.delenv(name, raising=False)
        reset_settings()
        api = open_county_api(root)
        code = main(["--db", api.url, "site", "--type", TYPE, "--new", "1", "--scenario", NEW_ONE])
        assert code == 0
        try:
            yield api
        finally:
            api.client.__exit__(None, None, None)
            api.store.dispose()
            reset_settings()


class Browser:
    """A TestClient signed in through ``/login`` (the session cookie) with its CSRF token."""

    def __init__(self, county: CountyApi, user: str) -> None:
        self.client = TestClient(county.app)
        r = self.client.post(
            "/login", data={"username": user, "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        self.csrf = ""
        self.sensitive = county.sensitive

    def get(self, url: str, **params: Any) -> Any:
        r = self.client.get(url, params=params)
        if match := CSRF.search(r.text):
            self.csrf = match.group(1)
        assert self.sensitive.leaks(r.text) == []
        return r

    def htmx(self, url: str, data: dict[str, Any], *, csrf: bool = True) -> Any:
        headers = {"HX-Request": "true"}
        if csrf:
            headers["X-CSRF-Token"] = self.csrf
        r = self.client.post(url, data=data, headers=headers)
        assert self.sensitive.leaks(r.text) == []
        return r


@pytest.fixture(scope="module")
def leader(county: CountyApi) -> Browser:
    b = Browser(county, "leader")
    assert b.get("/leader").status_code == 200
    return b


def _row(html: str, key: str) -> list[str]:
    """The cells of the table row ``data-key=key``."""
    match = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert match, key
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", match[1])]


def test_the_list_shows_every_saved_siting_scenario(leader: Browser) -> None:
    html = leader.get("/leader").text
    for name in (*SCENARIOS, NEW_ONE):
        assert f'value="{name}"' in html
    # closing JK-01: 7 persons in reach before, nobody after
    assert "7 → 0" in html
    assert f"/leader/scenarios/{quote(SCENARIOS[0])}/print" in html


def test_the_comparison_shows_the_services_figures(county: CountyApi, leader: Browser) -> None:
    names = [SCENARIOS[0], NEW_ONE]
    r = leader.get("/leader/compare", names=names)
    assert r.status_code == 200, r.text
    doc = compare_scenarios(county.store, names).to_json()
    assert len(doc["metrics"]) >= 15
    for metric in doc["metrics"]:
        label, *cells = _row(r.text, metric["key"])
        assert label == metric["label"]
        assert cells == [fmt_num(metric[n]) for n in names], metric["key"]
    assert [_row(r.text, k)[1] for k in ("covered_before", "covered_after", "closures")] == [
        "7",
        "0",
        "1",
    ]
    for name in names:
        assert f'src="/maps/siting.html?scenario={name}' not in r.text  # URL-encoded
    assert r.text.count('src="/maps/siting.html?scenario=') == 2


def test_a_comparison_of_one_or_unknown_scenarios_is_refused(leader: Browser) -> None:
    r = leader.get("/leader/compare", names=[SCENARIOS[0]])
    assert r.status_code == 422 and "至少需要两个方案" in r.text
    r = leader.get("/leader/compare", names=[SCENARIOS[0], "没有这个"])
    assert r.status_code == 404 and "没有名为「没有这个」的方案" in r.text


def test_a_scenario_and_its_print_page(leader: Browser) -> None:
    for path in (f"/leader/scenarios/{SCENARIOS[0]}", f"/leader/scenarios/{SCENARIOS[0]}/print"):
        r = leader.get(path)
        assert r.status_code == 200
        assert "精神残疾人社区康复站：关闭 1 处" in r.text
        assert "/maps/siting.html?scenario=" in r.text
        assert _row(r.text.replace("<tr><td>可达人数", '<tr data-key="x"><td>可达人数'), "x") == [
            "可达人数",
            "7",
            "0",
        ]
    r = leader.get(f"/leader/scenarios/{NEW_ONE}")
    assert "为什么选这里" in r.text
    assert leader.get("/leader/scenarios/没有这个").status_code == 404


def test_a_new_scenario_runs_as_a_job_and_appears_in_the_list(leader: Browser) -> None:
    form = {"type": TYPE, "new": "0", "close": "JK-01", "name": "网页关闭康复站"}
    assert leader.htmx("/leader/scenarios/jobs", form, csrf=False).status_code == 403
    bad = leader.htmx("/leader/scenarios/jobs", {**form, "new": "两处"})
    assert "新建处数须为 0–10000 的整数" in bad.text
    r = leader.htmx("/leader/scenarios/jobs", form)
    assert r.status_code == 200
    job_id = re.search(r'hx-get="/leader/jobs/([0-9a-f]{32})"', r.text)
    assert job_id and 'hx-trigger="every 1s"' in r.text
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        r = leader.get(f"/leader/jobs/{job_id[1]}")
        if "every 1s" not in r.text:
            break
        time.sleep(0.1)
    assert "求解完成，已保存为方案「网页关闭康复站」" in r.text, r.text
    assert r.headers["HX-Trigger"] == "scenarios-changed"
    assert 'value="网页关闭康复站"' in leader.get("/leader/scenarios").text


def _whatif(county: CountyApi) -> Any:
    config = load_config()
    return open_whatif(county.store, config=config, options=WhatIfOptions(type_key=TYPE))


def test_the_whatif_figures_follow_the_service(county: CountyApi, leader: Browser) -> None:
    assert leader.get("/leader/whatif", type=TYPE).status_code == 200
    panel = leader.get("/leader/whatif/panel", type=TYPE, scenario="")
    service = _whatif(county)
    start = service.figures()
    assert _row(panel.text, "in_reach")[1:3] == [fmt_num(start.before.in_reach)] * 2 == ["7", "7"]
    form = {"type": TYPE, "scenario": "", "action": "remove", "site": "JK-01"}
    assert leader.htmx("/leader/whatif/change", form, csrf=False).status_code == 403
    r = leader.htmx("/leader/whatif/change", form)
    after = service.apply(Change("remove", "JK-01"))
    assert _row(r.text, "in_reach")[1:4] == ["7", fmt_num(after.totals.in_reach), "-7"]
    assert _row(r.text, "within_capacity")[2] == fmt_num(after.totals.within_capacity) == "0"
    assert "本次计算" in r.text and "服务器处理" in r.text
    again = leader.htmx("/leader/whatif/change", form)
    assert "已经关闭" in again.text  # the engine's message, in the panel
    r = leader.htmx("/leader/whatif/undo", {"type": TYPE, "scenario": ""})
    assert _row(r.text, "in_reach")[2] == "7"
    suggest = leader.htmx("/leader/whatif/suggest", {"type": TYPE, "scenario": ""})
    assert "建议下一个站点" in suggest.text
    best = leader.htmx("/leader/whatif/best", {"type": TYPE, "scenario": "", "sites": "1"})
    assert best.status_code == 200 and "预算内最优改进" in best.text
    reset = leader.htmx("/leader/whatif/reset", {"type": TYPE, "scenario": ""})
    assert "还没有改动" in reset.text


def test_small_counts_are_suppressed_for_leaders_not_admins(county: CountyApi) -> None:
    for user, shown in (("leader", "&lt;5"), ("admin", None)):
        b = Browser(county, user)
        b.get("/leader")
        panel = b.get("/leader/whatif/panel", type=TYPE, scenario="").text
        villages = re.search(r'<table class="wi-villages">.*?</table>', panel, re.S)
        assert villages
        if shown:
            assert shown in villages[0]
        else:
            assert "&lt;5" not in villages[0]


def test_a_planner_cannot_open_the_leader_pages(county: CountyApi) -> None:
    planner = Browser(county, "planner")
    planner.get("/planner")
    for path in ("/leader", "/leader/compare", f"/leader/whatif?type={TYPE}"):
        assert planner.get(path).status_code == 403, path
    form = {"type": TYPE, "scenario": "", "action": "remove", "site": "JK-01"}
    assert planner.htmx("/leader/whatif/change", form).status_code == 403


def _session_id(html: str) -> str:
    match = re.search(r'src="/maps/whatif.html\?session=([0-9a-f]{32})&amp;step=(\d+)"', html)
    assert match, "no what-if map frame"
    return match[1]


def test_a_new_data_version_opens_the_whatif_again(county: CountyApi) -> None:
    b = Browser(county, "leader")
    b.get("/leader")
    first = _session_id(b.get("/leader/whatif/panel", type=TYPE, scenario="").text)
    form = {"type": TYPE, "scenario": "", "action": "remove", "site": "JK-01"}
    changed = b.htmx("/leader/whatif/change", form).text
    assert _session_id(changed) == first and "还没有改动" not in changed
    other = Browser(county, "leader")  # another browser of the same user: its own session
    other.get("/leader")
    assert _session_id(other.get("/leader/whatif/panel", type=TYPE, scenario="").text) != first
    copy_scenario(county.store, SCENARIOS[0], "数据版本变化")  # a write: new data version
    again = b.get("/leader/whatif/panel", type=TYPE, scenario="").text
    assert _session_id(again) != first and "还没有改动" in again


def test_the_registry_keeps_the_most_recent_sessions() -> None:
    """Sessions are copies of one base per type and data version (a stand-in for
    :class:`WhatIf` here: the registry only opens and copies it)."""

    class Opened:
        def copy(self) -> Opened:
            return Opened()

    reg = WhatIfRegistry(max_sessions=2)
    opened: list[Opened] = []

    def get(token: str, version: str = "v1") -> WhatIfEntry:
        def open_() -> Any:
            opened.append(Opened())
            return opened[-1]

        return reg.get(
            token=token, subject="leader", type_key=TYPE, scenario=None, version=version,
            open_=open_,
        )  # fmt: skip

    a, b = get("a"), get("b")
    assert a.whatif is not b.whatif and len(opened) == 1  # two copies of one base
    assert get("a") is a and len(opened) == 1  # kept, now the most recent
    get("c")  # b, the least recently used, goes
    assert len(reg) == 2 and reg.peek(token="b", type_key=TYPE, scenario=None) is None
    assert reg.by_id(a.id) is a and reg.by_id(b.id) is None
    assert get("a", "v2") is not a and len(opened) == 2  # a new data version: opened again
    assert reg.drop_stale("v2") == 1 and len(reg) == 1


def test_a_whatif_can_start_from_a_saved_scenario(leader: Browser) -> None:
    page = leader.get("/leader/whatif", type=TYPE, scenario=SCENARIOS[0])
    assert page.status_code == 200 and f"从方案「{SCENARIOS[0]}」开始" in page.text
    panel = leader.get("/leader/whatif/panel", type=TYPE, scenario=SCENARIOS[0]).text
    # the scenario closed JK-01: nobody in reach at the start; re-opening it gives 7 back
    assert _row(panel, "in_reach")[1:3] == ["0", "0"]
    form = {"type": TYPE, "scenario": SCENARIOS[0], "action": "add", "site": "JK-01"}
    assert _row(leader.htmx("/leader/whatif/change", form).text, "in_reach")[1:4] == [
        "0",
        "7",
        "+7",
    ]


def test_a_type_without_travel_or_a_failing_job_is_told_in_chinese(leader: Browser) -> None:
    r = leader.get("/leader/whatif", type="accessible_community")
    assert r.status_code == 422 and "不能推演" in r.text
    form = {"type": TYPE, "new": "0", "close": "不存在的站", "name": "关闭不存在的站"}
    started = leader.htmx("/leader/scenarios/jobs", form).text
    job = re.search(r"/leader/jobs/([0-9a-f]{32})", started)
    assert job
    deadline = time.monotonic() + WAIT_S
    while "every 1s" in (text := leader.get(f"/leader/jobs/{job[1]}").text):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert "求解失败：" in text and "不存在的站" in text, text
