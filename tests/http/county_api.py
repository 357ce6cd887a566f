"""The API-wide test world: 示例县 (:mod:`tests.county`) loaded into a real store,
one account per role, two outreach teams and an integration key, over
``create_app`` with real tokens.

Built once per test module (``county_api`` fixture in ``tests/http/conftest.py``):
``coverplan init`` + the five imports + ``network build``, in-process, as a county
would. Users (:data:`USERS`): ``admin``, ``planner``, ``leader``, ``outreach-a``
(team A, town 330999001 清河街道: V01–V06, 21 residents), ``outreach-b`` (team
B, town 330999002 云岭镇: V07–V12, 30 residents), and ``integration`` (an API key
holding every scope of :data:`planner.domain.access.SCOPES`).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.cli import main
from api.http.app import create_app
from planner.domain.access import SCOPES
from planner.ingest.idnumber import check_char
from planner.services.accounts import UserOptions, add_key, add_user
from planner.services.scenarios import save_scenario, show_scenario
from planner.settings import load_config
from planner.store import schema as t
from planner.store.core import Store, open_district_store
from tests import county
from tests.county import LEADS, PEOPLE, make_county, office_lonlat

PASSWORD = "correct-horse-1"
TOWN_A, TOWN_B = "330999001", "330999002"

#: Account users: username → (role, team, towns). ``integration`` is the API key.
ACCOUNTS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "admin": ("admin", None, ()),
    "planner": ("planner", None, ()),
    "leader": ("leader", None, ()),
    "outreach-a": ("outreach", "A", (TOWN_A,)),
    "outreach-b": ("outreach", "B", (TOWN_B,)),
}
INTEGRATION = "integration"
USERS = (*ACCOUNTS, INTEGRATION)
#: The outreach month of the API tests: last month (its route-sheet days are in
#: the past, so that visits of them can be recorded). Planning it routes each day
#: for ``[outreach] solver_seconds`` (short in :data:`TEST_CONFIG`).
MONTH = f"{(date.today().replace(day=1) - timedelta(days=1)):%Y-%m}"
#: Saved scenarios of the world: the first by ``coverplan site --scenario``, the
#: second a copy of it (so that ``/scenarios/compare`` has two to compare).
SCENARIOS = ("关闭清河康复站", "关闭清河康复站（副本）")
#: The siting options of the world's scenario and job (close a facility: no new
#: site to search, a short solve).
SITING = ("--type", "psych_station", "--close", "JK-01")

#: The configuration overlay of the API tests (``COVERPLAN_CONFIG``): a fuzzer asks
#: for the longest solver run a request may (``[server] solver_seconds_max``), so
#: keep that, and the solvers' own limits, short.
TEST_CONFIG = """\
[server]
solver_seconds_max = 3

[siting]
time_limit_s = 5.0

[outreach]
solver_seconds = 1.0

[auth]
login_per_minute = 100000
"""

# An ID number: 17 digits and a check character (validated, so that e.g. two
# concatenated codes are not taken for one). A mainland mobile number.
ID_CANDIDATE = re.compile(r"(?<![\dXx])(?=(\d{17}[\dXx]))")
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def id_numbers_in(text: str) -> list[str]:
    """The GB 11643 numbers (valid check character) anywhere in ``text``."""
    found = []
    for match in ID_CANDIDATE.finditer(text):
        candidate = match.group(1)
        if check_char(candidate[:17]) == candidate[17].upper():
            found.append(candidate)
    return found


@dataclass
class Sensitive:
    """What must never reach a planner, a leader or a log: the ID numbers, phones
    and names of a store's persons."""

    id_numbers: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def add(
        self, *, id_numbers: Iterable[str], phones: Iterable[str], names: Iterable[str]
    ) -> None:
        self.id_numbers.update(id_numbers)
        self.phones.update(phones)
        self.names.update(names)

    def leaks(self, text: str) -> list[str]:
        """Every ID number, phone or name of these persons (or of anyone: any valid
        ID number, any mobile number) found in ``text``."""
        found = [f"ID {n}" for n in id_numbers_in(text)]
        found += [f"phone {p}" for p in PHONE.findall(text)]
        found += [f"ID {n}" for n in self.id_numbers if n in text and f"ID {n}" not in found]
        found += [f"phone {p}" for p in self.phones if p in text and f"phone {p}" not in found]
        found += [f"name {n}" for n in sorted(self.names) if n in text]
        return found


