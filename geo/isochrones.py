"""Isochrones and service areas: the area from which a facility is reached in time.

An edge of the :class:`~geo.graph.RoadNetwork` is reached when both its end
nodes reach the source within the threshold; the area is the union of the
reached edges buffered in a local metric plane (see :func:`isochrones`).
Travel times are computed as in :mod:`geo.traveltime` (which re-exports
:func:`isochrones` and :func:`service_area`); minutes in, WGS-84 polygons out.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from geo._csgraph import (
    DEFAULT_MEMORY_BYTES,
    F8_BYTES,
    SECONDS_PER_MINUTE,
    check_nodes,
    empty_f,
    empty_i,
    finite_entries,
    network_cache,
    ragged,
    rows_per_chunk,
    travel_graph,
)
from geo.graph import NetworkError, RoadNetwork

__all__ = ["DEFAULT_BUFFER_M", "WGS84", "isochrones", "service_area"]

DEFAULT_BUFFER_M = 150.0
WGS84 = "EPSG:4326"

_EDGE_BYTES = 64  # working bytes per candidate edge of a reached node (isochrones)
_QUAD_SEGS = 4  # segments per quarter circle of a buffer's round ends (≤ 3 m off at 150 m)
_WGS84_A = 6_378_137.0  # semi-major axis, metres
_WGS84_E2 = 6.694_379_990_14e-3  # first eccentricity squared


def isochrones(
    network: RoadNetwork,
    sources: ArrayLike,
    *,
    minutes: Sequence[float],
    buffer_m: float = DEFAULT_BUFFER_M,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> gpd.GeoDataFrame:
    """The area from which each source can be reached within each threshold.

    A node is reached when its travel time *to* the source is within the
    threshold; an edge is reached when both its end nodes are. The area is the
    union of the reached edges, and of the source node itself, buffered by
    ``buffer_m`` in a local metric plane (see :class:`_Plane`). Edges are the
    straight segments between their nodes (the network keeps no way shapes;
    an unsimplified OSM graph has a node at every bend). Street blocks that lie
    wholly inside the buffer are filled in one piece instead of buffering every
    segment around them (same area, much faster; see :func:`_buffered`). Larger
    thresholds are built by adding to the smaller ones, so nested thresholds
    give nested polygons.

    The cost is one limited Dijkstra per distinct source plus the geometry,
    which dominates: about 1 s for a 15-minute area of 20,000 street segments.

    Parameters
    ----------
    network
        The road graph.
    sources
        Node index of each source (facility); repeats allowed.
    minutes
        Thresholds in minutes.
    buffer_m
        Buffer around the reached streets, metres (> 0).
    memory_bytes
        Working-memory budget for one chunk of sources, bytes.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source and threshold (sources in the given order, then
        thresholds in the given order): ``source`` (position in ``sources``),
        ``minutes``, ``geometry`` (polygon, EPSG:4326).
    """
    src = check_nodes(network, sources, "源点")
    mins, secs = _thresholds(minutes)
    _check_buffer(buffer_m)
    uniq, inv = np.unique(src, return_inverse=True)
    top = float(secs.max())
    geoms: list[list[Any]] = [[] for _ in range(uniq.size)]
    for row, _, u, v, level in _reached_edges(network, uniq, top, memory_bytes):
        bounds = np.searchsorted(row, np.arange(uniq.size + 1))
        for i in np.unique(row).tolist():
            lo, hi = bounds[i], bounds[i + 1]
            geoms[i] = _nested(network, uniq[[i]], u[lo:hi], v[lo:hi], level[lo:hi], secs, buffer_m)
    for i in range(uniq.size):  # a source that reaches no street: its own buffered point
        if not geoms[i]:
            geoms[i] = _nested(network, uniq[[i]], empty_i(), empty_i(), empty_f(), secs, buffer_m)
    table = np.empty((uniq.size, mins.size), dtype=object)
    for i, areas in enumerate(geoms):
        table[i, :] = areas
    columns = {
        "source": np.repeat(np.arange(src.size, dtype=np.int64), mins.size),
        "minutes": np.tile(mins, src.size),
    }
    return _frame(network, columns, table[inv].ravel())


def service_area(
    network: RoadNetwork,
    sources: ArrayLike,
    *,
    minutes: Sequence[float],
    buffer_m: float = DEFAULT_BUFFER_M,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> gpd.GeoDataFrame:
    """The union over all sources of their :func:`isochrones`, per threshold.

    Computed exactly as that union (an edge counts when both its ends reach the
    *same* source within the threshold), but buffered once per threshold.

    Parameters
    ----------
    network
        The road graph.
    sources
        Node index of each source (facility); repeats allowed.
    minutes
        Thresholds in minutes.
    buffer_m
        Buffer around the reached streets, metres (> 0).
    memory_bytes
        Working-memory budget for one chunk of sources, bytes.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per threshold (in the given order): ``minutes``, ``geometry``
        (polygon, EPSG:4326; empty when there are no sources).
    """
    src = check_nodes(network, sources, "源点")
    mins, secs = _thresholds(minutes)
    _check_buffer(buffer_m)
    uniq = np.unique(src)
    if uniq.size == 0:
        empty = np.array([shapely.Polygon()] * secs.size, dtype=object)
        return _frame(network, {"minutes": mins}, empty)
    best = np.full(network.n_edges, np.inf)  # per edge: smallest level over the sources
    for _, pos, _, _, level in _reached_edges(network, uniq, float(secs.max()), memory_bytes):
        np.minimum.at(best, pos, level)
    hit = np.flatnonzero(np.isfinite(best))
    u = np.searchsorted(network.seconds.indptr, hit, side="right").astype(np.int64) - 1
    v = network.seconds.indices[hit].astype(np.int64)
    per = np.empty(secs.size, dtype=object)
    per[:] = _nested(network, uniq, u, v, best[hit], secs, buffer_m)
    return _frame(network, {"minutes": mins}, per)


# --------------------------------------------------------------------------- helpers


def _thresholds(minutes: Sequence[float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mins = np.asarray(minutes, dtype=np.float64).ravel()
    if mins.size == 0 or not np.all(np.isfinite(mins)) or np.any(mins < 0):
        raise NetworkError("等时圈的时间阈值必须是至少一个非负有限数（分钟）")
    return mins, mins * SECONDS_PER_MINUTE


def _check_buffer(buffer_m: float) -> None:
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        raise NetworkError(f"等时圈缓冲距离必须是正数（米），收到 {buffer_m}")


def _reached_edges(
    network: RoadNetwork, sources: NDArray[np.int64], limit: float, memory_bytes: int
) -> Iterator[
    tuple[
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.float64],
    ]
]:
    """Per chunk of sources: the directed edges whose both ends reach the source.

    Yields ``(row, pos, u, v, level)`` sorted by ``row`` (index into
    ``sources``): the edge's position in ``network.seconds``' CSR arrays, its
    end nodes, and ``level``, the larger of the two ends' travel seconds *to*
    the source (≤ ``limit``).
    """
    n = network.n_nodes
    if sources.size == 0 or n == 0:
        return
    indptr = network.seconds.indptr.astype(np.int64)
    indices = network.seconds.indices
    graph = travel_graph(network, reverse=True)
    degree = max(1.0, network.n_edges / n)
    per_row = int(n * (F8_BYTES + 1 + 2 * F8_BYTES + degree * _EDGE_BYTES))
    step = rows_per_chunk(per_row, memory_bytes)
    for lo in range(0, sources.size, step):
        block = dijkstra(graph, indices=sources[lo : lo + step], limit=limit)
        r, u, _ = finite_entries(block)
        deg = indptr[u + 1] - indptr[u]
        pos = ragged(indptr[u], deg)
        r, u = np.repeat(r, deg), np.repeat(u, deg)
        v = indices[pos].astype(np.int64)
        level = np.maximum(block[r, u], block[r, v])
        del block
        keep = np.isfinite(level)
        yield r[keep] + lo, pos[keep], u[keep], v[keep], level[keep]


def _min_per_key(
    key: NDArray[np.int64], level: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    order = np.lexsort((level, key))
    key, level = key[order], level[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return key[first], level[first]


@dataclass(frozen=True)
class _Plane:
    """A local plane in metres: ``x = (lon − lon0)·kx``, ``y = (lat − lat0)·ky``.

    The scales are the WGS-84 ellipsoid's at the network's mean position, so
    lengths are true there and off by about ``tan(lat0)·Δlat`` elsewhere
    (0.3 % at 25 km north or south in 奉化: 0.4 m on a 150 m buffer). Being an
    affine map, it keeps straight segments straight both ways, so unions and
    nesting built in the plane hold exactly after converting back to WGS-84,
    which a curved projection would break by millimetre slivers.
    """

    lon0: float
    lat0: float
    kx: float
    ky: float

    @classmethod
    def around(cls, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> _Plane:
        lon0 = float(np.mean(lon)) if lon.size else 0.0
        lat0 = float(np.mean(lat)) if lat.size else 0.0
        phi = math.radians(lat0)
        w = math.sqrt(1.0 - _WGS84_E2 * math.sin(phi) ** 2)
        per_rad_lat = _WGS84_A * (1.0 - _WGS84_E2) / w**3  # meridian radius of curvature
        per_rad_lon = _WGS84_A / w * math.cos(phi)  # parallel's radius
        return cls(lon0, lat0, math.radians(per_rad_lon), math.radians(per_rad_lat))

    def to_xy(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack([(lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky])

    def to_lonlat(self, geoms: NDArray[Any]) -> NDArray[Any]:
        scale = np.array([1.0 / self.kx, 1.0 / self.ky])
        origin = np.array([self.lon0, self.lat0])
        return np.asarray(shapely.transform(geoms, lambda xy: xy * scale + origin))


def _projection(network: RoadNetwork) -> tuple[_Plane, NDArray[np.float64]]:
    """The network's local plane and every node's position in it (metres)."""
    entry = network_cache(network)
    proj = entry.get("projection")
    if proj is None:
        plane = _Plane.around(network.lon, network.lat)
        proj = (plane, plane.to_xy(network.lon, network.lat))
        entry["projection"] = proj
    return proj


def _nested(
    network: RoadNetwork,
    sources: NDArray[np.int64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    level: NDArray[np.float64],
    secs: NDArray[np.float64],
    buffer_m: float,
) -> list[Any]:
    """Buffered areas (in the plane) for each threshold in ``secs``, nested by construction.

    ``u``, ``v``, ``level``: reached edges and the seconds from which each
    counts. Each threshold's area is its edges' buffer united with the source
    points' buffers and with the area of the next smaller threshold.
    """
    _, xy = _projection(network)
    key, level = _min_per_key(np.minimum(u, v) * network.n_nodes + np.maximum(u, v), level)
    a, b = np.divmod(key, max(1, network.n_nodes))
    lines = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    area = shapely.union_all(
        shapely.buffer(shapely.points(xy[sources]), buffer_m, quad_segs=_QUAD_SEGS)
    )
    done: dict[float, Any] = {}
    for t in np.unique(secs).tolist():
        reached = lines[level <= t]
        if reached.size:
            area = shapely.union(area, _buffered(reached, buffer_m))
        done[t] = area
    return [done[t] for t in secs.tolist()]


def _buffered(lines: NDArray[Any], buffer_m: float) -> Any:
    """The union of the segments' ``buffer_m`` buffers, without buffering every segment.

    Street segments overlap heavily once buffered, and a union of thousands of
    overlapping buffers is slow. Instead, chains of segments are merged, noded
    and polygonized into blocks; a block within ``buffer_m`` of its own
    boundary everywhere (empty after a negative buffer) lies inside the buffer
    and is kept whole (the blocks tile the plane, so their union is a cheap
    coverage union). Any point of the buffer outside those blocks is within
    ``buffer_m`` of their outline or of a street not inside them, so only those
    are buffered. The area is the same up to the polygonal approximation of
    round buffer ends (a few metres); it is typically 3–5 times faster.
    """
    merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(lines)))
    noded = shapely.get_parts(shapely.node(shapely.multilinestrings(merged)))
    faces = shapely.get_parts(shapely.polygonize(noded))
    blocks = faces[shapely.is_empty(shapely.buffer(faces, -buffer_m, quad_segs=_QUAD_SEGS))]
    if blocks.size == 0:
        return _buffer_union(merged, buffer_m)
    filled = shapely.coverage_union_all(blocks)
    shapely.prepare(filled)
    loose = merged[~shapely.covers(filled, merged)]
    outline = shapely.get_parts(shapely.boundary(filled))
    return shapely.union(filled, _buffer_union(np.concatenate([outline, loose]), buffer_m))


def _buffer_union(lines: NDArray[Any], buffer_m: float) -> Any:
    """Plain union of the lines' buffers."""
    return shapely.union_all(shapely.buffer(lines, buffer_m, quad_segs=_QUAD_SEGS))


def _frame(network: RoadNetwork, columns: dict[str, Any], geoms: NDArray[Any]) -> gpd.GeoDataFrame:
    plane, _ = _projection(network)
    return gpd.GeoDataFrame(columns, geometry=plane.to_lonlat(geoms), crs=WGS84)
