"""Synthetic road network of the demo district, written as OpenStreetMap XML 0.6.

Layout, all synthetic:

- town centres (the communities) get street grids: dense in the urban centre
  (锦屏/岳林, 150 m blocks, a one-way pair of streets), coarser elsewhere;
- neighbouring villages are joined by roads through the midpoint of their
  shared border: a spanning tree of all villages, arterial routes between town
  seats (trunk, primary, secondary) and extra links, many in the plains and few
  in the hills, where roads wind;
- every village has a hub node at its committee point and a few residential
  streets, service spurs and tracks; hill villages get paths and steps.

The drivable network (:func:`is_drivable`) is made one strongly connected
component; tracks and service roads are dead-end spurs, so it stays strongly
connected without them too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from data.demo._geometry import (
    GRID_DEG,
    District,
    Village,
    geom_to_metric,
    name_stem,
    shortest_path,
    to_lonlat,
    to_metric,
)

OSM_GENERATOR = "coverplan synthetic demo"
OSM_NOTE = "合成演示数据：道路网络为程序生成，非真实道路"

DRIVABLE_HIGHWAYS = (
    "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service", "track",
)  # fmt: skip
WALK_ONLY_HIGHWAYS = ("path", "footway", "steps")

# Street grids: block size (m), intermediate nodes per block side.
URBAN_BLOCK_M = 150.0
URBAN_SUBNODES = 3
TOWN_BLOCK_M = 210.0
TOWN_SUBNODES = 2
GRID_MAX_TILT_DEG = 25.0
HUB_INSET_M = 5.0  # a grid hub lies at least this far inside its village

# Links between villages: node spacing (m) and winding (offset amplitude as a
# share of the road length, number of half-waves).
LINK_SPACING_PLAIN_M = 110.0
LINK_SPACING_HILL_M = 60.0
WIGGLE_PLAIN = 0.03
WIGGLE_HILL = 0.10
WAVES_PLAIN = (1, 3)
WAVES_HILL = (3, 8)
MIN_SHARED_BORDER_M = 30.0
EXTRA_LINK_PLAIN = 0.55  # probability that a non-tree link between plain villages is built
EXTRA_LINK_HILL = 0.10
TERTIARY_SHARE = 0.30  # of links inside a plain town

# Arterial routes between town seats: (highway, name, maxspeed km/h, towns).
ARTERIALS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("trunk", "奉化大道", "80", ("方桥街道", "江口街道", "锦屏街道")),
    ("trunk", "溪口大道", "80", ("锦屏街道", "萧王庙街道", "溪口镇")),
    ("primary", "省道S215", "60", ("锦屏街道", "尚田街道", "大堰镇")),
    ("primary", "省道S34", "60", ("岳林街道", "莼湖街道", "裘村镇", "松岙镇")),
    ("secondary", "县道X203", "60", ("岳林街道", "西坞街道", "方桥街道")),
    ("secondary", "县道X205", "60", ("江口街道", "西坞街道")),
    ("secondary", "县道X207", "60", ("萧王庙街道", "江口街道")),
    ("secondary", "县道X209", "60", ("尚田街道", "莼湖街道")),
    ("secondary", "县道X211", "60", ("溪口镇", "大堰镇")),
    ("secondary", "县道X213", "60", ("溪口镇", "尚田街道")),
    ("secondary", "县道X215", "60", ("莼湖街道", "西坞街道")),
)
RANK = {"trunk": 5, "primary": 4, "secondary": 3, "tertiary": 2, "unclassified": 1}

URBAN_ROW_NAMES = (
    "中山", "南山", "长春", "惠政", "广平", "公园", "桥东", "河头", "北大", "车站", "县前",
    "金钟", "茗山", "环城北", "环城南", "新建", "东门", "南门", "西门", "北门", "体育场",
    "南溪", "长汀", "舒家", "庄山", "阳光", "锦绣", "康宁", "永安", "通济", "兴业", "文昌",
)  # fmt: skip
URBAN_COL_NAMES = (
    "大成", "岳林", "锦屏", "东环", "西环", "中河", "白杜", "广济", "明德", "育才", "荷花",
    "桃源", "迎恩", "春晖", "居敬", "奉中", "光明", "花园", "秀水", "绿都", "上林", "金海",
    "民主", "东升", "新民", "龙潭", "舒前", "泰和", "宁南", "丰惠", "聚贤", "振兴",
)  # fmt: skip
STREET_SUFFIXES = (
    "中路", "东路", "西路", "南路", "北路", "前街",
    "后街", "大弄", "新村路", "一弄", "二弄", "横路",
)  # fmt: skip


@dataclass(frozen=True)
class Way:
    """An OSM way: node indexes (0-based) and tags."""

    refs: list[int]
    tags: dict[str, str]


@dataclass
class RoadNetwork:
    """Nodes (WGS-84 degrees, index = OSM id − 1), ways and each village's hub node."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    ways: list[Way]
    hubs: dict[str, int] = field(default_factory=dict)


