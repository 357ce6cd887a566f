"""Gaps: where eligible people are out of reach, and where policy is poorly applied.

Coverage gaps rank villages by the eligible persons of a facility type who are
neither served within capacity nor on home services. Policy gaps count, per
village, persons whose entitlements are not met: grade 1–2 without the severe
care subsidy, 低保/低边 households without the living subsidy, devices past
their service life, and home visits overdue. The policy score is the weighted
number of persons affected (weights in ``[gaps]`` of the TOML); every part is
shown next to it, so the ranking is transparent. The outreach calendar uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from planner.coverage.engine import CoverageResult
from planner.domain.devices import due_devices
from planner.domain.eligibility import POOR, SEVERE_GRADES
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import residents_frame, villages_frame

POLICY_PARTS = ("severe_without_care", "poor_without_living", "devices_overdue", "visits_overdue")
PART_LABELS = {
    "severe_without_care": "一二级未享受护理补贴",
    "poor_without_living": "低保低边未享受生活补贴",
    "devices_overdue": "辅具超期未更换",
    "visits_overdue": "入户走访超期",
}


@dataclass(frozen=True)
class Gaps:
    """Coverage gaps and policy gaps.

    Attributes
    ----------
    coverage
        One row per (village, type) with unmet demand, ranked within each type:
        ``type, rank, village_code, village_name, town_name, eligible,
        home_service, covered, covered_within_capacity, unmet, off_network,
        not_located`` (persons; ``unmet`` = eligible − home_service −
        covered_within_capacity; ``off_network`` and ``not_located`` are the
        part of ``unmet`` whose point is beyond ``snap_max_m`` of the road
        network or missing).
    policy
        One row per village, ranked by ``score``: ``rank, village_code,
        village_name, town_name, residents``, then for each part its count and
        its rate per 100 residents, then ``score``.
    off_network, not_located
        As in :class:`~planner.coverage.engine.CoverageResult`: points beyond the snap
        limit and villages without any point.
    """

    coverage: pd.DataFrame
    policy: pd.DataFrame
    off_network: tuple[dict[str, Any], ...] = ()
    not_located: tuple[dict[str, Any], ...] = ()

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        cov = self.coverage if top is None else self.coverage.groupby("type").head(top)
        pol = self.policy if top is None else self.policy.head(top)
        return {
            "coverage_gaps": _records(cov),
            "policy_gaps": _records(pol),
            "policy_weights_parts": list(POLICY_PARTS),
            "off_network": list(self.off_network),
            "not_located": list(self.not_located),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if isinstance(v, float) and v != v else v) for k, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]


def coverage_gaps(result: CoverageResult, *, types: list[str] | None = None) -> pd.DataFrame:
    """Villages ranked by unmet eligible demand, per facility type."""
    v = result.villages
    if types:
        v = v[v["type"].isin(types)]
    v = v.assign(unmet=v["eligible"] - v["home_service"] - v["covered_within_capacity"])
    v = v[v["unmet"] > 0].sort_values(
        ["type", "unmet", "village_code"], ascending=[True, False, True]
    )
    v = v.assign(rank=v.groupby("type").cumcount() + 1)
    cols = [
        "type",
        "rank",
        "village_code",
        "village_name",
        "town_name",
        "eligible",
        "home_service",
        "covered",
        "covered_within_capacity",
        "unmet",
        "off_network",
        "not_located",
    ]
    return v[cols].reset_index(drop=True)


def policy_gaps(store: Store, *, config: Config, today: date) -> pd.DataFrame:
    """Per-village policy-gap counts, rates and the weighted score."""
    res = residents_frame(store)
    res = res[res["village_code"].notna()]
    villages = villages_frame(store).set_index("code")
    has_care = res["care_subsidy"].fillna(False).astype(bool)
    has_living = res["living_subsidy"].fillna(False).astype(bool)
    severe = res["grade"].isin(SEVERE_GRADES) & ~has_care
    poor = res["low_income"].isin(POOR) & ~has_living
    cutoff = pd.Timestamp(today - timedelta(days=config.gaps.visit_overdue_days))
    visits = pd.to_datetime(res["last_visit"])
    overdue_visit = visits.isna() | (visits < cutoff)
    with store.read() as s:
        due = due_devices(s, today=today, within_days=0)
    due_ids = pd.Series([d.resident_id for d in due], dtype="int64")
    device_village = due_ids.map(res["village_code"]).dropna()
    frame = (
        pd.DataFrame(
            {
                "residents": res.groupby("village_code").size(),
                "severe_without_care": severe.groupby(res["village_code"]).sum(),
                "poor_without_living": poor.groupby(res["village_code"]).sum(),
                "visits_overdue": overdue_visit.groupby(res["village_code"]).sum(),
                "devices_overdue": device_village.value_counts(),
            }
        )
        .reindex(villages.index)
        .fillna(0)
        .astype(int)
    )
    weights = config.gaps.weights
    frame["score"] = sum(weights.get(p, 0.0) * frame[p] for p in POLICY_PARTS)
    for p in POLICY_PARTS:
        frame[f"{p}_per_100"] = (
            100.0 * frame[p] / frame["residents"].where(frame["residents"] > 0)
        ).round(1)
    frame["village_name"] = villages["name"]
    frame["town_name"] = villages["town_name"]
    frame = frame.rename_axis("village_code").reset_index()
    frame = frame.sort_values(["score", "village_code"], ascending=[False, True]).reset_index(
        drop=True
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["score"] = frame["score"].round(2)
    cols = [
        "rank",
        "village_code",
        "village_name",
        "town_name",
        "residents",
        *[c for p in POLICY_PARTS for c in (p, f"{p}_per_100")],
        "score",
    ]
    return frame[cols]


def find_gaps(
    store: Store,
    *,
    config: Config,
    result: CoverageResult,
    types: list[str] | None = None,
) -> Gaps:
    """Coverage gaps from ``result`` and policy gaps from the store."""
    return Gaps(
        coverage=coverage_gaps(result, types=types),
        policy=policy_gaps(store, config=config, today=result.today),
        off_network=result.off_network,
        not_located=result.not_located,
    )
