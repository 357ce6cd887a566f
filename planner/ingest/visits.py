"""Home-visit records: import the filled-in route sheets, or record one visit.

The outreach teams (入户服务队) take the route sheets of
:mod:`planner.reports.route_sheets` out on the day and fill in, per household, the
结果 (outcome), the 已提供服务 (services delivered) and 备注 (notes).
:func:`import_visits` reads those XLSX sheets back, matching each row by its 编号
(the visit key ``R{resident_id}-{date}-{team}`` or ``L{lead_id}-{date}-{team}``),
and updates the store in ONE transaction per file (in a directory, a file that
cannot be read is reported and the others are imported); :func:`record_visit`
does the same for one visit typed in by hand.

Effects (what next month's plan reads):

- a :class:`~planner.store.schema.Visit` row per visit, once: the same person (resident
  or lead), day and team is stored once, so importing a sheet twice changes
  nothing. A row that differs from the stored visit (a corrected outcome,
  services or notes) revises it and applies the effects of the new content;
  effects already applied are never undone.
- outcome 完成 (done): ``Resident.last_visit`` moves to the visit day when later.
- 辅具更换 delivered: the resident's current devices that are due by the end of
  the visit's month (the window the month plan uses) get ``replaced_on`` = the
  visit day; a delivery without any due device is reported as a warning.
- 残疾复评 delivered: ``Resident.reassessment_due`` is cleared (``None``). The
  re-assessment sets the next date (if any) on the new certificate, which comes
  back through the register import; guessing a date would plan a needless visit.
- 残疾评定办证 delivered to a lead: ``Lead.status = "registered"``; any contact
  with a lead (outcome 完成 or 拒绝) raises its status to at least ``"visited"``.
- outcome 迁出/死亡: the resident (or lead) is flagged ``needs_review`` with the
  reason "入户反馈：迁出（2026-12-08）"; nobody is deleted.

Only outcome 完成 may carry delivered services; a row with services and another
outcome (or none) is rejected, as are unknown outcomes, services, people and keys.
The resident's ``content_hash`` is left alone, so re-importing an unchanged
register keeps these effects.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from planner.domain.devices import due_on
from planner.errors import InputError, VisitError
from planner.ingest import normalize as nz
from planner.ingest.columns import header_key
from planner.ingest.idnumber import mask_id
from planner.ingest.readers import EXCEL_SUFFIXES, read_table
from planner.outreach.sheet_format import (
    KEY_COLUMN,
    MASKED_ID_COLUMN,
    NOTES_COLUMN,
    OUTCOME_COLUMN,
    OUTCOMES,
    SERVICE_LABELS,
    SERVICES_COLUMN,
    SHEET_COLUMNS,
    VISIT_KEY_RE,
    visit_key,
)
from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = [
    "EFFECTS",
    "OUTCOMES",
    "SERVICE_LABELS",
    "SHEET_COLUMNS",
    "FailedFile",
    "SavedVisit",
    "VisitError",
    "VisitImport",
    "VisitKey",
    "VisitProblem",
    "import_visits",
    "parse_outcome",
    "parse_services",
    "parse_visit_key",
    "record_visit",
    "save_visit",
    "visit_key",
]

EFFECTS = (
    "visits",
    "last_visit",
    "devices_replaced",
    "reassessment_cleared",
    "leads_visited",
    "leads_registered",
    "needs_review",
)
"""Keys of the per-effect counts (``VisitImport.updated``, ``SavedVisit.updated``)."""

Outcome = Literal["done", "not_home", "refused", "moved", "deceased"]
SaveStatus = Literal["inserted", "revised", "unchanged"]

_CONTACT = frozenset({"done", "refused"})
_REVIEW = frozenset({"moved", "deceased"})
_RESIDENT_ONLY = frozenset({"device_replacement", "reassessment"})
_LEAD_RANK = {"open": 0, "visited": 1, "registered": 2}
_KEY_RE = VISIT_KEY_RE  # the visit key format of planner.outreach.sheet_format
_SPLIT_RE = re.compile(r"[,，、;；/|\s]+")
_HEADER_SEARCH_ROWS = 15
_KNOWN_HEADERS = frozenset(
    header_key(h)
    for h in (*SHEET_COLUMNS, "序号", "到达时间", "姓名", "电话（脱敏）", "地址", "服务项目")
)
_OUTCOME_LOOKUP = {
    **{k: k for k in OUTCOMES},
    **{v: k for k, v in OUTCOMES.items()},
    "已完成": "done",
    "迁走": "moved",
    "去世": "deceased",
    "已故": "deceased",
    "拒访": "refused",
}
_SERVICE_LOOKUP = {
    **{k: k for k in SERVICE_LABELS},
    **{v: k for k, v in SERVICE_LABELS.items()},
}


@dataclass(frozen=True)
class VisitKey:
    """The parts of a visit key (编号) ``R{resident_id}-{date}-{team}``."""

    resident_id: int | None
    lead_id: int | None
    visited_on: date
    team: str


@dataclass(frozen=True)
class VisitProblem:
    """A rejected row (or a warning) of a visit import.

    ``row`` is the Excel row number; ``masked_id`` the person's masked ID number
    when known; ``value`` never holds an unmasked ID or phone number.
    """

    file: str
    row: int
    column: str | None
    value: str | None
    reason: str
    masked_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "masked_id": self.masked_id,
            "reason": self.reason,
        }

    def text(self) -> str:
        where = [self.file, f"第 {self.row} 行"]
        if self.column:
            where.append(f"列「{self.column}」")
        if self.value is not None:
            where.append(f"值「{self.value}」")
        who = f"（{self.masked_id}）" if self.masked_id else ""
        return f"{'，'.join(where)}{who}：{self.reason}"


@dataclass(frozen=True)
class FailedFile:
    """A sheet of a directory import that was not imported at all, and why."""

    file: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "reason": self.reason}


@dataclass(frozen=True)
class VisitImport:
    """What :func:`import_visits` did.

    Counting: ``rows`` = non-blank data rows of the sheets; ``skipped_blank`` =
    rows with an empty 结果 (not visited yet); ``stored`` = visits written by this
    import (``inserted`` + ``revised``); ``unchanged`` = visits already stored as
    they are. ``rows == stored + unchanged + skipped_blank + rejected_rows``.
    ``rejected`` lists every problem (a row may have several); ``warnings`` lists
    stored rows with something to check; ``updated`` counts each effect.
    """

    files: tuple[str, ...]
    rows: int
    stored: int
    inserted: int
    revised: int
    unchanged: int
    skipped_blank: int
    rejected: tuple[VisitProblem, ...]
    warnings: tuple[VisitProblem, ...]
    updated: Mapping[str, int]
    batch_ids: tuple[int, ...]
    failed_files: tuple[FailedFile, ...] = ()

    @property
    def rejected_rows(self) -> int:
        """Number of distinct rejected rows."""
        return len({(p.file, p.row) for p in self.rejected})

    def to_json(self) -> dict[str, Any]:
        return {
            "files": list(self.files),
            "rows": self.rows,
            "stored": self.stored,
            "inserted": self.inserted,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "skipped_blank": self.skipped_blank,
            "rejected": self.rejected_rows,
            "problems": [p.to_json() for p in self.rejected],
            "warnings": [p.to_json() for p in self.warnings],
            "updated": dict(self.updated),
            "batch_ids": list(self.batch_ids),
            "failed_files": [f.to_json() for f in self.failed_files],
        }

    def summary(self) -> str:
        """A few lines in Chinese for the terminal (masked IDs only)."""
        u = self.updated
        lines = [
            f"导入入户记录：{'、'.join(self.files)}",
            f"  数据行 {self.rows}：入库 {self.stored}"
            f"（新增 {self.inserted}，更正 {self.revised}），未变 {self.unchanged}，"
            f"未走访（结果为空）{self.skipped_blank}，"
            f"拒绝 {self.rejected_rows}",
            f"  更新：最近走访日期 {u['last_visit']} 人，辅具更换 {u['devices_replaced']} 件，"
            f"复评到期清除 {u['reassessment_cleared']} 人，线索已走访 {u['leads_visited']} 条，"
            f"线索已办证 {u['leads_registered']} 条，标记待核查 {u['needs_review']} 人",
        ]
        if self.rejected:
            lines.append("  拒绝的行（未入库，请改正后重新导入）：")
            lines.extend(f"    {p.text()}" for p in self.rejected)
        if self.warnings:
            lines.append("  提示：")
            lines.extend(f"    {p.text()}" for p in self.warnings)
        if self.failed_files:
            lines.append("  未能导入的文件（其他文件已导入；改正后重新导入这些文件）：")
            lines.extend(f"    {f.file}：{f.reason}" for f in self.failed_files)
        return "\n".join(lines)


@dataclass(frozen=True)
class SavedVisit:
    """What :func:`save_visit` did with one visit."""

    status: SaveStatus
    resident_id: int | None
    lead_id: int | None
    masked_id: str | None
    visited_on: date
    team: str | None
    outcome: str
    services: tuple[str, ...]
    updated: Mapping[str, int]
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "inserted": self.status == "inserted",
            "resident_id": self.resident_id,
            "lead_id": self.lead_id,
            "masked_id": self.masked_id,
            "visited_on": self.visited_on.isoformat(),
            "team": self.team,
            "outcome": self.outcome,
            "outcome_label": OUTCOMES[self.outcome],
            "services": list(self.services),
            "updated": dict(self.updated),
            "warnings": list(self.warnings),
        }


# --- parsing ----------------------------------------------------------------------------


def parse_visit_key(text: object) -> VisitKey:
    """Split a visit key into its parts.

    Raises
    ------
    ValueError
        With a Chinese message when ``text`` is not a visit key.
    """
    s = nz.compact(text)
    m = _KEY_RE.match(s or "")
    if not s or m is None:
        raise ValueError(
            "编号格式不对（应为 R<人员号>-<日期>-<队> 或 L<线索号>-<日期>-<队>，"
            "如 R123-2026-12-08-A）；请勿修改路线单的编号列"
        )
    kind, num, day, team = m.groups()
    try:
        visited_on = date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"编号中的日期 {day} 无效；请勿修改路线单的编号列") from None
    n = int(num)
    return VisitKey(
        resident_id=n if kind == "R" else None,
        lead_id=n if kind == "L" else None,
        visited_on=visited_on,
        team=team,
    )


def parse_outcome(value: object) -> Outcome | None:
    """An outcome key from a key or label (``None`` when blank).

    Raises
    ------
    ValueError
        When the value is none of 完成、不在家、拒绝、迁出、死亡 (or their keys).
    """
    s = nz.compact(value)
    if s is None:
        return None
    key = _OUTCOME_LOOKUP.get(s) or _OUTCOME_LOOKUP.get(s.lower())
    if key is None:
        raise ValueError(f"无法识别的结果「{s}」；应为 {'、'.join(OUTCOMES.values())} 之一")
    return key  # type: ignore[return-value]


def parse_services(value: object) -> tuple[str, ...]:
    """Service keys from keys or labels separated by 、，,;； or spaces.

    Raises
    ------
    ValueError
        Naming the first unknown service.
    """
    if value is not None and not isinstance(value, str):
        value = "、".join(str(x) for x in value if x is not None)  # type: ignore[attr-defined]
    s = nz.text(value)
    items = [p for p in _SPLIT_RE.split(s) if p] if s else []
    out: list[str] = []
    for item in items:
        key = _SERVICE_LOOKUP.get(item) or _SERVICE_LOOKUP.get(item.lower())
        if key is None:
            raise ValueError(
                f"无法识别的服务「{item}」；可填 {'、'.join(SERVICE_LABELS.values())}"
                "（多项用顿号分隔）"
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def _show_masked(value: object) -> str | None:
    """The sheet's masked ID, masked again if someone typed a full number."""
    s = nz.compact(value)
    if s is None:
        return None
    return s if "*" in s else mask_id(s)


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


