"""The gaps map: villages by unmet demand, split into 可达但无名额 (in reach, no
place left) and 不可达 (out of reach)."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from maps.base import BaseLayers, base_map
from maps.draw import (
    add_layer_control,
    add_legend,
    class_colour,
    count_classes,
    count_text,
    esc,
    shaded_layer,
    village_circles,
)
from planner.errors import InputError
from planner.services.types import Gaps
from planner.settings import Config

__all__ = ["gaps_map"]

LAYER_UNMET = "未满足需求"
LAYER_NO_PLACE = "可达但无名额"
LAYER_OUT_OF_REACH = "不可达"
NO_PLACE_COLOUR = "#ff7f00"
OUT_OF_REACH_COLOUR = "#6a3d9a"
_SPLIT = ("unmet", "in_reach_no_place", "out_of_reach", "off_network", "not_located")


def _per_village(gaps: Gaps, *, type_key: str | None, config: Config) -> pd.DataFrame:
    cov = gaps.coverage
    if type_key is not None:
        if type_key not in config.facility_types:
            raise InputError(
                f"设施类型「{type_key}」未配置；可选：{'、'.join(config.facility_types)}"
            )
        cov = cov[cov["type"] == type_key]
    if cov.empty:
        return pd.DataFrame(columns=["village_code", *_SPLIT])
    return cov.groupby("village_code", as_index=False)[list(_SPLIT)].sum()


def _popup(r: pd.Series, *, what: str, min_count: int | None) -> str:
    rows = [
        ("未满足", r["unmet"]),
        ("可达但无名额", r["in_reach_no_place"]),
        ("不可达", r["out_of_reach"]),
        ("其中距路网过远", r["off_network"]),
    ]
    body = "".join(
        f"<tr><td>{esc(k)}</td><td>{esc(count_text(v, min_count=min_count))}</td></tr>"
        for k, v in rows
    )
    return f"<b>{esc(r['town_name'])} {esc(r['name'])}</b><br>{esc(what)}<table>{body}</table>"


def gaps_map(
    gaps: Gaps,
    *,
    base: BaseLayers,
    config: Config,
    type_key: str | None,
    min_count: int | None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Villages by unmet eligible demand of one facility type (or all types).

    Parameters
    ----------
    gaps
        The coverage gaps (:class:`~planner.coverage.gaps.Gaps`).
    base
        The district's base layers.
    config
        ``[maps]`` colours and radii; the facility types' labels.
    type_key
        One facility type; None: every type summed (persons counted once per type).
    min_count
        Counts of 1..min_count-1 shown as ``<min_count``; None: every count.
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layers 未满足需求 (villages shaded by unmet persons), 可达但无名额 and 不可达
        (circles by persons), a legend and the layer control.

    Raises
    ------
    InputError
        When ``type_key`` is not a configured facility type.
    """
    m = m if m is not None else base_map(base, config=config)
    per = _per_village(gaps, type_key=type_key, config=config)
    what = config.facility_label(type_key) if type_key else "各类设施合计（人次）"
    geo = base.villages[base.villages.geometry.notna()]
    v = geo.merge(per, left_on="code", right_on="village_code", how="left")
    v[list(_SPLIT)] = v[list(_SPLIT)].fillna(0).astype(int)
    bins, used, items = count_classes(
        v["unmet"], colours=config.maps.count_colours, min_count=min_count
    )
    fills = ["#ffffff" if u <= 0 else class_colour(u, bins=bins, colours=used) for u in v["unmet"]]
    shown = gpd.GeoDataFrame(
        v.assign(
            fill=fills,
            popup=[_popup(r, what=what, min_count=min_count) for _, r in v.iterrows()],
            unmet_text=[count_text(u, min_count=min_count) for u in v["unmet"]],
        ),
        geometry="geometry",
        crs="EPSG:4326",
    )
    shaded_layer(
        m,
        shown,
        name=LAYER_UNMET,
        tooltip={"name": "村社", "unmet_text": "未满足"},
        config=config,
        opacity=0.7,
    )
    for column, name, colour in (
        ("in_reach_no_place", LAYER_NO_PLACE, NO_PLACE_COLOUR),
        ("out_of_reach", LAYER_OUT_OF_REACH, OUT_OF_REACH_COLOUR),
    ):
        village_circles(
            m,
            v,
            column=column,
            name=name,
            colour=colour,
            config=config,
            min_count=min_count,
            label=name,
        )
    add_legend(m, f"未满足需求：{what}", items)
    add_legend(
        m,
        "缺口构成（圆面积按人数）",
        [(NO_PLACE_COLOUR, "可达但无名额"), (OUT_OF_REACH_COLOUR, "不可达（超出时限或不通路）")],
        kind="dot",
        note="" if min_count is None else f"1–{min_count - 1} 人显示为 <{min_count}",
        position="bottomright",
    )
    add_layer_control(m)
    return m
