"""``coverplan import``, ``geocode`` and ``corrections``: user files into the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from api.cli._common import (
    EXIT_USER_ERROR,
    command_config,
    district_store,
    error_line,
)
from api.cli._progress import command_progress, titled
from api.cli.output import print_json
from planner.errors import InputError
from planner.ingest.columns import KINDS

Add = Callable[[str, str], argparse.ArgumentParser]


def _check_table_suffix(option: str, path: str) -> None:
    """Refuse, before any work, an output table that is neither CSV nor XLSX."""
    if Path(path).suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"{option}「{path}」应以 .csv 或 .xlsx 结尾")


def cmd_import(args: argparse.Namespace) -> int:
    from planner.reports.import_problems import report_path, write_report
    from planner.services.imports import ImportOptions, import_file
    from planner.settings import get_settings

    store = district_store(args)
    options = ImportOptions(
        kind=args.kind, path=Path(args.file), crs=args.crs, replace=args.replace
    )
    if args.report is not None:
        _check_table_suffix("--report", args.report)

    with command_progress(args) as progress:
        stages = titled(f"导入 {options.path.name}", progress)
        stages("读取文件并逐行核对", 0.0)
        result = import_file(store, config=command_config(), options=options, progress=stages)
    path = report_path(
        options.path,
        report=args.report,
        report_dir=get_settings().out_dir / "import_reports",
        has_problems=bool(result.problems),
    )
    if path is not None:
        result = replace(result, report=write_report(result.problems, path, file=options.path.name))
    if args.json:
        print_json(result.to_json())
    else:
        print(result.summary())
    if result.rows and result.rejected == result.rows:
        where = f"；原因见问题清单 {result.report}" if result.report else ""
        error_line(f"文件 {result.file} 的 {result.rows} 行数据全部被拒绝，未导入任何记录{where}")
        return EXIT_USER_ERROR
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from planner.reports.tables import write_table
    from planner.services.imports import GeocodeOptions, geocode_file

    store = district_store(args)
    _check_table_suffix("--out", args.out)
    options = GeocodeOptions(
        path=Path(args.file),
        column=args.column,
        town_column=args.town_column,
        village_column=args.village_column,
    )
    with command_progress(args) as progress:
        res = geocode_file(store, config=command_config(), options=options, progress=progress)
    # "Sheet1": the sheet name the XLSX result has always had (scripts read it by name)
    res = replace(res, out=write_table(res.table, Path(args.out), sheet="Sheet1"))
    if args.json:
        print_json(res.to_json())
    else:
        s = res.by_status
        print(
            f"地址 {res.rows} 条：匹配 {s['matched']}，有歧义 {s['ambiguous']}，"
            f"未匹配 {s['unmatched']}，区外 {s['outside']}；结果写入 {res.out}"
        )
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    from planner.services.imports import CorrectionOptions, add_correction, list_corrections

    store = district_store(args)
    config = command_config()
    if args.action == "add":
        options = CorrectionOptions(
            address=args.address, village_code=args.village_code, note=args.note
        )
        saved = add_correction(store, config=config, options=options)
        if args.json:
            print_json(saved.to_json())
        else:
            print(f"已保存：「{saved.key}」→ {saved.village_code}")
        return 0
    listed = list_corrections(store, config=config)
    if args.json:
        print_json(listed.to_json())
    else:
        for k, v in sorted(listed.by_key.items()):
            print(f"{k}\t{v}")
    return 0


def register(sub: Any, add: Add) -> None:
    """Add this module's commands to the ``coverplan`` parser."""
    p = add("import", "导入名册或地理数据（CSV/XLSX/XLS/GeoJSON/GPKG/SHP）")
    p.add_argument("kind", choices=KINDS, help="数据类型")
    p.add_argument("file", help="文件路径")
    p.add_argument(
        "--crs", default="wgs84", help="坐标系：wgs84（默认）、gcj02（高德/腾讯）、bd09（百度）"
    )
    p.add_argument("--report", help="问题清单路径（.csv 或 .xlsx）")
    p.add_argument(
        "--replace",
        action="store_true",
        help="村社：允许覆盖超过 [import] geometry_replace_share 比例的已有真实点位与边界",
    )
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
