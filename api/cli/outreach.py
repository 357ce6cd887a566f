"""``coverplan outreach year|month``: the monthly village outreach (康复入村社).

``year [YEAR | --from YYYY-MM]`` prints the calendar of 12 months (1–2
villages a month, the need score's parts next to each choice; by default the
12 months from next month); ``month YYYY-MM [--out DIR]`` plans the month and
writes the route sheets (HTML, XLSX, GPX) in one folder per team under ``DIR``,
and the plan's JSON and index at its top (for the planner).
Both call :mod:`planner.services.outreach`; the sheets are written by
:func:`planner.reports.route_sheets.write_route_sheets`.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli._progress import command_progress, titled
from api.cli.output import print_json

if TYPE_CHECKING:
    from planner.outreach.plan import MonthPlan
    from planner.settings import Config


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add ``year`` and ``month`` to the ``outreach`` sub-parser."""
    sub = p.add_subparsers(dest="action", required=True)
    y = sub.add_parser("year", help="12 个月入村日历（每月 1–2 个村社及需求得分；默认从下个月起）")
    y.add_argument(
        "year", nargs="?", type=int, help="年份：排该年 1–12 月（默认从下个月起的 12 个月）"
    )
    y.add_argument(
        "--from", dest="start", metavar="YYYY-MM", help="从该月起排 12 个月（不能与年份同用）"
    )
    y.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    m = sub.add_parser("month", help="当月入村方案：服务点、邀请名单、两支入户队路线")
    m.add_argument("month", nargs="?", help="YYYY-MM（默认下个月）")
    m.add_argument(
        "--out", help="输出目录：每个服务队一个文件夹（路线单 HTML/XLSX/GPX），顶层为 plan.json"
    )
    m.add_argument("--village", action="append", help="指定村社代码（可重复；默认取日历）")
    m.add_argument("--seconds", type=float, help="每个入村日的路线求解时间（秒）")
    m.add_argument("--network", help="OSM 文件（默认用已登记的）")
    m.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    p.set_defaults(func=cmd_outreach)


def cmd_outreach(args: argparse.Namespace) -> int:
    """Run ``outreach year`` or ``outreach month``."""
    from api.cli._common import command_config, district_store

    store = district_store(args)
    config = command_config()
    if args.action == "year":
        return _year(store, config, args)
    return _month(store, config, args)


def _year(store: Any, config: Config, args: argparse.Namespace) -> int:
    from planner.outreach.calendar import PART_LABELS
    from planner.outreach.month import month_of
    from planner.services.outreach import YearOptions, outreach_year

    start = month_of(args.start) if args.start else None
    with command_progress(args) as progress:
        stages = titled("全年入村日历", progress)
        cal = outreach_year(
            store, config=config, options=YearOptions(year=args.year, start=start), progress=stages
        )
        stages("完成", 1.0)
    if args.json:
        print_json(cal.to_json())
        return 0
    print(f"{cal.first} 至 {cal.last} 康复入村社日历（每月入户能力 {cal.capacity} 户）")
    if cal.pairing.get("note"):
        print(f"  {cal.pairing['note']}")
    for m in cal.schedule:
        if not m.villages:
            print(f"  {m.period}：不入村（{m.note}）")
            continue
        names = "、".join(f"{v.town_name}{v.name}" for v in m.villages)
        print(f"  {m.period}（{'、'.join(d.isoformat() for d in m.dates)}）：{names}")
        if m.note:
            print(f"      {m.note}")
        for v in m.villages:
            parts = "，".join(f"{PART_LABELS[k]} {v.parts[k]:g}" for k in PART_LABELS if v.parts[k])
            drive = "" if v.drive_min is None else f"；距服务点车程 {v.drive_min:g} 分钟"
            print(f"      {v.name} 得分 {v.score:g}（{parts}；需入户 {v.home_visits}{drive}）")
    towns = "，".join(f"{t['town_name']} {t['months']}" for t in cal.to_json()["towns"])
    print(f"  各镇街入村月数（按需求分配，每镇街至少 {_minimum(config)} 个月）：{towns}")
    return 0


def _minimum(config: Config) -> int:
    from planner.outreach.calendar import town_minimum

    return town_minimum(config.outreach)


def _month(store: Any, config: Config, args: argparse.Namespace) -> int:
    from planner.outreach.month import month_of, next_month
    from planner.reports.route_sheets import write_route_sheets
    from planner.services.outreach import MonthOptions, outreach_month

    year, month = month_of(args.month) if args.month else next_month(date.today())
    options = MonthOptions(
        year=year,
        month=month,
        villages=tuple(args.village) if args.village else None,
        time_limit_s=args.seconds,
        network_path=args.network,
    )
    with command_progress(args) as progress:
        plan = outreach_month(
            store, config=config, options=options, progress=titled("本月入户路线", progress)
        )
    out = plan.to_json()
    if args.out:
        files = write_route_sheets(plan, Path(args.out))
        out = {**out, "files": [str(files.out_dir), *(str(f) for f in files.paths)]}
    if args.json:
        print_json(out)
        return 0
    _print_month(plan, config, out_dir=args.out)
    return 0


def _print_month(plan: MonthPlan, config: Config, *, out_dir: str | None) -> None:
    from planner.coverage.offnetwork import summary_zh

    st, sp = plan.stats, plan.service_point
    print(f"{plan.month} 康复入村社：{'、'.join(v.town_name + v.name for v in plan.villages)}")
    print(f"  现场服务点：{sp.name}；邀请 {st.invited} 人到点服务")
    print(f"  {plan.start_note}")
    for tm, d in plan.team_days:
        print(
            f"  {tm.label} {d.date.isoformat()}：入户 {d.stops_count} 户，"
            f"车程 {d.travel_min:g} 分钟"
            + ("" if d.distance_km is None else f"（{d.distance_km:g} 公里）")
            + f"，午休 {d.lunch.start}–{d.lunch.end}"
        )
    for e in plan.off_network:
        if e["kind"] == "service_point":
            far = (
                "没有点位或边界" if e["distance_m"] is None else f"距路网 {e['distance_m']:.0f} 米"
            )
            print(f"  注意：{e['name']}{far}，现场服务点改设在{sp.name}")
    line = summary_zh(
        [e for e in plan.off_network if e["kind"] != "service_point"],
        max_m=config.network.snap_max_m,
    )
    if line:
        print(f"  {line}（见顺延名单）")
    if st.split_households:
        print(
            f"  需入户 {st.households_needing_visit} 户（{st.visits_needed} 次入户，其中 "
            f"{st.split_households} 户由多个服务队分别入户），"
            f"已排 {st.planned} 次，顺延 {st.unplanned} 次"
        )
    else:
        print(
            f"  需入户 {st.households_needing_visit} 户，已排 {st.planned} 户，"
            f"顺延 {st.unplanned} 户"
        )
    for u in plan.unplanned[:10]:
        who = u.person.masked_id or "疑似未登记"
        print(f"    顺延：{who} {'、'.join(u.service_labels)}（{u.reason}）")
    if out_dir:
        teams = "、".join(f"{tm.team}/" for tm in plan.teams)
        print(
            f"路线单已写入 {out_dir}：各服务队文件夹（{teams}）只发给该队（含完整电话）；"
            "plan.json 与 index.html 留在区残联"
        )
