"""The per-process network cache: a second request neither rebuilds nor rereads the npz."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from geo.errors import NetworkError
from planner.networks import NetworkCache
from planner.settings import Config

STREETS = Path(__file__).resolve().parents[1] / "data" / "osm" / "streets.osm"


@pytest.fixture
def streets(tmp_path: Path) -> Path:
    path = tmp_path / "streets.osm"
    shutil.copyfile(STREETS, path)
    return path


def test_second_request_comes_from_memory_even_without_the_disk_cache(
    streets: Path, tmp_path: Path, config: Config
) -> None:
    disk = tmp_path / "cache"
    cache = NetworkCache()
    first = cache.get(streets, profile=config.network.profile("drive"), cache_dir=disk)
    assert (first.from_cache, cache.hits, cache.misses) == (False, 0, 1)
    assert len(list(disk.glob("*.npz"))) == 1
    shutil.rmtree(disk)  # a reload from disk would now rebuild (and write the npz again)
    second = cache.get(streets, profile=config.network.profile("drive"), cache_dir=disk)
    assert second.network is first.network
    assert second.from_cache and (cache.hits, cache.misses) == (1, 1)
    assert second.source_sha256 == first.source_sha256
    assert (second.nodes, second.edges) == (first.nodes, first.edges)
    assert not disk.exists()


def test_each_profile_and_each_file_content_has_its_own_entry(
    streets: Path, tmp_path: Path, config: Config
) -> None:
    cache = NetworkCache()
    drive = cache.get(streets, profile=config.network.profile("drive"), cache_dir=None)
    walk = cache.get(streets, profile=config.network.profile("walk"), cache_dir=None)
    assert (drive.network.mode, walk.network.mode) == ("drive", "walk")
    assert (cache.hits, cache.misses, len(cache)) == (0, 2, 2)
    # the file changes (size and time differ): its new content is built, not served stale
    streets.write_text(streets.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    again = cache.get(streets, profile=config.network.profile("drive"), cache_dir=None)
    assert not again.from_cache and again.source_sha256 != drive.source_sha256
    assert (cache.hits, cache.misses, len(cache)) == (0, 3, 3)


def test_least_recently_used_network_is_dropped(
    streets: Path, tmp_path: Path, config: Config
) -> None:
    cache = NetworkCache(max_entries=1)
    drive, walk = config.network.profile("drive"), config.network.profile("walk")
    cache.get(streets, profile=drive, cache_dir=None)
    cache.get(streets, profile=walk, cache_dir=None)  # drops drive
    assert len(cache) == 1
    assert cache.get(streets, profile=walk, cache_dir=None).from_cache
    assert not cache.get(streets, profile=drive, cache_dir=None).from_cache
    assert (cache.hits, cache.misses) == (1, 3)
    cache.clear()
    assert len(cache) == 0


def test_a_missing_file_is_the_network_error(tmp_path: Path, config: Config) -> None:
    cache = NetworkCache()
    with pytest.raises(NetworkError, match="不存在"):
        cache.get(tmp_path / "nope.osm", profile=config.network.profile("drive"), cache_dir=None)
    assert len(cache) == 0
