"""The district a store holds: read it without writing, write it in one transaction.

:func:`read_stored_district` looks at a store before ``coverplan init`` writes
anything (no migration, no file created), so that a store of another district
is refused untouched. :func:`write_district` creates (or adds to) the store and
loads the gazetteer in one transaction; a new SQLite file (and the directories
made for it) is removed again when that fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.exc import DBAPIError

from geo.gazetteer import Gazetteer, Place
from planner.errors import StoreError
from planner.store import schema as t
from planner.store.core import (
    META_CODE,
    META_NAME,
    META_OFFICE,
    GazetteerChanges,
    Store,
    audit,
    display_url,
    open_store,
    redact_url,
)
from planner.store.crypto import key_file_for

__all__ = [
    "DistrictWritten",
    "StoredDistrict",
    "clear_people",
    "read_stored_district",
    "write_district",
]

INIT_SOURCE = "init"
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True)
class StoredDistrict:
    """What an existing store already holds (read without writing).

    ``gazetteer`` is None while the store has no villages.
    """

    code: str | None
    name: str | None
    gazetteer: Gazetteer | None
    has_office: bool


@dataclass(frozen=True)
class DistrictWritten:
    """What :func:`write_district` did, and the district as now stored."""

    changes: GazetteerChanges
    gazetteer: Gazetteer
    office: Place | None


def read_stored_district(url: str) -> StoredDistrict | None:
    """The district already in the store at ``url``; None for a new SQLite file.

    Reads only: no migration, no file created, nothing written.

    Raises
    ------
    StoreError
        When the database cannot be reached (the URL shown without its password).
    """
    store = Store(url)
    try:
        if store.sqlite_path is not None and not store.sqlite_path.exists():
            return None
        try:
            if not inspect(store.engine).has_table(t.Meta.__tablename__):
                return StoredDistrict(None, None, None, False)
            meta = store.meta()
            code, name = meta.get(META_CODE), meta.get(META_NAME)
            gaz = None
            if code and name:
                with store.read() as s:
                    has_villages = s.scalar(select(t.Village.code).limit(1)) is not None
                gaz = store.gazetteer() if has_villages else None
            return StoredDistrict(code, name, gaz, META_OFFICE in meta)
        except DBAPIError as exc:
            detail = redact_url(str(exc.orig).strip(), url)
            raise StoreError(
                f"无法打开或升级数据库 {display_url(url)}：{detail}；"
                "请确认数据库服务已启动，地址、端口与账号无误"
            ) from None
    finally:
        store.dispose()


def _new_dirs(path: Path) -> list[Path]:
    """The directories that creating ``path`` makes, innermost first."""
    made: list[Path] = []
    d = path.parent
    while not d.exists():
        made.append(d)
        d = d.parent
    return made


def write_district(
    url: str,
    gazetteer: Gazetteer,
    *,
    new_store: bool,
    office: Place | None = None,
    polygons: Mapping[str, str] | None = None,
    detail: Mapping[str, Any] | None = None,
) -> DistrictWritten:
    """Create (or add to) the store at ``url`` and load ``gazetteer`` in one transaction.

    Parameters
    ----------
    url
        The store.
    gazetteer
        The district (see :meth:`planner.store.core.Store.load_gazetteer`: additive).
    new_store
        True when :func:`read_stored_district` found no store: a new SQLite
        file (and the directories made for it) is removed again on failure.
    office
        The federation office (WGS-84); None keeps the stored one.
    polygons
        Village code → GeoJSON boundary (WGS-84) for villages without geometry.
    detail
        Extra facts for the audit-log entry (files, sha256, CRS).
    """
    probe = Store(url)
    new_file = probe.sqlite_path if new_store else None
    probe.dispose()
    made_dirs = _new_dirs(new_file) if new_file is not None else []
    # the data key file made for the new store goes with it (one found there stays)
    new_key = key_file_for(new_file) if new_file is not None else None
    if new_key is not None and new_key.exists():
        new_key = None
    store: Store | None = None
    try:
        store = open_store(url, create=True)
        changes = store.load_gazetteer(
            gazetteer, source=INIT_SOURCE, office=office, polygons=polygons, detail=detail
        )
        written = DistrictWritten(
            changes=changes, gazetteer=store.gazetteer(), office=store.district_office()
        )
    except BaseException:
        if store is not None:
            store.dispose()
        if new_file is not None:
            for suffix in _SQLITE_SIDE_FILES:
                Path(f"{new_file}{suffix}").unlink(missing_ok=True)
            if new_key is not None:
                new_key.unlink(missing_ok=True)
            for d in made_dirs:
                if d.exists() and not any(d.iterdir()):
                    d.rmdir()
        raise
    store.dispose()
    return written


def clear_people(store: Store, *, entity: str, reason: str) -> None:
    """Delete every visit, device, lead, resident and facility (the district's units stay).

    One transaction with an audit entry (``reset`` of ``entity``, with ``reason``);
    used to rebuild the synthetic demo, never on a store of real data.
    """
    with store.write() as s:
        for table in (t.Visit, t.Device, t.Lead, t.Resident, t.Facility):
            s.execute(delete(table))
        audit(s, action="reset", entity=entity, detail={"reason": reason})
