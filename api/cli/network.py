"""``coverplan network build`` and ``travel-time``: road networks and point-to-point times."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.cli._common import (
    command_config,
    district_store,
    lonlat,
)
from api.cli._progress import command_progress
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]


SNAP_LABELS = {"villages": "村社", "facilities": "设施", "households": "自有坐标的住户"}
MODE_LABELS = {"drive": "驾车", "walk": "步行", "wheelchair": "轮椅"}


def cmd_network(args: argparse.Namespace) -> int:
    from geo.graph import MODES
    from planner.coverage.offnetwork import summary_zh
    from planner.services.network import NetworkBuildOptions, build_networks

    store = district_store(args)
    config = command_config()
    options = NetworkBuildOptions(
        file=Path(args.file) if args.file else None,
        modes=tuple(MODES) if args.mode == "all" else (args.mode,),
    )
    with command_progress(args) as progress:
        result = build_networks(store, config=config, options=options, progress=progress)
    if args.json:
        print_json(result.to_json())
        return 0
    max_m = result.snap_max_m
    lines: list[str] = []
    for m in result.modes:
        lines.append(m.build.summary())
        lines += [f"  {SNAP_LABELS[k]}：{_snap_line(v, max_m)}" for k, v in m.snaps.items()]
    print("\n".join(lines))
    summary = summary_zh(result.off_network, max_m=max_m)
    if summary:
        print(summary)
    if result.not_located:
        print(f"{len(result.not_located)} 个村社没有点位或边界，无法检查是否在路网上")
    if result.recorded is not None:
        print(f"已登记道路网络文件 {result.recorded}")
    return 0


def _snap_line(snap: Any, max_m: float) -> str:
    """``N 个点位匹配到道路：最大距离 … 米，中位距离 … 米；K 个超过 … 米`` (or 没有点位)."""
    from geo.network import SnapResult

    as_geo = SnapResult(
        node=snap.node, distance_m=snap.distance_m, flagged=snap.off_network, max_m=max_m
    )
    return as_geo.summary()


def cmd_travel_time(args: argparse.Namespace) -> int:
    from planner.services.network import TravelTimeOptions, travel_time

    store = district_store(args)
    config = command_config()
    options = TravelTimeOptions(
        origin=args.from_,
        destination=args.to,
        mode=args.mode,
        crs=args.crs,
        network=Path(args.network) if args.network else None,
        snap_any=args.snap_any,
    )
    with command_progress(args) as progress:  # a network not yet built is built first
        res = travel_time(store, config=config, options=options, progress=progress)
    if args.json:
        print_json(res.to_json())
        return 0
    print(
        f"{MODE_LABELS[res.mode]} {res.minutes:.1f} 分钟，{res.metres:.0f} 米"
        f"（起点距路网 {res.from_snap_m:.0f} 米，终点距路网 {res.to_snap_m:.0f} 米）"
    )
    if res.far:
        which = "、".join(label for _, label, _ in res.far)
        print(f"注意：{which}距路网超过 {res.snap_max_m:g} 米（--snap-any）")
    return 0


def register(sub: Any, add: Add) -> None:
    """Add this module's commands to the ``coverplan`` parser."""
    p = add("network", "道路网络：构建并缓存（drive 驾车 / walk 步行 / wheelchair 轮椅）")
    nsub = p.add_subparsers(dest="action", required=True)
    nb = nsub.add_parser("build", help="构建道路网络并登记到数据库")
    nb.add_argument("file", nargs="?", help="OSM 文件（.osm 或 .osm.pbf）；省略则用已登记的")
    nb.add_argument("--mode", default="all", choices=["drive", "walk", "wheelchair", "all"])
    nb.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_network)

    p = add("travel-time", "两点之间的通行时间和距离")
    p.add_argument("--from", dest="from_", type=lonlat, required=True, help="起点 经度,纬度")
    p.add_argument("--to", type=lonlat, required=True, help="终点 经度,纬度")
    p.add_argument("--mode", default="drive", choices=["drive", "walk", "wheelchair"])
    p.add_argument("--crs", default="wgs84", help="坐标系：wgs84（默认）、gcj02、bd09")
    p.add_argument("--network", help="OSM 文件（默认用已登记的）")
    p.add_argument(
        "--snap-any",
        action="store_true",
        help="起点或终点距路网超过 [network] snap_max_m 时仍从最近的路网节点计算（默认拒绝）",
    )
    p.set_defaults(func=cmd_travel_time)
