"""Road networks: build (and check) the district's networks, travel time between two points.

``coverplan network build`` and ``coverplan travel-time`` call these; so will the
HTTP API, passing its per-process :class:`~planner.networks.NetworkCache` as
``networks=`` so that no request rebuilds or reloads a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.crs import to_wgs84
from geo.graph import MODES
from geo.network import NetworkBuild
from geo.traveltime import point_to_point
from planner.coverage.offnetwork import (
    PointSnap,
    VillageShare,
    point_entries,
    resident_entries,
    snap_to_network,
    village_share,
)
from planner.errors import InputError, NetworkCoverageError
from planner.networks import NetworkCache, load_network, network_file, record_network_file
from planner.services._common import Progress, no_progress
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame
from planner.units import SECONDS_PER_MINUTE

__all__ = [
    "SNAP_KINDS",
    "ModeNetwork",
    "NetworkBuildOptions",
    "NetworkBuildResult",
    "TravelTime",
    "TravelTimeOptions",
    "build_networks",
    "travel_time",
]

#: The points checked against each network, in the order reported.
SNAP_KINDS = ("villages", "facilities", "households")
DISTANCE_DECIMALS = 1
MINUTES_DECIMALS = 2
SECONDS_DECIMALS = 1


def _check_mode(mode: str, option: str) -> None:
    if mode not in MODES:
        raise InputError(f"{option} 的出行方式「{mode}」不存在；可用：{'、'.join(MODES)}")


@dataclass(frozen=True, kw_only=True)
class NetworkBuildOptions:
    """What ``network build`` builds.

    Attributes
    ----------
    file
        OSM file (``.osm``, ``.osm.pbf`` …) to build and register; None: the
        file already registered (it is checked, not registered again).
    modes
        Travel modes to build (``drive``, ``walk``, ``wheelchair``).
    """

    file: Path | None = None
    modes: tuple[str, ...] = MODES

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", tuple(self.modes))
        if not self.modes:
            raise InputError("--mode 至少要指定一种出行方式（drive、walk、wheelchair 或 all）")
        for mode in self.modes:
            _check_mode(mode, "--mode")
        if self.file is not None:
            object.__setattr__(self, "file", Path(self.file))


@dataclass(frozen=True)
class ModeNetwork:
    """One mode's network and how the district's points lie on it.

    Attributes
    ----------
    mode
        ``drive``, ``walk`` or ``wheelchair``.
    build
        The build report (nodes, edges, dropped parts, SHA-256, seconds, cache).
    snaps
        Per kind of point (:data:`SNAP_KINDS`: villages with a point,
        facilities with a point, households with their own point): the snap
        to this network with the limit ``[network] snap_max_m`` (metres).
    villages
        The share of villages within the limit.
    """

    mode: str
    build: NetworkBuild
    snaps: dict[str, PointSnap]
    villages: VillageShare

    def to_json(self) -> dict[str, Any]:
        b = self.build
        return {
            "nodes": b.nodes,
            "edges": b.edges,
            "dropped_nodes": b.dropped_nodes,
            "dropped_components": b.dropped_components,
            "seconds": round(b.seconds, 3),
            "from_cache": b.from_cache,
            "source_sha256": b.source_sha256,
            "snap": {
                k: {
                    "points": int(v.node.size),
                    "flagged": int(v.off_network.sum()),
                    "max_m": round(float(v.distance_m.max()), DISTANCE_DECIMALS)
                    if v.node.size
                    else None,
                }
                for k, v in self.snaps.items()
            },
            "villages": self.villages.to_json(),
        }


@dataclass(frozen=True)
class NetworkBuildResult:
    """The networks built and the points off them.

    Attributes
    ----------
    modes
        One entry per mode built, in the order asked.
    off_network
        Villages, facilities and households (per village) beyond the snap
        limit, per mode (entries as in :mod:`planner.coverage.offnetwork`).
    not_located
        Villages without point or polygon: ``kind`` (``village``), ``code``, ``name``.
    snap_max_m
        The snap limit, metres.
    recorded
        The file now registered as the district's network (resolved path), or
        None when the registered file was only checked.
    """

    modes: tuple[ModeNetwork, ...]
    off_network: tuple[dict[str, Any], ...]
    not_located: tuple[dict[str, Any], ...]
    snap_max_m: float
    recorded: Path | None

    def to_json(self) -> dict[str, Any]:
        """``{mode: {...}, …, "off_network": [...], "not_located": [...]}``."""
        out: dict[str, Any] = {m.mode: m.to_json() for m in self.modes}
        out["off_network"] = list(self.off_network)
        out["not_located"] = list(self.not_located)
        return out


def _check_mode_points(
    mode: str,
    build: NetworkBuild,
    points: dict[str, Any],
    *,
    max_m: float,
    names: dict[str, str],
) -> tuple[ModeNetwork, list[dict[str, Any]]]:
    """Snap the district's points to one network: its report and its off-network entries."""
    net = build.network
    villages, facilities, households = (points[k] for k in SNAP_KINDS)
    # snapped in this order (villages, facilities, households), as reported
    snaps = {
        k: snap_to_network(net, points[k]["lon"], points[k]["lat"], max_m=max_m) for k in SNAP_KINDS
    }
    codes, vnames = villages["code"].to_list(), villages["name"].to_list()
    share = village_share(snaps["villages"], codes=codes, names=vnames)
    off = point_entries("village", snaps["villages"], keys=codes, names=vnames)
    off += point_entries(
        "facility",
        snaps["facilities"],
        keys=facilities["id"].to_list(),
        names=facilities["name"].to_list(),
        key="id",
    )
    hh = snaps["households"]
    off += resident_entries(
        households["village_code"].to_numpy()[hh.off_network],
        hh.distance_m[hh.off_network],
        village_names=names,
        mode=mode,
    )
    return ModeNetwork(mode=mode, build=build, snaps=snaps, villages=share), off


