"""One map of a kind, from the store: the services composed with the builders.

The command line (``coverplan map KIND``) and the web pages call
:func:`export_map` with a :class:`MapOptions`; it runs the analysis the kind
needs (coverage, gaps, indicators, siting or a saved scenario, retrofit, the
month's outreach plan) and draws it on the district's base map.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

import folium

from maps.base import BaseLayers, load_base
from maps.coverage import coverage_map
from maps.draw import layer_names
from maps.gaps import gaps_map
from maps.indicators import indicator_map
from maps.outreach import outreach_map
from maps.render import save_standalone, to_html
from maps.retrofit import retrofit_map
from maps.siting import siting_map
from planner.errors import InputError
from planner.networks import NetworkCache
from planner.outreach.month import month_of, next_month
from planner.services import (
    CoverageOptions,
    GapsOptions,
    IndicatorOptions,
    MonthOptions,
    Progress,
    RetrofitOptions,
    SitingOptions,
    coverage,
    gaps,
    indicators,
    no_progress,
    outreach_month,
    retrofit,
    show_scenario,
    site,
)
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import facilities_frame

__all__ = ["KINDS", "KIND_ZH", "MapExport", "MapKind", "MapOptions", "export_map"]

MapKind = Literal["coverage", "gaps", "indicators", "siting", "retrofit", "outreach"]
KINDS: tuple[str, ...] = get_args(MapKind)
#: The kinds' Chinese names (titles, messages).
KIND_ZH = {
    "coverage": "服务覆盖图",
    "gaps": "缺口图",
    "indicators": "指标分镇街图",
    "siting": "选址方案图",
    "retrofit": "无障碍改造图",
    "outreach": "入户路线图",
}
#: The type drawn when none is asked (the 残疾人之家), if configured.
DEFAULT_TYPE = "home"
#: The indicator drawn when none is asked (残疾人之家覆盖率).
DEFAULT_INDICATOR = "home"


@dataclass(frozen=True, kw_only=True)
class MapOptions:
    """Which map to draw.

    Attributes
    ----------
    kind
        ``coverage``, ``gaps``, ``indicators``, ``siting``, ``retrofit`` or ``outreach``.
    type_key
        Facility type (coverage, gaps, siting without a scenario); coverage
        defaults to ``home``, gaps to every type.
    scenario
        A saved siting scenario (siting).
    indicator
        The indicator key (indicators; default ``home``).
    month
        ``YYYY-MM`` (outreach; default next month).
    team, day
        One team (``A``) and/or one day (outreach).
    min_count
        Counts of 1..min_count-1 persons shown as ``<min_count`` (maps for
        planners and leaders); None: every count (admin).
    network
        OSM file instead of the registered one.
    """

    kind: str
    type_key: str | None = None
    scenario: str | None = None
    indicator: str | None = None
    month: str | None = None
    team: str | None = None
    day: date | None = None
    min_count: int | None = None
    network: Path | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            names = "、".join(f"{k}（{KIND_ZH[k]}）" for k in KINDS)
            raise InputError(f"不认识的地图种类「{self.kind}」；可选：{names}")
        if self.min_count is not None and self.min_count < 1:
            raise InputError(f"小数抑制阈值应 ≥ 1（收到 {self.min_count}）")
        if self.month is not None:
            month_of(self.month)

    def check_type(self, config: Config) -> str | None:
        """The facility type, checked against ``[facility_types]`` (None: not given)."""
        key = self.type_key
        if key is not None and key not in config.facility_types:
            known = "、".join(f"{k}（{v.label}）" for k, v in config.facility_types.items())
            raise InputError(f"设施类型「{key}」未配置（--type）；可选：{known}")
        return key


@dataclass(frozen=True)
class MapExport:
    """A drawn map.

    Attributes
    ----------
    kind
        The map's kind.
    title
        Its Chinese title.
    map
        The folium map.
    layers
        Its layers' names, in drawing order.
    """

    kind: str
    title: str
    map: folium.Map
    layers: list[str]

    def html(self, *, static_url: str = "/static/") -> str:
        """The full HTML document, assets under ``static_url`` (:func:`maps.render.to_html`)."""
        return to_html(self.map, static_url=static_url)

    def save(self, path: Path | str) -> Path:
        """Write one standalone HTML file (:func:`maps.render.save_standalone`)."""
        return save_standalone(self.map, path)


def _draw(
    store: Store,
    base: BaseLayers,
    *,
    config: Config,
    options: MapOptions,
    networks: NetworkCache | None,
    progress: Progress,
) -> tuple[folium.Map, str]:
    o, kind, key = options, options.kind, options.check_type(config)
    if kind == "coverage":
        t = key or (
            DEFAULT_TYPE
            if DEFAULT_TYPE in config.facility_types
            else next(iter(config.facility_types))
        )
        cov = coverage(
            store,
            config=config,
            progress=progress,
            networks=networks,
            options=CoverageOptions(types=(t,), isochrones=True, network=o.network),
        )
        m = coverage_map(cov, base=base, config=config, type_key=t, min_count=o.min_count)
        return m, config.facility_label(t)
    if kind == "gaps":
        g = gaps(
            store,
            config=config,
            progress=progress,
            networks=networks,
            options=GapsOptions(types=(key,) if key else None, network=o.network),
        )
        m = gaps_map(g.gaps, base=base, config=config, type_key=key, min_count=o.min_count)
        return m, config.facility_label(key) if key else "各类设施"
    if kind == "indicators":
        table = indicators(
            store,
            config=config,
            progress=progress,
            networks=networks,
            options=IndicatorOptions(network=o.network),
        )
        ind = o.indicator or DEFAULT_INDICATOR
        return indicator_map(table, base=base, config=config, key=ind, min_count=o.min_count), ind
    if kind == "siting":
        if o.scenario is not None:
            sc = show_scenario(store, o.scenario)
            return siting_map(
                sc, base=base, config=config, facilities=facilities_frame(store)
            ), sc.name
        if key is None:
            raise InputError(
                "选址图需要 --scenario 已保存的方案名，或 --type 设施类型（现算一个方案）"
            )
        p = site(
            store,
            config=config,
            progress=progress,
            options=SitingOptions(facility_type=key, network_file=o.network),
        )
        return siting_map(p, base=base, config=config), config.facility_label(key)
    if kind == "retrofit":
        plan = retrofit(store, config=config, options=RetrofitOptions())
        return retrofit_map(plan, base=base, config=config, min_count=o.min_count), str(plan.year)
    year, month = month_of(o.month) if o.month else next_month(date.today())
    mp = outreach_month(
        store,
        config=config,
        progress=progress,
        options=MonthOptions(year=year, month=month, network_path=o.network),
    )
    return outreach_map(mp, base=base, config=config, team=o.team, day=o.day), mp.month


def export_map(
    store: Store,
    *,
    config: Config,
    options: MapOptions,
    networks: NetworkCache | None = None,
    progress: Progress = no_progress,
) -> MapExport:
    """Run the analysis of ``options.kind`` and draw its map.

    Parameters
    ----------
    store
        The district.
    config
        Everything the analysis needs, and ``[maps]``.
    options
        The kind and its choices (type, scenario, indicator, month, team, day,
        suppression).
    networks
        Road networks already loaded in this process (None: load from disk).
    progress
        Told each stage of the analysis.

    Returns
    -------
    MapExport
        The map, its title and its layers.

    Raises
    ------
    InputError
        An unknown type, indicator, team or day; a siting map without a
        scenario or a type.
    ScenarioError, ConfigError, NetworkError, CalendarError
        As the analysis raises them.
    """
    base = load_base(store, config=config, networks=networks)
    m, what = _draw(
        store, base, config=config, options=options, networks=networks, progress=progress
    )
    title = f"{base.name}{KIND_ZH[options.kind]}：{what}"
    return MapExport(kind=options.kind, title=title, map=m, layers=layer_names(m))
