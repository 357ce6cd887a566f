"""This year's household accessibility retrofits (无障碍改造进家庭): rank, select, rate.

Candidates (:mod:`planner.retrofit.scores`) are ranked by score (descending),
then grade (ascending, most severe first), then resident id, so the ranking is
deterministic. The ranked list is taken from the top until the quota or the
budget (``cost_per_household`` each) is exhausted, whichever comes first.

The 十四五 indicator 困难重度残疾人家庭无障碍改造率 is the share of 困难重度
households (低保 or 低边 **and** grade 1–2, not awaiting review) that have a
retrofit on record (any year up to the plan year), before and after this
year's selection. The ranking is by score, so the selection may include
households outside that group: the plan reports both the indicator and the
total selected.

Outputs never contain names, phones or addresses; ID numbers only masked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from planner.domain.privacy import mask_id
from planner.errors import InputError
from planner.jsonable import records
from planner.retrofit.communities import community_candidates
from planner.retrofit.scores import (
    PARTS,
    SCORE_DECIMALS,
    awaiting_review,
    done_recently,
    needy,
    numbers,
    on_record,
    retrofit_scores,
)
from planner.settings import Config
from planner.units import PERCENT

__all__ = [
    "HOUSEHOLD_COLUMNS",
    "RetrofitPlan",
    "RetrofitRate",
    "StoppedBy",
    "check_limits",
    "plan_from_frames",
]

_PCT_DECIMALS = 2
# Money is compared in fen (分), exactly.
_FEN_PER_YUAN = 100

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
)
StoppedBy = Literal["quota", "budget", "candidates"]


@dataclass(frozen=True)
class RetrofitRate:
    """The 困难重度残疾人家庭无障碍改造率 at one moment.

    Attributes
    ----------
    eligible
        困难重度 households: 低保/低边 and grade 1–2, not awaiting review.
    retrofitted
        Of those, households with a retrofit on record.
    target_pct
        The 十四五 target, percent (``[indicators] retrofit_pct``).
    """

    eligible: int
    retrofitted: int
    target_pct: float

    @property
    def pct(self) -> float | None:
        """``retrofitted / eligible`` in percent (None when nobody is eligible)."""
        if not self.eligible:
            return None
        return round(PERCENT * self.retrofitted / self.eligible, _PCT_DECIMALS)

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (None when nobody is eligible)."""
        pct = self.pct
        return None if pct is None else pct >= self.target_pct

    def to_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "retrofitted": self.retrofitted,
            "pct": self.pct,
            "target_pct": self.target_pct,
            "met": self.met,
        }


