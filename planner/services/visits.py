"""Home-visit records: import the filled-in route sheets, or record one visit by hand.

:func:`import_visits` reads route sheets back (:mod:`planner.ingest.visits`) and
writes each file in ONE transaction (:mod:`planner.store.visits`, which also
lists the effects on residents, devices and leads); in a directory, a file that
cannot be read is reported and the others are imported. :func:`record_visit`
does the same for one visit typed in by hand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from planner.domain.visits import OUTCOMES, SERVICES_COLUMN, Visit
from planner.errors import InputError
from planner.ingest.visits import (
    ParsedSheet,
    VisitProblem,
    read_sheet,
    sheet_files,
    typed_point,
    typed_visit,
)
from planner.jsonable import to_jsonable
from planner.settings import Config
from planner.store.batches import BatchSource, Problem
from planner.store.core import Store
from planner.store.visits import SaveStatus, SheetWritten, effect_counts, write_visit_sheet
from planner.store.visits import record_visit as store_visit

__all__ = [
    "FailedFile",
    "RecordVisitOptions",
    "SavedVisit",
    "VisitImport",
    "VisitImportOptions",
    "import_visits",
    "record_visit",
]


@dataclass(frozen=True, kw_only=True)
class RecordVisitOptions:
    """One visit typed in by hand (``coverplan visits record``).

    Attributes
    ----------
    resident_id, lead_id
        Exactly one: the registered person or the lead visited.
    visited_on
        The day of the visit (not after ``today``).
    outcome
        A key or label of :data:`planner.domain.visits.OUTCOMES`.
    services
        Keys or labels of :data:`planner.domain.visits.SERVICE_LABELS` delivered
        (outcome 完成 only); one string may list several, separated by 、or commas.
    team
        The outreach team (``None`` for a visit outside the monthly outreach).
    notes
        Free text.
    point, point_crs
        The household's corrected point, ``"LON,LAT"`` in ``point_crs``
        (``"wgs84"``, a phone's GPS, or ``"gcj02"``, copied from Amap), or None.
    today
        The current day (default: the system date).

    Raises
    ------
    VisitError
        (an :class:`~planner.errors.InputError`) for an unknown outcome or service,
        not exactly one person, or an inconsistent visit.
    """

    resident_id: int | None = None
    lead_id: int | None = None
    visited_on: date
    outcome: str
    services: tuple[str, ...] = ()
    team: str | None = None
    notes: str | None = None
    today: date | None = None
    point: str | None = None
    point_crs: Literal["wgs84", "gcj02"] = "wgs84"

    def __post_init__(self) -> None:
        self.visit()

    def visit(self) -> Visit:
        """The checked visit (see :func:`planner.ingest.visits.typed_visit`)."""
        return typed_visit(
            resident_id=self.resident_id,
            lead_id=self.lead_id,
            visited_on=self.visited_on,
            outcome=self.outcome,
            services=self.services,
            team=self.team,
            notes=self.notes,
            today=self.today or date.today(),
            point=typed_point(self.point, crs=self.point_crs),
        )


@dataclass(frozen=True)
class SavedVisit:
    """What :func:`record_visit` did with one visit.

    ``status``: ``inserted``, ``unchanged`` (the same person, day and team is
    already stored as given) or ``revised`` (stored with other content, now
    updated); ``updated`` counts each effect.
    """

    status: SaveStatus
    resident_id: int | None
    lead_id: int | None
    masked_id: str | None
    visited_on: date
    team: str | None
    outcome: str
    services: tuple[str, ...]
    updated: Mapping[str, int]
    warnings: tuple[str, ...]
    point: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "status": self.status,
                "inserted": self.status == "inserted",
                "resident_id": self.resident_id,
                "lead_id": self.lead_id,
                "masked_id": self.masked_id,
                "visited_on": self.visited_on,
                "team": self.team,
                "outcome": str(self.outcome),
                "outcome_label": OUTCOMES[self.outcome],
                "services": self.services,
                "updated": self.updated,
                "warnings": self.warnings,
                "point": None if self.point is None else list(self.point),
            }
        )


def record_visit(store: Store, *, config: Config, options: RecordVisitOptions) -> SavedVisit:
    """Record one visit with the effects of :func:`import_visits`, in one transaction.

    Raises
    ------
    VisitError
        For an unknown person (nothing written).
    """
    v = options.visit()
    out = store_visit(
        store, v, privacy=config.privacy, point_max_km=config.import_.household_point_max_km
    )
    return SavedVisit(
        status=out.status,
        resident_id=v.resident_id,
        lead_id=v.lead_id,
        masked_id=out.masked_id,
        visited_on=v.visited_on,
        team=v.team,
        outcome=v.outcome,
        services=v.services,
        updated=effect_counts(out.counts),
        warnings=tuple(out.warnings),
        point=v.point,
    )


@dataclass(frozen=True, kw_only=True)
class VisitImportOptions:
    """Which route sheets to import (``coverplan visits import``).

    Attributes
    ----------
    path
        A route sheet (``.xlsx``, as written by
        :func:`planner.reports.route_sheets.write_route_sheets`) or a directory of them.
    today
        The current day (default: the system date); later visit days are rejected.
    """

    path: Path
    today: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


@dataclass(frozen=True)
class FailedFile:
    """A sheet of a directory import that was not imported at all, and why."""

    file: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True)
class VisitImport:
    """What :func:`import_visits` did.

    Counting: ``rows`` = non-blank data rows of the sheets; ``skipped_blank`` =
    rows with an empty 结果 (not visited yet); ``stored`` = visits written by this
    import (``inserted`` + ``revised``); ``unchanged`` = visits already stored as
    they are. ``rows == stored + unchanged + skipped_blank + rejected_rows``.
    ``rejected`` lists every problem (a row may have several); ``warnings`` lists
    stored rows with something to check; ``updated`` counts each effect.
    """

    files: tuple[str, ...]
    rows: int
    stored: int
    inserted: int
    revised: int
    unchanged: int
    skipped_blank: int
    rejected: tuple[VisitProblem, ...]
    warnings: tuple[VisitProblem, ...]
    updated: Mapping[str, int]
    batch_ids: tuple[int, ...]
    failed_files: tuple[FailedFile, ...] = ()

    @property
    def rejected_rows(self) -> int:
        """Number of distinct rejected rows."""
        return len({(p.file, p.row) for p in self.rejected})

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "files": self.files,
                "rows": self.rows,
                "stored": self.stored,
                "inserted": self.inserted,
                "revised": self.revised,
                "unchanged": self.unchanged,
                "skipped_blank": self.skipped_blank,
                "rejected": self.rejected_rows,
                "problems": [p.to_json() for p in self.rejected],
                "warnings": [p.to_json() for p in self.warnings],
                "updated": self.updated,
                "batch_ids": self.batch_ids,
                "failed_files": [f.to_json() for f in self.failed_files],
            }
        )

    def summary(self) -> str:
        """A few lines in Chinese for the terminal (masked IDs only)."""
        u = self.updated
        lines = [
            f"导入入户记录：{'、'.join(self.files)}",
            f"  数据行 {self.rows}：入库 {self.stored}"
            f"（新增 {self.inserted}，更正 {self.revised}），未变 {self.unchanged}，"
            f"未走访（结果为空）{self.skipped_blank}，"
            f"拒绝 {self.rejected_rows}",
            f"  更新：最近走访日期 {u['last_visit']} 人，辅具更换 {u['devices_replaced']} 件，"
            f"复评到期清除 {u['reassessment_cleared']} 人，线索已走访 {u['leads_visited']} 条，"
            f"线索已办证 {u['leads_registered']} 条，标记待核查 {u['needs_review']} 人，"
            f"记录住户位置 {u['points_recorded']} 户",
        ]
        if self.rejected:
            lines.append("  拒绝的行（未入库，请改正后重新导入）：")
            lines.extend(f"    {p.text()}" for p in self.rejected)
        if self.warnings:
            lines.append("  提示：")
            lines.extend(f"    {p.text()}" for p in self.warnings)
        if self.failed_files:
            lines.append("  未能导入的文件（其他文件已导入；改正后重新导入这些文件）：")
            lines.extend(f"    {f.file}：{f.reason}" for f in self.failed_files)
        return "\n".join(lines)


@dataclass
class _Totals:
    """What the sheets of one import did, added up."""

    status: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)
    rejected: list[VisitProblem] = field(default_factory=list)
    warnings: list[VisitProblem] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    batch_ids: list[int] = field(default_factory=list)
    rows: int = 0
    blank: int = 0


def _write_sheet(store: Store, sheet: ParsedSheet, *, config: Config) -> SheetWritten:
    source = BatchSource(
        kind="visits",
        file=sheet.path.name,
        sha256=sheet.sha256,
        format=sheet.format,
        encoding=sheet.encoding,
        crs="-",
        started_at=datetime.now(),
    )
    return write_visit_sheet(
        store,
        source,
        sheet.good,
        problems=[Problem(p.row, p.column, p.value, "rejected", p.reason) for p in sheet.problems],
        data_rows=sheet.rows - sheet.blank,
        privacy=config.privacy,
        point_max_km=config.import_.household_point_max_km,
    )


def _add_sheet(totals: _Totals, sheet: ParsedSheet, done: SheetWritten) -> None:
    name = sheet.path.name
    masked = {p.row: p.masked_id for p in sheet.problems} | done.unknown_masked
    totals.rows += sheet.rows
    totals.blank += sheet.blank
    totals.status.update(done.status)
    totals.effects.update(done.effects)
    totals.rejected.extend(
        VisitProblem(name, p.line, p.column, p.value, p.reason, masked.get(p.line))
        for p in done.problems
    )
    totals.warnings.extend(
        VisitProblem(name, w.line, SERVICES_COLUMN, None, w.reason, w.masked_id)
        for w in done.warnings
    )
    totals.batch_ids.append(done.batch_id)


def import_visits(store: Store, *, config: Config, options: VisitImportOptions) -> VisitImport:
    """Import filled-in route sheets (one file, or every ``.xlsx`` of a directory).

    Rows are matched by their 编号; rows with an empty 结果 are skipped (not
    visited yet); bad rows are rejected and reported with file, Excel row,
    column and reason. Each file is ONE transaction: its good rows, its
    :class:`~planner.store.schema.ImportBatch` (kind ``visits``) with its
    problems, and its audit entry. In a directory, a file that cannot be read or
    is not a route sheet is listed in ``failed_files`` with the reason and the
    other files are still imported.

    Raises
    ------
    InputError
        When the path is missing, is a directory without sheets, or is one file
        that cannot be read or is not a route sheet (nothing stored).
    """
    today = options.today or date.today()
    path = options.path
    files = sheet_files(path)
    totals = _Totals()
    for f in files:
        try:
            sheet = read_sheet(f, today=today, privacy=config.privacy)
        except (InputError, OSError) as exc:
            if not path.is_dir():
                raise
            reason = str(exc) if isinstance(exc, InputError) else f"无法读取：{exc.strerror}"
            totals.failed.append(FailedFile(file=str(f), reason=reason))
            continue
        _add_sheet(totals, sheet, _write_sheet(store, sheet, config=config))
    status = totals.status
    result = VisitImport(
        files=tuple(str(f) for f in files),
        rows=totals.rows,
        stored=status["inserted"] + status["revised"],
        inserted=status["inserted"],
        revised=status["revised"],
        unchanged=status["unchanged"],
        skipped_blank=totals.blank,
        rejected=tuple(totals.rejected),
        warnings=tuple(totals.warnings),
        updated=effect_counts(totals.effects),
        batch_ids=tuple(totals.batch_ids),
        failed_files=tuple(totals.failed),
    )
    if result.stored + result.unchanged + result.skipped_blank + result.rejected_rows != (
        result.rows
    ):  # an invariant, not a user error
        raise AssertionError(f"visit import counts do not add up: {result}")
    return result
