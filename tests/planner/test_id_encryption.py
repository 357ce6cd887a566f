"""ID numbers at rest: encrypted in the store file, read back plain, matched by keyed hash.

A raw read of the SQLite file (``sqlite3`` and the file's bytes) finds no ID number;
the application reads back exactly the IDs imported; re-imports still dedupe and
update by ID; a store left at migration 0004 with plaintext IDs migrates on open
and keeps every ID; the key file is made with mode 0600; a wrong or missing key is a
clear error; PostgreSQL stores ciphertext too.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import stat
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import select, text

from geo.gazetteer import load_fenghua
from planner.errors import StoreError
from planner.ingest.idnumber import is_valid_id_number
from planner.settings import Config
from planner.store import crypto, registers
from planner.store import schema as t
from planner.store.core import Store, init_store, open_store
from planner.store.frames import _id_number_rank
from tests.actions import import_file
from tests.cli import Coverplan
from tests.factories import make_id
from tests.planner import registers as reg

TODAY = date(2026, 11, 1)
ID_PATTERN = re.compile(rb"\d{17}[\dXx]")
# every 18-character run, overlapping: valid ones are ID numbers (not village codes
# that happen to sit side by side in an index page)
_RUNS = re.compile(rb"(?=(\d{17}[\dXx]))")


def _valid_ids_in(data: bytes) -> list[bytes]:
    return [m.group(1) for m in _RUNS.finditer(data) if is_valid_id_number(m.group(1).decode())]


KNOWN_IDS = {reg.ID_A, reg.ID_WIDE, reg.ID_X, reg.ID_15_AS_18}


def _file_bytes(db: Path) -> bytes:
    """The database file and its WAL / shared-memory files, as stored on disk."""
    return b"".join(
        p.read_bytes()
        for p in sorted(db.parent.glob(db.name + "*"))
        if p != db.with_name(db.name + ".key")
    )


def _app_ids(store: Store) -> set[str]:
    with store.read() as s:
        return set(s.scalars(select(t.Resident.id_number)))


def _alembic(url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("planner.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def test_the_store_file_holds_no_id_number_and_the_app_reads_them_back(
    tmp_path: Path, config: Config
) -> None:
    db = tmp_path / "store.db"
    store = init_store(f"sqlite:///{db}", gazetteer=load_fenghua())
    res = import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    assert res.inserted == 9
    ids = _app_ids(store)
    assert len(ids) == 9 and ids >= KNOWN_IDS
    store.dispose()

    raw = sqlite3.connect(db)
    rows = raw.execute("SELECT id_number, id_hash FROM residents").fetchall()
    raw.close()
    assert len(rows) == 9
    assert all(c.startswith(crypto.CIPHER_PREFIX) and len(c) <= 64 for c, _ in rows)
    assert len({h for _, h in rows}) == 9 and all(len(h) == 43 for _, h in rows)
    data = _file_bytes(db)
    assert _valid_ids_in(data) == []
    for number in ids:
        assert number.encode() not in data
        assert number[:17].encode() not in data

    again = open_store(f"sqlite:///{db}")
    assert _app_ids(again) == ids
    again.dispose()


def test_reimports_dedupe_and_update_by_the_keyed_hash(
    store: Store, config: Config, tmp_path: Path
) -> None:
    first = import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    same = import_file(
        store, "residents", reg.write_xlsx(tmp_path / "b.xlsx"), config=config, today=TODAY
    )
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, first.stored)

    # every row of ID_A (the file repeats it, an exact duplicate): a new grade
    changed = [[*r[:6], "二级", *r[7:]] if r[3] == reg.ID_A else list(r) for r in reg.DATA]
    res = import_file(
        store,
        "residents",
        reg.write_gbk_csv(tmp_path / "c.csv", rows=changed),
        config=config,
        today=TODAY,
    )
    assert (res.inserted, res.updated, res.unchanged) == (0, 1, first.stored - 1)
    keys = store.key_ring.keys()
    with store.read() as s:
        row = s.execute(select(t.Resident).where(t.Resident.id_number == reg.ID_A)).scalar_one()
        assert row.grade == 2
        assert row.id_hash == keys.id_hash(reg.ID_A)
        assert (
            s.scalar(select(t.Resident.id).where(t.Resident.id_hash == keys.id_hash(reg.ID_A)))
            == row.id
        )
        assert len(s.scalars(select(t.Resident)).all()) == first.stored


def test_content_hashes_are_keyed_and_legacy_ones_are_rehashed_unchanged(
    store: Store, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored content hash is an HMAC under the data key (no plain SHA-256 of a
    record that holds an ID number); a row still holding the unkeyed hash that an
    older version wrote counts as unchanged on re-import and gets the keyed hash."""
    src = reg.write_gbk_csv(tmp_path / "a.csv")

    def _hashes() -> dict[str, str]:
        with store.read() as s:
            return dict(s.execute(select(t.Resident.id_hash, t.Resident.content_hash)).all())

    # what the previous version stored: the unkeyed SHA-256 of the record
    monkeypatch.setattr(
        registers, "content_hash", lambda rec, keys: registers.legacy_content_hash(rec)
    )
    first = import_file(store, "residents", src, config=config, today=TODAY)
    legacy = _hashes()
    monkeypatch.undo()

    again = import_file(store, "residents", src, config=config, today=TODAY)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, first.stored)
    keyed = _hashes()
    assert keyed.keys() == legacy.keys() and len(keyed) == len(set(keyed.values()))
    assert not set(keyed.values()) & set(legacy.values())  # every row rehashed
    # and the keyed hash is what a fresh import stores
    third = import_file(store, "residents", src, config=config, today=TODAY)
    assert (third.updated, third.unchanged) == (0, first.stored) and _hashes() == keyed
    keys = store.key_ring.keys()
    assert keys.record_hash("{}") != hashlib.sha256(b"{}").hexdigest()


