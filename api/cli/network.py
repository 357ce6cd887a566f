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
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]


def cmd_network(args: argparse.Namespace) -> int:
    import numpy as np

    from planner.coverage.offnetwork import (
        NetworkCoverageError,
        point_entries,
        resident_entries,
        snap_to_network,
        summary_zh,
        village_share,
    )
    from planner.networks import load_network, network_file, record_network_file
    from planner.store.frames import facilities_frame, residents_frame, villages_frame

    store = district_store(args)
    config = command_config()
    max_m = config.network.snap_max_m
    path = Path(args.file) if args.file else None
    modes = ["drive", "walk", "wheelchair"] if args.mode == "all" else [args.mode]
    out: dict[str, Any] = {}
    off: list[dict[str, Any]] = []
    villages = villages_frame(store)
    unlocated = villages[villages["lon"].isna()]
    villages = villages[villages["lon"].notna()]
    names = dict(zip(villages["code"], villages["name"], strict=True))
    facilities = facilities_frame(store)
    facilities = facilities[facilities["lon"].notna()]
    households = residents_frame(store)
    households = households[households["lon"].notna() & households["lat"].notna()]
    labels = {"villages": "村社", "facilities": "设施", "households": "自有坐标的住户"}
    shares = {}
    lines: list[str] = []
    for mode in modes:
        build = load_network(store, config=config, mode=mode, path=path, progress=not args.json)
        net = build.network
        snaps = {
            "villages": snap_to_network(net, villages["lon"], villages["lat"], max_m=max_m),
            "facilities": snap_to_network(net, facilities["lon"], facilities["lat"], max_m=max_m),
            "households": snap_to_network(net, households["lon"], households["lat"], max_m=max_m),
        }
        share = village_share(
            snaps["villages"], codes=villages["code"].to_list(), names=villages["name"].to_list()
        )
        shares[mode] = share
        out[mode] = {
            "nodes": build.nodes,
            "edges": build.edges,
            "dropped_nodes": build.dropped_nodes,
            "dropped_components": build.dropped_components,
            "seconds": round(build.seconds, 3),
            "from_cache": build.from_cache,
            "source_sha256": build.source_sha256,
            "snap": {
                k: {
                    "points": int(v.node.size),
                    "flagged": int(v.off_network.sum()),
                    "max_m": round(float(v.distance_m.max()), 1) if v.node.size else None,
                }
                for k, v in snaps.items()
            },
            "villages": share.to_json(),
        }
        off += point_entries(
            "village",
            snaps["villages"],
            keys=villages["code"].to_list(),
            names=villages["name"].to_list(),
        )
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
        lines.append(build.summary())
        for k, v in snaps.items():
            n = int(v.node.size)
            detail = (
                "没有点位"
                if n == 0
                else f"{n} 个点位匹配到道路：最大距离 {float(v.distance_m.max()):.0f} 米，"
                f"中位距离 {float(np.median(v.distance_m)):.0f} 米；"
                f"{int(v.off_network.sum())} 个超过 {max_m:g} 米"
            )
            lines.append(f"  {labels[k]}：{detail}")
    # the file is judged on its best mode: a wrong district or a clipped extract
    # leaves most villages far from every mode's roads
    known = [sh for sh in shares.values() if sh.share is not None]
    minimum = config.network.min_village_share
    if known and all((sh.share or 0.0) < minimum for sh in known):
        mode, worst = max(shares.items(), key=lambda kv: kv[1].share or 0.0)
        shown = str(path) if path is not None else str(network_file(store))
        raise NetworkCoverageError(worst.refusal(file=shown, mode=mode, minimum=minimum))
    if path is not None:
        record_network_file(store, path)
    out["off_network"] = off
    out["not_located"] = [
        {"kind": "village", "code": c, "name": n}
        for c, n in zip(unlocated["code"], unlocated["name"], strict=True)
    ]
    if args.json:
        print_json(out)
        return 0
    print("\n".join(lines))
    summary = summary_zh(off, max_m=max_m)
    if summary:
        print(summary)
    if len(unlocated):
        print(f"{len(unlocated)} 个村社没有点位或边界，无法检查是否在路网上")
    if path is not None:
        print(f"已登记道路网络文件 {path.resolve()}")
    return 0


def cmd_travel_time(args: argparse.Namespace) -> int:
    from geo.crs import to_wgs84
    from geo.traveltime import point_to_point
    from planner.coverage.offnetwork import NetworkCoverageError
    from planner.networks import load_network

    store = district_store(args)
    config = command_config()
    max_m = config.network.snap_max_m
    build = load_network(store, config=config, mode=args.mode, path=args.network)
    (flon, flat), (tlon, tlat) = args.from_, args.to
    fx, fy = to_wgs84(flon, flat, crs=args.crs)
    tx, ty = to_wgs84(tlon, tlat, crs=args.crs)
    res = point_to_point(build.network, (float(fx), float(fy)), (float(tx), float(ty)))
    ends = {"from": ("起点", res.from_snap_m), "to": ("终点", res.to_snap_m)}
    far = {k: v for k, v in ends.items() if v[1] > max_m}
    if far and not args.snap_any:
        what = "，".join(f"{label}距路网 {m:.0f} 米" for label, m in far.values())
        raise NetworkCoverageError(
            f"{what}，超过上限 {max_m:g} 米（[network] snap_max_m），按不可达计；"
            "请检查坐标和坐标系（--crs），或加 --snap-any 仍从最近的路网节点计算"
        )
    out = {
        "mode": args.mode,
        "minutes": round(res.route.seconds / 60.0, 2),
        "metres": round(res.route.metres, 1),
        "seconds": round(res.route.seconds, 1),
        "from_snap_m": round(res.from_snap_m, 1),
        "to_snap_m": round(res.to_snap_m, 1),
        "snap_max_m": max_m,
        "off_network": [
            {"kind": "point", "id": k, "name": label, "distance_m": round(m, 1), "mode": args.mode}
            for k, (label, m) in far.items()
        ],
    }
    if args.json:
        print_json(out)
    else:
        label = {"drive": "驾车", "walk": "步行", "wheelchair": "轮椅"}[args.mode]
        print(
            f"{label} {out['minutes']:.1f} 分钟，{out['metres']:.0f} 米"
            f"（起点距路网 {out['from_snap_m']:.0f} 米，终点距路网 {out['to_snap_m']:.0f} 米）"
        )
        if far:
            which = "、".join(v[0] for v in far.values())
            print(f"注意：{which}距路网超过 {max_m:g} 米（--snap-any）")
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
