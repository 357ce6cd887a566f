"""A saved siting scenario as the what-if's starting changes.

A scenario saved from ``coverplan site --save`` lists its actions (``selected``
of its result): ``new`` / ``relocate`` (a site opened at a point), ``upgrade``
(places added to a facility), ``close`` / ``relocate`` (a facility closed). Each
becomes a :class:`~planner.services.whatif_types.Change` on the what-if's sites:
a new site is the candidate at the same point (1e-6° ≈ 0.1 m, the precision
saved), an upgrade the facility of that name in that village.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from planner.errors import InputError
from planner.services.whatif_types import Change
from planner.store.core import Store
from planner.store.scenarios import load_scenario

__all__ = ["scenario_changes"]

#: Degrees within which a saved point is the candidate's (saved with 6 decimals).
POINT_TOL_DEG = 2e-6


def _at_point(sites: pd.DataFrame, row: dict[str, Any], *, scenario: str) -> str:
    lon, lat = float(row["lon"]), float(row["lat"])
    near = (
        ~sites["existing"].to_numpy(bool)
        & (np.abs(sites["lon"].to_numpy(float) - lon) <= POINT_TOL_DEG)
        & (np.abs(sites["lat"].to_numpy(float) - lat) <= POINT_TOL_DEG)
    )
    hits = np.flatnonzero(near)
    if not hits.size:
        raise InputError(
            f"方案「{scenario}」的新址「{row.get('name')}」（{lon:.6f},{lat:.6f}）不在候选点中："
            "若它来自候选点文件，请在推演时给出同一个候选点文件"
        )
    return str(sites.at[int(hits[0]), "code"])


def _places(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return int(value)


def scenario_changes(
    store: Store, name: str, *, type_key: str, label: str, sites: pd.DataFrame
) -> tuple[Change, ...]:
    """The changes of saved scenario ``name`` on the what-if's ``sites``.

    Raises
    ------
    ScenarioError
        No scenario of that name (the message lists the saved ones).
    InputError
        A scenario of another facility type or kind, or an action whose site is not
        among the what-if's sites.
    """
    scenario = load_scenario(store, name)
    if scenario.kind != "site" or scenario.facility_type != type_key:
        raise InputError(
            f"方案「{name}」不是{label}的选址方案（方案的设施类型 {scenario.facility_type}，"
            f"种类 {scenario.kind}），不能作为{label}推演的起点；"
            f"请选择{label}（{type_key}）的选址方案"
        )
    existing = sites[sites["existing"].to_numpy(bool)]
    out: list[Change] = []
    for row in scenario.result.get("selected", []):
        action = row.get("action")
        facility = row.get("facility") or {}
        if action in ("close", "relocate") and facility.get("code"):
            out.append(Change("remove", str(facility["code"])))
        if action in ("new", "relocate"):
            out.append(Change("add", _at_point(sites, row, scenario=name), _places(row["places"])))
        elif action == "upgrade":
            match = existing[
                (existing["name"] == row.get("name"))
                & (existing["village_code"] == row.get("village_code"))
            ]
            if match.empty:
                raise InputError(f"方案「{name}」扩容的设施「{row.get('name')}」已不在设施名册中")
            now = float(match["places"].iloc[0])
            added = _places(row.get("places")) or 0
            out.append(Change("upgrade", str(match["code"].iloc[0]), int(now) + added))
    return tuple(out)
