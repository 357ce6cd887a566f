"""``/api/v1/coverage``, ``/coverage/villages``, ``/coverage/villages.geojson``,
``/coverage/towns``, ``/gaps`` and ``/indicators``: aggregates for every role.

The figures are those of ``coverplan coverage --json``, ``gaps --json`` and
``indicators --json`` on the same store, computed once per store data version
and day (:mod:`api.analyses`). Every role but admin gets person counts
1..``[privacy] min_count``-1 per village and per town as null.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.analyses import (
    cached_coverage,
    cached_gaps,
    cached_indicators,
    cached_json,
    suppress_counts,
    suppress_indicators,
)
from api.http.deps import get_config, require
from api.http.fields import unknown_type
from api.http.problems import responses
from planner.domain.access import Principal, Role
from planner.jsonable import records, to_jsonable
from planner.services.types import COUNTED, GAP_COUNTS, POLICY_PARTS, CoverageResult
from planner.settings import Config

router = APIRouter(prefix="/api/v1", tags=["coverage"])

ANY_ROLE = (Role.ADMIN, Role.PLANNER, Role.LEADER, Role.OUTREACH)
aggregates = require(*ANY_ROLE, scope="read:aggregates")
Caller = Annotated[Principal, Depends(aggregates)]
Cfg = Annotated[Config, Depends(get_config)]
TypeQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="设施类型代码（[facility_types] 的键，如 home）；省略为全部类型",
        examples=["home"],
    ),
]

#: Person counts of a (village or town, type) row, suppressed for roles but admin.
ROW_COUNTS = (*COUNTED, "uncovered", "over_capacity")

_TYPE_EXAMPLE: dict[str, Any] = {
    "type": "home",
    "label": "残疾人之家",
    "eligible": 1520,
    "covered": 1210,
    "covered_within_capacity": 980,
    "coverage_pct": 84.03,
    "threshold_min": 30.0,
    "mode": "drive",
    "catchment": "travel",
    "home_service": 80,
    "uncovered": 230,
    "over_capacity": 230,
    "facilities": 12,
    "capacity": 1000.0,
    "off_network": 3,
    "not_located": 0,
    "nearest_first_skipped": 0,
}


class FacilityTypeOut(BaseModel):
    """Totals of one facility type in the district (persons unless stated)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_TYPE_EXAMPLE]})

    type: str
    label: str
    eligible: int
    covered: int
    covered_within_capacity: int
    coverage_pct: float | None = Field(description="可达 / 能出行的符合条件者 × 100")
    threshold_min: float = Field(description="出行时间阈值（分钟）")
    mode: str
    catchment: str
    home_service: int
    uncovered: int
    over_capacity: int
    facilities: int
    capacity: float | None = Field(description="名额合计；有设施不限名额时为 null")
    off_network: int
    not_located: int
    nearest_first_skipped: int


class CoverageSummaryOut(BaseModel):
    """``coverplan coverage --json``'s district figures: per type and the indicators."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "today": "2026-05-01",
                    "data_version": "42-3f9a1c2b7d4e",
                    "facility_types": [_TYPE_EXAMPLE],
                    "indicators": [],
                    "policy_checks": [],
                    "awaiting_review": 0,
                    "assignment_rule": "就近分配……",
                    "networks": {"drive": "fenghua.osm (sha256 1a2b3c4d)"},
                }
            ]
        }
    )

    today: str = Field(description="计算所用日期（年龄、辅具期限按此日）")
    data_version: str = Field(description="数据版本：导入或修改数据后变化，结果随之重算")
    facility_types: list[FacilityTypeOut]
    indicators: list[dict[str, Any]] = Field(
        description="十四五主要指标 14 项（同 coverage --json）"
    )
    policy_checks: list[dict[str, Any]]
    awaiting_review: int = Field(description="待核查村社、未计入的人数")
    assignment_rule: str
    networks: dict[str, str]


class VillageCoverageOut(BaseModel):
    """One (village, type) row; counts 1–4 are null for roles but admin."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "village_code": "330213001001",
                    "village_name": "南门社区",
                    "town_code": "330213001",
                    "town_name": "锦屏街道",
                    "type": "home",
                    "eligible": 40,
                    "home_service": 2,
                    "covered": 38,
                    "covered_within_capacity": 30,
                    "uncovered": 0,
                    "over_capacity": 8,
                    "coverage_pct": 100.0,
                    "accessibility": 12.5,
                    "off_network": 0,
                    "not_located": 0,
                }
            ]
        }
    )

    village_code: str
    village_name: str
    town_code: str
    town_name: str
    type: str
    eligible: int | None
    home_service: int | None
    covered: int | None
    covered_within_capacity: int | None
    uncovered: int | None
    over_capacity: int | None
    coverage_pct: float | None
    accessibility: float | None = Field(description="E2SFCA：每千名符合条件者的名额")
    off_network: int | None
    not_located: int | None