def is_drivable(tags: dict[str, str]) -> bool:
    """True for ways a car may use: not path/footway/steps, nor a track with ``access=no``."""
    highway = tags.get("highway", "")
    if highway not in DRIVABLE_HIGHWAYS:
        return False
    return not (highway == "track" and tags.get("access") == "no")


class _Net:
    """Nodes in the local metric frame and ways, as they are built."""

    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.ways: list[Way] = []

    def node(self, x: float, y: float) -> int:
        self.xy.append((float(x), float(y)))
        return len(self.xy) - 1

    def chain(self, start: int, pts: NDArray[np.float64], end: int | None = None) -> list[int]:
        refs = [start] + [self.node(x, y) for x, y in pts]
        if end is not None:
            refs.append(end)
        return refs

    def add(self, refs: list[int], tags: dict[str, str]) -> None:
        if len(refs) >= 2:
            self.ways.append(Way(refs, tags))

    def coords(self, idx: int) -> NDArray[np.float64]:
        return np.array(self.xy[idx])


@dataclass
class _Grid:
    """A street grid's intersection nodes (ids and metric coordinates)."""

    ids: NDArray[np.int64]
    xy: NDArray[np.float64]


def _grid(
    net: _Net,
    zone: Polygon,
    origin: NDArray[np.float64],
    *,
    urban: bool,
    stem: str,
    rng: np.random.Generator,
) -> _Grid:
    """Lay a rotated street grid over ``zone`` (metres), anchored at ``origin``."""
    block = URBAN_BLOCK_M if urban else TOWN_BLOCK_M
    sub = URBAN_SUBNODES if urban else TOWN_SUBNODES
    angle = math.radians(rng.uniform(-GRID_MAX_TILT_DEG, GRID_MAX_TILT_DEG))
    u = np.array([math.cos(angle), math.sin(angle)])
    v = np.array([-math.sin(angle), math.cos(angle)])
    ring = np.asarray(zone.exterior.coords) - origin
    iu, iv = ring @ u / block, ring @ v / block
    irange = range(math.floor(iu.min()), math.ceil(iu.max()) + 1)
    jrange = range(math.floor(iv.min()), math.ceil(iv.max()) + 1)
    keys: dict[tuple[int, int], int] = {}
    for j in jrange:
        for i in irange:
            p = origin + i * block * u + j * block * v
            if zone.contains(Point(p)):
                keys[(i, j)] = net.node(p[0], p[1])

    def inside(a: int, b: int) -> bool:
        mid = (net.coords(a) + net.coords(b)) / 2.0
        return bool(shapely.contains_xy(zone, mid[0], mid[1]))

    def emit(run: list[int], tags: dict[str, str]) -> None:
        refs = [run[0]]
        for a, b in pairwise(run):
            pa, pb = net.coords(a), net.coords(b)
            for k in range(1, sub + 1):
                q = pa + (pb - pa) * k / (sub + 1)
                refs.append(net.node(q[0], q[1]))
            refs.append(b)
        net.add(refs, tags)

    row_names = URBAN_ROW_NAMES if urban else tuple(f"{stem}{s}" for s in STREET_SUFFIXES)
    col_names = URBAN_COL_NAMES if urban else tuple(f"{stem}{s}" for s in reversed(STREET_SUFFIXES))
    for axis in ("row", "col"):
        outer, inner = (jrange, irange) if axis == "row" else (irange, jrange)
        for k in outer:
            runs: list[list[int]] = []
            current: list[int] = []
            for m in inner:
                a_key = (m, k) if axis == "row" else (k, m)
                b_key = (m + 1, k) if axis == "row" else (k, m + 1)
                a, b = keys.get(a_key), keys.get(b_key)
                if a is not None and b is not None and inside(a, b):
                    if not current:
                        current = [a]
                    current.append(b)
                elif current:
                    runs.append(current)
                    current = []
            if current:
                runs.append(current)
            names = row_names if axis == "row" else col_names
            base = _grid_tags(axis, k, urban=urban, names=names, stem=stem)
            for run in runs:
                tags = dict(base)
                if urban and axis == "row" and k in (2, 3) and len(run) >= 4:
                    tags["oneway"] = "yes"
                    if k == 3:
                        run = run[::-1]
                if urban and axis == "col" and k in (-2, -3) and len(run) >= 4:
                    tags["oneway"] = "yes"
                    if k == -3:
                        run = run[::-1]
                emit(run, tags)
    items = sorted(keys.items(), key=lambda kv: kv[1])
    ids = np.array([idx for _, idx in items], dtype=np.int64)
    xy = np.array([net.xy[idx] for idx in ids], dtype=np.float64).reshape(-1, 2)
    return _Grid(ids, xy)


