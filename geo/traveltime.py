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

The areas reached within a time (:func:`isochrones`, :func:`service_area`) are
built in :mod:`geo.isochrones` and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, dijkstra

from geo._csgraph import (
    DEFAULT_MEMORY_BYTES,
    F8_BYTES,
    SECONDS_PER_MINUTE,
    check_nodes,
    empty_f,
    empty_i,
    finite_entries,
    ragged,
    rows_per_chunk,
    travel_graph,
)
from geo.graph import NetworkError, RoadNetwork
from geo.isochrones import DEFAULT_BUFFER_M, WGS84, isochrones, service_area

__all__ = [
    "DEFAULT_BUFFER_M",
    "DEFAULT_MEMORY_BYTES",
    "SECONDS_PER_MINUTE",
    "WGS84",
    "Nearest",
    "ODMatrix",
    "PointRoute",
    "Route",
    "isochrones",
    "nearest",
    "od_matrix",
    "point_to_point",
    "route",
    "service_area",
]

_NO_SOURCE = -9999  # scipy's marker for "no predecessor / no source"


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
    org = check_nodes(network, origins, "起点")
    dst = check_nodes(network, destinations, "终点")
    limit = _limit(limit_s)
    shape = (int(org.size), int(dst.size))
    if org.size == 0 or dst.size == 0:
        return ODMatrix(empty_i(), empty_i(), np.empty(0, np.float64), shape)
    reverse = np.unique(dst).size < np.unique(org).size
    src, tgt = (dst, org) if reverse else (org, dst)
    parts = list(_distances(travel_graph(network, reverse=reverse), src, tgt, limit, memory_bytes))
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
    fac = check_nodes(network, facilities, "设施")
    limit = _limit(limit_s)
    n = network.n_nodes
    if fac.size == 0:
        return Nearest(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))
    uniq, first = np.unique(fac, return_index=True)
    dist, _, src = dijkstra(
        travel_graph(network, reverse=True),
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
    o, d = (int(x) for x in check_nodes(network, [origin, destination], "路线端点"))
    if o == d:
        nodes = np.array([o], dtype=np.int64)
        return Route(0.0, 0.0, nodes, network.lon[nodes], network.lat[nodes])
    dist, pred = dijkstra(travel_graph(network, reverse=False), indices=o, return_predecessors=True)
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


# --------------------------------------------------------------------------- helpers


def _limit(limit_s: float | None) -> float:
    if limit_s is None:
        return np.inf
    limit = float(limit_s)
    if math.isnan(limit) or limit < 0:
        raise NetworkError(f"通行时间上限必须是非负数（秒），收到 {limit_s}")
    return limit


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
    per_row = F8_BYTES * n + n + (0 if whole else (F8_BYTES + 1) * int(tgt.size))
    step = rows_per_chunk(per_row, memory_bytes)
    for lo in range(0, uniq.size, step):
        block = dijkstra(graph, indices=uniq[lo : lo + step], limit=limit)
        if not whole:
            block = block[:, tgt]
        r, c, s = finite_entries(block)
        del block
        r += lo
        if repeated:
            rep = counts[r]
            r = order[ragged(first[r], rep)]
            c, s = np.repeat(c, rep), np.repeat(s, rep)
        else:
            r = order[r]
        yield r.astype(np.int64), c.astype(np.int64), s.astype(np.float64)


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
        return empty_f()
    return np.asarray(graph[u, v], dtype=np.float64).ravel()
