"""In-process web pages over 示例县 (:mod:`tests.county`): the real store, the real
app (``create_app``), one account per role, and a signed-in ``TestClient`` per role
(its session cookie and the session's CSRF token).

Cheaper than the browser: form handling, CSRF, downloads and privacy scans of the
HTML. Built once per test module by :func:`county_web_fixture`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.http.app import create_app
from planner.services.accounts import UserOptions, add_user
from planner.settings import load_config, reset_settings
from planner.store.core import Store, open_district_store
from tests.http.county_api import (
    ACCOUNTS,
    PASSWORD,
    TEST_CONFIG,
    Sensitive,
    county_sensitive,
    load_county,
)

SECRET = "web-test-secret-" + "y" * 40
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class CountyWeb:
    """The county behind the app, and a signed-in client per user."""

    root: Path
    url: str
    store: Store
    app: FastAPI
    sensitive: Sensitive
    clients: dict[str, TestClient] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> Path:
        """The county's register files (``residents.csv``, ``facilities.csv``, …)."""
        return self.root / "county"

    def sign_in(self, user: str, password: str = PASSWORD) -> TestClient:
        """A new client signed in as ``user`` (its CSRF token in ``csrf[user]``)."""
        client = TestClient(self.app)
        client.__enter__()
        r = client.post(
            "/login", data={"username": user, "password": password}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        home = client.get(r.headers["location"])
        found = CSRF_FIELD.search(home.text)
        assert found, home.text[:500]
        self.clients[user] = client
        self.csrf[user] = found.group(1)
        return client

    def client(self, user: str) -> TestClient:
        return self.clients.get(user) or self.sign_in(user)


def _env(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("COVERPLAN_DATA_DIR", str(root / "var"))
    mp.setenv("COVERPLAN_OUT_DIR", str(root / "out"))
    mp.setenv("COVERPLAN_SECRET", SECRET)
    mp.setenv("COVERPLAN_CONFIG", str(root / "web-test.toml"))
    for name in ("COVERPLAN_DB_URL", "COVERPLAN_DATA_KEY"):
        mp.delenv(name, raising=False)
    reset_settings()


def build_county_web(tmp: pytest.TempPathFactory) -> Iterator[CountyWeb]:
    """The module's world (a generator for a module-scoped fixture)."""
    root = tmp.mktemp("county_web")
    (root / "web-test.toml").write_text(TEST_CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        _env(mp, root)
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
        world = CountyWeb(root, url, store, create_app(db_url=url), county_sensitive())
        try:
            yield world
        finally:
            for client in world.clients.values():
                client.__exit__(None, None, None)
            store.dispose()
            reset_settings()


def use_county_web(world: CountyWeb, mp: pytest.MonkeyPatch) -> CountyWeb:
    """The module's world with this test's environment pointing at it."""
    _env(mp, world.root)
    return world
