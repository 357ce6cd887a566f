"""The ``coverplan`` command line.

User mistakes end with a Chinese message on stderr and exit status 2, never a
traceback. ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geo._errors import CoverplanError
from planner.columns import KINDS

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _store(args: argparse.Namespace) -> Any:
    from planner.store import open_store

    return open_store(args.db)


def _config() -> Any:
    from planner.settings import get_config

    return get_config()


def cmd_init(args: argparse.Namespace) -> int:
    from planner.demo import load_demo_geometry
    from planner.settings import get_settings
    from planner.store import init_store

    store = init_store(args.db)
    geometry = None
    if not args.no_geometry:
        geometry = load_demo_geometry(store, config=_config(), data_dir=get_settings().data_dir)
    gaz = store.gazetteer()
    msg = {
        "db": store.url,
        "towns": len(gaz.towns),
        "villages": len(gaz.villages),
        "synthetic_geometry": geometry.stored if geometry else 0,
    }
    if args.json:
        _print_json(msg)
    else:
        print(
            f"已初始化数据库 {store.url}：{gaz.district_name} {len(gaz.towns)} 个镇街，"
            f"{len(gaz.villages)} 个村社"
        )
        if geometry:
            print(
                f"村社位置与边界暂用合成演示数据（{geometry.stored} 个）；"
                "请用 coverplan import villages 导入真实的村社点位或边界。"
            )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from planner.demo import build_demo
    from planner.settings import get_settings

    settings = get_settings()
    out = Path(args.out) if args.out else settings.out_dir
    store = _store(args)
    result = build_demo(
        store,
        config=_config(),
        data_dir=settings.data_dir,
        out_dir=out,
        seed=args.seed,
        force=args.force,
    )
    if args.json:
        _print_json(result.to_json())
    else:
        print(result.text())
        print(f"\n汇总已写入 {', '.join(str(p) for p in result.summary_files)}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from geo.gazetteer import load_fenghua
    from planner.importer import import_file
    from planner.settings import get_settings

    store = _store(args)
    if not store.has_gazetteer():
        store.load_gazetteer(load_fenghua(), source="packaged")

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"写入 {done}/{total}", file=sys.stderr, flush=True)

    result = import_file(
        store,
        args.kind,
        Path(args.file),
        crs=args.crs,
        report=args.report,
        report_dir=get_settings().out_dir / "import_reports",
        config=_config(),
        progress=progress,
    )
    if args.json:
        _print_json(result.to_json())
    else:
        print(result.summary())
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from planner.geocoding import geocode_file

    store = _store(args)
    res = geocode_file(
        store,
        Path(args.file),
        column=args.column,
        out=Path(args.out),
        config=_config(),
        town_column=args.town_column,
        village_column=args.village_column,
    )
    if args.json:
        _print_json(res.to_json())
    else:
        s = res.by_status
        print(
            f"地址 {res.rows} 条：匹配 {s['matched']}，有歧义 {s['ambiguous']}，"
            f"未匹配 {s['unmatched']}；结果写入 {res.out}"
        )
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    from planner.geocoding import add_correction

    store = _store(args)
    if args.action == "add":
        key = add_correction(
            store, address=args.address, village_code=args.village_code, note=args.note
        )
        out: Any = {"key": key, "village_code": args.village_code}
        if not args.json:
            print(f"已保存：「{key}」→ {args.village_code}")
    else:
        out = store.corrections()
        if not args.json:
            for k, v in sorted(out.items()):
                print(f"{k}\t{v}")
    if args.json:
        _print_json(out)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from planner.summary import summarize

    store = _store(args)
    summary = summarize(store, config=_config())
    if args.json:
        _print_json(summary.to_json())
    else:
        print(summary.text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coverplan", description="残疾人服务覆盖规划（coverplan）"
    )
    parser.add_argument("--db", help="数据库地址（默认取 COVERPLAN_DB_URL 或 var/coverplan.db）")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, helptext: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return p

    p = add("init", "创建数据库并载入奉化区行政区划（12 个镇街、337 个村社）")
    p.add_argument(
        "--no-geometry", action="store_true", help="不载入合成的村社位置与边界（只有代码与名称）"
    )
    p.set_defaults(func=cmd_init)

    p = add("demo", "生成合成演示区并经导入流程载入数据库，输出汇总")
    p.add_argument("--seed", type=int, default=2024, help="随机种子（默认 2024）")
    p.add_argument("--out", help="输出目录（默认 out/）")
    p.add_argument("--force", action="store_true", help="即使数据库已有真实数据也写入")
    p.set_defaults(func=cmd_demo)

    p = add("import", "导入名册或地理数据（CSV/XLSX/XLS/GeoJSON/GPKG/SHP）")
    p.add_argument("kind", choices=KINDS, help="数据类型")
    p.add_argument("file", help="文件路径")
    p.add_argument(
        "--crs", default="wgs84", help="坐标系：wgs84（默认）、gcj02（高德/腾讯）、bd09（百度）"
    )
    p.add_argument("--report", help="问题清单路径（.csv 或 .xlsx）")
    p.set_defaults(func=cmd_import)

    p = add("geocode", "把地址匹配到村社代码")
    p.add_argument("file", help="含地址的文件（CSV/XLSX）")
    p.add_argument("--column", required=True, help="地址列名")
    p.add_argument("--town-column", help="镇街列名（可选）")
    p.add_argument("--village-column", help="村社列名（可选）")
    p.add_argument("--out", required=True, help="结果文件（.csv 或 .xlsx）")
    p.set_defaults(func=cmd_geocode)

    p = add("corrections", "人工地址更正（匹配时优先使用）")
    csub = p.add_subparsers(dest="action", required=True)
    pa = csub.add_parser("add", help="保存一条更正：地址 → 村社代码")
    pa.add_argument("address")
    pa.add_argument("village_code")
    pa.add_argument("--note")
    pa.add_argument("--json", action="store_true")
    pl = csub.add_parser("list", help="列出已保存的更正")
    pl.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_corrections)

    p = add("status", "数据库汇总（按镇街、类别、设施类型计数）")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coverplan`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.db:
        os.environ["COVERPLAN_DB_URL"] = args.db
    try:
        return int(args.func(args))
    except CoverplanError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已中断；数据库未做任何更改。", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
