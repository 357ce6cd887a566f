"""What every map shares: display coordinates, legends, the banner, the layer
control, suppressed counts, colour classes and a few drawing helpers.

Coordinates are WGS-84 lon/lat everywhere in the product; a map whose tiles are
GCJ-02 (``[maps] tile_crs = "gcj02"``, Amap/Tencent) draws every overlay shifted
to GCJ-02 (:func:`shift_xy`, :func:`shift_frame`), so that it sits on the tiles.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Iterable, Sequence

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from geo.crs import from_wgs84
from planner.settings import Config

__all__ = [
    "BANNER_TEXT",
    "NO_DATA_COLOUR",
    "Banner",
    "Legend",
    "add_banner",
    "add_layer_control",
    "add_legend",
    "class_colour",
    "class_labels",
    "count_bins",
    "count_classes",
    "count_labels",
    "count_text",
    "esc",
    "layer_names",
    "pct_text",
    "radius",
    "shaded_layer",
    "shift_frame",
    "shift_xy",
    "village_circles",
]

#: The banner of a map drawn on synthetic (demo) data.
BANNER_TEXT = "演示数据（合成），非真实人员"
#: Shown instead of a count of 1..min_count-1 persons.
SUPPRESSED = "<{n}"


def esc(value: object) -> str:
    """``value`` as HTML text (None: empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def _js(value: object) -> str:
    """A JavaScript literal of ``value`` (Chinese kept readable, ``</`` escaped)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


# ------------------------------------------------------------------ coordinates


def shift_xy(lon: float, lat: float, *, config: Config) -> tuple[float, float]:
    """The display position of a WGS-84 point: ``(lat, lon)`` as Leaflet wants it,
    shifted to GCJ-02 when the tiles are (``[maps] tile_crs``)."""
    if config.maps.tile_crs == "gcj02":
        x, y = from_wgs84([lon], [lat], crs="gcj02")
        return float(y[0]), float(x[0])
    return float(lat), float(lon)


def _to_gcj02(coords: np.ndarray) -> np.ndarray:
    if not len(coords):
        return coords
    x, y = from_wgs84(coords[:, 0], coords[:, 1], crs="gcj02")
    return np.column_stack([x, y])


def shift_frame(frame: gpd.GeoDataFrame, *, config: Config) -> gpd.GeoDataFrame:
    """``frame`` with its geometry in display coordinates (GCJ-02 when the tiles are)."""
    if config.maps.tile_crs != "gcj02" or frame.empty:
        return frame
    out = frame.copy()
    out["geometry"] = shapely.transform(np.asarray(frame.geometry.values), _to_gcj02)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=frame.crs)


# ------------------------------------------------------------------ counts and colours


def count_text(value: object, *, min_count: int | None) -> str:
    """A person count as shown: ``<5`` for 1..min_count-1 when ``min_count`` is
    given, ``—`` when unknown, else the number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    n = int(value)  # type: ignore[call-overload]
    if min_count is not None and 0 < n < min_count:
        return SUPPRESSED.format(n=min_count)
    return str(n)


def pct_text(value: object) -> str:
    """A percent with one decimal (``—`` when unknown)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.1f}%"  # type: ignore[arg-type]


def class_colour(value: float | None, *, bins: Sequence[float], colours: Sequence[str]) -> str:
    """The colour of ``value``'s class: ``colours[i]`` for the i-th interval of
    ``bins`` (left-closed); grey for no value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA_COLOUR
    i = int(np.searchsorted(np.asarray(bins, dtype=float), float(value), side="right"))
    return colours[min(i, len(colours) - 1)]


#: Fill of a feature without a value.
NO_DATA_COLOUR = "#d9d9d9"


def class_labels(bins: Sequence[float], *, unit: str = "%") -> list[str]:
    """Chinese labels of the classes of ``bins``: ``<50%``, ``50–80%``, …, ``≥95%``."""
    if not bins:
        return ["全部"]
    out = [f"<{bins[0]:g}{unit}"]
    out += [f"{a:g}–{b:g}{unit}" for a, b in itertools.pairwise(bins)]
    out.append(f"≥{bins[-1]:g}{unit}")
    return out


def count_bins(
    values: Iterable[float], *, classes: int, min_count: int | None = None
) -> list[float]:
    """Up to ``classes - 1`` whole class limits for counts (quantiles of the
    positives). With ``min_count``, the first class is 1..min_count-1 whole (a
    village's colour never tells a suppressed count)."""
    pos = np.array([v for v in values if v is not None and not math.isnan(v) and v > 0], float)
    if not len(pos) or classes < 2:
        return []
    qs = np.quantile(pos, np.linspace(0, 1, classes + 1)[1:-1])
    limits = sorted({max(2.0, float(math.ceil(q))) for q in qs})
    if min_count is not None and min_count > 1:
        limits = sorted({float(min_count), *(b for b in limits if b > min_count)})
    return limits[: classes - 1]


def count_labels(bins: Sequence[float], *, unit: str = "人") -> list[str]:
    """Chinese labels of the count classes of ``bins`` (whole numbers from 1)."""
    edges = [1.0, *bins]
    out = []
    for a, b in zip(edges, bins, strict=False):
        out.append(f"{a:g} {unit}" if b - 1 <= a else f"{a:g}–{b - 1:g} {unit}")
    out.append(f"≥{edges[-1]:g} {unit}")
    return out


def count_classes(
    values: Iterable[float], *, colours: Sequence[str], min_count: int | None, unit: str = "人"
) -> tuple[list[float], list[str], list[tuple[str, str]]]:
    """Class limits, the colours used (the darkest ones) and the legend rows
    (``无`` in white first) of positive counts."""
    bins = count_bins(values, classes=len(colours), min_count=min_count)
    used = list(colours[len(colours) - len(bins) - 1 :])
    items = [("#ffffff", "无"), *zip(used, count_labels(bins, unit=unit), strict=True)]
    return bins, used, items


def radius(value: float | None, *, largest: float, config: Config) -> float:
    """Circle radius in pixels: area in proportion to ``value`` / ``largest``
    (``[maps] radius_min_px`` … ``radius_max_px``; unlimited or unknown: largest)."""
    lo, hi = config.maps.radius_min_px, config.maps.radius_max_px
    if value is None or math.isnan(value) or math.isinf(value) or largest <= 0:
        return hi
    share = min(max(value / largest, 0.0), 1.0)
    return lo + (hi - lo) * math.sqrt(share)


# ------------------------------------------------------------------ controls


class Legend(MacroElement):
    """A legend box in a map corner (a Leaflet control; plain HTML, no d3).

    Parameters
    ----------
    title
        Heading (Chinese).
    items
        ``(colour, label)`` rows; ``kind`` says how the swatch is drawn.
    kind
        ``"box"`` (fill), ``"line"`` or ``"dot"``.
    note
        A line of text under the rows (may be empty).
    position
        Leaflet corner (``bottomleft``, ``bottomright``, …).
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position_js }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create('div', 'coverplan-legend');
                div.innerHTML = {{ this.html_js }};
                div.style.cssText = 'background:rgba(255,255,255,0.92);padding:6px 9px;'
                    + 'font:12px/1.5 sans-serif;border-radius:4px;'
                    + 'box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:260px;';
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(
        self,
        title: str,
        items: Sequence[tuple[str, str]],
        *,
        kind: str = "box",
        note: str = "",
        position: str = "bottomleft",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.items = list(items)
        rows = [f"<div><b>{esc(title)}</b></div>"]
        for colour, label in self.items:
            rows.append(f"<div>{_swatch(colour, kind)} {esc(label)}</div>")
        if note:
            rows.append(f"<div style='color:#555'>{esc(note)}</div>")
        self.html = "".join(rows)
        self.html_js = _js(self.html)
        self.position_js = _js(position)


def _swatch(colour: str, kind: str) -> str:
    c = esc(colour)
    if kind == "line":
        return f"<span style='display:inline-block;width:18px;border-top:3px solid {c}'></span>"
    if kind == "dot":
        return (
            "<span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
            f"background:{c};border:1px solid #333'></span>"
        )
    return (
        "<span style='display:inline-block;width:14px;height:10px;"
        f"background:{c};border:1px solid #777'></span>"
    )


def add_legend(
    m: folium.Map,
    title: str,
    items: Sequence[tuple[str, str]],
    *,
    kind: str = "box",
    note: str = "",
    position: str = "bottomleft",
) -> Legend:
    """Add a :class:`Legend` to ``m`` and return it."""
    legend = Legend(title, items, kind=kind, note=note, position=position)
    legend.add_to(m)
    return legend


class Banner(MacroElement):
    """A strip across the top of the map (the synthetic-data warning)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function () {
            var div = document.createElement('div');
            div.className = 'coverplan-banner';
            div.textContent = {{ this.text_js }};
            div.style.cssText = 'position:absolute;top:8px;left:50%;transform:translateX(-50%);'
                + 'z-index:1000;background:#fff3cd;color:#7a4d00;border:1px solid #e0b84d;'
                + 'padding:3px 12px;border-radius:4px;font:bold 13px sans-serif;'
                + 'pointer-events:none;';
            {{ this._parent.get_name() }}.getContainer().appendChild(div);
        })();
        {% endmacro %}"""
    )

    def __init__(self, text: str = BANNER_TEXT) -> None:
        super().__init__()
        self._name = "Banner"
        self.text = text
        self.text_js = _js(text)


def add_banner(m: folium.Map, text: str = BANNER_TEXT) -> Banner:
    """Add the synthetic-data :class:`Banner` to ``m`` (once) and return it."""
    for child in m._children.values():
        if isinstance(child, Banner):
            return child
    banner = Banner(text)
    banner.add_to(m)
    return banner


def add_layer_control(m: folium.Map) -> folium.LayerControl:
    """The layer control of ``m`` (expanded), after every layer: an earlier one is
    replaced, so that a map drawn by several builders has one control."""
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
    control = folium.LayerControl(collapsed=False)
    control.add_to(m)
    return control


def layer_names(m: folium.Map) -> list[str]:
    """Names of the map's overlay and base layers, in drawing order."""
    out = []
    for child in m._children.values():
        name = getattr(child, "layer_name", None)
        if isinstance(child, folium.map.Layer) and name:
            out.append(str(name))
    return out


