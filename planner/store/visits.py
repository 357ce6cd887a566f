"""Write home visits and apply their effects (what next month's plan reads).

- a :class:`~planner.store.schema.Visit` row per visit, once: the same person
  (resident or lead), day and team is stored once; a visit that differs from the
  stored one (outcome, services or notes) revises it and applies the effects of
  the new content; effects already applied are never undone.
- outcome 完成 (done): ``Resident.last_visit`` moves to the visit day when later.
- 辅具更换 delivered: the resident's current devices due by the end of the
  visit's month get ``replaced_on`` = the visit day (a warning when none is due).
- 残疾复评 delivered: ``Resident.reassessment_due`` is cleared.
- 残疾评定办证 delivered to a lead: ``Lead.status = registered``; any contact
  (完成 or 拒绝) raises a lead to at least ``visited``.
- outcome 迁出/死亡: the person is flagged ``needs_review`` with the reason
  "入户反馈：迁出（2026-12-08）"; nobody is deleted.
- a corrected point (the sheet's 更正位置 columns, WGS-84 by now): kept on the
  visit and stored as the recorded point (``recorded_lon``/``recorded_lat``/
  ``recorded_on``) of every resident of the household (the same 户号 in the
  village, else the same address) or of the lead, unless a later visit recorded
  one; a register import never writes these columns, so the next plan uses the
  point (``point_source = "recorded"``) whatever registers come after. A point
  farther than ``[import] household_point_max_km`` from the village rejects the row.

The resident's ``content_hash`` is left alone, so re-importing an unchanged
register keeps these effects. :func:`record_visit` writes one visit typed in by
hand, :func:`write_visit_sheet` one route sheet; each is one transaction.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.graph import haversine_m
from planner.domain.devices import due_on
from planner.domain.privacy import mask_id
from planner.domain.visits import (
    CONTACT_OUTCOMES,
    EFFECTS,
    KEY_COLUMN,
    REVIEW_OUTCOMES,
    Visit,
    lead_before,
    month_end,
    review_note,
    visit_key,
)
from planner.errors import VisitError
from planner.settings import PrivacyConfig
from planner.store import schema as t
from planner.store.batches import (
    BatchCounts,
    BatchSource,
    Problem,
    add_problems,
    finish_batch,
    start_batch,
)
from planner.store.core import Store, audit
from planner.units import METRES_PER_KM, LeadStatus, VisitOutcome

__all__ = [
    "SaveStatus",
    "SavedRow",
    "SheetRow",
    "SheetWritten",
    "effect_counts",
    "record_visit",
    "write_visit_sheet",
]

SaveStatus = Literal["inserted", "revised", "unchanged"]


@dataclass
class SavedRow:
    """What saving one visit did: its status, the person's masked ID, effects, warnings."""

    status: SaveStatus
    masked_id: str | None
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SheetRow:
    """A good row of a route sheet: its Excel row, the visit, the sheet's masked ID,
    and the column its corrected point came from (None: no point)."""

    line: int
    visit: Visit
    masked_id: str | None
    point_column: str | None = None


@dataclass(frozen=True)
class SheetWarning:
    """A stored row with something to check (e.g. a device replacement with no device due)."""

    line: int
    reason: str
    masked_id: str | None


@dataclass(frozen=True)
class SheetWritten:
    """What :func:`write_visit_sheet` did with one sheet.

    ``problems`` are the sheet's rejected rows (the parser's and the unknown
    people's), sorted by row, as stored; ``masked`` gives the masked ID of the
    rows it rejected for an unknown person.
    """

    batch_id: int
    status: Counter[str]
    effects: Counter[str]
    problems: tuple[Problem, ...]
    unknown_masked: dict[int, str | None]
    warnings: tuple[SheetWarning, ...]


def effect_counts(counter: Counter[str]) -> dict[str, int]:
    """Every effect of :data:`planner.domain.visits.EFFECTS`, 0 when absent."""
    return {k: int(counter.get(k, 0)) for k in EFFECTS}


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


