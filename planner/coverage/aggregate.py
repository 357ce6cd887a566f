"""From per-resident coverage rows to the tables people read: villages, towns,
facilities, and the lists of points off the network or not located.

Only counts are summed (:data:`~planner.coverage.result.COUNTED`); the derived
columns (``uncovered``, ``over_capacity``, ``coverage_pct``) are recomputed at
each level, so per-village sums equal the town and district totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.coverage.offnetwork import point_entries, resident_entries
from planner.coverage.reach import Snapped
from planner.coverage.result import COUNTED, PCT_DECIMALS, VILLAGE_FIELDS
from planner.domain.indicators import HOME_TYPE
from planner.settings import Config
from planner.units import PERCENT

__all__ = [
    "facility_loads",
    "not_located_entries",
    "off_network_entries",
    "town_table",
    "village_table",
]


def _pct(num: pd.Series, den: pd.Series) -> pd.Series:
    out = PERCENT * num / den.where(den > 0)
    return out.round(PCT_DECIMALS)


def _count(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = frame.assign(
        eligible=1,
        home_service=frame["home_service"].astype(int),
        covered=frame["covered"].astype(int),
        covered_within_capacity=frame["within_capacity"].astype(int),
        off_network=frame["off_network"].astype(int),
        not_located=frame["not_located"].astype(int),
    ).groupby(keys, sort=True)[list(COUNTED)]
    return g.sum().reset_index()


def _derive(table: pd.DataFrame) -> pd.DataFrame:
    table["uncovered"] = table["eligible"] - table["home_service"] - table["covered"]
    table["over_capacity"] = table["covered"] - table["covered_within_capacity"]
    table["coverage_pct"] = _pct(table["covered"], table["eligible"] - table["home_service"])
    return table


def village_table(
    per_resident: pd.DataFrame,
    *,
    villages: gpd.GeoDataFrame,
    keys: Sequence[str],
    access: Mapping[str, pd.Series],
) -> pd.DataFrame:
    """One row per (village, type), zeros where nobody is eligible.

    Columns as :attr:`planner.coverage.result.CoverageResult.villages`;
    ``access``: the E2SFCA index per village code, per type.
    """
    info = villages.set_index("code")[["name", "town_code", "town_name"]]
    grid = pd.MultiIndex.from_product([villages["code"], keys], names=["village_code", "type"])
    vtab = _count(per_resident, ["village_code", "type"]).set_index(["village_code", "type"])
    vtab = _derive(vtab.reindex(grid, fill_value=0).reset_index())
    vtab["village_name"] = vtab["village_code"].map(info["name"])
    vtab["town_code"] = vtab["village_code"].map(info["town_code"])
    vtab["town_name"] = vtab["village_code"].map(info["town_name"])
    vtab["accessibility"] = [
        access[t].get(c, 0.0) for c, t in zip(vtab["village_code"], vtab["type"], strict=True)
    ]
    cols = ["village_code", "village_name", "town_code", "town_name", "type", *VILLAGE_FIELDS]
    return vtab[cols]


def town_table(vtab: pd.DataFrame, *, facilities: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per (town, type): the village counts summed, derived columns, ``has_home``."""
    ttab = (
        vtab.groupby(["town_code", "town_name", "type"], sort=True)[list(COUNTED)]
        .sum()
        .reset_index()
    )
    ttab = _derive(ttab)
    home_towns = set(facilities.loc[facilities["type"] == HOME_TYPE, "town_code"].dropna())
    ttab["has_home"] = ttab["town_code"].isin(home_towns)
    return ttab


def facility_loads(
    facilities: gpd.GeoDataFrame,
    *,
    keys: Sequence[str],
    loads: Sequence[pd.Series],
    config: Config,
    per_resident: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The facilities of the requested types with ``load`` (persons given a place),
    ``free`` (capacity − load, NaN when unlimited), ``nearest`` (covered persons whose
    nearest facility it is, from ``per_resident``) and ``label``."""
    load_all = pd.concat(loads) if loads else pd.Series(dtype=np.int64)
    out = facilities[facilities["type"].isin(keys)].copy()
    out["load"] = out["id"].map(load_all).fillna(0).astype(int)
    out["free"] = pd.to_numeric(out["capacity"], errors="coerce") - out["load"]
    nearest = pd.Series(dtype=np.int64)
    if per_resident is not None and len(per_resident):
        covered = per_resident[per_resident["covered"] & per_resident["facility_id"].notna()]
        nearest = covered["facility_id"].astype(np.int64).value_counts()
    out["nearest"] = out["id"].map(nearest).fillna(0).astype(int)
    out["label"] = out["type"].map(lambda k: config.facility_label(k))
    return out


def off_network_entries(
    snapped: Mapping[str, Snapped],
    per_resident: pd.DataFrame,
    *,
    villages: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    config: Config,
    keys: Sequence[str],
) -> tuple[dict[str, Any], ...]:
    """Villages, facilities (of the requested types) and residents beyond the limit, per mode."""
    names = dict(zip(villages["code"], villages["name"], strict=True))
    out: list[dict[str, Any]] = []
    for mode, sn in sorted(snapped.items()):
        out += point_entries(
            "village", sn.village, keys=villages["code"].to_list(), names=villages["name"].to_list()
        )
        travel = [
            k
            for k in keys
            if config.facility_types[k].catchment == "travel"
            and config.facility_types[k].mode == mode
        ]
        mine = facilities["type"].isin(travel).to_numpy()
        fac_snap = replace(sn.facility, off_network=sn.facility.off_network & mine)
        out += point_entries(
            "facility",
            fac_snap,
            keys=facilities["id"].to_list(),
            names=facilities["name"].to_list(),
            key="id",
        )
        if len(per_resident):
            rows = per_resident[per_resident["type"].isin(travel) & per_resident["off_network"]]
            rows = rows.drop_duplicates("resident_id")
            out += resident_entries(
                rows["village_code"].to_numpy(),
                rows["snap_m"].to_numpy(float),
                village_names=names,
                mode=mode,
            )
    return tuple(out)


def not_located_entries(
    per_resident: pd.DataFrame, *, villages: gpd.GeoDataFrame
) -> tuple[dict[str, Any], ...]:
    """Villages whose eligible travellers have no point at all, with their count."""
    if not len(per_resident):
        return ()
    rows = per_resident[per_resident["not_located"]].drop_duplicates("resident_id")
    names = dict(zip(villages["code"], villages["name"], strict=True))
    counts = rows.groupby("village_code", sort=True).size()
    return tuple(
        {"village_code": str(c), "village_name": names.get(str(c), ""), "count": int(n)}
        for c, n in counts.items()
    )
