"""What the what-if panel shows, built from :class:`~planner.services.whatif.WhatIfFigures`:
totals and indicators before → after, sites coloured by shortage / full / spare,
people per village split into served / in reach but no place / out of reach.

Person counts 1..``[privacy] min_count``-1 are shown as 「<5」 for every role
but admin (leaders see aggregates only, as in the API).
"""

from __future__ import annotations

import math
from typing import Any

from api.web.leader_views import fmt_num
from planner.domain.access import Principal
from planner.services.whatif import Candidate, WhatIfFigures

__all__ = ["STATUS_ZH", "candidates_view", "figures_view"]

STATUS_ZH = {"shortage": "名额不足", "full": "已满", "spare": "有空余", "closed": "已关闭"}
CANDIDATE_ZH = {"existing": "现有", "open": "新增", "closed": "未开放"}
ACTION_ZH = {"add": "新增", "remove": "关闭", "upgrade": "扩容"}
#: The district totals: (label, attribute, is a person count, unit).
TOTALS = (
    ("符合条件人数", "eligible", True, ""),
    ("上门服务人数", "home_service", True, ""),
    ("可达人数", "in_reach", True, ""),
    ("容量内人数", "within_capacity", True, ""),
    ("覆盖率", "coverage_pct", False, "%"),
    ("容量内比例", "capacity_pct", False, "%"),
    ("站点数", "sites", False, ""),
    ("名额", "places", False, ""),
)
VILLAGE_COUNTS = ("eligible", "served", "in_reach_no_place", "out_of_reach")
SITE_COUNTS = ("demand", "in_reach", "assigned")


def _count(value: Any, *, full: bool, min_count: int) -> str:
    """A person count as shown: small ones 「<min_count」 unless ``full``."""
    if isinstance(value, int | float) and not full and 0 < value < min_count:
        return f"<{min_count}"
    return fmt_num(value)


def _value(value: Any, unit: str) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "不限"
    text = fmt_num(value)
    return text + unit if unit and text != "—" else text


def _delta(before: Any, after: Any, *, shown: bool) -> tuple[str, str]:
    """The change as text and its CSS class (``up``/``down``; "" when none or hidden)."""
    ok = all(isinstance(v, int | float) and math.isfinite(v) for v in (before, after))
    if not shown or not ok or before == after:
        return "", ""
    d = after - before
    text = f"{d:+,.2f}" if isinstance(d, float) and not d.is_integer() else f"{int(d):+,}"
    return text, "up" if d > 0 else "down"


def figures_view(
    fig: WhatIfFigures,
    *,
    principal: Principal,
    min_count: int,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The panel's rows (text, already suppressed) of ``fig``; ``names`` maps site
    codes to names (for the list of changes)."""
    full = principal.full_records
    totals = []
    for label, attr, is_count, unit in TOTALS:
        b, a = getattr(fig.before, attr), getattr(fig.totals, attr)
        if is_count:
            bt = _count(b, full=full, min_count=min_count)
            at = _count(a, full=full, min_count=min_count)
            shown = "<" not in bt + at
        else:
            bt, at, shown = _value(b, unit), _value(a, unit), True
        delta, cls = _delta(b, a, shown=shown)
        totals.append(
            {"key": attr, "label": label, "before": bt, "after": at, "delta": delta, "cls": cls}
        )
    indicators = [
        {
            "key": i.key,
            "name": i.name,
            "target": i.target,
            "before": _value(i.before, i.unit),
            "after": _value(i.after, i.unit),
            "met": i.met_after,
            "changed": i.before != i.after,
        }
        for i in fig.indicators
    ]
    villages = [
        {
            "name": v.name,
            "town": v.town,
            **{k: _count(getattr(v, k), full=full, min_count=min_count) for k in VILLAGE_COUNTS},
        }
        for v in fig.villages
    ]
    people = {
        k: _count(sum(getattr(v, k) for v in fig.villages), full=full, min_count=min_count)
        for k in ("served", "in_reach_no_place", "out_of_reach", "home_service")
    }
    sites = [
        {
            "code": s.code,
            "name": s.name,
            "places": "不限" if s.places is None else fmt_num(s.places),
            **{k: _count(getattr(s, k), full=full, min_count=min_count) for k in SITE_COUNTS},
            "status": s.status,
            "status_zh": STATUS_ZH.get(s.status, s.status),
            "is_new": s.is_new,
            "is_closed": s.is_closed,
            "limited": s.places is not None,
        }
        for s in fig.sites
    ]
    statuses = {k: sum(1 for s in fig.sites if s.status == k) for k in STATUS_ZH}
    changes = [
        {
            "action": ACTION_ZH.get(c.action, c.action),
            "site": (names or {}).get(c.site, c.site),
            "places": c.places,
        }
        for c in fig.changes
    ]
    return {
        "label": fig.label,
        "totals": totals,
        "indicators": indicators,
        "villages": villages,
        "people": people,
        "sites": sites,
        "statuses": statuses,
        "changes": changes,
        "cost": fmt_num(fig.cost),
        "server_ms": f"{fig.server_ms:.1f}",
        "min_count": min_count,
        "suppressed": not full,
    }


def candidates_view(candidates: list[Candidate]) -> list[dict[str, str]]:
    """The options of the candidate picker: code, and a label with the status."""
    return [
        {
            "code": c.code,
            "label": f"{c.name}（{c.town_name or ''}{'，' if c.town_name else ''}"
            f"{CANDIDATE_ZH.get(c.status, c.status)}）",
            "status": c.status,
        }
        for c in candidates
    ]
