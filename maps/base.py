"""The base of every map: the district outline, towns, villages and roads, from the store.

No tiles by default (an intranet has no tile server): :func:`base_map` draws
our own simplified geometry on a light background. :func:`load_base` reads it
once per data version (:meth:`planner.store.core.Store.data_version`) and keeps
it, so that a web page does not re-read and re-simplify the villages per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from shapely.geometry import LineString, MultiLineString

from geo.errors import CoverplanError
from geo.graph import RoadNetwork
from maps.draw import add_banner, add_layer_control, esc, shift_frame, shift_xy
from planner.networks import NETWORK_META_KEY, NetworkCache, load_network
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import villages_frame

__all__ = ["BaseLayers", "base_map", "load_base", "roads_frame", "simplify"]

#: ``district_source`` of the demo store (synthetic data).
DEMO_SOURCE = "demo"
#: Base layers kept in memory (per store and data version).
_CACHED = 4
#: km/h per (metres / second).
_KMH_PER_MS = 3.6
#: Degrees of padding around a district given by points only (about 1 km).
_POINT_PAD_DEG = 0.01

LAYER_DISTRICT = "区界"
LAYER_TOWNS = "镇街"
LAYER_VILLAGES = "村社"
LAYER_ROADS = "道路"


@dataclass(frozen=True)
class BaseLayers:
    """The base geometry of a district's maps, WGS-84 and simplified.

    Attributes
    ----------
    name
        The district's name.
    synthetic
        The data are synthetic (the demo store, or synthetic village geometry):
        every map shows the banner 「演示数据（合成），非真实人员」.
    district
        One row: the outline (union of the village polygons; around the points
        when there are none).
    towns
        ``code, name, geometry`` (union of their villages' polygons; points
        when a town has none).
    villages
        ``code, name, town_code, town_name, lon, lat, geometry`` (polygon, or
        point, or None when not located); ``lon``/``lat``: the village's point.
    roads
        LineStrings of the registered drive network (``kmh``: speed); empty
        without a network.
    """

    name: str
    synthetic: bool
    district: gpd.GeoDataFrame
    towns: gpd.GeoDataFrame
    villages: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` of the district, degrees."""
        boxes = [
            np.asarray(f.total_bounds, dtype=float)
            for f in (self.district, self.villages)
            if not f.empty and f.geometry.notna().any()
        ]
        if not boxes:
            return (0.0, 0.0, 0.0, 0.0)
        b = np.vstack(boxes)
        return (
            float(b[:, 0].min()),
            float(b[:, 1].min()),
            float(b[:, 2].max()),
            float(b[:, 3].max()),
        )


def simplify(frame: gpd.GeoDataFrame, *, metres: float, metric: Any = None) -> gpd.GeoDataFrame:
    """``frame`` (WGS-84) with its geometry simplified to ``metres``, in a local
    metric CRS (``metric``, else the frame's UTM zone)."""
    if frame.empty or metres <= 0 or frame.geometry.isna().all():
        return frame
    out = frame.to_crs(metric if metric is not None else frame.estimate_utm_crs())
    out["geometry"] = out.geometry.simplify(metres, preserve_topology=True)
    return out.to_crs("EPSG:4326")


