"""The store: migrations match the tables, WAL, busy timeout, BEGIN IMMEDIATE, PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from geo.gazetteer import load_fenghua
from planner import tables as t
from planner._errors import StoreError
from planner.store import Store, init_store, open_store


def test_migrations_create_exactly_the_tables(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.Base.metadata)
    assert diff == []


def test_init_loads_the_real_gazetteer(store: Store) -> None:
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Town)) == 12
        assert s.scalar(select(func.count()).select_from(t.Village)) == 337
    gaz = store.gazetteer()
    assert gaz.district_name == "奉化区"
    assert gaz.village("330213001212").name == "长岭村委会"


def test_init_twice_is_harmless(db_url: str) -> None:
    init_store(db_url, gazetteer=load_fenghua()).dispose()
    s = init_store(db_url, gazetteer=load_fenghua())
    with s.read() as r:
        assert r.scalar(select(func.count()).select_from(t.Village)) == 337
    s.dispose()


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


@pytest.mark.pg
@pytest.mark.skipif(
    not os.environ.get("COVERPLAN_TEST_PG_URL"), reason="COVERPLAN_TEST_PG_URL not set"
)
def test_postgresql_runs_the_same_code(tmp_path: Path) -> None:
    from datetime import date

    from planner.importer import import_file
    from planner.settings import load_config
    from tests.planner import registers as reg

    url = os.environ["COVERPLAN_TEST_PG_URL"]
    fresh = Store(url)
    t.Base.metadata.drop_all(fresh.engine)
    with fresh.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    fresh.dispose()
    store = init_store(url, gazetteer=load_fenghua())
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
