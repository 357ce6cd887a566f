"""Who may call what: THE table of the API's operations (one entry per method and
path of ``app.openapi()``), read by the role matrix, the "not yours" checks, the
planner/leader response scan and the schemathesis runs.

A new route needs one line in :data:`RULES` (``test_every_operation_has_a_rule``
fails and names it until it has one) and, when its path has a parameter not yet
in :data:`PATH_VALUES`, an entry there. Most lines are just the roles and the
key scope: the request is built from :data:`PATH_VALUES`, :data:`QUERY_VALUES`
and the operation's OpenAPI example body. A route whose request cannot be built
that way (a form, an upload, a key that must be unique, an object used up by the
call) gives a ``build`` function.

Users are those of :mod:`tests.http.county_api` (示例县): ``admin``, ``planner``,
``leader``, ``outreach-a`` (team A, town 330999001), ``outreach-b`` (team B,
town 330999002) and API keys.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from fastapi import FastAPI

from planner.services.facilities import FacilityInput, create_facility
from planner.settings import load_config
from tests.county import VILLAGE
from tests.http.county_api import (
    ACCOUNTS,
    INTEGRATION,
    MONTH,
    PASSWORD,
    SCENARIOS,
    TOWN_A,
    TOWN_B,
    CountyApi,
    copy_scenario,
)

ADMIN, PLANNER, LEADER, OUTREACH = "admin", "planner", "leader", "outreach"
EVERYONE = frozenset({ADMIN, PLANNER, LEADER, OUTREACH})
ADMIN_ONLY = frozenset({ADMIN})
PERSONS = frozenset({ADMIN, OUTREACH})
#: Siting and scenarios: every role but outreach (API keys: none).
PLANNING = frozenset({ADMIN, PLANNER, LEADER})
EDITORS = frozenset({ADMIN, PLANNER})
#: ``Rule.scope`` of an operation every valid API key may call (e.g. ``/me``).
ANY_KEY = "*"


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document."""

    method: str  # lower case, as in the OpenAPI
    path: str  # the template, e.g. /api/v1/residents/{resident_id}
    spec: Mapping[str, Any]  # its OpenAPI object
    components: Mapping[str, Any]  # the document's components.schemas

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class Call:
    """One request: the operation's path parameters, query, and body."""

    op: Operation
    path_params: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return self.op.path.format(**self.path_params)

    def send(self, api: CountyApi, headers: Mapping[str, str]) -> Any:
        """The response of ``api``'s test client."""
        return api.client.request(
            self.op.method.upper(),
            self.url,
            params=self.params,
            json=self.json,
            data=self.data,
            files=self.files,
            headers=dict(headers),
        )


#: ``build(api, user, op)``: a valid request of ``op`` for ``user``.
Builder = Callable[[CountyApi, str, Operation], Call]


@dataclass(frozen=True)
class Rule:
    """Who may call an operation, and how it answers them.

    Attributes
    ----------
    roles
        The account roles that may call it (they get ``ok``; the other accounts 403).
    scope
        The API-key scope that grants it (:data:`ANY_KEY`: every key; ``None``:
        keys get 403).
    ok
        The success status.
    public
        Callable without credentials (then everyone gets ``ok``).
    build
        Makes a valid request (default :func:`example_call`).
    """

    roles: frozenset[str] = frozenset()
    scope: str | None = None
    ok: int = 200
    public: bool = False
    build: Builder | None = None

    def call(self, api: CountyApi, user: str, op: Operation) -> Call:
        return (self.build or example_call)(api, user, op)


@dataclass(frozen=True)
class PathValue:
    """How to fill a path parameter.

    Attributes
    ----------
    own
        A value of an existing object ``user`` may reach (for a user who may
        not, any existing one).
    foreign
        For an outreach user: an existing object outside its team's towns (it
        must answer 404, exactly as :attr:`missing`). ``None``: objects of this
        kind are not scoped by team.
    missing
        A value no object has (within the parameter's schema).
    """

    own: Callable[[CountyApi, str], str]
    foreign: Callable[[CountyApi, str], str] | None = None
    missing: str = "2147480000"


