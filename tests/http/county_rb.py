"""The API over the small made-up district (:mod:`tests.county`, 示例县), loaded once
per test module the way ``tests/e2e/test_second_district.py`` loads it (the CLI
in-process: init, imports, network build), with one account per role: outreach
``team_a`` (team A, towns 330999001 and 330999002) and ``team_b`` (team B, town
330999001 only). Uploads are capped at :data:`UPLOAD_MAX_MB`. Routing takes
``[outreach] solver_seconds`` = 1 a day (a user TOML that the CLI reads through
``COVERPLAN_CONFIG`` and the app through ``config_path``).

January 2027 (:data:`MONTH`) visits 竹园村 (V08) only; team A's stops are
董建国, 萧秀英 and 程大勇, team B's 袁志明 and the lead 邓小芳 (see the e2e test).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from api.http.app import create_app
from planner.services.accounts import UserOptions, add_user
from planner.settings import load_config, reset_settings
from planner.store.core import open_district_store
from tests import county
from tests.county import CountyFiles, make_county, office_lonlat

SECRET = "county-test-secret-" + "y" * 40
PASSWORD = "correct-horse-1"
MONTH = "2027-01"
TOWNS = ("330999001", "330999002")
ACCOUNTS = {  # username → (role, team, towns)
    "admin": ("admin", None, ()),
    "planner": ("planner", None, ()),
    "leader": ("leader", None, ()),
    "team_a": ("outreach", "A", TOWNS),
    "team_b": ("outreach", "B", TOWNS[:1]),
}
UPLOAD_MAX_MB = 0.25  # [server] upload_max_mb of these tests: 256 KiB
ID_NUMBER = re.compile(r"\d{17}[\dXx]")
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


@dataclass
class CountyApi:
    files: CountyFiles
    db: str
    config_path: Path
    client: TestClient
    names: list[str]

    def env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The environment the CLI of this store needs (the user TOML)."""
        monkeypatch.setenv("COVERPLAN_CONFIG", str(self.config_path))
        reset_settings()

    def cli(self, *args: str) -> Any:
        """``coverplan --db DB ARGS --json`` in-process: its one JSON document."""
        return cli_json(self.db, *args)

    def token(self, username: str) -> str:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    def as_(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


def cli_json(db: str, *args: str) -> Any:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--db", db, *args, "--json"])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


def _names(files: CountyFiles) -> list[str]:
    import csv

    names = []
    for path in (files.residents, files.leads):
        with path.open(encoding="utf-8") as f:
            names += [r["姓名"] for r in csv.DictReader(f)]
    return names


@contextlib.contextmanager
def county_api(directory: Path) -> Iterator[CountyApi]:
    """Load the county into a new store under ``directory`` and serve it."""
    files = make_county(directory / "county")
    db = f"sqlite:///{directory / 'county.db'}"
    config_path = directory / "coverplan.toml"
    config_path.write_text(
        f"[outreach]\nsolver_seconds = 1.0\n[server]\nupload_max_mb = {UPLOAD_MAX_MB}\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COVERPLAN_CONFIG", str(config_path))
        mp.setenv("COVERPLAN_SECRET", SECRET)
        mp.setenv("COVERPLAN_DATA_DIR", str(directory / "var"))
        mp.setenv("COVERPLAN_OUT_DIR", str(directory / "out"))
        mp.delenv("COVERPLAN_DB_URL", raising=False)
        reset_settings()
        ll = office_lonlat()
        cli_json(
            db,
            "init",
            "--district", county.DISTRICT_CODE,
            "--units", str(files.units),
            "--parents", ",".join(county.PARENTS),
            "--office", f"{ll[0]:.7f},{ll[1]:.7f}",
            "--office-name", county.OFFICE_NAME,
        )  # fmt: skip
        for kind in ("villages", "facilities", "residents", "devices", "leads"):
            cli_json(db, "import", kind, str(getattr(files, kind)))
        cli_json(db, "network", "build", str(files.roads))
        store = open_district_store(db)
        try:
            config = load_config(config_path)
            for username, (role, team, towns) in ACCOUNTS.items():
                add_user(
                    store,
                    config=config,
                    options=UserOptions(
                        username=username,
                        password=PASSWORD,
                        role=role,
                        team=team,
                        towns=towns,
                    ),
                )
        finally:
            store.dispose()
        app = create_app(db_url=db, config_path=config_path)
        reset_settings()
    with TestClient(app) as client:
        yield CountyApi(files, db, config_path, client, _names(files))


def scan_private(text: str, names: list[str]) -> list[str]:
    """ID numbers, phone numbers and residents' names found in ``text``."""
    found = ID_NUMBER.findall(text) + PHONE.findall(text)
    return found + [n for n in names if n and n in text]
