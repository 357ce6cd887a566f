"""The plan applied: the facilities after a proposal and the proposal's rows.

:func:`facilities_after` gives the facilities frame with the user's changes
(:mod:`planner.siting.changes`) and the solver's choices applied, on which the
coverage "after" is computed; :func:`selected_table` the ranked rows of the
proposal (:data:`SELECTED_COLUMNS`): the user's closures and relocations first,
then the new sites (the relocation to the best plot among them) by marginal
gain, then the upgrades.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from planner.siting.from_frames import Sites
from planner.siting.problem import SitingResult

__all__ = [
    "LONLAT_DECIMALS",
    "NEW_ID_BASE",
    "SELECTED_COLUMNS",
    "facilities_after",
    "selected_table",
]

NEW_ID_BASE = 10_000_000  # ids of proposed facilities, clear of stored ones
#: Columns of :attr:`planner.siting.proposal.Proposal.selected`, in order.
SELECTED_COLUMNS = (
    "rank",
    "action",
    "name",
    "village_code",
    "village_name",
    "town_name",
    "lon",
    "lat",
    "cost",
    "places",
    "marginal",
)
#: Decimals of the WGS-84 degrees shown for a site (about 0.1 m).
LONLAT_DECIMALS = 6
#: Decimals of the marginal gain (persons or person-minutes) shown per site.
MARGINAL_DECIMALS = 3


def facilities_after(
    facilities: gpd.GeoDataFrame, sites: Sites, result: SitingResult, *, type_key: str
) -> gpd.GeoDataFrame:
    """The facilities frame with the proposal applied (new rows, upgraded capacities)."""
    sf = sites.frame
    out = facilities.copy()
    for j in result.upgraded:
        fid = sf.at[int(j), "facility_id"]
        row = out["id"] == fid
        added = float(sf["upgrade_capacity"].to_numpy()[int(j)])
        out.loc[row, "capacity"] = out.loc[row, "capacity"].astype(float).fillna(0) + added
    new = sf.loc[result.opened]
    if len(new):
        cap = new["capacity"].astype(float)
        add = pd.DataFrame(
            {
                "id": NEW_ID_BASE + np.arange(len(new)),
                "key": [f"proposed:{type_key}:{k}" for k in range(len(new))],
                "type": type_key,
                "name": new["name"].to_numpy(),
                "village_code": new["village_code"].to_numpy(),
                "town_code": new["town_code"].to_numpy(),
                "lon": new["lon"].to_numpy(float),
                "lat": new["lat"].to_numpy(float),
                "capacity": [None if math.isinf(c) else int(c) for c in cap],
                "placed": None,
            }
        )
        geo = gpd.GeoDataFrame(add, geometry=points(add["lon"], add["lat"]), crs="EPSG:4326")
        out = pd.concat([out, geo], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _where(site: dict[Any, Any]) -> dict[str, Any]:
    """Name, village, town and WGS-84 point of a site row."""
    return {
        "name": site["name"],
        "village_code": site["village_code"],
        "village_name": site["village_name"],
        "town_name": site["town_name"],
        "lon": round(float(site["lon"]), LONLAT_DECIMALS),
        "lat": round(float(site["lat"]), LONLAT_DECIMALS),
    }


def selected_table(
    sites: Sites,
    result: SitingResult,
    *,
    changes: list[dict[str, Any]] | None = None,
    opened_as: str = "new",
) -> pd.DataFrame:
    """The proposal's actions, ranked (columns :data:`SELECTED_COLUMNS`): the
    user's ``changes`` (rows of :func:`planner.siting.changes.change_rows`), new
    sites by marginal gain (action ``opened_as``: ``new``, or ``relocate`` for
    the best plot of a relocation), then upgrades."""
    sf = sites.frame
    rows = [
        {
            **{k: v for k, v in c.items() if k in SELECTED_COLUMNS},
            "rank": rank,
            "lon": round(float(c["lon"]), LONLAT_DECIMALS),
            "lat": round(float(c["lat"]), LONLAT_DECIMALS),
            "marginal": None,
        }
        for rank, c in enumerate(changes or [], start=1)
    ]
    for j, gain in zip(result.opened, result.marginal, strict=True):
        s: dict[Any, Any] = sf.loc[int(j)].to_dict()
        rows.append(
            {
                "rank": len(rows) + 1,
                "action": opened_as,
                **_where(s),
                "cost": float(s["build_cost"]),
                "places": None if math.isinf(s["capacity"]) else float(s["capacity"]),
                "marginal": round(float(gain), MARGINAL_DECIMALS),
            }
        )
    for j in result.upgraded:
        s = sf.loc[int(j)].to_dict()
        rows.append(
            {
                "rank": len(rows) + 1,
                "action": "upgrade",
                **_where(s),
                "cost": float(s["upgrade_cost"]),
                "places": float(s["upgrade_capacity"]),
                "marginal": None,
            }
        )
    return pd.DataFrame(rows, columns=list(SELECTED_COLUMNS))
