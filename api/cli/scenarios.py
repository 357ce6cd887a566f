"""``coverplan scenarios``: list, show, compare and delete saved planning scenarios.

Wired into :mod:`api.cli` as a sub-command: ``add_arguments(p)`` adds the actions
to the ``scenarios`` parser and ``cmd_scenarios(args)`` runs them. Text output is
an aligned Chinese table on stdout; ``--json`` prints exactly one JSON object.
User mistakes raise :class:`planner.errors.ScenarioError` (``main`` prints it and
exits with status 2).
"""

from __future__ import annotations

import argparse
import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.cli._common import district_store
from api.cli.output import print_json

if TYPE_CHECKING:  # planner (pandas, SQLAlchemy) is imported when a command runs
    from planner.scenarios import Scenario, ScenarioComparison

__all__ = ["add_arguments", "cmd_scenarios"]

_MISSING = "-"  # ASCII: "—" is of ambiguous width and misaligns in CJK terminals


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``list``, ``show``, ``compare`` and ``delete`` actions to ``p``.

    Every action takes ``--json`` as well (``p`` may have one too; either place
    works). ``p``'s ``func`` default is set to :func:`cmd_scenarios`.
    """
    sub = p.add_subparsers(dest="action", required=True, metavar="{list,show,compare,delete}")

    def add(name: str, helptext: str) -> argparse.ArgumentParser:
        a = sub.add_parser(name, help=helptext, description=helptext)
        # SUPPRESS: an absent --json here must not reset one given before the action
        a.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="输出一个 JSON 对象"
        )
        return a

    add("list", "列出已保存的方案")
    a = add("show", "显示一个方案的输入、指标和各镇街指标")
    a.add_argument("name", help="方案名称")
    a = add("compare", "并排比较两个或多个方案")
    a.add_argument("names", nargs="+", metavar="NAME", help="方案名称（至少两个）")
    a.add_argument("--out", help="写入比较表：.csv（另有 <名>_towns.csv）或 .xlsx")
    a = add("delete", "删除一个方案")
    a.add_argument("name", help="方案名称")
    p.set_defaults(func=cmd_scenarios)


def cmd_scenarios(args: argparse.Namespace) -> int:
    """Run ``coverplan scenarios <action>``; returns the exit status (0)."""
    from planner.reports.scenarios import write_comparison
    from planner.services import scenarios as service

    as_json = bool(getattr(args, "json", False))
    store = district_store(args)
    try:
        if args.action == "list":
            _list(service.list_scenarios(store), as_json=as_json)
        elif args.action == "show":
            _show(service.show_scenario(store, args.name), as_json=as_json)
        elif args.action == "compare":
            comparison = service.compare_scenarios(store, args.names)
            files = write_comparison(comparison, Path(args.out)) if args.out else ()
            _compare(comparison, files=files, as_json=as_json)
        elif args.action == "delete":
            service.delete_scenario(store, args.name)
            if as_json:
                print_json({"deleted": args.name})
            else:
                print(f"已删除方案「{args.name}」。")
        else:  # pragma: no cover - argparse restricts the choices
            raise AssertionError(args.action)
    finally:
        store.dispose()
    return 0


# ---------------------------------------------------------------- actions


def _list(scenarios: list[Scenario], *, as_json: bool) -> None:
    if as_json:
        print_json({"scenarios": [sc.summary_json() for sc in scenarios]})
        return
    if not scenarios:
        print("还没有保存任何方案。")
        return
    rows = [
        [sc.name, sc.kind, sc.facility_type or "", _time(sc.created_at), _time(sc.updated_at)]
        for sc in scenarios
    ]
    _print_table(["名称", "类型", "设施类型", "创建时间", "更新时间"], rows)
    print(f"共 {len(scenarios)} 个方案。")


def _show(sc: Scenario, *, as_json: bool) -> None:
    from planner.scenarios import metric_label, render_input

    if as_json:
        print_json(sc.to_json())
        return
    kind = f"类型 {sc.kind}" + (f"，设施类型 {sc.facility_type}" if sc.facility_type else "")
    print(f"方案「{sc.name}」（{kind}）")
    print(f"创建于 {_time(sc.created_at)}，更新于 {_time(sc.updated_at)}")
    if sc.inputs:
        print("\n输入：")
        _print_table(["输入项", "值"], [[k, render_input(v)] for k, v in sc.inputs.items()])
    print("\n指标：")
    if sc.metrics:
        _print_table(["指标", "值"], [[metric_label(k), v] for k, v in sc.metrics.items()])
    else:
        print("（无）")
    if sc.by_town:
        keys = list(dict.fromkeys(k for m in sc.by_town.values() for k in m))
        print("\n各镇街：")
        _print_table(
            ["镇街", *(metric_label(k) for k in keys)],
            [[town, *(m.get(k) for k in keys)] for town, m in sorted(sc.by_town.items())],
        )


def _compare(comparison: ScenarioComparison, *, files: Sequence[Path], as_json: bool) -> None:
    from planner.scenarios import metric_label

    if as_json:
        print_json({**comparison.to_json(), "files": [str(f) for f in files]})
        return
    names = list(comparison.names)
    print(f"方案比较：{'、'.join(names)}")
    print("\n指标：")
    _print_table(
        ["指标", *names],
        [[row["label"], *(row[n] for n in names)] for _, row in comparison.metrics.iterrows()],
    )
    if len(comparison.inputs):
        print("\n输入：")
        _print_table(
            ["输入项", *names],
            [[key, *(row[n] for n in names)] for key, row in comparison.inputs.iterrows()],
        )
    by_metric: dict[str, list[tuple[str, str]]] = {}
    for column, scenario, key in comparison.town_columns():
        by_metric.setdefault(key, []).append((column, scenario))
    for key, columns in by_metric.items():
        print(f"\n各镇街 · {metric_label(key)}：")
        towns = comparison.towns
        _print_table(
            ["镇街", *(scenario for _, scenario in columns)],
            [[town, *(towns.at[town, column] for column, _ in columns)] for town in towns.index],
        )
    if files:
        print(f"\n比较表已写入 {', '.join(str(f) for f in files)}")


# ---------------------------------------------------------------- formatting


def _time(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell(value: Any) -> str:
    """A value as table text: missing → "-", whole numbers without decimals."""
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.4f}"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _print_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print an aligned table (CJK characters count two columns).

    The first column and text are left-aligned; numbers and missing values in the
    other columns are right-aligned, and so are the headers of number columns.
    """
    from planner.jsonable import to_jsonable

    cells = [[str(h) for h in header]] + [[_cell(v) for v in row] for row in rows]
    right = [[False] * len(header)] + [
        [i > 0 and (_is_number(to_jsonable(v)) or _cell(v) == _MISSING) for i, v in enumerate(row)]
        for row in rows
    ]
    for i in range(1, len(header)):  # a header sits over its numbers
        right[0][i] = bool(rows) and all(r[i] for r in right[1:])
    widths = [max(_width(line[i]) for line in cells) for i in range(len(header))]
    for line, flags in zip(cells, right, strict=True):
        parts = []
        for i, text in enumerate(line):
            pad = " " * (widths[i] - _width(text))
            parts.append(pad + text if flags[i] else text + pad)
        print("  " + "  ".join(parts).rstrip())
