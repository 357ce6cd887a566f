"""What the leader's scenario pages show, built from the saved scenarios (no SQL,
no request): the list, one scenario's summary (what is proposed, before and after,
the indicators it changes, the sites with "why here") and the side-by-side
comparison (the same figures as ``coverplan scenarios compare --json``).

Numbers are formatted here (:func:`fmt_num`), so the templates only place text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from planner.scenarios import Scenario, ScenarioComparison, metric_label
from planner.siting.reasons import TIE_RULE_ZH, why_zh

__all__ = [
    "ACTION_ZH",
    "ComparisonView",
    "ScenarioView",
    "comparison_view",
    "fmt_num",
    "scenario_view",
]

#: The Chinese verb of each action of a proposal's ``selected`` rows.
ACTION_ZH = {"new": "新建", "upgrade": "升级", "close": "关闭", "relocate": "迁建"}
#: The headline figures of a scenario: (label, key of its ``before`` and ``after``).
TOTALS = (
    ("可达人数", "covered"),
    ("容量内人数", "within_capacity"),
    ("覆盖率（%）", "coverage_pct"),
    ("容量内比例（%）", "within_capacity_pct"),
    ("平均用时（分钟）", "mean_minutes"),
    ("设施数", "facilities"),
    ("名额", "capacity"),
)
#: Chinese labels of a siting scenario's inputs (``SitingOptions.inputs``).
INPUT_LABELS = {
    "type": "设施类型",
    "objective": "目标",
    "new": "最多新建处数",
    "budget": "预算（元）",
    "upgrade": "考虑升级现有设施",
    "max_upgrades": "最多升级处数",
    "candidates": "候选点文件",
    "exclude": "排除的村社",
    "town_rule": "每个镇街至少一处",
    "capacitated": "考虑名额",
    "target": "覆盖目标（lscp）",
    "today": "基准日",
    "close": "关闭的设施",
    "relocate": "迁建的设施",
}
#: The actions counted in "what is proposed" (metric key, verb, unit).
PROPOSED = (
    ("new_sites", "新建", "处"),
    ("upgrades", "升级", "处"),
    ("closures", "关闭", "处"),
    ("relocations", "迁建", "处"),
)


def fmt_num(value: Any) -> str:
    """A figure as shown: missing → 「—」, whole numbers with thousands separators,
    other numbers to two decimals; text as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{fmt_num(value)}%"


@dataclass
class ScenarioView:
    """One scenario as the pages show it."""

    name: str
    label: str
    facility_type: str | None
    created_at: str
    proposed: str
    cost: str
    totals: list[dict[str, str]] = field(default_factory=list)
    indicators: list[dict[str, str]] = field(default_factory=list)
    sites: list[dict[str, str]] = field(default_factory=list)
    tie_rule: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


def _proposed(metrics: dict[str, Any], label: str) -> str:
    parts = [
        f"{verb} {int(metrics[key])} {unit}"
        for key, verb, unit in PROPOSED
        if isinstance(metrics.get(key), int | float) and metrics[key]
    ]
    return f"{label}：{'，'.join(parts) if parts else '不新建、不升级、不关闭'}"


def _site(row: dict[str, Any], *, objective: Any) -> dict[str, str]:
    why = row.get("why")
    facility = row.get("facility") or {}
    places = row.get("places")
    return {
        "rank": fmt_num(row.get("rank")),
        "action": ACTION_ZH.get(str(row.get("action")), str(row.get("action"))),
        "name": str(row.get("name") or facility.get("name") or ""),
        "village": str(row.get("village_name") or ""),
        "town": str(row.get("town_name") or ""),
        "places": "" if places is None else f"{places:+g}",
        "cost": fmt_num(row.get("cost")),
        "why": why_zh(why, objective=objective) if why else "",
        "moved_from": str(facility.get("name") or "") if row.get("action") == "relocate" else "",
    }


def scenario_view(sc: Scenario) -> ScenarioView:
    """The summary of a saved scenario (a siting proposal; other kinds show their
    metrics only)."""
    result = sc.result
    label = str(result.get("label") or sc.facility_type or sc.kind)
    before, after = result.get("before") or {}, result.get("after") or {}
    totals = [
        {"label": text, "before": fmt_num(before.get(key)), "after": fmt_num(after.get(key))}
        for text, key in TOTALS
        if key in before or key in after
    ]
    indicators = [
        {
            "name": str(i.get("name") or i.get("key")),
            "target": _pct(i.get("target_pct")),
            "before": _pct(i.get("before_pct")),
            "after": _pct(i.get("after_pct")),
        }
        for i in result.get("indicators") or []
    ]
    objective = result.get("objective_kind", "mclp")
    sites = [_site(r, objective=objective) for r in result.get("selected") or []]
    return ScenarioView(
        name=sc.name,
        label=label,
        facility_type=sc.facility_type,
        created_at=sc.created_at.strftime("%Y-%m-%d %H:%M"),
        proposed=_proposed(sc.metrics, label),
        cost=fmt_num(sc.metrics.get("cost")),
        totals=totals,
        indicators=indicators,
        sites=sites,
        tie_rule=TIE_RULE_ZH if any(s["why"] for s in sites) else "",
        metrics=sc.metrics,
    )


@dataclass
class ComparisonView:
    """Scenarios side by side: the comparison's metrics and inputs (formatted), the
    indicators each changes, and each scenario's summary."""

    names: list[str]
    metrics: list[dict[str, Any]]
    inputs: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    scenarios: list[ScenarioView]


def comparison_view(comparison: ScenarioComparison, scenarios: list[Scenario]) -> ComparisonView:
    """The comparison as the page shows it (``scenarios`` in the comparison's order)."""
    doc = comparison.to_json()
    names = list(doc["names"])
    metrics = [
        {"key": m["key"], "label": m["label"], "cells": [fmt_num(m.get(n)) for n in names]}
        for m in doc["metrics"]
    ]
    inputs = [
        {
            "key": i["key"],
            "label": INPUT_LABELS.get(i["key"], metric_label(i["key"])),
            "cells": ["" if i.get(n) in (None, "[]", "{}") else i[n] for n in names],
        }
        for i in doc["inputs"]
    ]
    views = [scenario_view(sc) for sc in scenarios]
    keys: dict[str, str] = {}
    per: list[dict[str, dict[str, Any]]] = []
    for sc in scenarios:
        mine = {}
        for i in sc.result.get("indicators") or []:
            keys.setdefault(str(i["key"]), str(i.get("name") or i["key"]))
            mine[str(i["key"])] = i
        per.append(mine)
    indicators = [
        {
            "name": name,
            "cells": [
                f"{_pct(p[key].get('before_pct'))} → {_pct(p[key].get('after_pct'))}"
                if key in p
                else "不变"
                for p in per
            ],
        }
        for key, name in keys.items()
    ]
    return ComparisonView(names, metrics, inputs, indicators, views)
