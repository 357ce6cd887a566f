"""This year's household accessibility retrofits (无障碍改造进家庭): rank, select, rate.

Candidates are families (:mod:`planner.retrofit.families`: 户号, else the same
house, else alone), ranked by their best member's score, then grade, then
resident id, so the ranking is deterministic. The ranked list is taken from the
top until the quota or the budget (``cost_per_household`` per family) is
exhausted, whichever comes first.

The plan's 13th indicator 符合条件残疾人家庭无障碍改造率
(:mod:`planner.domain.retrofit_rate`) is the share of families with an eligible
member (``[indicators]``: default 低保/低边 and grade 1–2, not awaiting review)
retrofitted within ``retrofit_within_years``, district and per town, before and
after this year's selection. The ranking is by score, so the selection may
include families outside that group: the plan reports both the indicator and
the total selected.

Outputs never contain names, phones or addresses; ID numbers and 户号 only masked."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner.domain.families import BASIS_LABELS, FAMILY_RULE
from planner.domain.retrofit_rate import eligibility_text, rate_pct, town_rates, within_years
from planner.errors import InputError
from planner.jsonable import records, to_jsonable
from planner.retrofit.communities import community_candidates
from planner.retrofit.families import HOUSEHOLD_COLUMNS, rank_families
from planner.retrofit.scores import PARTS, awaiting_review
from planner.settings import Config

__all__ = [
    "HOUSEHOLD_COLUMNS",
    "TOWN_RATE_COLUMNS",
    "RetrofitPlan",
    "RetrofitRate",
    "StoppedBy",
    "check_limits",
    "plan_from_frames",
]

# Money is compared in fen (分), exactly.
_FEN_PER_YUAN = 100
StoppedBy = Literal["quota", "budget", "candidates"]
TOWN_RATE_COLUMNS = (
    "town_code",
    "town_name",
    "eligible",
    "retrofitted_before",
    "pct_before",
    "retrofitted_after",
    "pct_after",
)


@dataclass(frozen=True)
class RetrofitRate:
    """The 符合条件残疾人家庭无障碍改造率 at one moment, counted in families.

    Attributes
    ----------
    eligible
        Families with a member meeting ``[indicators]``'s rule (default 低保/低边
        and grade 1–2), not awaiting review.
    retrofitted
        Of those, families retrofitted within ``retrofit_within_years``.
    target_pct
        The 十四五 target, percent (``[indicators] retrofit_pct``, reached at ≥).
    """

    eligible: int
    retrofitted: int
    target_pct: float

    @property
    def pct(self) -> float | None:
        """``retrofitted / eligible`` in percent (None when no family is eligible)."""
        return rate_pct(self.retrofitted, self.eligible)

    @property
    def met(self) -> bool | None:
        """Whether the target is reached (None when no family is eligible)."""
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
    """This year's family retrofit selection and accessible-community candidates.

    Attributes
    ----------
    households
        Every candidate family, ranked, indexed by its lead member's resident id.
        Columns (:data:`HOUSEHOLD_COLUMNS`): ``rank`` (1 = first);
        ``resident_id``, ``masked_id`` (ID number masked per ``[privacy]``; empty
        when unknown), ``category`` (key), ``category_label`` (Chinese) and
        ``grade`` (1–4) of the lead member (the best-scored); ``village_code``,
        ``village_name``, ``town_name`` of the family (its first member's);
        ``retrofit_year`` (the family's latest retrofit, at least
        ``repeat_after_years`` ago; NaN if none); ``indicator`` (a member makes
        the family count for the indicator); ``score`` (points: the lead's) and
        the lead's ``<part>_pts`` per part of :data:`PARTS`; ``cost`` (yuan) and
        ``selected`` (retrofitted this year); ``household_id`` (户号, masked;
        empty when the family was not found by 户号); ``family_basis``
        (``household_id``, ``address`` or ``single``); ``member_count``;
        ``members`` (a tuple of dicts, lead first: ``resident_id, masked_id,
        category, category_label, grade, score, indicator``); ``eligible_member``
        (masked ID of the first member meeting the indicator's rule, else
        empty); ``retrofit_counted`` (the family's retrofit already counts for
        the indicator).
    communities
        The top ``communities_top`` villages that are not accessible communities,
        ranked by ``beneficiaries`` (residents the accessible community would
        serve, not awaiting review), then ``wheelchair_users``, then ``severe``
        (grade 1–2 among them), then village code. Columns
        (:data:`COMMUNITY_COLUMNS`): ``rank, village_code, village_name,
        town_name, beneficiaries, wheelchair_users, severe``.
    before, after
        The indicator before and after this year's selection (families).
    by_town
        The indicator per town before and after (:data:`TOWN_RATE_COLUMNS`;
        towns with an eligible family, in code order; percent, 2 decimals).
    families
        Every family of the counted residents
        (:func:`planner.domain.retrofit_rate.family_table`).
    within_years
        Years a retrofit counts for the indicator.
    rule
        Who makes a family count, in Chinese (e.g. ``一级或二级、低保或低边``).
    year
        The plan year.
    quota
        Families a year at most.
    budget
        Yuan available, or None for no budget limit.
    cost_per_household
        Yuan per family.
    cost
        Yuan spent by the selection.
    stopped_by
        What ended the selection: ``quota``, ``budget`` or ``candidates`` (all
        candidates selected).
    done
        Families retrofitted less than ``repeat_after_years`` before ``year``
        (not candidates).
    awaiting_review
        Residents (persons) excluded because their record awaits review.
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
    by_town: pd.DataFrame
    families: pd.DataFrame
    within_years: int
    rule: str

    @property
    def selected(self) -> pd.DataFrame:
        """The selected families, in rank order."""
        return self.households[self.households["selected"]]

    @property
    def selected_indicator(self) -> int:
        """Selected families that are eligible and not yet counted as retrofitted."""
        sel = self.selected
        return int((sel["indicator"] & ~sel["retrofit_counted"]).sum())

    def family_summary(self) -> dict[str, Any]:
        """Counted families: total, eligible, with two or more members, by basis, rule."""
        fam = self.families
        return {
            "families": len(fam),
            "eligible": int(fam["eligible"].sum()),
            "candidates": len(self.households),
            "multi_member": int((fam["members"] > 1).sum()),
            "members": int(fam["members"].sum()),
            "by_basis": {b: int((fam["basis"] == b).sum()) for b in BASIS_LABELS},
            "within_years": self.within_years,
            "eligible_rule": self.rule,
            "rule": FAMILY_RULE,
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (no names, no addresses; masked IDs only)."""
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
            "by_town": records(self.by_town),
            "households": to_jsonable(self.family_summary()),
            "communities": records(self.communities),
            "parts": list(PARTS),
        }

    def text(self, *, top: int) -> str:
        """A short Chinese summary: the first ``top`` families, cost, rate, communities."""
        sel = self.selected
        budget = "不限" if self.budget is None else f"{self.budget:,.0f} 元"
        why = {"quota": "名额用完", "budget": "预算用完", "candidates": "候选户已全部入选"}
        lines = [
            f"{self.year} 年家庭无障碍改造（按户计）：候选 {len(self.households)} 户"
            f"（{self.done} 户改造未满期限，{self.awaiting_review} 人待核查，均不计）",
            f"入选 {len(sel)} 户（名额 {self.quota}，预算 {budget}），"
            f"费用 {self.cost:,.0f} 元；{why[self.stopped_by]}",
        ]
        if len(sel):
            lines.append(f"前 {min(top, len(sel))} 户（得分最高的成员优先）：")
            for r in sel.head(top).to_dict(orient="records"):
                more = f" 等 {r['member_count']} 人" if r["member_count"] > 1 else ""
                lines.append(
                    f"  {r['rank']:>3}. {r['town_name']}{r['village_name']}"
                    f"  {r['category_label']}{r['grade']}级"
                    f"  {r['masked_id']}{more}  {r['score']:g} 分"
                )
        lines.append(self._rate_line())
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

    def _rate_line(self) -> str:
        def rate(r: RetrofitRate) -> str:
            return "—" if r.pct is None else f"{r.pct:.1f}%"

        met = {True: "达标", False: "未达标", None: "—"}[self.after.met]
        return (
            f"符合条件残疾人家庭无障碍改造率（{self.rule}；{self.within_years} 年内改造计入）："
            f"{rate(self.before)} → {rate(self.after)}"
            f"（目标 ≥{self.after.target_pct:g}%，{met}；符合条件 {self.after.eligible} 户，"
            f"已改造 {self.before.retrofitted} → {self.after.retrofitted}；"
            f"本次入选 {len(self.selected)} 户中 {self.selected_indicator} 户计入该指标）"
        )


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


def _rates(
    families: pd.DataFrame,
    selected_families: pd.Index,
    *,
    villages: pd.DataFrame,
    target: float,
) -> tuple[RetrofitRate, RetrofitRate, pd.DataFrame]:
    """The indicator before and after the selection, district and per town."""
    after = families.copy()
    after.loc[after.index.isin(selected_families), "retrofitted"] = True
    eligible_before = families[families["eligible"]]
    eligible_after = after[after["eligible"]]
    n = len(eligible_before)
    before_rate = RetrofitRate(n, int(eligible_before["retrofitted"].sum()), target)
    after_rate = RetrofitRate(n, int(eligible_after["retrofitted"].sum()), target)
    tb, ta = town_rates(families), town_rates(after)
    town_of_village = villages.set_index("code")["town_name"]
    towns = (
        families.assign(town_name=families["village_code"].map(town_of_village))
        .groupby("town_code")["town_name"]
        .first()
    )
    by_town = pd.DataFrame(
        {
            "town_code": tb.index.to_numpy(),
            "town_name": [towns.get(code) for code in tb.index],
            "eligible": tb["eligible"].to_numpy(),
            "retrofitted_before": tb["retrofitted"].to_numpy(),
            "pct_before": tb["pct"].to_numpy(),
            "retrofitted_after": ta["retrofitted"].reindex(tb.index).to_numpy(),
            "pct_after": ta["pct"].reindex(tb.index).to_numpy(),
        }
    )
    return before_rate, after_rate, by_town[list(TOWN_RATE_COLUMNS)]


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
    """Rank the candidate families, select this year's retrofits, and rank communities.

    Parameters
    ----------
    residents
        As for :func:`retrofit_scores`, indexed by resident id; optional columns:
        ``household_id`` (户号) and ``address`` group residents into families
        (:data:`planner.domain.families.FAMILY_RULE`; without them everyone is a
        family of one), ``id_number`` gives ``masked_id``. Addresses and ID
        numbers never appear unmasked in the plan.
    villages
        Columns ``code, name, town_name``.
    facilities
        Columns ``type, village_code``.
    config
        ``[retrofit]``, ``[privacy]``, ``[indicators]`` (``retrofit_pct`` and who
        makes a family count), categories and the ``accessible_community`` type.
    year
        The plan year.
    quota
        Families at most (default ``[retrofit] quota``).
    budget
        Yuan available (default: no budget limit). The selection stops at the
        quota or when the next family's ``cost_per_household`` no longer fits.
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
    ranked = rank_families(residents, villages=villages, config=config, year=year)
    n_sel, stopped_by = _how_many(
        len(ranked.households),
        quota=quota,
        budget=budget,
        cost_per_household=rc.cost_per_household,
    )
    households = ranked.households.assign(
        cost=rc.cost_per_household, selected=np.arange(len(ranked.households)) < n_sel
    )[list(HOUSEHOLD_COLUMNS)]
    before, after, by_town = _rates(
        ranked.families,
        pd.Index(ranked.family_of.iloc[:n_sel]),
        villages=villages,
        target=config.indicators.retrofit_pct,
    )
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
        done=ranked.done,
        awaiting_review=int(awaiting_review(residents).sum()),
        by_town=by_town,
        families=ranked.families,
        within_years=within_years(config),
        rule=eligibility_text(config),
    )
