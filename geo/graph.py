"""The road graph as arrays: what every travel-time computation works on.

A :class:`RoadNetwork` is one travel mode's directed graph in CSR form, with
travel seconds and metres per edge and WGS-84 node positions. It is built from
OpenStreetMap by :mod:`geo.network` (or directly from edge arrays in tests and
benchmarks) and consumed by :mod:`geo.traveltime`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.errors import NetworkError

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0

MODES = ("drive", "walk", "wheelchair")


@dataclass(frozen=True)
class ModeProfile:
    """How one travel mode uses OSM ways.

    Attributes
    ----------
    mode
        ``drive``, ``walk`` or ``wheelchair``.
    speeds_kmh
        Speed per ``highway`` class in km/h; a class not listed is not usable.
    respect_oneway
        Follow ``oneway`` tags (drive: yes; walking: no).
    respect_maxspeed
        Use ``maxspeed`` (km/h; ``mph`` converted) times ``maxspeed_factor``
        when it is below the class speed.
    maxspeed_factor
        Share of the posted limit actually driven (0–1].
    exclude
        Tag → values that make a way unusable (e.g. ``{"access": ["no"]}``).
    """

    mode: str
    speeds_kmh: Mapping[str, float]
    respect_oneway: bool = True
    respect_maxspeed: bool = True
    maxspeed_factor: float = 1.0
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise NetworkError(f"不认识的出行方式「{self.mode}」；可用：{'、'.join(MODES)}")
        if not self.speeds_kmh or any(v <= 0 for v in self.speeds_kmh.values()):
            raise NetworkError(f"出行方式 {self.mode} 的道路速度必须为正数（km/h）")
        if not 0 < self.maxspeed_factor <= 1:
            raise NetworkError("maxspeed_factor 必须在 (0, 1] 之间")


@dataclass(frozen=True)
class Snap:
    """Nearest network node of each point, and the straight-line distance to it."""

    node: NDArray[np.int64]
    distance_m: NDArray[np.float64]


def haversine_m(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance in metres between WGS-84 points (vectorised)."""
    a1, b1, a2, b2 = (np.radians(np.asarray(x, dtype=np.float64)) for x in (lon1, lat1, lon2, lat2))
    h = np.sin((b2 - b1) / 2) ** 2 + np.cos(b1) * np.cos(b2) * np.sin((a2 - a1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph of one travel mode.

    Attributes
    ----------
    mode
        ``drive``, ``walk`` or ``wheelchair``.
    lon, lat
        WGS-84 position of each node, shape ``(n,)``.
    seconds
        ``(n, n)`` CSR array: travel time in seconds of each directed edge; at
        most one entry per node pair (the fastest), no self-loops.
    metres
        ``(n, n)`` CSR array with the same sparsity pattern: that edge's length.
    node_ids
        Source identifiers of the nodes (OSM node ids), shape ``(n,)``.
    source
        Where the graph came from (file name and content hash), for reports.
    """

    mode: str
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    seconds: sparse.csr_array
    metres: sparse.csr_array
    node_ids: NDArray[np.int64]
    source: str = ""

    @property
    def n_nodes(self) -> int:
        return int(self.lon.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.seconds.nnz)

    @classmethod
    def from_edges(
        cls,
        *,
        mode: str,
        lon: ArrayLike,
        lat: ArrayLike,
        u: ArrayLike,
        v: ArrayLike,
        seconds: ArrayLike,
        metres: ArrayLike,
        node_ids: ArrayLike | None = None,
        source: str = "",
    ) -> RoadNetwork:
        """Build from directed edge arrays; parallel edges keep the fastest.

        Raises
        ------
        NetworkError
            On mismatched lengths, node indices out of range, or negative
            or non-finite times.
        """
        lon_a = np.asarray(lon, dtype=np.float64)
        lat_a = np.asarray(lat, dtype=np.float64)
        n = lon_a.shape[0]
        u_a = np.asarray(u, dtype=np.int64)
        v_a = np.asarray(v, dtype=np.int64)
        s_a = np.asarray(seconds, dtype=np.float64)
        m_a = np.asarray(metres, dtype=np.float64)
        if not (u_a.shape == v_a.shape == s_a.shape == m_a.shape) or lat_a.shape != lon_a.shape:
            raise NetworkError("边数组或节点坐标数组长度不一致")
        if u_a.size and (min(u_a.min(), v_a.min()) < 0 or max(u_a.max(), v_a.max()) >= n):
            raise NetworkError("边引用了不存在的节点")
        if not np.all(np.isfinite(s_a)) or np.any(s_a < 0):
            raise NetworkError("边的通行时间必须是非负有限数（秒）")
        keep = u_a != v_a
        u_a, v_a, s_a, m_a = u_a[keep], v_a[keep], s_a[keep], m_a[keep]
        # fastest of parallel edges: sort by (u, v, seconds) and keep the first of each pair
        order = np.lexsort((s_a, v_a, u_a))
        u_a, v_a, s_a, m_a = u_a[order], v_a[order], s_a[order], m_a[order]
        first = np.ones(u_a.shape[0], dtype=bool)
        first[1:] = (u_a[1:] != u_a[:-1]) | (v_a[1:] != v_a[:-1])
        u_a, v_a, s_a, m_a = u_a[first], v_a[first], s_a[first], m_a[first]
        # scipy's csgraph treats explicit zeros as edges only in sparse input;
        # keep a tiny positive time so a zero-length edge is never lost.
        s_a = np.maximum(s_a, 1e-6)
        secs = sparse.csr_array((s_a, (u_a, v_a)), shape=(n, n))
        mets = sparse.csr_array((np.maximum(m_a, 1e-6), (u_a, v_a)), shape=(n, n))
        secs.sort_indices()
        mets.sort_indices()
        ids = np.arange(n, dtype=np.int64) if node_ids is None else np.asarray(node_ids, np.int64)
        return cls(
            mode=mode, lon=lon_a, lat=lat_a, seconds=secs, metres=mets, node_ids=ids, source=source
        )

    def largest_component(self) -> tuple[RoadNetwork, NDArray[np.int64]]:
        """The largest strongly connected component, and the dropped node indices."""
        n_comp, labels = connected_components(self.seconds, directed=True, connection="strong")
        if n_comp <= 1:
            return self, np.empty(0, dtype=np.int64)
        biggest = np.bincount(labels).argmax()
        keep = np.flatnonzero(labels == biggest)
        dropped = np.flatnonzero(labels != biggest)
        return self.subgraph(keep), dropped

    def subgraph(self, nodes: NDArray[np.int64]) -> RoadNetwork:
        """The graph induced by ``nodes`` (renumbered in the given order)."""
        idx = np.asarray(nodes, dtype=np.int64)
        secs = sparse.csr_array(self.seconds[idx][:, idx])
        mets = sparse.csr_array(self.metres[idx][:, idx])
        return RoadNetwork(
            mode=self.mode,
            lon=self.lon[idx],
            lat=self.lat[idx],
            seconds=secs,
            metres=mets,
            node_ids=self.node_ids[idx],
            source=self.source,
        )

    def _metric(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
        lat0 = float(np.mean(self.lat)) if self.n_nodes else 0.0
        kx = _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0))
        return np.column_stack([lon * kx, lat * _M_PER_DEG_LAT])

    def snap(self, lon: ArrayLike, lat: ArrayLike) -> Snap:
        """Nearest node of each WGS-84 point and its great-circle distance (metres)."""
        lo = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        la = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if self.n_nodes == 0:
            raise NetworkError("道路网络为空，无法匹配点位")
        tree = self._kdtree()
        _, node = tree.query(self._metric(lo, la))
        node = np.asarray(node, dtype=np.int64)
        dist = haversine_m(lo, la, self.lon[node], self.lat[node])
        return Snap(node=node, distance_m=dist)

    def _kdtree(self) -> cKDTree:
        cached = self.__dict__.get("_tree")
        if cached is None:
            cached = cKDTree(self._metric(self.lon, self.lat))
            object.__setattr__(self, "_tree", cached)
        return cached

    def save(self, path: Path) -> None:
        """Write to an ``.npz`` file (the build cache)."""
        np.savez_compressed(
            path,
            mode=np.array(self.mode),
            lon=self.lon,
            lat=self.lat,
            node_ids=self.node_ids,
            indptr=self.seconds.indptr,
            indices=self.seconds.indices,
            seconds=self.seconds.data,
            metres=self.metres.data,
            source=np.array(self.source),
        )

    @classmethod
    def load(cls, path: Path) -> RoadNetwork:
        """Read a network written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            n = z["lon"].shape[0]
            shape = (n, n)
            secs = sparse.csr_array((z["seconds"], z["indices"], z["indptr"]), shape=shape)
            mets = sparse.csr_array((z["metres"], z["indices"], z["indptr"]), shape=shape)
            return cls(
                mode=str(z["mode"]),
                lon=z["lon"],
                lat=z["lat"],
                seconds=secs,
                metres=mets,
                node_ids=z["node_ids"],
                source=str(z["source"]),
            )