def _apply_resident(session: Session, r: t.Resident, v: Visit, out: SavedRow) -> None:
    changed = False
    if v.outcome == VisitOutcome.DONE and (r.last_visit is None or r.last_visit < v.visited_on):
        r.last_visit = v.visited_on
        out.counts["last_visit"] += 1
        changed = True
    if "device_replacement" in v.services:
        due = _due_devices(session, r.id, by=month_end(v.visited_on))
        for d in due:
            d.replaced_on = v.visited_on
        out.counts["devices_replaced"] += len(due)
        if not due:
            out.warnings.append("填写了辅具更换，但该户没有到期的辅具；辅具记录未更改，请核对")
    if "reassessment" in v.services and r.reassessment_due is not None:
        r.reassessment_due = None
        out.counts["reassessment_cleared"] += 1
        changed = True
    if v.outcome in REVIEW_OUTCOMES:
        reason = review_note(r.review_reason, v)
        if not r.needs_review or reason != r.review_reason:
            r.needs_review = True
            r.review_reason = reason
            out.counts["needs_review"] += 1
            changed = True
    if changed:
        r.updated_at = datetime.now()


def _apply_lead(lead: t.Lead, v: Visit, out: SavedRow) -> None:
    if "certification" in v.services:
        if lead.status != LeadStatus.REGISTERED:
            lead.status = LeadStatus.REGISTERED.value
            out.counts["leads_registered"] += 1
    elif v.outcome in CONTACT_OUTCOMES and lead_before(lead.status, LeadStatus.VISITED):
        lead.status = LeadStatus.VISITED.value
        out.counts["leads_visited"] += 1
    if v.outcome in REVIEW_OUTCOMES:
        reason = review_note(lead.review_reason, v)
        if not lead.needs_review or reason != lead.review_reason:
            lead.needs_review = True
            lead.review_reason = reason
            out.counts["needs_review"] += 1


def _household(session: Session, r: t.Resident) -> list[t.Resident]:
    """The residents of ``r``'s household: the same 户号 in its village, else the same
    address in its village (spaces ignored), else ``r`` alone."""
    if r.village_code is None:
        return [r]
    hid = (r.household_id or "").strip()
    address = "".join((r.address or "").split())
    if not hid and not address:
        return [r]
    q = select(t.Resident).where(t.Resident.village_code == r.village_code)
    out = []
    for other in session.scalars(q.order_by(t.Resident.id)):
        if hid:
            same = (other.household_id or "").strip() == hid
        else:
            same = not (other.household_id or "").strip() and (
                "".join((other.address or "").split()) == address
            )
        if same or other.id == r.id:
            out.append(other)
    return out


def _record_point(
    session: Session,
    people: Sequence[t.Resident] | Sequence[t.Lead],
    v: Visit,
    out: SavedRow,
) -> None:
    """Store the visit's corrected point for ``people`` (a household, or a lead),
    unless a later visit recorded one already."""
    if v.point is None:
        return
    lon, lat = v.point
    changed = 0
    for p in people:
        if p.recorded_on is not None and p.recorded_on > v.visited_on:
            continue
        if (p.recorded_lon, p.recorded_lat, p.recorded_on) != (lon, lat, v.visited_on):
            p.recorded_lon, p.recorded_lat, p.recorded_on = lon, lat, v.visited_on
            changed += 1
    if changed:
        out.counts["points_recorded"] += 1
    elif all(p.recorded_on is not None and p.recorded_on > v.visited_on for p in people):
        out.warnings.append("该户已有更晚走访记录的位置，本次填写的更正位置未覆盖它")


def village_reference(session: Session, code: str | None) -> tuple[float, float] | None:
    """The village's point (WGS-84): its committee point, else a point inside its boundary."""
    if code is None:
        return None
    village = session.get(t.Village, code)
    if village is None:
        return None
    if village.lon is not None and village.lat is not None:
        return float(village.lon), float(village.lat)
    if village.polygon:
        p = shape(json.loads(village.polygon)).representative_point()
        return float(p.x), float(p.y)
    return None


def point_problem(
    session: Session, v: Visit, village_code: str | None, *, max_km: float | None
) -> str | None:
    """Why the visit's corrected point cannot be the household's (None: it can):
    farther than ``max_km`` from its village's point (``[import] household_point_max_km``)."""
    if v.point is None or max_km is None:
        return None
    ref = village_reference(session, village_code)
    if ref is None:
        return None
    km = float(haversine_m(v.point[0], v.point[1], ref[0], ref[1])) / METRES_PER_KM
    if km <= max_km:
        return None
    return (
        f"更正位置距所属村社 {km:.1f} 公里，超过 [import] household_point_max_km"
        f"（{max_km:g} 公里）；坐标系是否选对（高德坐标填「更正位置（高德坐标）」，"
        "手机 GPS 填经纬度两列）？"
    )


