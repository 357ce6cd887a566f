"""Household accessibility retrofits (无障碍改造进家庭) and accessible-community candidates.

Every registered person counts as one household. A household is a *candidate*
for this year's retrofits unless it awaits village review (``needs_review`` or
no village) or was retrofitted less than ``repeat_after_years`` before the plan
year (counted as *done*). Retrofits recorded after the plan year are ignored, so
a past year can be planned again as it stood. Candidates are scored by the parts
of ``[retrofit.weights]`` — grade, category, wheelchair, 低保/低边, age band,
lives alone, 老养残 — and ranked by score (descending), then grade (ascending,
most severe first), then resident id, so the ranking is deterministic. The
ranked list is taken from the top until the quota or the budget
(``cost_per_household`` each) is exhausted, whichever comes first.

The 十四五 indicator 困难重度残疾人家庭无障碍改造率 is the share of 困难重度
households (低保 or 低边 **and** grade 1–2, not awaiting review) that have a
retrofit on record (any year up to the plan year), before and after this
year's selection. The ranking is by score, so the selection may include
households outside that group: the plan reports both the indicator and the
total selected.

Accessible communities (无障碍社区) are a village-level status: villages are
ranked by the residents who would benefit (the ``accessible_community``
facility type's eligibility) among villages that are not one yet.

Outputs never contain names, phones or addresses; ID numbers only masked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import select

from planner.domain.eligibility import SEVERE_GRADES, age_years, eligible_mask, retrofit_needy
from planner.errors import ConfigError, InputError
from planner.ingest.idnumber import mask_id
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame

__all__ = [
    "COMMUNITY_COLUMNS",
    "HOUSEHOLD_COLUMNS",
    "PARTS",
    "PART_LABELS",
    "RetrofitFiles",
    "RetrofitPlan",
    "RetrofitRate",
    "community_candidates",
    "plan_from_frames",
    "plan_retrofits",
    "retrofit_scores",
    "write_retrofit",
]

#: Facility type whose presence in a village makes it an accessible community.
ACCESSIBLE_COMMUNITY = "accessible_community"
#: Score parts, in the order shown; each is a column ``<part>_pts``.
PARTS = ("grade", "category", "wheelchair", "low_income", "age", "lives_alone", "elderly_carer")
PART_LABELS = {
    "grade": "等级分",
    "category": "类别分",
    "wheelchair": "轮椅分",
    "low_income": "低保低边分",
    "age": "年龄分",
    "lives_alone": "独居分",
    "elderly_carer": "老养残分",
}
PERCENT = 100.0
# Scores are compared after rounding, so that sums of the same points in a
# different order (0.1 + 0.2 vs 0.3) tie as they should.
_SCORE_DECIMALS = 9
# Money is compared in fen (分), exactly.
_FEN_PER_YUAN = 100
# Ages are taken on the last day of the plan year.
_YEAR_END = (12, 31)

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
COMMUNITY_COLUMNS = (
    "rank",
    "village_code",
    "village_name",
    "town_name",
    "beneficiaries",
    "wheelchair_users",
    "severe",
)
_ZH = {
    "rank": "排名",
    "resident_id": "记录编号",
    "masked_id": "身份证号（脱敏）",
    "village_code": "村社代码",
    "village_name": "村社",
    "town_name": "镇街",
    "category": "类别代码",
    "category_label": "残疾类别",
    "grade": "残疾等级",
    "retrofit_year": "上次改造年份",
    "indicator": "困难重度家庭",
    "score": "优先得分",
    **{f"{p}_pts": label for p, label in PART_LABELS.items()},
    "cost": "费用（元）",
    "selected": "本年入选",
    "beneficiaries": "受益人数",
    "wheelchair_users": "其中轮椅使用者",
    "severe": "其中一二级",
}

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
        return round(PERCENT * self.retrofitted / self.eligible, 2)

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
            "selected": _records(self.selected),
            "before": self.before.to_json(),
            "after": {
                **self.after.to_json(),
                "selected_households": len(self.selected),
                "selected_indicator_households": self.selected_indicator,
            },
            "communities": _records(self.communities),
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


@dataclass(frozen=True)
class RetrofitFiles:
    """Files written by :func:`write_retrofit`."""

    households: Path
    communities: Path
    workbook: Path | None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _plain(v) for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


def _flag(series: pd.Series) -> NDArray[np.bool_]:
    """A yes/no column (True, False or missing) as booleans; missing is False."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def _reference_day(year: int) -> date:
    return date(year, *_YEAR_END)


def _check_year(year: int) -> None:
    if year < 1 or year > date.max.year:
        raise InputError("年份无效；请给出公历年份，如 --year 2025", value=str(year))


def _awaiting_review(residents: pd.DataFrame) -> NDArray[np.bool_]:
    return _flag(residents["needs_review"]) | residents["village_code"].isna().to_numpy()