class TownCoverageOut(BaseModel):
    """One (town, type) row; counts 1–4 are null for roles but admin."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "town_code": "330213001",
                    "town_name": "锦屏街道",
                    "has_home": True,
                    "type": "home",
                    "eligible": 300,
                    "home_service": 10,
                    "covered": 280,
                    "covered_within_capacity": 250,
                    "uncovered": 10,
                    "over_capacity": 30,
                    "coverage_pct": 96.55,
                    "off_network": 0,
                    "not_located": 0,
                }
            ]
        }
    )

    town_code: str
    town_name: str
    has_home: bool
    type: str
    eligible: int | None
    home_service: int | None
    covered: int | None
    covered_within_capacity: int | None
    uncovered: int | None
    over_capacity: int | None
    coverage_pct: float | None
    off_network: int | None
    not_located: int | None


class GapsOut(BaseModel):
    """``coverplan gaps --json``: coverage gaps per (village, type), policy gaps per village."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "coverage_gaps": [
                        {
                            "type": "home",
                            "rank": 1,
                            "village_code": "330213101201",
                            "village_name": "某村",
                            "town_name": "溪口镇",
                            "eligible": 30,
                            "unmet": 20,
                            "in_reach_no_place": 5,
                            "out_of_reach": 15,
                        }
                    ],
                    "policy_gaps": [],
                    "policy_weights_parts": list(POLICY_PARTS),
                    "off_network": [],
                    "not_located": [],
                    "assignment_rule": "就近分配……",
                }
            ]
        }
    )

    coverage_gaps: list[dict[str, Any]] = Field(
        description=(
            "每类前 top 个村社：unmet = in_reach_no_place（可达但无名额）+ out_of_reach（不可达）"
        )
    )
    policy_gaps: list[dict[str, Any]] = Field(description="政策落实缺口前 top 个村社（加权人数）")
    policy_weights_parts: list[str]
    off_network: list[dict[str, Any]]
    not_located: list[dict[str, Any]]
    assignment_rule: str