# --- effects ----------------------------------------------------------------------------


@dataclass
class _Visit:
    resident_id: int | None
    lead_id: int | None
    visited_on: date
    team: str | None
    outcome: Outcome
    services: tuple[str, ...]
    notes: str | None


@dataclass
class _Outcome:
    status: SaveStatus
    masked_id: str | None
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


def _check(v: _Visit, *, today: date) -> list[tuple[str, str | None, str]]:
    """(column, value, reason) for each rule the visit breaks (people not looked up)."""
    bad: list[tuple[str, str | None, str]] = []
    if v.visited_on > today:
        bad.append((KEY_COLUMN, v.visited_on.isoformat(), "走访日期晚于今天"))
    if v.services and v.outcome != "done":
        bad.append(
            (
                SERVICES_COLUMN,
                "、".join(SERVICE_LABELS[s] for s in v.services),
                f"结果为「{OUTCOMES[v.outcome]}」却填写了已提供服务；"
                "只有结果为「完成」时才能填写已提供服务",
            )
        )
    if v.lead_id is not None and (wrong := [s for s in v.services if s in _RESIDENT_ONLY]):
        bad.append(
            (
                SERVICES_COLUMN,
                "、".join(SERVICE_LABELS[s] for s in wrong),
                "疑似未登记人员（线索）尚未持证，不能提供辅具更换或残疾复评；"
                "如已评定办证，请填写「残疾评定办证」",
            )
        )
    return bad


