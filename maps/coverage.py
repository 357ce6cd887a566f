"""The coverage map of one facility type: villages by coverage, facilities by
capacity, service areas, and the villages nobody can reach from.

Service areas: the isochrones of the coverage run (``CoverageOptions(isochrones=True)``,
the area within the type's threshold on the network) when the result has them;
otherwise the catchment hull of each facility (the convex hull of the villages
whose covered residents have it as their nearest facility), said in the legend.
"""

from __future__ import annotations

import math
from typing import cast

import folium
import geopandas as gpd
import pandas as pd
import shapely

from maps.base import BaseLayers, base_map, simplify
from maps.draw import (
    add_layer_control,
    add_legend,
    class_colour,
    class_labels,
    count_text,
    esc,
    pct_text,
    radius,
    shaded_layer,
    shift_frame,
    shift_xy,
)
from planner.errors import InputError
from planner.services.types import CoverageResult
from planner.settings import Config

__all__ = ["coverage_map", "facility_layer", "village_figures"]

LAYER_COVERAGE = "村社覆盖率"
LAYER_FACILITIES = "设施"
LAYER_AREAS = "服务范围"
LAYER_HULLS = "服务范围（设施服务村社外包）"
LAYER_UNCOVERED = "有未覆盖人员的村社"
LAYER_OFF_NETWORK = "距路网过远"
FACILITY_COLOUR = "#08519c"
UNCOVERED_COLOUR = "#e31a1c"
OFF_NETWORK_COLOUR = "#6a3d9a"
#: Buffer of a one-village catchment hull (a point), degrees (about 500 m).
_HULL_PAD_DEG = 0.005


def check_type(result: CoverageResult, type_key: str) -> None:
    """InputError naming the computed types when ``type_key`` is not one of them."""
    keys = [t.type for t in result.types]
    if type_key not in keys:
        raise InputError(f"设施类型「{type_key}」不在本次覆盖计算中；可选：{'、'.join(keys)}")


def village_figures(result: CoverageResult, base: BaseLayers, *, type_key: str) -> gpd.GeoDataFrame:
    """The base's located villages with the coverage figures of ``type_key``
    (the columns of :attr:`CoverageResult.villages`; villages without a row: 0)."""
    v = result.villages[result.villages["type"] == type_key]
    geo = base.villages[base.villages.geometry.notna()]
    cols = ["eligible", "home_service", "covered", "covered_within_capacity", "uncovered"]
    cols += ["over_capacity", "coverage_pct", "off_network", "not_located"]
    joined = geo.merge(
        v[["village_code", *cols]], left_on="code", right_on="village_code", how="left"
    )
    counts = [c for c in cols if c != "coverage_pct"]
    joined[counts] = joined[counts].fillna(0).astype(int)
    return gpd.GeoDataFrame(joined, geometry="geometry", crs="EPSG:4326")


def _village_popup(r: pd.Series, *, label: str, min_count: int | None) -> str:
    def c(key: str) -> str:
        return count_text(r[key], min_count=min_count)

    rows = [
        ("符合条件", c("eligible")),
        ("需上门服务", c("home_service")),
        ("可达", c("covered")),
        ("容量内", c("covered_within_capacity")),
        ("未覆盖", c("uncovered")),
        ("距路网过远", c("off_network")),
        ("覆盖率", pct_text(r["coverage_pct"])),
    ]
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
    return (
        f"<b>{esc(r['town_name'])} {esc(r['name'])}</b><br>{esc(label)}"
        f"<table class='coverplan-popup'>{body}</table>"
    )


def _choropleth(
    m: folium.Map, villages: gpd.GeoDataFrame, *, config: Config, label: str, min_count: int | None
) -> None:
    mc = config.maps
    shown = villages.assign(
        fill=[
            class_colour(p, bins=mc.coverage_bins, colours=mc.coverage_colours)
            for p in villages["coverage_pct"]
        ],
        popup=[_village_popup(r, label=label, min_count=min_count) for _, r in villages.iterrows()],
        pct=[pct_text(p) for p in villages["coverage_pct"]],
    )
    shaded_layer(
        m, shown, name=LAYER_COVERAGE, tooltip={"name": "村社", "pct": "覆盖率"}, config=config
    )
    items = list(zip(mc.coverage_colours, class_labels(mc.coverage_bins), strict=True))
    items.append(("#d9d9d9", "无符合条件者"))
    add_legend(m, f"{label}覆盖率（可达 / 能出行的符合条件者）", items)


