"""Who needs what from the monthly outreach, per person and per village.

Targeted services (``[outreach.services]``): device replacement for devices
past their service life, medication supervision, stroke after-care,
re-assessment when due, certification of suspected unregistered persons
(open leads). Device and re-assessment services are done at home for people
who cannot come (``home_if``: bedridden, wheelchair users); the others come to
the service point, as do people with policy gaps (subsidies not received).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from planner.domain.devices import due_devices
from planner.domain.eligibility import POOR, SEVERE_GRADES
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame

POINT_SERVICES = {
    "device_assessment": "辅具评估适配",
    "reassessment": "残疾复评",
    "policy_check": "政策咨询（补贴未享受）",
}
MONTHS_SINCE_CAP = 24
SCORE_PARTS = (  # the parts of a village's need score, weighted by [outreach.weights]
    "devices_overdue",
    "supervised_medication",
    "stroke_aftercare",
    "reassessment_due",
    "leads_open",
    "policy_gap",
    "months_since",
)
DAYS_PER_MONTH = 30.44

HOME_COLUMNS = [
    "key",
    "resident_id",
    "lead_id",
    "village_code",
    "lon",
    "lat",
    "services",
    "minutes",
    "skills",
    "priority",
]


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _flags(frame: pd.DataFrame, names: list[str]) -> pd.Series:
    out = pd.Series(False, index=frame.index)
    for n in names:
        out |= frame[n].fillna(False).astype(bool)
    return out


@dataclass(frozen=True)
class _Masks:
    """Who needs what by ``end``, one boolean per resident of ``res``."""

    device: pd.Series  # a current device past its service life
    medication: pd.Series
    stroke: pd.Series
    reassess: pd.Series  # re-assessment falling due
    at_home: pd.Series  # cannot come to the point (``home_if``)

    def home(self) -> dict[str, pd.Series]:
        """Per home service, who needs it at home."""
        return {
            "device_replacement": self.device & self.at_home,
            "medication_supervision": self.medication,
            "stroke_rehab": self.stroke,
            "reassessment": self.reassess & self.at_home,
        }


def _masks(store: Store, res: pd.DataFrame, *, config: Config, start: date, end: date) -> _Masks:
    with store.read() as s:
        due = due_devices(s, today=start, within_days=(end - start).days)
    return _Masks(
        device=res["id"].isin({d.resident_id for d in due}),
        medication=res["supervised_medication"].fillna(False).astype(bool),
        stroke=res["stroke_aftercare"].fillna(False).astype(bool),
        reassess=pd.to_datetime(res["reassessment_due"]).le(pd.Timestamp(end)).fillna(False),
        at_home=_flags(res, config.outreach.home_if),
    )


def person_needs(
    store: Store, *, config: Config, villages: list[str], start: date, end: date | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Home visits and service-point invitations for ``villages``.

    Parameters
    ----------
    store
        The store.
    config
        ``[outreach]`` services, ``home_if``.
    villages
        Village codes.
    start, end
        The period: devices due and re-assessments falling due by ``end``
        (default: the end of ``start``'s month) count.

    Returns
    -------
    home : pandas.DataFrame
        One row per household to visit: ``key`` (``R<resident id>`` or
        ``L<lead id>``), ``resident_id``, ``lead_id``, ``village_code``,
        ``lon``, ``lat`` (WGS-84; the village point when the household has
        none), ``services`` (keys), ``minutes`` (service time), ``skills``
        (set), ``priority`` (highest of its services).
    invited : pandas.DataFrame
        ``resident_id, village_code, service`` per invitation to the point.
    """
    end = end or _month_end(start)
    oc = config.outreach
    res = residents_frame(store)
    res = res[res["village_code"].isin(villages) & ~res["needs_review"].fillna(False)]
    vp = villages_frame(store).set_index("code")
    with store.read() as s:
        leads = s.execute(
            select(t.Lead.id, t.Lead.village_code)
            .where(t.Lead.village_code.in_(villages), t.Lead.status.in_(["open", "visited"]))
            .order_by(t.Lead.id)
        ).all()
    masks = _masks(store, res, config=config, start=start, end=end)
    needs = masks.home()
    rows = []
    for rid, r in zip(res.index.astype(int), res.to_dict(orient="records"), strict=True):
        services = [k for k, m in needs.items() if k in oc.services and bool(m.at[rid])]
        if not services:
            continue
        own = pd.notna(r["lon"]) and pd.notna(r["lat"])
        rows.append(
            {
                "key": f"R{rid}",
                "resident_id": rid,
                "lead_id": None,
                "village_code": r["village_code"],
                "lon": float(r["lon"] if own else vp.at[r["village_code"], "lon"]),
                "lat": float(r["lat"] if own else vp.at[r["village_code"], "lat"]),
                "services": services,
            }
        )
    if "certification" in oc.services:
        for lid, vcode in leads:
            rows.append(
                {
                    "key": f"L{int(lid)}",
                    "resident_id": None,
                    "lead_id": int(lid),
                    "village_code": vcode,
                    "lon": float(vp.at[vcode, "lon"]),
                    "lat": float(vp.at[vcode, "lat"]),
                    "services": ["certification"],
                }
            )
    home = pd.DataFrame(rows, columns=HOME_COLUMNS[:7])
    home["minutes"] = [sum(oc.services[s].minutes for s in sv) for sv in home["services"]]
    home["skills"] = [  # type: ignore[assignment]
        frozenset(oc.services[s].skill for s in sv if oc.services[s].skill)
        for sv in home["services"]
    ]
    home["priority"] = [max(oc.services[s].priority for s in sv) for sv in home["services"]]
    home = home.sort_values(["village_code", "key"]).reset_index(drop=True)

    has_care = res["care_subsidy"].fillna(False).astype(bool)
    has_living = res["living_subsidy"].fillna(False).astype(bool)
    policy = (res["grade"].isin(SEVERE_GRADES) & ~has_care) | (
        res["low_income"].isin(POOR) & ~has_living
    )
    point = {
        "device_assessment": masks.device & ~masks.at_home,
        "reassessment": masks.reassess & ~masks.at_home,
        "policy_check": policy,
    }
    invited = pd.concat(
        [
            pd.DataFrame(
                {
                    "resident_id": res.index[m.to_numpy()].astype(int),
                    "village_code": res.loc[m.to_numpy(), "village_code"].to_numpy(),
                    "service": key,
                }
            )
            for key, m in point.items()
        ],
        ignore_index=True,
    )
    return home, invited


