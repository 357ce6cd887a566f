"""``coverplan site``: siting proposals (:func:`planner.services.siting.site`).

Wired into :mod:`api.cli` by ``add_arguments`` and ``cmd_site``. ``--json``
prints ``{"selected": [...], "objective", "bound", "gap", "seconds",
"tie_break", "before", "after", ...}`` (each selected entry with its ``why``
and, for ``--close``/``--relocate``, its ``facility``); ``--scenario NAME``
saves the proposal in the store for ``coverplan scenarios compare``. In text
mode the solver's stages are shown on stderr (a bar, on a terminal only: see
:mod:`api.cli._progress`) and each chosen site gets a line
"为什么选这里".
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli._common import command_config, district_store
from api.cli._progress import command_progress, titled
from api.cli.output import print_json

if TYPE_CHECKING:  # planner (pandas, solvers) is imported when the command runs
    from planner.siting.options import SitingOptions
    from planner.siting.proposal import Proposal

OBJECTIVE_CHOICES = ("mclp", "pmedian", "lscp")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``coverplan site`` to its sub-parser."""
    p.add_argument(
        "--type", required=True, help="设施类型代码，如 home、psych_station、care_center"
    )
    p.add_argument("--new", type=int, help="最多新建几处")
    p.add_argument("--budget", type=float, help="预算（元），含新建和升级")
    p.add_argument("--upgrade", action="store_true", help="同时考虑升级现有设施（增加名额）")
    p.add_argument("--max-upgrades", type=int, help="最多升级几处")
    p.add_argument(
        "--objective",
        default="mclp",
        choices=OBJECTIVE_CHOICES,
        help="mclp 最大覆盖（默认）、pmedian 最小出行时间、lscp 最少新建达到覆盖目标",
    )
    p.add_argument("--target", type=float, default=1.0, help="lscp 的覆盖目标（0–1，默认 1）")
    p.add_argument("--candidates", help="候选点文件（CSV/XLSX：名称、村社或经纬度、费用、容量）")
    p.add_argument("--crs", default="wgs84", help="候选点坐标系：wgs84（默认）、gcj02、bd09")
    p.add_argument(
        "--exclude", action="append", default=[], help="排除的村社代码或候选点名称（可重复）"
    )
    p.add_argument(
        "--no-town-rule", action="store_true", help="不要求每个镇街至少一处（默认对残疾人之家要求）"
    )
    p.add_argument("--uncapacitated", action="store_true", help="不考虑名额，只看可达")
    p.add_argument("--time-limit", type=float, help="求解时间上限（秒，默认取配置）")
    p.add_argument(
        "--close",
        action="append",
        default=[],
        metavar="FACILITY",
        help="关闭的现有设施（代码或名称，可重复）：“方案后”不再有它和它的名额",
    )
    p.add_argument(
        "--relocate",
        action="append",
        default=[],
        metavar="FACILITY",
        help="迁建的现有设施（代码或名称，可重复，每个配一个 --to）",
    )
    p.add_argument(
        "--to",
        action="append",
        default=[],
        metavar="PLACE",
        help="迁建到：候选点文件中的名称、村社代码或名称、经度,纬度，"
        "或 best（由求解器在候选点中选最佳地块）",
    )
    p.add_argument("--scenario", help="把方案以此名称保存，供 scenarios compare 对比")
    p.add_argument("--out", help="输出目录：方案 CSV/XLSX 与站点 GeoJSON")
    p.add_argument("--network", help="OSM 文件（默认用已登记的）")


