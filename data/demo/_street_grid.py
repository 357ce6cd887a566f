"""Street grids over the communities of each demo town, and their side streets.

The urban centre (锦屏/岳林) gets 150 m blocks with two one-way pairs, other
towns 210 m blocks; each grid is rotated at random and clipped to its
communities. :func:`street_grids` lays them all and gives each village of a
grid its grid nodes and hub.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from data.demo._geometry import District, name_stem
from data.demo._ways import NetBuilder, random_walk

# Street grids: block size (m), intermediate nodes per block side.
URBAN_BLOCK_M = 150.0
URBAN_SUBNODES = 3
TOWN_BLOCK_M = 210.0
TOWN_SUBNODES = 2
GRID_MAX_TILT_DEG = 25.0
HUB_INSET_M = 5.0  # a grid hub lies at least this far inside its village

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


def street_grids(
    net: NetBuilder,
    district: District,
    polys_m: list[BaseGeometry],
    seeds: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[
    dict[int, int], dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]], dict[int, int]
]:
    """Street grids over the communities of each town; one for the urban centre.

    Returns, by village index, the grid (zone) it lies in, its grid nodes (ids and
    metric coordinates) and its hub node, for the villages inside a grid.
    """
    villages = district.villages
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
    return zone_of, grid_nodes, hubs


@dataclass
class _Grid:
    """A street grid's intersection nodes (ids and metric coordinates)."""

    ids: NDArray[np.int64]
    xy: NDArray[np.float64]


def _grid(
    net: NetBuilder,
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


def _grid_extras(
    net: NetBuilder, grid: _Grid, zone: Polygon, stem: str, rng: np.random.Generator, *, urban: bool
) -> None:
    """Footways, steps and service spurs inside a street grid."""
    if len(grid.ids) == 0:
        return
    n_foot = max(2, len(grid.ids) // (25 if urban else 40))
    for k in range(n_foot):
        start = int(grid.ids[int(rng.integers(len(grid.ids)))])
        pts = random_walk(
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
        pts = random_walk(
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
