"""Shared fixtures: a real SQLite store file per test, ID factories, messy registers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
def store(db_url: str) -> Iterator[Store]:
    s = init_store(db_url)
    yield s
    s.dispose()
