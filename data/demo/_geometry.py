"""Synthetic geometry of the demo district: towns and villages inside the real outline.

The 12 towns tile the real district outline as a power diagram (a Voronoi diagram
with additive weights) of approximate real town seats, with weights tuned so that
each town gets roughly its real area. Villages are Voronoi cells of seeds inside
their town: communities (社区/居委会) clustered around the town seat, villages
(村委会) and farm living areas (生活区) spread over the rest. Every cell is made a
single polygon by handing detached pieces to the neighbour they share most
border with. All output geometry is WGS-84 lon/lat on a 1e-7 degree grid, so
neighbouring polygons share their edges exactly.

Positions and boundaries are synthetic; only the codes, names and the outline
are real (see ``data/demo/README.md``).
"""

from __future__ import annotations

import csv
import heapq
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import shapely
import shapely.ops
from numpy.typing import NDArray
from shapely.geometry import Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"
UNITS_CSV = REFERENCE_DIR / "fenghua_admin_units.csv"
OUTLINE_GEOJSON = REFERENCE_DIR / "fenghua_district_outline.geojson"

# Local metric frame: an equirectangular projection about the district centre.
LON0 = 121.40  # degrees
LAT0 = 29.60  # degrees
M_PER_DEG_LAT = 110_850.0  # metres per degree of latitude at LAT0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))  # metres per degree of longitude
GRID_DEG = 1e-7  # precision grid of all output geometry, degrees (about 1 cm)

Kind = Literal["community", "village", "farm"]
Terrain = Literal["urban", "plain", "hill"]


@dataclass(frozen=True)
class TownLayout:
    """Where a town goes: its seat (degrees), rough area (km²) and terrain."""

    lon: float
    lat: float
    area_km2: float
    terrain: Terrain


# Approximate real town seats and areas (km², rounded public figures); the
# partition only needs plausible relative positions and sizes.
TOWN_LAYOUT: dict[str, TownLayout] = {
    "锦屏街道": TownLayout(121.400, 29.652, 42.0, "urban"),
    "岳林街道": TownLayout(121.442, 29.662, 66.0, "urban"),
    "江口街道": TownLayout(121.415, 29.715, 71.0, "plain"),
    "西坞街道": TownLayout(121.505, 29.700, 90.0, "plain"),
    "萧王庙街道": TownLayout(121.330, 29.690, 80.0, "plain"),
    "方桥街道": TownLayout(121.435, 29.762, 28.0, "plain"),
    "尚田街道": TownLayout(121.370, 29.580, 214.0, "plain"),
    "莼湖街道": TownLayout(121.540, 29.600, 174.0, "plain"),
    "溪口镇": TownLayout(121.235, 29.668, 378.0, "plain"),
    "裘村镇": TownLayout(121.630, 29.578, 91.0, "plain"),
    "大堰镇": TownLayout(121.235, 29.475, 147.0, "hill"),
    "松岙镇": TownLayout(121.700, 29.590, 38.0, "plain"),
}

# The urban centre straddles 锦屏 and 岳林: both towns' communities cluster around it.
URBAN_CENTRE = (121.424, 29.657)  # degrees

# Hill country: all of 大堰, 溪口 west of this longitude, 尚田 south of this latitude.
XIKOU_HILLS_WEST_OF = 121.225  # degrees
SHANGTIAN_HILLS_SOUTH_OF = 29.565  # degrees

# Area of a community (社区/居委会) cell, km²: small in the urban centre.
COMMUNITY_AREA_URBAN_KM2 = 0.7
COMMUNITY_AREA_TOWN_KM2 = 1.0
POWER_ITERATIONS = 120
LLOYD_ITERATIONS = 2
CANDIDATES_PER_SEED = 24  # best-candidate sampling

# Synthetic resident population per unit (persons), drawn uniformly in these ranges.
POPULATION_RANGES: dict[str, tuple[int, int]] = {
    "urban_community": (5_000, 11_000),
    "town_community": (2_500, 6_000),
    "plain_village": (1_200, 3_600),
    "hill_village": (400, 1_500),
    "farm": (150, 500),
}

# Made-up pre-merger village names (村规模调整); stems only, "村" is appended.
ALIAS_STEMS = (
    "下王", "上周", "后陈", "前蒋", "石桥头", "新屋", "塘岙", "小溪", "岙底", "里王",
    "外张", "横山", "中堡", "西庄", "东庄", "竹园", "上岙", "下岙", "樟树", "前山",
)  # fmt: skip
ALIAS_COUNT = 10