def _on_record(residents: pd.DataFrame, *, year: int) -> pd.Series:
    """Retrofit years up to the plan year (later ones are ignored: NaN)."""
    ry = _numbers(residents["retrofit_year"]).astype(float)
    return ry.where(ry <= year)


def _done(residents: pd.DataFrame, *, year: int, repeat_after_years: int) -> NDArray[np.bool_]:
    ry = _on_record(residents, year=year)
    return (ry.notna() & (year - ry < repeat_after_years)).to_numpy()


def _indicator(residents: pd.DataFrame, config: Config) -> NDArray[np.bool_]:
    """困难重度 households, as the coverage indicator counts them."""
    return retrofit_needy(residents, config)


def _check_categories(config: Config) -> None:
    unknown = sorted(set(config.retrofit.weights.category) - set(config.categories))
    if unknown:
        raise ConfigError(
            f"[retrofit.weights] category 中有未知的残疾类别「{'、'.join(unknown)}」；"
            f"可用：{'、'.join(config.categories)}"
        )


def _age_points(residents: pd.DataFrame, *, config: Config, year: int) -> NDArray[np.float64]:
    bands = config.retrofit.weights.age
    points = np.zeros(len(residents), dtype=float)
    if not bands or not len(residents):
        return points
    birth = pd.to_datetime(residents["birth_date"])
    known = birth.notna().to_numpy()
    age = np.full(len(residents), -1, dtype=np.int64)
    age[known] = age_years(birth[known], today=_reference_day(year))
    for band in bands:  # ascending: the highest band reached wins
        points = np.where(age >= band.min_age, band.points, points)
    return points


def retrofit_scores(residents: pd.DataFrame, *, config: Config, year: int) -> pd.DataFrame:
    """Priority scores of this year's retrofit candidates.

    Parameters
    ----------
    residents
        One row per resident, indexed by resident id, with columns ``category,
        grade, birth_date, village_code, low_income, lives_alone, elderly_carer,
        wheelchair, retrofit_year, needs_review`` (as
        :func:`planner.store.frames.residents_frame` gives them).
    config
        ``[retrofit]`` (weights, ``repeat_after_years``) and the categories.
    year
        The plan year; ages are completed years on 31 December of it.

    Returns
    -------
    pandas.DataFrame
        One row per candidate (residents not awaiting review and not retrofitted
        less than ``repeat_after_years`` before ``year``), same index as
        ``residents`` and in its order: one column ``<part>_pts`` per part of
        :data:`PARTS` (points) and ``score``, their sum.

    Raises
    ------
    ConfigError
        When the weights name a category that is not configured.
    InputError
        When ``year`` is not a calendar year.
    """
    _check_year(year)
    _check_categories(config)
    rc = config.retrofit
    w = rc.weights
    keep = ~_awaiting_review(residents) & ~_done(
        residents, year=year, repeat_after_years=rc.repeat_after_years
    )
    cand = residents[keep]
    grade = _numbers(cand["grade"])
    parts = {
        "grade": grade.map(w.grade).fillna(0.0).to_numpy(dtype=float),
        "category": cand["category"].map(w.category).fillna(w.category_default).to_numpy(float),
        "wheelchair": w.wheelchair * _flag(cand["wheelchair"]),
        "low_income": cand["low_income"].map(w.low_income).fillna(0.0).to_numpy(dtype=float),
        "age": _age_points(cand, config=config, year=year),
        "lives_alone": w.lives_alone * _flag(cand["lives_alone"]),
        "elderly_carer": w.elderly_carer * _flag(cand["elderly_carer"]),
    }
    out = pd.DataFrame({f"{p}_pts": parts[p] for p in PARTS}, index=cand.index, dtype=float)
    out["score"] = out.sum(axis=1)
    return out


def _ranked_order(
    score: NDArray[np.float64], grade: NDArray[np.float64], ids: NDArray[Any]
) -> NDArray[np.intp]:
    """Positions sorted by score desc, grade asc (unknown last), then id asc."""
    g = np.where(np.isnan(grade), np.inf, grade)
    return np.lexsort((ids, g, -np.round(score, _SCORE_DECIMALS)))


