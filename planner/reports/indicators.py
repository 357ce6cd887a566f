"""The 十四五 indicator table on disk: district and per-town tables with Chinese headers.

``coverplan indicators --out DIR`` writes ``indicators.csv`` (the plan's 14
rows), ``indicators_towns.csv`` (each row per town; 残疾人之家覆盖率 once per
reading), ``policy_checks.csv`` (the further policy checks) and
``indicators.xlsx`` (the three as sheets). ``coverplan coverage --out`` writes
the same ``indicators.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.domain.indicators import Indicator
from planner.reports.tables import write_table, write_workbook

__all__ = [
    "INDICATOR_HEADERS",
    "IndicatorFiles",
    "indicator_frame",
    "town_frame",
    "write_indicator_csv",
    "write_indicators",
]

#: Column → Chinese header of the indicator tables (``指标``/``名称``/``目标%``/
#: ``现值%``/``是否达标``/``口径`` as in the earlier coverage ``indicators.csv``).
INDICATOR_HEADERS = {
    "number": "序号",
    "key": "指标",
    "name": "名称",
    "kind": "属性",
    "numerator_definition": "分子定义",
    "denominator_definition": "分母定义",
    "numerator": "分子",
    "denominator": "分母",
    "value": "现值",
    "unit": "单位",
    "value_pct": "现值%",
    "target_text": "目标值",
    "comparison": "比较",
    "target": "目标",
    "target_pct": "目标%",
    "met": "是否达标",
    "status": "判定",
    "data_needed": "计算所需数据",
    "reading": "口径代码",
    "reading_name": "口径名称",
    "note": "说明",
    "basis": "口径",
    "town_code": "镇街代码",
    "town_name": "镇街",
}
_NOTE = "判定按分子/分母的精确比值：目标 >99% 时 99.00% 不达标，≥99% 时达标"
_SHEETS = ("主要指标", "分镇街", "其他政策要求")


def indicator_frame(items: Iterable[Indicator]) -> pd.DataFrame:
    """One row per indicator: definition, counts, value, target and comparison, judgement."""
    rows = []
    for i in items:
        j = i.to_json()
        rows.append(
            {
                "number": i.number,
                "key": i.key,
                "name": i.name,
                "kind": i.kind,
                "numerator_definition": i.definition.numerator,
                "denominator_definition": i.definition.denominator,
                "numerator": j["numerator"],
                "denominator": j["denominator"],
                "value": j["value"],
                "unit": j["unit"],
                "value_pct": j["value_pct"],
                "target_text": j["target_text"],
                "comparison": j["comparison"],
                "target": j["target"],
                "target_pct": j["target_pct"],
                "met": j["met"],
                "status": j["status"],
                "data_needed": j["data_needed"],
                "reading_name": next((r.label for r in i.readings if r.key == i.reading), None),
                "note": i.note,
                "basis": i.basis,
            }
        )
    return pd.DataFrame(rows, columns=list(_DISTRICT_COLUMNS), dtype=object)


_DISTRICT_COLUMNS = (
    "number",
    "key",
    "name",
    "kind",
    "numerator_definition",
    "denominator_definition",
    "numerator",
    "denominator",
    "value",
    "unit",
    "value_pct",
    "target_text",
    "comparison",
    "target",
    "target_pct",
    "met",
    "status",
    "data_needed",
    "reading_name",
    "note",
    "basis",
)
_TOWN_COLUMNS = (
    "town_code",
    "town_name",
    "number",
    "key",
    "name",
    "reading",
    "reading_name",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target_text",
    "met",
)


def town_frame(items: Iterable[Indicator]) -> pd.DataFrame:
    """One row per (town, indicator, reading) for the indicators with a per-town breakdown
    (town code order, then the plan's order)."""
    rows = []
    for i in items:
        j = i.to_json()
        readings = j["readings"] or [{"key": None, "name": None, "by_town": j["by_town"]}]
        for r in readings:
            for t in r["by_town"]:
                rows.append(
                    {
                        "town_code": t["town_code"],
                        "town_name": t["town_name"],
                        "number": i.number,
                        "key": i.key,
                        "name": i.name,
                        "reading": r["key"],
                        "reading_name": r["name"],
                        "numerator": t["numerator"],
                        "denominator": t["denominator"],
                        "value": t["value"],
                        "unit": j["unit"],
                        "target_text": j["target_text"],
                        "met": t["met"],
                    }
                )
    frame = pd.DataFrame(rows, columns=list(_TOWN_COLUMNS), dtype=object)
    return frame.sort_values("town_code", kind="stable").reset_index(drop=True)


def write_indicator_csv(indicators: Iterable[Indicator], path: Path) -> Path:
    """The plan's table as one CSV (no note line: the header is the first line)."""
    return write_table(indicator_frame(indicators), path, columns=INDICATOR_HEADERS)


@dataclass(frozen=True)
class IndicatorFiles:
    """The files written, in order: district CSV, per-town CSV, policy checks CSV, workbook."""

    district: Path
    towns: Path
    policy_checks: Path
    workbook: Path

    def paths(self) -> list[str]:
        """Every file (the ``files`` of ``--json``)."""
        return [str(p) for p in (self.district, self.towns, self.policy_checks, self.workbook)]


def write_indicators(
    indicators: Iterable[Indicator], policy_checks: Iterable[Indicator], *, out_dir: Path
) -> IndicatorFiles:
    """Write ``indicators.csv``, ``indicators_towns.csv``, ``policy_checks.csv`` and
    ``indicators.xlsx`` (Chinese headers; CSV in UTF-8 with BOM) into ``out_dir``."""
    plan, policy = list(indicators), list(policy_checks)
    sheets = {
        _SHEETS[0]: indicator_frame(plan),
        _SHEETS[1]: town_frame([*plan, *policy]),
        _SHEETS[2]: indicator_frame(policy),
    }
    h = INDICATOR_HEADERS
    return IndicatorFiles(
        district=write_indicator_csv(plan, out_dir / "indicators.csv"),
        towns=write_table(sheets[_SHEETS[1]], out_dir / "indicators_towns.csv", columns=h),
        policy_checks=write_table(sheets[_SHEETS[2]], out_dir / "policy_checks.csv", columns=h),
        workbook=write_workbook(
            sheets, out_dir / "indicators.xlsx", columns=h, notes={_SHEETS[0]: _NOTE}
        ),
    )
