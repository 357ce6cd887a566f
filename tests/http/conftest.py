"""A small API world: the 奉化区 gazetteer, hand-placed residents and facilities,
one account per role and an app over the real store file with real tokens.

Residents (town → village: count): 330213001 锦屏街道 → 330213001001: 6,
330213001002: 3; 330213002 岳林街道 → 330213002001: 2; 330213003 江口街道 →
330213003002: 4. The outreach account (team A) has towns 330213001 and
330213002: it sees 6 + 3 + 2 = 11 persons, never the 4 of 江口街道.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.http.app import create_app
from planner.services.accounts import UserOptions, add_user
from planner.settings import load_config, reset_settings
from planner.store import schema as t
from planner.store.core import Store
from tests.factories import make_id
from tests.http.county_api import TEST_CONFIG, CountyApi, Sensitive, open_county_api

SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct-horse-1"
COUNTS = {"330213001001": 6, "330213001002": 3, "330213002001": 2, "330213003002": 4}
OUTREACH_TOWNS = ("330213001", "330213002")
ROLES = ("admin", "planner", "leader", "outreach")


@dataclass
class World:
    store: Store
    url: str
    client: TestClient
    ids: dict[str, list[int]]  # village code → resident ids
    id_numbers: list[str]
    names: list[str]

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    def as_(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}


def phone_of(seq: int) -> str:
    return f"1380000{seq:04d}"


PHONES = [phone_of(seq) for seq in range(1, 2 * sum(COUNTS.values()), 2)]


def add_people(store: Store) -> tuple[dict[str, list[int]], list[str], list[str]]:
    ids: dict[str, list[int]] = {}
    numbers: list[str] = []
    names: list[str] = []
    seq = 1
    with store.write() as s:
        for village, n in COUNTS.items():
            for i in range(n):
                number = make_id(date(1960 + i, 3, 1), seq)
                name = f"测试{village[-3:]}号{i}"
                row = t.Resident(
                    id_number=number,
                    name=name,
                    sex="男" if seq % 2 else "女",
                    birth_date=date(1960 + i, 3, 1),
                    category="physical" if i % 2 == 0 else "vision",
                    grade=1 + i % 4,
                    village_code=village,
                    town_code=village[:9],
                    address=f"{village}某路{i}号",
                    phone=phone_of(seq),
                    content_hash=hashlib.sha256(number.encode()).hexdigest(),
                )
                s.add(row)
                s.flush()
                ids.setdefault(village, []).append(row.id)
                numbers.append(number)
                names.append(name)
                seq += 2
    return ids, numbers, names


def add_accounts(store: Store) -> None:
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
                towns=OUTREACH_TOWNS if outreach else (),
            ),
        )


@pytest.fixture
def world(store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("COVERPLAN_SECRET", SECRET)
    reset_settings()
    ids, numbers, names = add_people(store)
    PERSONS_OF_TEST_STORES.add(id_numbers=numbers, phones=PHONES, names=names)
    add_accounts(store)
    app = create_app(db_url=db_url)
    with TestClient(app) as client:
        yield World(store, db_url, client, ids, numbers, names)


@pytest.fixture(scope="module")
def county_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyApi]:
    """示例县 behind the app, built once per module (see :mod:`tests.http.county_api`)."""
    root = tmp_path_factory.mktemp("county_api")
    (root / "api-test.toml").write_text(TEST_CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COVERPLAN_DATA_DIR", str(root / "var"))
        mp.setenv("COVERPLAN_OUT_DIR", str(root / "out"))
        mp.setenv("COVERPLAN_SECRET", SECRET)
        mp.setenv("COVERPLAN_CONFIG", str(root / "api-test.toml"))
        for name in ("COVERPLAN_DB_URL", "COVERPLAN_DATA_KEY"):
            mp.delenv(name, raising=False)
        reset_settings()
        api = open_county_api(root)
        PERSONS_OF_TEST_STORES.add(
            id_numbers=api.sensitive.id_numbers,
            phones=api.sensitive.phones,
            names=api.sensitive.names,
        )
        try:
            yield api
        finally:
            api.client.__exit__(None, None, None)
            api.store.dispose()
            reset_settings()


@pytest.fixture
def county_api(county_module: CountyApi, monkeypatch: pytest.MonkeyPatch) -> CountyApi:
    """The module's county, with this test's environment pointing at its directories
    (the road network cache is under its ``COVERPLAN_DATA_DIR``) and configuration."""
    monkeypatch.setenv("COVERPLAN_CONFIG", str(county_module.root / "api-test.toml"))
    monkeypatch.setenv("COVERPLAN_DATA_DIR", str(county_module.root / "var"))
    monkeypatch.setenv("COVERPLAN_OUT_DIR", str(county_module.root / "out"))
    monkeypatch.setenv("COVERPLAN_SECRET", SECRET)
    reset_settings()
    return county_module


# --- no personal data in the logs, over the whole HTTP test session ---------------------

#: The ID numbers, phones and names of every store the HTTP tests build.
PERSONS_OF_TEST_STORES = Sensitive()
#: Loggers of the test's own client side (they echo what a test sent, query strings
#: included, e.g. a purpose that carries an ID number on purpose to see it refused).
CLIENT_LOGGERS = ("httpx", "httpx2", "httpcore", "hypothesis", "schemathesis")
#: Server loggers that may not propagate to the root logger.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "coverplan")


class _Keep(logging.Handler):
    """Keeps the text of every record (message, arguments, traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in CLIENT_LOGGERS:
            return
        try:
            text = record.getMessage()
        except Exception:  # a bad format string: keep its parts
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.texts.append((record.name, text))


@pytest.fixture(scope="package", autouse=True)
def _no_personal_data_in_logs() -> Iterator[None]:
    """Capture every log record over the HTTP tests (root and server loggers, every
    level); at the end, none may hold an ID number, a phone or a name of the test
    stores (nor any valid ID number or mobile number). Package-scoped: the tests of
    other packages log as they always did."""
    keep = _Keep()
    root = logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    server = [logging.getLogger(name) for name in SERVER_LOGGERS]
    for logger in server:
        logger.addHandler(keep)
    try:
        yield
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
        for logger in server:
            logger.removeHandler(keep)
    leaks = [
        f"{name}: {found[:3]} in {text[:200]!r}"
        for name, text in dict.fromkeys(keep.texts)
        if (found := PERSONS_OF_TEST_STORES.leaks(text))
    ]
    assert keep.texts, "no log record captured: the capture is broken"
    assert not leaks, "personal data in the logs:\n" + "\n".join(leaks[:20])
