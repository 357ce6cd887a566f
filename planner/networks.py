"""The district's road networks: which OSM file, built and cached per mode.

Two caches, one behind the other:

- on disk, under ``<data_dir>/cache/networks``: each network built from an OSM
  file is saved as ``.npz`` keyed by the file's SHA-256 and the mode's profile
  (:func:`geo.network.build_network`), so a command never rebuilds it;
- in memory, per process (:class:`NetworkCache`): a long-running process (the
  HTTP server) keeps the loaded :class:`~geo.graph.RoadNetwork` objects keyed
  by (file SHA-256, profile), so a request does not even reload the ``.npz``.
  Pass :func:`process_cache` (or your own :class:`NetworkCache`) as
  ``networks=`` to the services; a command-line run passes nothing and loads
  from disk as before.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from geo.graph import ModeProfile
from geo.network import NetworkBuild, build_network, profile_hash
from planner.errors import ConfigError
from planner.settings import Config, get_settings
from planner.store.core import NETWORK_META_KEY, Store

__all__ = [
    "NETWORK_META_KEY",
    "NetworkCache",
    "load_network",
    "load_networks",
    "modes_for",
    "network_file",
    "process_cache",
    "record_network_file",
]

#: Networks kept in memory by a :class:`NetworkCache`: the three modes of the
#: registered file and of one more (a newly registered file, a ``--network``).
MAX_CACHED_NETWORKS = 6

Progress = Callable[[str, float | None], None]
_FileKey = tuple[str, int, int]  # resolved path, size in bytes, modification time (ns)


class NetworkCache:
    """Road networks loaded in this process, keyed by (file SHA-256, profile).

    The file's SHA-256 is remembered per (path, size, modification time), so a
    hit neither hashes the file nor reads the ``.npz``. The least recently used
    network is dropped beyond ``max_entries``. Thread-safe: one load at a time.

    Parameters
    ----------
    max_entries
        Networks kept (each holds a few arrays of the network's size).

    Attributes
    ----------
    hits, misses
        Requests served from memory, and those that built or read the disk cache.
    """

    def __init__(self, *, max_entries: int = MAX_CACHED_NETWORKS) -> None:
        self.hits = 0
        self.misses = 0
        self._max = max_entries
        self._lock = threading.Lock()
        self._sha: dict[_FileKey, str] = {}
        self._builds: OrderedDict[tuple[str, str], NetworkBuild] = OrderedDict()

    def __len__(self) -> int:
        return len(self._builds)

    def clear(self) -> None:
        """Forget every network (the disk cache stays)."""
        with self._lock:
            self._sha.clear()
            self._builds.clear()

    def get(
        self,
        path: Path,
        *,
        profile: ModeProfile,
        cache_dir: Path | None,
        progress: bool | Progress = False,
    ) -> NetworkBuild:
        """The network of ``profile`` built from ``path``: from memory when loaded before.

        A hit is reported as ``from_cache`` with the (tiny) lookup time in
        ``seconds``; a miss calls :func:`geo.network.build_network` (which reads
        the disk cache or builds) and keeps the result.

        Raises
        ------
        NetworkError
            As :func:`geo.network.build_network`.
        """
        started = time.perf_counter()
        with self._lock:
            file_key = _file_key(path)
            sha = self._sha.get(file_key) if file_key is not None else None
            key = (sha, profile_hash(profile)) if sha is not None else None
            if key is not None and key in self._builds:
                self._builds.move_to_end(key)
                self.hits += 1
                hit = self._builds[key]
                return replace(hit, from_cache=True, seconds=time.perf_counter() - started)
            self.misses += 1
            build = build_network(path, profile=profile, cache_dir=cache_dir, progress=progress)
            if file_key is not None:
                self._sha[file_key] = build.source_sha256
            self._builds[(build.source_sha256, profile_hash(profile))] = build
            while len(self._builds) > self._max:
                self._builds.popitem(last=False)
            return build


def _file_key(path: Path) -> _FileKey | None:
    try:
        st = path.stat()
    except OSError:
        return None  # build_network reports the missing file
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


_PROCESS_CACHE = NetworkCache()


def process_cache() -> NetworkCache:
    """The networks cache of this process (for servers: pass it as ``networks=``)."""
    return _PROCESS_CACHE


def network_file(store: Store, path: Path | str | None = None) -> Path:
    """The road network file to use: ``path``, or the one recorded in the store."""
    if path is not None:
        return Path(path)
    recorded = store.get_meta(NETWORK_META_KEY)
    if not recorded:
        raise ConfigError(
            "数据库中还没有登记道路网络；请运行 coverplan network build 文件.osm（或 .osm.pbf），"
            "或在命令中加 --network 文件"
        )
    return Path(recorded)


def record_network_file(store: Store, path: Path) -> None:
    """Remember ``path`` as the district's road network."""
    with store.write() as s:
        store.set_meta(s, NETWORK_META_KEY, str(Path(path).resolve()))


def load_network(
    store: Store,
    *,
    config: Config,
    mode: str,
    path: Path | str | None = None,
    progress: bool | Progress = False,
    cache: NetworkCache | None = None,
) -> NetworkBuild:
    """Build (or load from the caches) the road network of ``mode``.

    Parameters
    ----------
    store
        The district (its registered network file when ``path`` is None).
    config
        ``[network]``: the mode's profile.
    mode
        ``drive``, ``walk`` or ``wheelchair``.
    path
        An OSM file instead of the registered one.
    progress
        ``True``: a progress bar on stderr while building; a callable: told
        each stage (see :func:`geo.network.build_network`).
    cache
        Networks already loaded in this process (None: load from disk).

    Raises
    ------
    ConfigError
        When no file is given and none is registered.
    NetworkError
        When the file is missing or unreadable or has no usable way.
    """
    disk = get_settings().data_dir / "cache" / "networks"
    disk.mkdir(parents=True, exist_ok=True)
    src = network_file(store, path)
    profile = config.network.profile(mode)
    if cache is not None:
        return cache.get(src, profile=profile, cache_dir=disk, progress=progress)
    return build_network(src, profile=profile, cache_dir=disk, progress=progress)


def modes_for(config: Config, types: list[str] | None = None) -> list[str]:
    """Travel modes the (travel-catchment) facility types need, sorted."""
    keys = types or list(config.facility_types)
    return sorted(
        {
            config.facility_types[k].mode
            for k in keys
            if k in config.facility_types and config.facility_types[k].catchment == "travel"
        }
    )


def load_networks(
    store: Store,
    *,
    config: Config,
    modes: list[str],
    path: Path | str | None = None,
    progress: bool | Progress = False,
    cache: NetworkCache | None = None,
) -> dict[str, NetworkBuild]:
    """:func:`load_network` for each mode."""
    return {
        m: load_network(store, config=config, mode=m, path=path, progress=progress, cache=cache)
        for m in modes
    }
