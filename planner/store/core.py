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

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.orm import Session

from geo.gazetteer import Gazetteer, Place, reference_district
from geo.gazetteer import Town as GazTown
from geo.gazetteer import Village as GazVillage
from planner.errors import GazetteerError, StoreBusyError, StoreError
from planner.settings import get_settings
from planner.store import crypto
from planner.store import schema as t

_WRITE_OPTION = "coverplan_write"

# District metadata in the meta table (JSON lists, the office as a JSON object).
META_CODE = "district_code"
META_NAME = "district_name"
META_SOURCE = "district_source"
META_PARENTS = "district_parents"
META_FORMER_CODES = "district_former_codes"
META_ALIASES = "district_aliases"
#: Meta keys: the counter :func:`audit` increments, the registered road network file.
DATA_VERSION_KEY = "data_version"
NETWORK_META_KEY = "network_file"
META_OFFICE = "district_office"


@dataclass(frozen=True)
class GazetteerChanges:
    """What :meth:`Store.load_gazetteer` changed (counts of towns and villages)."""

    towns_added: int
    villages_added: int
    towns_renamed: int
    villages_renamed: int
    geometry_set: int


def no_gazetteer_message(url: str) -> str:
    """The message for a store without a gazetteer (names the store, never a password)."""
    return (
        f"数据库 {display_url(url)} 还没有行政区划；请先运行 "
        "coverplan init --district 区县代码 --units 区划表（或 --villages 村社文件）"
        "（演示区：coverplan demo）"
    )


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
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise StoreError(
                f"数据库地址「{display_url(url)}」无效；请检查 --db 或 COVERPLAN_DB_URL，"
                "如 sqlite:///var/coverplan.db 或 postgresql+psycopg://用户:密码@主机/库名"
            ) from None
        self.url = url
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.sqlite_path: Path | None = (
            Path(parsed.database)
            if self.is_sqlite and parsed.database and parsed.database != ":memory:"
            else None
        )
        self.is_postgresql = parsed.get_backend_name() == "postgresql"
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
        # The data key of the ID-number columns (planner/store/crypto.py), read by the
        # column types through the engine's dialect; resolved on first need.
        self.key_ring = crypto.KeyRing(
            sqlite_path=self.sqlite_path, is_sqlite=self.is_sqlite, display_url=self.display_url
        )
        crypto.attach(self.engine.dialect, self.key_ring)

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
        cfg.set_main_option("script_location", str(resources.files("planner.store") / "migrations"))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        scrub = False
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(**{_WRITE_OPTION: True})
                # An open transaction: Alembic runs every step inside it (SQLite too,
                # where it would otherwise commit per step and let another process in).
                with conn.begin():
                    if self.is_postgresql:
                        self._pg_lock(conn, _PG_MIGRATE_LOCK)
                    cfg.attributes["connection"] = conn
                    crypto.resolve_before_migrating(self.key_ring, conn)
                    command.upgrade(cfg, "head")
                    crypto.record_or_check(self.key_ring, conn)
                scrub = bool(conn.info.pop(crypto.SCRUB_FLAG, False))
            if scrub and self.is_sqlite:
                crypto.scrub_sqlite_file(self.engine)
        except (OperationalError, IntegrityError) as exc:
            if _is_conflict(exc):
                raise StoreBusyError(self.display_url) from exc
            detail = redact_url(str(exc.orig).strip(), self.url)
            raise StoreError(f"无法打开或升级数据库 {self.display_url}：{detail}") from None
        except (DatabaseError, InterfaceError) as exc:  # unreachable, not a database, no rights
            detail = redact_url(str(exc.orig).strip(), self.url)
            raise StoreError(f"无法打开或升级数据库 {self.display_url}：{detail}") from None

    def get_meta(self, key: str) -> str | None:
        with self.read() as s:
            row = s.get(t.Meta, key)
            return row.value if row else None

    def set_meta(self, session: Session, key: str, value: str) -> None:
        session.merge(t.Meta(key=key, value=value))

    def data_version(self) -> str:
        """A token that changes whenever the data behind the analyses changes.

        Every change of the data goes through :func:`audit`, which increments the
        meta counter :data:`DATA_VERSION_KEY` in the same transaction; the token is
        that counter and a short hash of the registered road network's path, size
        and time (a file replaced in place counts; no server path is shown). Caches
        keyed by it are stale as soon as any process writes. One ``meta`` read.
        """
        keys = t.Meta.key.in_((DATA_VERSION_KEY, NETWORK_META_KEY))
        with self.read() as s:
            found = {r.key: r.value for r in s.scalars(select(t.Meta).where(keys))}
        network = found.get(NETWORK_META_KEY, "")
        try:
            st = Path(network).stat() if network else None
            stat = f"{st.st_size}:{st.st_mtime_ns}" if st else ""
        except OSError:
            stat = "missing"
        digest = hashlib.sha256(f"{network}|{stat}".encode()).hexdigest()
        return f"{found.get(DATA_VERSION_KEY, '0')}-{digest[:12]}"

    def is_empty(self) -> bool:
        """True when the store holds no residents, facilities or leads."""
        with self.read() as s:
            return all(
                (s.scalar(select(func.count()).select_from(tbl)) or 0) == 0
                for tbl in (t.Resident, t.Facility, t.Lead)
            )

    def meta(self) -> dict[str, str]:
        """Every key/value fact of the meta table."""
        with self.read() as s:
            return {r.key: r.value for r in s.scalars(select(t.Meta))}

    def has_gazetteer(self) -> bool:
        """Whether the store holds a district (its code and at least one village)."""
        if not self.get_meta(META_CODE):
            return False
        with self.read() as s:
            return (s.scalar(select(func.count()).select_from(t.Village)) or 0) > 0

    def load_gazetteer(
        self,
        gazetteer: Gazetteer,
        *,
        source: str,
        office: Place | None = None,
        polygons: Mapping[str, str] | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> GazetteerChanges:
        """Write (or add to) the towns, villages and district metadata, in one transaction.

        Additive: new towns and villages are added, names of existing ones are
        updated, nothing is removed. Existing villages keep their points,
        polygons and aliases; a village without any stored geometry takes the
        gazetteer's point and its polygon from ``polygons``.

        Parameters
        ----------
        gazetteer
            The district; its code, name, parents, former codes and aliases are
            stored as the district metadata.
        source
            Recorded as ``district_source`` (``demo`` marks the demo store).
        office
            The federation's office (WGS-84); None keeps the stored one.
        polygons
            Village code → GeoJSON geometry text (WGS-84) for new villages.
        detail
            Extra facts for the audit-log entry (files, sha256).
        """
        polygons = polygons or {}
        added_t = added_v = renamed_t = renamed_v = geometry = 0
        with self.write() as s:
            for town in gazetteer.towns:
                row = s.get(t.Town, town.code)
                if row is None:
                    s.add(t.Town(code=town.code, name=town.name, aliases=list(town.aliases)))
                    added_t += 1
                elif row.name != town.name:
                    row.name = town.name
                    renamed_t += 1
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
                            polygon=polygons.get(v.code),
                        )
                    )
                    added_v += 1
                    geometry += v.has_point or v.code in polygons
                    continue
                if vrow.name != v.name:
                    vrow.name = v.name
                    renamed_v += 1
                vrow.town_code = v.town_code
                empty = vrow.lon is None and vrow.lat is None and vrow.polygon is None
                if empty and (v.has_point or v.code in polygons):
                    vrow.lon, vrow.lat = v.lon, v.lat
                    vrow.polygon = polygons.get(v.code)
                    vrow.synthetic = False
                    geometry += 1
            self.set_meta(s, META_CODE, gazetteer.district_code)
            self.set_meta(s, META_NAME, gazetteer.district_name)
            self.set_meta(s, META_SOURCE, source)
            self.set_meta(s, META_PARENTS, _json_list(gazetteer.parents))
            self.set_meta(s, META_FORMER_CODES, _json_list(gazetteer.former_codes))
            self.set_meta(s, META_ALIASES, _json_list(gazetteer.district_aliases))
            if office is not None:
                self.set_meta(
                    s,
                    META_OFFICE,
                    json.dumps(
                        {"name": office.name, "lon": office.lon, "lat": office.lat},
                        ensure_ascii=False,
                    ),
                )
            changes = GazetteerChanges(added_t, added_v, renamed_t, renamed_v, geometry)
            audit(
                s,
                action="init",
                entity="gazetteer",
                detail={
                    "source": source,
                    "district_code": gazetteer.district_code,
                    **changes.__dict__,
                    **(detail or {}),
                },
            )
        return changes

    def gazetteer(self) -> Gazetteer:
        """The gazetteer held in the store: towns, villages, aliases, points, and
        the district's parents, former codes and aliases (all from the store)."""
        meta = self.meta()
        code = meta.get(META_CODE)
        name = meta.get(META_NAME)
        if not code or not name:
            raise GazetteerError(no_gazetteer_message(self.url))
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
        ref = reference_district(code)
        legacy: dict[str, tuple[str, ...]] = (
            {
                META_PARENTS: ref.parents,
                META_FORMER_CODES: ref.former_codes,
                META_ALIASES: ref.aliases,
            }
            if ref
            else {}
        )

        def listed(key: str) -> tuple[str, ...]:
            # Stores set up before the metadata was stored: the packaged values.
            raw = meta.get(key)
            return tuple(json.loads(raw)) if raw is not None else legacy.get(key, ())

        return Gazetteer.from_records(
            district_code=code,
            district_name=name,
            towns=towns,
            villages=villages,
            former_codes=listed(META_FORMER_CODES),
            district_aliases=listed(META_ALIASES),
            parents=listed(META_PARENTS),
        )

    def district_office(self) -> Place | None:
        """The federation office recorded for the district (WGS-84), or None.

        Stores set up before the office was stored get the packaged district's.
        """
        meta = self.meta()
        raw = meta.get(META_OFFICE)
        if raw is None:
            ref = reference_district(meta.get(META_CODE) or "")
            return ref.office if ref else None
        data = json.loads(raw)
        return Place(name=str(data["name"]), lon=float(data["lon"]), lat=float(data["lat"]))

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