def _relocations(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """``--relocate`` and ``--to`` paired in the order given."""
    from planner.errors import InputError

    if len(args.relocate) != len(args.to):
        raise InputError(
            f"--relocate 给了 {len(args.relocate)} 处设施，--to 给了 {len(args.to)} 个地块："
            "每个 --relocate 后面跟一个 --to（地块名称、村社、经度,纬度 或 best）"
        )
    return tuple(zip(args.relocate, args.to, strict=True))


def _options(args: argparse.Namespace) -> SitingOptions:
    from planner.siting.options import SitingOptions

    return SitingOptions(
        facility_type=args.type,
        objective=args.objective,
        new=args.new,
        budget=args.budget,
        upgrade=args.upgrade,
        max_upgrades=args.max_upgrades,
        candidates_file=Path(args.candidates) if args.candidates else None,
        candidates_crs=args.crs,
        exclude=tuple(args.exclude),
        town_rule=False if args.no_town_rule else None,
        capacitated=False if args.uncapacitated else None,
        target=args.target,
        time_limit_s=args.time_limit,
        network_file=Path(args.network) if args.network else None,
        close=tuple(args.close),
        relocate=_relocations(args),
    )


VERBS = {"new": "新建", "upgrade": "升级", "close": "关闭", "relocate": "迁建"}


def _print_text(proposal: Proposal, out: dict[str, Any], *, snap_max_m: float) -> None:
    from planner.coverage.offnetwork import not_located_summary, summary_zh
    from planner.siting.reasons import TIE_RULE_ZH, why_zh

    print(f"{proposal.label}选址方案")
    moved = {a: sum(s["action"] == a for s in out["selected"]) for a in VERBS}
    lines = proposal.result.summary().splitlines()
    if moved["close"] or moved["relocate"]:
        # a relocation's new site is not a new facility: count each action once
        lines[1] = (
            f"新建 {moved['new']} 处，升级 {moved['upgrade']} 处，关闭 {moved['close']} 处，"
            f"迁建 {moved['relocate']} 处；合计费用 {proposal.cost:,.0f} 元（新建、升级与迁建）"
        )
    print("\n".join(lines))
    for s in out["selected"]:
        verb = VERBS.get(s["action"], s["action"])
        gain = "" if s["marginal"] is None else f"，边际 +{s['marginal']:g}"
        places = "" if s["places"] is None else f"，名额 {s['places']:+g}"
        town = f"（{s['town_name']}）" if s["town_name"] else ""
        print(f"  {s['rank']}. {verb} {s['name']}{town}费用 {s['cost']:,.0f} 元{places}{gain}")
        if s.get("why"):
            print(f"     {why_zh(s['why'], objective=proposal.objective)}")
    if any(s.get("why") for s in out["selected"]):
        status = "" if proposal.result.tie_break == "optimal" else "（在时间限制内未证明最优）"
        print(f"并列规则：{TIE_RULE_ZH}{status}")
    b, a = out["before"], out["after"]
    print(
        f"可达：{b['covered']} → {a['covered']} 人（{b['coverage_pct']}% → {a['coverage_pct']}%）；"
        f"容量内：{b['within_capacity']} → {a['within_capacity']} 人"
    )
    for i in proposal.indicators():
        print(f"  {i.name}：{i.before_pct}% → {i.after_pct}%（目标 {i.target_pct:g}%）")
    for line in (
        summary_zh(proposal.off_network, max_m=snap_max_m),
        not_located_summary(proposal.before.not_located),
    ):
        if line:
            print(line)


def cmd_site(args: argparse.Namespace) -> int:
    """Solve the siting problem, print it, optionally save and write files."""
    from planner.reports.siting import write_proposal
    from planner.scenarios import check_scenario_name
    from planner.services.scenarios import save_proposal
    from planner.services.siting import site

    store = district_store(args)
    config = command_config()
    options = _options(args)
    if args.scenario:
        check_scenario_name(args.scenario)  # a bad name is refused before the solve
    with command_progress(args) as progress:
        proposal = site(store, config=config, options=options, progress=titled("选址", progress))
    out = proposal.to_json()
    if args.scenario:
        save_proposal(store, name=args.scenario, proposal=proposal)
        out["scenario"] = args.scenario
    if args.out:
        files = write_proposal(proposal, Path(args.out))
        out["files"] = [str(f) for f in files.__dict__.values()]
    if args.json:
        print_json(out)
        return 0
    _print_text(proposal, out, snap_max_m=config.network.snap_max_m)
    if args.scenario:
        print(f"已保存为方案「{args.scenario}」")
    if args.out:
        print(f"结果已写入 {args.out}")
    return 0
