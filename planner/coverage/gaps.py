"""Gaps: where eligible people are out of reach, and where policy is poorly applied.

Coverage gaps rank villages by the eligible persons of a facility type who are
neither served within capacity nor on home services (the places given by the
nearest-first rule, :mod:`planner.coverage.nearest_first`), and split them into
those within reach but without a place and those out of reach. Policy gaps count, per
village, persons whose entitlements are not met: grade 1–2 without the severe
care subsidy, 低保/低边 households without the living subsidy, devices past
their service life, and home visits overdue. The policy score is the weighted
number of persons affected (weights in ``[gaps]`` of the TOML); every part is
shown next to it, so the ranking is transparent. The outreach calendar uses it.

Frames in (as :mod:`planner.store.frames` returns them), frames out:
:func:`planner.services.coverage.gaps` reads the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from planner.coverage.nearest_first import RULE_ZH
from planner.coverage.result import CoverageResult
from planner.domain.eligibility import POOR, SEVERE_GRADES
from planner.jsonable import records
from planner.settings import Config
from planner.units import PERCENT

POLICY_PARTS = ("severe_without_care", "poor_without_living", "devices_overdue", "visits_overdue")
PART_LABELS = {
    "severe_without_care": "一二级未享受护理补贴",
    "poor_without_living": "低保低边未享受生活补贴",
    "devices_overdue": "辅具超期未更换",
    "visits_overdue": "入户走访超期",
}
RATE_DECIMALS = 1
SCORE_DECIMALS = 2


@dataclass(frozen=True)
class Gaps:
    """Coverage gaps and policy gaps.

    Attributes
    ----------
    coverage
        One row per (village, type) with unmet demand, ranked within each type
        by ``unmet`` (then village code): ``type, rank, village_code,
        village_name, town_name, eligible, home_service, covered,
        covered_within_capacity, unmet, off_network, not_located,
        in_reach_no_place, out_of_reach`` (persons; ``unmet`` = eligible −
        home_service − covered_within_capacity = ``in_reach_no_place`` (within
        the threshold, no place left for them: covered − covered_within_capacity)
        + ``out_of_reach`` (beyond the threshold or unreachable: eligible −
        home_service − covered); ``off_network`` and ``not_located`` are the
        part of ``out_of_reach`` whose point is beyond ``snap_max_m`` of the
        road network or missing).
    policy
        One row per village, ranked by ``score``: ``rank, village_code,
        village_name, town_name, residents``, then for each part its count and
        its rate per 100 residents, then ``score``.
    off_network, not_located
        As in :class:`~planner.coverage.result.CoverageResult`: points beyond the snap
        limit and villages without any point.
    """

    coverage: pd.DataFrame
    policy: pd.DataFrame
    off_network: tuple[dict[str, Any], ...] = ()
    not_located: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_coverage(
        cls, result: CoverageResult, policy: pd.DataFrame, *, types: list[str] | None = None
    ) -> Gaps:
        """The coverage gaps of ``result`` (:func:`coverage_gaps`) next to ``policy``
        (:func:`policy_gaps`), with the result's off-network and not-located lists."""
        return cls(
            coverage=coverage_gaps(result, types=types),
            policy=policy,
            off_network=result.off_network,
            not_located=result.not_located,
        )

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        """``coverage_gaps`` (the first ``top`` per type), ``policy_gaps`` (the first
        ``top``), ``policy_weights_parts``, ``off_network``, ``not_located``, and
        ``assignment_rule`` (the rule that gave the places, in Chinese)."""
        cov = self.coverage if top is None else self.coverage.groupby("type").head(top)
        pol = self.policy if top is None else self.policy.head(top)
        return {
            "coverage_gaps": records(cov),
            "policy_gaps": records(pol),
            "policy_weights_parts": list(POLICY_PARTS),
            "off_network": list(self.off_network),
            "not_located": list(self.not_located),
            "assignment_rule": RULE_ZH,
        }