@dataclass(frozen=True)
class RetrofitPlan:
    """This year's household retrofit selection and accessible-community candidates.

    Attributes
    ----------
    households
        Every candidate, ranked, indexed by resident id. Columns
        (:data:`HOUSEHOLD_COLUMNS`): ``rank`` (1 = first), ``resident_id``,
        ``masked_id`` (ID number masked per ``[privacy]``; empty when unknown),
        ``village_code``, ``village_name``, ``town_name``, ``category`` (key),
        ``category_label`` (Chinese), ``grade`` (1–4), ``retrofit_year`` (an
        earlier retrofit, at least ``repeat_after_years`` ago; NaN if none),
        ``indicator`` (a 困难重度 household), ``score`` (points) and one
        ``<part>_pts`` column per part of :data:`PARTS`, ``cost`` (yuan) and
        ``selected`` (retrofitted this year).
    communities
        The top ``communities_top`` villages that are not accessible communities,
        ranked by ``beneficiaries`` (residents the accessible community would
        serve, not awaiting review), then ``wheelchair_users``, then ``severe``
        (grade 1–2 among them), then village code. Columns
        (:data:`COMMUNITY_COLUMNS`): ``rank, village_code, village_name,
        town_name, beneficiaries, wheelchair_users, severe``.
    before, after
        The indicator before and after this year's selection.
    year
        The plan year.
    quota
        Households a year at most.
    budget
        Yuan available, or None for no budget limit.
    cost_per_household
        Yuan per household.
    cost
        Yuan spent by the selection.
    stopped_by
        What ended the selection: ``quota``, ``budget`` or ``candidates`` (all
        candidates selected).
    done
        Households retrofitted less than ``repeat_after_years`` before ``year``
        (not candidates).
    awaiting_review
        Residents excluded because their record awaits review.
    """

    households: pd.DataFrame
    communities: pd.DataFrame
    before: RetrofitRate
    after: RetrofitRate
    year: int
    quota: int
    budget: float | None
    cost_per_household: float
    cost: float
    stopped_by: StoppedBy
    done: int
    awaiting_review: int

    @property
    def selected(self) -> pd.DataFrame:
        """The selected households, in rank order."""
        return self.households[self.households["selected"]]

    @property
    def selected_indicator(self) -> int:
        """Selected households that are 困难重度 and had no retrofit on record."""
        sel = self.selected
        return int((sel["indicator"] & sel["retrofit_year"].isna()).sum())

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (no names; masked IDs only)."""
        return {
            "year": self.year,
            "quota": self.quota,
            "budget": self.budget,
            "cost_per_household": self.cost_per_household,
            "cost": self.cost,
            "stopped_by": self.stopped_by,
            "candidates": len(self.households),
            "done": self.done,
            "awaiting_review": self.awaiting_review,
            "selected_count": len(self.selected),
            "selected": records(self.selected),
            "before": self.before.to_json(),
            "after": {
                **self.after.to_json(),
                "selected_households": len(self.selected),
                "selected_indicator_households": self.selected_indicator,
            },
            "communities": records(self.communities),
            "parts": list(PARTS),
        }

    def text(self, *, top: int) -> str:
        """A short Chinese summary: the first ``top`` households, cost, rate, communities."""
        sel = self.selected
        budget = "不限" if self.budget is None else f"{self.budget:,.0f} 元"
        why = {"quota": "名额用完", "budget": "预算用完", "candidates": "候选户已全部入选"}
        lines = [
            f"{self.year} 年家庭无障碍改造：候选 {len(self.households)} 户"
            f"（{self.done} 户改造未满期限，{self.awaiting_review} 人待核查，均不计）",
            f"入选 {len(sel)} 户（名额 {self.quota}，预算 {budget}），"
            f"费用 {self.cost:,.0f} 元；{why[self.stopped_by]}",
        ]
        if len(sel):
            lines.append(f"前 {min(top, len(sel))} 户（得分高者优先）：")
            for r in sel.head(top).itertuples():
                lines.append(
                    f"  {r.rank:>3}. {r.town_name}{r.village_name}  {r.category_label}{r.grade}级"
                    f"  {r.masked_id}  {r.score:g} 分"
                )

        def rate(r: RetrofitRate) -> str:
            return "—" if r.pct is None else f"{r.pct:.1f}%"

        met = {True: "达标", False: "未达标", None: "—"}[self.after.met]
        lines.append(
            f"困难重度残疾人家庭无障碍改造率：{rate(self.before)} → {rate(self.after)}"
            f"（目标 {self.after.target_pct:g}%，{met}；符合条件 {self.after.eligible} 户，"
            f"已改造 {self.before.retrofitted} → {self.after.retrofitted}；"
            f"本次入选 {len(sel)} 户中 {self.selected_indicator} 户计入该指标）"
        )
        if len(self.communities):
            lines.append("无障碍社区候选（尚未创建的村社，按受益人数）：")
            for c in self.communities.itertuples():
                lines.append(
                    f"  {c.rank:>3}. {c.town_name}{c.village_name}  受益 {c.beneficiaries} 人"
                    f"（轮椅 {c.wheelchair_users}，一二级 {c.severe}）"
                )
        else:
            lines.append("无障碍社区候选：无")
        return "\n".join(lines)


def _ranked_order(
    score: NDArray[np.float64], grade: NDArray[np.float64], ids: NDArray[Any]
) -> NDArray[np.intp]:
    """Positions sorted by score desc, grade asc (unknown last), then id asc."""
    g = np.where(np.isnan(grade), np.inf, grade)
    return np.lexsort((ids, g, -np.round(score, SCORE_DECIMALS)))


def check_limits(quota: int, budget: float | None) -> None:
    if quota < 0:
        raise InputError("改造名额不能为负数；请给出 0 或正整数，如 --quota 122", value=str(quota))
    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise InputError(
            "预算应为不小于 0 的金额（元），如 --budget 976000；不限预算时请省略该项",
            value=str(budget),
        )


def _how_many(
    candidates: int, *, quota: int, budget: float | None, cost_per_household: float
) -> tuple[int, StoppedBy]:
    limits: list[tuple[int, StoppedBy]] = [(candidates, "candidates"), (quota, "quota")]
    if budget is not None:
        fen = round(cost_per_household * _FEN_PER_YUAN)
        limits.append((round(budget * _FEN_PER_YUAN) // fen, "budget"))
    return min(limits, key=lambda lim: lim[0])  # first listed wins a tie


def _households(
    cand: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    villages: pd.DataFrame,
    config: Config,
    year: int,
    n_selected: int,
) -> pd.DataFrame:
    """The ranked candidates as :data:`HOUSEHOLD_COLUMNS` (the first ``n_selected`` chosen)."""
    info = villages.set_index("code")
    ids = cand["id_number"] if "id_number" in cand.columns else pd.Series(None, index=cand.index)
    households = pd.DataFrame(
        {
            "rank": np.arange(1, len(cand) + 1),
            "resident_id": cand.index.to_numpy(),
            "masked_id": [
                mask_id(n if isinstance(n, str) else None, privacy=config.privacy) for n in ids
            ],
            "village_code": cand["village_code"],
            "village_name": cand["village_code"].map(info["name"]),
            "town_name": cand["village_code"].map(info["town_name"]),
            "category": cand["category"],
            "category_label": [config.category_label(str(c)) for c in cand["category"]],
            "grade": numbers(cand["grade"]),
            "retrofit_year": on_record(cand, year=year),
            "indicator": needy(cand, config),
            "score": scores["score"].round(SCORE_DECIMALS),
            **{f"{p}_pts": scores[f"{p}_pts"] for p in PARTS},
            "cost": config.retrofit.cost_per_household,
            "selected": np.arange(len(cand)) < n_selected,
        },
        index=cand.index,
    )
    if households["grade"].notna().all():
        households["grade"] = households["grade"].astype(int)
    return households[list(HOUSEHOLD_COLUMNS)]


def _rates(
    residents: pd.DataFrame, households: pd.DataFrame, *, config: Config, year: int
) -> tuple[RetrofitRate, RetrofitRate]:
    """The 困难重度 retrofit rate before and after the selection."""
    counted = residents[~awaiting_review(residents)]
    poor_severe = needy(counted, config)
    had = on_record(counted, year=year).notna().to_numpy()
    target = config.indicators.retrofit_pct
    before = RetrofitRate(int(poor_severe.sum()), int((poor_severe & had).sum()), target)
    sel = households[households["selected"]]
    added = int((sel["indicator"] & sel["retrofit_year"].isna()).sum())
    return before, RetrofitRate(before.eligible, before.retrofitted + added, target)


def plan_from_frames(
    residents: pd.DataFrame,
    *,
    villages: pd.DataFrame,
    facilities: pd.DataFrame,
    config: Config,
    year: int,
    quota: int | None = None,
    budget: float | None = None,
    communities_top: int | None = None,
) -> RetrofitPlan:
    """Rank the candidates, select this year's retrofits, and rank communities.

    Parameters
    ----------
    residents
        As for :func:`retrofit_scores`, indexed by resident id; an optional
        ``id_number`` column is used only to give ``masked_id``.
    villages
        Columns ``code, name, town_name``.
    facilities
        Columns ``type, village_code``.
    config
        ``[retrofit]``, ``[privacy]``, ``[indicators] retrofit_pct``, categories
        and the ``accessible_community`` facility type.
    year
        The plan year.
    quota
        Households at most (default ``[retrofit] quota``).
    budget
        Yuan available (default: no budget limit). The selection stops at the
        quota or when the next household's ``cost_per_household`` no longer fits.
    communities_top
        Candidate villages listed (default ``[retrofit] communities_top``).

    Raises
    ------
    InputError
        When ``quota`` or ``budget`` is negative, or ``year`` is not a year.
    ConfigError
        When the configuration cannot be applied (see :func:`retrofit_scores`).
    """
    rc = config.retrofit
    quota = rc.quota if quota is None else quota
    check_limits(quota, budget)
    scores = retrofit_scores(residents, config=config, year=year)
    cand = residents.loc[scores.index]
    order = _ranked_order(
        scores["score"].to_numpy(dtype=float),
        numbers(cand["grade"]).to_numpy(dtype=float),
        np.asarray(cand.index),
    )
    scores = scores.iloc[order]
    cand = cand.iloc[order]
    n_sel, stopped_by = _how_many(
        len(cand), quota=quota, budget=budget, cost_per_household=rc.cost_per_household
    )
    households = _households(
        cand, scores, villages=villages, config=config, year=year, n_selected=n_sel
    )
    before, after = _rates(residents, households, config=config, year=year)
    return RetrofitPlan(
        households=households,
        communities=community_candidates(
            residents,
            villages=villages,
            facilities=facilities,
            config=config,
            year=year,
            top=communities_top,
        ),
        before=before,
        after=after,
        year=year,
        quota=quota,
        budget=budget,
        cost_per_household=rc.cost_per_household,
        cost=n_sel * rc.cost_per_household,
        stopped_by=stopped_by,
        done=int(
            (
                ~awaiting_review(residents)
                & done_recently(residents, year=year, repeat_after_years=rc.repeat_after_years)
            ).sum()
        ),
        awaiting_review=int(awaiting_review(residents).sum()),
    )
