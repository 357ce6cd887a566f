"""The planner's tables: per facility type, village and town, the coverage gaps and
the policy gaps, and the plan's indicators — the figures of the HTTP API's
``/coverage``, ``/coverage/villages``, ``/coverage/towns``, ``/gaps`` and
``/indicators`` (the same cached analyses, the same suppression), with Chinese
headers, as a page shows them and as CSV (UTF-8 with BOM) or XLSX downloads.

A person count of 1..``[privacy] min_count``-1 is suppressed for every role but
admin: it reads 「<5」 on the page and in the files (never the number).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import Request

from api.analyses import (
    cached_coverage,
    cached_gaps,
    cached_indicators,
    suppress_counts,
)
from planner.domain.access import Principal
from planner.errors import InputError, NotFoundError
from planner.jsonable import records
from planner.reports.tables import write_table
from planner.services.types import COUNTED, GAP_COUNTS, POLICY_PARTS
from planner.settings import Config

__all__ = [
    "FORMATS",
    "TABLES",
    "Table",
    "build_table",
    "default_type",
    "encode_table",
    "type_options",
]

#: Download formats and their media types.
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: The facility type shown first (the plan's 残疾人之家) when it is configured.
FIRST_TYPE = "home"
PERCENT = 100.0
PCT_DECIMALS = 2
NO_VALUE = "—"

_VILLAGE = (("village_code", "村社代码"), ("village_name", "村社"), ("town_name", "镇街"))
_COUNTS = (
    ("eligible", "符合条件人数"),
    ("home_service", "需上门服务"),
    ("covered", "可达人数"),
    ("covered_within_capacity", "容量内可服务人数"),
    ("uncovered", "不可达人数"),
    ("over_capacity", "超出容量人数"),
    ("coverage_pct", "覆盖率%"),
)
_REASONS = (("off_network", "距路网过远人数"), ("not_located", "未定位人数"))
_PARTS = {
    "severe_without_care": "一二级未享受护理补贴",
    "poor_without_living": "低保低边未享受生活补贴",
    "devices_overdue": "辅具超期未更换",
    "visits_overdue": "入户走访超期",
}
#: The person counts of a village or town row (suppressed for roles but admin).
ROW_COUNTS = (*COUNTED, "uncovered", "over_capacity")


@dataclass(frozen=True)
class Table:
    """A table as shown: ``columns`` (key, Chinese header), ``rows`` (key → value,
    None where a count is suppressed or there is no value), ``counts`` (the keys
    holding person counts: None there is 「<5」), ``title`` and file ``name``;
    ``suppressed``: small counts are hidden (every role but admin)."""

    name: str
    title: str
    columns: tuple[tuple[str, str], ...]
    rows: list[dict[str, Any]]
    counts: frozenset[str]
    min_count: int
    suppressed: bool = True

    def cell(self, row: dict[str, Any], key: str) -> str:
        """The text of a cell on the page."""
        v = row.get(key)
        if v is None:
            return f"<{self.min_count}" if key in self.counts else NO_VALUE
        if isinstance(v, bool):
            return "是" if v else "否"
        if isinstance(v, float):
            return (
                f"{v:.{PCT_DECIMALS}f}" if not v.is_integer() or key.endswith("pct") else f"{v:g}"
            )
        return str(v)

    def frame(self) -> pd.DataFrame:
        """The table with Chinese headers for a file: suppressed counts 「<5」."""
        data = []
        for row in self.rows:
            out: list[Any] = []
            for key, _ in self.columns:
                v = row.get(key)
                if v is None and key in self.counts:
                    v = f"<{self.min_count}"
                elif isinstance(v, bool):
                    v = "是" if v else "否"
                out.append(v)
            data.append(out)
        return pd.DataFrame(data, columns=[h for _, h in self.columns], dtype=object)


def type_options(request: Request) -> list[tuple[str, str]]:
    """(key, Chinese label) of every facility type of the coverage, in config order."""
    return [(t.type, t.label) for t in cached_coverage(request).types]


def default_type(request: Request, wanted: str | None) -> str:
    """``wanted`` when it is a type of the coverage, else the first type.

    Raises
    ------
    InputError
        ``wanted`` is given but unknown (names the known types).
    """
    keys = [k for k, _ in type_options(request)]
    if wanted:
        if wanted not in keys:
            raise InputError(f"设施类型「{wanted}」不存在；可选：{'、'.join(keys)}")
        return wanted
    return FIRST_TYPE if FIRST_TYPE in keys else keys[0]


def _types_rows(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    del type_key, principal, cfg
    rows = []
    for t in cached_coverage(request).types:
        j = t.to_json()
        travellers = t.eligible - t.home_service
        j["capacity_pct"] = (
            round(PERCENT * t.covered_within_capacity / travellers, PCT_DECIMALS)
            if travellers
            else None
        )
        rows.append(j)
    return rows


def _rows_of(frame: pd.DataFrame, type_key: str) -> list[dict[str, Any]]:
    return records(frame[frame["type"] == type_key])


def _villages(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    result = cached_coverage(request)
    rows = _rows_of(result.villages, type_key)
    return suppress_counts(rows, ROW_COUNTS, principal=principal, min_count=cfg.privacy.min_count)


def _towns(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    result = cached_coverage(request)
    rows = _rows_of(result.towns, type_key)
    for row in rows:
        row["uncovered"] = (row["eligible"] or 0) - (row["home_service"] or 0) - row["covered"]
        row["over_capacity"] = row["covered"] - row["covered_within_capacity"]
    return suppress_counts(rows, ROW_COUNTS, principal=principal, min_count=cfg.privacy.min_count)


def _gaps(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    rows = [r for r in records(cached_gaps(request).coverage) if r["type"] == type_key]
    return suppress_counts(rows, GAP_COUNTS, principal=principal, min_count=cfg.privacy.min_count)


def _policy(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    del type_key
    rows = suppress_counts(
        records(cached_gaps(request).policy),
        ("residents", *POLICY_PARTS),
        principal=principal,
        min_count=cfg.privacy.min_count,
    )
    for row in rows:
        for part in POLICY_PARTS:
            if row[part] is None:
                row[f"{part}_per_100"] = None
    return rows


def _indicators(request: Request, type_key: str, principal: Principal, cfg: Config) -> list[Any]:
    del type_key, principal, cfg
    table = cached_indicators(request).table
    rows = []
    for group, items in (("主要指标", table.indicators), ("其他政策要求", table.policy_checks)):
        for i in items:
            j = i.to_json()
            rows.append({**j, "group": group, "value_text": _value_text(j)})
    return rows


def _value_text(j: dict[str, Any]) -> str | None:
    """The value as the CLI prints it: ``84.03%（980/1166）``, ``12家``, or None (无数据)."""
    value = j["value"]
    if value is None:
        return None
    if j["unit"] != "%":
        return f"{value:g}{j['unit']}"
    return f"{value:.2f}%（{j['numerator']}/{j['denominator']}）"


Builder = Callable[[Request, str, Principal, Config], list[dict[str, Any]]]


@dataclass(frozen=True)
class _Spec:
    title: str
    columns: tuple[tuple[str, str], ...]
    counts: tuple[str, ...]
    build: Builder
    per_type: bool = True


TABLES: dict[str, _Spec] = {
    "types": _Spec(
        "各类设施覆盖",
        (
            ("label", "设施类型"),
            ("facilities", "设施数"),
            ("capacity", "名额合计"),
            ("eligible", "符合条件人数"),
            ("home_service", "需上门服务"),
            ("covered", "可达人数"),
            ("covered_within_capacity", "容量内可服务人数"),
            ("coverage_pct", "覆盖率%"),
            ("capacity_pct", "容量内覆盖率%"),
            ("threshold_min", "时间阈值(分钟)"),
        ),
        (),
        _types_rows,
        per_type=False,
    ),
    "villages": _Spec(
        "分村社覆盖",
        (*_VILLAGE, *_COUNTS, ("accessibility", "可及性指数(每千人名额)"), *_REASONS),
        ROW_COUNTS,
        _villages,
    ),
    "towns": _Spec(
        "分镇街覆盖",
        (
            ("town_code", "镇街代码"),
            ("town_name", "镇街"),
            ("has_home", "有残疾人之家"),
            *_COUNTS,
            *_REASONS,
        ),
        ROW_COUNTS,
        _towns,
    ),
    "gaps": _Spec(
        "覆盖缺口（未满足需求的村社排名）",
        (
            ("rank", "排名"),
            *_VILLAGE,
            ("eligible", "符合条件人数"),
            ("unmet", "未满足人数"),
            ("in_reach_no_place", "可达但无名额人数"),
            ("out_of_reach", "不可达人数"),
            *_REASONS,
        ),
        GAP_COUNTS,
        _gaps,
    ),
    "policy": _Spec(
        "政策落实缺口（按村社）",
        (
            ("rank", "排名"),
            *_VILLAGE,
            ("residents", "持证人数"),
            *((p, label) for p, label in _PARTS.items()),
            *((f"{p}_per_100", f"{label}(每百人)") for p, label in _PARTS.items()),
            ("score", "政策缺口分"),
        ),
        ("residents", *POLICY_PARTS),
        _policy,
        per_type=False,
    ),
    "indicators": _Spec(
        "十四五主要指标",
        (
            ("group", "类别"),
            ("number", "序号"),
            ("name", "名称"),
            ("kind", "属性"),
            ("value_text", "现值"),
            ("target_text", "目标值"),
            ("status", "判定"),
            ("data_needed", "计算所需数据"),
            ("basis", "口径"),
        ),
        (),
        _indicators,
        per_type=False,
    ),
}


def build_table(
    request: Request, name: str, *, type_key: str, principal: Principal, config: Config
) -> Table:
    """Table ``name`` (a key of :data:`TABLES`) for facility type ``type_key``.

    Raises
    ------
    NotFoundError
        An unknown table name.
    """
    spec = TABLES.get(name)
    if spec is None:
        raise NotFoundError(f"没有名为「{name}」的表；可下载：{'、'.join(TABLES)}")
    title = spec.title
    if spec.per_type:
        label = dict(type_options(request)).get(type_key, type_key)
        title = f"{title}（{label}）"
    return Table(
        name=name,
        title=title,
        columns=spec.columns,
        rows=spec.build(request, type_key, principal, config),
        counts=frozenset(spec.counts),
        min_count=config.privacy.min_count,
        suppressed=bool(spec.counts) and not principal.full_records,
    )


def encode_table(table: Table, fmt: str) -> bytes:
    """The table as a CSV (UTF-8 with BOM) or XLSX file's bytes.

    Raises
    ------
    InputError
        A format other than ``csv`` or ``xlsx``.
    """
    if fmt not in FORMATS:
        raise InputError(f"下载格式「{fmt}」无效：应为 csv 或 xlsx")
    with tempfile.TemporaryDirectory(prefix="coverplan-download-") as tmp:
        path = write_table(table.frame(), Path(tmp) / f"{table.name}.{fmt}", sheet=table.title)
        return path.read_bytes()