def facility_layer(
    m: folium.Map,
    facilities: pd.DataFrame,
    *,
    config: Config,
    name: str,
    colour: str = FACILITY_COLOUR,
    served: bool = True,
) -> folium.FeatureGroup:
    """Facilities as circles whose area follows their places (capacity), with a
    popup: name, capacity, placed, served within capacity and covered nearest."""
    fg = folium.FeatureGroup(name=name)
    caps = pd.to_numeric(facilities["capacity"], errors="coerce")
    largest = float(caps.max()) if caps.notna().any() else 0.0
    for _, f in facilities.iterrows():
        if pd.isna(f["lon"]) or pd.isna(f["lat"]):
            continue
        cap = None if pd.isna(f["capacity"]) else float(f["capacity"])
        rows = [("容量", "不限" if cap is None else f"{cap:g}")]
        if "placed" in f and not pd.isna(f["placed"]):
            rows.append(("在册", f"{float(f['placed']):g}"))
        if served and "load" in f:
            rows.append(("容量内服务", f"{int(f['load'])}"))
        if served and "nearest" in f:
            rows.append(("可达（以其为最近）", f"{int(f['nearest'])}"))
        body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
        folium.CircleMarker(
            location=shift_xy(float(f["lon"]), float(f["lat"]), config=config),
            radius=radius(cap if cap is not None else math.inf, largest=largest, config=config),
            color="#ffffff",
            weight=1.5,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=str(f["name"]),
            popup=folium.Popup(f"<b>{esc(f['name'])}</b><table>{body}</table>", max_width=260),
        ).add_to(fg)
    fg.add_to(m)
    return fg


