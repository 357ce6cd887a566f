"""Every operation of the OpenAPI × every kind of caller, driven by the one table
(:mod:`tests.http.route_rules`): the allowed get their success status, the others
403, no credentials 401; an outreach team asking for another team's object gets
the very answer a missing object gets (404, same body but for the id); and no
planner's or leader's GET response holds an ID number, a phone or a name.

On 示例县 (:mod:`tests.http.county_api`), built once for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from planner.domain.access import SCOPES
from tests.http.county_api import ACCOUNTS, INTEGRATION, CountyApi
from tests.http.route_rules import (
    ANY_KEY,
    OUTREACH,
    PATH_VALUES,
    RULES,
    Call,
    Operation,
    Rule,
    example_call,
    expected_status,
    operations,
    role_of,
    with_path_value,
)
from tests.http.scan import response_text

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


@pytest.fixture(scope="module")
def keys(county_module: CountyApi) -> dict[str, tuple[dict[str, str], frozenset[str]]]:
    """API keys: every scope (``integration``), and for each scope one holding only
    it and one holding every other."""
    out = {INTEGRATION: (county_module.headers(INTEGRATION), frozenset(SCOPES))}
    for scope in SCOPES:
        only = county_module.add_key(f"只有 {scope}", (scope,))
        out[f"key[{scope}]"] = (only, frozenset({scope}))
        others = tuple(s for s in SCOPES if s != scope)
        if others:
            rest = county_module.add_key(f"除 {scope}", others)
            out[f"key[not {scope}]"] = (rest, frozenset(others))
    return out


def _callers(
    api: CountyApi, keys: dict[str, tuple[dict[str, str], frozenset[str]]]
) -> Iterator[tuple[str, str | None, dict[str, str], frozenset[str]]]:
    """(label, user to build the request for, headers, key scopes) of every caller."""
    yield "anonymous", None, {}, frozenset()
    for user in ACCOUNTS:
        yield user, user, api.headers(user), frozenset()
    for label, (headers, scopes) in keys.items():
        yield label, INTEGRATION, headers, scopes


def _problem_issues(r: Any, op: Operation) -> list[str]:
    """What is wrong with an error response: not problem+json, or undeclared."""
    issues = []
    if not r.headers.get("content-type", "").startswith("application/problem+json"):
        issues.append(f"content-type {r.headers.get('content-type')}")
    else:
        body = r.json()
        if set(body) != PROBLEM_KEYS or body["status"] != r.status_code:
            issues.append(f"problem body {body}")
    if str(r.status_code) not in op.spec.get("responses", {}):
        issues.append(f"{r.status_code} not declared in the operation's responses")
    return issues


def test_every_operation_has_a_rule(county_api: CountyApi) -> None:
    ops = {op.key for op in operations(county_api.app)}
    missing = sorted(ops - set(RULES))
    assert not missing, (
        "operations without a rule in tests/http/route_rules.py RULES (add who may call "
        "them): " + ", ".join(f"{m.upper()} {p}" for m, p in missing)
    )
    stale = sorted(set(RULES) - ops)
    assert not stale, f"RULES entries for operations that no longer exist: {stale}"


def test_every_operation_can_be_called_as_the_table_says(county_api: CountyApi) -> None:
    """A request for every operation can be built (path values, examples)."""
    unbuildable = []
    for op in operations(county_api.app):
        rule = RULES.get(op.key, Rule())
        try:
            rule.call(county_api, "admin", op)
        except LookupError as exc:
            unbuildable.append(str(exc))
    assert not unbuildable, "\n".join(unbuildable)


def test_role_matrix(
    county_api: CountyApi, keys: dict[str, tuple[dict[str, str], frozenset[str]]]
) -> None:
    wrong: list[str] = []
    seen: dict[int, int] = {}
    for op in operations(county_api.app):
        rule = RULES.get(op.key)
        if rule is None:
            continue  # test_every_operation_has_a_rule names it
        for label, user, headers, scopes in _callers(county_api, keys):
            if rule.scope == ANY_KEY and label.startswith("key[not"):
                continue  # every key may: nothing to withhold
            call = rule.call(county_api, user or "admin", op)
            r = call.send(county_api, headers)
            if user is None:
                expect = rule.ok if rule.public else 401
            else:
                expect = expected_status(rule, user, key_scopes=scopes)
            seen[expect] = seen.get(expect, 0) + 1
            if r.status_code != expect:
                wrong.append(f"{op} as {label}: {r.status_code}, expected {expect}: {r.text[:200]}")
            elif r.status_code >= 400:
                wrong += [f"{op} as {label}: {i}" for i in _problem_issues(r, op)]
    assert not wrong, "\n".join(wrong)
    assert seen.get(401) and seen.get(403) and seen.get(200)  # the matrix has all three


def _normalised(r: Any, value: str) -> Any:
    """The body with the requested id (as a whole word) replaced by ``{id}``."""
    word = re.compile(rf"(?<!\w){re.escape(value)}(?!\w)")
    return {k: word.sub("{id}", v) if isinstance(v, str) else v for k, v in r.json().items()}


def test_another_teams_object_is_not_found_like_a_missing_one(county_api: CountyApi) -> None:
    checked = []
    wrong: list[str] = []
    for op in operations(county_api.app):
        rule = RULES.get(op.key)
        if rule is None or OUTREACH not in rule.roles:
            continue
        for name in re.findall(r"{(\w+)}", op.path):
            pv = PATH_VALUES.get(name)
            if pv is None or pv.foreign is None:
                continue
            for user in (u for u in ACCOUNTS if role_of(u) == OUTREACH):
                base = rule.call(county_api, user, op)
                theirs_id = pv.foreign(county_api, user)
                theirs = with_path_value(base, name, theirs_id).send(
                    county_api, county_api.headers(user)
                )
                missing = with_path_value(base, name, pv.missing).send(
                    county_api, county_api.headers(user)
                )
                if op.method == "get":  # the other team's object exists: admins see it
                    admin = with_path_value(base, name, theirs_id).send(
                        county_api, county_api.headers("admin")
                    )
                    if admin.status_code != rule.ok:
                        wrong.append(f"{op} {name}={theirs_id}: admin got {admin.status_code}")
                if not theirs.status_code == missing.status_code == 404:
                    wrong.append(
                        f"{op} as {user}: another team's {name} → {theirs.status_code}, "
                        f"a missing one → {missing.status_code} (both must be 404)"
                    )
                    continue
                if theirs.headers["content-type"] != missing.headers["content-type"]:
                    wrong.append(f"{op} as {user}: content types differ")
                if _normalised(theirs, theirs_id) != _normalised(missing, pv.missing):
                    wrong.append(f"{op} as {user}: bodies differ: {theirs.text} / {missing.text}")
                checked.append((str(op), user))
    assert not wrong, "\n".join(wrong)
    assert checked  # GET /api/v1/residents/{resident_id} at least


def _get_calls(api: CountyApi, user: str) -> Iterator[Call]:
    for op in operations(api.app):
        if op.method == "get":
            rule = RULES.get(op.key)
            yield rule.call(api, user, op) if rule else example_call(api, user, op)


@pytest.mark.parametrize("user", ["planner", "leader"])
def test_planner_and_leader_responses_hold_no_personal_data(
    county_api: CountyApi, user: str
) -> None:
    leaks = []
    answered = 0
    for call in _get_calls(county_api, user):
        r = call.send(county_api, county_api.headers(user))
        answered += r.status_code == 200
        found = county_api.sensitive.leaks(
            response_text(r.content, r.headers.get("content-type", ""))
        )
        if found:
            leaks.append(f"GET {call.url} ({r.status_code}): {found[:5]}")
    doc = county_api.client.get("/openapi.json", headers=county_api.headers(user))
    leaks += [f"/openapi.json: {f}" for f in county_api.sensitive.leaks(doc.text)]
    assert not leaks, "\n".join(leaks)
    assert answered >= 5  # me, towns, villages, facilities, a facility: real answers scanned


def test_the_scan_finds_what_an_admin_may_see(county_api: CountyApi) -> None:
    """The scanner itself: an admin's page of residents is full of personal data."""
    r = county_api.client.get(
        "/api/v1/residents",
        params={"purpose": "核对", "page_size": 100},
        headers=county_api.headers("admin"),
    )
    found = county_api.sensitive.leaks(response_text(r.content, r.headers["content-type"]))
    kinds = {f.split()[0] for f in found}
    assert kinds == {"ID", "phone", "name"}
    assert sum(f.startswith("name") for f in found) == len(county_api.sensitive.names) - 1  # lead


def test_the_api_world_keeps_solver_runs_short(county_api: CountyApi) -> None:
    """A fuzzer asks for the longest solver run allowed: the tests' overlay caps it."""
    config = county_api.app.state.config
    assert config.server.solver_seconds_max == 3
    assert config.siting.time_limit_s == 5.0 and config.outreach.solver_seconds == 1.0