def _grid_tags(
    axis: str, k: int, *, urban: bool, names: tuple[str, ...], stem: str
) -> dict[str, str]:
    name_base = names[k % len(names)]
    if urban:
        name = name_base + ("路" if axis == "row" else "街")
        if k == 0:
            return {"highway": "primary", "name": name, "maxspeed": "50", "lanes": "4"}
        if abs(k) == 5:
            return {"highway": "secondary", "name": name, "maxspeed": "50"}
        if k % 3 == 0:
            return {"highway": "tertiary", "name": name, "maxspeed": "40"}
        return {"highway": "residential", "name": name, "maxspeed": "30"}
    if k == 0:
        return {"highway": "tertiary", "name": f"{stem}{'大道' if axis == 'row' else '中路'}"}
    return {"highway": "residential", "name": name_base}


def _border(a: Polygon, b: Polygon) -> tuple[float, NDArray[np.float64]] | None:
    """Length (m) and midpoint (metres) of the longest shared border piece of ``a`` and ``b``."""
    shared = shapely.intersection(a.boundary, b.boundary, grid_size=GRID_DEG)
    parts = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString"]
    if not parts:
        return None
    lines = shapely.get_parts(shapely.line_merge(shapely.MultiLineString(parts)))
    longest = max((geom_to_metric(g) for g in lines), key=lambda g: g.length)
    if longest.length < MIN_SHARED_BORDER_M:
        return None
    mid = longest.interpolate(0.5, normalized=True)
    return longest.length, np.array([mid.x, mid.y])


def _road_points(
    pts: NDArray[np.float64],
    *,
    spacing: float,
    wiggle: float,
    waves: int,
    rng: np.random.Generator,
    outline: Polygon,
) -> NDArray[np.float64]:
    """Interior nodes (metres) of a winding road along the polyline ``pts``."""
    line = LineString(pts)
    n = max(1, round(line.length / spacing))
    t = np.linspace(0.0, 1.0, n + 1)
    base = shapely.get_coordinates(shapely.line_interpolate_point(line, t, normalized=True))
    if len(base) < 3:
        return base[1:-1]
    tangent = np.gradient(base, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    norm[norm == 0] = 1.0
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]]) / norm[:, None]
    phase = rng.uniform(0, 2 * math.pi)
    offset = wiggle * line.length * np.sin(waves * math.pi * t + phase) * np.sin(math.pi * t)
    wound = base + normal * offset[:, None]
    if not shapely.contains_xy(outline, wound[1:-1, 0], wound[1:-1, 1]).all():
        wound = base
    return wound[1:-1]


