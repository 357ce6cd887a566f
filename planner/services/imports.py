"""User files into the store: registers, address geocoding, manual corrections.

:func:`import_file` (``coverplan import KIND FILE``) reads and checks the file
(:mod:`planner.ingest.registers`), then stores it in ONE transaction
(:mod:`planner.store.registers`): every good row (upsert by its natural key),
the batch record and every problem row; a failure anywhere (or a killed
process) leaves the store as it was. Rows that cannot be used are rejected
with line, column, value and reason; rows that are usable but doubtful (e.g.
the village cannot be resolved) are stored flagged ``needs_review``.

Counts: ``rows`` = non-blank data rows; ``stored`` = rows accepted into the store
(``inserted`` + ``updated`` + ``unchanged``), including those flagged for review;
``stored + rejected == rows`` always.

:func:`geocode_file` resolves a file of addresses to villages;
:func:`add_correction` and :func:`list_corrections` keep the manual decisions
the geocoder uses first. Writing the problem report and the geocoding result is
the caller's (:mod:`planner.reports.import_problems`, :mod:`planner.reports.tables`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from geo import crs as geocrs
from geo.geocode import STATUSES
from planner.ingest.columns import Kind
from planner.ingest.geocoding import (
    correction_key,
    geocode_addresses,
    make_geocoder,
    read_addresses,
)
from planner.ingest.register_context import RegisterLookups
from planner.ingest.registers import (
    KIND_LABELS,
    Problem,
    check_kind,
    parse_rows,
    prepare_rows,
    read_register,
)
from planner.jsonable import to_jsonable
from planner.services._common import Progress, no_progress
from planner.settings import Config
from planner.store.batches import BatchSource
from planner.store.core import Store
from planner.store.corrections import corrections, save_correction
from planner.store.registers import village_places, write_register

__all__ = [
    "CorrectionOptions",
    "Corrections",
    "GeocodeFileResult",
    "GeocodeOptions",
    "ImportOptions",
    "ImportResult",
    "Problem",
    "SavedCorrection",
    "add_correction",
    "geocode_file",
    "import_file",
    "list_corrections",
]


# --- registers ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ImportOptions:
    """One register file to import (``coverplan import KIND FILE``).

    Attributes
    ----------
    kind
        ``residents``, ``facilities``, ``villages``, ``devices`` or ``leads``.
    path
        CSV (UTF-8/GBK/GB18030, detected), XLSX/XLS, or for villages and
        facilities GeoJSON/GeoPackage/Shapefile.
    crs
        Coordinate system of lon/lat values and geometries: ``wgs84``, ``gcj02``
        or ``bd09``; stored points are always WGS-84.
    replace
        Villages: allow overwriting more than ``[import] geometry_replace_share``
        of the stored real village points and boundaries.
    today
        The current day (default: the system date).

    Raises
    ------
    InputError
        For an unknown kind.
    CRSError
        For an unknown coordinate system.
    """

    kind: Kind
    path: Path
    crs: str = "wgs84"
    replace: bool = False
    today: date | None = None

    def __post_init__(self) -> None:
        check_kind(self.kind)
        object.__setattr__(self, "path", Path(self.path))
        geocrs.parse_crs(self.crs)


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``to_json`` gives the CLI's ``--json`` object.

    ``report`` is the problem report written by the caller (None until then).
    """

    kind: str
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
    report: Path | None
    batch_id: int
    problems: tuple[Problem, ...]
    ignored_columns: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "file": self.file,
                "encoding": self.encoding,
                "rows": self.rows,
                "stored": self.stored,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected,
                "needs_review": self.needs_review,
                "report": self.report,
                "kind": self.kind,
                "format": self.format,
                "crs": self.crs,
                "inserted": self.inserted,
                "batch_id": self.batch_id,
                "ignored_columns": self.ignored_columns,
            }
        )

    def summary(self) -> str:
        """One paragraph in Chinese for the terminal."""
        label = KIND_LABELS.get(self.kind, self.kind)
        enc = f"，编码 {self.encoding}" if self.encoding else ""
        lines = [
            f"导入{label}：{self.file}（{self.format}{enc}，坐标系 {self.crs}）",
            f"  数据行 {self.rows}：入库 {self.stored}（新增 {self.inserted}，更新 {self.updated}，"
            f"未变 {self.unchanged}），其中待核查 {self.needs_review}；拒绝 {self.rejected}",
        ]
        if self.ignored_columns:
            lines.append(f"  未使用的列：{'、'.join(self.ignored_columns)}")
        if self.report:
            lines.append(f"  问题清单：{self.report}")
        return "\n".join(lines)


def _write_progress(progress: Progress) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress(f"写入 {done}/{total}", done / total if total else None)

    return report


