"""Retrofit candidates as families (残疾人家庭): one row per family, ranked.

Families are found by :data:`planner.domain.families.FAMILY_RULE` (户号, else
the same house in the same village, else alone) among the residents not
awaiting review. A family is *done* when its latest retrofit on record (any
member's, up to the plan year) is less than ``repeat_after_years`` old; every
other family is a candidate.

Ranking rule: each member is scored (:func:`~planner.retrofit.scores.retrofit_scores`)
and the members are ordered by score (descending), then grade (ascending, most
severe first; unknown last), then resident id. A family's **lead** is its first
member in that order; the family takes the lead's score, grade and score parts
and ranks where its lead ranks (so the family ranking is the person ranking with
each family kept at its best member). Deterministic whatever the input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.domain.families import awaiting_review, family_keys, family_number
from planner.domain.privacy import mask_id
from planner.domain.retrofit_rate import family_table
from planner.retrofit.scores import PARTS, SCORE_DECIMALS, needy, numbers, retrofit_scores
from planner.settings import Config

__all__ = ["HOUSEHOLD_COLUMNS", "MEMBER_KEYS", "RankedFamilies", "rank_families"]

HOUSEHOLD_COLUMNS = (
    "rank",
    "resident_id",
    "masked_id",
    "village_code",
    "village_name",
    "town_name",
    "category",
    "category_label",
    "grade",
    "retrofit_year",
    "indicator",
    "score",
    *(f"{p}_pts" for p in PARTS),
    "cost",
    "selected",
    "household_id",
    "family_basis",
    "member_count",
    "members",
    "eligible_member",
    "retrofit_counted",
)
#: Keys of each member in a family's ``members``.
MEMBER_KEYS = (
    "resident_id",
    "masked_id",
    "category",
    "category_label",
    "grade",
    "score",
    "indicator",
)


@dataclass(frozen=True)
class RankedFamilies:
    """The candidate families ranked, and every counted family.

    Attributes
    ----------
    households
        The candidates, ranked: :data:`HOUSEHOLD_COLUMNS` without ``cost`` and
        ``selected`` (the plan adds them), indexed by the lead's resident id.
    families
        Every family of the counted residents
        (:func:`planner.domain.retrofit_rate.family_table`), indexed by family key.
    family_of
        The family key of each household row (same index as ``households``).
    """

    households: pd.DataFrame
    families: pd.DataFrame
    family_of: pd.Series

    @property
    def done(self) -> int:
        """Families retrofitted less than ``repeat_after_years`` ago (not candidates)."""
        return len(self.families) - len(self.households)


def _ranked_order(
    score: NDArray[np.float64], grade: NDArray[np.float64], ids: NDArray[Any]
) -> NDArray[np.intp]:
    """Positions sorted by score desc, grade asc (unknown last), then id asc."""
    g = np.where(np.isnan(grade), np.inf, grade)
    return np.lexsort((ids, g, -np.round(score, SCORE_DECIMALS)))


def _done(families: pd.DataFrame, *, year: int, repeat_after_years: int) -> NDArray[np.bool_]:
    last = families["last_retrofit"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(last) & (year - last < repeat_after_years)


def _members(
    people: pd.DataFrame, scores: pd.DataFrame, masked: list[str], *, config: Config
) -> pd.DataFrame:
    """The scored members, in rank order: :data:`MEMBER_KEYS` columns."""
    grade = numbers(people["grade"])
    return pd.DataFrame(
        {
            "resident_id": people.index.to_numpy(),
            "masked_id": masked,
            "category": people["category"].to_numpy(),
            "category_label": [config.category_label(str(c)) for c in people["category"]],
            "grade": [None if pd.isna(g) else int(g) for g in grade],
            "score": scores["score"].round(SCORE_DECIMALS).to_numpy(),
            "indicator": needy(people, config),
        },
        index=people.index,
    )


def rank_families(
    residents: pd.DataFrame, *, villages: pd.DataFrame, config: Config, year: int
) -> RankedFamilies:
    """Rank this year's candidate families (see the module's ranking rule).

    Parameters
    ----------
    residents
        As for :func:`~planner.retrofit.scores.retrofit_scores`, plus, when
        known, ``household_id`` (户号) and ``address`` (for grouping only) and
        ``id_number`` (for the masked IDs only).
    villages
        Columns ``code, name, town_name``.
    config
        ``[retrofit]``, ``[indicators]`` (who makes a family eligible) and ``[privacy]``.
    year
        The plan year.
    """
    scores = retrofit_scores(residents, config=config, year=year)
    counted = residents[~awaiting_review(residents)]
    keys = family_keys(counted)
    families = family_table(counted, config, year=year, keys=keys)
    done = _done(families, year=year, repeat_after_years=config.retrofit.repeat_after_years)
    scores = scores[keys.loc[scores.index].isin(families.index[~done]).to_numpy()]
    people = residents.loc[scores.index]
    order = _ranked_order(
        scores["score"].to_numpy(dtype=float),
        numbers(people["grade"]).to_numpy(dtype=float),
        np.asarray(people.index),
    )
    scores, people = scores.iloc[order], people.iloc[order]
    ids = people["id_number"] if "id_number" in people.columns else pd.Series(None, people.index)
    masked = [mask_id(n if isinstance(n, str) else None, privacy=config.privacy) for n in ids]
    members = _members(people, scores, masked, config=config)
    member_family = keys.loc[people.index]
    lead = ~member_family.duplicated().to_numpy()
    households = _household_rows(
        people[lead], scores[lead], members, member_family, families, villages, config
    )
    return RankedFamilies(
        households=households,
        families=families,
        family_of=pd.Series(member_family[lead].to_numpy(), index=households.index),
    )


def _household_rows(
    leads: pd.DataFrame,
    lead_scores: pd.DataFrame,
    members: pd.DataFrame,
    member_family: pd.Series,
    families: pd.DataFrame,
    villages: pd.DataFrame,
    config: Config,
) -> pd.DataFrame:
    """One row per family, from its lead and its members (both in rank order)."""
    fam_keys = member_family.loc[leads.index].to_numpy()
    fam = families.loc[fam_keys]
    info = villages.set_index("code")
    by_family: dict[object, list[dict[str, Any]]] = {}
    records = members[list(MEMBER_KEYS)].to_dict(orient="records")
    for key, record in zip(member_family.to_numpy(), records, strict=True):
        by_family.setdefault(key, []).append({str(k): v for k, v in record.items()})
    member_lists = [tuple(by_family[k]) for k in fam_keys]
    eligible_member = [
        next((m["masked_id"] for m in ms if m["indicator"]), "") for ms in member_lists
    ]
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(leads) + 1),
            "resident_id": leads.index.to_numpy(),
            "masked_id": members.loc[leads.index, "masked_id"].to_numpy(),
            "village_code": fam["village_code"].to_numpy(),
            "village_name": fam["village_code"].map(info["name"]).to_numpy(),
            "town_name": fam["village_code"].map(info["town_name"]).to_numpy(),
            "category": leads["category"].to_numpy(),
            "category_label": members.loc[leads.index, "category_label"].to_numpy(),
            "grade": numbers(leads["grade"]).to_numpy(),
            "retrofit_year": fam["last_retrofit"].to_numpy(dtype=float),
            "indicator": fam["eligible"].to_numpy(dtype=bool),
            "score": lead_scores["score"].round(SCORE_DECIMALS).to_numpy(),
            **{f"{p}_pts": lead_scores[f"{p}_pts"].to_numpy() for p in PARTS},
            "household_id": [
                mask_id(family_number(str(k)), privacy=config.privacy) for k in fam_keys
            ],
            "family_basis": fam["basis"].to_numpy(),
            "member_count": fam["members"].to_numpy(dtype=int),
            "members": member_lists,
            "eligible_member": eligible_member,
            "retrofit_counted": fam["retrofitted"].to_numpy(dtype=bool),
        },
        index=leads.index,
    )
    if out["grade"].notna().all():
        out["grade"] = out["grade"].astype(int)
    return out
