"""The store: SQLAlchemy 2 engine, sessions, migrations and gazetteer loading.

SQLite (default) runs in WAL mode with a busy timeout, and every write transaction
begins ``IMMEDIATE`` so that two writers never dead-lock on a lock upgrade; reads
begin deferred. PostgreSQL works by URL (``COVERPLAN_DB_URL=postgresql+psycopg://…``);
there every write transaction first takes a transaction-level advisory lock, so
writers are serialised exactly as on SQLite (a second import of the same file waits
for the first, then finds its rows), waiting at most the same busy timeout.
Migrations are serialised the same way: two first commands at once on an empty
database both end with the schema migrated once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from geo.gazetteer import Gazetteer, load_fenghua
from geo.gazetteer import Town as GazTown
from geo.gazetteer import Village as GazVillage
from planner import tables as t
from planner._errors import StoreBusyError, StoreError
from planner.settings import get_settings

_WRITE_OPTION = "coverplan_write"

# PostgreSQL advisory lock keys: any two distinct bigints, here named by their bytes.
_PG_WRITE_LOCK = int.from_bytes(b"cpwrite", "big")
_PG_MIGRATE_LOCK = int.from_bytes(b"cpmigr", "big")
# SQLSTATEs of a clash with another writer: serialization failure, deadlock, lock
# wait timeout / not available, unique violation.
_PG_CONFLICT_STATES = frozenset({"40001", "40P01", "55P03", "23505"})


def _sqlite_setup(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Store:
    """A handle on one store (database).

    Use :meth:`read` for queries and :meth:`write` for changes; each ``write`` block
    is one transaction, committed on success and rolled back on any error.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 30_000) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"数据库地址「{url}」无效；请检查 COVERPLAN_DB_URL。") from exc
        self.url = url
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, future=True)
        if self.is_sqlite:
            _sqlite_setup(self.engine, busy_timeout_ms=busy_timeout_ms)

    @property
    def display_url(self) -> str:
        """The store's URL with any password hidden, for messages and output."""
        return display_url(self.url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (no commit)."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction, the only writer of the store meanwhile.

        SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level advisory lock
        taken first. Either waits up to the busy timeout for another writer.

        Raises
        ------
        StoreBusyError
            When another writer held the store beyond the busy timeout, or clashed
            with this transaction (nothing of this transaction is kept).
        """
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True})
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    if self.is_postgresql:  # through the session: it owns the transaction
                        self._pg_lock(session.connection(), _PG_WRITE_LOCK)
                    yield session
        except (OperationalError, IntegrityError) as exc:
            if _is_conflict(exc):
                raise StoreBusyError(self.display_url) from exc
            raise

    def _pg_lock(self, conn: Connection, key: int) -> None:
        """Take the advisory lock ``key`` for the current transaction.

        Waits up to the busy timeout (none when it is 0, as on SQLite).
        """
        if self.busy_timeout_ms == 0:
            got = conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key})
            if not got.scalar():
                raise StoreBusyError(self.display_url)
            return
        conn.execute(text(f"SET LOCAL lock_timeout = {self.busy_timeout_ms}"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        conn.execute(text("SET LOCAL lock_timeout = 0"))  # 0: the server's default, none

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``) in one transaction.

        Concurrent callers are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL:
        an advisory lock): the first migrates, the others then find the schema at
        head and do nothing.
        """
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(resources.files("planner") / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True})
                # An open transaction: Alembic runs every step inside it (SQLite too,
                # where it would otherwise commit per step and let another process in).
                with conn.begin():
                    if self.is_postgresql:
                        self._pg_lock(conn, _PG_MIGRATE_LOCK)
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        except (OperationalError, IntegrityError) as exc:
            if _is_conflict(exc):
                raise StoreBusyError(self.display_url) from exc
            raise StoreError(f"无法打开或升级数据库 {self.display_url}：{exc.orig}") from exc

    def get_meta(self, key: str) -> str | None:
        with self.read() as s:
            row = s.get(t.Meta, key)
            return row.value if row else None

    def set_meta(self, session: Session, key: str, value: str) -> None:
        session.merge(t.Meta(key=key, value=value))

    def is_empty(self) -> bool:
        """True when the store holds no residents, facilities or leads."""
        with self.read() as s:
            return all(
                (s.scalar(select(func.count()).select_from(tbl)) or 0) == 0
                for tbl in (t.Resident, t.Facility, t.Lead)
            )

    def has_gazetteer(self) -> bool:
        with self.read() as s:
            return (s.scalar(select(func.count()).select_from(t.Village)) or 0) > 0

    def load_gazetteer(self, gazetteer: Gazetteer, *, source: str) -> None:
        """Write (or refresh) the towns and villages of ``gazetteer``.

        Existing villages keep their points, polygons and aliases.
        """
        with self.write() as s:
            for town in gazetteer.towns:
                row = s.get(t.Town, town.code)
                if row is None:
                    s.add(t.Town(code=town.code, name=town.name, aliases=list(town.aliases)))
                else:
                    row.name = town.name
            s.flush()
            for v in gazetteer.villages:
                vrow = s.get(t.Village, v.code)
                if vrow is None:
                    s.add(
                        t.Village(
                            code=v.code,
                            name=v.name,
                            town_code=v.town_code,
                            aliases=list(v.aliases),
                            lon=v.lon,
                            lat=v.lat,
                        )
                    )
                else:
                    vrow.name = v.name
                    vrow.town_code = v.town_code
            self.set_meta(s, "district_code", gazetteer.district_code)
            self.set_meta(s, "district_name", gazetteer.district_name)
            self.set_meta(s, "district_source", source)
            audit(s, action="init", entity="gazetteer", detail={"source": source})

    def gazetteer(self) -> Gazetteer:
        """The gazetteer held in the store (towns, villages, aliases, points)."""
        code = self.get_meta("district_code")
        name = self.get_meta("district_name")
        if not code or not name:
            from planner._errors import GazetteerError

            raise GazetteerError("数据库中还没有行政区划；请先运行 coverplan init。")
        with self.read() as s:
            towns = [
                GazTown(code=r.code, name=r.name, aliases=tuple(r.aliases or ()))
                for r in s.scalars(select(t.Town).order_by(t.Town.code))
            ]
            villages = [
                GazVillage(
                    code=r.code,
                    name=r.name,
                    town_code=r.town_code,
                    aliases=tuple(r.aliases or ()),
                    lon=r.lon,
                    lat=r.lat,
                )
                for r in s.scalars(select(t.Village).order_by(t.Village.code))
            ]
        return Gazetteer.from_records(
            district_code=code, district_name=name, towns=towns, villages=villages
        )

    def corrections(self) -> dict[str, str]:
        """Manual geocoding corrections: normalised address → village code."""
        with self.read() as s:
            return {r.key: r.village_code for r in s.scalars(select(t.GeocodeCorrection))}

    def dispose(self) -> None:
        self.engine.dispose()


def _is_conflict(exc: DBAPIError) -> bool:
    """True when ``exc`` is a clash with another writer, not a fault of the data."""
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return state in _PG_CONFLICT_STATES
    return "database is locked" in str(exc.orig) or "database is busy" in str(exc.orig)


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (never print a password)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<无效的数据库地址>"


def audit(session: Session, *, action: str, entity: str, detail: dict[str, Any]) -> None:
    """Append one audit-log entry in the caller's transaction."""
    import getpass

    try:
        actor = getpass.getuser()
    except (KeyError, OSError):
        actor = "unknown"
    session.add(
        t.AuditLog(
            at=datetime.now(),
            actor=actor,
            action=action,
            entity=entity,
            detail=json.loads(json.dumps(detail, default=str)),
        )
    )


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store at ``url`` (default: the settings' store URL) and migrate it."""
    settings = get_settings()
    store = Store(url or settings.store_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    if migrate:
        store.migrate()
    return store


def init_store(url: str | None = None, *, gazetteer: Gazetteer | None = None) -> Store:
    """Create (or update) a store holding the 奉化区 gazetteer (or ``gazetteer``)."""
    store = open_store(url)
    store.load_gazetteer(gazetteer or load_fenghua(), source="packaged")
    return store