def _find(session: Session, v: Visit) -> t.Visit | None:
    q = select(t.Visit).where(t.Visit.visited_on == v.visited_on)
    if v.resident_id is not None:
        q = q.where(t.Visit.resident_id == v.resident_id)
    else:
        q = q.where(t.Visit.lead_id == v.lead_id)
    q = q.where(t.Visit.team.is_(None) if v.team is None else t.Visit.team == v.team)
    return session.scalars(q.order_by(t.Visit.id)).first()


def _save(
    session: Session,
    v: Visit,
    *,
    resident: t.Resident | None,
    lead: t.Lead | None,
    batch_id: int | None,
    privacy: PrivacyConfig | None,
) -> SavedRow:
    """Insert (or revise) one visit and apply its effects in ``session``."""
    person = resident if resident is not None else lead
    masked = mask_id(person.id_number, privacy=privacy) if person is not None else ""
    old = _find(session, v)
    services = list(v.services)
    outcome = VisitOutcome(v.outcome).value
    lon, lat = v.point if v.point is not None else (None, None)
    if old is not None:
        if (old.outcome, sorted(old.services or []), old.notes, old.lon, old.lat) == (
            outcome,
            sorted(services),
            v.notes,
            lon,
            lat,
        ):
            return SavedRow("unchanged", masked or None)
        old.outcome = outcome
        old.services = services
        old.notes = v.notes
        old.lon, old.lat = lon, lat
        old.batch_id = batch_id
        out = SavedRow("revised", masked or None)
    else:
        village = resident.village_code if resident else (lead.village_code if lead else None)
        session.add(
            t.Visit(
                resident_id=v.resident_id,
                lead_id=v.lead_id,
                village_code=village,
                visited_on=v.visited_on,
                team=v.team,
                outcome=outcome,
                services=services,
                notes=v.notes,
                lon=lon,
                lat=lat,
                batch_id=batch_id,
            )
        )
        out = SavedRow("inserted", masked or None)
    out.counts["visits"] += 1
    if resident is not None:
        _apply_resident(session, resident, v, out)
        _record_point(session, _household(session, resident), v, out)
    if lead is not None:
        _apply_lead(lead, v, out)
        _record_point(session, [lead], v, out)
    session.flush()
    return out


def record_visit(
    store: Store,
    v: Visit,
    *,
    privacy: PrivacyConfig | None = None,
    point_max_km: float | None = None,
) -> SavedRow:
    """Write one visit typed in by hand, with its effects and audit entry, in one transaction.

    ``point_max_km``: the farthest a corrected point may lie from its village
    (``[import] household_point_max_km``; None: not checked).

    Raises
    ------
    VisitError
        When the resident or lead does not exist, or the corrected point lies too
        far from the village (nothing written).
    """
    with store.write() as s:
        resident = s.get(t.Resident, v.resident_id) if v.resident_id is not None else None
        lead = s.get(t.Lead, v.lead_id) if v.lead_id is not None else None
        if v.resident_id is not None and resident is None:
            raise VisitError(f"数据库中没有编号为 {v.resident_id} 的残疾人；请核对编号")
        if v.lead_id is not None and lead is None:
            raise VisitError(f"数据库中没有编号为 {v.lead_id} 的疑似未登记线索；请核对编号")
        person = resident if resident is not None else lead
        assert person is not None
        why = point_problem(s, v, person.village_code, max_km=point_max_km)
        if why:
            raise VisitError(why)
        out = _save(s, v, resident=resident, lead=lead, batch_id=None, privacy=privacy)
        if out.status != "unchanged":
            audit(
                s,
                action="record",
                entity="visits",
                detail={
                    "resident_id": v.resident_id,
                    "lead_id": v.lead_id,
                    "visited_on": v.visited_on.isoformat(),
                    "team": v.team,
                    "outcome": VisitOutcome(v.outcome).value,
                    "services": list(v.services),
                    "status": out.status,
                },
            )
    return out