def _empty(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")


def _outline(geoms: gpd.GeoSeries) -> shapely.Geometry | None:
    """The union of the polygons, and of the padded hull of the villages given by
    a point only (None without any geometry)."""
    polys = [g for g in geoms if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    pts = [g for g in geoms if g is not None and g.geom_type == "Point"]
    parts = list(polys)
    if pts:
        parts.append(shapely.convex_hull(shapely.union_all(pts)).buffer(_POINT_PAD_DEG))
    return shapely.union_all(parts) if parts else None


def roads_frame(network: RoadNetwork, *, config: Config) -> gpd.GeoDataFrame:
    """The network's road segments as merged LineStrings (``kmh``), simplified.

    Each pair of linked nodes is one straight segment; with more than ``[maps]
    roads_max_segments`` segments only those of at least ``roads_main_kmh`` are kept.
    """
    coo = network.seconds.tocoo()
    metres = network.metres.tocoo()
    u, v = np.minimum(coo.row, coo.col), np.maximum(coo.row, coo.col)
    kmh = np.where(coo.data > 0, metres.data / np.maximum(coo.data, 1e-9) * _KMH_PER_MS, 0.0)
    seg = pd.DataFrame({"u": u, "v": v, "kmh": kmh}).groupby(["u", "v"], as_index=False).max()
    if len(seg) > config.maps.roads_max_segments:
        seg = seg[seg["kmh"] >= config.maps.roads_main_kmh]
    if seg.empty:
        return _empty(["kmh"])
    lines = []
    for speed, part in seg.groupby(np.floor(seg["kmh"] / 10) * 10):
        ends = part[["u", "v"]].to_numpy()
        coords = np.stack(
            [
                np.column_stack([network.lon[ends[:, 0]], network.lat[ends[:, 0]]]),
                np.column_stack([network.lon[ends[:, 1]], network.lat[ends[:, 1]]]),
            ],
            axis=1,
        )
        merged = shapely.line_merge(MultiLineString([LineString(c) for c in coords]))
        parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
        lines += [(float(speed), g) for g in parts]
    frame = gpd.GeoDataFrame(
        {"kmh": [s for s, _ in lines]}, geometry=[g for _, g in lines], crs="EPSG:4326"
    )
    return simplify(frame, metres=config.maps.simplify_m)


def _roads(store: Store, *, config: Config, networks: NetworkCache | None) -> gpd.GeoDataFrame:
    if not store.get_meta(NETWORK_META_KEY):
        return _empty(["kmh"])
    try:
        build = load_network(store, config=config, mode="drive", cache=networks)
    except CoverplanError:  # a missing or broken file: the map is drawn without roads
        return _empty(["kmh"])
    return roads_frame(build.network, config=config)


def _read(store: Store, *, config: Config, networks: NetworkCache | None) -> BaseLayers:
    vf = villages_frame(store)
    tol = config.maps.simplify_m
    villages = gpd.GeoDataFrame(
        vf[["code", "name", "town_code", "town_name", "lon", "lat"]].copy(),
        geometry=vf.geometry.values,
        crs="EPSG:4326",
    )
    located = villages[villages.geometry.notna()]
    towns_rows = []
    for (code, name), part in located.groupby(["town_code", "town_name"], sort=True):
        towns_rows.append({"code": code, "name": name, "geometry": _outline(part.geometry)})
    towns = (
        gpd.GeoDataFrame(towns_rows, geometry="geometry", crs="EPSG:4326")
        if towns_rows
        else _empty(["code", "name"])
    )
    outline = _outline(located.geometry)
    district = (
        gpd.GeoDataFrame({"name": [""]}, geometry=[outline], crs="EPSG:4326")
        if outline is not None
        else _empty(["name"])
    )
    name = store.get_meta("district_name") or ""
    district["name"] = name
    metric = located.estimate_utm_crs() if not located.empty else None
    synthetic = store.get_meta("district_source") == DEMO_SOURCE or bool(vf["synthetic"].any())
    return BaseLayers(
        name=name,
        synthetic=synthetic,
        district=simplify(district, metres=tol, metric=metric),
        towns=simplify(towns, metres=tol, metric=metric),
        villages=simplify(villages, metres=tol, metric=metric),
        roads=_roads(store, config=config, networks=networks),
    )


_cache: OrderedDict[tuple[str, str, str], BaseLayers] = OrderedDict()
_lock = threading.Lock()


def load_base(store: Store, *, config: Config, networks: NetworkCache | None = None) -> BaseLayers:
    """The district's base layers, read from the store (cached per data version).

    Parameters
    ----------
    store
        The district (villages, towns, its registered road network, meta).
    config
        ``[maps]`` (``simplify_m`` metres, roads), ``[network] drive``.
    networks
        Road networks already loaded in this process (None: load from disk).

    Returns
    -------
    BaseLayers
        Outline, towns, villages, roads (WGS-84, simplified).
    """
    settings = config.maps.model_dump_json() + config.network.drive.model_dump_json()
    key = (store.display_url, store.data_version(), settings)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    base = _read(store, config=config, networks=networks)
    with _lock:
        _cache[key] = base
        while len(_cache) > _CACHED:
            _cache.popitem(last=False)
    return base


def _figure(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure)
    return root


def _background(m: folium.Map, colour: str) -> None:
    style = f"<style>#{m.get_name()} {{ background: {esc(colour)}; }}</style>"
    _figure(m).header.add_child(Element(style))


def _attribution(m: folium.Map, text: str) -> None:
    div = (
        "<div style='position:absolute;bottom:2px;right:4px;z-index:1000;font:11px sans-serif;"
        f"background:rgba(255,255,255,0.8);padding:0 4px'>{esc(text)}</div>"
    )
    _figure(m).html.add_child(Element(div))


def _fit(m: folium.Map, base: BaseLayers, *, config: Config) -> None:
    w, s, e, n = base.bounds
    if (w, s, e, n) == (0.0, 0.0, 0.0, 0.0):
        return
    (s, w), (n, e) = shift_xy(w, s, config=config), shift_xy(e, n, config=config)
    m.fit_bounds([[s, w], [n, e]])


def base_map(base: BaseLayers, *, config: Config, m: folium.Map | None = None) -> folium.Map:
    """A map of the district with its base layers (no tiles unless ``[maps] tile_url``).

    Parameters
    ----------
    base
        From :func:`load_base`.
    config
        ``[maps]``: background colour, tile URL, its CRS and attribution.
    m
        Draw on this map instead of a new one.

    Returns
    -------
    folium.Map
        With the layers 区界, 镇街, 村社 and 道路 (when there are roads) and the
        layer control, fitted to the district, and the synthetic-data banner
        when ``base.synthetic``.
    """
    if m is None:
        w, s, e, n = base.bounds
        m = folium.Map(
            location=[(s + n) / 2, (w + e) / 2],
            zoom_start=10,
            tiles=None,
            attribution_control=False,
            control_scale=True,
        )
        _background(m, config.maps.background)
        _fit(m, base, config=config)
    mc = config.maps
    if mc.tile_url:
        folium.TileLayer(
            tiles=mc.tile_url, attr=mc.tile_attribution or " ", name="底图", overlay=False
        ).add_to(m)
        if mc.tile_attribution:
            _attribution(m, mc.tile_attribution)
    _base_layers(m, base, config=config)
    if base.synthetic:
        add_banner(m)
    add_layer_control(m)
    return m


def _base_layers(m: folium.Map, base: BaseLayers, *, config: Config) -> None:
    if not base.district.empty:
        fg = folium.FeatureGroup(name=LAYER_DISTRICT)
        folium.GeoJson(
            shift_frame(base.district, config=config),
            style_function=lambda _: {"color": "#333333", "weight": 2.5, "fillOpacity": 0},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(fg)
        fg.add_to(m)
    if not base.towns.empty:
        fg = folium.FeatureGroup(name=LAYER_TOWNS)
        towns = shift_frame(base.towns, config=config)
        folium.GeoJson(
            towns,
            style_function=lambda _: {
                "color": "#555555",
                "weight": 1.5,
                "dashArray": "4 3",
                "fillOpacity": 0,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        ).add_to(fg)
        for row in towns.itertuples():
            if row.geometry is None:
                continue
            p = row.geometry.representative_point()
            folium.Marker(
                [p.y, p.x],
                icon=folium.DivIcon(
                    html=f"<div class='coverplan-town-label' style='font:bold 12px sans-serif;"
                    f"color:#444;white-space:nowrap;transform:translate(-50%,-50%)'>"
                    f"{esc(row.name)}</div>",
                    icon_size=(0, 0),
                ),
            ).add_to(fg)
        fg.add_to(m)
    villages = base.villages[base.villages.geometry.notna()]
    if not villages.empty:
        fg = folium.FeatureGroup(name=LAYER_VILLAGES, show=True)
        folium.GeoJson(
            shift_frame(villages[["code", "name", "town_name", "geometry"]], config=config),
            style_function=lambda _: {
                "color": "#999999",
                "weight": 0.6,
                "fillColor": "#ffffff",
                "fillOpacity": 0.35,
                "radius": 3,
            },
            marker=folium.CircleMarker(radius=3),
            tooltip=folium.GeoJsonTooltip(
                fields=["name", "town_name"], aliases=["村社", "镇街"], labels=True
            ),
        ).add_to(fg)
        fg.add_to(m)
    if not base.roads.empty:
        fg = folium.FeatureGroup(name=LAYER_ROADS)
        folium.GeoJson(
            shift_frame(base.roads, config=config),
            style_function=lambda f: {
                "color": "#b0a48a",
                "weight": 2 if f["properties"]["kmh"] >= config.maps.roads_main_kmh else 1,
                "opacity": 0.9,
            },
        ).add_to(fg)
        fg.add_to(m)
