"""A small API world: the 奉化区 gazetteer, hand-placed residents and facilities,
one account per role and an app over the real store file with real tokens.

Residents (town → village: count): 330213001 锦屏街道 → 330213001001: 6,
330213001002: 3; 330213002 岳林街道 → 330213002001: 2; 330213003 江口街道 →
330213003002: 4. The outreach account (team A) has towns 330213001 and
330213002: it sees 6 + 3 + 2 = 11 persons, never the 4 of 江口街道.
"""

from __future__ import annotations

import hashlib
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
                    phone=f"1380000{seq:04d}",
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
    add_accounts(store)
    app = create_app(db_url=db_url)
    with TestClient(app) as client:
        yield World(store, db_url, client, ids, numbers, names)
