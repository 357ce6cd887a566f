"""Home visits: outcomes, services, the visit key and the rules a visit must obey.

The route sheet's format lives here too: every home visit has a key (编号)
``R{resident_id}-{date}-{team}`` or ``L{lead_id}-{date}-{team}`` written in the
first column of the XLSX sheet, next to the columns below.

Shared by the route-sheet writer (:mod:`planner.reports.route_sheets`), the
route-sheet reader (:mod:`planner.ingest.visits`) and the store's visit writer
(:mod:`planner.store.visits`), so that the sheet a team takes out and the sheet
that comes back use the same words. Pure: no store, no files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from planner.units import LeadStatus, VisitOutcome

__all__ = [
    "ADDRESS_COLUMN",
    "ARRIVAL_COLUMN",
    "CONTACT_OUTCOMES",
    "EFFECTS",
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
    "POINT_COLUMNS",
    "POINT_GCJ_COLUMN",
    "POINT_LAT_COLUMN",
    "POINT_LON_COLUMN",
    "RESIDENT_ONLY_SERVICES",
    "REVIEW_OUTCOMES",
    "SERVICES_COLUMN",
    "SERVICE_LABELS",
    "SHEET_COLUMNS",
    "SHEET_HEADERS",
    "SHEET_NAME",
    "TRAVEL_COLUMN",
    "VISIT_KEY_RE",
    "XLSX_HEADERS",
    "Visit",
    "VisitKey",
    "check_visit",
    "lead_before",
    "month_end",
    "review_note",
    "visit_key",
]

OUTCOMES: dict[str, str] = {
    VisitOutcome.DONE: "完成",
    VisitOutcome.NOT_HOME: "不在家",
    VisitOutcome.REFUSED: "拒绝",
    VisitOutcome.MOVED: "迁出",
    VisitOutcome.DECEASED: "死亡",
}
"""Outcome key → the label written on the route sheets."""

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
PHONE_COLUMN = "电话"
ADDRESS_COLUMN = "地址"
PLANNED_COLUMN = "服务项目"
TRAVEL_COLUMN = "路程（分钟）"
NAV_COLUMN = "导航"
OUTCOME_COLUMN = "结果"
SERVICES_COLUMN = "已提供服务"
NOTES_COLUMN = "备注"
POINT_GCJ_COLUMN = "更正位置（高德坐标）"
POINT_LON_COLUMN = "更正经度（WGS-84）"
POINT_LAT_COLUMN = "更正纬度（WGS-84）"
POINT_COLUMNS = (POINT_GCJ_COLUMN, POINT_LON_COLUMN, POINT_LAT_COLUMN)
"""Columns of the XLSX sheet (after 备注, not printed) where a team records the
household's corrected point: a GCJ-02 point copied from Amap (``121.40,29.66``),
or WGS-84 longitude and latitude (a phone's GPS); see :mod:`planner.outreach.hops`."""

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
"""Header row of the printed sheet (all but 编号) and the first columns of the XLSX sheet."""

XLSX_HEADERS = (*SHEET_HEADERS, *POINT_COLUMNS)
"""Header row of the XLSX sheet, in order: :data:`SHEET_HEADERS` and :data:`POINT_COLUMNS`."""

SHEET_COLUMNS = (KEY_COLUMN, OUTCOME_COLUMN, SERVICES_COLUMN, NOTES_COLUMN, MASKED_ID_COLUMN)
"""Columns of a route sheet that the import reads (the writer uses these names)."""

VISIT_KEY_RE = re.compile(r"^([RL])(\d+)-(\d{4}-\d{2}-\d{2})-(.+)$")
"""A visit key: ``R`` (resident) or ``L`` (lead), the id, the ISO date, the team."""


EFFECTS = (
    "visits",
    "last_visit",
    "devices_replaced",
    "reassessment_cleared",
    "leads_visited",
    "leads_registered",
    "needs_review",
    "points_recorded",
)
"""Keys of the per-effect counts (``VisitImport.updated``, ``SavedVisit.updated``)."""

CONTACT_OUTCOMES = frozenset({VisitOutcome.DONE, VisitOutcome.REFUSED})
"""Outcomes in which a team met the person: a lead becomes at least ``visited``."""
REVIEW_OUTCOMES = frozenset({VisitOutcome.MOVED, VisitOutcome.DECEASED})
"""Outcomes that flag the person ``needs_review`` (nobody is deleted)."""
RESIDENT_ONLY_SERVICES = frozenset({"device_replacement", "reassessment"})
"""Services only a registered resident can receive (not a lead)."""

_LEAD_ORDER = (LeadStatus.OPEN, LeadStatus.VISITED, LeadStatus.REGISTERED)


@dataclass(frozen=True)
class VisitKey:
    """The parts of a visit key (编号) ``R{resident_id}-{date}-{team}``."""

    resident_id: int | None
    lead_id: int | None
    visited_on: date
    team: str


@dataclass(frozen=True)
class Visit:
    """One home visit: who (exactly one of resident and lead), when, by whom, what came of it."""

    resident_id: int | None
    lead_id: int | None
    visited_on: date
    team: str | None
    outcome: VisitOutcome
    services: tuple[str, ...]
    notes: str | None
    point: tuple[float, float] | None = None  # corrected point of the household, WGS-84


def visit_key(
    *, resident_id: int | None = None, lead_id: int | None = None, visited_on: date, team: str
) -> str:
    """The 编号 of a route-sheet row, e.g. ``R123-2026-12-08-A``."""
    if (resident_id is None) == (lead_id is None):
        raise ValueError("a visit key needs exactly one of resident_id and lead_id")
    head = f"R{resident_id}" if resident_id is not None else f"L{lead_id}"
    return f"{head}-{visited_on.isoformat()}-{team}"


def check_visit(v: Visit, *, today: date) -> list[tuple[str, str | None, str]]:
    """(column, value, reason) for each rule the visit breaks (people not looked up).

    A visit may not lie in the future; only outcome 完成 may carry delivered
    services; a lead cannot receive a device replacement or a re-assessment.
    """
    bad: list[tuple[str, str | None, str]] = []
    if v.visited_on > today:
        bad.append((KEY_COLUMN, v.visited_on.isoformat(), "走访日期晚于今天"))
    if v.services and v.outcome != VisitOutcome.DONE:
        bad.append(
            (
                SERVICES_COLUMN,
                "、".join(SERVICE_LABELS[s] for s in v.services),
                f"结果为「{OUTCOMES[v.outcome]}」却填写了已提供服务；"
                "只有结果为「完成」时才能填写已提供服务",
            )
        )
    if v.lead_id is not None and (wrong := [s for s in v.services if s in RESIDENT_ONLY_SERVICES]):
        bad.append(
            (
                SERVICES_COLUMN,
                "、".join(SERVICE_LABELS[s] for s in wrong),
                "疑似未登记人员（线索）尚未持证，不能提供辅具更换或残疾复评；"
                "如已评定办证，请填写「残疾评定办证」",
            )
        )
    return bad


def lead_before(status: str, than: LeadStatus) -> bool:
    """Whether a lead's ``status`` is a known status before ``than`` in
    open → visited → registered (an unknown status is never raised)."""
    try:
        return _LEAD_ORDER.index(LeadStatus(status)) < _LEAD_ORDER.index(than)
    except ValueError:
        return False


def review_note(old: str | None, v: Visit) -> str:
    """The review reason after a 迁出/死亡 feedback, e.g. ``入户反馈：迁出（2026-12-08）``,
    appended to ``old`` unless already there."""
    note = f"入户反馈：{OUTCOMES[v.outcome]}（{v.visited_on.isoformat()}）"
    if old and note in old:
        return old
    return f"{old}；{note}" if old else note


def month_end(day: date) -> date:
    """The last day of ``day``'s month (the window the month plan uses for due devices)."""
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)