def role_of(user: str) -> str:
    """The role of a user of :mod:`tests.http.county_api` (keys: ``integration``)."""
    return ACCOUNTS[user][0] if user in ACCOUNTS else INTEGRATION


def _town_of(user: str) -> str:
    return TOWN_B if user == "outreach-b" else TOWN_A


def _own_resident(api: CountyApi, user: str) -> str:
    return str(api.resident_ids[_town_of(user)][0])


def _foreign_resident(api: CountyApi, user: str) -> str:
    other = TOWN_A if _town_of(user) == TOWN_B else TOWN_B
    return str(api.resident_ids[other][0])


def _team_of(user: str) -> str:
    return "B" if user == "outreach-b" else "A"


def _other_team(user: str) -> str:
    return "A" if _team_of(user) == "B" else "B"


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PURPOSE = "接口测试：核对名单"
_plans: dict[int, dict[str, Any]] = {}


def _month_plan(api: CountyApi) -> dict[str, Any]:
    """The world's :data:`MONTH` plan as an admin gets it (the first one made)."""
    if id(api) not in _plans:
        r = api.client.get(
            f"/api/v1/outreach/months/{MONTH}",
            params={"purpose": PURPOSE},
            headers=api.headers("admin"),
        )
        assert r.status_code == 200, r.text
        _plans[id(api)] = r.json()["plan"]
    return _plans[id(api)]


def _sheet_day(api: CountyApi, user: str) -> str:
    """A day of :data:`MONTH` on which both teams have a route sheet (so that the
    other team's sheet of that day exists), else the user's team's first day."""
    days = {tm["team"]: [d["date"] for d in tm["days"]] for tm in _month_plan(api)["teams"]}
    both = sorted(set(days.get("A", [])) & set(days.get("B", [])))
    return both[0] if both else days[_team_of(user)][0]


PATH_VALUES: dict[str, PathValue] = {
    "facility_id": PathValue(own=lambda api, user: str(api.facility_ids[0])),
    "resident_id": PathValue(own=_own_resident, foreign=_foreign_resident),
    # siting jobs and scenarios belong to the district, not to a team
    "job_id": PathValue(own=lambda api, user: api.job_id, missing="f" * 32),
    "name": PathValue(own=lambda api, user: api.scenarios[0], missing="没有这个方案"),
    # the outreach plan of the world's month (planned once per data version)
    "month": PathValue(own=lambda api, user: MONTH, missing="2099-12"),
    # route sheets: another team's sheet of the same day is 404 as a missing team's
    "team": PathValue(
        own=lambda api, user: _team_of(user),
        foreign=lambda api, user: _other_team(user),
        missing="Z",
    ),
    "day": PathValue(own=_sheet_day, missing=f"{MONTH}-28"),
    "fmt": PathValue(own=lambda api, user: "xlsx", missing="pdf"),
    "kind": PathValue(own=lambda api, user: "residents", missing="nothing"),
}

#: Values of required query parameters (else the parameter's OpenAPI example); a
#: list is sent as the parameter repeated.
QUERY_VALUES: dict[str, str | list[str]] = {
    "purpose": "接口测试：核对名单",
    "names": list(SCENARIOS),
}


def _json_example(op: Operation) -> Any:
    body = op.spec.get("requestBody")
    if body is None:
        return None
    content = body.get("content", {})
    media = content.get("application/json")
    if media is None:
        raise LookupError(f"{op}: the body is {', '.join(content)}; give the rule a build function")
    if "example" in media:
        return media["example"]
    if media.get("examples"):
        return next(iter(media["examples"].values()))["value"]
    schema = media.get("schema", {})
    ref = schema.get("$ref", "")
    if ref:
        schema = op.components[ref.rsplit("/", 1)[-1]]
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    raise LookupError(f"{op}: no example of the JSON body in the OpenAPI; add one")


