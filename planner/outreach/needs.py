"""Who needs what from the monthly outreach, per person and per village.

Targeted services (``[outreach.services]``): device replacement for devices
past their service life, medication supervision, stroke after-care,
re-assessment when due, certification of suspected unregistered persons
(open leads). Device and re-assessment services are done at home for people
who cannot come (``home_if``: bedridden, wheelchair users); the others come to
the service point, as do people with policy gaps (subsidies not received).

Frames in (the store's, see :mod:`planner.store.outreach` and
:mod:`planner.store.frames`), frames out: nothing here queries the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from planner.domain.eligibility import POOR, SEVERE_GRADES
from planner.settings import Config

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


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
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


def _masks(res: pd.DataFrame, *, devices_due: pd.DataFrame, config: Config, end: date) -> _Masks:
    """Who needs what by ``end`` (devices of ``devices_due`` due by then count)."""
    due = devices_due["resident_id"][devices_due["due_on"] <= end]
    return _Masks(
        device=res["id"].isin(set(due)),
        medication=res["supervised_medication"].fillna(False).astype(bool),
        stroke=res["stroke_aftercare"].fillna(False).astype(bool),
        reassess=pd.to_datetime(res["reassessment_due"]).le(pd.Timestamp(end)).fillna(False),
        at_home=_flags(res, config.outreach.home_if),
    )


def person_needs(
    residents: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    leads: pd.DataFrame,
    devices_due: pd.DataFrame,
    config: Config,
    codes: Sequence[str],
    start: date,
    end: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Home visits and service-point invitations for the villages ``codes``.

    Parameters
    ----------
    residents
        :func:`planner.store.frames.residents_frame` (indexed by resident id).
    villages
        :func:`planner.store.frames.villages_frame` (``code``, ``lon``, ``lat``, WGS-84).
    leads
        Leads still to certify, ``id, village_code`` in id order
        (:func:`planner.store.outreach.leads_to_visit`).
    devices_due
        Current devices due by at least ``end``: ``resident_id, due_on``
        (:func:`planner.store.outreach.devices_due`).
    config
        ``[outreach]`` services, ``home_if``.
    codes
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
    end = end or month_end(start)
    reviewed = ~residents["needs_review"].fillna(False)
    res = residents[residents["village_code"].isin(codes) & reviewed]
    masks = _masks(res, devices_due=devices_due, config=config, end=end)
    here = leads[leads["village_code"].isin(codes)]
    home = _home_visits(res, villages.set_index("code"), here, masks=masks, config=config)
    return home, _invitations(res, masks)


def _home_visits(
    res: pd.DataFrame, vp: pd.DataFrame, leads: pd.DataFrame, *, masks: _Masks, config: Config
) -> pd.DataFrame:
    """The ``home`` frame of :func:`person_needs`."""
    oc = config.outreach
    needs = masks.home()
    vlon, vlat = vp["lon"].to_dict(), vp["lat"].to_dict()  # the village point, WGS-84
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
                "lon": float(r["lon"] if own else vlon[r["village_code"]]),
                "lat": float(r["lat"] if own else vlat[r["village_code"]]),
                "services": services,
            }
        )
    if "certification" in oc.services:
        for lid, vcode in zip(leads["id"], leads["village_code"], strict=True):
            rows.append(
                {
                    "key": f"L{int(lid)}",
                    "resident_id": None,
                    "lead_id": int(lid),
                    "village_code": vcode,
                    "lon": float(vlon[vcode]),
                    "lat": float(vlat[vcode]),
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
    return home.sort_values(["village_code", "key"]).reset_index(drop=True)


def _invitations(res: pd.DataFrame, masks: _Masks) -> pd.DataFrame:
    """The ``invited`` frame of :func:`person_needs`."""
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
    return pd.concat(
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


def village_needs(
    residents: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    leads: pd.DataFrame,
    team_visits: pd.DataFrame,
    devices_due: pd.DataFrame,
    policy_gap: pd.Series,
    config: Config,
    today: date,
    horizon_days: int,
) -> pd.DataFrame:
    """Need score parts per village for the calendar.

    Counts of persons (devices past or reaching their service life within
    ``horizon_days``, supervised medication, stroke after-care, re-assessments
    due, open leads), the village's policy-gap score (:mod:`planner.coverage.gaps`),
    and months since its last outreach visit (capped at 24). ``score`` is the
    weighted sum (``[outreach.weights]``).

    Parameters
    ----------
    residents, villages
        :func:`planner.store.frames.residents_frame` and
        :func:`~planner.store.frames.villages_frame`.
    leads
        Every lead still to certify: ``village_code``
        (:func:`planner.store.outreach.leads_to_visit`).
    team_visits
        Visits of the outreach teams: ``village_code, visited_on``
        (:func:`planner.store.outreach.team_visits`).
    devices_due
        Current devices due by at least ``today + horizon_days``: ``resident_id, due_on``.
    policy_gap
        Policy-gap score per village code (``score`` of
        :func:`planner.coverage.gaps.policy_gaps`); missing villages score 0.
    config
        ``[outreach]`` weights, services and ``home_if``.
    today, horizon_days
        Reference day and the days ahead that count.

    Returns
    -------
    pandas.DataFrame
        Indexed by village code: ``village_name, town_code, town_name``, one
        column per part, ``home_visits`` (households needing a home visit,
        for the day capacity), ``last_outreach`` (date or None) and ``score``.
    """
    vf = villages.set_index("code")
    res = residents[residents["village_code"].notna() & ~residents["needs_review"].fillna(False)]
    horizon = today + timedelta(days=horizon_days)
    v = res["village_code"]
    m = _masks(res, devices_due=devices_due, config=config, end=horizon)
    at_home_any = pd.concat(m.home(), axis=1).any(axis=1)
    parts = pd.DataFrame(
        {
            "devices_overdue": m.device.groupby(v).sum(),
            "supervised_medication": m.medication.groupby(v).sum(),
            "stroke_aftercare": m.stroke.groupby(v).sum(),
            "reassessment_due": m.reassess.groupby(v).sum(),
            "home_visits": at_home_any.groupby(v).sum(),
        }
    ).reindex(vf.index, fill_value=0)
    lead_counts = pd.Series(list(leads["village_code"]), dtype=object).value_counts()
    parts["leads_open"] = lead_counts.reindex(vf.index, fill_value=0).astype(int)
    parts["home_visits"] += parts["leads_open"]
    parts["policy_gap"] = policy_gap.reindex(vf.index, fill_value=0.0)
    latest = _last_outreach(team_visits)
    months = [
        min(MONTHS_SINCE_CAP, (today - latest[c]).days / DAYS_PER_MONTH)
        if c in latest
        else MONTHS_SINCE_CAP
        for c in vf.index
    ]
    parts["months_since"] = np.round(months, 1)
    parts["last_outreach"] = [latest.get(c) for c in vf.index]
    w = config.outreach.weights
    parts["score"] = sum(  # type: ignore[union-attr]
        w.get(k, 0.0) * parts[k].astype(float) for k in SCORE_PARTS
    ).round(2)
    parts.insert(0, "village_name", vf["name"])
    parts.insert(1, "town_code", vf["town_code"])
    parts.insert(2, "town_name", vf["town_name"])
    return parts


def _last_outreach(team_visits: pd.DataFrame) -> dict[str, date]:
    """Village code → day of its latest outreach visit."""
    latest: dict[str, date] = {}
    for code, day in zip(team_visits["village_code"], team_visits["visited_on"], strict=True):
        if code and (code not in latest or day > latest[code]):
            latest[code] = day
    return latest
