"""``coverplan init``, ``demo`` and ``status``: set up a district, build the demo, summarise
the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.cli._common import (
    command_config,
    district_store,
    lonlat,
    split_names,
)
from api.cli._progress import command_progress
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]


_INIT_HELP = (
    "请用 --district 指定区县代码（6 位统计用区划代码，如 330213），并提供镇街与村社："
    "--units 区划表（CSV/XLSX，列 code,name,level,parent_code,parent_name 或 "
    "代码/名称/级别/上级代码/上级名称）和/或 --villages 村社文件"
    "（GeoJSON/GeoPackage/Shapefile/CSV，含村社代码、名称、镇街及点位或边界；坐标系用 --crs）。"
    "内置区划的区县（{known}）只给 --district 即可。只想看演示：coverplan demo"
)


def cmd_init(args: argparse.Namespace) -> int:
    from geo.gazetteer import reference_districts
    from planner.errors import InputError
    from planner.services.district import InitOptions, init_district

    if not args.district:
        known = "、".join(f"{c} {r.name}" for c, r in reference_districts().items())
        raise InputError(_INIT_HELP.format(known=known))
    options = InitOptions(
        district=args.district,
        units=Path(args.units) if args.units else None,
        villages=Path(args.villages) if args.villages else None,
        crs=args.crs,
        name=args.name,
        parents=tuple(split_names(args.parents)) if args.parents is not None else None,
        former_codes=tuple(split_names(args.former_codes)),
        aliases=tuple(split_names(args.aliases)),
        office=args.office,
        office_name=args.office_name,
        geometry=not args.no_geometry,
    )
    result = init_district(args.db, config=command_config(), options=options)
    if args.json:
        print_json(result.to_json())
    else:
        print(result.text())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from data.demo.build import build_demo
    from planner.settings import get_settings
    from planner.store.core import open_store

    settings = get_settings()
    out = Path(args.out) if args.out else settings.out_dir
    store = open_store(args.db, create=True)
    with command_progress(args) as progress:
        result = build_demo(
            store,
            config=command_config(),
            data_dir=settings.data_dir,
            out_dir=out,
            seed=args.seed,
            force=args.force,
            progress=progress,
        )
    from data.demo.accounts import ensure_demo_accounts

    accounts = ensure_demo_accounts(store, config=command_config())
    store.dispose()  # the last connection closes: SQLite folds the WAL into the file
    if args.json:
        print_json({**result.to_json(), "accounts": accounts})
    else:
        print(result.text())
        print(f"\n汇总已写入 {', '.join(str(p) for p in result.summary_files)}")
        if accounts:
            print("\n演示账户（仅限演示库；coverplan serve --demo 后登录）：")
        for a in accounts:
            if "api_key" in a:
                print(f"  系统调用密钥 X-API-Key: {a['api_key']}（{','.join(a['scopes'])}）")  # type: ignore[arg-type]
            else:
                print(f"  {a['role']:<9} 用户名 {a['username']:<9} 密码 {a['password']}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from planner.services.district import status

    store = district_store(args)
    summary = status(store, config=command_config())
    if args.json:
        print_json(summary.to_json())
    else:
        print(summary.text())
    return 0


def register(sub: Any, add: Add) -> None:
    """Add this module's commands to the ``coverplan`` parser."""
    p = add(
        "init",
        "为一个区县建库并载入行政区划（镇街、村社）；同一区县再次运行只补充，不删除",
    )
    p.add_argument("--district", metavar="CODE", help="区县代码（6 位，如 330213）")
    p.add_argument(
        "--units",
        metavar="FILE",
        help="区划表（CSV/XLSX）：code,name,level(county|town|village),parent_code,parent_name"
        "，或 代码/名称/级别(区县/镇街/村社)/上级代码/上级名称",
    )
    p.add_argument(
        "--villages",
        metavar="FILE",
        help="村社文件（GeoJSON/GeoPackage/Shapefile/CSV/XLSX）：村社代码、名称、镇街代码或镇街，"
        "点位（经度/纬度）或边界",
    )
    p.add_argument(
        "--crs",
        default="wgs84",
        help="--villages 与 --office 的坐标系：wgs84（默认）、gcj02（高德/腾讯）、bd09（百度）",
    )
    p.add_argument("--name", help="区县名称（区划表没有区县行时必填）")
    p.add_argument("--parents", help="上级行政区，由外到内，逗号分隔（如 浙江省,宁波市）")
    p.add_argument("--former-codes", help="旧区县代码，逗号分隔（如 330283）")
    p.add_argument("--aliases", help="区县旧名，逗号分隔（如 奉化市）")
    p.add_argument(
        "--office",
        type=lonlat,
        metavar="LON,LAT",
        help="残联办公地点 经度,纬度（入村路线的起终点；坐标系同 --crs）",
    )
    p.add_argument("--office-name", help="残联办公地点名称（默认：区县名称+残联）")
    p.add_argument(
        "--no-geometry",
        action="store_true",
        help="只载入代码与名称，不载入 --villages 文件中的位置与边界",
    )
    p.set_defaults(func=cmd_init)

    p = add("demo", "生成合成演示区并经导入流程载入数据库，输出汇总")
    p.add_argument("--seed", type=int, default=2024, help="随机种子（默认 2024）")
    p.add_argument("--out", help="输出目录（默认 out/）")
    p.add_argument("--force", action="store_true", help="即使数据库已有真实数据也写入")
    p.set_defaults(func=cmd_demo)

    p = add("status", "数据库汇总（按镇街、类别、设施类型计数）")
    p.set_defaults(func=cmd_status)