def village_circles(
    m: folium.Map,
    villages: pd.DataFrame,
    *,
    column: str,
    name: str,
    colour: str,
    config: Config,
    min_count: int | None,
    label: str,
    show: bool = True,
) -> folium.FeatureGroup:
    """Circles at the villages' points whose area follows ``villages[column]``
    (persons or households; rows of 0 are left out), with a tooltip
    ``村社: label N`` (N shown as ``<min_count`` when suppressed).

    ``villages``: ``name, town_name, lon, lat`` and ``column`` (WGS-84 points).
    """
    fg = folium.FeatureGroup(name=name, show=show)
    values = pd.to_numeric(villages[column], errors="coerce").fillna(0)
    largest = float(values.max()) if len(values) else 0.0
    for (_, r), value in zip(villages.iterrows(), values, strict=True):
        if value <= 0 or pd.isna(r["lon"]) or pd.isna(r["lat"]):
            continue
        text = f"{r['town_name']} {r['name']}：{label} {count_text(value, min_count=min_count)}"
        folium.CircleMarker(
            location=shift_xy(float(r["lon"]), float(r["lat"]), config=config),
            radius=radius(float(value), largest=largest, config=config),
            color="#333333",
            weight=1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.8,
            tooltip=text,
        ).add_to(fg)
    fg.add_to(m)
    return fg


def shaded_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    *,
    name: str,
    tooltip: dict[str, str],
    config: Config,
    show: bool = True,
    opacity: float = 0.75,
) -> folium.FeatureGroup:
    """Polygons (points drawn as circles) filled with their ``fill`` column.

    ``frame``: WGS-84 geometry, ``fill`` (CSS colour), the ``tooltip`` columns
    (column → Chinese label) and, when present, ``popup`` (HTML). The layer is
    named ``name``.
    """
    cols = list(dict.fromkeys([*tooltip, "fill", "geometry"]))
    has_popup = "popup" in frame.columns
    if has_popup:
        cols.insert(-1, "popup")
    fg = folium.FeatureGroup(name=name, show=show)
    if not frame.empty:
        folium.GeoJson(
            shift_frame(frame[cols], config=config),
            style_function=lambda f: {
                "color": "#666666",
                "weight": 0.7,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": opacity,
            },
            marker=folium.CircleMarker(radius=7, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values())),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False) if has_popup else None,
        ).add_to(fg)
    fg.add_to(m)
    return fg
