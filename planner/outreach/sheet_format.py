"""The route sheet's format, shared by its writer and its import.

The month plan gives every home visit a key (编号) ``R{resident_id}-{date}-{team}``
or ``L{lead_id}-{date}-{team}``; :mod:`planner.reports.route_sheets` writes it in
the first column of the XLSX sheet, next to the columns below, and
:mod:`planner.ingest.visits` reads the filled-in sheet back by the same names.
Outcome and service labels are what the teams write (and what the import accepts
besides the keys).
"""

from __future__ import annotations

import re
from datetime import date

from planner.units import VisitOutcome

__all__ = [
    "ADDRESS_COLUMN",
    "ARRIVAL_COLUMN",
    "KEY_COLUMN",
    "MASKED_ID_COLUMN",
    "NAME_COLUMN",
    "NAV_COLUMN",
    "NOTES_COLUMN",
    "ORDER_COLUMN",
    "OUTCOMES",
    "OUTCOME_COLUMN",
    "PHONE_COLUMN",
    "PLANNED_COLUMN",
    "SERVICES_COLUMN",
    "SERVICE_LABELS",
    "SHEET_COLUMNS",
    "SHEET_HEADERS",
    "SHEET_NAME",
    "TRAVEL_COLUMN",
    "VISIT_KEY_RE",
    "visit_key",
]

OUTCOMES: dict[str, str] = {
    VisitOutcome.DONE.value: "完成",
    VisitOutcome.NOT_HOME.value: "不在家",
    VisitOutcome.REFUSED.value: "拒绝",
    VisitOutcome.MOVED.value: "迁出",
    VisitOutcome.DECEASED.value: "死亡",
}
"""Outcome key (:class:`~planner.units.VisitOutcome` value) → the label written on the sheets."""

SERVICE_LABELS: dict[str, str] = {
    "device_replacement": "辅具更换",
    "device_assessment": "辅具评估适配",
    "medication_supervision": "服药监护",
    "stroke_rehab": "脑卒中康复",
    "reassessment": "残疾复评",
    "certification": "残疾评定办证",
    "routine_visit": "入户走访",
    "policy_check": "政策落实核查",
}
"""Service key → Chinese label (keys and labels are both accepted on import)."""

SHEET_NAME = "入户路线单"
"""Title of the XLSX worksheet (and of the printed sheet)."""

KEY_COLUMN = "编号"
ORDER_COLUMN = "序号"
ARRIVAL_COLUMN = "到达时间"
NAME_COLUMN = "姓名"
MASKED_ID_COLUMN = "身份证号（脱敏）"
PHONE_COLUMN = "电话（脱敏）"
ADDRESS_COLUMN = "地址"
PLANNED_COLUMN = "服务项目"
TRAVEL_COLUMN = "路程（分钟）"
NAV_COLUMN = "导航"
OUTCOME_COLUMN = "结果"
SERVICES_COLUMN = "已提供服务"
NOTES_COLUMN = "备注"

SHEET_HEADERS = (
    KEY_COLUMN,
    ORDER_COLUMN,
    ARRIVAL_COLUMN,
    NAME_COLUMN,
    MASKED_ID_COLUMN,
    PHONE_COLUMN,
    ADDRESS_COLUMN,
    PLANNED_COLUMN,
    TRAVEL_COLUMN,
    NAV_COLUMN,
    OUTCOME_COLUMN,
    SERVICES_COLUMN,
    NOTES_COLUMN,
)
"""Header row of the XLSX sheet, in order (the printed sheet has all but 编号)."""

SHEET_COLUMNS = (KEY_COLUMN, OUTCOME_COLUMN, SERVICES_COLUMN, NOTES_COLUMN, MASKED_ID_COLUMN)
"""Columns of a route sheet that the import reads (the writer uses these names)."""

VISIT_KEY_RE = re.compile(r"^([RL])(\d+)-(\d{4}-\d{2}-\d{2})-(.+)$")
"""A visit key: ``R`` (resident) or ``L`` (lead), the id, the ISO date, the team."""


def visit_key(
    *, resident_id: int | None = None, lead_id: int | None = None, visited_on: date, team: str
) -> str:
    """The 编号 of a route-sheet row, e.g. ``R123-2026-12-08-A``.

    Parameters
    ----------
    resident_id, lead_id
        Exactly one of them: the resident or the lead visited.
    visited_on
        The visit day.
    team
        The team's key (``[outreach.teams]``).
    """
    if (resident_id is None) == (lead_id is None):
        raise ValueError("a visit key needs exactly one of resident_id and lead_id")
    head = f"R{resident_id}" if resident_id is not None else f"L{lead_id}"
    return f"{head}-{visited_on.isoformat()}-{team}"