def _review_note(old: str | None, note: str) -> str:
    if old and note in old:
        return old
    return f"{old}；{note}" if old else note


def _due_devices(session: Session, resident_id: int, *, by: date) -> list[t.Device]:
    """The resident's current devices due for replacement on or before ``by``.

    A device is current when it is the latest issued of its type and has no
    ``replaced_on`` (as in :func:`planner.domain.devices.due_devices`).
    """
    latest: dict[str, t.Device] = {}
    devices = select(t.Device).where(t.Device.resident_id == resident_id).order_by(t.Device.id)
    for d in session.scalars(devices):
        cur = latest.get(d.device_type)
        if cur is None or d.issued_on > cur.issued_on:
            latest[d.device_type] = d
    return [
        d
        for _, d in sorted(latest.items())
        if d.replaced_on is None and due_on(d.issued_on, d.service_years) <= by
    ]


def _apply_resident(session: Session, r: t.Resident, v: _Visit, out: _Outcome) -> None:
    changed = False
    if v.outcome == "done" and (r.last_visit is None or r.last_visit < v.visited_on):
        r.last_visit = v.visited_on
        out.counts["last_visit"] += 1
        changed = True
    if "device_replacement" in v.services:
        due = _due_devices(session, r.id, by=_month_end(v.visited_on))
        for d in due:
            d.replaced_on = v.visited_on
        out.counts["devices_replaced"] += len(due)
        if not due:
            out.warnings.append("填写了辅具更换，但该户没有到期的辅具；辅具记录未更改，请核对")
    if "reassessment" in v.services and r.reassessment_due is not None:
        r.reassessment_due = None
        out.counts["reassessment_cleared"] += 1
        changed = True
    if v.outcome in _REVIEW:
        note = f"入户反馈：{OUTCOMES[v.outcome]}（{v.visited_on.isoformat()}）"
        reason = _review_note(r.review_reason, note)
        if not r.needs_review or reason != r.review_reason:
            r.needs_review = True
            r.review_reason = reason
            out.counts["needs_review"] += 1
            changed = True
    if changed:
        r.updated_at = datetime.now()