def county_sensitive() -> Sensitive:
    """The ID numbers, phones and names of 示例县's residents and leads."""
    s = Sensitive()
    s.add(
        id_numbers=(county.id_number(i, p) for i, p in enumerate(PEOPLE)),
        phones=[county.phone(i) for i in range(len(PEOPLE))]
        + [county.phone(900 + n) for n in range(1, len(LEADS) + 1)],
        names=[p.name for p in PEOPLE] + [lead[1] for lead in LEADS],
    )
    return s


@dataclass
class CountyApi:
    """The loaded county, its app and a client, and each user's credentials."""

    root: Path
    url: str
    store: Store
    app: FastAPI
    client: TestClient
    credentials: dict[str, dict[str, str]]  # user → headers
    sensitive: Sensitive
    resident_ids: dict[str, list[int]]  # town code → resident ids (store ids)
    facility_ids: list[int]
    scenarios: tuple[str, ...]  # saved siting scenarios (:data:`SCENARIOS`)
    job_id: str  # a siting job submitted by the planner

    def headers(self, user: str | None) -> dict[str, str]:
        """The headers that authenticate ``user`` (none for ``None``)."""
        return dict(self.credentials[user]) if user is not None else {}

    def add_key(self, name: str, scopes: tuple[str, ...]) -> dict[str, str]:
        """A new API key with ``scopes``: its headers."""
        return {"X-API-Key": add_key(self.store, name=name, scopes=scopes).key}


def copy_scenario(store: Store, name: str, new_name: str) -> None:
    """Save scenario ``name`` again as ``new_name``."""
    sc = show_scenario(store, name)
    save_scenario(
        store,
        name=new_name,
        kind=sc.kind,
        inputs=sc.inputs,
        result=sc.result,
        metrics=sc.metrics,
        by_town=sc.by_town,
        facility_type=sc.facility_type,
    )


def _cli(db: str, *args: str) -> Any:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--db", db, *args, "--json"])
    assert code == 0, args
    return json.loads(out.getvalue())


def load_county(root: Path) -> str:
    """示例县 in a new SQLite store under ``root`` (init, imports, road network): its URL."""
    files = make_county(root / "county")
    db = f"sqlite:///{root / 'county.db'}"
    lon, lat = office_lonlat()
    _cli(
        db,
        "init",
        "--district", county.DISTRICT_CODE,
        "--units", str(files.units),
        "--parents", ",".join(county.PARENTS),
        "--office", f"{lon:.7f},{lat:.7f}",
        "--office-name", county.OFFICE_NAME,
    )  # fmt: skip
    for kind, path in (
        ("villages", files.villages),
        ("facilities", files.facilities),
        ("residents", files.residents),
        ("devices", files.devices),
        ("leads", files.leads),
    ):
        _cli(db, "import", kind, str(path))
    _cli(db, "network", "build", str(files.roads))
    _cli(db, "site", *SITING, "--scenario", SCENARIOS[0])
    return db


def open_county_api(root: Path) -> CountyApi:
    """Load the county, add the accounts and the key, start the app (the caller
    closes ``client`` and disposes ``store``). ``COVERPLAN_SECRET`` must be set."""
    url = load_county(root)
    store = open_district_store(url)
    config = load_config()
    for username, (role, team, towns) in ACCOUNTS.items():
        add_user(
            store,
            config=config,
            options=UserOptions(
                username=username, password=PASSWORD, role=role, team=team, towns=towns
            ),
        )
    key = add_key(store, name="集成测试系统", scopes=tuple(SCOPES)).key
    for name in SCENARIOS[1:]:
        copy_scenario(store, SCENARIOS[0], name)
    app = create_app(db_url=url)
    client = TestClient(app)
    client.__enter__()
    credentials: dict[str, dict[str, str]] = {INTEGRATION: {"X-API-Key": key}}
    for username in ACCOUNTS:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        credentials[username] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    job = client.post(
        "/api/v1/siting/jobs",
        json={"type": SITING[1], "close": [SITING[3]], "time_limit": 1},
        headers=credentials["planner"],
    )
    assert job.status_code == 202, job.text
    with store.read() as s:
        residents: dict[str, list[int]] = {}
        for rid, town in s.query(t.Resident.id, t.Resident.town_code).order_by(t.Resident.id):
            residents.setdefault(town, []).append(rid)
        facilities = [fid for (fid,) in s.query(t.Facility.id).order_by(t.Facility.id)]
    return CountyApi(
        root=root,
        url=url,
        store=store,
        app=app,
        client=client,
        credentials=credentials,
        sensitive=county_sensitive(),
        resident_ids=residents,
        facility_ids=facilities,
        scenarios=SCENARIOS,
        job_id=job.json()["id"],
    )
