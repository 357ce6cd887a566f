"""Road networks of one travel mode, built from OpenStreetMap files.

:func:`build_network` reads an OSM XML (``.osm``, ``.osm.xml``, optionally
``.gz``/``.bz2``) or PBF (``.osm.pbf``, ``.pbf``) file, lets osmnx build the
unsimplified directed graph, keeps the ways a :class:`~geo.graph.ModeProfile`
allows, gives every edge its travel time in seconds and returns the largest
strongly connected component as a :class:`~geo.graph.RoadNetwork`. Builds are
cached by file content and profile. :func:`snap_points` matches WGS-84 points
to their nearest network node.

Reading the OSM file (XML or PBF, ways cut by the edge of an extract, tags to
speeds) is done in :mod:`geo._osm`; this module builds, caches and snaps.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

from geo._osm import file_kind, norm_tag, read_graph, to_network
from geo.graph import ModeProfile, NetworkError, RoadNetwork

__all__ = [
    "NetworkBuild",
    "SnapResult",
    "StageProgress",
    "build_network",
    "profile_hash",
    "snap_points",
]

# Bump when the build changes in a way that invalidates cached networks.
CACHE_VERSION = 1
_HASH_CHUNK = 1 << 20  # bytes read at a time when hashing the input file

StageProgress = Callable[[str, float | None], None]
"""Told each build stage: a Chinese message and the share done (0–1)."""


@dataclass(frozen=True)
class NetworkBuild:
    """A built (or cached) road network and what the build did.

    Attributes
    ----------
    network
        The largest strongly connected component of the usable ways.
    nodes, edges
        Node and directed-edge counts of ``network``.
    dropped_nodes, dropped_components
        Nodes of usable ways outside the largest strongly connected component,
        and the number of other strongly connected components they formed.
    source_sha256
        SHA-256 of the input file, hex.
    seconds
        Wall time of this call in seconds.
    from_cache
        Whether the network was loaded from the build cache.
    """

    network: RoadNetwork
    nodes: int
    edges: int
    dropped_nodes: int
    dropped_components: int
    source_sha256: str
    seconds: float
    from_cache: bool

    def summary(self) -> str:
        """One line in Chinese for the terminal."""
        how = "读取缓存" if self.from_cache else "构建"
        return (
            f"道路网络（{self.network.mode}）：{self.nodes} 个节点 {self.edges} 条路段；"
            f"舍弃 {self.dropped_nodes} 个不连通节点（{self.dropped_components} 个分量）；"
            f"{how}用时 {self.seconds:.1f} 秒"
        )


@dataclass(frozen=True)
class SnapResult:
    """Nearest network node of each point.

    Attributes
    ----------
    node
        Index of the nearest node in the network, shape ``(n,)``.
    distance_m
        Great-circle distance to it in metres.
    flagged
        ``distance_m > max_m``: the point is too far from any road.
    max_m
        The threshold in metres.
    """

    node: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    flagged: NDArray[np.bool_]
    max_m: float

    def summary(self) -> str:
        """One line in Chinese for the terminal."""
        n = int(self.node.shape[0])
        if n == 0:
            return "没有点位"
        return (
            f"{n} 个点位匹配到道路：最大距离 {float(self.distance_m.max()):.0f} 米，"
            f"中位距离 {float(np.median(self.distance_m)):.0f} 米；"
            f"{int(self.flagged.sum())} 个超过 {self.max_m:g} 米"
        )


def profile_hash(profile: ModeProfile) -> str:
    """Stable SHA-256 (hex) of everything in ``profile`` that shapes the network.

    Independent of dict and exclusion-value order and of the Python process
    (no ``hash()``); part of the build-cache key together with
    :data:`CACHE_VERSION`.
    """
    doc = {
        "cache_version": CACHE_VERSION,
        "mode": profile.mode,
        "speeds_kmh": {k: float(v) for k, v in sorted(profile.speeds_kmh.items())},
        "respect_oneway": bool(profile.respect_oneway),
        "respect_maxspeed": bool(profile.respect_maxspeed),
        "maxspeed_factor": float(profile.maxspeed_factor),
        "exclude": {
            k: sorted({norm_tag(x) for x in v}) for k, v in sorted(profile.exclude.items())
        },
    }
    text = json.dumps(doc, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def build_network(
    path: str | os.PathLike[str],
    *,
    profile: ModeProfile,
    cache_dir: Path | None = None,
    progress: bool | StageProgress = False,
) -> NetworkBuild:
    """Build the road network of ``profile.mode`` from an OSM file.

    Parameters
    ----------
    path
        OSM XML (``.osm``, ``.osm.xml``, ``.osm.gz``, ``.osm.bz2``) or PBF
        (``.osm.pbf``, ``.pbf``) file in WGS-84.
    profile
        Usable ``highway`` classes and their speeds (km/h), one-way and
        ``maxspeed`` handling, and tag values that exclude a way.
    cache_dir
        Directory of the build cache (created when missing); ``None``: no cache.
        The key is the file's SHA-256, the mode and :func:`profile_hash`.
    progress
        ``True``: show a progress bar of the build stages on stderr; a callable:
        called with a Chinese message (``道路网络（drive）：读取 OSM 文件``) and the
        share done (0–1) at each stage instead (nothing is printed).

    Returns
    -------
    NetworkBuild
        The largest strongly connected component, edge times in seconds and
        lengths in metres (great-circle), and build counts.

    Raises
    ------
    NetworkError
        When the file is missing, has an unknown suffix, cannot be read, or
        has no way usable for this mode.
    """
    start = time.perf_counter()
    src = Path(path)
    kind = file_kind(src)
    if not src.is_file():
        raise NetworkError(f"道路网络文件 {src} 不存在；请检查路径。")
    if src.stat().st_size == 0:
        raise NetworkError(f"道路网络文件 {src} 是空文件；请重新导出。")
    sha = _sha256(src)
    cache = _cache_paths(cache_dir, sha, profile) if cache_dir is not None else None
    source = f"{src.name} sha256:{sha[:16]}"

    if cache is not None:
        hit = _load_cache(*cache, sha=sha, profile=profile)
        if hit is not None:
            net, counts = hit
            return NetworkBuild(
                network=replace(net, source=source),
                source_sha256=sha,
                seconds=time.perf_counter() - start,
                from_cache=True,
                **counts,
            )

    with _stages(progress, profile.mode, total=4 if cache else 3) as step, _gc_paused():
        step("读取 OSM 文件")
        graph = read_graph(src, kind, profile=profile, tmp_parent=cache_dir)
        step("筛选路段并计算通行时间")
        full = to_network(graph, profile=profile, source=source, file=src)
        del graph
        step("保留最大强连通分量")
        n_comp, _ = connected_components(full.seconds, directed=True, connection="strong")
        net, dropped = full.largest_component()
        counts = {
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "dropped_nodes": int(dropped.shape[0]),
            "dropped_components": max(int(n_comp) - 1, 0),
        }
        if cache is not None:
            step("写入缓存")
            _save_cache(*cache, net, counts=counts, sha=sha, profile=profile)
    return NetworkBuild(
        network=net,
        source_sha256=sha,
        seconds=time.perf_counter() - start,
        from_cache=False,
        **counts,
    )


def snap_points(
    network: RoadNetwork, lon: ArrayLike, lat: ArrayLike, *, max_m: float
) -> SnapResult:
    """Match WGS-84 points to their nearest network node.

    Parameters
    ----------
    network
        The road network.
    lon, lat
        WGS-84 longitudes and latitudes in degrees, same shape.
    max_m
        Points farther than this (metres, great-circle) are flagged.

    Raises
    ------
    NetworkError
        On mismatched or non-finite coordinates, a non-positive ``max_m`` or an
        empty network.
    """
    lo = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    la = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    if lo.shape != la.shape:
        raise NetworkError("点位的经度与纬度个数不一致")
    if not max_m > 0:
        raise NetworkError("匹配距离上限 max_m 必须为正数（米）")
    bad = ~(np.isfinite(lo) & np.isfinite(la))
    if bad.any():
        raise NetworkError(f"有 {int(bad.sum())} 个点位的坐标无效（空值或非数字），无法匹配道路")
    if lo.size == 0:
        empty = np.empty(0)
        return SnapResult(empty.astype(np.int64), empty, empty.astype(bool), float(max_m))
    snap = network.snap(lo, la)
    return SnapResult(
        node=snap.node,
        distance_m=snap.distance_m,
        flagged=snap.distance_m > max_m,
        max_m=float(max_m),
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


# --- cache ---------------------------------------------------------------------------------


def _cache_key(sha: str, profile: ModeProfile) -> str:
    text = f"{sha}|{profile.mode}|{profile_hash(profile)}|osmnx {version('osmnx')}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_paths(cache_dir: Path, sha: str, profile: ModeProfile) -> tuple[Path, Path]:
    stem = f"roads-{profile.mode}-{sha[:12]}-{_cache_key(sha, profile)[:16]}"
    return cache_dir / f"{stem}.npz", cache_dir / f"{stem}.json"


def _load_cache(
    npz: Path, meta: Path, *, sha: str, profile: ModeProfile
) -> tuple[RoadNetwork, dict[str, int]] | None:
    """The cached network and counts, or None when absent, stale or unreadable."""
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
        if doc.get("key") != _cache_key(sha, profile):
            return None
        net = RoadNetwork.load(npz)
        counts = {k: int(doc[k]) for k in ("nodes", "edges", "dropped_nodes", "dropped_components")}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if net.mode != profile.mode or net.n_nodes != counts["nodes"]:
        return None
    return net, counts


def _save_cache(
    npz: Path,
    meta: Path,
    net: RoadNetwork,
    *,
    counts: Mapping[str, int],
    sha: str,
    profile: ModeProfile,
) -> None:
    """Write the npz, then the JSON sidecar (which marks the entry complete); atomic renames."""
    npz.parent.mkdir(parents=True, exist_ok=True)
    tmp_npz = npz.with_name(f"{npz.stem}.{os.getpid()}.tmp.npz")
    net.save(tmp_npz)
    os.replace(tmp_npz, npz)
    doc = {
        "key": _cache_key(sha, profile),
        "source_sha256": sha,
        "mode": profile.mode,
        "profile_hash": profile_hash(profile),
        "cache_version": CACHE_VERSION,
        **counts,
    }
    tmp_meta = meta.with_name(f"{meta.name}.{os.getpid()}.tmp")
    tmp_meta.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp_meta, meta)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while osmnx creates millions of small objects.

    The graph holds no garbage cycles worth collecting, and the collector's passes
    over it cost about a third of the build time. Re-enabled only if it was on.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# --- progress ------------------------------------------------------------------------------


@contextmanager
def _stages(
    show: bool | StageProgress, mode: str, *, total: int
) -> Iterator[Callable[[str], None]]:
    """A step function that advances a tqdm bar on stderr (``show`` True), tells a
    callback (``show`` callable) or does nothing."""
    title = f"道路网络（{mode}）"
    if callable(show):
        report = show
        done = -1

        def tell(name: str) -> None:
            nonlocal done
            done += 1
            report(f"{title}：{name}", done / total)

        yield tell
        if done >= 0:
            report(f"{title}：完成", 1.0)
        return
    if not show:
        yield lambda _name: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=title, file=sys.stderr, unit="步") as bar:
        started = False

        def step(name: str) -> None:
            nonlocal started
            if started:
                bar.update(1)
            started = True
            bar.set_postfix_str(name)

        yield step
        if started:
            bar.update(1)
