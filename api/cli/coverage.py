"""``coverplan coverage``, ``gaps`` and ``indicators``: who is within reach of which
service, where the gaps are, and the plan's indicator table."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.cli._common import (
    command_config,
    district_store,
)
from api.cli._progress import command_progress
from api.cli.output import print_json

Add = Callable[[str, str], argparse.ArgumentParser]


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The coverage options of ``coverage`` and ``gaps`` (isochrones only for --out)."""
    return {
        "types": tuple(args.type) if args.type else None,
        "isochrones": bool(getattr(args, "out", None)),
        "network": Path(args.network) if args.network else None,
    }


def cmd_coverage(args: argparse.Namespace) -> int:
    from planner.reports.coverage import write_coverage
    from planner.services.coverage import CoverageOptions, coverage

    store = district_store(args)
    config = command_config()
    with command_progress(args) as progress:
        result = coverage(
            store, config=config, options=CoverageOptions(**_options(args)), progress=progress
        )
    files = write_coverage(result, out_dir=Path(args.out)) if args.out else None
    if args.json:
        out = result.to_json()
        if files:
            out["files"] = files.paths()
        print_json(out)
        return 0
    _print_coverage(result)
    if files:
        print(f"结果已写入 {files.geopackage.parent}")
    return 0


def _print_coverage(result: Any) -> None:
    """The Chinese text of ``coverage``: totals per type, indicators, unreachable points."""
    print("设施类型覆盖（人数；覆盖率 = 可达 / 能出行的符合条件者）：")
    for t in result.types:
        pct = "—" if t.coverage_pct is None else f"{t.coverage_pct:.1f}%"
        reach = "本村社范围" if t.catchment == "village" else f"{t.threshold_min:g} 分钟，{t.mode}"
        why = "".join(
            f"，{label} {n}"
            for label, n in (("距路网过远", t.off_network), ("未定位", t.not_located))
            if n
        )
        print(
            f"  {t.label}：符合条件 {t.eligible}，需上门 {t.home_service}，可达 {t.covered}，"
            f"容量内 {t.covered_within_capacity}，覆盖率 {pct}"
            f"（{reach}）{why}"
        )
    _print_rule(result.types)
    print_indicator_table(result.indicators, result.policy_checks, definitions=False)
    if result.awaiting_review:
        print(f"另有 {result.awaiting_review} 人待核查村社，未计入。")
    _print_unreachable(result)


def _value_text(value: float | None, unit: str, num: int | None, den: int | None) -> str:
    if value is None:
        return "无数据"
    if unit != "%":
        return f"{value:g}{unit}"
    return f"{value:.2f}%（{num}/{den}）"


def _indicator_lines(i: Any, *, definitions: bool) -> list[str]:
    """The lines of one indicator: value, target, judgement; definition, data needed,
    the other reading."""
    f, t = i.figure, i.target
    head = f"{i.number:>2}. " if i.number is not None else "· "
    reading = next((f"，{r.label}" for r in i.readings if r.key == i.reading), "")
    lines = [
        f"  {head}{i.name}：{_value_text(f.value, t.unit, f.numerator, f.denominator)}{reading}"
        f"；目标 {t.text}（{i.kind}）{'' if i.met is None else i.status}"
    ]
    if definitions:
        lines.append(f"      {i.basis}")
    if f.data_needed:
        lines.append(f"      计算所需：{f.data_needed}")
    for r in i.readings:
        if r.key != i.reading:
            rf = r.figure
            text = _value_text(rf.value, t.unit, rf.numerator, rf.denominator)
            lines.append(f"      另一口径「{r.label}」：{text}")
    return lines


def print_indicator_table(indicators: Any, policy_checks: Any, *, definitions: bool = True) -> None:
    """The plan's indicator table and the policy checks, in Chinese."""
    print(
        "十四五主要指标（规划表 14 项，按规划顺序；"
        "判定按分子/分母精确比值，>99% 时 99.00% 不达标）："
    )
    for i in indicators:
        print("\n".join(_indicator_lines(i, definitions=definitions)))
    print("其他政策要求（不属规划主要指标表）：")
    for i in policy_checks:
        print("\n".join(_indicator_lines(i, definitions=definitions)))


def _print_towns(indicators: Any) -> None:
    """Per town: the value of every indicator with a per-town breakdown (columns: row numbers)."""
    shown = [i for i in indicators if any(t.value is not None for t in i.figure.by_town)]
    if not shown:
        return
    print("分镇街（列为规划表序号；% 或 家）：")
    print("  " + "镇街".ljust(10) + "".join(f"{i.number:>9}" for i in shown))
    for k, town in enumerate(shown[0].figure.by_town):
        cells = []
        for i in shown:
            v = i.figure.by_town[k].value
            cells.append("—" if v is None else f"{v:.2f}" if i.target.unit == "%" else f"{v:g}")
        name = town.town_name + "　" * max(0, 5 - len(town.town_name))
        print("  " + name + "".join(f"{c:>9}" for c in cells))