def test_a_resident_added_by_the_orm_gets_its_lookup_hash(store: Store) -> None:
    number = "33021319500101011X"
    with store.write() as s:
        s.add(
            t.Resident(
                id_number=number,
                name="甲",
                sex="男",
                birth_date=date(1950, 1, 1),
                category="physical",
                grade=1,
                content_hash="h",
            )
        )
    keys = store.key_ring.keys()
    with store.read() as s:
        row = s.execute(select(t.Resident.id_number, t.Resident.id_hash)).one()
    assert tuple(row) == (number, keys.id_hash(number))
    assert keys.id_hash(" 33021319500101011x") == row.id_hash  # normalised before hashing
    assert keys.decrypt(keys.encrypt(number)) == number
    assert keys.encrypt(number) == keys.encrypt(number) != keys.encrypt(number[:-1] + "0")


def test_the_key_file_is_private_and_reused(tmp_path: Path) -> None:
    db = tmp_path / "var" / "coverplan.db"
    store = init_store(f"sqlite:///{db}", gazetteer=load_fenghua())
    key_file = db.with_name("coverplan.db.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    check = store.get_meta(crypto.META_KEY_CHECK)
    store.dispose()
    before = key_file.read_bytes()
    again = open_store(f"sqlite:///{db}")
    assert key_file.read_bytes() == before and again.get_meta(crypto.META_KEY_CHECK) == check
    again.dispose()


def test_a_lost_or_wrong_key_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, coverplan: Coverplan
) -> None:
    db = tmp_path / "store.db"
    init_store(f"sqlite:///{db}", gazetteer=load_fenghua()).dispose()
    key_file = db.with_name("store.db.key")

    monkeypatch.setenv(crypto.ENV_VAR, base64.b64encode(b"k" * 32).decode())
    with pytest.raises(StoreError, match="COVERPLAN_DATA_KEY") as wrong:
        open_store(f"sqlite:///{db}")
    assert "不符" in str(wrong.value)
    monkeypatch.setenv(crypto.ENV_VAR, "not-base64!")
    result = coverplan("status", db=f"sqlite:///{db}")
    assert (
        result.returncode == 2
        and "COVERPLAN_DATA_KEY" in result.stderr
        and "base64" in result.stderr
    )
    monkeypatch.delenv(crypto.ENV_VAR)

    key_file.rename(tmp_path / "elsewhere.key")
    with pytest.raises(StoreError, match="密钥文件") as lost:
        open_store(f"sqlite:///{db}")
    assert str(key_file) in str(lost.value)
    assert not key_file.exists()  # no new key made for a store that has encrypted IDs
    (tmp_path / "elsewhere.key").rename(key_file)
    open_store(f"sqlite:///{db}").dispose()


