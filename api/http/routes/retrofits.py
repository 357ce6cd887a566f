"""``/api/v1/retrofits``: this year's family accessibility retrofits.

- ``GET /retrofits?year=&quota=&budget=`` (every role; integration keys with
  ``read:aggregates``): the plan's figures as ``coverplan retrofit --json`` gives
  them, with the families counted per village and per town instead of listed;
  counts 1..``[privacy] min_count``-1 are null for every role but admin.
- ``GET /retrofits/households?…&purpose=`` (admin; outreach: families of its
  towns only; integration keys with ``read:persons``): the selected families
  (``coverplan retrofit --json``'s ``selected``: masked ID numbers and 户号, no
  names, no addresses). Person-level: needs ``purpose`` and writes an audit row.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.analyses import cached_retrofit, suppress_counts
from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from api.http.routes.residents import Purpose
from planner.domain.access import PERSON_SCOPE, Principal, Role
from planner.jsonable import records
from planner.services.people import check_purpose, record_read
from planner.services.retrofit import RetrofitOptions
from planner.services.types import RetrofitPlan
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/retrofits", tags=["retrofits"])

aggregates = require(Role.ADMIN, Role.PLANNER, Role.LEADER, Role.OUTREACH, scope="read:aggregates")
persons = require(Role.ADMIN, Role.OUTREACH, scope=PERSON_SCOPE)
Cfg = Annotated[Config, Depends(get_config)]

Year = Annotated[int | None, Query(ge=1900, le=2200, description="规划年份（默认今年）")]
Quota = Annotated[
    int | None, Query(ge=0, le=1_000_000, description="本年改造户数上限（默认 [retrofit] quota）")
]
Budget = Annotated[float | None, Query(ge=0, le=1e12, description="本年预算（元）；省略则不限")]

#: Family counts of the per-town rates (suppressed for roles but admin).
TOWN_COUNTS = ("eligible", "retrofitted_before", "retrofitted_after")
COMMUNITY_COUNTS = ("beneficiaries", "wheelchair_users", "severe")
VILLAGE_COUNTS = ("candidates", "selected")


class RetrofitSummaryOut(BaseModel):
    """The plan's figures; families counted per village and town (never listed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "quota": 122,
                    "budget": None,
                    "cost_per_household": 5000.0,
                    "cost": 610000.0,
                    "stopped_by": "quota",
                    "candidates": 400,
                    "done": 30,
                    "awaiting_review": 0,
                    "selected_count": 122,
                    "before": {"eligible": 300, "retrofitted": 200, "pct": 66.67},
                    "after": {"eligible": 300, "retrofitted": 290, "pct": 96.67},
                    "by_town": [],
                    "villages": [
                        {
                            "village_code": "330213001001",
                            "village_name": "南门社区",
                            "town_code": "330213001",
                            "town_name": "锦屏街道",
                            "candidates": 12,
                            "selected": None,
                        }
                    ],
                    "households": {"families": 900},
                    "communities": [],
                    "parts": [],
                }
            ]
        }
    )

    year: int
    quota: int
    budget: float | None
    cost_per_household: float
    cost: float
    stopped_by: str
    candidates: int
    done: int
    awaiting_review: int
    selected_count: int
    before: dict[str, Any]
    after: dict[str, Any]
    by_town: list[dict[str, Any]] = Field(description="分镇街改造率（户）")
    villages: list[dict[str, Any]] = Field(description="分村社候选户与入选户数")
    households: dict[str, Any] = Field(description="全区家庭汇总（户数、按认定方式）")
    communities: list[dict[str, Any]] = Field(description="无障碍社区候选村社")
    parts: list[str]


class RetrofitHouseholdsOut(BaseModel):
    """The selected families (masked ID numbers and 户号; no names, no addresses)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "selected_count": 1,
                    "households": [
                        {
                            "rank": 1,
                            "masked_id": "330283********1234",
                            "village_code": "330213001001",
                            "category": "physical",
                            "grade": 1,
                            "score": 9.5,
                        }
                    ],
                }
            ]
        }
    )

    year: int
    selected_count: int = Field(description="全区入选户数")
    households: list[dict[str, Any]] = Field(
        description="入选家庭（同 retrofit --json 的 selected）；外展人员只见本队镇街"
    )


def _plan(request: Request, year: int | None, quota: int | None, budget: float | None) -> Any:
    return cached_retrofit(request, RetrofitOptions(year=year, quota=quota, budget=budget))


def _villages(plan: RetrofitPlan) -> list[dict[str, Any]]:
    hh = plan.households
    rows: list[dict[str, Any]] = []
    if not len(hh):
        return rows
    grouped = hh.groupby(["village_code", "village_name", "town_name"], sort=True, dropna=False)
    for (code, name, town), g in grouped:
        rows.append(
            {
                "village_code": str(code),
                "village_name": str(name),
                "town_code": str(code)[:9],
                "town_name": str(town),
                "candidates": len(g),
                "selected": int(g["selected"].sum()),
            }
        )
    return rows


@router.get(
    "",
    response_model=RetrofitSummaryOut,
    summary="家庭无障碍改造：本年方案的汇总（分村社、分镇街户数；同 retrofit --json 的数值）",
    description="管理员以外的角色，1 至 [privacy] min_count-1 的户数、人数为 null。",
    responses=responses(401, 403, 422),
)
def retrofit_summary(
    request: Request,
    principal: Annotated[Principal, Depends(aggregates)],
    config: Cfg,
    year: Year = None,
    quota: Quota = None,
    budget: Budget = None,
) -> dict[str, Any]:
    plan = _plan(request, year, quota, budget)
    doc = plan.to_json()
    min_count = config.privacy.min_count
    by_town = suppress_counts(doc["by_town"], TOWN_COUNTS, principal=principal, min_count=min_count)
    for row in by_town:
        if row["eligible"] is None:
            row["pct_before"] = row["pct_after"] = None
    return {
        **{k: doc[k] for k in RetrofitSummaryOut.model_fields if k in doc},
        "by_town": by_town,
        "villages": suppress_counts(
            _villages(plan), VILLAGE_COUNTS, principal=principal, min_count=min_count
        ),
        "communities": suppress_counts(
            doc["communities"], COMMUNITY_COUNTS, principal=principal, min_count=min_count
        ),
    }


@router.get(
    "/households",
    response_model=RetrofitHouseholdsOut,
    summary="家庭无障碍改造：入选家庭名单（身份证号脱敏；记入审计）",
    description="管理员、外展人员（仅本队镇街）与有 read:persons 权限的密钥。",
    responses=responses(401, 403, 422),
)
def retrofit_households(
    request: Request,
    purpose: Purpose,
    principal: Annotated[Principal, Depends(persons)],
    store: Annotated[Store, Depends(get_store)],
    year: Year = None,
    quota: Quota = None,
    budget: Budget = None,
) -> dict[str, Any]:
    why = check_purpose(purpose)
    plan = _plan(request, year, quota, budget)
    selected = records(plan.selected)
    shown = [r for r in selected if principal.may_see_town(str(r.get("village_code") or "")[:9])]
    filters = {"year": plan.year, "quota": plan.quota, "budget": plan.budget}
    record_read(
        store,
        principal=principal,
        target="retrofits/households?"
        + "&".join(f"{k}={v}" for k, v in filters.items() if v is not None),
        purpose=why,
        count=sum(int(r.get("member_count") or 1) for r in shown),
    )
    return {"year": plan.year, "selected_count": len(selected), "households": shown}
