"""The siting map: existing, proposed, upgraded, closed and relocated sites, the
coverage before and after as two layers, and each site's "why here".

Takes a fresh :class:`~planner.siting.proposal.Proposal` (coverage per village
before and after) or a saved scenario of kind ``site`` (its JSON: coverage per
town before and after; the existing facilities come from ``facilities``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from maps.base import BaseLayers, base_map
from maps.coverage import village_figures
from maps.draw import (
    NO_DATA_COLOUR,
    add_layer_control,
    add_legend,
    class_colour,
    class_labels,
    esc,
    pct_text,
    shift_frame,
    shift_xy,
)
from planner.errors import InputError
from planner.jsonable import records
from planner.services import Proposal, Scenario
from planner.services.types import CoverageResult
from planner.settings import Config
from planner.siting.reasons import why_zh

__all__ = ["ACTIONS", "siting_map"]

#: Action → (Chinese name, marker colour, Font Awesome icon).
ACTIONS: dict[str, tuple[str, str, str]] = {
    "existing": ("现有设施", "blue", "house"),
    "new": ("新建", "green", "plus"),
    "upgrade": ("升级扩容", "orange", "arrow-up"),
    "close": ("关闭", "black", "xmark"),
    "relocate": ("迁建", "purple", "right-left"),
}
#: The awesome-markers colour names as CSS colours (legend swatches).
_CSS = {
    "blue": "#38aadd",
    "green": "#72b026",
    "orange": "#f69730",
    "black": "#303030",
    "purple": "#d252b9",
}
LAYER_BEFORE = "覆盖率（方案前）"
LAYER_AFTER = "覆盖率（方案后）"
LAYER_SITES = "方案选址"
LAYER_EXISTING = "现有设施"
SITE_KIND = "site"


@dataclass(frozen=True)
class _View:
    """What the map needs of a proposal or a saved scenario."""

    type_key: str
    label: str
    objective: str
    selected: list[dict[str, Any]]
    existing: pd.DataFrame
    before: CoverageResult | None
    after: CoverageResult | None
    towns: list[dict[str, Any]]


def _of_proposal(p: Proposal) -> _View:
    rows = records(p.selected)
    for row, extra in zip(rows, p.extras, strict=False):
        row.update(extra)
    fac = p.before.facilities
    return _View(
        p.type, p.label, p.objective, rows, fac[fac["type"] == p.type], p.before, p.after, []
    )


def _of_scenario(sc: Scenario, facilities: pd.DataFrame | None, config: Config) -> _View:
    if sc.kind != SITE_KIND:
        raise InputError(f"方案「{sc.name}」不是选址方案（类型 {sc.kind}），无法画选址图")
    res: Mapping[str, Any] = sc.result
    key = str(sc.facility_type or res.get("type") or "")
    fac = facilities if facilities is not None else pd.DataFrame(columns=["type"])
    return _View(
        key,
        str(res.get("label") or config.facility_label(key)),
        str(res.get("objective_kind") or "mclp"),
        [dict(r) for r in res.get("selected", [])],
        fac[fac["type"] == key],
        None,
        None,
        [dict(t) for t in res.get("towns", [])],
    )


def _popup(row: Mapping[str, Any], *, objective: str) -> str:
    name = ACTIONS.get(str(row.get("action")), (str(row.get("action")), "", ""))[0]
    where = f"{row.get('town_name') or ''} {row.get('village_name') or ''}".strip()
    parts = [f"<b>{esc(row.get('name'))}</b>（{esc(name)}）"]
    if where:
        parts.append(esc(where))
    cost, places = row.get("cost"), row.get("places")
    if cost is not None:
        parts.append(f"费用：{float(cost):,.0f} 元")
    if places is not None:
        parts.append(f"名额：{float(places):+g}")
    why = row.get("why")
    if isinstance(why, Mapping):
        parts.append(esc(why_zh(dict(why), objective=objective)))  # type: ignore[arg-type]
    return "<br>".join(parts)


def _sites(m: folium.Map, view: _View, *, config: Config) -> None:
    closed = {
        str(r["facility"]["code"])
        for r in view.selected
        if isinstance(r.get("facility"), Mapping) and r.get("action") in ("close", "relocate")
    }
    fg = folium.FeatureGroup(name=f"{LAYER_EXISTING}：{view.label}")
    for _, f in view.existing.iterrows():
        if pd.isna(f.get("lon")) or str(f.get("key")) in closed:
            continue
        cap = "不限" if pd.isna(f.get("capacity")) else f"{float(f['capacity']):g}"
        folium.Marker(
            shift_xy(float(f["lon"]), float(f["lat"]), config=config),
            icon=folium.Icon(prefix="fa", icon=ACTIONS["existing"][2], color="blue"),
            tooltip=str(f["name"]),
            popup=folium.Popup(f"<b>{esc(f['name'])}</b>（现有）<br>容量：{cap}", max_width=300),
        ).add_to(fg)
    fg.add_to(m)
    fg = folium.FeatureGroup(name=LAYER_SITES)
    for row in view.selected:
        action = str(row.get("action"))
        name, colour, icon = ACTIONS.get(action, ACTIONS["new"])
        if row.get("lon") is None or row.get("lat") is None:
            continue
        folium.Marker(
            shift_xy(float(row["lon"]), float(row["lat"]), config=config),
            icon=folium.Icon(prefix="fa", icon=icon, color=colour),
            tooltip=f"{row.get('rank', '')}. {name}：{row.get('name')}",
            popup=folium.Popup(_popup(row, objective=view.objective), max_width=360),
        ).add_to(fg)
    fg.add_to(m)


def _villages_layer(
    m: folium.Map,
    result: CoverageResult,
    base: BaseLayers,
    *,
    view: _View,
    name: str,
    config: Config,
    show: bool,
) -> None:
    v = village_figures(result, base, type_key=view.type_key)
    mc = config.maps
    shown = v.assign(
        fill=[
            class_colour(p, bins=mc.coverage_bins, colours=mc.coverage_colours)
            for p in v["coverage_pct"]
        ],
        pct=[pct_text(p) for p in v["coverage_pct"]],
    )
    fg = folium.FeatureGroup(name=name, show=show)
    folium.GeoJson(
        shift_frame(shown[["name", "pct", "fill", "geometry"]], config=config),
        style_function=lambda f: {
            "color": "#666666",
            "weight": 0.7,
            "fillColor": f["properties"]["fill"],
            "fillOpacity": 0.7,
        },
        marker=folium.CircleMarker(radius=7, fill=True),
        tooltip=folium.GeoJsonTooltip(fields=["name", "pct"], aliases=["村社", name]),
    ).add_to(fg)
    fg.add_to(m)


def _towns_layer(
    m: folium.Map,
    base: BaseLayers,
    *,
    view: _View,
    which: str,
    name: str,
    config: Config,
    show: bool,
) -> None:
    by_name = {str(t.get("town_name")): t for t in view.towns}
    mc = config.maps
    rows = []
    for _, town in base.towns.iterrows():
        value = by_name.get(str(town["name"]), {}).get(f"coverage_pct_{which}")
        rows.append(
            {
                "name": town["name"],
                "pct": pct_text(value),
                "geometry": town["geometry"],
                "fill": class_colour(value, bins=mc.coverage_bins, colours=mc.coverage_colours),
            }
        )
    fg = folium.FeatureGroup(name=name, show=show)
    if rows:
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        folium.GeoJson(
            shift_frame(frame, config=config),
            style_function=lambda f: {
                "color": "#444444",
                "weight": 1,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "pct"], aliases=["镇街", name]),
        ).add_to(fg)
    fg.add_to(m)


def siting_map(
    result: Proposal | Scenario,
    *,
    base: BaseLayers,
    config: Config,
    facilities: pd.DataFrame | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """A siting proposal (or a saved ``site`` scenario) on the district's map.

    Parameters
    ----------
    result
        A :class:`~planner.siting.proposal.Proposal` (coverage per village before
        and after) or a saved scenario of kind ``site`` (per town).
    base
        The district's base layers.
    config
        ``[maps]`` coverage classes; the facility types' labels.
    facilities
        The store's facilities (``key, type, name, lon, lat, capacity``): the
        existing sites of a saved scenario (a proposal carries its own).
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layers 覆盖率（方案前）(hidden at first), 覆盖率（方案后）, 现有设施：…,
        方案选址 (icons per action, the "why here" in each popup), legends and
        the layer control.

    Raises
    ------
    InputError
        For a scenario of another kind.
    """
    view = (
        _of_proposal(result)
        if isinstance(result, Proposal)
        else _of_scenario(result, facilities, config)
    )
    m = m if m is not None else base_map(base, config=config)
    for which, name, show in (("before", LAYER_BEFORE, False), ("after", LAYER_AFTER, True)):
        cov = view.before if which == "before" else view.after
        if cov is not None:
            _villages_layer(m, cov, base, view=view, name=name, config=config, show=show)
        else:
            _towns_layer(m, base, view=view, which=which, name=name, config=config, show=show)
    _sites(m, view, config=config)
    mc = config.maps
    items = list(zip(mc.coverage_colours, class_labels(mc.coverage_bins), strict=True))
    items.append((NO_DATA_COLOUR, "无符合条件者"))
    scope = "村社" if view.after is not None else "镇街"
    add_legend(m, f"{view.label}覆盖率（按{scope}；方案前 / 方案后 两个图层）", items)
    add_legend(
        m,
        "选址",
        [(_CSS[c], name) for name, c, _ in ACTIONS.values()],
        kind="dot",
        note="点击标记查看“为什么选这里”",
        position="bottomright",
    )
    add_layer_control(m)
    return m
