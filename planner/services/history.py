"""What was done to the store, for the admin: past import batches with their
problem reports, and the access audit (person-level reads and exports).

Both lists are newest first and paged (``page`` from 1, ``page_size`` rows).
Problem values are stored masked (ID numbers, phones); audit rows hold no
personal data (who, when, role, what, why, how many persons).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planner.errors import InputError, NotFoundError
from planner.ingest.registers import KIND_LABELS
from planner.store.audit import AuditRow, audit_count, audit_rows
from planner.store.batches import (
    BatchRecord,
    Problem,
    batch_count,
    batch_problems,
    batch_records,
)
from planner.store.core import Store

__all__ = [
    "IMPORT_KINDS",
    "AccessLogPage",
    "BatchPage",
    "BatchReport",
    "ImportBatchInfo",
    "access_log",
    "import_batch",
    "import_batches",
]

#: The register kinds an import takes (``coverplan import KIND``) → Chinese label.
IMPORT_KINDS: dict[str, str] = dict(KIND_LABELS)
NO_BATCH = "没有编号为 {id} 的导入批次；请在「导入」页的历史列表中选择"
BAD_PAGE = "页码 {page} 无效：应为 1 或更大的整数"
VISITS_LABEL = "走访记录"


def _check_page(page: int, page_size: int) -> int:
    if page < 1 or page_size < 1:
        raise InputError(BAD_PAGE.format(page=page))
    return (page - 1) * page_size


@dataclass(frozen=True)
class ImportBatchInfo:
    """One past import: its file, kind (and Chinese label), counts and times."""

    id: int
    kind: str
    kind_label: str
    file: str
    format: str
    encoding: str | None
    crs: str
    rows: int
    stored: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    needs_review: int
    started_at: datetime
    finished_at: datetime

    @classmethod
    def of(cls, r: BatchRecord) -> ImportBatchInfo:
        c = r.counts
        label = VISITS_LABEL if r.kind == "visits" else KIND_LABELS.get(r.kind, r.kind)
        return cls(
            id=r.id,
            kind=r.kind,
            kind_label=label,
            file=r.file,
            format=r.format,
            encoding=r.encoding,
            crs=r.crs,
            rows=c.rows,
            stored=c.stored,
            inserted=c.inserted,
            updated=c.updated,
            unchanged=c.unchanged,
            rejected=c.rejected,
            needs_review=c.needs_review,
            started_at=r.started_at,
            finished_at=r.finished_at,
        )

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["started_at"] = self.started_at.isoformat(timespec="seconds")
        out["finished_at"] = self.finished_at.isoformat(timespec="seconds")
        return out


@dataclass(frozen=True)
class BatchPage:
    """One page of past imports, newest first; ``total``: batches in all."""

    batches: tuple[ImportBatchInfo, ...]
    page: int
    page_size: int
    total: int


@dataclass(frozen=True)
class BatchReport:
    """A past import and every problem row of it (rejected or flagged for review)."""

    batch: ImportBatchInfo
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class AccessLogPage:
    """One page of the access audit, newest first; ``total``: rows in all."""

    rows: tuple[AuditRow, ...]
    page: int
    page_size: int
    total: int


def import_batches(store: Store, *, page: int = 1, page_size: int) -> BatchPage:
    """Past import batches (registers and visit sheets), newest first.

    Raises
    ------
    InputError
        A page number below 1.
    """
    offset = _check_page(page, page_size)
    found = batch_records(store, limit=page_size, offset=offset)
    return BatchPage(
        batches=tuple(ImportBatchInfo.of(r) for r in found),
        page=page,
        page_size=page_size,
        total=batch_count(store),
    )


def import_batch(store: Store, batch_id: int) -> BatchReport:
    """One past import with its problem rows (the batch report of ``coverplan import``).

    Raises
    ------
    NotFoundError
        No batch with that id.
    """
    found = batch_records(store, limit=1, batch_id=batch_id)
    if not found:
        raise NotFoundError(NO_BATCH.format(id=batch_id))
    return BatchReport(
        batch=ImportBatchInfo.of(found[0]), problems=tuple(batch_problems(store, batch_id))
    )


def access_log(store: Store, *, page: int = 1, page_size: int) -> AccessLogPage:
    """The access audit (person-level reads and exports), newest first.

    Raises
    ------
    InputError
        A page number below 1.
    """
    offset = _check_page(page, page_size)
    return AccessLogPage(
        rows=tuple(audit_rows(store, limit=page_size, offset=offset)),
        page=page,
        page_size=page_size,
        total=audit_count(store),
    )