def build_networks(
    store: Store,
    *,
    config: Config,
    options: NetworkBuildOptions,
    progress: Progress = no_progress,
    networks: NetworkCache | None = None,
) -> NetworkBuildResult:
    """Build (or load from the caches) each mode's network and check the district against it.

    Villages, facilities and households with their own point are snapped to
    each network with the limit ``[network] snap_max_m``. The file is refused
    when, for every mode, fewer than ``[network] min_village_share`` of the
    villages lie within the limit (a wrong district or a clipped extract);
    otherwise a new ``options.file`` is registered as the district's network.

    Parameters
    ----------
    store
        The district.
    config
        ``[network]`` profiles and limits.
    options
        The file and the modes.
    progress
        Told each build stage (nothing when a network comes from a cache).
    networks
        Networks already loaded in this process (None: load from disk).

    Raises
    ------
    ConfigError
        When no file is given and none is registered.
    NetworkError
        When the file is missing, unreadable or has no usable way.
    NetworkCoverageError
        When the file covers too little of the district (nothing is registered).
    """
    max_m = config.network.snap_max_m
    villages = villages_frame(store)
    unlocated = villages[villages["lon"].isna()]
    villages = villages[villages["lon"].notna()]
    facilities = facilities_frame(store)
    households = residents_frame(store)
    points = {
        "villages": villages,
        "facilities": facilities[facilities["lon"].notna()],
        "households": households[households["lon"].notna() & households["lat"].notna()],
    }
    names = dict(zip(villages["code"], villages["name"], strict=True))
    modes: list[ModeNetwork] = []
    off: list[dict[str, Any]] = []
    for mode in options.modes:
        build = load_network(
            store, config=config, mode=mode, path=options.file, progress=progress, cache=networks
        )
        checked, entries = _check_mode_points(mode, build, points, max_m=max_m, names=names)
        modes.append(checked)
        off += entries
    _refuse_if_elsewhere(store, config=config, modes=modes, file=options.file)
    if options.file is not None:
        record_network_file(store, options.file)
    return NetworkBuildResult(
        modes=tuple(modes),
        off_network=tuple(off),
        not_located=tuple(
            {"kind": "village", "code": c, "name": n}
            for c, n in zip(unlocated["code"], unlocated["name"], strict=True)
        ),
        snap_max_m=max_m,
        recorded=options.file.resolve() if options.file is not None else None,
    )


def _refuse_if_elsewhere(
    store: Store, *, config: Config, modes: list[ModeNetwork], file: Path | None
) -> None:
    """Refuse a file whose best mode leaves most villages far from its roads."""
    known = [m for m in modes if m.villages.share is not None]
    minimum = config.network.min_village_share
    if known and all((m.villages.share or 0.0) < minimum for m in known):
        best = max(modes, key=lambda m: m.villages.share or 0.0)
        shown = str(file) if file is not None else str(network_file(store))
        raise NetworkCoverageError(
            best.villages.refusal(file=shown, mode=best.mode, minimum=minimum)
        )


