"""Saved scenarios: list, show, compare, delete, and save (a siting proposal or
any planner's run).

The store keeps them (:mod:`planner.store.scenarios`); the comparison is
:func:`planner.scenarios.compare_scenarios`; the comparison files are written
by :func:`planner.reports.scenarios.write_comparison`. User mistakes (unknown
or bad names) raise :class:`planner.errors.ScenarioError` naming the saved ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planner import scenarios as pure
from planner.scenarios import Scenario, ScenarioComparison, ScenarioContent
from planner.siting.proposal import Proposal
from planner.store import scenarios as saved
from planner.store.core import Store

__all__ = [
    "Scenario",
    "ScenarioComparison",
    "compare_scenarios",
    "delete_scenario",
    "list_scenarios",
    "save_proposal",
    "save_scenario",
    "show_scenario",
]

#: The ``kind`` of a scenario saved from ``coverplan site``.
SITE_KIND = "site"


def list_scenarios(store: Store) -> list[Scenario]:
    """All saved scenarios, oldest first (by ``created_at``, then name)."""
    return saved.list_scenarios(store)


def show_scenario(store: Store, name: str) -> Scenario:
    """The scenario saved as ``name`` (ScenarioError listing the saved names if none)."""
    return saved.load_scenario(store, name)


def compare_scenarios(store: Store, names: Sequence[str]) -> ScenarioComparison:
    """Saved scenarios side by side, in the order of ``names``.

    Raises
    ------
    ScenarioError
        Fewer than two names, a name given twice, or a name not saved (the
        message lists the saved names).
    """
    listed = pure.check_comparison_names(names)
    return pure.compare_scenarios(saved.load_scenarios(store, listed))


def delete_scenario(store: Store, name: str) -> None:
    """Delete the scenario saved as ``name`` (audited; ScenarioError if none)."""
    saved.delete_scenario(store, name)


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
    """Save any planner's run (see :func:`planner.store.scenarios.save_scenario`)."""
    return saved.save_scenario(
        store,
        name=name,
        kind=kind,
        inputs=inputs,
        result=result,
        metrics=metrics,
        by_town=by_town,
        facility_type=facility_type,
        overwrite=overwrite,
    )


def save_proposal(
    store: Store, *, name: str, proposal: Proposal, overwrite: bool = True
) -> Scenario:
    """Save a siting proposal as scenario ``name`` (kind ``site``).

    Its ``inputs``, the JSON of ``coverplan site`` as ``result``, its headline
    ``metrics`` and the per-town figures.
    """
    content = ScenarioContent(
        name=name,
        kind=SITE_KIND,
        facility_type=proposal.type,
        inputs=proposal.inputs,
        result=proposal.to_json(),
        metrics=proposal.metrics(),
        by_town=proposal.by_town(),
    )
    return saved.save_content(store, content, overwrite=overwrite)
