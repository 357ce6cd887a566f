"""Coverage and gaps: who is within reach of which service, and where the gaps are.

``coverplan coverage`` and ``coverplan gaps`` call :func:`coverage` and
:func:`gaps`; the store is read here (as frames) and the analysis
(:func:`planner.coverage.engine.coverage_from_frames`,
:func:`planner.coverage.gaps.policy_gaps`) runs on the frames.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.graph import RoadNetwork
from planner.coverage.engine import coverage_from_frames
from planner.coverage.gaps import Gaps, policy_gaps
from planner.coverage.result import CoverageResult
from planner.domain.devices import count_devices, due_in_frame
from planner.errors import InputError
from planner.networks import NetworkCache, load_networks, modes_for
from planner.services._common import Progress, no_progress
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import devices_frame, facilities_frame, villages_frame

STAGE_TITLE = "覆盖分析"  # the progress bar of coverage, gaps and indicators
# the share of the bar done when each stage starts (networks loaded first)
READ_SHARE = 0.2
COMPUTE_SHARE = 0.3
RANK_SHARE = 0.9

__all__ = [
    "CoverageOptions",
    "GapsOptions",
    "GapsResult",
    "compute_coverage",
    "coverage",
    "find_gaps",
    "gaps",
]


@dataclass(frozen=True, kw_only=True)
class CoverageOptions:
    """What to compute.

    Attributes
    ----------
    types
        Facility type keys (``[facility_types.<key>]``), in the order reported;
        None: every configured type.
    today
        Reference day for ages, device and visit dates; None: today.
    isochrones
        Also compute the service areas (for ``--out``'s GeoPackage).
    network
        OSM file instead of the registered one.
    """

    types: tuple[str, ...] | None = None
    today: date | None = None
    isochrones: bool = False
    network: Path | None = None

    def __post_init__(self) -> None:
        if self.types is not None:
            types = tuple(self.types)
            if any(not isinstance(k, str) or not k.strip() for k in types):
                raise InputError("--type 的设施类型代码不能为空；例如 --type home")
            object.__setattr__(self, "types", types or None)
        if self.network is not None:
            object.__setattr__(self, "network", Path(self.network))

    def type_list(self) -> list[str] | None:
        """The types as a list (None: all)."""
        return list(self.types) if self.types else None


@dataclass(frozen=True, kw_only=True)
class GapsOptions(CoverageOptions):
    """What to rank: the same choices as :class:`CoverageOptions` (gaps of the types asked)."""


@dataclass(frozen=True)
class _Frames:
    """The store's contents the coverage and gaps need."""

    residents: pd.DataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    devices: pd.DataFrame

    @classmethod
    def read(cls, store: Store) -> _Frames:
        from planner.services.retrofit import family_residents

        return cls(
            # with the address, only to group residents without 户号 into families
            # for indicator 13 (never output)
            residents=family_residents(store),
            villages=villages_frame(store),
            facilities=facilities_frame(store),
            devices=devices_frame(store),
        )


def _coverage(
    frames: _Frames,
    *,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    types: Iterable[str] | None,
    today: date,
    isochrones: bool,
) -> CoverageResult:
    return coverage_from_frames(
        frames.residents,
        frames.villages,
        frames.facilities,
        config=config,
        networks=networks,
        types=types,
        today=today,
        isochrones=isochrones,
        devices=count_devices(frames.devices, today=today),
    )


def compute_coverage(
    store: Store,
    *,
    config: Config,
    networks: Mapping[str, RoadNetwork],
    types: Iterable[str] | None = None,
    today: date | None = None,
    isochrones: bool = True,
) -> CoverageResult:
    """Coverage of ``types`` (default: all configured) with networks already loaded.

    Reads residents, villages, facilities and devices from the store and calls
    :func:`~planner.coverage.engine.coverage_from_frames`; ``seconds`` includes
    the reading. For tests and benchmarks that hold their own networks; the
    action is :func:`coverage`.

    Parameters
    ----------
    store
        Residents, villages, facilities and devices.
    config
        Facility types (eligibility, threshold minutes, mode, catchment), targets.
    networks
        Road network per travel mode used by the types (``drive``, ``walk``, …).
    types
        Facility type keys, in the order reported.
    today
        Reference day for ages and device dates (default: today).
    isochrones
        Also compute service-area polygons per type (for maps).

    Raises
    ------
    ConfigError
        For an unknown type or a missing network.
    """
    started = time.perf_counter()
    result = _coverage(
        _Frames.read(store),
        config=config,
        networks=networks,
        types=types,
        today=today or date.today(),
        isochrones=isochrones,
    )
    return replace(result, seconds=time.perf_counter() - started)


def _networks(
    store: Store,
    *,
    config: Config,
    options: CoverageOptions,
    progress: Progress,
    networks: NetworkCache | None,
) -> dict[str, RoadNetwork]:
    progress(f"{STAGE_TITLE}：加载道路网络", 0.0)
    builds = load_networks(
        store,
        config=config,
        modes=modes_for(config, options.type_list()),
        path=options.network,
        progress=progress,
        cache=networks,
    )
    return {m: b.network for m, b in builds.items()}


def coverage(
    store: Store,
    *,
    config: Config,
    options: CoverageOptions,
    progress: Progress = no_progress,
    networks: NetworkCache | None = None,
) -> CoverageResult:
    """Coverage of the facility types asked, for the store's residents.

    Loads the networks the types need (the registered file, or
    ``options.network``), then computes the coverage
    (:func:`~planner.coverage.engine.coverage_from_frames`).

    Parameters
    ----------
    store
        The district.
    config
        Facility types, ``[network]``, indicator targets.
    options
        Types, reference day, isochrones, network file.
    progress
        Told ``覆盖分析：…`` at each stage (loading the networks, computing) and each
        network build stage (none when a network comes from a cache).
    networks
        Networks already loaded in this process (None: load from disk).

    Returns
    -------
    CoverageResult
        Totals per type, per-village and per-town tables, facilities with their
        load, indicators, isochrones, off-network and not-located lists.

    Raises
    ------
    ConfigError
        For an unknown type, or when no network is registered.
    NetworkError
        When the network file cannot be used.
    """
    roads = _networks(store, config=config, options=options, progress=progress, networks=networks)
    progress(f"{STAGE_TITLE}：读取名册与设施，计算通行时间和覆盖", READ_SHARE)
    result = compute_coverage(
        store,
        config=config,
        networks=roads,
        types=options.type_list(),
        today=options.today,
        isochrones=options.isochrones,
    )
    progress(f"{STAGE_TITLE}：完成", 1.0)
    return result


def _policy(frames: _Frames, *, config: Config, today: date) -> pd.DataFrame:
    overdue = due_in_frame(frames.devices, today=today, within_days=0)
    return policy_gaps(
        frames.residents,
        frames.villages,
        devices_overdue=[d.resident_id for d in overdue],
        config=config,
        today=today,
    )


def find_gaps(
    store: Store,
    *,
    config: Config,
    result: CoverageResult,
    types: list[str] | None = None,
) -> Gaps:
    """Coverage gaps from ``result`` and policy gaps from the store (on ``result.today``)."""
    policy = _policy(_Frames.read(store), config=config, today=result.today)
    return Gaps.from_coverage(result, policy, types=types)


@dataclass(frozen=True)
class GapsResult:
    """The gaps and the coverage they were ranked from.

    Attributes
    ----------
    gaps
        Coverage gaps per (village, type) and policy gaps per village
        (:class:`~planner.coverage.gaps.Gaps`: columns documented there).
    coverage
        The coverage run behind the coverage gaps (for ``--out`` and the
        off-network lines).
    """

    gaps: Gaps
    coverage: CoverageResult

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        """As :meth:`Gaps.to_json <planner.coverage.gaps.Gaps.to_json>`."""
        return self.gaps.to_json(top=top)


def gaps(
    store: Store,
    *,
    config: Config,
    options: GapsOptions,
    progress: Progress = no_progress,
    networks: NetworkCache | None = None,
) -> GapsResult:
    """Villages ranked by unmet demand per type, and by policy gaps.

    The coverage is computed as by :func:`coverage` (same options); the store
    is read once for both rankings.

    Raises
    ------
    ConfigError
        For an unknown type, or when no network is registered.
    NetworkError
        When the network file cannot be used.
    """
    roads = _networks(store, config=config, options=options, progress=progress, networks=networks)
    started = time.perf_counter()
    progress(f"{STAGE_TITLE}：读取名册与设施", READ_SHARE)
    frames = _Frames.read(store)
    today = options.today or date.today()
    progress(f"{STAGE_TITLE}：计算通行时间和覆盖", COMPUTE_SHARE)
    result = _coverage(
        frames,
        config=config,
        networks=roads,
        types=options.type_list(),
        today=today,
        isochrones=options.isochrones,
    )
    result = replace(result, seconds=time.perf_counter() - started)
    progress(f"{STAGE_TITLE}：排列服务缺口与政策缺口", RANK_SHARE)
    policy = _policy(frames, config=config, today=today)
    found = Gaps.from_coverage(result, policy, types=options.type_list())
    progress(f"{STAGE_TITLE}：完成", 1.0)
    return GapsResult(gaps=found, coverage=result)