def village_needs(store: Store, *, config: Config, today: date, horizon_days: int) -> pd.DataFrame:
    """Need score parts per village for the calendar.

    Counts of persons (devices past or reaching their service life within
    ``horizon_days``, supervised medication, stroke after-care, re-assessments
    due, open leads), the village's policy-gap score (:mod:`planner.coverage.gaps`),
    and months since its last outreach visit (capped at 24). ``score`` is the
    weighted sum (``[outreach.weights]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by village code: ``village_name, town_code, town_name``, one
        column per part, ``home_visits`` (households needing a home visit,
        for the day capacity) and ``score``.
    """
    from planner.coverage.gaps import policy_gaps
    from planner.domain.devices import due_in_frame
    from planner.store.frames import devices_frame

    villages = villages_frame(store).set_index("code")
    res = residents_frame(store)
    res = res[res["village_code"].notna() & ~res["needs_review"].fillna(False)]
    horizon = today + timedelta(days=horizon_days)
    with store.read() as s:
        leads = s.execute(
            select(t.Lead.village_code)
            .where(t.Lead.status.in_(["open", "visited"]))
            .order_by(t.Lead.id)
        ).all()
        last = s.execute(
            select(t.Visit.village_code, t.Visit.visited_on)
            .where(t.Visit.team.is_not(None))
            .order_by(t.Visit.id)
        ).all()
    v = res["village_code"]
    m = _masks(store, res, config=config, start=today, end=horizon)
    at_home_any = pd.concat(m.home(), axis=1).any(axis=1)
    parts = pd.DataFrame(
        {
            "devices_overdue": m.device.groupby(v).sum(),
            "supervised_medication": m.medication.groupby(v).sum(),
            "stroke_aftercare": m.stroke.groupby(v).sum(),
            "reassessment_due": m.reassess.groupby(v).sum(),
            "home_visits": at_home_any.groupby(v).sum(),
        }
    ).reindex(villages.index, fill_value=0)
    lead_counts = pd.Series([c for (c,) in leads], dtype=object).value_counts()
    parts["leads_open"] = lead_counts.reindex(villages.index, fill_value=0).astype(int)
    parts["home_visits"] += parts["leads_open"]
    due = due_in_frame(devices_frame(store), today=today, within_days=0)
    pg = policy_gaps(
        residents_frame(store),
        villages_frame(store),
        devices_overdue=[d.resident_id for d in due],
        config=config,
        today=today,
    ).set_index("village_code")["score"]
    parts["policy_gap"] = pg.reindex(villages.index, fill_value=0.0)
    latest: dict[str, date] = {}
    for code, day in last:
        if code and (code not in latest or day > latest[code]):
            latest[code] = day
    months = [
        min(MONTHS_SINCE_CAP, (today - latest[c]).days / DAYS_PER_MONTH)
        if c in latest
        else MONTHS_SINCE_CAP
        for c in villages.index
    ]
    parts["months_since"] = np.round(months, 1)
    parts["last_outreach"] = [latest.get(c) for c in villages.index]
    w = config.outreach.weights
    parts["score"] = sum(  # type: ignore[union-attr]
        w.get(k, 0.0) * parts[k].astype(float) for k in SCORE_PARTS
    ).round(2)
    parts.insert(0, "village_name", villages["name"])
    parts.insert(1, "town_code", villages["town_code"])
    parts.insert(2, "town_name", villages["town_name"])
    return parts