@dataclass(frozen=True, kw_only=True)
class TravelTimeOptions:
    """A trip between two points.

    Attributes
    ----------
    origin, destination
        ``(lon, lat)`` in ``crs``, degrees.
    mode
        ``drive``, ``walk`` or ``wheelchair``.
    crs
        ``wgs84``, ``gcj02`` or ``bd09``.
    network
        OSM file instead of the registered one.
    snap_any
        Route from the nearest nodes even when a point is beyond
        ``[network] snap_max_m`` (otherwise refused).
    """

    origin: tuple[float, float]
    destination: tuple[float, float]
    mode: str = "drive"
    crs: str = "wgs84"
    network: Path | None = None
    snap_any: bool = False

    def __post_init__(self) -> None:
        _check_mode(self.mode, "--mode")
        for option, point in (("--from", self.origin), ("--to", self.destination)):
            if len(point) != 2:
                raise InputError(f"{option} 应为「经度,纬度」两个数，实际 {len(point)} 个")
        if self.network is not None:
            object.__setattr__(self, "network", Path(self.network))


@dataclass(frozen=True)
class TravelTime:
    """The fastest route between two points on one mode's network.

    Attributes
    ----------
    mode
        The travel mode.
    minutes, metres, seconds
        Along the network (the legs from the points to the network not added).
    from_snap_m, to_snap_m
        Metres from each point to its nearest network node.
    snap_max_m
        The snap limit, metres.
    far
        The points beyond the limit (allowed with ``snap_any``): ``(key,
        label, metres)`` with key ``from``/``to`` and label 起点/终点.
    """

    mode: str
    minutes: float
    metres: float
    seconds: float
    from_snap_m: float
    to_snap_m: float
    snap_max_m: float
    far: tuple[tuple[str, str, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "minutes": self.minutes,
            "metres": self.metres,
            "seconds": self.seconds,
            "from_snap_m": self.from_snap_m,
            "to_snap_m": self.to_snap_m,
            "snap_max_m": self.snap_max_m,
            "off_network": [
                {
                    "kind": "point",
                    "id": key,
                    "name": label,
                    "distance_m": round(m, DISTANCE_DECIMALS),
                    "mode": self.mode,
                }
                for key, label, m in self.far
            ],
        }


def travel_time(
    store: Store,
    *,
    config: Config,
    options: TravelTimeOptions,
    progress: Progress = no_progress,
    networks: NetworkCache | None = None,
) -> TravelTime:
    """Travel time and distance between two points (each snapped to its nearest node).

    Raises
    ------
    NetworkCoverageError
        When a point is beyond ``[network] snap_max_m`` and not ``snap_any``.
    CRSError
        For an unknown ``crs``.
    NetworkError
        When the destination cannot be reached or the network cannot be loaded.
    """
    max_m = config.network.snap_max_m
    build = load_network(
        store,
        config=config,
        mode=options.mode,
        path=options.network,
        progress=progress,
        cache=networks,
    )
    (flon, flat), (tlon, tlat) = options.origin, options.destination
    fx, fy = to_wgs84(flon, flat, crs=options.crs)
    tx, ty = to_wgs84(tlon, tlat, crs=options.crs)
    res = point_to_point(build.network, (float(fx), float(fy)), (float(tx), float(ty)))
    ends = {"from": ("起点", res.from_snap_m), "to": ("终点", res.to_snap_m)}
    far = {k: v for k, v in ends.items() if v[1] > max_m}
    if far and not options.snap_any:
        what = "，".join(f"{label}距路网 {m:.0f} 米" for label, m in far.values())
        raise NetworkCoverageError(
            f"{what}，超过上限 {max_m:g} 米（[network] snap_max_m），按不可达计；"
            "请检查坐标和坐标系（--crs），或加 --snap-any 仍从最近的路网节点计算"
        )
    return TravelTime(
        mode=options.mode,
        minutes=round(res.route.seconds / SECONDS_PER_MINUTE, MINUTES_DECIMALS),
        metres=round(res.route.metres, DISTANCE_DECIMALS),
        seconds=round(res.route.seconds, SECONDS_DECIMALS),
        from_snap_m=round(res.from_snap_m, DISTANCE_DECIMALS),
        to_snap_m=round(res.to_snap_m, DISTANCE_DECIMALS),
        snap_max_m=max_m,
        far=tuple((k, label, m) for k, (label, m) in far.items()),
    )