def import_file(
    store: Store, *, config: Config, options: ImportOptions, progress: Progress = no_progress
) -> ImportResult:
    """Import one register file into ``store`` in a single transaction.

    Parameters
    ----------
    store
        An open, migrated store with a gazetteer (``coverplan init``).
    config
        Categories, facility types, ``[geocode]``, ``[import]`` and ``[privacy]``.
    options
        The file, its kind and coordinate system.
    progress
        Told ``写入 done/total`` after each chunk of rows written.

    Raises
    ------
    InputError
        When the file cannot be read, lacks required columns, has the columns of
        another kind (a residents register given as villages), or (villages)
        would overwrite too much real geometry without ``replace``; nothing is
        stored then.
    """
    started = datetime.now()
    today = options.today or date.today()
    path = options.path
    file = read_register(path, options.kind, config=config)
    lookups = RegisterLookups(
        gazetteer=store.gazetteer(),
        corrections=store.corrections(),
        places=village_places(store),
    )
    parsed = parse_rows(file, lookups=lookups, config=config, crs=options.crs, today=today)
    source = BatchSource(
        kind=options.kind,
        file=path.name,
        sha256=file.sha256,
        format=file.table.format,
        encoding=file.table.encoding,
        crs=parsed.crs,
        started_at=started,
    )
    written = write_register(
        store,
        source,
        rows=parsed.rows,
        prepare=partial(prepare_rows, parsed, config=config, replace=options.replace),
        progress=_write_progress(progress),
    )
    c = written.counts
    if c.stored + c.rejected != c.rows:  # an invariant, not a user error
        raise AssertionError(f"import counts do not add up: {c}")
    return ImportResult(
        kind=options.kind,
        file=str(path),
        format=file.table.format,
        encoding=file.table.encoding,
        crs=parsed.crs,
        rows=c.rows,
        stored=c.stored,
        inserted=c.inserted,
        updated=c.updated,
        unchanged=c.unchanged,
        rejected=c.rejected,
        needs_review=c.needs_review,
        report=None,
        batch_id=written.batch_id,
        problems=written.problems,
        ignored_columns=file.cmap.ignored,
    )


# --- geocoding ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GeocodeOptions:
    """A file of addresses to resolve to villages (``coverplan geocode``).

    Attributes
    ----------
    path
        CSV or XLSX file.
    column
        The address column's header.
    town_column, village_column
        Optional town and village columns used along with the address.
    """

    path: Path
    column: str
    town_column: str | None = None
    village_column: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


@dataclass(frozen=True)
class GeocodeFileResult:
    """The villages of a file of addresses.

    ``table`` has the columns of :data:`planner.ingest.geocoding.OUTPUT_COLUMNS`,
    one row per address; ``by_status`` counts rows per status (matched,
    ambiguous, unmatched, outside); ``out`` is the file the caller wrote the
    table to (None until then).
    """

    file: str
    rows: int
    by_status: dict[str, int]
    table: pd.DataFrame = field(repr=False, compare=False)
    out: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(
            {"file": self.file, "out": self.out, "rows": self.rows, **self.by_status}
        )


def geocode_file(
    store: Store, *, config: Config, options: GeocodeOptions, progress: Progress = no_progress
) -> GeocodeFileResult:
    """Resolve every row's address (or town + village columns) to a village code.

    Uses the store's gazetteer and saved manual corrections; ``progress`` is told
    ``地址匹配：done/total 行`` as the rows are resolved.

    Raises
    ------
    InputError
        When the file cannot be read or lacks one of the named columns.
    """
    rows = read_addresses(
        options.path,
        column=options.column,
        town_column=options.town_column,
        village_column=options.village_column,
        search_rows=config.import_.header_search_rows,
    )
    geocoder = make_geocoder(store.gazetteer(), store.corrections(), config=config)
    table = geocode_addresses(
        geocoder,
        rows,
        by_parts=bool(options.town_column or options.village_column),
        progress=progress,
    )
    counts = Counter(table["status"])
    return GeocodeFileResult(
        file=str(options.path),
        rows=len(table),
        by_status={s: int(counts.get(s, 0)) for s in STATUSES},
        table=table,
    )


# --- corrections ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CorrectionOptions:
    """A manual decision: this address text means this village (``corrections add``)."""

    address: str
    village_code: str
    note: str | None = None


@dataclass(frozen=True)
class SavedCorrection:
    """A saved correction: the normalised address (``key``) and its village."""

    key: str
    village_code: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "village_code": self.village_code}


@dataclass(frozen=True)
class Corrections:
    """Every saved correction: normalised address → village code."""

    by_key: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(self.by_key)


def add_correction(store: Store, *, config: Config, options: CorrectionOptions) -> SavedCorrection:
    """Save a manual decision: this address text means this village (used first).

    Raises
    ------
    GazetteerError
        When the village code is not in the district.
    InputError
        When the address is empty once normalised.
    """
    del config  # the same for every configuration
    store.gazetteer().village(options.village_code)  # raises GazetteerError with a clear message
    key = correction_key(options.address)
    save_correction(store, key=key, village_code=options.village_code, note=options.note)
    return SavedCorrection(key=key, village_code=options.village_code)


def list_corrections(store: Store, *, config: Config) -> Corrections:
    """Every saved manual correction."""
    del config
    return Corrections(by_key=corrections(store))
