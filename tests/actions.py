"""Keyword shortcuts to the application-layer actions, for tests.

The tests were written against keyword calls (``import_file(store, "residents",
path, config=..., today=...)``); these build the options object, call the
service in :mod:`planner.services`, and (for imports) write the problem report
the way the CLI does, so the tests keep asserting exactly what they did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from planner.reports.import_problems import report_path, write_report
from planner.services import district as district_service
from planner.services import imports, visits
from planner.services.district import InitResult
from planner.services.imports import ImportResult
from planner.services.visits import SavedVisit, VisitImport
from planner.settings import Config, get_config
from planner.store.core import Store


def import_file(
    store: Store,
    kind: Any,
    path: Path | str,
    *,
    config: Config | None = None,
    crs: str = "wgs84",
    report: Path | str | None = None,
    report_dir: Path | str | None = None,
    today: date | None = None,
    replace: bool = False,
) -> ImportResult:
    """``coverplan import KIND FILE [--report R]`` (``report_dir`` as the CLI's default)."""
    options = imports.ImportOptions(
        kind=kind, path=Path(path), crs=crs, replace=replace, today=today
    )
    result = imports.import_file(store, config=config or get_config(), options=options)
    where = report_path(
        options.path, report=report, report_dir=report_dir, has_problems=bool(result.problems)
    )
    if where is None:
        return result
    return dataclasses.replace(
        result, report=write_report(result.problems, where, file=options.path.name)
    )


def import_visits(
    store: Store, path: Path | str, *, today: date | None = None, config: Config | None = None
) -> VisitImport:
    """``coverplan visits import PATH``."""
    options = visits.VisitImportOptions(path=Path(path), today=today)
    return visits.import_visits(store, config=config or get_config(), options=options)


def save_visit(
    store: Store,
    *,
    resident_id: int | None = None,
    lead_id: int | None = None,
    visited_on: date,
    outcome: str,
    services: Iterable[str] = (),
    team: str | None = None,
    notes: str | None = None,
    today: date | None = None,
    config: Config | None = None,
) -> SavedVisit:
    """``coverplan visits record``: what it did with the visit."""
    options = visits.RecordVisitOptions(
        resident_id=resident_id,
        lead_id=lead_id,
        visited_on=visited_on,
        outcome=outcome,
        services=tuple(services),
        team=team,
        notes=notes,
        today=today,
    )
    return visits.record_visit(store, config=config or get_config(), options=options)


def record_visit(store: Store, **kwargs: Any) -> bool:
    """:func:`save_visit`; True when the visit was new."""
    return save_visit(store, **kwargs).status == "inserted"


def init_district(
    url: str | None = None,
    *,
    district: str,
    units: Path | str | None = None,
    villages: Path | str | None = None,
    crs: str = "wgs84",
    name: str | None = None,
    parents: Sequence[str] | None = None,
    former_codes: Sequence[str] = (),
    aliases: Sequence[str] = (),
    office: tuple[float, float] | None = None,
    office_name: str | None = None,
    geometry: bool = True,
    config: Config | None = None,
) -> InitResult:
    """``coverplan init --district CODE [--units FILE] [--villages FILE] …``."""
    options = district_service.InitOptions(
        district=district,
        units=Path(units) if units else None,
        villages=Path(villages) if villages else None,
        crs=crs,
        name=name,
        parents=tuple(parents) if parents is not None else None,
        former_codes=tuple(former_codes),
        aliases=tuple(aliases),
        office=office,
        office_name=office_name,
        geometry=geometry,
    )
    return district_service.init_district(url, config=config or get_config(), options=options)
