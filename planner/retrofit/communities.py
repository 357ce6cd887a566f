"""Accessible-community candidates (无障碍社区): villages ranked by who would benefit.

Accessible communities are a village-level status: villages are ranked by the
residents who would benefit (the ``accessible_community`` facility type's
eligibility), among villages that are not one yet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.domain.eligibility import SEVERE_GRADES, eligible_mask
from planner.errors import ConfigError, InputError
from planner.retrofit.scores import awaiting_review, check_year, flag, numbers, reference_day
from planner.settings import Config

__all__ = ["ACCESSIBLE_COMMUNITY", "COMMUNITY_COLUMNS", "community_candidates"]

#: Facility type whose presence in a village makes it an accessible community.
ACCESSIBLE_COMMUNITY = "accessible_community"
COMMUNITY_COLUMNS = (
    "rank",
    "village_code",
    "village_name",
    "town_name",
    "beneficiaries",
    "wheelchair_users",
    "severe",
)


def community_candidates(
    residents: pd.DataFrame,
    *,
    villages: pd.DataFrame,
    facilities: pd.DataFrame,
    config: Config,
    year: int,
    top: int | None = None,
) -> pd.DataFrame:
    """Villages ranked as candidates for the next accessible communities (无障碍社区).

    Parameters
    ----------
    residents
        As for :func:`retrofit_scores` (residents awaiting review are not counted).
    villages
        Columns ``code, name, town_name``.
    facilities
        Columns ``type, village_code``; villages with an ``accessible_community``
        facility are not candidates.
    config
        The ``accessible_community`` facility type's eligibility (who benefits)
        and ``[retrofit] communities_top``.
    year
        The plan year (ages for the eligibility rule are taken on 31 December).
    top
        Villages returned (default ``communities_top``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMMUNITY_COLUMNS`, villages with at least one beneficiary.

    Raises
    ------
    ConfigError
        When no ``accessible_community`` facility type is configured.
    """
    check_year(year)
    ft = config.facility_types.get(ACCESSIBLE_COMMUNITY)
    if ft is None:
        raise ConfigError(
            f"配置中没有设施类型「{ACCESSIBLE_COMMUNITY}」（无障碍社区），无法确定受益人群；"
            "请在 [facility_types.accessible_community] 中配置其 eligibility"
        )
    limit = config.retrofit.communities_top if top is None else top
    if limit < 0:
        raise InputError("候选村社数不能为负数", value=str(limit))
    is_acc = facilities["type"] == ACCESSIBLE_COMMUNITY
    already = set(facilities.loc[is_acc, "village_code"].dropna())
    people = residents[~awaiting_review(residents)]
    people = people[~people["village_code"].isin(already)]
    people = people[eligible_mask(people, ft.eligibility, today=reference_day(year))]
    frame = pd.DataFrame(
        {
            "village_code": people["village_code"].to_numpy(),
            "wheelchair_users": flag(people["wheelchair"]),
            "severe": numbers(people["grade"]).isin(SEVERE_GRADES).to_numpy(),
        }
    )
    agg = frame.groupby("village_code").agg(
        beneficiaries=("village_code", "size"),
        wheelchair_users=("wheelchair_users", "sum"),
        severe=("severe", "sum"),
    )
    agg = agg.astype(int).reset_index()
    agg = agg.sort_values(
        ["beneficiaries", "wheelchair_users", "severe", "village_code"],
        ascending=[False, False, False, True],
        kind="mergesort",
    ).head(limit)
    info = villages.set_index("code")
    agg["village_name"] = agg["village_code"].map(info["name"])
    agg["town_name"] = agg["village_code"].map(info["town_name"])
    agg.insert(0, "rank", np.arange(1, len(agg) + 1))
    return agg[list(COMMUNITY_COLUMNS)].reset_index(drop=True)
