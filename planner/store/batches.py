"""Import batches: the record of one imported file, its problem rows and its audit entry.

Shared by the register import (:mod:`planner.store.registers`) and the visit
import (:mod:`planner.store.visits`). Every function here works inside the
caller's write transaction (``with store.write() as session``), so a batch, its
problems and the rows it wrote are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = [
    "Action",
    "BatchCounts",
    "BatchRecord",
    "BatchSource",
    "Problem",
    "add_problems",
    "batch_count",
    "batch_problems",
    "batch_records",
    "finish_batch",
    "start_batch",
]

Action = Literal["rejected", "review"]


@dataclass(frozen=True)
class Problem:
    """A rejected row, or a stored row flagged for review (``line``: the file's row)."""

    line: int
    column: str | None
    value: str | None
    action: Action
    reason: str


@dataclass(frozen=True)
class BatchSource:
    """The file an import batch comes from."""

    kind: str  # residents, facilities, villages, devices, leads or visits
    file: str  # the file name (no directory)
    sha256: str
    format: str
    encoding: str | None
    crs: str  # "-" when the file has no coordinates
    started_at: datetime


@dataclass(frozen=True)
class BatchCounts:
    """What a batch did, as stored on its :class:`~planner.store.schema.ImportBatch` row."""

    rows: int
    stored: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    needs_review: int


def start_batch(session: Session, source: BatchSource) -> t.ImportBatch:
    """Add the batch row (counts zero until :func:`finish_batch`) and give it an id."""
    batch = t.ImportBatch(
        kind=source.kind,
        file=source.file,
        sha256=source.sha256,
        format=source.format,
        encoding=source.encoding,
        crs=source.crs,
        rows=0,
        stored=0,
        inserted=0,
        updated=0,
        unchanged=0,
        rejected=0,
        needs_review=0,
        started_at=source.started_at,
        finished_at=source.started_at,
    )
    session.add(batch)
    session.flush()
    return batch


def add_problems(session: Session, batch_id: int, problems: Iterable[Problem]) -> None:
    """Store the problem rows of a batch (in the order given)."""
    for p in problems:
        session.add(
            t.ImportProblem(
                batch_id=batch_id,
                line=p.line,
                column=p.column,
                value=p.value,
                action=p.action,
                reason=p.reason,
            )
        )


def finish_batch(
    session: Session,
    batch: t.ImportBatch,
    counts: BatchCounts,
    *,
    audit_detail: Mapping[str, Any],
) -> None:
    """Set the batch's counts and finish time, and append its audit-log entry."""
    batch.rows = counts.rows
    batch.stored = counts.stored
    batch.inserted = counts.inserted
    batch.updated = counts.updated
    batch.unchanged = counts.unchanged
    batch.rejected = counts.rejected
    batch.needs_review = counts.needs_review
    batch.finished_at = datetime.now()
    audit(session, action="import", entity=batch.kind, detail=dict(audit_detail))


@dataclass(frozen=True)
class BatchRecord:
    """A stored import batch: its file and what it did (``finished_at`` local time)."""

    id: int
    kind: str
    file: str
    format: str
    encoding: str | None
    crs: str
    counts: BatchCounts
    started_at: datetime
    finished_at: datetime


def _record(b: t.ImportBatch) -> BatchRecord:
    counts = BatchCounts(
        rows=b.rows,
        stored=b.stored,
        inserted=b.inserted,
        updated=b.updated,
        unchanged=b.unchanged,
        rejected=b.rejected,
        needs_review=b.needs_review,
    )
    return BatchRecord(
        id=b.id,
        kind=b.kind,
        file=b.file,
        format=b.format,
        encoding=b.encoding,
        crs=b.crs,
        counts=counts,
        started_at=b.started_at,
        finished_at=b.finished_at,
    )


def batch_count(store: Store) -> int:
    """How many import batches are stored."""
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(t.ImportBatch)) or 0)


def batch_records(
    store: Store, *, limit: int, offset: int = 0, batch_id: int | None = None
) -> list[BatchRecord]:
    """Import batches, newest first (``limit`` after skipping ``offset``); with
    ``batch_id`` only that one (an empty list when there is none)."""
    query = select(t.ImportBatch).order_by(t.ImportBatch.id.desc())
    if batch_id is not None:
        query = query.where(t.ImportBatch.id == batch_id)
    with store.read() as s:
        rows = s.scalars(query.offset(offset).limit(limit)).all()
        return [_record(b) for b in rows]


def batch_problems(store: Store, batch_id: int) -> list[Problem]:
    """The problem rows of a batch, in the order stored."""
    with store.read() as s:
        rows = s.scalars(
            select(t.ImportProblem)
            .where(t.ImportProblem.batch_id == batch_id)
            .order_by(t.ImportProblem.id)
        ).all()
        return [
            Problem(
                line=p.line,
                column=p.column,
                value=p.value,
                action="review" if p.action == "review" else "rejected",
                reason=p.reason,
            )
            for p in rows
        ]