def _unknown_person(row: SheetRow) -> Problem:
    v = row.visit
    what = (
        f"残疾人（编号 {v.resident_id}）"
        if v.resident_id is not None
        else f"疑似未登记线索（编号 {v.lead_id}）"
    )
    key = visit_key(
        resident_id=v.resident_id, lead_id=v.lead_id, visited_on=v.visited_on, team=v.team or ""
    )
    return Problem(
        row.line,
        KEY_COLUMN,
        key,
        "rejected",
        f"数据库中没有该{what}；路线单是否来自另一个数据库？",
    )


def _people(
    session: Session, rows: Sequence[SheetRow]
) -> tuple[dict[int, t.Resident], dict[int, t.Lead]]:
    ids_r = {r.visit.resident_id for r in rows if r.visit.resident_id is not None}
    ids_l = {r.visit.lead_id for r in rows if r.visit.lead_id is not None}
    residents = {
        r.id: r
        for r in session.scalars(
            select(t.Resident).where(t.Resident.id.in_(ids_r)).order_by(t.Resident.id)
        )
    }
    leads = {
        x.id: x
        for x in session.scalars(select(t.Lead).where(t.Lead.id.in_(ids_l)).order_by(t.Lead.id))
    }
    return residents, leads


def write_visit_sheet(
    store: Store,
    source: BatchSource,
    rows: Sequence[SheetRow],
    *,
    problems: Sequence[Problem],
    data_rows: int,
    privacy: PrivacyConfig | None = None,
    point_max_km: float | None = None,
) -> SheetWritten:
    """Write one parsed route sheet in one transaction: visits, batch, problems, audit.

    Parameters
    ----------
    source
        The sheet file (kind ``visits``).
    rows
        Its good rows; a row naming a person the store lacks is rejected here.
    problems
        The rows the parser rejected.
    data_rows
        The sheet's filled-in rows (blank outcomes excluded): the batch's ``rows``.
    privacy
        ``[privacy]`` settings for the masked ID numbers.
    point_max_km
        The farthest a corrected point may lie from its village, km (``[import]
        household_point_max_km``; None: not checked); a row beyond is rejected.
    """
    status: Counter[str] = Counter()
    effects: Counter[str] = Counter()
    warnings: list[SheetWarning] = []
    rejected = list(problems)
    unknown: dict[int, str | None] = {}
    with store.write() as s:
        batch = start_batch(s, source)
        residents, leads = _people(s, rows)
        review_rows = 0
        for r in rows:
            v = r.visit
            resident = residents.get(v.resident_id) if v.resident_id is not None else None
            lead = leads.get(v.lead_id) if v.lead_id is not None else None
            if resident is None and lead is None:
                rejected.append(_unknown_person(r))
                unknown[r.line] = r.masked_id
                continue
            person = resident if resident is not None else lead
            why = point_problem(s, v, getattr(person, "village_code", None), max_km=point_max_km)
            if why and v.point is not None:
                value = f"{v.point[0]},{v.point[1]}（WGS-84）"
                rejected.append(Problem(r.line, r.point_column, value, "rejected", why))
                unknown[r.line] = r.masked_id
                continue
            out = _save(s, v, resident=resident, lead=lead, batch_id=batch.id, privacy=privacy)
            status[out.status] += 1
            review_rows += int(out.counts["needs_review"] > 0)
            effects.update(out.counts)
            warnings.extend(SheetWarning(r.line, w, out.masked_id) for w in out.warnings)
        rejected.sort(key=lambda p: p.line)
        add_problems(s, batch.id, rejected)
        counts = BatchCounts(
            rows=data_rows,
            stored=status["inserted"] + status["revised"] + status["unchanged"],
            inserted=status["inserted"],
            updated=status["revised"],
            unchanged=status["unchanged"],
            rejected=len({p.line for p in rejected}),
            needs_review=review_rows,
        )
        finish_batch(
            s,
            batch,
            counts,
            audit_detail={
                "batches": [batch.id],
                "files": [source.file],
                "inserted": status["inserted"],
                "revised": status["revised"],
                "effects": effect_counts(effects),
            },
        )
        batch_id = batch.id
    return SheetWritten(
        batch_id=batch_id,
        status=status,
        effects=effects,
        problems=tuple(rejected),
        unknown_masked=unknown,
        warnings=tuple(warnings),
    )
