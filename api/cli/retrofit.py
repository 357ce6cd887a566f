"""``coverplan retrofit``: household accessibility-retrofit priorities and
accessible-community candidates (:func:`planner.services.retrofit.retrofit`).

Wired into :mod:`api.cli` by ``add_arguments`` (options) and ``cmd_retrofit``
(the command). The parser provides ``--json``; the global ``--db`` is handled by
``main``. Output is aggregates and masked ID numbers only, never names.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.cli._common import command_config, district_store
from api.cli.output import print_json

#: Households listed in the plain-text summary unless ``--top`` says otherwise.
DEFAULT_TOP = 10


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the options of ``coverplan retrofit`` to its sub-parser."""
    p.add_argument(
        "--quota", type=int, help="本年改造户数上限（默认取配置 [retrofit] quota，如 122）"
    )
    p.add_argument("--budget", type=float, help="本年预算（元）；省略则不限")
    p.add_argument("--year", type=int, help="规划年份（默认今年）")
    p.add_argument("--out", help="输出目录：改造户与无障碍社区候选的 CSV 及 XLSX")
    p.add_argument(
        "--top", type=int, default=DEFAULT_TOP, help=f"摘要中列出前 N 户（默认 {DEFAULT_TOP}）"
    )


def cmd_retrofit(args: argparse.Namespace) -> int:
    """Rank households for this year's retrofits, select them, rank communities.

    With ``--json`` prints one JSON object (:meth:`planner.retrofit.RetrofitPlan.to_json`,
    plus ``files`` when ``--out`` is given); otherwise a short Chinese summary.
    Invalid values raise :class:`geo.errors.CoverplanError` subclasses.
    """
    from planner.reports.retrofit import write_retrofit
    from planner.services.retrofit import RetrofitOptions, retrofit

    store = district_store(args)
    options = RetrofitOptions(year=args.year, quota=args.quota, budget=args.budget)
    plan = retrofit(store, config=command_config(), options=options)
    files = write_retrofit(plan, Path(args.out), xlsx=True) if args.out else None
    if args.json:
        out = plan.to_json()
        if files is not None:
            out["files"] = [str(files.households), str(files.communities), str(files.workbook)]
        print_json(out)
    else:
        print(plan.text(top=max(getattr(args, "top", DEFAULT_TOP), 0)))
        if files is not None:
            print(f"结果已写入 {files.households.parent}")
    return 0
