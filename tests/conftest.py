"""Shared fixtures: a real SQLite store file per test, ID factories, messy registers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from geo.gazetteer import load_fenghua
from planner.settings import Config, load_config, reset_settings
from planner.store import Store, init_store


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COVERPLAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COVERPLAN_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("COVERPLAN_DB_URL", raising=False)
    monkeypatch.delenv("COVERPLAN_CONFIG", raising=False)
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the server of ``COVERPLAN_TEST_PG_URL``.

    Skips when the variable is unset. The database is dropped afterwards.
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = os.environ.get("COVERPLAN_TEST_PG_URL")
    if not base:
        pytest.skip("COVERPLAN_TEST_PG_URL not set")
    name = f"cp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend: a new SQLite file, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = init_store(db_url, gazetteer=load_fenghua())
    yield s
    s.dispose()