def _apply_lead(lead: t.Lead, v: _Visit, out: _Outcome) -> None:
    rank = _LEAD_RANK.get(lead.status)
    if "certification" in v.services:
        if lead.status != "registered":
            lead.status = "registered"
            out.counts["leads_registered"] += 1
    elif v.outcome in _CONTACT and rank is not None and rank < _LEAD_RANK["visited"]:
        lead.status = "visited"
        out.counts["leads_visited"] += 1
    if v.outcome in _REVIEW:
        note = f"入户反馈：{OUTCOMES[v.outcome]}（{v.visited_on.isoformat()}）"
        reason = _review_note(lead.review_reason, note)
        if not lead.needs_review or reason != lead.review_reason:
            lead.needs_review = True
            lead.review_reason = reason
            out.counts["needs_review"] += 1


def _find(session: Session, v: _Visit) -> t.Visit | None:
    q = select(t.Visit).where(t.Visit.visited_on == v.visited_on)
    if v.resident_id is not None:
        q = q.where(t.Visit.resident_id == v.resident_id)
    else:
        q = q.where(t.Visit.lead_id == v.lead_id)
    q = q.where(t.Visit.team.is_(None) if v.team is None else t.Visit.team == v.team)
    return session.scalars(q.order_by(t.Visit.id)).first()


