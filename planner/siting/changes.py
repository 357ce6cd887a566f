"""Closures and relocations of existing facilities (``site --close``, ``--relocate … --to …``).

A leader compares "stay", "move to the plot" and "move to the best plot": the
same facility type's coverage with the facility where it is, at a given place,
or at the place the solver finds best among the candidates. This module holds
the typed changes (:class:`SiteChanges`), finds the facility a user names
(:func:`find_facility`, by code or name), and applies the changes to the
facilities frame (:func:`apply_changes`): a closed facility leaves with its
places; a relocated one leaves its site and arrives at the new place with its
places (or the place's own, when the candidates file gives them). The facility
relocated to the best plot leaves too: the solver opens one of the relocation
plots (:func:`relocation_plots`, each with the facility's places) in its stead.
The user's changes are listed first in the proposal (:func:`change_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from planner.errors import InputError

__all__ = [
    "BEST",
    "Place",
    "Relocation",
    "SiteChanges",
    "apply_changes",
    "change_rows",
    "find_facility",
    "relocation_plots",
]

#: ``--to best``: the solver chooses the plot.
BEST = "best"
#: Facilities named in a "not found" message.
LISTED_FACILITIES = 20


@dataclass(frozen=True)
class Place:
    """Where a relocated facility goes: a named point (WGS-84) with its village.

    ``capacity`` (places) and ``build_cost`` (yuan) are the place's own when the
    candidates file gives them; ``None``: the facility's places, the type's cost.
    """

    name: str
    village_code: str | None
    lon: float
    lat: float
    capacity: float | None = None
    build_cost: float | None = None


@dataclass(frozen=True)
class Relocation:
    """Facility ``facility`` (its code) moves to ``to`` (``None``: the best plot)."""

    facility: str
    to: Place | None


@dataclass(frozen=True)
class SiteChanges:
    """The user's changes to existing facilities of one type (codes, resolved)."""

    close: tuple[str, ...] = ()
    relocate: tuple[Relocation, ...] = ()

    def __post_init__(self) -> None:
        codes = [*self.close, *(r.facility for r in self.relocate)]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise InputError(
                f"设施 {'、'.join(twice)} 被重复关闭或迁建；每处设施只能关闭或迁建一次"
            )
        if sum(r.to is None for r in self.relocate) > 1:
            raise InputError("一次只能让一处设施迁建到最佳地块（--to best）")

    @property
    def empty(self) -> bool:
        """No closure and no relocation."""
        return not self.close and not self.relocate

    @property
    def best(self) -> Relocation | None:
        """The relocation whose plot the solver chooses, if any."""
        return next((r for r in self.relocate if r.to is None), None)

    def codes(self) -> set[str]:
        """Codes of the facilities that leave their site."""
        return {*self.close, *(r.facility for r in self.relocate)}


def find_facility(
    text: str, facilities: pd.DataFrame, *, type_key: str, label: str, option: str
) -> pd.Series:
    """The facility of type ``type_key`` whose code (or else name) is ``text``.

    Raises
    ------
    InputError
        None or several match; the message lists the type's facilities.
    """
    fac = facilities[facilities["type"] == type_key]
    hit = fac[fac["key"].astype(str) == text]
    if hit.empty:
        hit = fac[fac["name"].astype(str) == text]
    if len(hit) == 1:
        return hit.iloc[0]
    listed = "、".join(f"{r.key} {r.name}" for r in fac.head(LISTED_FACILITIES).itertuples())
    more = f" 等 {len(fac)} 处" if len(fac) > LISTED_FACILITIES else ""
    if hit.empty:
        known = f"现有{label}：{listed}{more}" if len(fac) else f"数据库中没有{label}"
        raise InputError(
            f"{option} 给出的设施「{text}」不是{label}的代码或名称；{known}", value=text
        )
    raise InputError(
        f"{option} 给出的名称「{text}」对应 {len(hit)} 处{label}；请改用设施代码：{listed}{more}",
        value=text,
    )


