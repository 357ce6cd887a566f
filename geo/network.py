"""Road networks of one travel mode, built from OpenStreetMap files.

:func:`build_network` reads an OSM XML (``.osm``, ``.osm.xml``, optionally
``.gz``/``.bz2``) or PBF (``.osm.pbf``, ``.pbf``) file, lets osmnx build the
unsimplified directed graph, keeps the ways a :class:`~geo.graph.ModeProfile`
allows, gives every edge its travel time in seconds and returns the largest
strongly connected component as a :class:`~geo.graph.RoadNetwork`. Builds are
cached by file content and profile. :func:`snap_points` matches WGS-84 points
to their nearest network node.

PBF files are read with pyosmium and rewritten as a temporary OSM XML file that
holds only the ``highway`` ways and their nodes; osmnx reads that. Ways cut by
the edge of an extract (nodes missing from the file) are split at the gaps,
for PBF files and, as a fallback, for XML files osmnx cannot read whole.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import xml.sax
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components

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
KMH_PER_MPH = 1.609344
KMH_PER_KNOT = 1.852
KMH_PER_MS = 3.6  # 1 m/s is 3.6 km/h

_XML_SUFFIXES = (".osm", ".osm.xml", ".osm.gz", ".osm.bz2")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")
# Way tags osmnx must keep besides the profile's exclusion keys ("junction":
# osmnx treats roundabouts as one-way).
_WAY_TAGS = ("highway", "maxspeed", "oneway", "junction", "name", "access", "area")
_HASH_CHUNK = 1 << 20  # bytes read at a time when hashing the input file
_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_UNIT_KMH = {
    "": 1.0,
    "km/h": 1.0,
    "kmh": 1.0,
    "kph": 1.0,
    "mph": KMH_PER_MPH,
    "knots": KMH_PER_KNOT,
}
_OSMNX_LOCK = threading.Lock()  # osmnx.settings is global state

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
        "exclude": {k: sorted({_norm(x) for x in v}) for k, v in sorted(profile.exclude.items())},
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
    kind = _kind(src)
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
        graph = _read_graph(src, kind, profile=profile, tmp_parent=cache_dir)
        step("筛选路段并计算通行时间")
        full = _to_network(graph, profile=profile, source=source, file=src)
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


# --- reading ---------------------------------------------------------------------------


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PBF_SUFFIXES):
        return "pbf"
    if name.endswith(_XML_SUFFIXES):
        return "xml"
    known = "、".join(_XML_SUFFIXES + _PBF_SUFFIXES)
    raise NetworkError(f"道路网络文件 {path} 的类型无法识别；支持：{known}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _osmium_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PBF_SUFFIXES):
        return "pbf"
    for comp in ("gz", "bz2"):
        if name.endswith("." + comp):
            return f"osm.{comp}"
    return "osm"


def _read_graph(
    src: Path, kind: str, *, profile: ModeProfile, tmp_parent: Path | None
) -> nx.MultiDiGraph:
    """The unsimplified osmnx graph of ``src`` (all ways, both directions unless one-way)."""
    if kind == "xml":
        try:
            return _osmnx_graph(src, profile=profile)
        except ValueError:
            pass  # e.g. ways referring to nodes not in the file: clean it with pyosmium
        except (ParseError, xml.sax.SAXException, UnicodeDecodeError) as exc:
            raise NetworkError(f"道路网络文件 {src} 不是有效的 OSM XML：{exc}") from exc
    if tmp_parent is not None:
        tmp_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="osm-", dir=tmp_parent) as tmp:
        xml_path = Path(tmp) / "highways.osm"
        _highways_to_xml(src, xml_path)
        try:
            return _osmnx_graph(xml_path, profile=profile)
        except (ValueError, ParseError, xml.sax.SAXException) as exc:
            raise NetworkError(f"道路网络文件 {src} 无法读取：{exc}") from exc


def _osmnx_graph(path: Path, *, profile: ModeProfile) -> nx.MultiDiGraph:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    s = ox.settings
    tags = list(dict.fromkeys([*s.useful_tags_way, *_WAY_TAGS, *profile.exclude]))
    with _OSMNX_LOCK:
        saved = (s.useful_tags_way, s.useful_tags_node, s.all_oneway)
        s.useful_tags_way, s.useful_tags_node, s.all_oneway = tags, [], False
        try:
            return ox.graph_from_xml(
                path, bidirectional=not profile.respect_oneway, simplify=False, retain_all=True
            )
        except InsufficientResponseError:
            return nx.MultiDiGraph()
        finally:
            s.useful_tags_way, s.useful_tags_node, s.all_oneway = saved


def _highways_to_xml(src: Path, dst: Path) -> None:
    """Write the ``highway`` ways of ``src`` and their nodes to OSM XML ``dst``.

    Node references without a location (cut off by the extract) split a way;
    pieces after the first get fresh ids above the largest way id.
    """
    import osmium

    fmt = _osmium_format(src)
    mutable = osmium.osm.mutable
    try:
        reader = (
            osmium.FileProcessor(osmium.io.File(str(src), fmt), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        written: set[int] = set()
        extra: list[tuple[dict[str, str], list[int]]] = []
        max_id = 0
        with osmium.SimpleWriter(str(dst), overwrite=True) as out:
            for way in reader:
                if not isinstance(way, osmium.osm.Way):
                    continue
                max_id = max(max_id, way.id)
                runs = _located_runs(way)
                for run in runs:
                    for ref, lon, lat in run:
                        if ref not in written:
                            written.add(ref)
                            out.add_node(mutable.Node(id=ref, location=(lon, lat)))
                if runs:
                    tags = dict(way.tags)
                    refs = [[r[0] for r in run] for run in runs]
                    out.add_way(mutable.Way(id=way.id, nodes=refs[0], tags=tags))
                    extra.extend((tags, r) for r in refs[1:])
            for i, (tags, refs_) in enumerate(extra, start=1):
                out.add_way(mutable.Way(id=max_id + i, nodes=refs_, tags=tags))
    except RuntimeError as exc:
        what = "PBF" if fmt == "pbf" else "OSM XML"
        raise NetworkError(f"道路网络文件 {src} 不是有效的 {what} 文件：{exc}") from exc


def _located_runs(way: Any) -> list[list[tuple[int, float, float]]]:
    """Maximal runs (at least two nodes) of a way's nodes that have a location."""
    runs: list[list[tuple[int, float, float]]] = [[]]
    for nd in way.nodes:
        loc = nd.location
        if loc.valid():
            runs[-1].append((nd.ref, loc.lon, loc.lat))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if len(r) >= 2]