def _save(
    session: Session,
    v: _Visit,
    *,
    resident: t.Resident | None,
    lead: t.Lead | None,
    batch_id: int | None,
) -> _Outcome:
    """Insert (or revise) one visit and apply its effects in ``session``."""
    masked = mask_id(resident.id_number) if resident else (mask_id(lead.id_number) if lead else "")
    old = _find(session, v)
    services = list(v.services)
    if old is not None:
        if (old.outcome, sorted(old.services or []), old.notes) == (
            v.outcome,
            sorted(services),
            v.notes,
        ):
            return _Outcome("unchanged", masked or None)
        old.outcome = v.outcome
        old.services = services
        old.notes = v.notes
        old.batch_id = batch_id
        out = _Outcome("revised", masked or None)
    else:
        village = resident.village_code if resident else (lead.village_code if lead else None)
        session.add(
            t.Visit(
                resident_id=v.resident_id,
                lead_id=v.lead_id,
                village_code=village,
                visited_on=v.visited_on,
                team=v.team,
                outcome=v.outcome,
                services=services,
                notes=v.notes,
                batch_id=batch_id,
            )
        )
        out = _Outcome("inserted", masked or None)
    out.counts["visits"] += 1
    if resident is not None:
        _apply_resident(session, resident, v, out)
    if lead is not None:
        _apply_lead(lead, v, out)
    session.flush()
    return out


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {k: int(counter.get(k, 0)) for k in EFFECTS}


# --- one visit --------------------------------------------------------------------------


def save_visit(
    store: Store,
    *,
    resident_id: int | None = None,
    lead_id: int | None = None,
    visited_on: date,
    outcome: str,
    services: Iterable[str] = (),
    team: str | None = None,
    notes: str | None = None,
    today: date | None = None,
) -> SavedVisit:
    """Record one visit with the effects of :func:`import_visits`.

    Parameters
    ----------
    store
        The store.
    resident_id, lead_id
        Exactly one: the registered person or the lead visited.
    visited_on
        The day of the visit (not after ``today``).
    outcome
        A key or label of :data:`OUTCOMES`.
    services
        Keys or labels of :data:`SERVICE_LABELS` delivered (outcome done only).
    team
        The outreach team (``None`` for a visit outside the monthly outreach).
    notes
        Free text.
    today
        The current day (default: the system date).

    Returns
    -------
    SavedVisit
        ``status`` is ``inserted``, ``unchanged`` (the same person, day and team
        is already stored as given) or ``revised`` (stored with other content,
        now updated).

    Raises
    ------
    VisitError
        For an unknown person, outcome or service, or an inconsistent visit.
    """
    today = today or date.today()
    if (resident_id is None) == (lead_id is None):
        raise VisitError("请给出残疾人编号（--resident）或线索编号（--lead）之一，且只给一个")
    try:
        key = parse_outcome(outcome)
    except ValueError as exc:
        raise VisitError(str(exc), column=OUTCOME_COLUMN, value=str(outcome)) from None
    if key is None:
        raise VisitError(f"结果为空；应为 {'、'.join(OUTCOMES.values())} 之一")
    try:
        svc = parse_services(list(services))
    except ValueError as exc:
        raise VisitError(str(exc), column=SERVICES_COLUMN) from None
    v = _Visit(
        resident_id=resident_id,
        lead_id=lead_id,
        visited_on=visited_on,
        team=nz.compact(team),
        outcome=key,
        services=svc,
        notes=nz.text(notes),
    )
    bad = _check(v, today=today)
    if bad:
        column, value, reason = bad[0]
        raise VisitError(reason, column=column, value=value)
    with store.write() as s:
        resident = s.get(t.Resident, resident_id) if resident_id is not None else None
        lead = s.get(t.Lead, lead_id) if lead_id is not None else None
        if resident_id is not None and resident is None:
            raise VisitError(f"数据库中没有编号为 {resident_id} 的残疾人；请核对编号")
        if lead_id is not None and lead is None:
            raise VisitError(f"数据库中没有编号为 {lead_id} 的疑似未登记线索；请核对编号")
        out = _save(s, v, resident=resident, lead=lead, batch_id=None)
        if out.status != "unchanged":
            audit(
                s,
                action="record",
                entity="visits",
                detail={
                    "resident_id": resident_id,
                    "lead_id": lead_id,
                    "visited_on": visited_on.isoformat(),
                    "team": v.team,
                    "outcome": key,
                    "services": list(svc),
                    "status": out.status,
                },
            )
    return SavedVisit(
        status=out.status,
        resident_id=resident_id,
        lead_id=lead_id,
        masked_id=out.masked_id,
        visited_on=visited_on,
        team=v.team,
        outcome=key,
        services=svc,
        updated=_counts(out.counts),
        warnings=tuple(out.warnings),
    )


