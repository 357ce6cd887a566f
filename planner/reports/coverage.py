"""Coverage and gap outputs on disk: a GeoPackage for GIS and CSV tables for people.

GeoPackage layers use stable English field names (other systems read them);
CSV tables have Chinese headers and open in Excel (UTF-8 with BOM). The tables
with within-capacity figures start with a note line (``# …``) stating the rule
that gave the places (:data:`planner.coverage.nearest_first.RULE_ZH`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from planner.coverage.gaps import PART_LABELS, POLICY_PARTS, Gaps
from planner.coverage.nearest_first import RULE_ZH
from planner.coverage.result import VILLAGE_FIELDS, CoverageResult
from planner.reports.indicators import write_indicator_csv
from planner.reports.tables import write_layers, write_table

_ZH = {
    "type": "设施类型代码",
    "label": "设施类型",
    "eligible": "符合条件人数",
    "home_service": "需上门服务",
    "covered": "可达人数",
    "covered_within_capacity": "容量内可服务人数",
    "uncovered": "不可达人数",
    "over_capacity": "超出容量人数",
    "coverage_pct": "覆盖率%",
    "accessibility": "可及性指数(每千人床位/名额)",
    "village_code": "村社代码",
    "village_name": "村社",
    "town_code": "镇街代码",
    "town_name": "镇街",
    "threshold_min": "时间阈值(分钟)",
    "mode": "出行方式",
    "catchment": "服务范围",
    "facilities": "设施数",
    "capacity": "容量合计",
    "has_home": "有残疾人之家",
    "name": "名称",
    "key": "指标",
    "target": "目标%",
    "value": "现值%",
    "met": "是否达标",
    "basis": "口径",
    "rank": "排名",
    "unmet": "未满足人数",
    "residents": "持证人数",
    "score": "政策缺口分",
    "off_network": "距路网过远人数",
    "not_located": "未定位人数",
    "in_reach_no_place": "可达但无名额人数",
    "out_of_reach": "不可达人数",
    "nearest_first_skipped": "为保持最大人数跳过的配对数",
}
# the per-facility table (coverage_facilities.csv)
_SITE_COLUMNS = {
    "type": "设施类型代码",
    "label": "设施类型",
    "facility_key": "设施编号",
    "name": "名称",
    "town_name": "镇街",
    "village_code": "村社代码",
    "capacity": "容量",
    "load": "容量内分配人数",
    "free": "空余名额",
    "nearest": "以此为最近设施的可达人数",
}
_ZH.update(PART_LABELS)
_ZH.update({f"{p}_per_100": f"{PART_LABELS[p]}(每百人)" for p in POLICY_PARTS})


@dataclass(frozen=True)
class CoverageFiles:
    """The files written: the GeoPackage and the CSV tables, in order."""

    geopackage: Path
    tables: tuple[Path, ...]

    def paths(self) -> list[str]:
        """Every file, GeoPackage first (the ``files`` of ``--json``)."""
        return [str(self.geopackage), *map(str, self.tables)]


def _csv(frame: pd.DataFrame, path: Path, *, rule: bool = False) -> Path:
    """A table with Chinese headers; ``rule``: with the note stating the capacity rule."""
    return write_table(frame, path, columns=_ZH, note=RULE_ZH if rule else None)


def sites_table(result: CoverageResult) -> pd.DataFrame:
    """One row per facility of the requested types (type, then code): who got its
    places, how many are free, how many have it as their nearest."""
    fac = pd.DataFrame(result.facilities.drop(columns="geometry"))
    towns = result.towns.drop_duplicates("town_code").set_index("town_code")["town_name"]
    fac["town_name"] = fac["town_code"].map(towns)
    for col in ("capacity", "free"):
        fac[col] = pd.to_numeric(fac[col], errors="coerce").astype("Int64")
    fac = fac.rename(columns={"key": "facility_key"}).sort_values(["type", "facility_key"])
    return fac[list(_SITE_COLUMNS)].rename(columns=_SITE_COLUMNS).reset_index(drop=True)


def villages_wide(
    result: CoverageResult, villages: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Villages with ``<type>_<field>`` columns for every type (the GeoPackage layer).

    ``villages``: the village frame with geometry (default: the one the result
    was computed on).
    """
    villages = result.village_geometry if villages is None else villages
    if villages is None:
        raise ValueError("the coverage result carries no village geometry: pass villages=")
    wide = result.villages.pivot(index="village_code", columns="type", values=list(VILLAGE_FIELDS))
    wide.columns = [f"{pair[1]}_{pair[0]}" for pair in wide.columns.to_flat_index()]
    base = villages[["code", "name", "town_code", "town_name", "synthetic", "geometry"]]
    out = base.merge(wide, left_on="code", right_index=True, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def write_coverage(
    result: CoverageResult,
    *,
    out_dir: Path,
    gaps: Gaps | None = None,
    villages: gpd.GeoDataFrame | None = None,
) -> CoverageFiles:
    """Write ``coverage.gpkg`` (layers villages, facilities, isochrones) and CSV tables.

    Tables: ``coverage_types.csv``, ``coverage_villages.csv``,
    ``coverage_towns.csv``, ``indicators.csv`` (the plan's indicator table, as
    :func:`planner.reports.indicators.write_indicator_csv`), ``coverage_facilities.csv``,
    and with ``gaps`` ``gaps_coverage.csv`` and ``gaps_policy.csv`` (Chinese headers,
    UTF-8 with BOM; those with within-capacity figures start with the rule's note).
    """
    fac = result.facilities.drop(columns=["key"]).copy()
    fac["capacity"] = fac["capacity"].astype("float64")
    fac["placed"] = fac["placed"].astype("float64")
    gpkg = write_layers(
        {
            "villages": villages_wide(result, villages),
            "facilities": fac,
            "isochrones": result.isochrones,
        },
        out_dir / "coverage.gpkg",
        keep_empty=("villages", "facilities"),
    )
    types = pd.DataFrame([t.to_json() for t in result.types])
    tables = [
        _csv(types, out_dir / "coverage_types.csv", rule=True),
        _csv(result.villages, out_dir / "coverage_villages.csv", rule=True),
        _csv(result.towns, out_dir / "coverage_towns.csv", rule=True),
        write_indicator_csv(result.indicators, out_dir / "indicators.csv"),
        write_table(sites_table(result), out_dir / "coverage_facilities.csv", note=RULE_ZH),
    ]
    if gaps is not None:
        tables.append(_csv(gaps.coverage, out_dir / "gaps_coverage.csv", rule=True))
        tables.append(_csv(gaps.policy, out_dir / "gaps_policy.csv"))
    return CoverageFiles(geopackage=gpkg, tables=tuple(tables))