class IndicatorsOut(BaseModel):
    """``coverplan indicators --json``: the plan's 14 rows and the policy checks, per town."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "today": "2026-05-01",
                    "home_reading": "town",
                    "indicators": [],
                    "policy_checks": [],
                    "awaiting_review": 0,
                    "seconds": 1.234,
                }
            ]
        }
    )

    today: str
    home_reading: str
    indicators: list[dict[str, Any]]
    policy_checks: list[dict[str, Any]]
    awaiting_review: int
    seconds: float


def _types(result: CoverageResult, type_key: str | None) -> list[str]:
    """The type keys shown: ``type_key`` (checked) or every type of ``result``."""
    keys = [t.type for t in result.types]
    if type_key is None:
        return keys
    if type_key not in keys:
        raise unknown_type(type_key, keys)
    return [type_key]


def _entries(entries: Any, principal: Principal, config: Config) -> list[dict[str, Any]]:
    """``off_network``/``not_located`` entries with their person counts suppressed."""
    return suppress_counts(
        [to_jsonable(e) for e in entries],
        ("count",),
        principal=principal,
        min_count=config.privacy.min_count,
    )


@router.get(
    "/coverage",
    response_model=CoverageSummaryOut,
    summary="服务覆盖汇总：各设施类型的可达与容量覆盖、十四五指标（同 coverage --json）",
    description="结果按数据版本缓存：导入、修改设施等写入后自动重算。",
    responses=responses(401, 403, 422),
)
def coverage_summary(
    request: Request, principal: Caller, config: Cfg, type: TypeQuery = None
) -> Response:
    def build() -> dict[str, Any]:
        result = cached_coverage(request)
        keys = set(_types(result, type))
        min_count = config.privacy.min_count
        doc = result.to_json()
        return {
            "today": doc["today"],
            "data_version": request.app.state.store.data_version(),
            "facility_types": [t for t in doc["facility_types"] if t["type"] in keys],
            "indicators": suppress_indicators(
                doc["indicators"], principal=principal, min_count=min_count
            ),
            "policy_checks": suppress_indicators(
                doc["policy_checks"], principal=principal, min_count=min_count
            ),
            "awaiting_review": doc["awaiting_review"],
            "assignment_rule": doc["assignment_rule"],
            "networks": doc["networks"],
        }

    return cached_json(request, ("coverage", principal.full_records, type), build)


def _village_rows(
    result: CoverageResult, keys: list[str], principal: Principal, config: Config
) -> list[dict[str, Any]]:
    v = result.villages
    rows = records(v[v["type"].isin(keys)])
    return suppress_counts(
        rows, ROW_COUNTS, principal=principal, min_count=config.privacy.min_count
    )


@router.get(
    "/coverage/villages",
    response_model=list[VillageCoverageOut],
    summary="分村社覆盖（每个村社、每类设施一行）",
    description="管理员以外的角色，1 至 [privacy] min_count-1 的人数为 null。",
    responses=responses(401, 403, 422),
)
def coverage_villages(
    request: Request, principal: Caller, config: Cfg, type: TypeQuery = None
) -> Response:
    def build() -> list[dict[str, Any]]:
        result = cached_coverage(request)
        return _village_rows(result, _types(result, type), principal, config)

    return cached_json(request, ("villages", principal.full_records, type), build)


@router.get(
    "/coverage/villages.geojson",
    summary="分村社覆盖（GeoJSON FeatureCollection，WGS-84；每个村社一个要素）",
    description=(
        "properties 为该村社各类设施的覆盖（by_type：类型代码 → 同 /coverage/villages 的数值）；"
        "几何为村界，无村界时为村委会点。"
        "管理员以外的角色，1 至 [privacy] min_count-1 的人数为 null。"
    ),
    responses={
        200: {"content": {"application/geo+json": {}}, "description": "FeatureCollection"},
        **responses(401, 403, 422),
    },
)
def coverage_villages_geojson(
    request: Request, principal: Caller, config: Cfg, type: TypeQuery = None
) -> Response:
    return cached_json(
        request,
        ("villages.geojson", principal.full_records, type),
        lambda: _village_features(request, principal, config, type),
        media_type="application/geo+json",
    )


def _village_features(
    request: Request, principal: Principal, config: Config, type: str | None
) -> dict[str, Any]:
    from shapely.geometry import mapping

    result = cached_coverage(request)
    rows = _village_rows(result, _types(result, type), principal, config)
    by_village: dict[str, dict[str, Any]] = {}
    for r in rows:
        figures = {
            k: v
            for k, v in r.items()
            if k not in ("village_code", "village_name", "town_code", "town_name", "type")
        }
        by_village.setdefault(str(r["village_code"]), {})[str(r["type"])] = figures
    frame = result.village_geometry
    features: list[dict[str, Any]] = []
    if frame is not None:
        for row in frame.itertuples(index=False):
            geom = row.geometry
            code = str(row.code)
            features.append(
                {
                    "type": "Feature",
                    "id": code,
                    "geometry": None if geom is None or geom.is_empty else mapping(geom),
                    "properties": {
                        "code": code,
                        "name": str(row.name),
                        "town_code": str(row.town_code),
                        "town_name": str(row.town_name),
                        "by_type": by_village.get(code, {}),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


@router.get(
    "/coverage/towns",
    response_model=list[TownCoverageOut],
    summary="分镇街覆盖（每个镇街、每类设施一行）",
    description="管理员以外的角色，1 至 [privacy] min_count-1 的人数为 null。",
    responses=responses(401, 403, 422),
)
def coverage_towns(
    request: Request, principal: Caller, config: Cfg, type: TypeQuery = None
) -> Response:
    return cached_json(
        request,
        ("towns", principal.full_records, type),
        lambda: _town_rows(request, principal, config, type),
    )


def _town_rows(
    request: Request, principal: Principal, config: Config, type: str | None
) -> list[dict[str, Any]]:
    result = cached_coverage(request)
    keys = _types(result, type)
    rows = []
    for town in result.towns_json():
        for figures in town["facility_types"]:
            if figures["type"] in keys:
                row = {
                    "town_code": town["town_code"],
                    "town_name": town["town_name"],
                    "has_home": town["has_home"],
                    **figures,
                }
                travellers = (row["eligible"] or 0) - (row["home_service"] or 0)
                row["uncovered"] = travellers - row["covered"]
                row["over_capacity"] = row["covered"] - row["covered_within_capacity"]
                rows.append(row)
    return suppress_counts(
        rows, ROW_COUNTS, principal=principal, min_count=config.privacy.min_count
    )


@router.get(
    "/gaps",
    response_model=GapsOut,
    summary="缺口：未满足需求的村社排名与政策落实缺口（同 gaps --json --top N）",
    description="管理员以外的角色，1 至 [privacy] min_count-1 的人数为 null（连同其每百人比例）。",
    responses=responses(401, 403, 422),
)
def gaps(
    request: Request,
    principal: Caller,
    config: Cfg,
    type: TypeQuery = None,
    top: Annotated[int, Query(ge=1, le=10_000, description="每类前 N 个村社")] = 10,
) -> Response:
    return cached_json(
        request,
        ("gaps", principal.full_records, type, top),
        lambda: _gaps(request, principal, config, type, top),
    )


def _gaps(
    request: Request, principal: Principal, config: Config, type: str | None, top: int
) -> dict[str, Any]:
    result = cached_coverage(request)
    keys = _types(result, type)
    doc = cached_gaps(request).to_json(top=top)
    min_count = config.privacy.min_count
    cov = [r for r in doc["coverage_gaps"] if r["type"] in keys]
    policy = suppress_counts(
        doc["policy_gaps"], ("residents", *POLICY_PARTS), principal=principal, min_count=min_count
    )
    for row in policy:
        for part in POLICY_PARTS:
            if row[part] is None:
                row[f"{part}_per_100"] = None
    return {
        "coverage_gaps": suppress_counts(cov, GAP_COUNTS, principal=principal, min_count=min_count),
        "policy_gaps": policy,
        "policy_weights_parts": doc["policy_weights_parts"],
        "off_network": _entries(doc["off_network"], principal, config),
        "not_located": _entries(doc["not_located"], principal, config),
        "assignment_rule": doc["assignment_rule"],
    }


@router.get(
    "/indicators",
    response_model=IndicatorsOut,
    summary="十四五主要指标表：14 项与其他政策要求，分镇街（同 indicators --json）",
    description="管理员以外的角色，分镇街的分子、分母为 1 至 [privacy] min_count-1 时为 null。",
    responses=responses(401, 403),
)
def indicator_table(request: Request, principal: Caller, config: Cfg) -> Response:
    return cached_json(
        request,
        ("indicators", principal.full_records),
        lambda: _indicators(request, principal, config),
    )


def _indicators(request: Request, principal: Principal, config: Config) -> dict[str, Any]:
    doc = cached_indicators(request).to_json()
    min_count = config.privacy.min_count
    doc["indicators"] = suppress_indicators(
        doc["indicators"], principal=principal, min_count=min_count
    )
    doc["policy_checks"] = suppress_indicators(
        doc["policy_checks"], principal=principal, min_count=min_count
    )
    return doc