def cmd_indicators(args: argparse.Namespace) -> int:
    from planner.reports.indicators import write_indicators
    from planner.services.indicators import IndicatorOptions, indicators

    store = district_store(args)
    config = command_config()
    options = IndicatorOptions(network=Path(args.network) if args.network else None)
    with command_progress(args) as progress:
        result = indicators(store, config=config, options=options, progress=progress)
    table = result.table
    files = (
        write_indicators(table.indicators, table.policy_checks, out_dir=Path(args.out))
        if args.out
        else None
    )
    if args.json:
        out = result.to_json()
        if files:
            out["files"] = files.paths()
        print_json(out)
        return 0
    print_indicator_table(table.indicators, table.policy_checks)
    _print_towns(table.indicators)
    if result.awaiting_review:
        print(f"另有 {result.awaiting_review} 人待核查村社，未计入。")
    if files:
        print(f"结果已写入 {files.district.parent}")
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    from planner.coverage.gaps import PART_LABELS, POLICY_PARTS
    from planner.reports.coverage import write_coverage
    from planner.services.coverage import GapsOptions, gaps

    store = district_store(args)
    config = command_config()
    with command_progress(args) as progress:
        found = gaps(store, config=config, options=GapsOptions(**_options(args)), progress=progress)
    if args.out:
        write_coverage(found.coverage, out_dir=Path(args.out), gaps=found.gaps)
    if args.json:
        print_json(found.to_json(top=args.top))
        return 0
    for key, rows in found.gaps.coverage.groupby("type", sort=False):
        print(f"{config.facility_label(str(key))}：未满足需求最多的村社")
        top = rows.head(args.top)
        for r, rec in zip(top.itertuples(), top.to_dict(orient="records"), strict=True):
            far = "".join(
                f"，{label} {rec[k]}"
                for k, label in (("off_network", "距路网过远"), ("not_located", "未定位"))
                if rec[k]
            )
            print(
                f"  {r.rank:>2}. {r.town_name}{r.village_name}  未满足 {r.unmet} 人"
                f"（可达但无名额 {r.in_reach_no_place}，不可达 {r.out_of_reach}{far}；"
                f"符合条件 {r.eligible}，容量内 {r.covered_within_capacity}）"
            )
    _print_rule(found.coverage.types)
    print("政策落实缺口（加权人数）：")
    for r in found.gaps.policy.head(args.top).itertuples():
        parts = "，".join(f"{PART_LABELS[p]} {getattr(r, p)}" for p in POLICY_PARTS)
        print(f"  {r.rank:>2}. {r.town_name}{r.village_name}  {r.score:g} 分（{parts}）")
    _print_unreachable(found.coverage)
    return 0


def _print_rule(types: Any) -> None:
    """The capacity rule, and where keeping the maximum changed the plain nearest-first split."""
    from planner.coverage.nearest_first import RULE_ZH

    print(RULE_ZH)
    for t in types:
        if t.nearest_first_skipped:
            print(
                f"  {t.label}：为保持容量内服务人数最大，跳过了 {t.nearest_first_skipped} "
                "个就近配对（单纯按就近顺序分配会少服务一些人）。"
            )


def _print_unreachable(result: Any) -> None:
    """The Chinese lines on points off the road network and villages without a point."""
    from planner.coverage.offnetwork import not_located_summary, summary_zh

    if result.snap_max_m is not None:
        line = summary_zh(result.off_network, max_m=result.snap_max_m)
        if line:
            print(line)
    line = not_located_summary(result.not_located)
    if line:
        print(line)


def register(sub: Any, add: Add) -> None:
    """Add this module's commands to the ``coverplan`` parser."""
    for name, helptext, func in (
        ("coverage", "服务覆盖：各类设施的可达与容量覆盖、十四五指标", cmd_coverage),
        ("gaps", "缺口：未满足需求的村社排名与政策落实缺口", cmd_gaps),
    ):
        p = add(name, helptext)
        p.add_argument("--type", action="append", help="设施类型代码（可重复；默认全部）")
        p.add_argument("--out", help="输出目录（GeoPackage 与 CSV）")
        p.add_argument("--network", help="OSM 文件（默认用已登记的）")
        if name == "gaps":
            p.add_argument("--top", type=int, default=10, help="每类显示前 N 个村社（默认 10）")
        p.set_defaults(func=func)
    p = add("indicators", "十四五主要指标表：14 项指标的定义、现值、目标与达标判定，分镇街")
    p.add_argument("--out", help="输出目录（CSV 与 XLSX：区级、分镇街、其他政策要求）")
    p.add_argument("--network", help="OSM 文件（默认用已登记的；用于残疾人之家人员口径）")
    p.set_defaults(func=cmd_indicators)