def _old_store(db: Path, people: list[tuple[int, str]]) -> None:
    """A store at migration 0004 with plaintext IDs, written the way that code wrote them."""
    command.upgrade(_alembic(f"sqlite:///{db}"), "0004")
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")
    con.execute("INSERT INTO towns (code, name, aliases) VALUES ('330213100', '溪口镇', '[]')")
    for rid, number in people:
        con.execute(
            "INSERT INTO residents (id, id_number, name, sex, birth_date, category, grade,"
            " town_code, needs_review, content_hash) VALUES (?, ?, '某某', '男', '1950-01-01',"
            " 'physical', 1, '330213100', 0, 'h')",
            (rid, number),
        )
    con.execute(
        "INSERT INTO devices (resident_id, device_type, issued_on, service_years, content_hash)"
        " VALUES (?, 'wheelchair', '2020-01-01', 5, 'h')",
        (people[0][0],),
    )
    con.execute(
        "INSERT INTO visits (resident_id, visited_on, outcome, services) VALUES (?, '2026-01-05',"
        " 'done', '[]')",
        (people[1][0],),
    )
    con.execute(
        "INSERT INTO leads (key, name, id_number, status, needs_review, content_hash)"
        " VALUES (?, '李四', ?, 'open', 0, 'h')",
        (people[2][1], people[2][1]),
    )
    con.execute(
        "INSERT INTO leads (key, name, status, needs_review, content_hash)"
        " VALUES ('h:abc', '王五', 'open', 0, 'h')"
    )
    con.commit()
    con.close()


def test_an_old_store_migrates_and_keeps_every_id(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    # ids chosen so that id order differs from ID-number order (the tie key); more
    # rows than one migration batch, and enough to spread over many pages
    people = [
        (1, make_id(date(1960, 5, 1), 31)),
        (2, make_id(date(1940, 2, 3), 7)),
        (3, make_id(date(1955, 9, 9), 88)),
        (4, "33021319500101011X"),
    ] + [(i, make_id(date(1930 + i % 60, 1 + i % 12, 1 + i % 28), i % 997)) for i in range(5, 1206)]
    lead_id = people[2][1]
    _old_store(db, people)
    assert set(_valid_ids_in(_file_bytes(db))) >= {n.encode() for _, n in people[:3]}

    store = open_store(f"sqlite:///{db}")
    with store.read() as s:
        assert dict(s.execute(select(t.Resident.id, t.Resident.id_number)).all()) == dict(people)
        leads = s.execute(select(t.Lead.key, t.Lead.id_number).order_by(t.Lead.id)).all()
        device_owner = s.scalar(select(t.Device.resident_id))
    keys = store.key_ring.keys()
    assert leads == [(keys.lead_key(lead_id), lead_id), ("h:abc", None)]
    assert device_owner == 1
    # the capacity split's tie key: ID-number order, as from the plaintext
    rank = _id_number_rank(store, pd.Series([p[0] for p in people]))
    by_number = {p: i for i, p in enumerate(sorted(people, key=lambda p: p[1]))}
    assert rank.tolist() == [by_number[p] for p in people]
    assert rank[:4].tolist() == [by_number[p] for p in people[:4]]
    assert np.array_equal(np.sort(rank), np.arange(len(people)))
    store.dispose()

    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    hashes = dict(raw.execute("SELECT id, id_hash FROM residents").fetchall())
    raw.close()
    assert hashes == {rid: keys.id_hash(n) for rid, n in people}
    data = _file_bytes(db)
    assert _valid_ids_in(data) == []
    for _, number in people:
        assert number[:17].encode() not in data


def test_downgrade_decrypts(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    people = [
        (1, make_id(date(1960, 5, 1), 31)),
        (2, make_id(date(1940, 2, 3), 7)),
        (3, make_id(date(1955, 9, 9), 88)),
    ]
    _old_store(db, people)
    store = open_store(f"sqlite:///{db}")
    cfg = _alembic(f"sqlite:///{db}")
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    store.dispose()
    raw = sqlite3.connect(db)
    assert dict(raw.execute("SELECT id, id_number FROM residents").fetchall()) == dict(people)
    assert raw.execute("SELECT key FROM leads ORDER BY id").fetchall() == [
        (people[2][1],),
        ("h:abc",),
    ]
    raw.close()


def test_postgresql_stores_ciphertext(
    pg_url: str, tmp_path: Path, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = init_store(pg_url, gazetteer=load_fenghua())
    import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT id_number, id_hash FROM residents")).all()
    assert len(stored) == 9
    assert all(
        c.startswith(crypto.CIPHER_PREFIX) and not ID_PATTERN.search(c.encode()) for c, _ in stored
    )
    assert len(_app_ids(store)) == 9 and _app_ids(store) >= KNOWN_IDS
    again = import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    assert again.unchanged == 9 and again.inserted == 0
    store.dispose()

    monkeypatch.delenv(crypto.ENV_VAR)
    with pytest.raises(StoreError, match="COVERPLAN_DATA_KEY"):
        open_store(pg_url)
