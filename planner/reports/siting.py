"""Siting proposal files for leaders: CSV and XLSX with Chinese headers, and
a GeoJSON of the proposed and existing sites (for maps)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.siting.proposal import Proposal

SELECTED_HEADERS = {
    "rank": "序号",
    "action": "类型",
    "name": "名称",
    "village_code": "村社代码",
    "village_name": "村社",
    "town_name": "镇街",
    "lon": "经度(WGS-84)",
    "lat": "纬度(WGS-84)",
    "cost": "费用（元）",
    "places": "新增名额",
    "marginal": "边际增益（人）",
}
ACTION_LABELS = {"new": "新建", "upgrade": "升级"}
TOWN_HEADERS = {
    "town_name": "镇街",
    "eligible_before": "符合条件人数",
    "covered_before": "可达人数（前）",
    "covered_after": "可达人数（后）",
    "covered_within_capacity_before": "容量内人数（前）",
    "covered_within_capacity_after": "容量内人数（后）",
    "coverage_pct_before": "可达率%（前）",
    "coverage_pct_after": "可达率%（后）",
    "gain": "容量内增加",
}
SUMMARY_LABELS = {
    "facilities": "设施数",
    "capacity": "总名额",
    "eligible": "符合条件人数",
    "home_service": "上门服务人数",
    "covered": "可达人数",
    "within_capacity": "容量内人数",
    "coverage_pct": "可达率%",
    "within_capacity_pct": "容量内覆盖率%",
    "mean_minutes": "平均用时（分钟）",
}


@dataclass(frozen=True)
class ProposalFiles:
    """Paths written by :func:`write_proposal`."""

    selected: Path
    towns: Path
    workbook: Path
    geojson: Path


def _selected(proposal: Proposal) -> pd.DataFrame:
    sel = proposal.selected.copy()
    sel["action"] = sel["action"].map(ACTION_LABELS)
    return sel.rename(columns=SELECTED_HEADERS)


def _towns(proposal: Proposal) -> pd.DataFrame:
    towns = proposal.towns()
    return towns[[c for c in TOWN_HEADERS if c in towns]].rename(columns=TOWN_HEADERS)


def _summary(proposal: Proposal) -> pd.DataFrame:
    b, a = proposal.totals("before"), proposal.totals("after")
    rows = [{"指标": label, "方案前": b[k], "方案后": a[k]} for k, label in SUMMARY_LABELS.items()]
    for i in proposal.indicators():
        rows.append(
            {
                "指标": f"{i['name']}（目标 {i['target_pct']:g}%）",
                "方案前": i["before_pct"],
                "方案后": i["after_pct"],
            }
        )
    r = proposal.result
    rows += [
        {"指标": "费用（元）", "方案前": None, "方案后": r.cost},
        {"指标": "目标值", "方案前": None, "方案后": r.objective},
        {"指标": "界", "方案前": None, "方案后": r.bound},
        {"指标": "最优性差距%", "方案前": None, "方案后": round(100 * r.gap, 3)},
        {"指标": "求解器", "方案前": None, "方案后": r.solver},
    ]
    return pd.DataFrame(rows)


def write_proposal(proposal: Proposal, out_dir: Path) -> ProposalFiles:
    """Write ``siting_selected.csv``, ``siting_towns.csv``, ``siting.xlsx``
    (sheets 方案, 镇街, 前后对比) and ``siting_sites.geojson`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ProposalFiles(
        selected=out_dir / "siting_selected.csv",
        towns=out_dir / "siting_towns.csv",
        workbook=out_dir / "siting.xlsx",
        geojson=out_dir / "siting_sites.geojson",
    )
    sel, towns, summary = _selected(proposal), _towns(proposal), _summary(proposal)
    sel.to_csv(files.selected, index=False, encoding="utf-8-sig")
    towns.to_csv(files.towns, index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(files.workbook, engine="openpyxl") as xw:
        sel.to_excel(xw, sheet_name="方案", index=False)
        towns.to_excel(xw, sheet_name="镇街", index=False)
        summary.to_excel(xw, sheet_name="前后对比", index=False)
        for ws in xw.book.worksheets:
            for col in ws.columns:
                width = max(len(str(c.value or "")) for c in col)
                ws.column_dimensions[col[0].column_letter].width = min(2 * width + 2, 40)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {
                "rank": r["rank"],
                "action": r["action"],
                "name": r["name"],
                "town_name": r["town_name"],
                "cost": r["cost"],
                "places": r["places"],
            },
        }
        for r in proposal.selected.to_dict(orient="records")
    ]
    files.geojson.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return files
