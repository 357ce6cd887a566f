"""Array plumbing shared by :mod:`geo.traveltime` and :mod:`geo.isochrones`.

Validated node-index arrays, the travel-seconds CSR graph of a network and its
transpose (cached per network, with int32 indices as ``scipy.sparse.csgraph``
wants them), chunk sizes from a memory budget, and the finite entries of a
dense distance block.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse

from geo.graph import NetworkError, RoadNetwork

SECONDS_PER_MINUTE = 60.0
DEFAULT_MEMORY_BYTES = 512 * 2**20  # budget for one chunk of Dijkstra distance rows
F8_BYTES = 8  # bytes of one float64 / int64

# Per network: CSR copies with int32 indices (scipy converts int64 ones on every
# call, which costs more than a short limited search) and the local projection.
_CACHE: weakref.WeakKeyDictionary[RoadNetwork, dict[str, Any]] = weakref.WeakKeyDictionary()


def empty_i() -> NDArray[np.int64]:
    """An empty int64 array."""
    return np.empty(0, dtype=np.int64)


def empty_f() -> NDArray[np.float64]:
    """An empty float64 array."""
    return np.empty(0, dtype=np.float64)


def check_nodes(network: RoadNetwork, nodes: ArrayLike, what: str) -> NDArray[np.int64]:
    """Validated node indices as a 1-D int64 array."""
    a = np.atleast_1d(np.asarray(nodes))
    if a.size == 0:
        return empty_i()
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise NetworkError(f"{what}必须是一维的整数节点编号数组")
    out = a.astype(np.int64)
    if out.min() < 0 or out.max() >= network.n_nodes:
        raise NetworkError(f"{what}引用了道路网络中不存在的节点（共 {network.n_nodes} 个节点）")
    return out


def network_cache(network: RoadNetwork) -> dict[str, Any]:
    """The per-network cache (dropped with the network)."""
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


def travel_graph(network: RoadNetwork, *, reverse: bool) -> sparse.csr_array:
    """The travel-seconds graph, or its transpose (cached CSR) when ``reverse``."""
    entry = network_cache(network)
    key = "reverse" if reverse else "forward"
    graph = entry.get(key)
    if graph is None:
        base = sparse.csr_array(network.seconds.T) if reverse else network.seconds
        graph = _int32(sparse.csr_array(base))
        entry[key] = graph
    return graph


def rows_per_chunk(per_row_bytes: int, memory_bytes: int) -> int:
    """How many rows of ``per_row_bytes`` fit in ``memory_bytes`` (at least one)."""
    return max(1, int(memory_bytes) // max(1, per_row_bytes))


def ragged(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated ``arange(s, s + c)`` for each start ``s`` and count ``c``."""
    total = int(counts.sum())
    if total == 0:
        return empty_i()
    ends = np.cumsum(counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
    return np.repeat(starts.astype(np.int64), counts) + offsets


def finite_entries(
    block: NDArray[np.float64],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Row, column and value of the finite entries of a 2-D block (row-major order)."""
    flat = block.ravel()
    idx = np.flatnonzero(np.isfinite(flat))
    r, c = np.divmod(idx, block.shape[1])
    return r, c, flat[idx]
