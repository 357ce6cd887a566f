"""Road networks from OSM files: hand-made toys with known travel times, the demo
district's roads.osm, and PBF input (pyrosm's bundled extract, a toy converted)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from geo.graph import ModeProfile, NetworkError, RoadNetwork, haversine_m
from geo.network import NetworkBuild, build_network, profile_hash, snap_points
from tests.demo_district import DemoDistrict

OSM_DIR = Path(__file__).resolve().parents[1] / "data" / "osm"
STREETS = OSM_DIR / "streets.osm"
PATHS = OSM_DIR / "paths.osm"
FOOTPATHS = OSM_DIR / "footpaths.osm"
CLIPPED = OSM_DIR / "clipped.osm"

DRIVE = ModeProfile(
    mode="drive",
    speeds_kmh={"primary": 45.0, "residential": 20.0, "service": 15.0, "track": 10.0},
    respect_oneway=True,
    respect_maxspeed=True,
    maxspeed_factor=0.85,
    exclude={"access": ("no", "private"), "motor_vehicle": ("no",), "area": ("yes",)},
)
WALK = ModeProfile(
    mode="walk",
    speeds_kmh={
        "primary": 4.5,
        "residential": 4.5,
        "service": 4.5,
        "track": 4.0,
        "footway": 4.5,
        "pedestrian": 4.5,
        "path": 4.0,
        "steps": 2.0,
    },
    respect_oneway=False,
    respect_maxspeed=False,
    exclude={"access": ("no", "private"), "foot": ("no",), "area": ("yes",)},
)
WHEELCHAIR = ModeProfile(
    mode="wheelchair",
    speeds_kmh={"residential": 3.0, "footway": 3.0, "pedestrian": 3.0, "path": 2.5},
    respect_oneway=False,
    respect_maxspeed=False,
    exclude={
        "access": ("no", "private"),
        "foot": ("no",),
        "wheelchair": ("no",),
        "area": ("yes",),
        "smoothness": ("bad", "very_bad", "horrible"),
        "surface": ("gravel", "dirt", "ground"),
    },
)
MPH_KMH = 1.609344
REL = 1e-6  # osmnx's earth radius differs from geo.graph's by 0.2 m in 6371 km


def _nodes(path: Path) -> dict[int, tuple[float, float]]:
    """OSM node id -> (lon, lat) of a toy file, read with the standard library."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    return {
        int(n.get("id", "")): (float(n.get("lon", "")), float(n.get("lat", "")))
        for n in root.iter("node")
    }


class Toy:
    """A built toy network with helpers keyed by OSM node id."""

    def __init__(self, build: NetworkBuild, coords: Mapping[int, tuple[float, float]]) -> None:
        self.build = build
        self.net = build.network
        self.coords = coords
        self.index = {int(osm): i for i, osm in enumerate(self.net.node_ids)}

    def metres(self, a: int, b: int) -> float:
        (lo1, la1), (lo2, la2) = self.coords[a], self.coords[b]
        return float(haversine_m(lo1, la1, lo2, la2))

    def edge(self, a: int, b: int) -> float:
        """Seconds of the directed edge a -> b; 0.0 when there is none."""
        return float(self.net.seconds[self.index[a], self.index[b]])

    def fastest(self, a: int, b: int) -> float:
        dist = dijkstra(self.net.seconds, directed=True, indices=self.index[a])
        return float(dist[self.index[b]])


def secs(metres: float, kmh: float) -> float:
    return metres / (kmh / 3.6)


@pytest.fixture(scope="module")
def default_profiles() -> dict[str, ModeProfile]:
    """The profiles of data/config/default.toml."""
    from planner.settings import load_config

    net = load_config().network
    return {mode: net.profile(mode) for mode in ("drive", "walk", "wheelchair")}


@pytest.fixture(scope="module")
def streets_drive() -> Toy:
    return Toy(build_network(STREETS, profile=DRIVE), _nodes(STREETS))


@pytest.fixture(scope="module")
def streets_walk() -> Toy:
    return Toy(build_network(STREETS, profile=WALK), _nodes(STREETS))


# --- toy networks with known times ---------------------------------------------------------