def example_call(api: CountyApi, user: str, op: Operation) -> Call:
    """The request made of :data:`PATH_VALUES`, :data:`QUERY_VALUES` and the
    operation's examples."""
    path_params: dict[str, str] = {}
    params: dict[str, Any] = {}
    for p in op.spec.get("parameters", []):
        name = p["name"]
        if p["in"] == "path":
            if name not in PATH_VALUES:
                raise LookupError(f"{op}: add the path parameter {name!r} to PATH_VALUES")
            path_params[name] = PATH_VALUES[name].own(api, user)
        elif p["in"] == "query" and p.get("required"):
            if name in QUERY_VALUES:
                params[name] = QUERY_VALUES[name]
            elif "example" in p or "example" in p.get("schema", {}):
                params[name] = p.get("example", p.get("schema", {}).get("example"))
            elif p.get("schema", {}).get("examples"):
                params[name] = p["schema"]["examples"][0]
            else:
                raise LookupError(f"{op}: add the query parameter {name!r} to QUERY_VALUES")
    return Call(op, path_params=path_params, params=params, json=_json_example(op))


# --- requests that cannot come from the examples -------------------------------------

_serial = itertools.count(1)


def _facility_body(api: CountyApi) -> dict[str, Any]:
    """A new facility in 示例县 with a key never used before."""
    return {
        "key": f"T-{next(_serial):05d}",
        "type": "home",
        "name": "测试新建残疾人之家",
        "village_code": VILLAGE["V08"].code,
        "capacity": 12,
    }


def _new_facility(api: CountyApi) -> str:
    body = _facility_body(api)
    made = create_facility(
        api.store, config=load_config(), data=FacilityInput(**body), subject="route_rules"
    )
    return str(made.id)


def _post_facility(api: CountyApi, user: str, op: Operation) -> Call:
    return Call(op, json=_facility_body(api))


def _put_facility(api: CountyApi, user: str, op: Operation) -> Call:
    return Call(op, path_params={"facility_id": _new_facility(api)}, json=_facility_body(api))


def _delete_facility(api: CountyApi, user: str, op: Operation) -> Call:
    return Call(op, path_params={"facility_id": _new_facility(api)})


def _post_siting_job(api: CountyApi, user: str, op: Operation) -> Call:
    """A short solve (``[server] solver_seconds_max`` of the tests), saving nothing."""
    return Call(op, json={"type": "psych_station", "close": ["JK-01"], "time_limit": 1})


def _delete_scenario(api: CountyApi, user: str, op: Operation) -> Call:
    """A copy of the world's scenario, made for the call (which deletes it)."""
    name = f"待删除方案{next(_serial):05d}"
    copy_scenario(api.store, api.scenarios[0], name)
    return Call(op, path_params={"name": name})


def _token(api: CountyApi, user: str, op: Operation) -> Call:
    username = user if user in ACCOUNTS else "planner"
    return Call(op, data={"username": username, "password": PASSWORD})


def _post_visit(api: CountyApi, user: str, op: Operation) -> Call:
    """A visit yesterday to a resident of the caller's towns (team A's for others)."""
    body = {
        "resident_id": int(_own_resident(api, user)),
        "visited_on": (date.today() - timedelta(days=1)).isoformat(),
        "outcome": "done",
        "notes": "接口测试",
    }
    return Call(op, json=body)


def _import_visits(api: CountyApi, user: str, op: Operation) -> Call:
    """The caller's team's route sheet of :data:`MONTH` as handed out (unfilled)."""
    team, day = _team_of(user), _sheet_day(api, user)
    r = api.client.get(
        f"/api/v1/outreach/months/{MONTH}/sheets/{team}/{day}.xlsx",
        params={"purpose": PURPOSE},
        headers=api.headers("admin"),
    )
    assert r.status_code == 200, r.text
    return Call(op, files={"file": (f"{day}_{team}.xlsx", r.content, XLSX)})