@dataclass(frozen=True)
class Village:
    """One village or community with its synthetic geometry.

    ``polygon`` is WGS-84 lon/lat; ``lon``/``lat`` (degrees, 6 decimals) is the
    committee point; ``population`` is the synthetic number of inhabitants.
    """

    code: str
    name: str
    town_code: str
    town: str
    kind: Kind
    polygon: Polygon
    lon: float
    lat: float
    hilly: bool
    urban: bool
    population: int
    alias: str = ""

    @property
    def written(self) -> str:
        """The name as residents write it: ``岩头村`` for ``岩头村委会``."""
        return written_name(self.name)


@dataclass(frozen=True)
class Town:
    """A town (镇/街道) with its synthetic polygon (WGS-84) and seat."""

    code: str
    name: str
    polygon: Polygon
    lon: float
    lat: float
    terrain: Terrain


@dataclass(frozen=True)
class District:
    """The outline (real), the towns and villages (synthetic geometry)."""

    outline: Polygon
    towns: list[Town]
    villages: list[Village]


def written_name(name: str) -> str:
    """How residents write an official unit name (``…村委会`` → ``…村``)."""
    return name[:-2] if name.endswith("村委会") else name


def name_stem(name: str) -> str:
    """The name without its suffix (``岩头村委会`` → ``岩头``)."""
    for suffix in ("社区居委会", "村委会", "居委会", "社区", "生活区", "村"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def to_metric(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lon/lat (degrees, shape (n, 2)) to the local metric frame (metres)."""
    out = np.empty_like(xy, dtype=np.float64)
    out[:, 0] = (xy[:, 0] - LON0) * M_PER_DEG_LON
    out[:, 1] = (xy[:, 1] - LAT0) * M_PER_DEG_LAT
    return out


def to_lonlat(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Local metric coordinates (metres, shape (n, 2)) to lon/lat (degrees)."""
    out = np.empty_like(xy, dtype=np.float64)
    out[:, 0] = xy[:, 0] / M_PER_DEG_LON + LON0
    out[:, 1] = xy[:, 1] / M_PER_DEG_LAT + LAT0
    return out


def geom_to_metric(geom: BaseGeometry) -> BaseGeometry:
    """A lon/lat geometry in the local metric frame."""
    return shapely.transform(geom, to_metric)


def geom_to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    """A local metric geometry in lon/lat."""
    return shapely.transform(geom, to_lonlat)


def load_units() -> tuple[list[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """The real towns ``(code, name)`` and villages ``(code, name, town code, town)``."""
    towns: list[tuple[str, str]] = []
    villages: list[tuple[str, str, str, str]] = []
    with UNITS_CSV.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["level"] == "town":
                towns.append((row["code"], row["name"]))
            elif row["level"] == "village":
                villages.append((row["code"], row["name"], row["parent_code"], row["parent_name"]))
    return towns, villages


def load_outline() -> Polygon:
    """The real district outline (WGS-84), as one polygon."""
    data = json.loads(OUTLINE_GEOJSON.read_text(encoding="utf-8"))
    geom = shape(data["features"][0]["geometry"])
    polys = _polygons(geom)
    return max(polys, key=lambda p: p.area)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygon parts of any geometry (lines and points are dropped)."""
    return [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]


def _clip_halfplane(
    poly: NDArray[np.float64], a: NDArray[np.float64], b: float
) -> NDArray[np.float64]:
    """Clip a convex ring (k, 2) to the half-plane ``a·x <= b`` (Sutherland–Hodgman)."""
    if len(poly) == 0:
        return poly
    out: list[NDArray[np.float64]] = []
    vals = poly @ a - b
    n = len(poly)
    for k in range(n):
        p, q = poly[k], poly[(k + 1) % n]
        vp, vq = vals[k], vals[(k + 1) % n]
        if vp <= 0:
            out.append(p)
        if (vp < 0 < vq) or (vq < 0 < vp):
            t = vp / (vp - vq)
            out.append(p + t * (q - p))
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _power_cells(
    sites: NDArray[np.float64], weights: NDArray[np.float64], box: tuple[float, float, float, float]
) -> list[Polygon]:
    """Cells of the power diagram of ``sites`` (metres) with ``weights`` (m²)."""
    x0, y0, x1, y1 = box
    square = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)
    norms = (sites**2).sum(axis=1)
    cells: list[Polygon] = []
    for i in range(len(sites)):
        ring = square
        for j in range(len(sites)):
            if i == j:
                continue
            a = 2.0 * (sites[j] - sites[i])
            b = float(norms[j] - norms[i] + weights[i] - weights[j])
            ring = _clip_halfplane(ring, a, b)
        cells.append(Polygon(ring) if len(ring) >= 3 else Polygon())
    return cells


def _single_parts(cells: list[BaseGeometry], anchors: list[Point]) -> list[Polygon]:
    """Make every cell one polygon: detached pieces go to the neighbour sharing most border."""
    main: list[Polygon] = []
    orphans: list[Polygon] = []
    for cell, anchor in zip(cells, anchors, strict=True):
        parts = _polygons(cell)
        if not parts:
            raise ValueError("a cell has no area")
        keep = next((p for p in parts if p.contains(anchor)), max(parts, key=lambda p: p.area))
        main.append(keep)
        orphans.extend(p for p in parts if p is not keep)
    while orphans:
        remaining: list[Polygon] = []
        for piece in orphans:
            best, best_len = -1, 0.0
            for i, poly in enumerate(main):
                if not poly.intersects(piece):
                    continue
                shared = shapely.intersection(poly.boundary, piece.boundary, grid_size=GRID_DEG)
                if shared.length > best_len:
                    best, best_len = i, shared.length
            if best < 0:
                remaining.append(piece)
                continue
            merged = _polygons(shapely.union(main[best], piece, grid_size=GRID_DEG))
            main[best] = max(merged, key=lambda p: p.area)
        if len(remaining) == len(orphans):
            raise ValueError("detached pieces without a neighbour")
        orphans = remaining
    return main


def _town_polygons(outline: Polygon, names: list[str]) -> list[Polygon]:
    """Tile ``outline`` (lon/lat) with one polygon per town in ``names``."""
    outline_m = geom_to_metric(outline)
    seeds = np.array([[TOWN_LAYOUT[n].lon, TOWN_LAYOUT[n].lat] for n in names])
    sites = to_metric(seeds)
    target = np.array([TOWN_LAYOUT[n].area_km2 for n in names])
    target = target / target.sum() * outline_m.area
    nearest = np.array(
        [np.sort(np.hypot(*(sites - s).T))[1] for s in sites], dtype=np.float64
    )  # metres to the nearest other seat
    x0, y0, x1, y1 = outline_m.bounds
    box = (x0 - 5e4, y0 - 5e4, x1 + 5e4, y1 + 5e4)
    weights = np.zeros(len(names))
    for _ in range(POWER_ITERATIONS):
        cells = _power_cells(sites, weights, box)
        clipped = [c.intersection(outline_m) for c in cells]
        area = np.array([c.area for c in clipped])
        perimeter = np.array([max(c.length, 1.0) for c in clipped])
        weights = weights + 0.5 * 2.0 * nearest * (target - area) / perimeter
        weights = weights - weights.mean()
    cells = [geom_to_lonlat(c) for c in _power_cells(sites, weights, box)]
    clipped_ll = [shapely.intersection(c, outline, grid_size=GRID_DEG) for c in cells]
    anchors = [Point(s) for s in seeds]
    return _single_parts(clipped_ll, anchors)


def _sample_in(region: BaseGeometry, count: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``count`` uniform random points (metres) inside a metric ``region``."""
    x0, y0, x1, y1 = region.bounds
    found: list[NDArray[np.float64]] = []
    total = 0
    while total < count:
        pts = np.column_stack(
            [rng.uniform(x0, x1, 4 * count + 16), rng.uniform(y0, y1, 4 * count + 16)]
        )
        pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]
        found.append(pts)
        total += len(pts)
    return np.concatenate(found)[:count]


def _best_candidate(
    region: BaseGeometry,
    count: int,
    fixed: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``count`` well-spread points (metres) in ``region``, away from ``fixed`` points."""
    chosen = [p for p in fixed]
    out: list[NDArray[np.float64]] = []
    for _ in range(count):
        cand = _sample_in(region, CANDIDATES_PER_SEED, rng)
        if chosen:
            ref = np.array(chosen)
            d = np.hypot(cand[:, None, 0] - ref[None, :, 0], cand[:, None, 1] - ref[None, :, 1])
            pick = cand[int(np.argmax(d.min(axis=1)))]
        else:
            pick = cand[0]
        chosen.append(pick)
        out.append(pick)
    return np.array(out, dtype=np.float64).reshape(-1, 2)


def _kind(name: str) -> Kind:
    if name.endswith(("社区", "居委会")):
        return "community"
    if name.endswith("生活区"):
        return "farm"
    return "village"


def _is_hilly(town: str, kind: Kind, lon: float, lat: float) -> bool:
    if kind == "community":
        return False
    if TOWN_LAYOUT[town].terrain == "hill":
        return True
    if town == "溪口镇":
        return lon < XIKOU_HILLS_WEST_OF
    if town == "尚田街道":
        return lat < SHANGTIAN_HILLS_SOUTH_OF
    return False


def _voronoi_cells(seeds_m: NDArray[np.float64], town_ll: Polygon) -> list[BaseGeometry]:
    """Voronoi cells of metric seeds, clipped to the town (lon/lat, on the grid)."""
    town_m = geom_to_metric(town_ll)
    x0, y0, x1, y1 = town_m.bounds
    box = shapely.box(x0 - 1e4, y0 - 1e4, x1 + 1e4, y1 + 1e4)
    if len(seeds_m) == 1:
        return [town_ll]
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds_m), extend_to=box, ordered=True)
    cells = [geom_to_lonlat(c) for c in shapely.get_parts(diagram)]
    return [shapely.intersection(c, town_ll, grid_size=GRID_DEG) for c in cells]


def _village_seeds(
    town: str,
    town_ll: Polygon,
    kinds: list[Kind],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Seeds (metres) of the villages of one town, in the order of ``kinds``."""
    layout = TOWN_LAYOUT[town]
    town_m = geom_to_metric(town_ll)
    urban = layout.terrain == "urban"
    hub = URBAN_CENTRE if urban else (layout.lon, layout.lat)
    seat = Point(to_metric(np.array([hub]))[0])
    is_comm = np.array([k == "community" for k in kinds])
    n_comm = int(is_comm.sum())
    n_rest = len(kinds) - n_comm
    area = COMMUNITY_AREA_URBAN_KM2 if urban else COMMUNITY_AREA_TOWN_KM2
    # The urban centre lies on the town border, so only about half its disc is in the town.
    share = 2.0 if urban else 1.0
    radius = math.sqrt(share * max(n_comm, 1) * area * 1e6 / math.pi) * 1.1
    inner = town_m.buffer(-150.0)
    first = shapely.ops.nearest_points(inner, seat)[0] if not inner.contains(seat) else seat
    centre = np.array([first.x, first.y])
    disc = shapely.intersection(seat.buffer(radius, quad_segs=16), town_m)
    comm = np.zeros((0, 2))
    if n_comm:
        comm = np.vstack([centre, _best_candidate(disc, n_comm - 1, centre[None, :], rng)])
    rest_region = town_m.difference(seat.buffer(radius * 1.05, quad_segs=16))
    if rest_region.area < 0.3 * town_m.area:
        rest_region = town_m
    rest = _best_candidate(rest_region, n_rest, comm, rng)
    # A few Lloyd steps spread villages evenly; communities stay clustered.
    for _ in range(LLOYD_ITERATIONS):
        if n_rest == 0 or len(kinds) < 2:
            break
        seeds = _assemble(comm, rest, is_comm)
        cells = _voronoi_cells(seeds, town_ll)
        moved = rest.copy()
        for k, idx in enumerate(np.flatnonzero(~is_comm)):
            parts = _polygons(cells[idx])
            if not parts:
                continue
            cell_m = geom_to_metric(max(parts, key=lambda p: p.area))
            c = cell_m.centroid
            if rest_region.contains(c):
                moved[k] = (c.x, c.y)
        rest = moved
    return _assemble(comm, rest, is_comm)


def _assemble(
    comm: NDArray[np.float64], rest: NDArray[np.float64], is_comm: NDArray[np.bool_]
) -> NDArray[np.float64]:
    seeds = np.zeros((len(is_comm), 2))
    seeds[is_comm] = comm
    seeds[~is_comm] = rest
    return seeds


def _committee_point(poly: Polygon, seed_ll: NDArray[np.float64]) -> tuple[float, float]:
    """A point inside ``poly`` near the seed, rounded to 6 decimals (degrees)."""
    lon, lat = round(float(seed_ll[0]), 6), round(float(seed_ll[1]), 6)
    inner = poly.buffer(-2e-5)
    if inner.contains(Point(lon, lat)):
        return lon, lat
    p = (inner if not inner.is_empty else poly).point_on_surface()
    return round(p.x, 6), round(p.y, 6)


def _population(kind: Kind, urban: bool, hilly: bool, rng: np.random.Generator) -> int:
    if kind == "community":
        key = "urban_community" if urban else "town_community"
    elif kind == "farm":
        key = "farm"
    else:
        key = "hill_village" if hilly else "plain_village"
    lo, hi = POPULATION_RANGES[key]
    return int(rng.integers(lo, hi + 1))


def _aliases(villages: list[Village], rng: np.random.Generator) -> dict[str, str]:
    """Synthetic pre-merger alias names for ``ALIAS_COUNT`` villages (code → alias)."""
    taken = {name_stem(v.name) for v in villages}
    stems = [s for s in ALIAS_STEMS if s not in taken]
    candidates = [i for i, v in enumerate(villages) if v.kind == "village"]
    picks = sorted(rng.choice(len(candidates), size=ALIAS_COUNT, replace=False).tolist())
    order = rng.permutation(len(stems))[:ALIAS_COUNT]
    return {
        villages[candidates[p]].code: stems[int(s)] + "村"
        for p, s in zip(picks, order, strict=True)
    }


def build_district(rng: np.random.Generator) -> District:
    """Build the synthetic towns and villages inside the real outline.

    Parameters
    ----------
    rng
        The generator's random source (consumed deterministically).
    """
    outline = shapely.set_precision(load_outline(), GRID_DEG)
    town_units, village_units = load_units()
    names = [n for _, n in town_units]
    polys = _town_polygons(outline, names)
    towns: list[Town] = []
    villages: list[Village] = []
    for (tcode, tname), tpoly in zip(town_units, polys, strict=True):
        layout = TOWN_LAYOUT[tname]
        towns.append(Town(tcode, tname, tpoly, layout.lon, layout.lat, layout.terrain))
        units = [u for u in village_units if u[2] == tcode]
        kinds = [_kind(u[1]) for u in units]
        seeds_m = _village_seeds(tname, tpoly, kinds, rng)
        cells = _voronoi_cells(seeds_m, tpoly)
        seeds_ll = to_lonlat(seeds_m)
        cell_polys = _single_parts(cells, [Point(s) for s in seeds_ll])
        for (code, name, _, _), kind, poly, seed in zip(
            units, kinds, cell_polys, seeds_ll, strict=True
        ):
            poly = shapely.orient_polygons(poly)
            lon, lat = _committee_point(poly, seed)
            urban = layout.terrain == "urban"
            hilly = _is_hilly(tname, kind, lon, lat)
            villages.append(
                Village(
                    code=code,
                    name=name,
                    town_code=tcode,
                    town=tname,
                    kind=kind,
                    polygon=poly,
                    lon=lon,
                    lat=lat,
                    hilly=hilly,
                    urban=urban and kind == "community",
                    population=_population(kind, urban, hilly, rng),
                )
            )
    aliases = _aliases(villages, rng)
    villages = [v if v.code not in aliases else replace(v, alias=aliases[v.code]) for v in villages]
    return District(outline=outline, towns=towns, villages=villages)


def shortest_path(
    adjacency: dict[int, list[tuple[int, float]]], start: int, goal: int, allowed: set[int]
) -> list[int]:
    """Dijkstra over a small graph, restricted to ``allowed`` nodes (deterministic)."""
    dist = {start: 0.0}
    prev: dict[int, int] = {}
    heap: list[tuple[float, int]] = [(0.0, start)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == goal:
            break
        if d > dist.get(u, math.inf):
            continue
        for v, w in adjacency.get(u, []):
            if v not in allowed:
                continue
            nd = d + w
            if nd < dist.get(v, math.inf):
                dist[v] = nd
                prev[v] = u
                heapq.heappush(heap, (nd, v))
    if goal not in dist:
        return []
    path = [goal]
    while path[-1] != start:
        path.append(prev[path[-1]])
    return path[::-1]
