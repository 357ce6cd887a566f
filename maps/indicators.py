"""The indicator map: one indicator of the plan's table per town, met or not met."""

from __future__ import annotations

import folium
import geopandas as gpd

from maps.base import BaseLayers, base_map
from maps.draw import NO_DATA_COLOUR, add_layer_control, add_legend, count_text, esc, shift_frame
from planner.domain.indicators import Indicator
from planner.errors import InputError
from planner.services import IndicatorsResult
from planner.settings import Config

__all__ = ["MET_COLOURS", "find_indicator", "indicator_map"]

LAYER_TOWNS = "分镇街指标"
#: Fill per judgement: met, not met, no value.
MET_COLOURS = {True: "#1a9850", False: "#d73027", None: NO_DATA_COLOUR}
MET_ZH = {True: "达标", False: "未达标", None: "无数据或无目标"}


def find_indicator(table: IndicatorsResult, key: str) -> Indicator:
    """The indicator (or policy check) ``key`` of the table.

    Raises
    ------
    InputError
        For an unknown key (the message lists the keys with their names).
    """
    items = (*table.table.indicators, *table.table.policy_checks)
    for i in items:
        if i.key == key:
            return i
    keys = "、".join(f"{i.key}（{i.name}）" for i in items)
    raise InputError(f"没有指标「{key}」；可选：{keys}")


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "无数据"
    return f"{value:.2f}%" if unit == "%" else f"{value:g}{unit}"


def indicator_map(
    table: IndicatorsResult,
    *,
    base: BaseLayers,
    config: Config,
    key: str,
    min_count: int | None,
    m: folium.Map | None = None,
) -> folium.Map:
    """One indicator per town: towns filled by met / not met against the target.

    Parameters
    ----------
    table
        The plan's indicator table (:func:`planner.services.indicators`).
    base
        The district's base layers.
    config
        ``[maps]``.
    key
        The indicator's key (``living_subsidy``, ``home``, …).
    min_count
        Per-town numerators and denominators of 1..min_count-1 shown as
        ``<min_count``; None: every count.
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layer 分镇街指标 (popups: value, 分子/分母, target, judgement), a legend,
        the layer control.

    Raises
    ------
    InputError
        For an unknown indicator key.
    """
    ind = find_indicator(table, key)
    m = m if m is not None else base_map(base, config=config)
    by_town = {t.town_code: t for t in ind.figure.by_town}
    unit = ind.target.unit
    rows = []
    for _, town in base.towns.iterrows():
        tv = by_town.get(town["code"])
        met = None if tv is None else tv.met
        value = None if tv is None else tv.value
        parts = [f"<b>{esc(town['name'])}</b>", esc(ind.name), f"数值：{esc(_value(value, unit))}"]
        if tv is not None and tv.denominator is not None:
            num = count_text(tv.numerator, min_count=min_count)
            den = count_text(tv.denominator, min_count=min_count)
            parts.append(f"分子/分母：{esc(num)}/{esc(den)}")
        parts.append(f"目标：{esc(ind.target.text)}（{esc(ind.kind)}）")
        parts.append(f"判定：{MET_ZH[met]}")
        rows.append(
            {
                "name": town["name"],
                "value": _value(value, unit),
                "fill": MET_COLOURS[met],
                "popup": "<br>".join(parts),
                "geometry": town["geometry"],
            }
        )
    fg = folium.FeatureGroup(name=LAYER_TOWNS)
    if rows:
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
        folium.GeoJson(
            shift_frame(frame, config=config),
            style_function=lambda f: {
                "color": "#444444",
                "weight": 1.2,
                "fillColor": f["properties"]["fill"],
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=["name", "value"], aliases=["镇街", ind.name]),
            popup=folium.GeoJsonPopup(fields=["popup"], labels=False),
        ).add_to(fg)
    fg.add_to(m)
    total = _value(ind.value, unit)
    note = f"全区：{total}；目标 {ind.target.text}；{ind.status}"
    if not ind.figure.by_town:
        note += "；该指标无分镇街数据"
    items = [(MET_COLOURS[k], MET_ZH[k]) for k in (True, False, None)]
    add_legend(m, f"{ind.name}（分镇街）", items, note=note)
    add_layer_control(m)
    return m
