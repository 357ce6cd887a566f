"""Write the rows of a register import: upsert by natural key, with content hashes.

One call of :func:`write_register` is ONE transaction: the batch row, every
inserted and updated row, the problem rows and the audit entry are committed
together, or nothing is (a failure or a killed process leaves the store as it
was). Rows are matched by their natural key (the ID number of a resident, the
facility key, the village code, the lead key, ID number + device + issue date
of a device); a row whose content hash equals the stored one is left alone.

What the rows must be checked against inside the transaction (the stored
village geometry, the residents a device belongs to) is read here and handed to
the caller's ``prepare`` function, which returns the final rows and problems.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from planner.store import crypto
from planner.store import schema as t
from planner.store.batches import (
    BatchCounts,
    BatchSource,
    Problem,
    add_problems,
    finish_batch,
    start_batch,
)
from planner.store.core import Store

__all__ = [
    "RegisterRow",
    "StoredFacts",
    "StoredGeometry",
    "VillagePoint",
    "WrittenBatch",
    "content_hash",
    "village_places",
    "write_register",
]

WRITE_CHUNK = 2000  # rows per INSERT/UPDATE statement (and per progress report)

_TABLES: dict[str, Any] = {
    "residents": t.Resident,
    "facilities": t.Facility,
    "villages": t.Village,
    "leads": t.Lead,
    "devices": t.Device,
}
_PK = {"villages": "code"}


@dataclass(frozen=True)
class VillagePoint:
    """A stored village's point and boundary (GeoJSON text), WGS-84."""

    code: str
    lon: float | None
    lat: float | None
    polygon: str | None


@dataclass(frozen=True)
class StoredGeometry:
    """A stored village's geometry and whether it is the demo's synthetic geometry."""

    lon: float | None
    lat: float | None
    polygon: str | None
    synthetic: bool

    @property
    def real(self) -> bool:
        """Whether the village has a real (non-synthetic) point or boundary."""
        has_point = self.lon is not None and self.lat is not None
        return not self.synthetic and (self.polygon is not None or has_point)


@dataclass(frozen=True)
class StoredFacts:
    """What rows are checked against inside the write transaction (by kind).

    ``villages``: code → stored geometry (villages imports only); ``residents``:
    ID number → resident id (devices imports only).
    """

    villages: Mapping[str, StoredGeometry] = field(default_factory=dict)
    residents: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterRow:
    """A row to store: its file line, natural key, record (column → value), review flag."""

    line: int
    key: str
    record: Mapping[str, Any]
    reviewed: bool


@dataclass(frozen=True)
class WrittenBatch:
    """What :func:`write_register` stored: the batch id, its counts, its problems."""

    batch_id: int
    counts: BatchCounts
    problems: tuple[Problem, ...]


Prepare = Callable[[StoredFacts], tuple[Sequence[RegisterRow], Sequence[Problem]]]


def village_places(store: Store) -> list[VillagePoint]:
    """Every stored village's point and boundary, in code order."""
    cols = (t.Village.code, t.Village.lon, t.Village.lat, t.Village.polygon)
    with store.read() as s:
        return [VillagePoint(*r) for r in s.execute(select(*cols).order_by(t.Village.code))]