def _check_limits(quota: int, budget: float | None) -> None:
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
    _check_year(year)
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
    people = residents[~_awaiting_review(residents)]
    people = people[~people["village_code"].isin(already)]
    people = people[eligible_mask(people, ft.eligibility, today=_reference_day(year))]
    frame = pd.DataFrame(
        {
            "village_code": people["village_code"].to_numpy(),
            "wheelchair_users": _flag(people["wheelchair"]),
            "severe": _numbers(people["grade"]).isin(SEVERE_GRADES).to_numpy(),
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
    _check_limits(quota, budget)
    scores = retrofit_scores(residents, config=config, year=year)
    cand = residents.loc[scores.index]
    grade = _numbers(cand["grade"])
    order = _ranked_order(
        scores["score"].to_numpy(dtype=float),
        grade.to_numpy(dtype=float),
        np.asarray(cand.index),
    )
    scores = scores.iloc[order]
    cand = cand.iloc[order]
    n_sel, stopped_by = _how_many(
        len(cand), quota=quota, budget=budget, cost_per_household=rc.cost_per_household
    )
    info = villages.set_index("code")
    ids = cand["id_number"] if "id_number" in cand.columns else pd.Series(None, index=cand.index)
    priv = config.privacy
    households = pd.DataFrame(
        {
            "rank": np.arange(1, len(cand) + 1),
            "resident_id": cand.index.to_numpy(),
            "masked_id": [
                mask_id(
                    n if isinstance(n, str) else None,
                    keep_head=priv.id_keep_head,
                    keep_tail=priv.id_keep_tail,
                )
                for n in ids
            ],
            "village_code": cand["village_code"],
            "village_name": cand["village_code"].map(info["name"]),
            "town_name": cand["village_code"].map(info["town_name"]),
            "category": cand["category"],
            "category_label": [config.category_label(str(c)) for c in cand["category"]],
            "grade": grade,
            "retrofit_year": _on_record(cand, year=year),
            "indicator": _indicator(cand, config),
            "score": scores["score"].round(_SCORE_DECIMALS),
            **{f"{p}_pts": scores[f"{p}_pts"] for p in PARTS},
            "cost": rc.cost_per_household,
            "selected": np.arange(len(cand)) < n_sel,
        },
        index=cand.index,
    )
    if households["grade"].notna().all():
        households["grade"] = households["grade"].astype(int)

    counted = residents[~_awaiting_review(residents)]
    needy = _indicator(counted, config)
    had = _on_record(counted, year=year).notna().to_numpy()
    target = config.indicators.retrofit_pct
    before = RetrofitRate(int(needy.sum()), int((needy & had).sum()), target)
    sel = households[households["selected"]]
    added = int((sel["indicator"] & sel["retrofit_year"].isna()).sum())
    after = RetrofitRate(before.eligible, before.retrofitted + added, target)
    return RetrofitPlan(
        households=households[list(HOUSEHOLD_COLUMNS)],
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
                ~_awaiting_review(residents)
                & _done(residents, year=year, repeat_after_years=rc.repeat_after_years)
            ).sum()
        ),
        awaiting_review=int(_awaiting_review(residents).sum()),
    )


def _id_numbers(store: Store) -> dict[int, str]:
    """ID numbers by resident id (for masking only; names are never loaded)."""
    with store.read() as s:
        rows = s.execute(select(t.Resident.id, t.Resident.id_number).order_by(t.Resident.id)).all()
    return dict(rows)


def plan_retrofits(
    store: Store,
    *,
    config: Config,
    year: int,
    quota: int | None = None,
    budget: float | None = None,
    communities_top: int | None = None,
) -> RetrofitPlan:
    """This year's retrofit plan for the store's residents.

    Loads residents (with ID numbers for masking, never names), villages and
    facilities and calls :func:`plan_from_frames`; the parameters are the same.
    """
    residents = residents_frame(store)
    numbers = _id_numbers(store)
    residents["id_number"] = [numbers.get(rid) for rid in residents.index]
    return plan_from_frames(
        residents,
        villages=villages_frame(store),
        facilities=facilities_frame(store),
        config=config,
        year=year,
        quota=quota,
        budget=budget,
        communities_top=communities_top,
    )


def _zh(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in ("indicator", "selected"):
        if col in out.columns:
            out[col] = out[col].map({True: "是", False: "否"})
    if "retrofit_year" in out.columns:
        out["retrofit_year"] = out["retrofit_year"].astype("Int64")
    return out.rename(columns=_ZH)


def write_retrofit(plan: RetrofitPlan, out_dir: Path, *, xlsx: bool = False) -> RetrofitFiles:
    """Write ``retrofit_households.csv`` and ``retrofit_communities.csv``.

    Chinese headers, UTF-8 with BOM (opens in Excel). With ``xlsx`` also
    ``retrofit.xlsx`` with the sheets 改造户 and 无障碍社区候选.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    households = _zh(plan.households)
    communities = _zh(plan.communities)
    hpath = out_dir / "retrofit_households.csv"
    cpath = out_dir / "retrofit_communities.csv"
    households.to_csv(hpath, index=False, encoding="utf-8-sig")
    communities.to_csv(cpath, index=False, encoding="utf-8-sig")
    book = None
    if xlsx:
        book = out_dir / "retrofit.xlsx"
        with pd.ExcelWriter(book, engine="openpyxl") as writer:
            households.to_excel(writer, sheet_name="改造户", index=False)
            communities.to_excel(writer, sheet_name="无障碍社区候选", index=False)
    return RetrofitFiles(households=hpath, communities=cpath, workbook=book)
