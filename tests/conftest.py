"""Shared fixtures: a real SQLite store file per test, the demo district built once per
session (a copy per test), ``coverplan`` run in-process, PostgreSQL databases."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from geo.gazetteer import load_fenghua
from planner.services.accounts import use_password_hasher
from planner.settings import Config, load_config, reset_settings
from planner.store.core import Store, init_store
from tests.cli import Coverplan
from tests.demo_district import DemoDistrict, build_once

# Tests hash passwords with a cheap Argon2 (the product's default takes ~0.4 s a
# hash); the product never calls use_password_hasher.
use_password_hasher(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COVERPLAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COVERPLAN_OUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("COVERPLAN_DB_URL", raising=False)
    monkeypatch.delenv("COVERPLAN_CONFIG", raising=False)
    monkeypatch.delenv("COVERPLAN_DATA_KEY", raising=False)
    monkeypatch.delenv("COVERPLAN_PROGRESS", raising=False)
    reset_settings()
    yield
    reset_settings()


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Keep every engine a test connects with alive until the test ends, then dispose it.

    A CLI command called in-process leaves its store open (a real process just
    exits); its engine, garbage-collected with pooled PostgreSQL connections still
    open, would warn (ResourceWarning, an error under ``filterwarnings = error``).
    """
    from sqlalchemy import Connection, Engine, event

    engines: dict[int, Engine] = {}

    def keep(conn: Connection) -> None:
        engines.setdefault(id(conn.engine), conn.engine)

    event.listen(Engine, "engine_connect", keep)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", keep)
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


PG_URL_VAR = "COVERPLAN_TEST_PG_URL"
PG_REQUIRED_VAR = "COVERPLAN_TEST_PG_REQUIRED"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests using a PostgreSQL fixture carry the ``pg`` marker (``-m pg`` / ``-m "not pg"``)."""
    for item in items:
        if {"pg_url", "pg_database"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pg)


# The tests that save the screenshots the user guides (docs/guide-*.md) show, and the
# guides' check (tests/web/test_zz_guides.py, collected after them).
SCREENSHOT_TESTS = ("tests/web/", "tests/planner/outreach/test_print.py")
SCREENSHOTS_ORDERED = "coverplan_screenshots_ordered"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` (``--dist load``): load-balance, but run :data:`SCREENSHOT_TESTS` as one
    unit on one worker, in collection order (so the guides' check comes after every
    screenshot, and one Chromium per worker: two Playwright sessions in one process
    clash). pytest-xdist's own ``--dist loadgroup`` does not group under pytest 9."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ScreenshotsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "screenshots" if nodeid.startswith(SCREENSHOT_TESTS) else nodeid

    return ScreenshotsTogether(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Tell the workers whether the screenshot tests run in order on one of them."""
    node.workerinput[SCREENSHOTS_ORDERED] = node.config.getvalue("dist") == "load"


# A fixed data key (32 bytes, base64) for PostgreSQL stores, which have no key file.
PG_TEST_DATA_KEY = "Y292ZXJwbGFuLXRlc3QtZGF0YS1rZXktMzItYnl0ZXM="


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Factory of fresh, empty PostgreSQL databases on the server of ``COVERPLAN_TEST_PG_URL``.

    ``pg_database(icu_locale="zh")`` gives a database whose text collation is that
    ICU locale (e.g. Chinese pinyin order) instead of the cluster's default.
    Every database made is dropped afterwards.

    Skips when the variable is unset, unless ``COVERPLAN_TEST_PG_REQUIRED=1`` (set by
    ``tools/with-postgres.sh``, i.e. ``make test``): then it fails. A URL that is set
    but unusable always fails: the server was meant to be there. Sets
    ``COVERPLAN_DATA_KEY`` (a PostgreSQL store refuses to open without it).
    """
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    base = os.environ.get(PG_URL_VAR)
    if not base:
        if os.environ.get(PG_REQUIRED_VAR) == "1":
            pytest.fail(f"{PG_REQUIRED_VAR}=1 but {PG_URL_VAR} is not set", pytrace=False)
        pytest.skip(f"{PG_URL_VAR} not set (make test sets it when PostgreSQL is installed)")
    monkeypatch.setenv("COVERPLAN_DATA_KEY", PG_TEST_DATA_KEY)
    made: list[str] = []
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
    except (ImportError, SQLAlchemyError) as exc:
        pytest.fail(f"{PG_URL_VAR}={base} is unusable: {exc}", pytrace=False)

    def new_database(*, icu_locale: str | None = None) -> str:
        name = f"cp_test_{uuid.uuid4().hex[:12]}"
        options = (
            f" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu_locale}'"
            if icu_locale
            else ""
        )
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"{options}'))
        except SQLAlchemyError as exc:
            pytest.fail(f"{PG_URL_VAR}: cannot create a test database: {exc}", pytrace=False)
        made.append(name)
        return make_url(base).set(database=name).render_as_string(hide_password=False)

    try:
        yield new_database
    finally:
        if made:
            with admin.connect() as conn:
                for name in made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: Callable[..., str]) -> str:
    """A fresh, empty PostgreSQL database (see :func:`pg_database`), dropped afterwards."""
    return pg_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend: a new SQLite file, and a fresh PostgreSQL database.

    Test ids end in ``[sqlite]`` / ``[postgresql]``; the PostgreSQL case is marked
    ``pg`` and behaves like :func:`pg_url` (skips without a server, fails under
    ``make test`` when the server it started is unusable).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'any.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = init_store(db_url, gazetteer=load_fenghua())
    yield s
    s.dispose()


@pytest.fixture
def coverplan(capsys: pytest.CaptureFixture[str]) -> Coverplan:
    """Run ``coverplan`` in-process: ``coverplan("status", "--json", db=url).json()``."""
    return Coverplan(capsys)


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory: pytest.TempPathFactory) -> DemoDistrict:
    """The demo district (``coverplan demo`` + road network caches), built once per session.

    Shared by every test (and every pytest-xdist worker): never write to it; use
    :func:`demo_copy`.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return build_once(shared)


@pytest.fixture
def demo_copy(
    demo_district: DemoDistrict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> DemoDistrict:
    """This test's copy of the demo district, and the environment of a user working on it.

    ``COVERPLAN_DATA_DIR``/``COVERPLAN_OUT_DIR`` point at the copy (its store is
    the default ``var/coverplan.db``, its network cache warm) and the working
    directory is the copy's root, as after ``coverplan demo`` there.
    """
    demo = demo_district.copy_to(tmp_path / "demo")
    monkeypatch.setenv("COVERPLAN_DATA_DIR", str(demo.data_dir))
    monkeypatch.setenv("COVERPLAN_OUT_DIR", str(demo.out_dir))
    monkeypatch.chdir(demo.root)
    reset_settings()
    return demo
