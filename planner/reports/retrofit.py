"""Retrofit plan files for people: the ranked families and the community
candidates, CSV (UTF-8 with BOM) and XLSX with Chinese headers.

One row per family: its members' masked ID numbers joined by 、 (lead first), how
the family was found (户号 / 同村同址 / 单人), the member who makes it count for the
indicator. No names, phones or addresses: the plan holds masked ID numbers and
masked 户号 only. The workbook's families sheet states the family rule above its
header; the CSV has none, so that its first row stays the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.domain.families import BASIS_LABELS, FAMILY_RULE
from planner.reports.tables import write_table, write_workbook
from planner.retrofit import PART_LABELS, RetrofitPlan

__all__ = ["RETROFIT_HEADERS", "RetrofitFiles", "write_retrofit"]

#: Column → Chinese header of both tables.
RETROFIT_HEADERS: dict[str, str] = {
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
    "indicator": "困难重度家庭",  # the default rule; the header is a contract
    "score": "优先得分",
    **{f"{p}_pts": label for p, label in PART_LABELS.items()},
    "cost": "费用（元）",
    "selected": "本年入选",
    "household_id": "户号（脱敏）",
    "family_basis": "识别方式",
    "member_count": "家庭残疾人数",
    "members": "家庭成员（脱敏身份证号）",
    "eligible_member": "符合条件成员（脱敏身份证号）",
    "retrofit_counted": "改造已计入改造率",
    "beneficiaries": "受益人数",
    "wheelchair_users": "其中轮椅使用者",
    "severe": "其中一二级",
}
YES_NO = {True: "是", False: "否"}
MEMBER_SEPARATOR = "、"
HOUSEHOLDS_SHEET, COMMUNITIES_SHEET = "改造户", "无障碍社区候选"


@dataclass(frozen=True)
class RetrofitFiles:
    """Files written by :func:`write_retrofit`."""

    households: Path
    communities: Path
    workbook: Path | None


def _for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Yes/no columns as 是/否, retrofit years as whole numbers, members as text."""
    out = frame.copy()
    for col in ("indicator", "selected", "retrofit_counted"):
        if col in out.columns:
            out[col] = out[col].map(YES_NO)
    if "retrofit_year" in out.columns:
        out["retrofit_year"] = out["retrofit_year"].astype("Int64")
    if "family_basis" in out.columns:
        out["family_basis"] = out["family_basis"].map(BASIS_LABELS)
    if "members" in out.columns:
        out["members"] = [
            MEMBER_SEPARATOR.join(m["masked_id"] for m in ms) for ms in out["members"]
        ]
    return out


def write_retrofit(plan: RetrofitPlan, out_dir: Path, *, xlsx: bool = False) -> RetrofitFiles:
    """Write ``retrofit_households.csv`` (one row per candidate family, ranked)
    and ``retrofit_communities.csv``.

    Chinese headers, UTF-8 with BOM (opens in Excel). With ``xlsx`` also
    ``retrofit.xlsx`` with the sheets 改造户 (the family rule above the header)
    and 无障碍社区候选.
    """
    out_dir = Path(out_dir)
    households = _for_people(plan.households)
    communities = _for_people(plan.communities)
    hpath = write_table(households, out_dir / "retrofit_households.csv", columns=RETROFIT_HEADERS)
    cpath = write_table(communities, out_dir / "retrofit_communities.csv", columns=RETROFIT_HEADERS)
    book = None
    if xlsx:
        book = write_workbook(
            {HOUSEHOLDS_SHEET: households, COMMUNITIES_SHEET: communities},
            out_dir / "retrofit.xlsx",
            columns=RETROFIT_HEADERS,
            notes={HOUSEHOLDS_SHEET: FAMILY_RULE},
        )
    return RetrofitFiles(households=hpath, communities=cpath, workbook=book)