def _walk(
    start: NDArray[np.float64],
    *,
    angle: float,
    step: float,
    steps: int,
    turn: float,
    region: BaseGeometry,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """A random walk (metres) from ``start`` that stops before leaving ``region``."""
    out: list[NDArray[np.float64]] = []
    p = start
    for _ in range(steps):
        angle += rng.normal(0.0, turn)
        q = p + step * np.array([math.cos(angle), math.sin(angle)])
        if not shapely.contains_xy(region, q[0], q[1]):
            break
        out.append(q)
        p = q
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _village_streets(
    net: _Net,
    village: Village,
    hub: int,
    region: BaseGeometry,
    rng: np.random.Generator,
    *,
    gridded: bool,
) -> None:
    """Residential streets, service spurs, tracks, paths and steps of one village."""
    stem = name_stem(village.name)
    hilly = village.hilly
    street_nodes: list[int] = [hub]
    if not gridded:
        if village.kind == "farm":
            n_res = 1
        elif hilly:
            n_res = int(rng.integers(1, 3))
        else:
            n_res = int(rng.integers(2, 5))
        suffixes = list(STREET_SUFFIXES)
        order = rng.permutation(len(suffixes))
        for k in range(n_res):
            start = hub if k == 0 or rng.random() < 0.5 else int(rng.choice(street_nodes))
            pts = _walk(
                net.coords(start),
                angle=rng.uniform(0, 2 * math.pi),
                step=rng.uniform(35.0, 55.0),
                steps=int(rng.integers(4, 10)),
                turn=0.15,
                region=region,
                rng=rng,
            )
            if len(pts) == 0:
                continue
            refs = net.chain(start, pts)
            tags = {"highway": "residential"}
            if rng.random() < 0.6:
                tags["name"] = stem + suffixes[int(order[k % len(order)])]
            if rng.random() < 0.4:
                tags["surface"] = "concrete"
            net.add(refs, tags)
            street_nodes.extend(refs[1:])
    spur_from = street_nodes[1:] or street_nodes
    for _ in range(int(rng.integers(1, 4))):
        start = int(rng.choice(spur_from))
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=rng.uniform(30.0, 45.0),
            steps=int(rng.integers(1, 4)),
            turn=0.1,
            region=region,
            rng=rng,
        )
        if len(pts):
            net.add(net.chain(start, pts), {"highway": "service"})
    n_track = int(rng.integers(2, 5)) if hilly else int(rng.integers(0, 3))
    if gridded:
        n_track = 0
    track_ends: list[int] = []
    for _ in range(n_track):
        start = int(rng.choice(street_nodes))
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=50.0,
            steps=int(rng.integers(4, 17)),
            turn=0.35,
            region=region,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        refs = net.chain(start, pts)
        tags = {
            "highway": "track",
            "tracktype": str(rng.choice(["grade2", "grade3", "grade4", "grade5"])),
            "surface": str(rng.choice(["gravel", "dirt", "ground", "compacted"])),
        }
        if rng.random() < 0.6:
            tags["smoothness"] = str(rng.choice(["bad", "very_bad", "horrible"]))
        if rng.random() < 0.12:
            tags["access"] = "no"
            tags["name"] = f"{stem}林区道路"
        if rng.random() < 0.5:
            tags["wheelchair"] = "no"
        net.add(refs, tags)
        track_ends.append(refs[-1])
    n_path = int(rng.integers(1, 3)) if hilly else int(rng.random() < 0.25)
    if gridded:
        n_path = 0
    for _ in range(n_path):
        start = int(rng.choice(track_ends)) if track_ends else int(rng.choice(street_nodes))
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=30.0,
            steps=int(rng.integers(3, 11)),
            turn=0.45,
            region=region,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        tags = {"highway": "path", "surface": str(rng.choice(["ground", "dirt", "rock"]))}
        if rng.random() < 0.5:
            tags["wheelchair"] = "no"
        if hilly and rng.random() < 0.3:
            tags["name"] = f"{stem}古道"
        net.add(net.chain(start, pts), tags)
    if hilly and rng.random() < 0.4:
        start = int(rng.choice(street_nodes))
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=20.0,
            steps=2,
            turn=0.1,
            region=region,
            rng=rng,
        )
        if len(pts):
            steps_tags = {
                "highway": "steps",
                "wheelchair": "no",
                "step_count": str(int(rng.integers(12, 60))),
            }
            net.add(net.chain(start, pts), steps_tags)


