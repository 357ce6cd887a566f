"""The what-if map: after the leader's changes, each village shaded by the share of
its eligible people served within capacity, and each site coloured by its
state (places short of demand, full, places to spare, closed), new sites marked."""

from __future__ import annotations

import json
from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from maps.base import BaseLayers, base_map
from maps.draw import (
    add_layer_control,
    add_legend,
    class_colour,
    class_labels,
    count_text,
    esc,
    pct_text,
    shaded_layer,
    shift_xy,
)
from planner.services.whatif_types import Candidate, SiteRow, WhatIfFigures
from planner.settings import Config

__all__ = ["SITE_COLOURS", "whatif_map"]

LAYER_VILLAGES = "村社服务情况"
LAYER_SITES = "站点（名额）"
LAYER_CANDIDATES = "候选点（点击可新增）"
CANDIDATE_COLOUR = "#6a3d9a"
#: What a button in a popup sends to the page around the frame (the leader's
#: what-if page applies it, as its own buttons do).
_MESSAGE = (
    "parent.postMessage({{coverplan: 'whatif', action: '{action}', site: {site}}}, location.origin)"
)
#: Site state → (colour, Chinese label).
SITE_COLOURS = {
    "shortage": ("#d7301f", "名额不足"),
    "full": ("#fd8d3c", "名额已满"),
    "spare": ("#1a9850", "尚有余额"),
    "closed": ("#969696", "已关闭"),
}


def _villages(figures: WhatIfFigures, *, min_count: int | None) -> pd.DataFrame:
    rows = []
    for v in figures.villages:
        travellers = v.eligible - v.home_service
        pct = None if travellers <= 0 else 100.0 * v.served / travellers
        rows.append(
            {
                "code": v.code,
                "pct": pct,
                "text": pct_text(pct),
                "popup": (
                    f"<b>{esc(v.town)} {esc(v.name)}</b><br>"
                    f"持证人数：{esc(count_text(v.eligible, min_count=min_count))}<br>"
                    f"已获服务：{esc(count_text(v.served, min_count=min_count))}<br>"
                    f"可达但无名额：{esc(count_text(v.in_reach_no_place, min_count=min_count))}<br>"
                    f"不可达：{esc(count_text(v.out_of_reach, min_count=min_count))}"
                ),
            }
        )
    return pd.DataFrame(rows, columns=["code", "pct", "text", "popup"])


def _button(action: str, site: str, label: str) -> str:
    """A popup button asking the page to apply a change (the site code as a JS string)."""
    code = json.dumps(site).replace('"', "&quot;")
    onclick = _MESSAGE.format(action=action, site=code)
    return f'<button type="button" class="wi-map-btn" onclick="{onclick}">{esc(label)}</button>'


def _candidates(m: folium.Map, candidates: Sequence[Candidate], *, config: Config) -> None:
    """The candidate points not opened yet, each with a 「在此新增」 button."""
    fg = folium.FeatureGroup(name=LAYER_CANDIDATES)
    for c in candidates:
        if c.kind == "facility" or c.status != "closed":
            continue
        html = (
            f"<b>{esc(c.town_name or '')} {esc(c.name)}</b><br>{_button('add', c.code, '在此新增')}"
        )
        folium.CircleMarker(
            location=shift_xy(c.lon, c.lat, config=config),
            radius=4,
            color=CANDIDATE_COLOUR,
            weight=1,
            fill=True,
            fill_opacity=0.6,
            tooltip=f"候选：{c.name}",
            popup=folium.Popup(html, max_width=260),
        ).add_to(fg)
    fg.add_to(m)


def _site_popup(s: SiteRow, *, label: str, places: str, min_count: int | None) -> str:
    buttons = (
        _button("add", s.code, "重开")
        if s.is_closed
        else _button("remove", s.code, "关闭") + " " + _button("upgrade", s.code, "扩容")
    )
    return (
        f"<b>{'★新建 ' if s.is_new else ''}{esc(s.name)}</b><br>{esc(label)}；名额 {places}，"
        f"需求 {esc(count_text(s.demand, min_count=min_count))}，"
        f"已分配 {esc(count_text(s.assigned, min_count=min_count))}<br>{buttons}"
    )


def whatif_map(
    figures: WhatIfFigures,
    *,
    base: BaseLayers,
    config: Config,
    min_count: int | None,
    candidates: Sequence[Candidate] = (),
    m: folium.Map | None = None,
) -> folium.Map:
    """Villages shaded by the percent of travellers served within capacity, sites
    coloured by state (new ones with a star), popups with the split served / in
    reach but no place / out of reach.

    Parameters
    ----------
    figures
        The what-if's figures after the changes (:meth:`WhatIf.figures`).
    base
        The district's base layers.
    config
        ``[maps]``.
    min_count
        Counts of 1..min_count-1 persons shown as ``<min_count`` (None: as they are).
    candidates
        The what-if's candidates (:meth:`WhatIf.candidates`): those not opened are
        drawn with a 「在此新增」 button; every site's popup has 关闭 / 扩容 (or
        重开). A button posts ``{coverplan: "whatif", action, site}`` to the page
        around the frame, which applies it.
    m
        Draw on this map (else a new base map).

    Returns
    -------
    folium.Map
        Layers 村社服务情况, 站点（名额） and 候选点（点击可新增）, legends and the
        layer control.
    """
    m = m if m is not None else base_map(base, config=config)
    bins, colours = config.maps.coverage_bins, config.maps.coverage_colours
    geo = base.villages[base.villages.geometry.notna()]
    v = geo.merge(_villages(figures, min_count=min_count), on="code", how="inner")
    shown = gpd.GeoDataFrame(
        v.assign(fill=[class_colour(p, bins=bins, colours=colours) for p in v["pct"]]),
        geometry="geometry",
        crs="EPSG:4326",
    )
    shaded_layer(
        m, shown, name=LAYER_VILLAGES, tooltip={"name": "村社", "text": "获服务比例"}, config=config
    )
    add_legend(
        m,
        "获服务比例（可达且有名额）",
        list(zip(colours, class_labels(bins), strict=True)),
        note="点击村社看三类人数",
    )
    fg = folium.FeatureGroup(name=LAYER_SITES)
    for s in figures.sites:
        colour, label = SITE_COLOURS[s.status]
        places = "—" if s.places is None else str(s.places)
        tip = (
            f"{'★新建 ' if s.is_new else ''}{s.name}：{label}，名额 {places}，"
            f"需求 {count_text(s.demand, min_count=min_count)}"
        )
        folium.CircleMarker(
            location=shift_xy(s.lon, s.lat, config=config),
            radius=9 if s.is_new else 7,
            color="#000000" if s.is_new else "#333333",
            weight=3 if s.is_new else 1,
            fill=True,
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=tip,
            popup=folium.Popup(
                _site_popup(s, label=label, places=places, min_count=min_count), max_width=300
            ),
        ).add_to(fg)
    fg.add_to(m)
    _candidates(m, candidates, config=config)
    add_legend(
        m,
        "站点状态",
        [(c, lbl) for c, lbl in SITE_COLOURS.values()],
        kind="dot",
        note="粗黑边：新建站点",
        position="bottomright",
    )
    add_layer_control(m)
    return m
