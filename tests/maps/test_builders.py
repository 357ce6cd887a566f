"""The map builders on 示例县 (:mod:`tests.maps.world`): layers by name, legends,
known counts in popups, suppression of small counts, the synthetic-data banner,
no outside URL, and GCJ-02 overlays for GCJ-02 tiles."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import folium
import pytest

from geo.crs import wgs84_to_gcj02
from maps.assets import outside_urls
from maps.base import base_map, load_base
from maps.coverage import coverage_map
from maps.draw import BANNER_TEXT, count_text
from maps.gaps import gaps_map
from maps.indicators import indicator_map
from maps.outreach import outreach_map
from maps.render import save_standalone, to_html
from maps.retrofit import retrofit_map
from maps.siting import siting_map
from planner.errors import InputError
from planner.settings import Config, MapsConfig
from planner.store.core import open_district_store
from planner.store.frames import facilities_frame
from tests.maps.world import (
    V_GUDAO,
    V_QINGHE,
    V_ZHONGLING,
    V_ZHUYUAN,
    World,
    build_world,
    descendants,
    env,
    features,
    layers,
    markers,
    texts,
)

BASE_LAYERS = ["区界", "镇街", "村社", "道路"]


@pytest.fixture(scope="module")
def world_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory)


@pytest.fixture
def world(world_module: World, monkeypatch: pytest.MonkeyPatch) -> World:
    env(monkeypatch, world_module.root)
    return world_module


def _offline(m: folium.Map) -> str:
    html = to_html(m)
    assert outside_urls(html) == []
    return html


# --- base ---------------------------------------------------------------------------------


def test_the_base_has_the_district_towns_villages_and_roads(world: World) -> None:
    b = world.base
    assert b.name == "示例县" and not b.synthetic
    assert sorted(b.towns["name"]) == ["云岭镇", "清河街道"]
    assert len(b.villages) == 12 and len(b.roads) > 0
    m = base_map(b, config=world.config)
    assert list(layers(m)) == BASE_LAYERS
    html = _offline(m)
    assert BANNER_TEXT not in html
    assert "tile" not in html.lower().replace("tilelayer", "")  # no tile layer by default


def test_the_banner_shows_on_synthetic_data_only(world: World, tmp_path: Path) -> None:
    db = tmp_path / "demo-like.db"
    source = Path(world.url.removeprefix("sqlite:///"))
    for suffix in ("", ".key", "-wal", "-shm"):  # the store is open: its WAL too
        if source.with_name(source.name + suffix).exists():
            shutil.copy(source.with_name(source.name + suffix), db.with_name(db.name + suffix))
    store = open_district_store(f"sqlite:///{db}")
    with store.write() as s:
        store.set_meta(s, "district_source", "demo")
    base = load_base(store, config=world.config)
    assert base.synthetic
    html = _offline(
        coverage_map(
            world.coverage, base=base, config=world.config, type_key="home", min_count=None
        )
    )
    assert BANNER_TEXT in html
    store.dispose()


# --- coverage -----------------------------------------------------------------------------


def test_coverage_map_layers_legend_and_counts(world: World) -> None:
    m = coverage_map(
        world.coverage, base=world.base, config=world.config, type_key="home", min_count=None
    )
    names = list(layers(m))
    assert names == [
        *BASE_LAYERS,
        "村社覆盖率",
        "服务范围（30 分钟）",
        "设施：残疾人之家",
        "有未覆盖人员的村社",
        "距路网过远",
    ]
    villages = features(layers(m)["村社覆盖率"])
    assert villages[V_QINGHE]["pct"] == "100.0%"
    assert "<td>符合条件</td><td>4</td>" in villages[V_ZHONGLING]["popup"]
    assert "<td>未覆盖</td><td>4</td>" in villages[V_ZHONGLING]["popup"]
    assert villages[V_ZHONGLING]["fill"] == world.config.maps.coverage_colours[0]
    uncovered = set(features(layers(m)["有未覆盖人员的村社"]))
    assert uncovered == {"远山村", V_GUDAO, "东岭村", V_ZHONGLING, "尖峰村"}
    assert any(V_GUDAO in t for t in texts(layers(m)["距路网过远"]))
    facilities = texts(layers(m)["设施：残疾人之家"])
    assert any("河东残疾人之家" in t and "<td>容量</td><td>20</td>" in t for t in facilities)
    html = _offline(m)
    assert "残疾人之家覆盖率" in html and "≥95%" in html


def test_coverage_map_without_isochrones_draws_catchment_hulls(world: World) -> None:
    result = replace(world.coverage, isochrones=world.coverage.isochrones.iloc[0:0])
    m = coverage_map(result, base=world.base, config=world.config, type_key="home", min_count=None)
    hulls = layers(m)["服务范围（设施服务村社外包）"]
    # one hull per home: 河东 (清河街道's villages in reach) and 云岭 (云岭社区, 竹园村)
    assert len([e for e in descendants(hulls) if isinstance(e, folium.GeoJson)]) == 1
    assert (
        len(next(e for e in descendants(hulls) if isinstance(e, folium.GeoJson)).data["features"])
        == 2
    )
    assert "未计算等时圈" in to_html(m)


def test_coverage_map_suppresses_small_counts(world: World) -> None:
    m = coverage_map(
        world.coverage, base=world.base, config=world.config, type_key="home", min_count=5
    )
    popup = features(layers(m)["村社覆盖率"])[V_ZHONGLING]["popup"]
    assert "<td>符合条件</td><td>&lt;5</td>" in popup
    assert "<td>符合条件</td><td>4</td>" not in popup
    assert count_text(0, min_count=5) == "0" and count_text(5, min_count=5) == "5"


def test_coverage_map_draws_on_a_given_map_and_refuses_an_unknown_type(world: World) -> None:
    m = folium.Map(tiles=None)
    out = coverage_map(
        world.coverage,
        base=world.base,
        config=world.config,
        type_key="psych_station",
        min_count=None,
        m=m,
    )
    assert out is m and "村社覆盖率" in layers(m) and "区界" not in layers(m)
    gaps_map(world.gaps, base=world.base, config=world.config, type_key=None, min_count=None, m=m)
    assert "未满足需求" in layers(m)
    controls = [c for c in m._children.values() if isinstance(c, folium.LayerControl)]
    assert len(controls) == 1 and list(m._children.values())[-1] is controls[0]
    with pytest.raises(InputError, match="可选：home"):
        coverage_map(
            world.coverage, base=world.base, config=world.config, type_key="nope", min_count=None
        )


def test_gcj02_tiles_shift_every_overlay(world: World) -> None:
    url = "http://10.1.2.3/amap/{z}/{x}/{y}.png"
    maps = MapsConfig(tile_url=url, tile_crs="gcj02", tile_attribution="高德地图")
    config: Config = world.config.model_copy(update={"maps": maps})
    m = coverage_map(
        world.coverage, base=world.base, config=config, type_key="home", min_count=None
    )
    fac = world.coverage.facilities
    f = fac[fac["name"] == "河东残疾人之家"].iloc[0]
    gx, gy = wgs84_to_gcj02([f["lon"]], [f["lat"]])
    got = [c.location for c in markers(layers(m)["设施：残疾人之家"])]
    assert [pytest.approx(float(gy[0]), abs=1e-9), pytest.approx(float(gx[0]), abs=1e-9)] in got
    # the shift is hundreds of metres here, as GCJ-02 is
    assert 1e-4 < abs(float(gx[0]) - f["lon"]) < 1e-2
    html = to_html(m)
    assert outside_urls(html) == [url]
    assert outside_urls(html, allowed_hosts=("10.1.2.3",)) == []
    assert "高德地图" in html


# --- gaps, indicators, retrofit -----------------------------------------------------------


def test_gaps_map(world: World) -> None:
    m = gaps_map(world.gaps, base=world.base, config=world.config, type_key="home", min_count=None)
    assert list(layers(m))[4:] == ["未满足需求", "可达但无名额", "不可达"]
    unmet = features(layers(m)["未满足需求"])
    assert "<td>不可达</td><td>4</td>" in unmet[V_ZHONGLING]["popup"]
    assert "<td>其中距路网过远</td><td>2</td>" in unmet[V_GUDAO]["popup"]
    assert unmet[V_QINGHE]["unmet_text"] == "0"
    assert any("中岭村：不可达 4" in t for t in texts(layers(m)["不可达"]))
    assert texts(layers(m)["可达但无名额"]) == []  # nobody is turned away for want of places
    html = _offline(m)
    assert "未满足需求：残疾人之家" in html
    small = gaps_map(world.gaps, base=world.base, config=world.config, type_key="home", min_count=5)
    assert (
        "<td>不可达</td><td>&lt;5</td>"
        in features(layers(small)["未满足需求"])[V_ZHONGLING]["popup"]
    )
    assert "1–4 人" in to_html(small)  # one class below min_count: a colour tells no count


def test_indicator_map(world: World) -> None:
    m = indicator_map(
        world.indicators, base=world.base, config=world.config, key="living_subsidy", min_count=None
    )
    towns = features(layers(m)["分镇街指标"])
    assert towns["清河街道"]["fill"] == "#1a9850" and "分子/分母：2/2" in towns["清河街道"]["popup"]
    assert towns["云岭镇"]["fill"] == "#d73027" and towns["云岭镇"]["value"] == "66.67%"
    assert "判定：未达标" in towns["云岭镇"]["popup"]
    html = _offline(m)
    assert "达标" in html and "未达标" in html
    small = indicator_map(
        world.indicators, base=world.base, config=world.config, key="living_subsidy", min_count=5
    )
    assert "分子/分母：&lt;5/&lt;5" in features(layers(small)["分镇街指标"])["清河街道"]["popup"]
    with pytest.raises(InputError, match="living_subsidy"):
        indicator_map(
            world.indicators, base=world.base, config=world.config, key="nope", min_count=None
        )


def test_retrofit_map(world: World) -> None:
    m = retrofit_map(world.retrofit, base=world.base, config=world.config, min_count=None)
    assert list(layers(m))[4:] == ["本年改造户数", "候选户数", "无障碍社区候选"]
    v = features(layers(m)["本年改造户数"])
    assert v[V_ZHUYUAN]["text"] == "7" and v[V_GUDAO]["text"] == "3"
    small = retrofit_map(world.retrofit, base=world.base, config=world.config, min_count=5)
    v = features(layers(small)["本年改造户数"])
    assert v[V_ZHUYUAN]["text"] == "7" and v[V_GUDAO]["text"] == "<5"
    assert "本年改造：&lt;5 户" in v[V_GUDAO]["popup"]
    html = _offline(small)
    assert "家庭无障碍改造（本年入选户数）" in html and "1–4 户" in html


# --- siting ---------------------------------------------------------------------------------


def test_siting_map_of_a_proposal(world: World) -> None:
    m = siting_map(world.proposal, base=world.base, config=world.config)
    names = list(layers(m))
    assert names[4:] == ["覆盖率（方案前）", "覆盖率（方案后）", "现有设施：残疾人之家", "方案选址"]
    assert not layers(m)["覆盖率（方案前）"].show and layers(m)["覆盖率（方案后）"].show
    assert features(layers(m)["覆盖率（方案前）"])[V_ZHONGLING]["pct"] == "0.0%"
    assert features(layers(m)["覆盖率（方案后）"])[V_ZHONGLING]["pct"] == "100.0%"
    sites = texts(layers(m)["方案选址"])
    assert any("中岭村（新建）" in t and "为什么选这里" in t for t in sites)
    assert len(markers(layers(m)["方案选址"])) == 1
    _offline(m)


def test_siting_map_of_a_saved_scenario(world: World) -> None:
    m = siting_map(
        world.scenario,
        base=world.base,
        config=world.config,
        facilities=facilities_frame(world.store),
    )
    # the closed station is drawn as closed, not as an existing site
    assert texts(layers(m)["现有设施：精神残疾人社区康复站"]) == []
    assert any("清河精神康复站" in t and "关闭" in t for t in texts(layers(m)["方案选址"]))
    towns = features(layers(m)["覆盖率（方案前）"])
    assert set(towns) == {"清河街道", "云岭镇"}
    html = _offline(m)
    assert "关闭" in html and "新建" in html


# --- outreach -------------------------------------------------------------------------------


def test_outreach_map_routes_stops_and_estimated_positions(world: World) -> None:
    plan = world.month
    m = outreach_map(plan, base=world.base, config=world.config)
    day = plan.teams[0].days[0].date.isoformat()
    team_layers = [n for n in layers(m) if day in n]
    assert len(team_layers) == len(plan.team_days) == 2
    assert "服务点与出发地" in layers(m)
    a = layers(m)[team_layers[0]]
    found = texts(a)
    stops = plan.teams[0].days[0].stops
    for stop in stops:
        assert any(f">{stop.order}</div>" in t for t in found)
    estimated = [s for s in stops if s.point_source == "estimated"]
    assert estimated and any(f"{estimated[0].person.name}（位置估计）" in t for t in found)
    assert any("dashed" in t for t in found)
    lines = [el for el in a._children.values() if isinstance(el, folium.PolyLine)]
    assert len(lines) == 1 and len(lines[0].locations) == len(stops) + 3  # start, lunch, end
    html = _offline(m)
    assert "入户路线" in html


def test_outreach_map_filters_team_and_day(world: World) -> None:
    plan = world.month
    day = plan.teams[0].days[0].date
    m = outreach_map(plan, base=world.base, config=world.config, team="A", day=day)
    assert [n for n in layers(m) if day.isoformat() in n] == [f"第一入户服务队（A）{day}"]
    with pytest.raises(InputError, match="可选：A"):
        outreach_map(plan, base=world.base, config=world.config, team="Z")
    with pytest.raises(InputError, match=day.isoformat()):
        outreach_map(plan, base=world.base, config=world.config, day=date(2026, 11, 30))


def test_a_standalone_file_has_no_outside_url(world: World, tmp_path: Path) -> None:
    m = outreach_map(world.month, base=replace(world.base, synthetic=True), config=world.config)
    path = save_standalone(m, tmp_path / "sub" / "map.html")
    text = path.read_text(encoding="utf-8")
    assert outside_urls(text) == []
    assert "/static/" not in text and BANNER_TEXT in text
