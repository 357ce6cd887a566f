"""``coverplan visits``: import filled-in route sheets, or record one visit by hand.

Wired into :mod:`api.cli` as a sub-command: ``add_arguments(p)`` adds the actions
to the ``visits`` parser and sets ``func`` to :func:`cmd_visits`.

- ``visits import FILE [--json]``: a route sheet (``.xlsx``) or a directory of them;
- ``visits record --resident ID | --lead ID --date YYYY-MM-DD --outcome 完成|done|…
  [--services 辅具更换,残疾复评] [--team A] [--notes TEXT] [--point LON,LAT
  [--point-crs wgs84|gcj02]] [--json]``.

Output shows masked ID numbers only. ``--json`` prints exactly one JSON object.
User mistakes raise :class:`geo.errors.CoverplanError` subclasses (``main``
prints them and exits with status 2).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from api.cli._common import EXIT_USER_ERROR, command_config
from api.cli.output import print_json

__all__ = ["add_arguments", "cmd_visits"]

_OUTCOME_HELP = "完成、不在家、拒绝、迁出、死亡（或 done、not_home、refused、moved、deceased）"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``import`` and ``record`` actions to ``p`` and set its ``func``."""
    sub = p.add_subparsers(dest="action", required=True, metavar="{import,record}")

    def add(name: str, helptext: str) -> argparse.ArgumentParser:
        a = sub.add_parser(name, help=helptext, description=helptext)
        # SUPPRESS: an absent --json here must not reset one given before the action
        a.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="输出一个 JSON 对象"
        )
        return a

    a = add("import", "导入填好的入户路线单（.xlsx，或一个目录中的全部路线单）")
    a.add_argument("file", help="路线单文件或目录")

    a = add("record", "手工登记一次入户走访")
    who = a.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--resident", type=int, metavar="ID", help="残疾人编号（路线单编号 R 后的数字）"
    )
    who.add_argument("--lead", type=int, metavar="ID", help="疑似未登记线索编号（L 后的数字）")
    a.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="走访日期")
    a.add_argument("--outcome", required=True, help=f"结果：{_OUTCOME_HELP}")
    a.add_argument("--services", help="已提供服务，多项用逗号或顿号分隔（名称或代码）")
    a.add_argument("--team", help="服务队代码（如 A；月度入村社以外的走访可省略）")
    a.add_argument("--notes", help="备注")
    a.add_argument(
        "--point",
        metavar="LON,LAT",
        help="住户门口的实际位置（更正位置），经度,纬度；下月计划按此位置导航和计算路程",
    )
    a.add_argument(
        "--point-crs",
        choices=("wgs84", "gcj02"),
        default="wgs84",
        help="--point 的坐标系：wgs84（手机 GPS，默认）或 gcj02（从高德地图复制）",
    )
    p.set_defaults(func=cmd_visits)


def cmd_visits(args: argparse.Namespace) -> int:
    """Run ``coverplan visits <action>``; returns the exit status.

    ``import`` returns 2 (after printing its report) when a file of a directory
    could not be imported, or when every filled-in row was rejected.
    """
    from planner.store.core import open_district_store

    as_json = bool(getattr(args, "json", False))
    store = open_district_store(getattr(args, "db", None))
    try:
        if args.action == "import":
            return _import(store, Path(args.file), as_json=as_json)
        if args.action == "record":
            _record(store, args, as_json=as_json)
            return 0
        raise AssertionError(args.action)  # pragma: no cover - argparse restricts the choices
    finally:
        store.dispose()


def _import(store: Any, path: Path, *, as_json: bool) -> int:
    from planner.services.visits import VisitImportOptions, import_visits

    result = import_visits(store, config=command_config(), options=VisitImportOptions(path=path))
    if as_json:
        print_json(result.to_json())
    else:
        print(result.summary())
    status = 0
    if result.failed_files:
        names = "、".join(Path(f.file).name for f in result.failed_files)
        print(
            f"错误：{len(result.failed_files)} 个文件未能导入（{names}），原因见上", file=sys.stderr
        )
        status = EXIT_USER_ERROR
    if result.rejected_rows and result.stored + result.unchanged == 0:
        print(
            f"错误：填写了结果的 {result.rejected_rows} 行全部被拒绝，未导入任何走访记录；"
            "请按列出的行、列改正后重新导入",
            file=sys.stderr,
        )
        status = EXIT_USER_ERROR
    return status


def _parse_date(text: str) -> date:
    from planner.errors import VisitError
    from planner.ingest import normalize as nz

    try:
        day = nz.parse_date(text)
    except ValueError as exc:
        raise VisitError(str(exc), column="--date", value=text) from None
    if day is None:
        raise VisitError("走访日期为空；请给出 --date YYYY-MM-DD", column="--date")
    return day


def _record(store: Any, args: argparse.Namespace, *, as_json: bool) -> None:
    from planner.domain.visits import OUTCOMES, SERVICE_LABELS
    from planner.services.visits import RecordVisitOptions, record_visit

    options = RecordVisitOptions(
        resident_id=args.resident,
        lead_id=args.lead,
        visited_on=_parse_date(args.date),
        outcome=args.outcome,
        services=(args.services,) if args.services else (),
        team=args.team,
        notes=args.notes,
        point=args.point,
        point_crs=args.point_crs,
    )
    saved = record_visit(store, config=command_config(), options=options)
    if as_json:
        print_json(saved.to_json())
        return
    who = (
        f"残疾人 {saved.resident_id}" if saved.resident_id is not None else f"线索 {saved.lead_id}"
    )
    if saved.masked_id:
        who += f"（{saved.masked_id}）"
    services = "、".join(SERVICE_LABELS[s] for s in saved.services) or "无"
    head = {"inserted": "已登记", "revised": "已更正", "unchanged": "已存在，未变"}[saved.status]
    team = f"，服务队 {saved.team}" if saved.team else ""
    print(
        f"{head}：{who} {saved.visited_on.isoformat()}{team}，"
        f"结果 {OUTCOMES[saved.outcome]}，已提供服务 {services}"
    )
    effects = {
        "last_visit": "最近走访日期已更新",
        "devices_replaced": "辅具标记为已更换 {n} 件",
        "reassessment_cleared": "复评到期日期已清除",
        "leads_visited": "线索状态改为已走访",
        "leads_registered": "线索状态改为已办证",
        "needs_review": "已标记待核查",
        "points_recorded": "住户位置已记录（下月计划按此位置）",
    }
    for key, text in effects.items():
        if n := saved.updated.get(key, 0):
            print(f"  {text.format(n=n)}")
    for w in saved.warnings:
        print(f"  提示：{w}")