def _geo(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = [
        None if pd.isna(x) else g
        for x, g in zip(frame["lon"], points(frame["lon"], frame["lat"]), strict=True)
    ]
    plain = frame.drop(columns="geometry") if "geometry" in frame else frame
    return gpd.GeoDataFrame(plain, geometry=geometry, crs="EPSG:4326")


def apply_changes(
    facilities: pd.DataFrame, changes: SiteChanges, *, villages: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The facilities after the closures and the relocations to a place; the
    facility relocated to the best plot is left out (the solver places it)."""
    out = facilities.copy()
    town_of = villages.set_index("code")["town_code"]
    for r in changes.relocate:
        if r.to is None:
            continue
        row = out["key"] == r.facility
        place = r.to
        out.loc[row, "lon"] = place.lon
        out.loc[row, "lat"] = place.lat
        out.loc[row, "village_code"] = place.village_code
        out.loc[row, "town_code"] = (
            town_of.get(place.village_code) if place.village_code is not None else None
        )
        if place.capacity is not None:
            out.loc[row, "capacity"] = int(place.capacity)
    gone = set(changes.close) | {r.facility for r in changes.relocate if r.to is None}
    out = out[~out["key"].isin(gone)].reset_index(drop=True)
    return _geo(out)


def relocation_plots(
    villages: pd.DataFrame,
    *,
    candidates: pd.DataFrame | None,
    hosted: set[str],
    capacity: float | None,
    build_cost: float,
) -> pd.DataFrame:
    """The plots a facility may move to (``name, village_code, lon, lat, build_cost,
    capacity``): the user's candidates, or every village committee point without
    a facility of the type (``hosted``); the facility's ``capacity`` where the
    plot gives none (``None``: no limit), the type's ``build_cost`` likewise."""
    if candidates is None:
        v = villages[villages["lon"].notna() & ~villages["code"].isin(hosted)]
        plots = pd.DataFrame(
            {
                "name": (v["town_name"] + v["name"] + "（迁建）").to_numpy(),
                "village_code": v["code"].to_numpy(),
                "lon": v["lon"].to_numpy(float),
                "lat": v["lat"].to_numpy(float),
                "build_cost": np.nan,
                "capacity": np.nan,
            }
        )
    else:
        plots = candidates.copy()
    own = np.inf if capacity is None else float(capacity)
    plots["capacity"] = plots["capacity"].astype(float).fillna(own)
    plots["build_cost"] = plots["build_cost"].astype(float).fillna(build_cost)
    return plots


def _capacity(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def change_rows(
    facilities: pd.DataFrame,
    changes: SiteChanges,
    *,
    villages: pd.DataFrame,
    build_cost: float,
) -> list[dict[str, Any]]:
    """One proposal row per closure and per relocation to a place, in that order:
    ``action`` (``close``/``relocate``), ``name``, ``village_code``,
    ``village_name``, ``town_name``, ``lon``, ``lat`` (the site after the change;
    a closure: the site closed), ``cost`` (yuan: the new place's build cost),
    ``places`` (places added; negative for a closure), and ``facility`` (the
    facility's code, name and old site)."""
    info = villages.set_index("code")
    by_code = facilities.set_index("key")
    rows: list[dict[str, Any]] = []

    def where(code: Any) -> tuple[Any, Any]:
        if code is None or (isinstance(code, float) and math.isnan(code)) or code not in info.index:
            return None, None
        return info.at[code, "name"], info.at[code, "town_name"]

    def facility(code: str) -> dict[str, Any]:
        f = by_code.loc[code]
        return {
            "code": code,
            "name": f["name"],
            "village_code": f["village_code"],
            "lon": f["lon"],
            "lat": f["lat"],
            "capacity": _capacity(f["capacity"]),
        }

    for code in changes.close:
        f = facility(code)
        village, town = where(f["village_code"])
        cap = f["capacity"]
        rows.append(
            {
                "action": "close",
                "name": f["name"],
                "village_code": f["village_code"],
                "village_name": village,
                "town_name": town,
                "lon": f["lon"],
                "lat": f["lat"],
                "cost": 0.0,
                "places": None if cap is None else -cap,
                "facility": f,
            }
        )
    for r in changes.relocate:
        if r.to is None:
            continue
        f = facility(r.facility)
        village, town = where(r.to.village_code)
        cap = r.to.capacity if r.to.capacity is not None else f["capacity"]
        rows.append(
            {
                "action": "relocate",
                "name": f"{f['name']} → {r.to.name}",
                "village_code": r.to.village_code,
                "village_name": village,
                "town_name": town,
                "lon": r.to.lon,
                "lat": r.to.lat,
                "cost": r.to.build_cost if r.to.build_cost is not None else build_cost,
                "places": cap,
                "facility": f,
            }
        )
    return rows
