"""Household accessibility retrofits (无障碍改造进家庭) and accessible-community candidates.

Frames in, a typed :class:`RetrofitPlan` out (no store, no files):
:mod:`~planner.retrofit.scores` (who is a candidate, priority points),
:mod:`~planner.retrofit.plan` (ranking, this year's selection, the 十四五
retrofit rate before and after) and :mod:`~planner.retrofit.communities` (villages
ranked for the next accessible communities). The store is read by
:func:`planner.services.retrofit.retrofit`; files are written by
:mod:`planner.reports.retrofit`.
"""

from planner.retrofit.communities import (
    ACCESSIBLE_COMMUNITY,
    COMMUNITY_COLUMNS,
    community_candidates,
)
from planner.retrofit.plan import (
    HOUSEHOLD_COLUMNS,
    RetrofitPlan,
    RetrofitRate,
    StoppedBy,
    check_limits,
    plan_from_frames,
)
from planner.retrofit.scores import PART_LABELS, PARTS, check_year, retrofit_scores

__all__ = [
    "ACCESSIBLE_COMMUNITY",
    "COMMUNITY_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "PARTS",
    "PART_LABELS",
    "RetrofitPlan",
    "RetrofitRate",
    "StoppedBy",
    "check_limits",
    "check_year",
    "community_candidates",
    "plan_from_frames",
    "retrofit_scores",
]
