"""Household accessibility retrofits (无障碍改造进家庭) and accessible-community candidates.

Frames in, a typed :class:`RetrofitPlan` out (no store, no files):
:mod:`~planner.retrofit.scores` (each person's priority points),
:mod:`~planner.retrofit.families` (candidate families, ranked by their best
member), :mod:`~planner.retrofit.plan` (this year's selection, the plan's
indicator 符合条件残疾人家庭无障碍改造率 before and after, per town) and
:mod:`~planner.retrofit.communities` (villages ranked for the next accessible
communities). The store is read by
:func:`planner.services.retrofit.retrofit`; files are written by
:mod:`planner.reports.retrofit`.
"""

from planner.retrofit.communities import (
    ACCESSIBLE_COMMUNITY,
    COMMUNITY_COLUMNS,
    community_candidates,
)
from planner.retrofit.families import HOUSEHOLD_COLUMNS, MEMBER_KEYS, rank_families
from planner.retrofit.plan import (
    TOWN_RATE_COLUMNS,
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
    "MEMBER_KEYS",
    "PARTS",
    "PART_LABELS",
    "TOWN_RATE_COLUMNS",
    "RetrofitPlan",
    "RetrofitRate",
    "StoppedBy",
    "check_limits",
    "check_year",
    "community_candidates",
    "plan_from_frames",
    "rank_families",
    "retrofit_scores",
]