def _payload(record: Mapping[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)


def content_hash(record: Mapping[str, Any], *, keys: crypto.DataKeys) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a record's JSON (sorted keys): equal hashes,
    equal content; without the data key a guessed record cannot be confirmed."""
    return keys.record_hash(_payload(record))


def legacy_content_hash(record: Mapping[str, Any]) -> str:
    """The unkeyed SHA-256 that stores written before keyed hashes hold."""
    return hashlib.sha256(_payload(record).encode("utf-8")).hexdigest()


def _existing(session: Session, kind: str) -> dict[str, tuple[int | str, str | None]]:
    """Natural key → (primary key, content hash) of what the store already holds."""
    if kind == "devices":
        q_dev = select(
            t.Resident.id_number,
            t.Device.device_type,
            t.Device.issued_on,
            t.Device.id,
            t.Device.content_hash,
        ).join(t.Resident, t.Resident.id == t.Device.resident_id)
        return {f"{a}|{b}|{c.isoformat()}": (d, e) for a, b, c, d, e in session.execute(q_dev)}
    q: Any
    if kind == "residents":  # by the keyed hash: no ID number decrypted
        q = select(t.Resident.id_hash, t.Resident.id, t.Resident.content_hash)
    elif kind == "facilities":
        q = select(t.Facility.key, t.Facility.id, t.Facility.content_hash)
    elif kind == "villages":
        q = select(t.Village.code, t.Village.code, t.Village.content_hash)
    else:
        q = select(t.Lead.key, t.Lead.id, t.Lead.content_hash)
    return {k: (pk, h) for k, pk, h in session.execute(q)}


def _facts(session: Session, kind: str) -> StoredFacts:
    if kind == "villages":
        cols = (t.Village.code, t.Village.lon, t.Village.lat, t.Village.polygon)
        rows = session.execute(select(*cols, t.Village.synthetic)).all()
        return StoredFacts(
            villages={c: StoredGeometry(lon, lat, p, bool(syn)) for c, lon, lat, p, syn in rows}
        )
    if kind == "devices":
        return StoredFacts(
            residents=dict(session.execute(select(t.Resident.id_number, t.Resident.id)).all())
        )
    return StoredFacts()


def _stored_key(kind: str, key: str, rec: dict[str, Any], keys: crypto.DataKeys) -> str:
    """The natural key as the store matches it; never an ID number in clear.

    Residents: the keyed hash of the ID number (``id_hash``, set in ``rec``). Leads
    known by ID number: ``id:`` + that hash (``rec["key"]``). Others: ``key``.
    """
    if kind == "residents":
        rec["id_hash"] = keys.id_hash(key)
        return str(rec["id_hash"])
    if kind == "leads" and rec.get("id_number") and key == rec["id_number"]:
        rec["key"] = keys.lead_key(key)
        return str(rec["key"])
    return key


@dataclass
class _Changes:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unchanged: int = 0
    #: Unchanged rows still holding an unkeyed hash: only their hash is rewritten.
    rehash: list[dict[str, Any]] = field(default_factory=list)


def _changes(session: Session, kind: str, rows: Sequence[RegisterRow], batch_id: int) -> _Changes:
    """Split the rows into inserts, updates and unchanged ones by their content hash."""
    existing = _existing(session, kind)
    keys = crypto.ring_of(session.get_bind().dialect).keys()
    now = datetime.now()
    out = _Changes()
    for row in rows:
        rec = dict(row.record)
        h = content_hash(rec, keys=keys)  # of the record as read: hashes stay comparable
        legacy = legacy_content_hash(rec)
        stored_key = _stored_key(kind, row.key, rec, keys)
        old = existing.get(stored_key)
        if old is not None and old[1] in (h, legacy):
            out.unchanged += 1
            if old[1] != h:
                out.rehash.append({_PK.get(kind, "id"): old[0], "content_hash": h})
            continue
        rec["content_hash"] = h
        rec["batch_id"] = batch_id
        if kind == "residents":
            rec["updated_at"] = now
        if old is None:
            out.inserts.append(rec)
        else:
            rec[_PK.get(kind, "id")] = old[0]
            out.updates.append(rec)
    return out


def _write_chunks(
    session: Session,
    model: Any,
    changes: _Changes,
    progress: Callable[[int, int], None] | None,
) -> None:
    total = len(changes.inserts) + len(changes.updates)
    done = 0
    for start in range(0, len(changes.rehash), WRITE_CHUNK):
        session.execute(update(model), changes.rehash[start : start + WRITE_CHUNK])
    for statement, recs in ((insert(model), changes.inserts), (update(model), changes.updates)):
        for start in range(0, len(recs), WRITE_CHUNK):
            chunk = recs[start : start + WRITE_CHUNK]
            session.execute(statement, chunk)
            done += len(chunk)
            if progress:
                progress(done, total)


def write_register(
    store: Store,
    source: BatchSource,
    *,
    rows: int,
    prepare: Prepare,
    progress: Callable[[int, int], None] | None = None,
) -> WrittenBatch:
    """Store one register file in ONE transaction.

    Parameters
    ----------
    store
        The store.
    source
        The file (``kind``: residents, facilities, villages, devices or leads).
    rows
        The file's data rows (the batch's ``rows``).
    prepare
        Called inside the transaction with the :class:`StoredFacts` of the kind;
        returns the rows to store and every problem of the file (sorted as they
        are to be stored). It may raise (e.g. an :class:`~planner.errors.InputError`)
        to stop before anything is written.
    progress
        Called as ``progress(done, total)`` after each chunk of written rows.

    Returns
    -------
    WrittenBatch
        ``stored`` = the rows given (inserted + updated + unchanged);
        ``rejected`` = distinct lines with a rejected problem; ``needs_review``
        = stored rows flagged for review.
    """
    kind = source.kind
    with store.write() as s:
        good, problems = prepare(_facts(s, kind))
        batch = start_batch(s, source)
        changes = _changes(s, kind, good, batch.id)
        _write_chunks(s, _TABLES[kind], changes, progress)
        add_problems(s, batch.id, problems)
        counts = BatchCounts(
            rows=rows,
            stored=len(good),
            inserted=len(changes.inserts),
            updated=len(changes.updates),
            unchanged=changes.unchanged,
            rejected=len({p.line for p in problems if p.action == "rejected"}),
            needs_review=sum(1 for r in good if r.reviewed),
        )
        finish_batch(
            s,
            batch,
            counts,
            audit_detail={
                "batch": batch.id,
                "file": source.file,
                "sha256": source.sha256,
                "inserted": counts.inserted,
                "updated": counts.updated,
            },
        )
        batch_id = batch.id
    return WrittenBatch(batch_id=batch_id, counts=counts, problems=tuple(problems))
