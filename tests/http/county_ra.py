"""The example county (:mod:`tests.county`, 51 residents, 12 villages, a road
network) loaded through the CLI into a real store, one account per role, an API
key with ``read:aggregates`` and an app over the store with real tokens.

The outreach account (team A) has town 330999001 清河街道 only. ``cli(*args)``
runs ``coverplan ARGS --json`` in-process on the same store: the known answers
of the routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from api.http.app import create_app
from planner.services.accounts import UserOptions, add_key, add_user
from planner.settings import load_config, reset_settings
from planner.store.core import open_store
from tests import county
from tests.county import make_county

SECRET = "test-secret-" + "y" * 40
PASSWORD = "correct-horse-1"
ROLES = ("admin", "planner", "leader", "outreach")
OUTREACH_TOWN = "330999001"
ID_PATTERN = re.compile(r"\d{17}[\dXx]")
PHONE_PATTERN = re.compile(r"1[3-9]\d{9}")
NAMES = tuple(p.name for p in county.PEOPLE)


@dataclass
class CountyApi:
    db: str
    client: TestClient
    key: str
    capsys: pytest.CaptureFixture[str]
    _tokens: dict[str, str]

    def cli(self, *args: str) -> Any:
        """``coverplan --db DB ARGS --json``: exit 0, one JSON document."""
        reset_settings()
        self.capsys.readouterr()
        code = main(["--db", self.db, *args, "--json"])
        out, err = self.capsys.readouterr()
        reset_settings()
        assert code == 0, err
        return json.loads(out)

    def as_(self, who: str) -> dict[str, str]:
        """Headers of ``who``: a role's bearer token, ``integration`` (the key) or ``none``."""
        if who == "none":
            return {}
        if who == "integration":
            return {"X-API-Key": self.key}
        if who not in self._tokens:
            r = self.client.post("/api/v1/auth/token", data={"username": who, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[who] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self._tokens[who]}"}

    def get(self, who: str, url: str, **params: Any) -> Any:
        return self.client.get(url, headers=self.as_(who), params=params)


def assert_private(text: str) -> None:
    """No ID number, phone or resident's name in ``text``."""
    assert not ID_PATTERN.search(text), ID_PATTERN.search(text)
    assert not PHONE_PATTERN.search(text), PHONE_PATTERN.search(text)
    found = [n for n in NAMES if n in text]
    assert not found, found


def _run(db: str, *args: str) -> None:
    code = main(["--db", db, *args, "--json"])
    assert code == 0, args


@contextmanager
def county_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[CountyApi]:
    """The county loaded (init, villages, facilities, residents, devices, network)."""
    files = make_county(tmp_path / "county")
    db = f"sqlite:///{tmp_path / 'county.db'}"
    _run(
        db, "init", "--district", county.DISTRICT_CODE, "--units", str(files.units),
        "--parents", ",".join(county.PARENTS),
    )  # fmt: skip
    for kind, path in (
        ("villages", files.villages),
        ("facilities", files.facilities),
        ("residents", files.residents),
        ("devices", files.devices),
    ):
        _run(db, "import", kind, str(path))
    _run(db, "network", "build", str(files.roads))
    reset_settings()
    store = open_store(db)
    config = load_config()
    for role in ROLES:
        outreach = role == "outreach"
        add_user(
            store,
            config=config,
            options=UserOptions(
                username=role,
                password=PASSWORD,
                role=role,
                team="A" if outreach else None,
                towns=(OUTREACH_TOWN,) if outreach else (),
            ),
        )
    key = add_key(store, name="统计系统", scopes=("read:aggregates",)).key
    store.dispose()
    capsys.readouterr()
    monkeypatch.setenv("COVERPLAN_SECRET", SECRET)
    reset_settings()
    app = create_app(db_url=db)
    with TestClient(app) as client:
        yield CountyApi(db, client, key, capsys, {})