# --- graph to arrays ---------------------------------------------------------------------


def _to_network(
    graph: nx.MultiDiGraph, *, profile: ModeProfile, source: str, file: Path
) -> RoadNetwork:
    """The usable edges of ``graph`` as a :class:`RoadNetwork` (all components)."""
    edges = list(graph.edges(data=True))
    m = len(edges)
    u = np.fromiter((e[0] for e in edges), dtype=np.int64, count=m)
    v = np.fromiter((e[1] for e in edges), dtype=np.int64, count=m)
    metres = np.fromiter((e[2].get("length", 0.0) for e in edges), dtype=np.float64, count=m)
    highway = [e[2].get("highway") for e in edges]

    speeds = partial(_class_speed, profile.speeds_kmh)
    speed = _per_value(highway, speeds, default=np.nan, dtype=np.float64)
    usable = np.isfinite(speed)
    for key, values in profile.exclude.items():
        banned = partial(_any_in, frozenset(_norm(x) for x in values))
        col = [e[2].get(key) for e in edges]
        usable &= ~_per_value(col, banned, default=False, dtype=np.bool_)
    if profile.respect_maxspeed:
        col = [e[2].get("maxspeed") for e in edges]
        posted = _per_value(col, _maxspeed_kmh, default=np.nan, dtype=np.float64)
        speed = np.fmin(speed, posted * profile.maxspeed_factor)
    if not usable.any():
        raise NetworkError(
            f"道路网络文件 {file} 中没有出行方式 {profile.mode} 可用的道路"
            f"（文件中的道路类型：{_classes(highway)}）；"
            f"请检查文件或配置 [network.{profile.mode}]。"
        )

    u, v, metres, speed = u[usable], v[usable], metres[usable], speed[usable]
    ids, inverse = np.unique(np.concatenate([u, v]), return_inverse=True)
    node_osm = np.fromiter(graph.nodes, dtype=np.int64, count=len(graph))
    node_x = np.fromiter((x for _, x in graph.nodes(data="x")), np.float64, count=len(graph))
    node_y = np.fromiter((y for _, y in graph.nodes(data="y")), np.float64, count=len(graph))
    order = np.argsort(node_osm, kind="stable")
    at = order[np.searchsorted(node_osm, ids, sorter=order)]
    return RoadNetwork.from_edges(
        mode=profile.mode,
        lon=node_x[at],
        lat=node_y[at],
        u=inverse[: u.shape[0]],
        v=inverse[u.shape[0] :],
        seconds=metres / (speed / KMH_PER_MS),
        metres=metres,
        node_ids=ids,
        source=source,
    )


def _norm(value: object) -> str:
    return str(value).strip().lower()


def _parts(value: object) -> tuple[str, ...]:
    """A tag value as its ``;``-separated parts (osmnx may give lists), lower-case."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(p for item in items for p in (_norm(x) for x in str(item).split(";")) if p)


def _per_value(
    values: Sequence[object],
    fn: Callable[[tuple[str, ...]], Any],
    *,
    default: Any,
    dtype: type,
) -> NDArray[Any]:
    """``fn`` of each value's parts, evaluated once per distinct value (``default`` for None)."""
    keys = [";".join(map(str, x)) if isinstance(x, list) else x for x in values]
    lookup: dict[object, int] = {}
    codes = np.fromiter(
        (lookup.setdefault(k, len(lookup)) for k in keys), dtype=np.int64, count=len(keys)
    )
    table: NDArray[Any] = np.array(
        [default if k is None else fn(_parts(k)) for k in lookup], dtype=dtype
    )
    return table[codes]


def _any_in(banned: frozenset[str], parts: tuple[str, ...]) -> bool:
    return not banned.isdisjoint(parts)


def _class_speed(speeds: Mapping[str, float], parts: tuple[str, ...]) -> float:
    # the first listed class this mode may use
    return next((float(speeds[p]) for p in parts if p in speeds), math.nan)


def _maxspeed_kmh(parts: tuple[str, ...]) -> float:
    """The lowest parseable limit in km/h, NaN when none (e.g. ``CN:urban``, ``none``)."""
    found = []
    for p in parts:
        hit = _MAXSPEED_RE.match(p)
        if hit:
            kmh = float(hit.group(1).replace(",", ".")) * _UNIT_KMH[(hit.group(2) or "").lower()]
            if kmh > 0:
                found.append(kmh)
    return min(found) if found else math.nan


def _classes(highway: Sequence[object]) -> str:
    counts: dict[str, int] = {}
    for value in highway:
        for p in _parts(value):
            counts[p] = counts.get(p, 0) + 1
    if not counts:
        return "无"
    top = sorted(counts, key=lambda k: (-counts[k], k))[:8]
    return "、".join(top)


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