def test_oneway_street_is_followed_by_drive(streets_drive: Toy) -> None:
    t = streets_drive
    ab = t.metres(1, 2)
    assert ab == pytest.approx(111.19, abs=0.01)  # 0.001 degree of latitude
    assert t.edge(1, 2) == pytest.approx(secs(ab, 45.0), rel=REL)
    assert t.edge(2, 1) == 0.0
    # B -> A goes round the square B-C-D-A on residential streets
    around = t.metres(2, 3) + t.metres(3, 4) + t.metres(4, 1)
    assert t.fastest(2, 1) == pytest.approx(secs(around, 20.0), rel=REL)
    assert t.fastest(1, 2) == pytest.approx(secs(ab, 45.0), rel=REL)
    assert t.net.metres[t.index[1], t.index[2]] == pytest.approx(ab, rel=REL)


def test_oneway_against_the_way_direction(tmp_path: Path) -> None:
    path = tmp_path / "streets.osm"
    text = STREETS.read_text(encoding="utf-8")
    path.write_text(text.replace('k="oneway" v="yes"', 'k="oneway" v="-1"'), encoding="utf-8")
    t = Toy(build_network(path, profile=DRIVE), _nodes(path))
    assert t.edge(1, 2) == 0.0
    assert t.edge(2, 1) == pytest.approx(secs(t.metres(1, 2), 45.0), rel=REL)


def test_walk_ignores_oneway(streets_walk: Toy) -> None:
    t = streets_walk
    ab = t.metres(1, 2)
    assert t.edge(1, 2) == pytest.approx(secs(ab, 4.5), rel=REL)
    assert t.edge(2, 1) == pytest.approx(secs(ab, 4.5), rel=REL)
    assert t.fastest(2, 1) == pytest.approx(secs(ab, 4.5), rel=REL)


def test_slow_class_and_maxspeed(streets_drive: Toy) -> None:
    t = streets_drive
    assert t.edge(1, 5) == pytest.approx(secs(t.metres(1, 5), 10.0), rel=REL)  # track
    assert t.edge(5, 1) == pytest.approx(secs(t.metres(1, 5), 10.0), rel=REL)
    # primary (45 km/h) with maxspeed 30 -> 30 * 0.85 = 25.5 km/h
    assert t.edge(4, 6) == pytest.approx(secs(t.metres(4, 6), 25.5), rel=REL)
    assert t.edge(6, 7) == pytest.approx(secs(t.metres(6, 7), 40 * 0.85), rel=REL)  # "40 km/h"
    assert t.edge(7, 8) == pytest.approx(secs(t.metres(7, 8), 30 * MPH_KMH * 0.85), rel=REL)
    assert t.edge(8, 9) == pytest.approx(secs(t.metres(8, 9), 45.0), rel=REL)  # "CN:urban"
    south = (
        secs(t.metres(1, 4), 20.0)
        + secs(t.metres(4, 6), 25.5)
        + secs(t.metres(6, 7), 34.0)
        + secs(t.metres(7, 8), 30 * MPH_KMH * 0.85)
        + secs(t.metres(8, 9), 45.0)
    )
    assert t.fastest(1, 9) == pytest.approx(south, rel=REL)


def test_maxspeed_ignored_when_profile_says_so() -> None:
    profile = replace(DRIVE, respect_maxspeed=False)
    t = Toy(build_network(STREETS, profile=profile), _nodes(STREETS))
    assert t.edge(4, 6) == pytest.approx(secs(t.metres(4, 6), 45.0), rel=REL)


def test_private_road_excluded_for_drive(streets_drive: Toy) -> None:
    t = streets_drive
    assert t.edge(2, 4) == 0.0 and t.edge(4, 2) == 0.0
    via_c = secs(t.metres(2, 3), 20.0) + secs(t.metres(3, 4), 20.0)
    assert t.fastest(2, 4) == pytest.approx(via_c, rel=REL)


