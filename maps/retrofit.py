"""The retrofit map: this year's household retrofits per village, and the
accessible-community candidates."""

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
from planner.services.types import RetrofitPlan
from planner.settings import Config

__all__ = ["retrofit_map"]

LAYER_SELECTED = "本年改造户数"
LAYER_CANDIDATES = "候选户数"
LAYER_COMMUNITIES = "无障碍社区候选"
COMMUNITY_COLOUR = "#1f78b4"


def _counts(plan: RetrofitPlan) -> pd.DataFrame:
    hh = plan.households
    if hh.empty:
        return pd.DataFrame(columns=["village_code", "selected", "candidates"])
    return (
        hh.assign(sel=hh["selected"].astype(bool))
        .groupby("village_code")
        .agg(selected=("sel", "sum"), candidates=("sel", "size"))
        .reset_index()
    )


def _communities(
    m: folium.Map,
    plan: RetrofitPlan,
    geo: gpd.GeoDataFrame,
    *,
    config: Config,
    min_count: int | None,
) -> None:
    com = plan.communities
    cols = ["village_code", "beneficiaries"]
    cv = geo.merge(
        com[cols] if len(com) else pd.DataFrame(columns=cols),
        left_on="code",
        right_on="village_code",
        how="inner",
    )
    village_circles(
        m,
        cv,
        column="beneficiaries",
        name=LAYER_COMMUNITIES,
        colour=COMMUNITY_COLOUR,
        config=config,
        min_count=min_count,
        label="受益人数",
    )


def retrofit_map(
    plan: RetrofitPlan,
    *,
    base: BaseLayers,
    config: Config,
    min_count: int | None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Households to retrofit this year per village (shaded), candidates and the
    accessible-community candidates (circles by beneficiaries).

    Parameters
    ----------
    plan
        The year's retrofit plan (:func:`planner.services.retrofit`).
    base
        The district's base layers.
    config
        ``[maps]``.
    min_count
        Counts of 1..min_count-1 households or persons shown as ``<min_count``
        (every role but outreach and admin); None: every count.
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layers 本年改造户数, 候选户数, 无障碍社区候选, legends, the layer control.
    """
    m = m if m is not None else base_map(base, config=config)
    geo = base.villages[base.villages.geometry.notna()]
    v = geo.merge(_counts(plan), left_on="code", right_on="village_code", how="left")
    v[["selected", "candidates"]] = v[["selected", "candidates"]].fillna(0).astype(int)
    bins, used, items = count_classes(
        v["selected"], colours=config.maps.count_colours, min_count=min_count, unit="户"
    )
    shown = gpd.GeoDataFrame(
        v.assign(
            fill=[
                "#ffffff" if n <= 0 else class_colour(n, bins=bins, colours=used)
                for n in v["selected"]
            ],
            text=[count_text(n, min_count=min_count) for n in v["selected"]],
            popup=[
                f"<b>{esc(r['town_name'])} {esc(r['name'])}</b><br>"
                f"本年改造：{esc(count_text(r['selected'], min_count=min_count))} 户<br>"
                f"候选：{esc(count_text(r['candidates'], min_count=min_count))} 户"
                for _, r in v.iterrows()
            ],
        ),
        geometry="geometry",
        crs="EPSG:4326",
    )
    shaded_layer(
        m, shown, name=LAYER_SELECTED, tooltip={"name": "村社", "text": "改造户数"}, config=config
    )
    village_circles(
        m,
        v,
        column="candidates",
        name=LAYER_CANDIDATES,
        colour="#fdbf6f",
        config=config,
        min_count=min_count,
        label="候选户数",
        show=False,
    )
    _communities(m, plan, geo, config=config, min_count=min_count)
    note = f"{plan.year} 年入选 {len(plan.selected)} 户（名额 {plan.quota}）"
    if min_count is not None:
        note += f"；1–{min_count - 1} 显示为 <{min_count}"
    add_legend(m, "家庭无障碍改造（本年入选户数）", items, note=note)
    add_legend(
        m,
        "图例",
        [(COMMUNITY_COLOUR, "无障碍社区候选（圆面积按受益人数）"), ("#fdbf6f", "候选户数")],
        kind="dot",
        position="bottomright",
    )
    add_layer_control(m)
    return m
