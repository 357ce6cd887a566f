"""Travel times on a :class:`~geo.graph.RoadNetwork`, computed with ``scipy.sparse.csgraph``.

Direction matters on a road graph with one-way streets: residents travel *from*
home *to* a facility, staff drive *from* the office. A computation "to a
facility" therefore runs Dijkstra from the facility on the transposed graph,
whose edge ``v → u`` carries the time of the street ``u → v``.

Every function works on whole arrays: Dijkstra is one ``csgraph`` call per chunk
of sources, and everything around it is NumPy (no Python loop per node).
Results that could be huge (origin–destination pairs) are sparse and limited by
a travel-time cut-off; distance blocks are computed in chunks whose size is
chosen from a memory budget.

Units: seconds everywhere, metres for lengths, WGS-84 degrees for positions;
minutes only in :meth:`ODMatrix.minutes` and in the ``minutes`` column of
:func:`isochrones` and :func:`service_area`.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from geo.graph import NetworkError, RoadNetwork

SECONDS_PER_MINUTE = 60.0
DEFAULT_MEMORY_BYTES = 512 * 2**20  # budget for one chunk of Dijkstra distance rows
DEFAULT_BUFFER_M = 150.0
WGS84 = "EPSG:4326"

_F8 = 8  # bytes of one float64 / int64
_EDGE_BYTES = 64  # working bytes per candidate edge of a reached node (isochrones)
_QUAD_SEGS = 4  # segments per quarter circle of a buffer's round ends (≤ 3 m off at 150 m)
_NO_SOURCE = -9999  # scipy's marker for "no predecessor / no source"
_WGS84_A = 6_378_137.0  # semi-major axis, metres
_WGS84_E2 = 6.694_379_990_14e-3  # first eccentricity squared

# Per network: CSR copies with int32 indices (scipy converts int64 ones on every
# call, which costs more than a short limited search) and the local projection.
_CACHE: weakref.WeakKeyDictionary[RoadNetwork, dict[str, Any]] = weakref.WeakKeyDictionary()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ODMatrix:
    """Sparse origin–destination travel times, cut off at a limit.

    Only reachable pairs within the limit are stored, in no particular order;
    a pair of the same node is stored with ``0.0``.

    Attributes
    ----------
    rows
        Origin position of each entry (index into the ``origins`` given), int64.
    cols
        Destination position of each entry (index into ``destinations``), int64.
    seconds
        Travel time of each entry in seconds: finite and ≤ the limit.
    shape
        ``(len(origins), len(destinations))``.
    """

    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    seconds: NDArray[np.float64]
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        """Number of stored (reachable) pairs."""
        return int(self.seconds.shape[0])

    def to_dense(self, fill: float = np.inf) -> NDArray[np.float64]:
        """The full ``shape`` matrix in seconds, ``fill`` where not reachable within the limit.

        Only for small matrices: it takes ``8 × rows × cols`` bytes.
        """
        out = np.full(self.shape, fill, dtype=np.float64)
        out[self.rows, self.cols] = self.seconds
        return out

    def minutes(self) -> NDArray[np.float64]:
        """Travel time of each stored entry in minutes (aligned with ``rows``/``cols``)."""
        return self.seconds / SECONDS_PER_MINUTE


@dataclass(frozen=True)
class Nearest:
    """For every node of the network, the nearest facility by travel time *to* it.

    Attributes
    ----------
    seconds
        Shape ``(n_nodes,)``: travel seconds from the node to its nearest
        facility; ``inf`` where none is reachable within the limit.
    facility
        Shape ``(n_nodes,)``, int64: position of that facility in the
        ``facilities`` given (the first position for a repeated node); ``-1``
        where none.
    """

    seconds: NDArray[np.float64]
    facility: NDArray[np.int64]


@dataclass(frozen=True)
class Route:
    """The fastest path between two nodes.

    Attributes
    ----------
    seconds
        Network travel time in seconds.
    metres
        Length of that path in metres (sum of its edges' lengths).
    nodes
        Node indices along the path, origin first, destination last.
    lon, lat
        WGS-84 position of those nodes, degrees.
    """

    seconds: float
    metres: float
    nodes: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]


@dataclass(frozen=True)
class PointRoute:
    """A route between two points, with the straight legs to and from the network.

    Attributes
    ----------
    route
        The network part (its ``seconds`` and ``metres`` exclude the snap legs).
    from_snap_m, to_snap_m
        Great-circle distance in metres from each point to the node it snapped to.
    """

    route: Route
    from_snap_m: float
    to_snap_m: float


# --------------------------------------------------------------------------- public


def od_matrix(
    network: RoadNetwork,
    origins: ArrayLike,
    destinations: ArrayLike,
    *,
    limit_s: float | None = None,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
) -> ODMatrix:
    """Travel seconds from each origin node to each destination node.

    Dijkstra runs from whichever side has fewer distinct nodes: from the
    origins on the graph, or from the destinations on the transposed graph.
    Sources are processed in chunks so that one chunk's dense distance block
    (``chunk × n_nodes`` float64) stays within ``memory_bytes``.

    Parameters
    ----------
    network
        The road graph.
    origins, destinations
        Node indices (repeats allowed; each position gets its own row/column).
    limit_s
        Cut-off in seconds: pairs farther apart are not stored (``≤ limit_s``
        is kept). ``None``: no cut-off (the result can then be large).
    memory_bytes
        Working-memory budget for one chunk of distance rows, bytes.

    Returns
    -------
    ODMatrix
        Sparse result in seconds.

    Raises
    ------
    NetworkError
        On node indices out of range or a negative limit.
    """
    org = _nodes(network, origins, "起点")
    dst = _nodes(network, destinations, "终点")
    limit = _limit(limit_s)
    shape = (int(org.size), int(dst.size))
    if org.size == 0 or dst.size == 0:
        return ODMatrix(_empty_i(), _empty_i(), np.empty(0, np.float64), shape)
    reverse = np.unique(dst).size < np.unique(org).size
    src, tgt = (dst, org) if reverse else (org, dst)
    parts = list(_distances(_graph(network, reverse=reverse), src, tgt, limit, memory_bytes))
    r = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    s = np.concatenate([p[2] for p in parts])
    return ODMatrix(c, r, s, shape) if reverse else ODMatrix(r, c, s, shape)


def nearest(
    network: RoadNetwork, facilities: ArrayLike, *, limit_s: float | None = None
) -> Nearest:
    """For every node, the travel seconds *to* its nearest facility, and which one.

    One multi-source Dijkstra on the transposed graph (``min_only``).

    Parameters
    ----------
    network
        The road graph.
    facilities
        Node index of each facility (repeats allowed).
    limit_s
        Cut-off in seconds (``≤ limit_s`` is kept); ``None``: no cut-off.

    Returns
    -------
    Nearest
        Seconds (``inf`` where none within the limit) and facility position
        (``-1`` where none). On a tie either facility may be reported.
    """
    fac = _nodes(network, facilities, "设施")
    limit = _limit(limit_s)
    n = network.n_nodes
    if fac.size == 0:
        return Nearest(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
    uniq, first = np.unique(fac, return_index=True)
    dist, _, src = dijkstra(
        _graph(network, reverse=True),
        indices=uniq,
        min_only=True,
        return_predecessors=True,
        limit=limit,
    )
    found = src != _NO_SOURCE
    which = np.full(n, -1, dtype=np.int64)
    which[found] = first[np.searchsorted(uniq, src[found])]
    secs = np.where(found, np.asarray(dist, dtype=np.float64), np.inf)
    return Nearest(secs, which)


def route(network: RoadNetwork, origin: int, destination: int) -> Route:
    """The fastest path from one node to another.

    Parameters
    ----------
    network
        The road graph.
    origin, destination
        Node indices.

    Returns
    -------
    Route
        Travel seconds, length in metres along that path, and its nodes.

    Raises
    ------
    NetworkError
        When the destination cannot be reached from the origin, or on a node
        index out of range.
    """
    o, d = (int(x) for x in _nodes(network, [origin, destination], "路线端点"))
    if o == d:
        nodes = np.array([o], dtype=np.int64)
        return Route(0.0, 0.0, nodes, network.lon[nodes], network.lat[nodes])
    dist, pred = dijkstra(_graph(network, reverse=False), indices=o, return_predecessors=True)
    total = float(dist[d])
    if not math.isfinite(total):
        raise NetworkError(
            f"从节点 {o} 无法经道路网络到达节点 {d}（单行道或道路不连通）；"
            "请检查起终点位置，或换用其他出行方式"
        )
    nodes = _path(pred, dist, d)
    metres = float(np.sum(_edge_values(network.metres, nodes[:-1], nodes[1:])))
    return Route(total, metres, nodes, network.lon[nodes], network.lat[nodes])


def point_to_point(
    network: RoadNetwork,
    from_lonlat: tuple[float, float],
    to_lonlat: tuple[float, float],
) -> PointRoute:
    """The fastest route between two WGS-84 points, each snapped to its nearest node.

    Parameters
    ----------
    network
        The road graph.
    from_lonlat, to_lonlat
        ``(lon, lat)`` in WGS-84 degrees.

    Returns
    -------
    PointRoute
        The network route (seconds, metres) and both snap distances in metres;
        the snap legs are reported, not added to the route.

    Raises
    ------
    NetworkError
        On a non-finite coordinate or when the destination is unreachable.
    """
    lon = np.array([from_lonlat[0], to_lonlat[0]], dtype=np.float64)
    lat = np.array([from_lonlat[1], to_lonlat[1]], dtype=np.float64)
    if not np.all(np.isfinite(lon) & np.isfinite(lat)):
        raise NetworkError("起点或终点坐标无效：经纬度必须是有限数（WGS-84，度）")
    snap = network.snap(lon, lat)
    path = route(network, int(snap.node[0]), int(snap.node[1]))
    return PointRoute(path, float(snap.distance_m[0]), float(snap.distance_m[1]))


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
    src = _nodes(network, sources, "源点")
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
            geoms[i] = _nested(
                network, uniq[[i]], _empty_i(), _empty_i(), _empty_f(), secs, buffer_m
            )
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
    src = _nodes(network, sources, "源点")
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


def _empty_i() -> NDArray[np.int64]:
    return np.empty(0, dtype=np.int64)


def _empty_f() -> NDArray[np.float64]:
    return np.empty(0, dtype=np.float64)


def _nodes(network: RoadNetwork, nodes: ArrayLike, what: str) -> NDArray[np.int64]:
    """Validated node indices as a 1-D int64 array."""
    a = np.atleast_1d(np.asarray(nodes))
    if a.size == 0:
        return _empty_i()
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise NetworkError(f"{what}必须是一维的整数节点编号数组")
    out = a.astype(np.int64)
    if out.min() < 0 or out.max() >= network.n_nodes:
        raise NetworkError(f"{what}引用了道路网络中不存在的节点（共 {network.n_nodes} 个节点）")
    return out


def _limit(limit_s: float | None) -> float:
    if limit_s is None:
        return np.inf
    limit = float(limit_s)
    if math.isnan(limit) or limit < 0:
        raise NetworkError(f"通行时间上限必须是非负数（秒），收到 {limit_s}")
    return limit


def _thresholds(minutes: Sequence[float]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    mins = np.asarray(minutes, dtype=np.float64).ravel()
    if mins.size == 0 or not np.all(np.isfinite(mins)) or np.any(mins < 0):
        raise NetworkError("等时圈的时间阈值必须是至少一个非负有限数（分钟）")
    return mins, mins * SECONDS_PER_MINUTE


def _check_buffer(buffer_m: float) -> None:
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        raise NetworkError(f"等时圈缓冲距离必须是正数（米），收到 {buffer_m}")


def _cache(network: RoadNetwork) -> dict[str, Any]:
    entry = _CACHE.get(network)
    if entry is None:
        entry = {}
        _CACHE[network] = entry
    return entry


def _int32(graph: sparse.csr_array) -> sparse.csr_array:
    """The same CSR graph with int32 index arrays when they fit (scipy's native type)."""
    fits = max(graph.nnz, graph.shape[0]) < np.iinfo(np.int32).max
    native = graph.indices.dtype == np.int32 and graph.indptr.dtype == np.int32
    if native or not fits:
        return graph
    out = sparse.csr_array(
        (graph.data, graph.indices.astype(np.int32), graph.indptr.astype(np.int32)),
        shape=graph.shape,
    )
    out.has_sorted_indices = graph.has_sorted_indices
    return out


def _graph(network: RoadNetwork, *, reverse: bool) -> sparse.csr_array:
    """The travel-seconds graph, or its transpose (cached CSR) when ``reverse``."""
    entry = _cache(network)
    key = "reverse" if reverse else "forward"
    graph = entry.get(key)
    if graph is None:
        base = sparse.csr_array(network.seconds.T) if reverse else network.seconds
        graph = _int32(sparse.csr_array(base))
        entry[key] = graph
    return graph


def _rows_per_chunk(per_row_bytes: int, memory_bytes: int) -> int:
    return max(1, int(memory_bytes) // max(1, per_row_bytes))


def _ragged(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated ``arange(s, s + c)`` for each start ``s`` and count ``c``."""
    total = int(counts.sum())
    if total == 0:
        return _empty_i()
    ends = np.cumsum(counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
    return np.repeat(starts.astype(np.int64), counts) + offsets


def _distances(
    graph: sparse.csr_array,
    src: NDArray[np.int64],
    tgt: NDArray[np.int64],
    limit: float,
    memory_bytes: int,
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]]:
    """Per chunk of distinct sources: (source position, target position, seconds)."""
    n = graph.shape[0]
    uniq, inv = np.unique(src, return_inverse=True)
    counts = np.bincount(inv, minlength=uniq.size)
    order = np.argsort(inv, kind="stable")  # source positions grouped by distinct node
    first = np.cumsum(counts) - counts
    repeated = bool(np.any(counts > 1))
    whole = tgt.size == n and np.array_equal(tgt, np.arange(n))
    per_row = _F8 * n + n + (0 if whole else (_F8 + 1) * int(tgt.size))
    step = _rows_per_chunk(per_row, memory_bytes)
    for lo in range(0, uniq.size, step):
        block = dijkstra(graph, indices=uniq[lo : lo + step], limit=limit)
        if not whole:
            block = block[:, tgt]
        r, c, s = _finite(block)
        del block
        r += lo
        if repeated:
            rep = counts[r]
            r = order[_ragged(first[r], rep)]
            c, s = np.repeat(c, rep), np.repeat(s, rep)
        else:
            r = order[r]
        yield r.astype(np.int64), c.astype(np.int64), s.astype(np.float64)


def _finite(
    block: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Row, column and value of the finite entries of a 2-D block (row-major order)."""
    flat = block.ravel()
    idx = np.flatnonzero(np.isfinite(flat))
    r, c = np.divmod(idx, block.shape[1])
    return r, c, flat[idx]


def _path(pred: NDArray[Any], dist: NDArray[np.float64], dest: int) -> NDArray[np.int64]:
    """Nodes of the tree path ending at ``dest``, root first (from Dijkstra predecessors).

    The predecessor links of the nodes no farther than ``dest`` form a forest of
    chains towards the root; a breadth-first walk from ``dest`` over them
    follows exactly the path back to the root.
    """
    n = pred.shape[0]
    on = (pred != _NO_SOURCE) & (dist <= dist[dest])
    indptr = np.concatenate([[0], np.cumsum(on)]).astype(np.int64)
    tree = sparse.csr_array(
        (np.ones(int(indptr[-1])), pred[on].astype(np.int64), indptr), shape=(n, n)
    )
    back = breadth_first_order(tree, dest, directed=True, return_predecessors=False)
    return np.asarray(back[::-1], dtype=np.int64)


def _edge_values(
    graph: sparse.csr_array, u: NDArray[np.int64], v: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Values of the edges ``u[i] → v[i]`` (which must exist) of a CSR graph."""
    if u.size == 0:
        return _empty_f()
    return np.asarray(graph[u, v], dtype=np.float64).ravel()


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
    graph = _graph(network, reverse=True)
    degree = max(1.0, network.n_edges / n)
    per_row = int(n * (_F8 + 1 + 2 * _F8 + degree * _EDGE_BYTES))
    step = _rows_per_chunk(per_row, memory_bytes)
    for lo in range(0, sources.size, step):
        block = dijkstra(graph, indices=sources[lo : lo + step], limit=limit)
        r, u, _ = _finite(block)
        deg = indptr[u + 1] - indptr[u]
        pos = _ragged(indptr[u], deg)
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
    entry = _cache(network)
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
