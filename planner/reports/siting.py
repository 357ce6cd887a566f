"""Siting proposal files for leaders: CSV and XLSX with Chinese headers (through
:mod:`planner.reports.tables`), and a GeoJSON of the proposed sites (for maps)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.reports.tables import write_table, write_workbook
from planner.siting.proposal import Proposal
from planner.siting.reasons import why_zh
from planner.units import PERCENT

#: Decimals of the optimality gap shown in percent.
GAP_PCT_DECIMALS = 3

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
    "why": "为什么选这里",
}
ACTION_LABELS = {"new": "新建", "upgrade": "升级", "close": "关闭", "relocate": "迁建"}
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
    whys = [extra.get("why") for extra in proposal.extras]
    whys += [None] * (len(sel) - len(whys))
    sel["why"] = [
        None if why is None else why_zh(why, objective=proposal.objective) for why in whys
    ]
    return sel


def _towns(proposal: Proposal) -> pd.DataFrame:
    towns = proposal.towns()
    return towns[[c for c in TOWN_HEADERS if c in towns]]


def _summary(proposal: Proposal) -> pd.DataFrame:
    b, a = proposal.totals("before").to_json(), proposal.totals("after").to_json()
    rows = [{"指标": label, "方案前": b[k], "方案后": a[k]} for k, label in SUMMARY_LABELS.items()]
    for i in proposal.indicators():
        rows.append(
            {
                "指标": f"{i.name}（目标 {i.target_pct:g}%）",
                "方案前": i.before_pct,
                "方案后": i.after_pct,
            }
        )
    r = proposal.result
    rows += [
        {"指标": "费用（元）", "方案前": None, "方案后": proposal.cost},
        {"指标": "目标值", "方案前": None, "方案后": r.objective},
        {"指标": "界", "方案前": None, "方案后": r.bound},
        {"指标": "最优性差距%", "方案前": None, "方案后": round(PERCENT * r.gap, GAP_PCT_DECIMALS)},
        {"指标": "求解器", "方案前": None, "方案后": r.solver},
    ]
    return pd.DataFrame(rows)


def _geojson(proposal: Proposal) -> str:
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
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def write_proposal(proposal: Proposal, out_dir: Path) -> ProposalFiles:
    """Write ``siting_selected.csv``, ``siting_towns.csv``, ``siting.xlsx``
    (sheets 方案, 镇街, 前后对比) and ``siting_sites.geojson`` into ``out_dir``."""
    out_dir = Path(out_dir)
    files = ProposalFiles(
        selected=out_dir / "siting_selected.csv",
        towns=out_dir / "siting_towns.csv",
        workbook=out_dir / "siting.xlsx",
        geojson=out_dir / "siting_sites.geojson",
    )
    sel, towns, summary = _selected(proposal), _towns(proposal), _summary(proposal)
    write_table(sel, files.selected, columns=SELECTED_HEADERS)
    write_table(towns, files.towns, columns=TOWN_HEADERS)
    write_workbook(
        {
            "方案": sel.rename(columns=SELECTED_HEADERS),
            "镇街": towns.rename(columns=TOWN_HEADERS),
            "前后对比": summary,
        },
        files.workbook,
    )
    files.geojson.write_text(_geojson(proposal), encoding="utf-8")
    return files