def record_visit(
    store: Store,
    *,
    resident_id: int | None = None,
    lead_id: int | None = None,
    visited_on: date,
    outcome: str,
    services: Iterable[str] = (),
    team: str | None = None,
    notes: str | None = None,
    today: date | None = None,
) -> bool:
    """Record one visit (see :func:`save_visit`); False when it already existed.

    An existing visit of the same person, day and team with other content is
    revised (and its effects applied) but still returns False.
    """
    saved = save_visit(
        store,
        resident_id=resident_id,
        lead_id=lead_id,
        visited_on=visited_on,
        outcome=outcome,
        services=services,
        team=team,
        notes=notes,
        today=today,
    )
    return saved.status == "inserted"


# --- import -----------------------------------------------------------------------------


@dataclass
class _Row:
    file: str
    line: int
    visit: _Visit
    masked_id: str | None


def _score(row: list[object]) -> int:
    return sum(1 for c in row if c is not None and header_key(c) in _KNOWN_HEADERS)


def _sheet_files(path: Path) -> list[Path]:
    if not path.exists():
        raise InputError("文件不存在", file=str(path))
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.suffix.lower() in EXCEL_SUFFIXES and not p.name.startswith("~$")
        )
        if not files:
            raise InputError("目录中没有路线单（.xlsx）", file=str(path))
        return files
    return [path]


def _problem(
    file: str, line: int, masked: str | None, column: str | None, value: object, reason: str
) -> VisitProblem:
    return VisitProblem(
        file=file,
        row=line,
        column=column,
        value=None if value is None else str(value),
        reason=reason,
        masked_id=masked,
    )


def _read_rows(
    path: Path, *, today: date
) -> tuple[list[_Row], list[VisitProblem], int, int, str, str | None]:
    """Parse one sheet: good rows, problems, data rows, blank-outcome rows, format."""
    table = read_table(path, score=_score, search_rows=_HEADER_SEARCH_ROWS)
    cols = {header_key(h): h for h in table.headers}
    missing = [c for c in (KEY_COLUMN, OUTCOME_COLUMN) if header_key(c) not in cols]
    if missing:
        raise InputError(
            f"不是入户路线单：缺少列「{'」「'.join(missing)}」；"
            "请导入 coverplan 生成的路线单（.xlsx），不要改动表头",
            file=path.name,
            row=table.header_line or None,
        )
    col = {c: cols.get(header_key(c)) for c in SHEET_COLUMNS}

    def cell(row: Any, name: str) -> Any:
        h = col[name]
        return row.values.get(h) if h else None

    good: list[_Row] = []
    problems: list[VisitProblem] = []
    blank = 0
    first: dict[tuple[object, ...], int] = {}
    for row in table.rows:
        masked = _show_masked(cell(row, MASKED_ID_COLUMN))
        problem = partial(_problem, path.name, row.line, masked)
        raw_outcome = cell(row, OUTCOME_COLUMN)
        raw_services = cell(row, SERVICES_COLUMN)
        if nz.compact(raw_outcome) is None:
            if nz.compact(raw_services) is not None:
                problems.append(
                    problem(
                        OUTCOME_COLUMN,
                        None,
                        "填写了已提供服务，但结果为空；请选择结果（完成、不在家…）",
                    )
                )
            else:
                blank += 1
            continue
        bad: list[VisitProblem] = []
        key: VisitKey | None = None
        outcome: Outcome | None = None
        services: tuple[str, ...] = ()
        raw_key = cell(row, KEY_COLUMN)
        try:
            key = parse_visit_key(raw_key)
        except ValueError as exc:
            bad.append(problem(KEY_COLUMN, nz.compact(raw_key), str(exc)))
        try:
            outcome = parse_outcome(raw_outcome)
        except ValueError as exc:
            bad.append(problem(OUTCOME_COLUMN, nz.compact(raw_outcome), str(exc)))
        try:
            services = parse_services(raw_services)
        except ValueError as exc:
            bad.append(problem(SERVICES_COLUMN, nz.text(raw_services), str(exc)))
        if key is not None and outcome is not None and not bad:
            v = _Visit(
                resident_id=key.resident_id,
                lead_id=key.lead_id,
                visited_on=key.visited_on,
                team=key.team,
                outcome=outcome,
                services=services,
                notes=nz.text(cell(row, NOTES_COLUMN)),
            )
            bad.extend(problem(c, val, reason) for c, val, reason in _check(v, today=today))
            ident = (v.resident_id, v.lead_id, v.visited_on, v.team)
            if not bad and ident in first:
                bad.append(
                    problem(KEY_COLUMN, nz.compact(raw_key), f"与第 {first[ident]} 行编号重复")
                )
            if not bad:
                first[ident] = row.line
                good.append(_Row(path.name, row.line, v, masked))
        problems.extend(bad)
    return good, problems, len(table.rows), blank, table.format, table.encoding


