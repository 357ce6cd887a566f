"""The ``coverplan`` command line.

User mistakes end with a Chinese message on stderr and exit status 2, never a
traceback. ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import errno
import os
import re
import sys
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, NoReturn

from api.cli import outreach as cli_outreach
from api.cli import retrofit as cli_retrofit
from api.cli import scenarios as cli_scenarios
from api.cli import site as cli_site
from api.cli import visits as cli_visits
from api.cli.output import command_output, print_json
from geo.errors import CoverplanError
from planner.ingest.columns import KINDS

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: Output cut off by the reader (``coverplan … | head``): 128 + SIGPIPE, the status
#: a shell reports for any tool stopped that way.
EXIT_BROKEN_PIPE = 141

_print_json = print_json  # the one JSON printer (api.cli.output); kept under its old name


def _store(args: argparse.Namespace) -> Any:
    """The store of an existing district (never created: a mistyped --db is an error)."""
    from planner.store.core import open_district_store

    return open_district_store(args.db)


def _config() -> Any:
    from planner.settings import get_config

    return get_config()


_INIT_HELP = (
    "请用 --district 指定区县代码（6 位统计用区划代码，如 330213），并提供镇街与村社："
    "--units 区划表（CSV/XLSX，列 code,name,level,parent_code,parent_name 或 "
    "代码/名称/级别/上级代码/上级名称）和/或 --villages 村社文件"
    "（GeoJSON/GeoPackage/Shapefile/CSV，含村社代码、名称、镇街及点位或边界；坐标系用 --crs）。"
    "内置区划的区县（{known}）只给 --district 即可。只想看演示：coverplan demo"
)


def _names(text: str | None) -> list[str]:
    if text is None:
        return []
    for sep in ("，", "、", ";", "；"):
        text = text.replace(sep, ",")
    return [p.strip() for p in text.split(",") if p.strip()]


def cmd_init(args: argparse.Namespace) -> int:
    from geo.gazetteer import reference_districts
    from planner.errors import InputError
    from planner.ingest.district import init_district

    if not args.district:
        known = "、".join(f"{c} {r.name}" for c, r in reference_districts().items())
        raise InputError(_INIT_HELP.format(known=known))
    result = init_district(
        args.db,
        district=args.district,
        units=args.units,
        villages=args.villages,
        crs=args.crs,
        name=args.name,
        parents=_names(args.parents) if args.parents is not None else None,
        former_codes=_names(args.former_codes),
        aliases=_names(args.aliases),
        office=args.office,
        office_name=args.office_name,
        geometry=not args.no_geometry,
        search_rows=_config().import_.header_search_rows,
    )
    if args.json:
        _print_json(result.to_json())
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
    from planner.ingest.registers import import_file
    from planner.settings import get_settings

    store = _store(args)

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
        replace=args.replace,
    )
    if args.json:
        _print_json(result.to_json())
    else:
        print(result.summary())
    if result.rows and result.rejected == result.rows:
        where = f"；原因见问题清单 {result.report}" if result.report else ""
        _error(f"文件 {result.file} 的 {result.rows} 行数据全部被拒绝，未导入任何记录{where}")
        return EXIT_USER_ERROR
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from planner.ingest.geocoding import geocode_file

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
            f"未匹配 {s['unmatched']}，区外 {s['outside']}；结果写入 {res.out}"
        )
    return 0


def cmd_corrections(args: argparse.Namespace) -> int:
    from planner.ingest.geocoding import add_correction

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
    from planner.store.summary import summarize

    store = _store(args)
    summary = summarize(store, config=_config())
    if args.json:
        _print_json(summary.to_json())
    else:
        print(summary.text())
    return 0


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(x) for x in text.replace("，", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"「{text}」应为 经度,纬度，如 121.40,29.66") from None
    return lon, lat


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

    store = _store(args)
    config = _config()
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
        _print_json(out)
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

    store = _store(args)
    config = _config()
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
        _print_json(out)
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


def _coverage(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from planner.coverage.engine import compute_coverage
    from planner.networks import load_networks, modes_for

    store = _store(args)
    config = _config()
    types = args.type or None
    builds = load_networks(
        store,
        config=config,
        modes=modes_for(config, types),
        path=args.network,
        progress=not args.json,
    )
    result = compute_coverage(
        store,
        config=config,
        networks={m: b.network for m, b in builds.items()},
        types=types,
        isochrones=bool(getattr(args, "out", None)),
    )
    return store, config, result


def cmd_coverage(args: argparse.Namespace) -> int:
    from planner.reports.coverage import write_coverage
    from planner.store.frames import villages_frame

    store, _, result = _coverage(args)
    files = None
    if args.out:
        files = write_coverage(result, villages=villages_frame(store), out_dir=Path(args.out))
    if args.json:
        out = result.to_json()
        if files:
            out["files"] = [str(files.geopackage), *map(str, files.tables)]
        _print_json(out)
    else:
        print("设施类型覆盖（人数；覆盖率 = 可达 / 能出行的符合条件者）：")
        for t in result.types:
            pct = "—" if t.coverage_pct is None else f"{t.coverage_pct:.1f}%"
            reach = (
                "本村社范围" if t.catchment == "village" else f"{t.threshold_min:g} 分钟，{t.mode}"
            )
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
        print("十四五指标：")
        for i in result.indicators:
            value = "无数据" if i.value_pct is None else f"{i.value_pct:.1f}%"
            met = {True: "达标", False: "未达标", None: "—"}[i.met]
            print(f"  {i.name}：{value}（目标 {i.target_pct:g}%）{met}")
        if result.awaiting_review:
            print(f"另有 {result.awaiting_review} 人待核查村社，未计入。")
        _print_unreachable(result)
        if files:
            print(f"结果已写入 {files.geopackage.parent}")
    return 0


def cmd_gaps(args: argparse.Namespace) -> int:
    from planner.coverage.gaps import PART_LABELS, POLICY_PARTS, find_gaps
    from planner.reports.coverage import write_coverage
    from planner.store.frames import villages_frame

    store, config, result = _coverage(args)
    gaps = find_gaps(store, config=config, result=result, types=args.type or None)
    if args.out:
        write_coverage(result, villages=villages_frame(store), out_dir=Path(args.out), gaps=gaps)
    if args.json:
        _print_json(gaps.to_json(top=args.top))
        return 0
    for key, rows in gaps.coverage.groupby("type", sort=False):
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
                f"（符合条件 {r.eligible}，容量内 {r.covered_within_capacity}{far}）"
            )
    print("政策落实缺口（加权人数）：")
    for r in gaps.policy.head(args.top).itertuples():
        parts = "，".join(f"{PART_LABELS[p]} {getattr(r, p)}" for p in POLICY_PARTS)
        print(f"  {r.rank:>2}. {r.town_name}{r.village_name}  {r.score:g} 分（{parts}）")
    _print_unreachable(result)
    return 0


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


_ARGPARSE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^argument (.+?): invalid int value: '(.*)'$", r"参数 \1 的值「\2」不是整数"),
        (r"^argument (.+?): invalid float value: '(.*)'$", r"参数 \1 的值「\2」不是数字"),
        (
            r"^argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)$",
            r"参数 \1 的值「\2」无效；可选：\3",
        ),
        (r"^argument (.+?): expected one argument$", r"参数 \1 后面需要一个值"),
        (r"^argument (.+?): expected at least one argument$", r"参数 \1 后面至少需要一个值"),
        (r"^argument (.+?): not allowed with argument (.+)$", r"参数 \1 不能与 \2 同时使用"),
        (r"^argument (.+?): (.+)$", r"参数 \1：\2"),
        (r"^the following arguments are required: (.+)$", r"缺少参数：\1"),
        (r"^one of the arguments (.+) is required$", r"需要以下参数之一：\1"),
        (r"^unrecognized arguments: (.+)$", r"不认识的参数：\1"),
    )
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose error messages are Chinese (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        for pattern, text in _ARGPARSE_MESSAGES:
            if pattern.match(message):
                message = pattern.sub(text, message)
                break
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"错误：{message}（{self.prog} -h 查看用法）\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coverplan", description="残疾人服务覆盖规划（coverplan）")
    parser.add_argument("--db", help="数据库地址（默认取 COVERPLAN_DB_URL 或 var/coverplan.db）")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, helptext: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        return p

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
        type=_lonlat,
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

    p = add("network", "道路网络：构建并缓存（drive 驾车 / walk 步行 / wheelchair 轮椅）")
    nsub = p.add_subparsers(dest="action", required=True)
    nb = nsub.add_parser("build", help="构建道路网络并登记到数据库")
    nb.add_argument("file", nargs="?", help="OSM 文件（.osm 或 .osm.pbf）；省略则用已登记的")
    nb.add_argument("--mode", default="all", choices=["drive", "walk", "wheelchair", "all"])
    nb.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_network)

    p = add("travel-time", "两点之间的通行时间和距离")
    p.add_argument("--from", dest="from_", type=_lonlat, required=True, help="起点 经度,纬度")
    p.add_argument("--to", type=_lonlat, required=True, help="终点 经度,纬度")
    p.add_argument("--mode", default="drive", choices=["drive", "walk", "wheelchair"])
    p.add_argument("--crs", default="wgs84", help="坐标系：wgs84（默认）、gcj02、bd09")
    p.add_argument("--network", help="OSM 文件（默认用已登记的）")
    p.add_argument(
        "--snap-any",
        action="store_true",
        help="起点或终点距路网超过 [network] snap_max_m 时仍从最近的路网节点计算（默认拒绝）",
    )
    p.set_defaults(func=cmd_travel_time)

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

    p = add("site", "选址：新建与升级方案（最大覆盖、最小出行时间、最少新建）及前后对比")
    cli_site.add_arguments(p)
    p.set_defaults(func=cli_site.cmd_site)

    p = add("scenarios", "方案：列出、查看、对比、删除已保存的方案")
    cli_scenarios.add_arguments(p)

    p = add("retrofit", "家庭无障碍改造优先排序与无障碍社区候选")
    cli_retrofit.add_arguments(p)
    p.set_defaults(func=cli_retrofit.cmd_retrofit)

    p = sub.add_parser(
        "outreach", help="康复入村社：全年日历、当月方案与路线单", description="康复入村社"
    )
    cli_outreach.add_arguments(p)

    p = sub.add_parser("visits", help="入户记录：导入填好的路线单、逐条登记")
    cli_visits.add_arguments(p)

    p = add("status", "数据库汇总（按镇街、类别、设施类型计数）")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coverplan`` console script.

    Returns the exit status: 0, 2 for a user mistake (a Chinese message on
    stderr, never a traceback), 130 when interrupted, 141 when the reader of the
    output went away (``coverplan … | head``; nothing more is printed).
    """
    try:
        args = build_parser().parse_args(argv)  # --help too may meet a closed pipe
        if args.db:
            os.environ["COVERPLAN_DB_URL"] = args.db
        with command_output(json_mode=bool(getattr(args, "json", False))):
            return _run(args)
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except CoverplanError as exc:
        _error(str(exc))
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("已中断；数据库未做任何更改。", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise
    except Exception as exc:
        message = _environment_message(exc)
        if message is None:
            raise
        _error(message)
        return EXIT_USER_ERROR


def _error(message: str) -> None:
    print(f"错误：{message}", file=sys.stderr)


_OS_REASONS = {
    errno.ENOENT: "路径不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录，应给出文件",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EEXIST: "已存在同名文件，无法在此创建目录",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "所在文件系统只读",
    errno.ENAMETOOLONG: "路径太长",
}


def _environment_message(exc: Exception) -> str | None:
    """A Chinese message for a failure of the user's files or database, else None.

    Covers an ``OSError`` naming a file (an unwritable ``--out``, a directory
    given as a file, a full disk) and a database that cannot be reached or
    written (the URL shown without its password).
    """
    if isinstance(exc, OSError) and exc.filename is not None:
        reason = _OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))
        return f"无法读写「{exc.filename}」：{reason}；请检查路径与权限（如 --out 目录可写）"
    from sqlalchemy.exc import InterfaceError, OperationalError

    if isinstance(exc, (OperationalError, InterfaceError)):
        from planner.settings import get_settings
        from planner.store.core import display_url, redact_url

        url = get_settings().store_url
        detail = redact_url(str(exc.orig).strip(), url)
        return f"数据库 {display_url(url)} 操作失败：{detail}；请检查数据库地址、权限与磁盘空间"
    return None


def _discard_stdout() -> None:
    """Point stdout at the null device, so that exiting flushes nothing to a closed pipe."""
    with suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
