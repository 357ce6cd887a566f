"""``coverplan map KIND``: one map as a standalone HTML file (assets inlined, offline).

The command line is an administrator's tool: the map shows every count unless
``--suppress`` (maps handed to planners and leaders: 1..``[privacy] min_count``-1
persons shown as ``<5``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from api.cli._common import command_config, district_store
from api.cli._progress import command_progress
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]

KINDS = ("coverage", "gaps", "indicators", "siting", "retrofit", "outreach")
HELP = (
    "地图：导出一张可离线打开的 HTML 地图（coverage 覆盖、gaps 缺口、indicators 指标分镇街、"
    "siting 选址方案、retrofit 无障碍改造、outreach 入户路线）"
)
EPILOG = (
    "命令行面向管理员：地图显示全部人数。交给规划人员或领导的地图请加 --suppress："
    "1 至 [privacy] min_count-1 的人数显示为“<5”（小数抑制）。"
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"「{text}」应为日期 YYYY-MM-DD，如 2026-12-01") from None


def cmd_map(args: argparse.Namespace) -> int:
    from maps.assets import outside_urls
    from maps.export import MapOptions, export_map
    from planner.settings import get_settings

    config = command_config()
    options = MapOptions(
        kind=args.kind,
        type_key=args.type,
        scenario=args.scenario,
        indicator=args.indicator,
        month=args.month,
        team=args.team,
        day=args.day,
        min_count=config.privacy.min_count if args.suppress else None,
        network=Path(args.network) if args.network else None,
    )
    store = district_store(args)
    with command_progress(args) as progress:
        drawn = export_map(store, config=config, options=options, progress=progress)
    out = Path(args.out) if args.out else get_settings().out_dir / "maps" / f"{args.kind}.html"
    path = drawn.save(out)
    host = _tile_host(config.maps.tile_url)
    left = outside_urls(path.read_text(encoding="utf-8"), allowed_hosts=host)
    if args.json:
        print_json(
            {
                "file": str(path),
                "kind": drawn.kind,
                "title": drawn.title,
                "layers": drawn.layers,
                "suppressed": options.min_count is not None,
                "outside_urls": len(left),
            }
        )
        return 0
    print(f"{drawn.title}")
    print(f"图层：{'、'.join(drawn.layers)}")
    print(f"已写入 {path}（单个 HTML 文件，离线可打开）")
    return 0


def _tile_host(url: str) -> tuple[str, ...]:
    """The configured tile server's host (allowed in the file), if any."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname if url else None
    return (host,) if host else ()


def register(sub: Any, add: Add) -> None:
    """Add ``map`` to the ``coverplan`` parser."""
    p = add("map", HELP)
    p.epilog = EPILOG
    p.add_argument("kind", choices=KINDS, metavar="KIND", help="地图种类：" + "、".join(KINDS))
    p.add_argument(
        "--type", help="设施类型代码（coverage 默认 home；gaps 默认全部；siting 现算方案）"
    )
    p.add_argument("--scenario", help="已保存的选址方案名（siting）")
    p.add_argument("--indicator", help="指标代码（indicators，默认 home 残疾人之家覆盖率）")
    p.add_argument("--month", help="月份 YYYY-MM（outreach，默认下个月）")
    p.add_argument("--team", help="只画一支入户服务队的路线（outreach，如 A）")
    p.add_argument("--day", type=_day, help="只画一天的路线 YYYY-MM-DD（outreach）")
    p.add_argument(
        "--suppress", action="store_true", help="小数抑制：1 至 min_count-1 的人数显示为 <5"
    )
    p.add_argument("--network", help="OSM 文件（默认用已登记的）")
    p.add_argument("--out", help="输出文件（默认 out/maps/<KIND>.html，在输出目录下）")
    p.set_defaults(func=cmd_map)