def import_visits(store: Store, path: Path | str, *, today: date | None = None) -> VisitImport:
    """Import filled-in route sheets (one file, or every ``.xlsx`` of a directory).

    Rows are matched by their 编号; rows with an empty 结果 are skipped (not
    visited yet); bad rows are rejected and reported with file, Excel row,
    column and reason. Each file is ONE transaction: its good rows, its
    :class:`~planner.store.schema.ImportBatch` (kind ``visits``) with its problems, and
    its audit entry. In a directory, a file that cannot be read or is not a route
    sheet is listed in ``failed_files`` with the reason and the other files are
    still imported. See the module docstring for the effects.

    Parameters
    ----------
    store
        The store.
    path
        A route sheet (``.xlsx``, as written by
        :func:`planner.reports.route_sheets.write_route_sheets`) or a directory of them.
    today
        The current day (default: the system date); later visit days are rejected.

    Raises
    ------
    InputError
        When ``path`` is missing, is a directory without sheets, or is one file
        that cannot be read or is not a route sheet (nothing stored).
    """
    today = today or date.today()
    path = Path(path)
    files = _sheet_files(path)
    totals: Counter[str] = Counter()
    status_counts: Counter[str] = Counter()
    rejected: list[VisitProblem] = []
    warnings: list[VisitProblem] = []
    failed: list[FailedFile] = []
    batch_ids: list[int] = []
    rows_total = blank_total = 0
    for f in files:
        try:
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            good, problems, n_rows, blank, fmt, encoding = _read_rows(f, today=today)
        except (InputError, OSError) as exc:
            if not path.is_dir():
                raise
            reason = str(exc) if isinstance(exc, InputError) else f"无法读取：{exc.strerror}"
            failed.append(FailedFile(file=str(f), reason=reason))
            continue
        done = _import_sheet(
            store,
            f,
            digest=digest,
            good=good,
            problems=problems,
            rows=n_rows - blank,
            fmt=fmt,
            encoding=encoding,
        )
        rows_total += n_rows
        blank_total += blank
        totals.update(done.totals)
        status_counts.update(done.status)
        rejected.extend(done.problems)
        warnings.extend(done.warnings)
        batch_ids.append(done.batch_id)
    result = VisitImport(
        files=tuple(str(f) for f in files),
        rows=rows_total,
        stored=status_counts["inserted"] + status_counts["revised"],
        inserted=status_counts["inserted"],
        revised=status_counts["revised"],
        unchanged=status_counts["unchanged"],
        skipped_blank=blank_total,
        rejected=tuple(rejected),
        warnings=tuple(warnings),
        updated=_counts(totals),
        batch_ids=tuple(batch_ids),
        failed_files=tuple(failed),
    )
    if result.stored + result.unchanged + result.skipped_blank + result.rejected_rows != (
        result.rows
    ):  # an invariant, not a user error
        raise AssertionError(f"visit import counts do not add up: {result}")
    return result