def test_unreachable_island_is_dropped(streets_drive: Toy) -> None:
    b = streets_drive.build
    assert sorted(b.network.node_ids.tolist()) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert (b.nodes, b.dropped_nodes, b.dropped_components) == (9, 2, 1)
    # A->B, 3 two-way residential, the track, 4 two-way primary; no building, no private road
    assert b.edges == b.network.n_edges == 1 + 6 + 2 + 8
    assert b.summary() == (
        f"道路网络（drive）：9 个节点 17 条路段；舍弃 2 个不连通节点（1 个分量）；"
        f"构建用时 {b.seconds:.1f} 秒"
    )
    assert not b.from_cache
    assert b.source_sha256 == hashlib.sha256(STREETS.read_bytes()).hexdigest()
    assert b.network.source == f"streets.osm sha256:{b.source_sha256[:16]}"


def test_node_positions_are_wgs84(streets_drive: Toy) -> None:
    t = streets_drive
    i = t.index[3]
    assert (t.net.lon[i], t.net.lat[i]) == (121.401, 29.601)


def test_wheelchair_avoids_steps_barriers_and_gravel() -> None:
    coords = _nodes(PATHS)
    t = Toy(build_network(PATHS, profile=WHEELCHAIR), coords)
    assert t.edge(1, 2) == pytest.approx(secs(t.metres(1, 2), 3.0), rel=REL)  # footway
    for a, b in [(2, 3), (3, 4), (4, 5)]:  # steps, wheelchair=no, surface=gravel
        assert t.edge(a, b) == 0.0 and t.edge(b, a) == 0.0
    # smoothness=horrible, foot=no, area=yes: those ways' end nodes are not in the network
    assert set(t.index) == {1, 2, 3, 4, 5, 11, 12, 13, 14, 15}
    rung = t.metres(2, 12)
    assert rung == pytest.approx(96.7, abs=0.1)  # 0.001 degree of longitude at 29.6 N
    detour = t.metres(2, 12) + t.metres(12, 13) + t.metres(13, 3)
    assert t.fastest(2, 3) == pytest.approx(secs(detour, 3.0), rel=REL)
    assert t.build.dropped_nodes == 0


def test_walk_uses_steps_barriers_and_gravel() -> None:
    t = Toy(build_network(PATHS, profile=WALK), _nodes(PATHS))
    steps = secs(t.metres(2, 3), 2.0)
    assert t.edge(2, 3) == pytest.approx(steps, rel=REL)
    assert t.edge(3, 2) == pytest.approx(steps, rel=REL)
    assert t.fastest(2, 3) == pytest.approx(steps, rel=REL)  # faster than the 305 m detour
    assert t.edge(3, 4) == pytest.approx(secs(t.metres(3, 4), 4.5), rel=REL)  # wheelchair=no
    assert t.edge(4, 5) == pytest.approx(secs(t.metres(4, 5), 4.0), rel=REL)  # gravel path
    assert t.edge(5, 16) == pytest.approx(secs(t.metres(5, 16), 4.5), rel=REL)  # horrible
    assert 17 not in t.index and 18 not in t.index  # foot=no, area=yes
    # one multi-node way: every consecutive pair is an edge
    assert t.edge(13, 14) == pytest.approx(secs(t.metres(13, 14), 4.5), rel=REL)


def test_semicolon_and_case_in_tag_values(tmp_path: Path) -> None:
    text = STREETS.read_text(encoding="utf-8").replace(
        '<tag k="highway" v="track"/>', '<tag k="highway" v="track"/><tag k="access" v="yes;No"/>'
    )
    path = tmp_path / "streets.osm"
    path.write_text(text, encoding="utf-8")
    t = Toy(build_network(path, profile=DRIVE), _nodes(path))
    assert 5 not in t.index  # the track to E is now excluded


def test_clipped_ways_are_split_at_missing_nodes() -> None:
    t = Toy(build_network(CLIPPED, profile=DRIVE), _nodes(CLIPPED))
    # 1-2 | missing 99 | 3-4-5: no edge is invented across the gap
    assert sorted(t.index) == [3, 4, 5]
    assert t.edge(3, 4) == pytest.approx(secs(t.metres(3, 4), 20.0), rel=REL)
    assert (t.build.dropped_nodes, t.build.dropped_components) == (2, 1)