def _catchment_hulls(
    result: CoverageResult, base: BaseLayers, *, type_key: str
) -> gpd.GeoDataFrame:
    res = result.residents
    res = res[(res["type"] == type_key) & res["covered"].astype(bool) & res["facility_id"].notna()]
    pts = base.villages.set_index("code")
    rows = []
    for fid, part in res.groupby("facility_id"):
        codes = [c for c in part["village_code"].unique() if c in pts.index]
        geoms = [shapely.Point(pts.at[c, "lon"], pts.at[c, "lat"]) for c in codes]
        geoms = [g for g in geoms if not math.isnan(g.x)]
        if geoms:
            hull = shapely.convex_hull(shapely.union_all(geoms)).buffer(_HULL_PAD_DEG)
            rows.append({"facility_id": int(cast(float, fid)), "geometry": hull})
    if not rows:
        return gpd.GeoDataFrame({"facility_id": []}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _areas(
    m: folium.Map, result: CoverageResult, base: BaseLayers, *, type_key: str, config: Config
) -> str:
    iso = result.isochrones
    tc = result.type(type_key)
    if not iso.empty and (iso["type"] == type_key).any():
        shapes = iso[iso["type"] == type_key][["minutes", "geometry"]]
        name, note = f"{LAYER_AREAS}（{tc.threshold_min:g} 分钟）", "路网等时圈"
    else:
        shapes = _catchment_hulls(result, base, type_key=type_key)
        name, note = LAYER_HULLS, "各设施可达村社的外包范围（未计算等时圈）"
    if shapes.empty:
        return ""
    fg = folium.FeatureGroup(name=name)
    shapes = simplify(
        gpd.GeoDataFrame(shapes, geometry="geometry", crs="EPSG:4326"),
        metres=config.maps.simplify_m,
    )
    folium.GeoJson(
        shift_frame(shapes, config=config),
        style_function=lambda _: {
            "color": FACILITY_COLOUR,
            "weight": 0.6,
            "opacity": 0.5,
            "fillColor": FACILITY_COLOUR,
            "fillOpacity": 0.12,
        },
    ).add_to(fg)
    fg.add_to(m)
    return note


def _problems(
    m: folium.Map,
    villages: gpd.GeoDataFrame,
    result: CoverageResult,
    *,
    config: Config,
    min_count: int | None,
) -> None:
    uncovered = villages[villages["uncovered"] > 0]
    fg = folium.FeatureGroup(name=LAYER_UNCOVERED)
    if not uncovered.empty:
        folium.GeoJson(
            shift_frame(uncovered[["name", "geometry"]], config=config),
            style_function=lambda _: {"color": UNCOVERED_COLOUR, "weight": 3, "fillOpacity": 0},
            marker=folium.CircleMarker(radius=9, fill=False),
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(fg)
    fg.add_to(m)
    off = {e["code"] for e in result.off_network if e.get("kind") == "village" and "code" in e}
    off |= {e["village_code"] for e in result.off_network if e.get("kind") == "resident"}
    fg = folium.FeatureGroup(name=LAYER_OFF_NETWORK)
    pts = villages.set_index("code")
    for code in sorted(off):
        if code not in pts.index or math.isnan(float(pts.at[code, "lon"])):
            continue
        r = pts.loc[code]
        folium.Marker(
            shift_xy(float(r["lon"]), float(r["lat"]), config=config),
            icon=folium.Icon(prefix="fa", icon="road-circle-xmark", color="purple"),
            tooltip=f"{r['name']}：距路网超过 {result.snap_max_m or 0:g} 米，按不可达计",
        ).add_to(fg)
    fg.add_to(m)


def _not_located_note(result: CoverageResult, *, min_count: int | None) -> str:
    if not result.not_located:
        return ""
    names = "、".join(
        f"{e['village_name']}（{count_text(e['count'], min_count=min_count)} 人）"
        for e in result.not_located
    )
    return f"未定位（无点位、无边界，图上无法显示）：{names}"


def coverage_map(
    result: CoverageResult,
    *,
    base: BaseLayers,
    config: Config,
    type_key: str,
    min_count: int | None,
    m: folium.Map | None = None,
) -> folium.Map:
    """The coverage of one facility type on the district's map.

    Parameters
    ----------
    result
        A coverage run that includes ``type_key`` (with ``isochrones`` for the
        service areas; otherwise the facilities' catchment hulls are drawn).
    base
        The district's base layers.
    config
        ``[maps]`` (classes, colours, radii), the facility types' labels.
    type_key
        The facility type (``[facility_types.<key>]``).
    min_count
        Counts of 1..min_count-1 persons are shown as ``<min_count`` (planners,
        leaders); None shows every count (admin, outreach).
    m
        Draw on this map (else a new :func:`~maps.base.base_map`).

    Returns
    -------
    folium.Map
        With the layers 村社覆盖率, 服务范围…, 设施, 有未覆盖人员的村社, 距路网过远,
        a legend and the layer control.

    Raises
    ------
    InputError
        When ``type_key`` is not in the result (the message lists those that are).
    """
    check_type(result, type_key)
    m = m if m is not None else base_map(base, config=config)
    tc = result.type(type_key)
    villages = village_figures(result, base, type_key=type_key)
    _choropleth(m, villages, config=config, label=tc.label, min_count=min_count)
    area_note = _areas(m, result, base, type_key=type_key, config=config)
    fac = result.facilities[result.facilities["type"] == type_key]
    facility_layer(m, fac, config=config, name=f"{LAYER_FACILITIES}：{tc.label}")
    _problems(m, villages, result, config=config, min_count=min_count)
    notes = [n for n in (area_note, _not_located_note(result, min_count=min_count)) if n]
    add_legend(
        m,
        "图例",
        [
            (FACILITY_COLOUR, f"{tc.label}（圆面积按容量）"),
            (UNCOVERED_COLOUR, "有未覆盖人员的村社（红框）"),
            (OFF_NETWORK_COLOUR, "距路网过远的村社"),
        ],
        kind="dot",
        note="；".join(notes),
        position="bottomright",
    )
    add_layer_control(m)
    return m