def _grid_extras(
    net: _Net, grid: _Grid, zone: Polygon, stem: str, rng: np.random.Generator, *, urban: bool
) -> None:
    """Footways, steps and service spurs inside a street grid."""
    if len(grid.ids) == 0:
        return
    n_foot = max(2, len(grid.ids) // (25 if urban else 40))
    for k in range(n_foot):
        start = int(grid.ids[int(rng.integers(len(grid.ids)))])
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=35.0,
            steps=int(rng.integers(2, 7)),
            turn=0.3,
            region=zone,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        if k % 6 == 5:
            tags = {
                "highway": "steps",
                "wheelchair": "no",
                "step_count": str(int(rng.integers(8, 30))),
            }
            pts = pts[:1]
        else:
            tags = {"highway": "footway", "surface": "paving_stones"}
            if k % 3 == 0:
                tags["name"] = f"{stem}{'滨河' if k % 2 else '公园'}步道"
            if k % 4 == 1:
                tags["wheelchair"] = "yes"
        net.add(net.chain(start, pts), tags)
    for _ in range(max(2, len(grid.ids) // 12)):
        start = int(grid.ids[int(rng.integers(len(grid.ids)))])
        pts = _walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=30.0,
            steps=int(rng.integers(1, 3)),
            turn=0.1,
            region=zone,
            rng=rng,
        )
        if len(pts):
            net.add(net.chain(start, pts), {"highway": "service"})


def _components(net: _Net) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Strong component label of every node over drivable ways, and which nodes are drivable."""
    rows: list[int] = []
    cols: list[int] = []
    for way in net.ways:
        if not is_drivable(way.tags):
            continue
        a, b = way.refs[:-1], way.refs[1:]
        rows.extend(a)
        cols.extend(b)
        if way.tags.get("oneway") != "yes":
            rows.extend(b)
            cols.extend(a)
    n = len(net.xy)
    used = np.zeros(n, dtype=bool)
    used[rows] = True
    used[cols] = True
    graph = coo_array((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    _, labels = connected_components(graph, directed=True, connection="strong")
    return labels.astype(np.int64), used


def _main_label(labels: NDArray[np.int64], used: NDArray[np.bool_]) -> int:
    counts = np.bincount(labels[used])
    return int(np.argmax(counts))


def _make_strong(net: _Net) -> None:
    """Make the drivable network one strongly connected component.

    One-way streets that leave nodes out lose their ``oneway`` tag; then every
    other component is joined to the main one by a short two-way street.
    """
    labels, used = _components(net)
    main = _main_label(labels, used)
    for k, way in enumerate(net.ways):
        if way.tags.get("oneway") == "yes" and any(labels[r] != main for r in way.refs):
            tags = {key: val for key, val in way.tags.items() if key != "oneway"}
            net.ways[k] = Way(way.refs, tags)
    for _ in range(200):
        labels, used = _components(net)
        main = _main_label(labels, used)
        outside = np.flatnonzero(used & (labels != main))
        if len(outside) == 0:
            return
        xy = np.array(net.xy)
        main_nodes = np.flatnonzero(used & (labels == main))
        tree = cKDTree(xy[main_nodes])
        for label in np.unique(labels[outside]):
            members = outside[labels[outside] == label]
            dist, idx = tree.query(xy[members])
            k = int(np.argmin(dist))
            a, b = int(members[k]), int(main_nodes[int(idx[k])])
            pa, pb = xy[a], xy[b]
            n = max(1, round(float(np.hypot(*(pb - pa))) / 40.0))
            inner = [pa + (pb - pa) * s / n for s in range(1, n)]
            pts = np.array(inner, dtype=np.float64).reshape(-1, 2)
            net.add(net.chain(a, pts, b), {"highway": "residential"})
    raise RuntimeError("could not connect the road network")


def build_roads(district: District, rng: np.random.Generator) -> RoadNetwork:
    """Build the synthetic road network of ``district``.

    Parameters
    ----------
    district
        Towns and villages (WGS-84).
    rng
        The generator's random source.

    Returns
    -------
    RoadNetwork
        Nodes in WGS-84 degrees; ``hubs`` maps each village code to the node at
        its committee point (grid villages: the grid intersection nearest it).
    """
    net = _Net()
    villages = district.villages
    outline_m = geom_to_metric(district.outline)
    polys_m = [geom_to_metric(v.polygon) for v in villages]
    seeds = to_metric(np.array([[v.lon, v.lat] for v in villages]))
    index = {v.code: i for i, v in enumerate(villages)}

    # Street grids over the communities of each town; one for the urban centre.
    zones: list[tuple[list[int], bool, str]] = []
    urban_members = [i for i, v in enumerate(villages) if v.kind == "community" and v.urban]
    zones.append((urban_members, True, "城"))
    for town in district.towns:
        if town.terrain == "urban":
            continue
        members = [
            i for i, v in enumerate(villages) if v.town_code == town.code and v.kind == "community"
        ]
        if members:
            zones.append((members, False, name_stem(town.name.removesuffix("街道"))))
    zone_of: dict[int, int] = {}
    grid_nodes: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
    hubs: dict[int, int] = {}
    for z, (members, urban, stem) in enumerate(zones):
        zone = shapely.union_all([polys_m[i] for i in members])
        for zone_poly in shapely.get_parts(zone):
            inside = [i for i in members if zone_poly.contains(Point(seeds[i]))]
            if not inside or not isinstance(zone_poly, Polygon):
                continue
            grid = _grid(net, zone_poly, seeds[inside[0]], urban=urban, stem=stem, rng=rng)
            _grid_extras(net, grid, zone_poly, stem, rng, urban=urban)
            _grid_hubs(grid, inside, z, polys_m, seeds, zone_of, grid_nodes, hubs)
    for i in range(len(villages)):
        if i not in hubs:
            hubs[i] = net.node(seeds[i][0], seeds[i][1])

    # Village adjacency through shared borders.
    tree = shapely.STRtree([v.polygon for v in villages])
    pairs = tree.query([v.polygon for v in villages], predicate="intersects")
    links: dict[tuple[int, int], NDArray[np.float64]] = {}  # border midpoints (m)
    weights: dict[tuple[int, int], float] = {}  # hub to border to hub (m)
    graph: dict[int, list[tuple[int, float]]] = {}
    for a, b in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
        if a >= b:
            continue
        border = _border(villages[a].polygon, villages[b].polygon)
        if border is None:
            continue
        links[(a, b)] = border[1]
        w = float(np.hypot(*(seeds[a] - border[1])) + np.hypot(*(seeds[b] - border[1])))
        weights[(a, b)] = w
        graph.setdefault(a, []).append((b, w))
        graph.setdefault(b, []).append((a, w))

    # Spanning tree (Kruskal), so every village is reachable.
    parent = list(range(len(villages)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    chosen: dict[tuple[int, int], dict[str, str]] = {}
    for key in sorted(weights, key=lambda k: (weights[k], k)):
        ra, rb = find(key[0]), find(key[1])
        if ra != rb:
            parent[ra] = rb
            chosen[key] = {}

    # Arterials between the seats of neighbouring towns.
    seat_village: dict[str, int] = {}
    for town in district.towns:
        members = [i for i, v in enumerate(villages) if v.town_code == town.code]
        seat = to_metric(np.array([[town.lon, town.lat]]))[0]
        seat_village[town.name] = min(members, key=lambda i: float(np.hypot(*(seeds[i] - seat))))
    town_of = [v.town for v in villages]
    for highway, name, speed, route in ARTERIALS:
        for ta, tb in pairwise(route):
            allowed = {i for i, t in enumerate(town_of) if t in (ta, tb)}
            path = shortest_path(graph, seat_village[ta], seat_village[tb], allowed)
            for a, b in pairwise(path):
                key = (min(a, b), max(a, b))
                old = chosen.get(key, {})
                if RANK.get(old.get("highway", ""), 0) < RANK[highway]:
                    chosen[key] = {"highway": highway, "name": name, "maxspeed": speed}

    # Extra links: many in the plains, few in the hills.
    for key in sorted(links):
        if key in chosen:
            continue
        a, b = key
        hill = villages[a].hilly or villages[b].hilly
        if rng.random() < (EXTRA_LINK_HILL if hill else EXTRA_LINK_PLAIN):
            chosen[key] = {}

    county_road = 301
    for key in sorted(chosen):
        a, b = key
        za, zb = zone_of.get(a), zone_of.get(b)
        if za is not None and za == zb:
            continue  # the street grid already joins them
        tags = chosen[key]
        hill = villages[a].hilly or villages[b].hilly
        if not tags:
            sa, sb = name_stem(villages[a].name), name_stem(villages[b].name)
            if villages[a].town != villages[b].town or (not hill and rng.random() < TERTIARY_SHARE):
                tags = {
                    "highway": "tertiary",
                    "name": f"县道X{county_road}",
                    "ref": f"X{county_road}",
                }
                if rng.random() < 0.5:
                    tags["maxspeed"] = "40"
                county_road += 1
            else:
                tags = {"highway": "unclassified"}
                if rng.random() < 0.6:
                    tags["name"] = f"{sa[0]}{sb[0]}线"
                if rng.random() < 0.5:
                    tags["surface"] = "concrete"
        mid = links[key]
        start = _anchor(a, mid, hubs, grid_nodes)
        end = _anchor(b, mid, hubs, grid_nodes)
        pts = np.vstack([net.coords(start), mid, net.coords(end)])
        major = RANK.get(tags["highway"], 0) >= 3
        pts_inner = _road_points(
            pts,
            spacing=LINK_SPACING_HILL_M if hill and not major else LINK_SPACING_PLAIN_M,
            wiggle=(WIGGLE_HILL if hill else WIGGLE_PLAIN) * (0.4 if major else 1.0),
            waves=int(rng.integers(*(WAVES_HILL if hill else WAVES_PLAIN))),
            rng=rng,
            outline=outline_m,
        )
        net.add(net.chain(start, pts_inner, end), tags)

    for i, v in enumerate(villages):
        region = polys_m[i].buffer(-10.0)
        if region.is_empty:
            region = polys_m[i]
        _village_streets(net, v, hubs[i], region, rng, gridded=i in grid_nodes)

    _make_strong(net)
    lonlat = to_lonlat(np.array(net.xy))
    return RoadNetwork(
        lon=lonlat[:, 0],
        lat=lonlat[:, 1],
        ways=net.ways,
        hubs={v.code: hubs[index[v.code]] for v in villages},
    )


def _grid_hubs(
    grid: _Grid,
    members: list[int],
    zone: int,
    polys_m: list[BaseGeometry],
    seeds: NDArray[np.float64],
    zone_of: dict[int, int],
    grid_nodes: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]],
    hubs: dict[int, int],
) -> None:
    """Give each village of a grid its grid nodes and, as hub, the one nearest its seed."""
    if len(grid.ids) == 0:
        return
    for i in members:
        inner = polys_m[i].buffer(-HUB_INSET_M)
        mask = shapely.contains_xy(inner, grid.xy[:, 0], grid.xy[:, 1])
        if not np.any(mask):
            continue
        ids, xy = grid.ids[mask], grid.xy[mask]
        zone_of[i] = zone
        grid_nodes[i] = (ids, xy)
        hubs[i] = int(ids[int(np.argmin(np.hypot(*(xy - seeds[i]).T)))])


def _anchor(
    i: int,
    target: NDArray[np.float64],
    hubs: dict[int, int],
    grid_nodes: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]],
) -> int:
    """Where a link leaves village ``i``: its hub, or its grid node nearest ``target``."""
    if i not in grid_nodes:
        return hubs[i]
    ids, xy = grid_nodes[i]
    return int(ids[int(np.argmin(np.hypot(*(xy - target).T)))])


def write_osm(net: RoadNetwork, path: Path) -> None:
    """Write ``net`` as OpenStreetMap XML 0.6 (node coordinates to 7 decimals)."""
    lat = np.round(net.lat, 7)
    lon = np.round(net.lon, 7)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<osm version="0.6" generator="{OSM_GENERATOR}">',
        f"  <!-- {OSM_NOTE} -->",
        f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
        f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>',
    ]
    out.extend(
        f'  <node id="{k + 1}" version="1" lat="{y:.7f}" lon="{x:.7f}"/>'
        for k, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True))
    )
    for k, way in enumerate(net.ways):
        out.append(f'  <way id="{k + 1}" version="1">')
        out.extend(f'    <nd ref="{r + 1}"/>' for r in way.refs)
        out.extend(
            f"    <tag k={quoteattr(key)} v={quoteattr(val)}/>" for key, val in way.tags.items()
        )
        out.append("  </way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
