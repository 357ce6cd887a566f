"""Reading OpenStreetMap files into a :class:`~geo.graph.RoadNetwork` of one travel mode.

:func:`read_graph` reads an OSM XML (``.osm``, ``.osm.xml``, optionally
``.gz``/``.bz2``) or PBF (``.osm.pbf``, ``.pbf``) file into the unsimplified
osmnx graph; :func:`to_network` keeps the ways a
:class:`~geo.graph.ModeProfile` allows and gives every edge its travel time in
seconds (all components). :func:`geo.network.build_network` runs them, keeps the
largest strongly connected component and caches the result.

PBF files are read with pyosmium and rewritten as a temporary OSM XML file that
holds only the ``highway`` ways and their nodes; osmnx reads that. Ways cut by
the edge of an extract (nodes missing from the file) are split at the gaps,
for PBF files and, as a fallback, for XML files osmnx cannot read whole.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
import xml.sax
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from geo.graph import ModeProfile, NetworkError, RoadNetwork

KMH_PER_MPH = 1.609344
KMH_PER_KNOT = 1.852
KMH_PER_MS = 3.6  # 1 m/s is 3.6 km/h

_XML_SUFFIXES = (".osm", ".osm.xml", ".osm.gz", ".osm.bz2")
_PBF_SUFFIXES = (".osm.pbf", ".pbf")
# Way tags osmnx must keep besides the profile's exclusion keys ("junction":
# osmnx treats roundabouts as one-way).
_WAY_TAGS = ("highway", "maxspeed", "oneway", "junction", "name", "access", "area")
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


def file_kind(path: Path) -> str:
    """``"pbf"`` or ``"xml"`` from the file name, or a :class:`NetworkError`."""
    name = path.name.lower()
    if name.endswith(_PBF_SUFFIXES):
        return "pbf"
    if name.endswith(_XML_SUFFIXES):
        return "xml"
    known = "、".join(_XML_SUFFIXES + _PBF_SUFFIXES)
    raise NetworkError(f"道路网络文件 {path} 的类型无法识别；支持：{known}")


def _osmium_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PBF_SUFFIXES):
        return "pbf"
    for comp in ("gz", "bz2"):
        if name.endswith("." + comp):
            return f"osm.{comp}"
    return "osm"


def read_graph(
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


def to_network(
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
        banned = partial(_any_in, frozenset(norm_tag(x) for x in values))
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


def norm_tag(value: object) -> str:
    """A tag value as stripped lower-case text."""
    return str(value).strip().lower()


def _parts(value: object) -> tuple[str, ...]:
    """A tag value as its ``;``-separated parts (osmnx may give lists), lower-case."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(p for item in items for p in (norm_tag(x) for x in str(item).split(";")) if p)


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
