"""``/api/v1/siting/jobs`` and ``/api/v1/scenarios`` on the example county.

The county's only 精神残疾人社区康复站, 清河精神康复站 (JK-01, 10 places), covers 7
of the 12 psychiatric persons; closed, nobody (tests/planner/siting/test_changes.py
works it out by hand). A job runs the same ``site`` as ``coverplan site --json``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.county import VILLAGE
from tests.http.county_ra import CountyApi, assert_private, county_api

JOBS = "/api/v1/siting/jobs"
WAIT_S = 120.0
# figures that differ between two solves of the same problem: wall times
TIMES = ("seconds",)


@pytest.fixture
def api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[CountyApi]:
    with county_api(tmp_path, capsys, monkeypatch) as world:
        yield world


def _submit(api: CountyApi, who: str, body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post(JOBS, headers=api.as_(who), json=body)
    assert r.status_code == 202, r.text
    job: dict[str, Any] = r.json()
    assert job["status"] in ("queued", "running") and len(job["id"]) == 32
    return job


def _wait(api: CountyApi, job_id: str, who: str = "planner") -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    seen = set()
    while time.monotonic() < deadline:
        r = api.client.get(f"{JOBS}/{job_id}", headers=api.as_(who))
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        seen.add(job["status"])
        assert 0 <= job["progress"] <= 1
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {seen} after {WAIT_S} s")


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in (*TIMES, "files")}


def test_jobs_run_to_done_with_the_cli_result(api: CountyApi) -> None:
    job = _submit(
        api, "leader", {"type": "psych_station", "close": ["JK-01"], "scenario": "关闭康复站"}
    )
    done = _wait(api, job["id"])
    assert done["status"] == "done", done
    assert (done["progress"], done["message"], done["error"]) == (1.0, "求解完成", None)
    result = done["result"]
    assert result["scenario"] == "关闭康复站"
    (row,) = result["selected"]
    assert (row["action"], row["places"]) == ("close", -10)
    assert (result["before"]["covered"], result["after"]["covered"]) == (7, 0)
    cli = api.cli("site", "--type", "psych_station", "--close", "JK-01", "--scenario", "关闭CLI")
    assert _plain({**result, "scenario": None}) == _plain({**cli, "scenario": None})
    assert_private(str(result))

    moved = _submit(
        api,
        "planner",
        {
            "type": "psych_station",
            "relocate": [{"facility": "清河精神康复站", "to": VILLAGE["V11"].code}],
            "scenario": "迁至中岭",
        },
    )
    result = _wait(api, moved["id"], who="leader")["result"]
    assert (result["before"]["covered"], result["after"]["covered"]) == (7, 3)

    listed = api.get("leader", "/api/v1/scenarios").json()
    assert listed == api.cli("scenarios", "list")
    assert {s["name"] for s in listed["scenarios"]} == {"关闭康复站", "关闭CLI", "迁至中岭"}
    shown = api.get("planner", "/api/v1/scenarios/迁至中岭").json()
    assert shown == api.cli("scenarios", "show", "迁至中岭")
    names = ["关闭康复站", "迁至中岭"]
    compared = api.get("leader", "/api/v1/scenarios/compare", names=names).json()
    assert compared == _plain(api.cli("scenarios", "compare", *names))
    assert compared["names"] == names

    assert (
        api.client.delete("/api/v1/scenarios/关闭CLI", headers=api.as_("leader")).status_code == 403
    )
    r = api.client.delete("/api/v1/scenarios/关闭CLI", headers=api.as_("planner"))
    assert (r.status_code, r.json()) == (200, {"deleted": "关闭CLI"})
    r = api.get("planner", "/api/v1/scenarios/关闭CLI")
    assert r.status_code == 404 and "关闭CLI" in r.json()["detail"]
    r = api.client.delete("/api/v1/scenarios/关闭CLI", headers=api.as_("admin"))
    assert r.status_code == 404


def test_a_failed_job_carries_its_chinese_reason(api: CountyApi) -> None:
    job = _submit(api, "planner", {"type": "psych_station", "close": ["不存在的站"]})
    failed = _wait(api, job["id"])
    assert failed["status"] == "failed" and failed["result"] is None
    error = failed["error"]
    assert error["status"] == 422 and error["instance"] == f"{JOBS}/{job['id']}"
    assert "不存在的站" in error["detail"] and "清河精神康复站" in error["detail"]
    assert failed["message"] == error["detail"]
    # what depends on the data is the job's to say: a village of another district
    job = _submit(api, "planner", {"type": "home", "candidates": ["330999009999"], "new": 1})
    failed = _wait(api, job["id"])
    assert failed["status"] == "failed" and "330999009999" in failed["error"]["detail"]
    assert api.get("planner", "/api/v1/scenarios").json() == {"scenarios": []}


def test_options_are_checked_before_the_job(api: CountyApi) -> None:
    h = api.as_("planner")
    r = api.client.post(JOBS, headers=h, json={"type": "home", "new": 1, "time_limit": 121})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "121" in r.json()["detail"] and "solver_seconds_max" in r.json()["detail"]
    r = api.client.post(JOBS, headers=h, json={"type": "home", "new": 1, "owner": "x"})
    assert r.status_code == 422 and "owner" in r.json()["detail"]  # mass assignment
    r = api.client.post(JOBS, headers=h, json={"type": "no_such", "new": 1})
    assert r.status_code == 422 and "home" in r.json()["detail"]
    r = api.client.post(JOBS, headers=h, json={"type": "home", "new": 1, "scenario": " 前后空格"})
    assert r.status_code == 422
    assert api.get("planner", f"{JOBS}/{'0' * 32}").status_code == 404
    assert api.get("planner", f"{JOBS}/not-a-job").status_code == 422


def test_role_matrix(api: CountyApi) -> None:
    # a 残疾人之家 at V11 中岭村 reaches V10, V11 and V12 (18, 0 and 18 minutes), beyond
    # the 30 minutes of the homes in V02 and V07
    body = {"type": "home", "new": 1, "candidates": [VILLAGE["V11"].code]}
    for who, status in (("outreach", 403), ("integration", 403), ("none", 401)):
        r = api.client.post(JOBS, headers=api.as_(who), json=body)
        assert r.status_code == status, who
        for url in ("/api/v1/scenarios", f"{JOBS}/{'0' * 32}", "/api/v1/scenarios/x"):
            assert api.get(who, url).status_code == status, (who, url)
    job = _submit(api, "admin", body)
    done = _wait(api, job["id"], who="leader")
    assert done["status"] == "done", done
    (row,) = done["result"]["selected"]
    assert (row["action"], row["village_code"]) == ("new", VILLAGE["V11"].code)
    before, after = done["result"]["before"], done["result"]["after"]
    assert after["covered"] - before["covered"] == 3 + 4 + 3
