""" "Why here" for people: the reasons of :mod:`planner.siting.explain` as JSON and Chinese.

:func:`why_json` turns one decision's :class:`~planner.siting.explain.Why` into
the ``why`` object of a ``selected[]`` entry of ``coverplan site --json``:
``adds_objective, adds_within_capacity, adds_in_reach, adds_minutes,
best_alternative, tied_alternatives``, the alternatives as ``name, code,
village_code, town_name, objective, within_capacity, in_reach, minutes`` (the
whole plan's figures with that site instead). :func:`tie_break_json` gives the
order of the criteria and the plan's figures (``tie_break``); :func:`why_zh`
and :data:`TIE_RULE_ZH` the Chinese lines of the text output and the files.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from planner.jsonable import to_jsonable
from planner.siting.explain import Alternative, Why
from planner.siting.figures import PlanFigures, criteria
from planner.siting.problem import Objective, SitingProblem, SitingResult

__all__ = ["TIE_RULE_ZH", "tie_break_json", "why_json", "why_zh"]

#: Decimals of minutes and person-minutes in the reasons.
MINUTES_DECIMALS = 3
#: Tied alternatives named in a line of text; the rest are counted.
TIED_SHOWN = 5

CRITERION_ZH = {
    "objective": "目标值",
    "count": "新建与升级处数最少",
    "in_reach": "可达人数最多（不计名额）",
    "minutes": "到最近设施的出行时间合计最少",
    "key": "代码靠前",
}
#: How ties on the objective are broken, for the text output and the README.
TIE_RULE_ZH = (
    "目标值相同的方案依次比较：新建与升级处数最少（最大覆盖、最小出行时间）、"
    "可达人数最多（不计名额）、到最近设施的出行时间合计最少，最后取代码靠前的点"
)


def _minutes(value: float) -> float:
    return round(float(value), MINUTES_DECIMALS)


def _figures(f: PlanFigures) -> dict[str, Any]:
    return {
        "objective": _minutes(f.objective),
        "within_capacity": f.within_capacity,
        "in_reach": f.in_reach,
        "minutes": _minutes(f.minutes),
    }


def _alternative(a: Alternative, sites: pd.DataFrame) -> dict[str, Any]:
    row = sites.loc[a.site]
    return to_jsonable(
        {
            "name": row["name"],
            "code": row["code"],
            "village_code": row["village_code"],
            "town_name": row["town_name"],
            **_figures(a.figures),
        }
    )


def why_json(why: Why, sites: pd.DataFrame) -> dict[str, Any]:
    """The ``why`` object of one decision; ``sites`` is the problem's site frame
    (:class:`planner.siting.from_frames.Sites`, indexed by site)."""
    within = why.adds_within_capacity
    return to_jsonable(
        {
            "adds_objective": _minutes(why.adds_objective),
            "adds_within_capacity": within,
            "adds_in_reach": why.adds_in_reach,
            "adds_minutes": _minutes(why.adds_minutes),
            "plan": _figures(why.plan),
            "best_alternative": None if why.best is None else _alternative(why.best, sites),
            "tied_alternatives": [_alternative(a, sites) for a in why.tied],
        }
    )


def tie_break_json(problem: SitingProblem, result: SitingResult) -> dict[str, Any]:
    """``tie_break``: the criteria in order (``order``, with ``order_zh``), the
    ``status`` of their solve and the plan's figures."""
    order = list(criteria(problem))
    figures = {} if result.figures is None else _figures(result.figures)
    return to_jsonable(
        {
            "order": order,
            "order_zh": [CRITERION_ZH[c] for c in order],
            "status": result.tie_break,
            **figures,
        }
    )


def _fmt(value: float, *, minutes: bool) -> str:
    return f"{value:,.1f}" if minutes else f"{value:,.0f}"


def _parts(figs: dict[str, Any], *, objective: Objective, signed: bool) -> list[str]:
    """The figures worth saying for ``objective``, in Chinese."""
    items: list[tuple[str, str, bool]] = []
    if objective == "pmedian":
        items.append(("objective", "加权出行（含未分配罚时）", True))
    items += [
        ("within_capacity", "容量内", False),
        ("in_reach", "可达", False),
        ("minutes", "出行合计", True),
    ]
    out = []
    for key, label, is_minutes in items:
        value = figs.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        unit = ("人·分钟" if key == "objective" else "分钟") if is_minutes else "人"
        text = _fmt(value, minutes=is_minutes)
        if signed and value >= 0:
            text = f"+{text}"
        out.append(f"{label} {text} {unit}")
    return out


def _named(a: dict[str, Any]) -> str:
    code = a.get("code")
    return f"{a['name']}（{code}）" if code else str(a["name"])


def why_zh(why: dict[str, Any], *, objective: Objective) -> str:
    """One line of "为什么选这里" from a ``why`` object (see :func:`why_json`)."""
    adds = {
        "objective": why["adds_objective"],
        "within_capacity": why["adds_within_capacity"],
        "in_reach": why["adds_in_reach"],
        "minutes": why["adds_minutes"],
    }
    text = f"为什么选这里：{'，'.join(_parts(adds, objective=objective, signed=True))}"
    best = why.get("best_alternative")
    if best is None:
        text += "；没有可替代的点（规则或预算不允许）"
    else:
        mine = "，".join(_parts(why["plan"], objective=objective, signed=False))
        theirs = "，".join(_parts(best, objective=objective, signed=False))
        text += f"；次优替代 {_named(best)}：{theirs}（本方案：{mine}）"
    tied = why.get("tied_alternatives") or []
    if tied:
        names = "、".join(_named(a) for a in tied[:TIED_SHOWN])
        more = f" 等 {len(tied)} 处" if len(tied) > TIED_SHOWN else ""
        text += f"；同样好的替代：{names}{more}（按代码顺序取本点）"
    return text