def _import_register(api: CountyApi, user: str, op: Operation) -> Call:
    """A one-row residents CSV: the county's first resident again (unchanged)."""
    path = api.root / "county" / "residents.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    out = io.StringIO()
    csv.writer(out).writerows(rows[:2])
    content = out.getvalue().encode("utf-8")
    return Call(
        op,
        path_params={"kind": "residents"},
        files={"file": ("residents.csv", content, "text/csv")},
    )


# --- THE table -------------------------------------------------------------------------

RULES: dict[tuple[str, str], Rule] = {
    ("get", "/api/v1/health"): Rule(public=True),
    ("post", "/api/v1/auth/token"): Rule(public=True, build=_token),
    ("get", "/api/v1/me"): Rule(EVERYONE, ANY_KEY),
    ("get", "/api/v1/towns"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/villages"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/facilities"): Rule(EVERYONE, "read:facilities"),
    ("get", "/api/v1/facilities/{facility_id}"): Rule(EVERYONE, "read:facilities"),
    ("post", "/api/v1/facilities"): Rule(
        ADMIN_ONLY, "write:facilities", ok=201, build=_post_facility
    ),
    ("put", "/api/v1/facilities/{facility_id}"): Rule(
        ADMIN_ONLY, "write:facilities", build=_put_facility
    ),
    ("delete", "/api/v1/facilities/{facility_id}"): Rule(
        ADMIN_ONLY, "write:facilities", ok=204, build=_delete_facility
    ),
    ("get", "/api/v1/residents"): Rule(PERSONS, "read:persons"),
    ("get", "/api/v1/residents/{resident_id}"): Rule(PERSONS, "read:persons"),
    ("get", "/api/v1/coverage"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/coverage/villages"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/coverage/villages.geojson"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/coverage/towns"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/gaps"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/indicators"): Rule(EVERYONE, "read:aggregates"),
    ("post", "/api/v1/siting/jobs"): Rule(PLANNING, ok=202, build=_post_siting_job),
    ("get", "/api/v1/siting/jobs/{job_id}"): Rule(PLANNING),
    ("get", "/api/v1/scenarios"): Rule(PLANNING),
    ("get", "/api/v1/scenarios/compare"): Rule(PLANNING),
    ("get", "/api/v1/scenarios/{name}"): Rule(PLANNING),
    ("delete", "/api/v1/scenarios/{name}"): Rule(EDITORS, build=_delete_scenario),
    ("get", "/api/v1/retrofits"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/retrofits/households"): Rule(PERSONS, "read:persons"),
    ("get", "/api/v1/outreach/calendar"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/outreach/months/{month}"): Rule(EVERYONE, "read:aggregates"),
    ("get", "/api/v1/outreach/months/{month}/sheets/{team}/{day}.{fmt}"): Rule(PERSONS),
    ("post", "/api/v1/imports/{kind}"): Rule(ADMIN_ONLY, build=_import_register),
    ("post", "/api/v1/visits"): Rule(PERSONS, ok=201, build=_post_visit),
    ("post", "/api/v1/visits/import"): Rule(PERSONS, build=_import_visits),
}


def operations(app: FastAPI) -> list[Operation]:
    """Every operation of the app's OpenAPI document, in document order."""
    spec = app.openapi()
    components = spec.get("components", {}).get("schemas", {})
    return [
        Operation(method, path, op, components)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def rule_of(op: Operation) -> Rule:
    """The rule of ``op`` (``KeyError`` when it has none: see the module docstring)."""
    return RULES[op.key]


def expected_status(rule: Rule, user: str, *, key_scopes: frozenset[str] = frozenset()) -> int:
    """What ``user`` (a key holding ``key_scopes`` for ``integration``) must get."""
    if rule.public:
        return rule.ok
    if role_of(user) == INTEGRATION:
        granted = rule.scope == ANY_KEY or (rule.scope is not None and rule.scope in key_scopes)
        return rule.ok if granted else 403
    return rule.ok if role_of(user) in rule.roles else 403


def with_path_value(call: Call, name: str, value: str) -> Call:
    """``call`` with the path parameter ``name`` set to ``value``."""
    return replace(call, path_params={**call.path_params, name: value})