_USERINFO_PASSWORD = re.compile(r"(://[^/:@]*):([^/@]*)@")


def database_error_message(exc: BaseException, *, url: str) -> str | None:
    """The Chinese message for a database failure the store did not turn into a
    :class:`StoreError` (e.g. a disk full or a dropped connection mid-command), or
    None when ``exc`` is not such a failure. Never shows the password of ``url``.
    """
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    detail = redact_url(str(exc.orig).strip(), url)
    return f"数据库 {display_url(url)} 操作失败：{detail}；请检查数据库地址、权限与磁盘空间"


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
    _bump_data_version(session)


def _bump_data_version(session: Session) -> None:
    """Increment the meta counter :data:`DATA_VERSION_KEY` (see :meth:`Store.data_version`)."""
    row = session.get(t.Meta, DATA_VERSION_KEY)
    if row is None:
        session.add(t.Meta(key=DATA_VERSION_KEY, value="1"))
    else:
        row.value = str(int(row.value or "0") + 1)


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def open_store(url: str | None = None, *, migrate: bool = True, create: bool = True) -> Store:
    """Open the store at ``url`` (default: the settings' store URL) and migrate it.

    Parameters
    ----------
    url
        SQLAlchemy URL; default ``COVERPLAN_DB_URL`` or ``var/coverplan.db``.
    migrate
        Bring the schema up to date.
    create
        Create a missing SQLite file (and its directory). When False a missing
        file is an error naming the path (a mistyped ``--db`` creates nothing).

    Raises
    ------
    StoreError
        When the URL is invalid, the SQLite file is missing and ``create`` is
        False, or the database cannot be opened.
    """
    settings = get_settings()
    store = Store(url or settings.store_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    path = store.sqlite_path
    if path is not None and not path.exists():
        if not create:
            store.dispose()
            raise StoreError(
                f"数据库文件 {path} 不存在；请检查 --db 或 COVERPLAN_DB_URL 是否写错。"
                "新建数据库请运行 coverplan init --district 区县代码 --units 区划表"
                "（演示区：coverplan demo）"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        store.migrate()
    return store


def open_district_store(url: str | None = None) -> Store:
    """Open an existing store that holds a district: every command but ``init`` and ``demo``.

    Raises
    ------
    StoreError
        When the SQLite file does not exist (nothing is created) or the store has
        no gazetteer yet; the message names the store and ``coverplan init``.
    """
    store = open_store(url, create=False)
    if not store.has_gazetteer():
        store.dispose()
        raise StoreError(no_gazetteer_message(store.url))
    return store


def init_store(
    url: str | None = None,
    *,
    gazetteer: Gazetteer,
    office: Place | None = None,
    source: str = "init",
) -> Store:
    """Create (or add to) a store holding ``gazetteer`` (e.g. :func:`geo.gazetteer.load_reference`).

    The gazetteer is explicit: no district is assumed. ``office`` is the
    federation's office (WGS-84), recorded for outreach routes.
    """
    store = open_store(url)
    store.load_gazetteer(gazetteer, source=source, office=office)
    return store
