"""The store: SQLAlchemy 2 engine, sessions, migrations and gazetteer loading.

SQLite (default) runs in WAL mode with a busy timeout, and every write transaction
begins ``IMMEDIATE`` so that two writers never dead-lock on a lock upgrade; reads
begin deferred. PostgreSQL works by URL (``COVERPLAN_DB_URL=postgresql+psycopg://…``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, InterfaceError
from sqlalchemy.orm import Session

from geo.gazetteer import Gazetteer, load_fenghua
from geo.gazetteer import Town as GazTown
from geo.gazetteer import Village as GazVillage
from planner import tables as t
from planner._errors import StoreError
from planner.settings import get_settings

_WRITE_OPTION = "coverplan_write"


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
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise StoreError(
                f"数据库地址「{display_url(url)}」无效；请检查 --db 或 COVERPLAN_DB_URL，"
                "如 sqlite:///var/coverplan.db 或 postgresql+psycopg://用户:密码@主机/库名"
            ) from None
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url, future=True)
        except (ArgumentError, ImportError) as exc:  # unknown dialect, driver not installed
            raise StoreError(
                f"无法使用数据库地址「{display_url(url)}」：{redact_url(str(exc), url)}；"
                "请确认数据库类型与驱动（PostgreSQL 写作 postgresql+psycopg://…，"
                "需安装 psycopg：pip install 'coverplan[pg]'）"
            ) from None
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
        """A session in one write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE_OPTION: True})
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic ``upgrade head``)."""
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(resources.files("planner") / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
        except (DatabaseError, InterfaceError) as exc:  # unreachable, not a database, no rights
            detail = redact_url(str(exc.orig).strip(), self.url)
            raise StoreError(f"无法打开或升级数据库 {self.display_url}：{detail}") from None

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


_USERINFO_PASSWORD = re.compile(r"(://[^/:@]*):([^/@]*)@")


def display_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (never print a password).

    An unparsable URL is shown with whatever stands between ``user:`` and ``@``
    masked.
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _USERINFO_PASSWORD.sub(r"\1:***@", url)


def redact_url(text: str, url: str) -> str:
    """``text`` (e.g. a driver's error message) with ``url`` and its password hidden."""
    text = text.replace(url, display_url(url))
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        match = _USERINFO_PASSWORD.search(url)
        password = match.group(2) if match else None
    if password:
        text = text.replace(str(password), "***")
    return text


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
