"""示例县 (:mod:`tests.county`) loaded into a store, with every analysis the maps
draw computed once: the test world of the map builders.

Hand-checked figures (see :mod:`tests.county`): 残疾人之家 coverage — 清河社区
3 eligible, 3 covered (100 %); 中岭村 4 eligible, none within 30 minutes
(盘山公路 at 17 km/h); 孤岛村 2 eligible, 3 km from any road (off the network).
生活补贴 per town: 清河街道 2 / 2 (met), 云岭镇 2 / 3 (66.67 %, not met). Retrofit
(quota 122 > 50 candidates: all selected): 竹园村 7 households, 孤岛村 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import pytest
from branca.element import Element

from maps.base import BaseLayers, load_base
from planner.outreach.plan import MonthPlan
from planner.services import (
    CoverageOptions,
    GapsOptions,
    IndicatorOptions,
    IndicatorsResult,
    MonthOptions,
    Proposal,
    RetrofitOptions,
    RetrofitPlan,
    Scenario,
    SitingOptions,
    coverage,
    gaps,
    indicators,
    outreach_month,
    retrofit,
    show_scenario,
    site,
)
from planner.services.types import CoverageResult, Gaps
from planner.settings import Config, load_config, reset_settings
from planner.store.core import Store, open_district_store
from tests.http.county_api import SCENARIOS, load_county

#: Short solver runs.
TEST_CONFIG = """\
[siting]
time_limit_s = 5.0

[outreach]
solver_seconds = 1.0
"""
V_QINGHE, V_ZHONGLING, V_GUDAO, V_ZHUYUAN = "清河社区", "中岭村", "孤岛村", "竹园村"
OUTREACH_VILLAGE = "330999002201"  # 竹园村


@dataclass
class World:
    root: Path
    url: str
    store: Store
    config: Config
    base: BaseLayers
    coverage: CoverageResult
    gaps: Gaps
    indicators: IndicatorsResult
    retrofit: RetrofitPlan
    proposal: Proposal
    scenario: Scenario
    month: MonthPlan


def env(mp: pytest.MonkeyPatch, root: Path) -> None:
    """Point the ``COVERPLAN_*`` variables at ``root``."""
    mp.setenv("COVERPLAN_DATA_DIR", str(root / "var"))
    mp.setenv("COVERPLAN_OUT_DIR", str(root / "out"))
    mp.setenv("COVERPLAN_CONFIG", str(root / "maps-test.toml"))
    for name in ("COVERPLAN_DB_URL", "COVERPLAN_DATA_KEY"):
        mp.delenv(name, raising=False)
    reset_settings()


def build_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The county with its analyses (module fixtures yield from this)."""
    root = tmp_path_factory.mktemp("maps_county")
    (root / "maps-test.toml").write_text(TEST_CONFIG, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        env(mp, root)
        url = load_county(root)
        store = open_district_store(url)
        config = load_config(root / "maps-test.toml")
        month = outreach_month(
            store,
            config=config,
            options=MonthOptions(year=2026, month=11, villages=(OUTREACH_VILLAGE,)),
        )
        world = World(
            root=root,
            url=url,
            store=store,
            config=config,
            base=load_base(store, config=config),
            coverage=coverage(store, config=config, options=CoverageOptions(isochrones=True)),
            gaps=gaps(store, config=config, options=GapsOptions()).gaps,
            indicators=indicators(store, config=config, options=IndicatorOptions()),
            retrofit=retrofit(store, config=config, options=RetrofitOptions()),
            proposal=site(store, config=config, options=SitingOptions(facility_type="home", new=1)),
            scenario=show_scenario(store, SCENARIOS[0]),
            month=month,
        )
        try:
            yield world
        finally:
            store.dispose()
            reset_settings()


# --- reading a drawn map --------------------------------------------------------------------


def layers(m: folium.Map) -> dict[str, folium.FeatureGroup]:
    """The map's feature groups by name."""
    return {
        str(c.layer_name): c for c in m._children.values() if isinstance(c, folium.FeatureGroup)
    }


def descendants(el: Any) -> Iterator[Any]:
    """Every element under ``el``, a popup's own content (its ``html`` element) too."""
    inner = getattr(el, "html", None)
    children = list(el._children.values())
    if isinstance(inner, Element):
        children.append(inner)
    for child in children:
        yield child
        yield from descendants(child)


def features(fg: folium.FeatureGroup) -> dict[str, dict[str, Any]]:
    """Properties of the GeoJSON features of a layer, by their ``name``."""
    out = {}
    for el in descendants(fg):
        if isinstance(el, folium.GeoJson) and isinstance(el.data, dict):
            for f in el.data["features"]:
                out[str(f["properties"].get("name"))] = f["properties"]
    return out


def texts(fg: Any) -> list[str]:
    """Every tooltip, popup and DivIcon text under ``fg``."""
    found = []
    for el in descendants(fg):
        for value in (getattr(el, "text", None), getattr(el, "data", None)):
            if isinstance(value, str):
                found.append(value)
        options = getattr(el, "options", None)
        if isinstance(options, dict) and isinstance(options.get("html"), str):
            found.append(options["html"])
    return found


def markers(fg: folium.FeatureGroup) -> list[folium.Marker | folium.CircleMarker]:
    return [el for el in descendants(fg) if isinstance(el, folium.Marker | folium.CircleMarker)]
