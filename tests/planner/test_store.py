"""The store: migrations match the tables, WAL, busy timeout, BEGIN IMMEDIATE, PostgreSQL.

Tests taking ``any_store`` / ``any_db_url`` run on SQLite and on PostgreSQL (see
``tests/conftest.py``; ``make test`` starts a throwaway PostgreSQL server).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from geo.gazetteer import load_fenghua
from planner.errors import StoreError
from planner.store import schema as t
from planner.store.core import Store, init_store, open_store


@pytest.fixture
def any_store(any_db_url: str) -> Iterator[Store]:
    s = init_store(any_db_url, gazetteer=load_fenghua())
    yield s
    s.dispose()


def test_migrations_create_exactly_the_tables(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.Base.metadata)
    assert diff == []


def test_init_loads_the_real_gazetteer(any_store: Store) -> None:
    with any_store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Town)) == 12
        assert s.scalar(select(func.count()).select_from(t.Village)) == 337
    gaz = any_store.gazetteer()
    assert gaz.district_name == "奉化区"
    assert gaz.village("330213001212").name == "长岭村委会"
    assert [v.code for v in gaz.villages] == sorted(v.code for v in gaz.villages)


def test_init_twice_is_harmless(any_db_url: str) -> None:
    init_store(any_db_url, gazetteer=load_fenghua()).dispose()
    s = init_store(any_db_url, gazetteer=load_fenghua())
    with s.read() as r:
        assert r.scalar(select(func.count()).select_from(t.Village)) == 337
        assert r.scalar(select(func.count()).select_from(t.AuditLog)) == 2
    s.dispose()


def test_district_metadata_lives_in_the_store(store: Store) -> None:
    from geo.gazetteer import Place

    gaz = store.gazetteer()
    assert gaz.former_codes == ("330283",) and gaz.district_aliases == ("奉化市",)
    assert gaz.parents == ("浙江省", "宁波市")
    # what the store says wins: nothing is looked up from the code
    with store.write() as s:
        store.set_meta(s, "district_former_codes", "[]")
        store.set_meta(s, "district_parents", '["某省"]')
        store.set_meta(s, "district_office", '{"name": "新址", "lon": 121.5, "lat": 29.7}')
    gaz = store.gazetteer()
    assert gaz.former_codes == () and gaz.parents == ("某省",)
    assert store.district_office() == Place(name="新址", lon=121.5, lat=29.7)


def test_a_store_set_up_before_the_metadata_gets_the_packaged_values(store: Store) -> None:
    with store.write() as s:
        for key in ("district_former_codes", "district_parents", "district_aliases"):
            s.execute(text("delete from meta where key = :k"), {"k": key})
        s.execute(text("delete from meta where key = 'district_office'"))
    gaz = store.gazetteer()
    assert gaz.former_codes == ("330283",) and gaz.parents == ("浙江省", "宁波市")
    office = store.district_office()
    assert office is not None and office.name == "奉化区残联"


def test_a_failed_write_keeps_nothing(any_store: Store) -> None:
    with pytest.raises(RuntimeError), any_store.write() as s:
        s.add(t.Meta(key="half", value="done"))
        s.flush()
        raise RuntimeError("midway")
    assert any_store.get_meta("half") is None
    with any_store.write() as s:
        s.add(t.Meta(key="whole", value="done"))
    assert any_store.get_meta("whole") == "done"


def test_sqlite_pragmas(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_write_transactions_begin_immediate(store: Store) -> None:
    """Inside store.write() the write lock is already held, before any write."""
    path = store.engine.url.database
    assert path
    with store.write() as s:
        s.execute(select(1))  # a read only; a deferred BEGIN would hold no lock yet
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


def test_reads_do_not_take_the_write_lock(store: Store) -> None:
    path = store.engine.url.database
    assert path
    with store.read() as s:
        s.execute(select(1))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="COVERPLAN_DB_URL"):
        open_store("not a url")


def test_default_url_lives_in_the_data_dir(tmp_path: Path) -> None:
    from planner.settings import get_settings

    assert get_settings().store_url == f"sqlite:///{tmp_path / 'var' / 'coverplan.db'}"


def test_postgresql_runs_the_same_code(pg_url: str, tmp_path: Path) -> None:
    from datetime import date

    from planner.settings import load_config
    from tests.actions import import_file
    from tests.planner import registers as reg

    store = init_store(pg_url, gazetteer=load_fenghua())
    assert store.is_postgresql and not store.is_sqlite
    cfg = load_config()
    path = reg.write_gbk_csv(tmp_path / "a.csv")
    res = import_file(store, "residents", path, config=cfg, today=date(2026, 11, 1))
    assert (res.rows, res.stored, res.rejected) == (15, 9, 6)
    again = import_file(store, "residents", path, config=cfg, today=date(2026, 11, 1))
    assert again.unchanged == 9
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.Base.metadata)
    assert diff == []
    store.dispose()


def test_postgresql_writes_hold_the_writers_lock(pg_url: str) -> None:
    """Inside store.write() on PostgreSQL the writers' advisory lock is held, as
    BEGIN IMMEDIATE holds SQLite's write lock; reads do not take it."""
    store = init_store(pg_url, gazetteer=load_fenghua())
    other = Store(pg_url, busy_timeout_ms=0)
    with store.write() as s:
        s.execute(select(1))
        with pytest.raises(StoreError, match="请稍后重试"), other.write():
            pass
    with store.read() as s:
        s.execute(select(1))
        with other.write() as o:
            o.execute(select(1))
    store.dispose()
    other.dispose()