@pytest.mark.parametrize("suffix", [".osm.xml", ".osm.gz", ".osm.bz2"])
@pytest.mark.parametrize("src", [STREETS, CLIPPED])
def test_other_xml_suffixes(tmp_path: Path, suffix: str, src: Path) -> None:
    import bz2
    import gzip

    data = src.read_bytes()
    if suffix == ".osm.gz":
        data = gzip.compress(data)
    elif suffix == ".osm.bz2":
        data = bz2.compress(data)
    path = tmp_path / f"roads{suffix}"
    path.write_bytes(data)
    _same(build_network(src, profile=DRIVE).network, build_network(path, profile=DRIVE).network)


# --- cache, progress, profile hash --------------------------------------------------------


def _same(a: RoadNetwork, b: RoadNetwork) -> None:
    assert a.mode == b.mode
    for name in ("lon", "lat", "node_ids"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for name in ("seconds", "metres"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape
        np.testing.assert_array_equal(x.indptr, y.indptr)
        np.testing.assert_array_equal(x.indices, y.indices)
        np.testing.assert_array_equal(x.data, y.data)


def test_cache_hit_miss_and_corruption(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "streets.osm"
    shutil.copy(STREETS, path)
    first = build_network(path, profile=DRIVE, cache_dir=cache)
    assert not first.from_cache
    assert len(list(cache.glob("*.npz"))) == 1 and len(list(cache.glob("*.json"))) == 1
    second = build_network(path, profile=DRIVE, cache_dir=cache)
    assert second.from_cache
    _same(first.network, second.network)
    assert (second.nodes, second.edges, second.dropped_nodes, second.dropped_components) == (
        first.nodes, first.edges, first.dropped_nodes, first.dropped_components,
    )  # fmt: skip
    assert "读取缓存" in second.summary()
    # a changed profile and a changed file rebuild
    slower = replace(DRIVE, speeds_kmh={**DRIVE.speeds_kmh, "track": 8.0})
    assert not build_network(path, profile=slower, cache_dir=cache).from_cache
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    changed = build_network(path, profile=DRIVE, cache_dir=cache)
    assert not changed.from_cache and changed.source_sha256 != first.source_sha256
    # a damaged cache entry is rebuilt, not trusted
    for npz in cache.glob("*.npz"):
        npz.write_bytes(b"not a zip file")
    again = build_network(path, profile=DRIVE, cache_dir=cache)
    assert not again.from_cache
    assert build_network(path, profile=DRIVE, cache_dir=cache).from_cache
    assert not list(cache.glob("*tmp*")) and not list(cache.glob("osm-*"))


def test_cache_sidecar_records_the_report(tmp_path: Path) -> None:
    b = build_network(STREETS, profile=DRIVE, cache_dir=tmp_path)
    (meta,) = tmp_path.glob("*.json")
    doc = json.loads(meta.read_text(encoding="utf-8"))
    assert doc["source_sha256"] == b.source_sha256
    assert doc["profile_hash"] == profile_hash(DRIVE)
    assert (doc["nodes"], doc["edges"], doc["dropped_nodes"], doc["dropped_components"]) == (
        9, 17, 2, 1,
    )  # fmt: skip


def test_progress_bar_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    build_network(STREETS, profile=DRIVE)
    assert capsys.readouterr().err == ""
    build_network(STREETS, profile=DRIVE, progress=True)
    err = capsys.readouterr().err
    assert "道路网络（drive）" in err and "100%" in err


def test_profile_hash_is_stable_and_order_free() -> None:
    h = profile_hash(DRIVE)
    assert len(h) == 64
    shuffled = ModeProfile(
        mode="drive",
        speeds_kmh=dict(reversed(list(DRIVE.speeds_kmh.items()))),
        maxspeed_factor=0.85,
        exclude={"area": ("yes",), "motor_vehicle": ("no",), "access": ("private", "no")},
    )
    assert profile_hash(shuffled) == h
    assert profile_hash(replace(DRIVE, maxspeed_factor=0.9)) != h
    assert profile_hash(replace(DRIVE, respect_oneway=False)) != h
    assert profile_hash(replace(DRIVE, exclude={"access": ("no",)})) != h
    # the same value in a fresh interpreter with a different hash seed
    code = (
        "from geo.graph import ModeProfile; from geo.network import profile_hash; "
        "print(profile_hash(ModeProfile(mode='drive', speeds_kmh={'track': 10.0, "
        "'service': 15.0, 'residential': 20.0, 'primary': 45.0}, maxspeed_factor=0.85, "
        "exclude={'motor_vehicle': ('no',), 'area': ('yes',), 'access': ('no', 'private')})))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == h


# --- snapping -------------------------------------------------------------------------------


def test_snap_points(streets_drive: Toy) -> None:
    t = streets_drive
    lon = [121.4000, 121.4012, 121.4100]  # on A; 19 m east of D; beside the dropped island
    lat = [29.6000, 29.6000, 29.6005]
    res = snap_points(t.net, lon, lat, max_m=100.0)
    assert res.node[0] == t.index[1] and res.distance_m[0] == pytest.approx(0.0, abs=1e-6)
    assert res.node[1] == t.index[4]
    assert res.distance_m[1] == pytest.approx(float(haversine_m(121.4012, 29.6, 121.401, 29.6)))
    # the island J-K was dropped, so that point is ~870 m from the network
    assert res.flagged.tolist() == [False, False, True]
    assert res.distance_m[2] > 800
    text = res.summary()
    assert text.startswith("3 个点位匹配到道路：最大距离 8")
    assert "1 个超过 100 米" in text


def test_snap_points_rejects_bad_input(streets_drive: Toy) -> None:
    net = streets_drive.net
    with pytest.raises(NetworkError, match="坐标无效"):
        snap_points(net, [121.4, np.nan], [29.6, 29.6], max_m=100.0)
    with pytest.raises(NetworkError, match="个数不一致"):
        snap_points(net, [121.4], [29.6, 29.6], max_m=100.0)
    with pytest.raises(NetworkError, match="max_m"):
        snap_points(net, [121.4], [29.6], max_m=0.0)
    empty = snap_points(net, [], [], max_m=100.0)
    assert empty.node.shape == (0,) and empty.summary() == "没有点位"


# --- errors --------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "roads.osm"
    with pytest.raises(NetworkError, match="不存在") as err:
        build_network(path, profile=DRIVE)
    assert str(path) in str(err.value)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "roads.shp"
    path.write_bytes(b"x")
    with pytest.raises(NetworkError, match="类型无法识别") as err:
        build_network(path, profile=DRIVE)
    assert "roads.shp" in str(err.value) and ".osm.pbf" in str(err.value)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("bad.osm", b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat=', "OSM XML"),
        ("bad.osm", b"", "空文件"),
        ("bad.osm", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "OSM XML"),
        ("bad.osm.pbf", b"\x00\x00\x00\x0dnot really a pbf file" * 20, "PBF"),
        ("bad.pbf", b"", "空文件"),
    ],
)
def test_corrupt_file(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NetworkError, match=match) as err:
        build_network(path, profile=DRIVE, cache_dir=tmp_path / "cache")
    assert str(path) in str(err.value)
    cache = tmp_path / "cache"
    assert not cache.exists() or not any(cache.iterdir())  # no cache entry, no temporary XML


def test_no_usable_ways(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match="没有出行方式 drive 可用的道路") as err:
        build_network(FOOTPATHS, profile=DRIVE)
    assert "footpaths.osm" in str(err.value) and "footway" in str(err.value)
    assert build_network(FOOTPATHS, profile=WALK).nodes == 3
    # a well-formed file with no ways at all
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n', encoding="utf-8")
    with pytest.raises(NetworkError, match="没有出行方式 walk 可用的道路"):
        build_network(empty, profile=WALK)


# --- PBF -----------------------------------------------------------------------------------


def _to_pbf(src: Path, dst: Path) -> Path:
    import osmium

    with osmium.SimpleWriter(str(dst), overwrite=True) as out:
        for obj in osmium.FileProcessor(str(src)):
            out.add(obj)
    return dst


@pytest.mark.parametrize(("src", "profile"), [(STREETS, DRIVE), (PATHS, WALK), (PATHS, WHEELCHAIR)])
def test_pbf_gives_the_same_graph_as_xml(tmp_path: Path, src: Path, profile: ModeProfile) -> None:
    pbf = _to_pbf(src, tmp_path / (src.stem + ".osm.pbf"))
    from_xml = build_network(src, profile=profile)
    from_pbf = build_network(pbf, profile=profile, cache_dir=tmp_path / "cache")
    _same(from_xml.network, from_pbf.network)
    assert (from_xml.dropped_nodes, from_xml.dropped_components) == (
        from_pbf.dropped_nodes, from_pbf.dropped_components,
    )  # fmt: skip
    assert from_pbf.network.source.startswith(pbf.name)
    assert not list((tmp_path / "cache").glob("osm-*"))  # the temporary XML is gone


class _NoNetwork:
    def open(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("pyrosm tried to download")


@pytest.fixture(scope="module")
def pyrosm_pbf() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.get_data("test_pbf", opener=_NoNetwork(), progress=False))
    assert path.is_file() and Path(pyrosm.__file__).parent in path.parents
    return path


@pytest.mark.parametrize(
    ("mode", "nodes", "edges"),
    [("drive", (500, 1000), (1000, 2000)), ("walk", (1000, 2000), (2000, 4000))],
)
def test_pyrosm_extract(
    pyrosm_pbf: Path,
    default_profiles: dict[str, ModeProfile],
    mode: str,
    nodes: tuple[int, int],
    edges: tuple[int, int],
) -> None:
    profile = default_profiles[mode]
    b = build_network(pyrosm_pbf, profile=profile)
    assert nodes[0] < b.nodes < nodes[1]
    assert edges[0] < b.edges < edges[1]
    # a clipped extract: one-way stubs and cut-off pieces are dropped
    assert b.edges == b.network.n_edges and b.dropped_nodes > 0
    seconds = b.network.seconds.data
    metres = b.network.metres.data
    assert np.all(seconds > 0) and np.all(metres > 0)
    kmh = metres / seconds * 3.6
    assert kmh.max() <= max(profile.speeds_kmh.values()) * (1 + 1e-9)
    # Helsinki-area extract, WGS-84
    assert 24 < b.network.lon.min() < b.network.lon.max() < 28
    assert 59 < b.network.lat.min() < b.network.lat.max() < 62


# --- the demo district ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(demo_district: DemoDistrict) -> Path:
    """The demo's generated input files (read only): roads.osm, villages.geojson."""
    return demo_district.inputs


def test_demo_roads_build_for_every_mode(
    demo: Path, default_profiles: dict[str, ModeProfile], tmp_path: Path
) -> None:
    roads = demo / "roads.osm"
    cache = tmp_path / "cache"
    built = {
        m: build_network(roads, profile=p, cache_dir=cache) for m, p in default_profiles.items()
    }
    for mode, b in built.items():
        assert b.network.mode == mode and not b.from_cache
        assert b.nodes > 20_000 and b.edges > 2 * b.nodes * 0.9
        assert b.dropped_nodes < 0.01 * b.nodes
    # drive is one strongly connected component by construction of the demo
    assert built["drive"].dropped_nodes == 0
    # wheelchairs lose steps, rough and unpaved ways; walking keeps the most
    assert built["wheelchair"].nodes < built["walk"].nodes
    assert built["drive"].nodes < built["walk"].nodes

    # every village committee point is on (or next to) the drivable network
    doc = json.loads((demo / "villages.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in doc["features"]]
    lon = [float(p["经度"]) for p in props]
    lat = [float(p["纬度"]) for p in props]
    snap = snap_points(built["drive"].network, lon, lat, max_m=300.0)
    assert len(lon) > 300 and not snap.flagged.any()
    assert snap.distance_m.max() < 300.0

    # a second build comes from the cache, with identical arrays
    again = build_network(roads, profile=default_profiles["drive"], cache_dir=cache)
    assert again.from_cache and again.seconds < built["drive"].seconds
    _same(built["drive"].network, again.network)
    assert again.summary().startswith(
        f"道路网络（drive）：{again.nodes} 个节点 {again.edges} 条路段；舍弃 0 个不连通节点"
    )
