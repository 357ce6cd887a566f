"""Saved scenarios in the store (table ``scenarios``, migration 0002): save, load,
list, delete.

Saving a name that exists replaces that scenario (its ``created_at`` is kept);
saves, replacements and deletes are recorded in the audit log. The rules of what
may be saved, and the comparison, are in :mod:`planner.scenarios`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.errors import ScenarioError
from planner.scenarios import Scenario, ScenarioContent, missing_scenarios
from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = [
    "delete_scenario",
    "list_scenarios",
    "load_scenario",
    "load_scenarios",
    "save_content",
    "save_scenario",
]


def _to_record(row: t.Scenario) -> Scenario:
    return Scenario(
        name=row.name,
        kind=row.kind,
        facility_type=row.facility_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
        inputs=dict(row.inputs or {}),
        result=dict(row.result or {}),
        metrics=dict(row.metrics or {}),
        by_town={str(town): dict(m) for town, m in (row.by_town or {}).items()},
    )


def _saved_names(session: Session) -> list[str]:
    query = select(t.Scenario.name).order_by(t.Scenario.created_at, t.Scenario.name)
    return list(session.scalars(query))


def save_content(store: Store, content: ScenarioContent, *, overwrite: bool = True) -> Scenario:
    """Save checked ``content`` (one write transaction, audited); see :func:`save_scenario`."""
    now = datetime.now()
    name = content.name
    with store.write() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        replaced = row is not None
        if row is None:
            row = t.Scenario(name=name, created_at=now)
            s.add(row)
        elif not overwrite:
            raise ScenarioError(
                f"方案「{name}」已存在（{row.created_at:%Y-%m-%d %H:%M} 保存）；"
                "请换一个名称，或允许覆盖，或先删除：coverplan scenarios delete "
                f"「{name}」。"
            )
        row.kind = content.kind
        row.facility_type = content.facility_type
        row.updated_at = max(now, row.created_at)
        row.inputs = dict(content.inputs)
        row.result = dict(content.result)
        row.metrics = dict(content.metrics)
        row.by_town = {town: dict(m) for town, m in content.by_town.items()}
        s.flush()
        audit(
            s,
            action="replace" if replaced else "save",
            entity="scenario",
            detail={"name": name, "kind": content.kind, "facility_type": content.facility_type},
        )
        return _to_record(row)


def save_scenario(
    store: Store,
    *,
    name: str,
    kind: str,
    inputs: Mapping[str, Any],
    result: Mapping[str, Any],
    metrics: Mapping[str, Any],
    by_town: Mapping[str, Mapping[str, Any]],
    facility_type: str | None = None,
    overwrite: bool = True,
) -> Scenario:
    """Save a scenario under ``name`` (one write transaction, audited).

    Parameters
    ----------
    store
        The store to write to.
    name
        Unique name: not empty, at most 64 characters, no leading or trailing
        spaces, not ``key``, ``label`` or ``town``.
    kind
        ``"site"``, ``"retrofit"`` or another code of at most 16 characters.
    inputs
        The run's parameters. Values must be JSON values; numpy scalars and
        arrays, dates and paths are converted, NaN and infinities become null,
        tuples become lists.
    result
        The full JSON form of the result (converted like ``inputs``).
    metrics
        Metric key → number or text (None for not available).
    by_town
        Town name → metric key → number (None for not available).
    facility_type
        The facility type code the scenario is about, if any (≤ 32 characters).
    overwrite
        Replace a scenario of the same name (keeping its ``created_at``). When
        false, an existing name raises :class:`ScenarioError`.

    Returns
    -------
    Scenario
        The scenario as stored.

    Raises
    ------
    ScenarioError
        For an invalid name, kind or metric value, or an existing name with
        ``overwrite=False``.
    TypeError
        When ``inputs`` or ``result`` hold something that is not a JSON value.
    """
    content = ScenarioContent(
        name=name,
        kind=kind,
        inputs=inputs,
        result=result,
        metrics=metrics,
        by_town=by_town,
        facility_type=facility_type,
    )
    return save_content(store, content, overwrite=overwrite)


def load_scenario(store: Store, name: str) -> Scenario:
    """The scenario saved as ``name``.

    Raises
    ------
    ScenarioError
        When there is none; the message lists the saved names.
    """
    with store.read() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        if row is None:
            raise missing_scenarios([name], _saved_names(s))
        return _to_record(row)


def load_scenarios(store: Store, names: Sequence[str]) -> list[Scenario]:
    """The scenarios saved as ``names``, in that order.

    Raises
    ------
    ScenarioError
        When any is not saved; the message names them and lists the saved names.
    """
    with store.read() as s:
        query = select(t.Scenario).where(t.Scenario.name.in_(names)).order_by(t.Scenario.id)
        rows = {row.name: _to_record(row) for row in s.scalars(query)}
        missing = [n for n in names if n not in rows]
        if missing:
            raise missing_scenarios(missing, _saved_names(s))
    return [rows[n] for n in names]


def list_scenarios(store: Store) -> list[Scenario]:
    """All saved scenarios, oldest first (by ``created_at``, then name)."""
    with store.read() as s:
        query = select(t.Scenario).order_by(t.Scenario.created_at, t.Scenario.name)
        return [_to_record(row) for row in s.scalars(query)]


def delete_scenario(store: Store, name: str) -> None:
    """Delete the scenario saved as ``name`` (audited).

    Raises
    ------
    ScenarioError
        When there is none; the message lists the saved names.
    """
    with store.write() as s:
        row = s.scalars(select(t.Scenario).where(t.Scenario.name == name)).one_or_none()
        if row is None:
            raise missing_scenarios([name], _saved_names(s))
        detail = {"name": row.name, "kind": row.kind, "created_at": row.created_at}
        s.delete(row)
        audit(s, action="delete", entity="scenario", detail=detail)