@dataclass
class _SheetDone:
    batch_id: int
    status: Counter[str]
    totals: Counter[str]
    problems: list[VisitProblem]
    warnings: list[VisitProblem]


def _import_sheet(
    store: Store,
    f: Path,
    *,
    digest: str,
    good: list[_Row],
    problems: list[VisitProblem],
    rows: int,
    fmt: str,
    encoding: str | None,
) -> _SheetDone:
    """Write one parsed sheet in one transaction: its visits, batch, problems, audit."""
    started = datetime.now()
    totals: Counter[str] = Counter()
    file_status: Counter[str] = Counter()
    warnings: list[VisitProblem] = []
    problems = list(problems)
    with store.write() as s:
        batch = t.ImportBatch(
            kind="visits",
            file=f.name,
            sha256=digest,
            format=fmt,
            encoding=encoding,
            crs="-",
            rows=0,
            stored=0,
            inserted=0,
            updated=0,
            unchanged=0,
            rejected=0,
            needs_review=0,
            started_at=started,
            finished_at=started,
        )
        s.add(batch)
        s.flush()
        ids_r = {r.visit.resident_id for r in good if r.visit.resident_id is not None}
        ids_l = {r.visit.lead_id for r in good if r.visit.lead_id is not None}
        residents = {
            r.id: r
            for r in s.scalars(
                select(t.Resident).where(t.Resident.id.in_(ids_r)).order_by(t.Resident.id)
            )
        }
        leads = {
            x.id: x
            for x in s.scalars(select(t.Lead).where(t.Lead.id.in_(ids_l)).order_by(t.Lead.id))
        }
        file_review = 0
        for r in good:
            v = r.visit
            resident = residents.get(v.resident_id) if v.resident_id is not None else None
            lead = leads.get(v.lead_id) if v.lead_id is not None else None
            if resident is None and lead is None:
                what = (
                    f"残疾人（编号 {v.resident_id}）"
                    if v.resident_id is not None
                    else f"疑似未登记线索（编号 {v.lead_id}）"
                )
                problems.append(
                    VisitProblem(
                        f.name,
                        r.line,
                        KEY_COLUMN,
                        visit_key(
                            resident_id=v.resident_id,
                            lead_id=v.lead_id,
                            visited_on=v.visited_on,
                            team=v.team or "",
                        ),
                        f"数据库中没有该{what}；路线单是否来自另一个数据库？",
                        r.masked_id,
                    )
                )
                continue
            out = _save(s, v, resident=resident, lead=lead, batch_id=batch.id)
            file_status[out.status] += 1
            file_review += int(out.counts["needs_review"] > 0)
            totals.update(out.counts)
            warnings.extend(
                VisitProblem(f.name, r.line, SERVICES_COLUMN, None, w, out.masked_id)
                for w in out.warnings
            )
        problems.sort(key=lambda p: p.row)
        for p in problems:
            s.add(
                t.ImportProblem(
                    batch_id=batch.id,
                    line=p.row,
                    column=p.column,
                    value=p.value,
                    action="rejected",
                    reason=p.reason,
                )
            )
        batch.rows = rows
        batch.inserted = file_status["inserted"]
        batch.updated = file_status["revised"]
        batch.unchanged = file_status["unchanged"]
        batch.stored = batch.inserted + batch.updated + batch.unchanged
        batch.rejected = len({p.row for p in problems})
        batch.needs_review = file_review
        batch.finished_at = datetime.now()
        audit(
            s,
            action="import",
            entity="visits",
            detail={
                "batches": [batch.id],
                "files": [f.name],
                "inserted": file_status["inserted"],
                "revised": file_status["revised"],
                "effects": _counts(totals),
            },
        )
        batch_id = batch.id
    return _SheetDone(
        batch_id=batch_id, status=file_status, totals=totals, problems=problems, warnings=warnings
    )