#: The person counts of a coverage-gap row (:func:`coverage_gaps`), in column order.
GAP_COUNTS = (
    "eligible",
    "home_service",
    "covered",
    "covered_within_capacity",
    "unmet",
    "off_network",
    "not_located",
    "in_reach_no_place",
    "out_of_reach",
)


def coverage_gaps(result: CoverageResult, *, types: list[str] | None = None) -> pd.DataFrame:
    """Villages ranked by unmet eligible demand, per facility type (columns: :class:`Gaps`)."""
    v = result.villages
    if types:
        v = v[v["type"].isin(types)]
    v = v.assign(
        unmet=v["eligible"] - v["home_service"] - v["covered_within_capacity"],
        in_reach_no_place=v["covered"] - v["covered_within_capacity"],
        out_of_reach=v["eligible"] - v["home_service"] - v["covered"],
    )
    v = v[v["unmet"] > 0].sort_values(
        ["type", "unmet", "village_code"], ascending=[True, False, True]
    )
    v = v.assign(rank=v.groupby("type").cumcount() + 1)
    cols = ["type", "rank", "village_code", "village_name", "town_name", *GAP_COUNTS]
    return v[cols].reset_index(drop=True)


def policy_gaps(
    residents: pd.DataFrame,
    villages: pd.DataFrame,
    *,
    devices_overdue: Iterable[int],
    config: Config,
    today: date,
) -> pd.DataFrame:
    """Per-village policy-gap counts, rates and the weighted score.

    Parameters
    ----------
    residents
        As :func:`planner.store.frames.residents_frame` (index: resident id);
        residents awaiting village review are left out.
    villages
        As :func:`planner.store.frames.villages_frame`: one row per village
        (every village gets a row, with zeros where nobody lives).
    devices_overdue
        Resident id of each current device past its service life on ``today``
        (one per device: :func:`planner.domain.devices.due_in_frame` with
        ``within_days=0``).
    config
        ``[gaps] visit_overdue_days`` and ``weights``.
    today
        The reference day, for overdue visits.

    Returns
    -------
    pandas.DataFrame
        Ranked by ``score`` (then village code): ``rank, village_code,
        village_name, town_name, residents``, then for each part of
        :data:`POLICY_PARTS` its count (persons; devices for
        ``devices_overdue``) and ``<part>_per_100`` (per 100 residents, one
        decimal), then ``score`` (weighted persons, two decimals).
    """
    res = residents[residents["village_code"].notna()]
    places = villages.set_index("code")
    has_care = res["care_subsidy"].fillna(False).astype(bool)
    has_living = res["living_subsidy"].fillna(False).astype(bool)
    severe = res["grade"].isin(SEVERE_GRADES) & ~has_care
    poor = res["low_income"].isin(POOR) & ~has_living
    cutoff = pd.Timestamp(today - timedelta(days=config.gaps.visit_overdue_days))
    visits = pd.to_datetime(res["last_visit"])
    overdue_visit = visits.isna() | (visits < cutoff)
    due_ids = pd.Series(list(devices_overdue), dtype="int64")
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
        .reindex(places.index)
        .fillna(0)
        .astype(int)
    )
    return _ranked(frame, places=places, config=config)


def _ranked(frame: pd.DataFrame, *, places: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Score, rates per 100 residents, names and rank of the per-village counts."""
    weights = config.gaps.weights
    frame["score"] = sum(weights.get(p, 0.0) * frame[p] for p in POLICY_PARTS)
    for p in POLICY_PARTS:
        frame[f"{p}_per_100"] = (
            PERCENT * frame[p] / frame["residents"].where(frame["residents"] > 0)
        ).round(RATE_DECIMALS)
    frame["village_name"] = places["name"]
    frame["town_name"] = places["town_name"]
    frame = frame.rename_axis("village_code").reset_index()
    frame = frame.sort_values(["score", "village_code"], ascending=[False, True]).reset_index(
        drop=True
    )
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame["score"] = frame["score"].round(SCORE_DECIMALS)
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
