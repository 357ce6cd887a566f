"""The district's road networks: which OSM file, built and cached per mode."""

from __future__ import annotations

from pathlib import Path

from geo.network import NetworkBuild, build_network
from planner.errors import ConfigError
from planner.settings import Config, get_settings
from planner.store.core import Store

NETWORK_META_KEY = "network_file"


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
    progress: bool = False,
) -> NetworkBuild:
    """Build (or load from the cache) the road network of ``mode``."""
    cache = get_settings().data_dir / "cache" / "networks"
    cache.mkdir(parents=True, exist_ok=True)
    return build_network(
        network_file(store, path),
        profile=config.network.profile(mode),
        cache_dir=cache,
        progress=progress,
    )


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
    progress: bool = False,
) -> dict[str, NetworkBuild]:
    """:func:`load_network` for each mode."""
    return {
        m: load_network(store, config=config, mode=m, path=path, progress=progress) for m in modes
    }
