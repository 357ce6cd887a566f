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

The pieces: the ways and the network being built (:mod:`data.demo._ways`), the
street grids (:mod:`data.demo._street_grid`) and the roads inside each village
(:mod:`data.demo._village_roads`); this module joins the villages and writes
the OSM file.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Polygon

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
from data.demo._street_grid import street_grids
from data.demo._village_roads import village_streets
from data.demo._ways import (
    DRIVABLE_HIGHWAYS,
    WALK_ONLY_HIGHWAYS,
    NetBuilder,
    RoadNetwork,
    Way,
    is_drivable,
)

__all__ = [
    "DRIVABLE_HIGHWAYS",
    "WALK_ONLY_HIGHWAYS",
    "RoadNetwork",
    "Way",
    "build_roads",
    "is_drivable",
    "write_osm",
]

OSM_GENERATOR = "coverplan synthetic demo"
OSM_NOTE = "合成演示数据：道路网络为程序生成，非真实道路"

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

_Links = dict[tuple[int, int], NDArray[np.float64]]  # village pair -> border midpoint (m)
_Chosen = dict[tuple[int, int], dict[str, str]]  # village pair -> tags of its link
_GridNodes = dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]]


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
    net = NetBuilder()
    villages = district.villages
    outline_m = geom_to_metric(district.outline)
    polys_m = [geom_to_metric(v.polygon) for v in villages]
    seeds = to_metric(np.array([[v.lon, v.lat] for v in villages]))
    index = {v.code: i for i, v in enumerate(villages)}

    zone_of, grid_nodes, hubs = street_grids(net, district, polys_m, seeds, rng)
    for i in range(len(villages)):
        if i not in hubs:
            hubs[i] = net.node(seeds[i][0], seeds[i][1])

    links, weights, graph = _adjacency(villages, seeds)
    chosen = _spanning_tree(len(villages), weights)
    _add_arterials(district, seeds, graph, chosen)
    _add_extra_links(villages, links, chosen, rng)
    _lay_links(
        net,
        villages,
        chosen,
        links=links,
        zone_of=zone_of,
        hubs=hubs,
        grid_nodes=grid_nodes,
        outline_m=outline_m,
        rng=rng,
    )

    for i, v in enumerate(villages):
        region = polys_m[i].buffer(-10.0)
        if region.is_empty:
            region = polys_m[i]
        village_streets(net, v, hubs[i], region, rng, gridded=i in grid_nodes)

    _make_strong(net)
    lonlat = to_lonlat(np.array(net.xy))
    return RoadNetwork(
        lon=lonlat[:, 0],
        lat=lonlat[:, 1],
        ways=net.ways,
        hubs={v.code: hubs[index[v.code]] for v in villages},
    )


def _adjacency(
    villages: list[Village], seeds: NDArray[np.float64]
) -> tuple[_Links, dict[tuple[int, int], float], dict[int, list[tuple[int, float]]]]:
    """Village adjacency through shared borders: border midpoints (m), the length
    hub to border to hub (m) of each neighbour pair, and the weighted graph."""
    tree = shapely.STRtree([v.polygon for v in villages])
    pairs = tree.query([v.polygon for v in villages], predicate="intersects")
    links: _Links = {}  # border midpoints (m)
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
    return links, weights, graph


def _spanning_tree(n: int, weights: dict[tuple[int, int], float]) -> _Chosen:
    """Spanning tree (Kruskal), so every village is reachable: the chosen links (no tags)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    chosen: _Chosen = {}
    for key in sorted(weights, key=lambda k: (weights[k], k)):
        ra, rb = find(key[0]), find(key[1])
        if ra != rb:
            parent[ra] = rb
            chosen[key] = {}
    return chosen


def _add_arterials(
    district: District,
    seeds: NDArray[np.float64],
    graph: dict[int, list[tuple[int, float]]],
    chosen: _Chosen,
) -> None:
    """Arterials (ARTERIALS) between the seats of neighbouring towns, tagged on ``chosen``."""
    villages = district.villages
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


def _add_extra_links(
    villages: list[Village], links: _Links, chosen: _Chosen, rng: np.random.Generator
) -> None:
    """Extra links: many in the plains, few in the hills."""
    for key in sorted(links):
        if key in chosen:
            continue
        a, b = key
        hill = villages[a].hilly or villages[b].hilly
        if rng.random() < (EXTRA_LINK_HILL if hill else EXTRA_LINK_PLAIN):
            chosen[key] = {}


def _lay_links(
    net: NetBuilder,
    villages: list[Village],
    chosen: _Chosen,
    *,
    links: _Links,
    zone_of: dict[int, int],
    hubs: dict[int, int],
    grid_nodes: _GridNodes,
    outline_m: Polygon,
    rng: np.random.Generator,
) -> None:
    """Lay each chosen link as a winding road through the border midpoint; untagged
    links become county roads (县道X301…) or unclassified roads."""
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


def _components(net: NetBuilder) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
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


def _make_strong(net: NetBuilder) -> None:
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
