"""The ``[maps]`` section of the configuration (see :mod:`planner.settings`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["MapsConfig"]


class MapsConfig(BaseModel):
    """Maps (``[maps]``): base layers, an optional tile layer, colours and sizes.

    ``tile_url``: a tile server on the intranet (``{z}/{x}/{y}``; empty: no
    tiles, the district, towns, villages and roads are the base);
    ``tile_crs``: the tiles' coordinates (``gcj02`` for Amap/Tencent tiles:
    every overlay is then shifted to GCJ-02 for display, the store stays
    WGS-84); ``tile_attribution``: the tiles' credit line. ``simplify_m``:
    tolerance in metres of the embedded outlines and roads. Roads: when the
    drive network has more than ``roads_max_segments`` road segments, only those
    of at least ``roads_main_kmh`` km/h are drawn. ``coverage_bins``: class
    limits in percent of the coverage maps (ascending), ``coverage_colours``
    one colour more than limits; circle radii in pixels.
    """

    model_config = ConfigDict(extra="forbid")

    tile_url: str = ""
    tile_crs: Literal["wgs84", "gcj02"] = "wgs84"
    tile_attribution: str = ""
    simplify_m: float = Field(default=20.0, ge=0)
    roads_max_segments: int = Field(default=5000, ge=0)
    roads_main_kmh: float = Field(default=40.0, gt=0)
    background: str = "#f2efe9"
    coverage_bins: list[float] = [50.0, 80.0, 95.0]
    coverage_colours: list[str] = ["#d7301f", "#fc8d59", "#fdcc8a", "#1a9850"]
    count_colours: list[str] = ["#fee5d9", "#fcae91", "#fb6a4a", "#cb181d"]
    team_colours: list[str] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    radius_min_px: float = Field(default=5.0, gt=0)
    radius_max_px: float = Field(default=18.0, gt=0)

    @field_validator("coverage_bins")
    @classmethod
    def _bins_ascending(cls, v: list[float]) -> list[float]:
        if v != sorted(set(v)) or any(not 0 <= b <= 100 for b in v):
            raise ValueError("分级界限应在 0–100 之间且严格递增（百分比）")
        return v

    @model_validator(mode="after")
    def _colours_match(self) -> MapsConfig:
        if len(self.coverage_colours) != len(self.coverage_bins) + 1:
            raise ValueError(
                f"coverage_colours 应比 coverage_bins 多 1 种颜色"
                f"（现有 {len(self.coverage_colours)} 种、{len(self.coverage_bins)} 个界限）"
            )
        if not self.count_colours or not self.team_colours:
            raise ValueError("count_colours 与 team_colours 至少各需 1 种颜色")
        if self.radius_max_px < self.radius_min_px:
            raise ValueError("radius_max_px 应 ≥ radius_min_px")
        return self
