"""Snapping with the configured limit, the off-network entries and their Chinese summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.graph import RoadNetwork
from planner.coverage.offnetwork import (
    not_located_summary,
    point_entries,
    resident_entries,
    snap_to_network,
    summary_zh,
    village_share,
)

R = 6_371_008.8
LAT = 29.67


def north_m(metres: float) -> float:
    """Degrees of latitude for ``metres`` due north (on a meridian: R·Δφ)."""
    return math.degrees(metres / R)


def two_nodes() -> RoadNetwork:
    return RoadNetwork.from_edges(
        mode="drive",
        lon=[121.24, 121.25],
        lat=[LAT, LAT],
        u=[0, 1],
        v=[1, 0],
        seconds=[60.0, 60.0],
        metres=[966.0, 966.0],
    )


def test_snap_flags_points_beyond_the_limit_and_keeps_missing_ones_apart() -> None:
    net = two_nodes()
    lon = [121.24, 121.25, 121.25, np.nan, 121.24]
    lat = [LAT + north_m(100), LAT + north_m(499), LAT + north_m(501), np.nan, LAT + north_m(100)]
    snap = snap_to_network(net, lon, lat, max_m=500.0)
    assert snap.nearest.tolist() == [0, 1, 1, -1, 0]
    assert snap.node.tolist() == [0, 1, -1, -1, 0]  # nothing is routed from the 501-m point
    assert snap.off_network.tolist() == [False, False, True, False, False]
    assert snap.located.tolist() == [True, True, True, False, True]
    assert snap.usable.tolist() == [True, True, False, False, True]
    assert snap.distance_m[:3] == pytest.approx([100.0, 499.0, 501.0], abs=0.01)
    assert math.isnan(snap.distance_m[3])
    assert snap.mode == "drive" and snap.max_m == 500.0


def test_entries_farthest_first_and_residents_only_counted() -> None:
    net = two_nodes()
    lat = [LAT + north_m(d) for d in (600, 2000, 10)]
    snap = snap_to_network(net, [121.24, 121.25, 121.24], lat, max_m=500.0)
    villages = point_entries("village", snap, keys=["A", "B", "C"], names=["甲村", "乙村", "丙村"])
    assert [(e["code"], e["name"]) for e in villages] == [("B", "乙村"), ("A", "甲村")]
    assert villages[0] == {
        "kind": "village",
        "code": "B",
        "name": "乙村",
        "distance_m": pytest.approx(2000.0, abs=0.1),
        "mode": "drive",
    }
    res = resident_entries(
        ["B", "B", "A"],
        [2000.0, 1500.0, 600.0],
        village_names={"A": "甲村", "B": "乙村"},
        mode="walk",
    )
    assert res == [
        {
            "kind": "resident",
            "village_code": "B",
            "village_name": "乙村",
            "count": 2,
            "max_distance_m": 2000.0,
            "mode": "walk",
        },
        {
            "kind": "resident",
            "village_code": "A",
            "village_name": "甲村",
            "count": 1,
            "max_distance_m": 600.0,
            "mode": "walk",
        },
    ]
    share = village_share(snap, codes=["A", "B", "C"], names=["甲村", "乙村", "丙村"])
    assert (share.located, share.within) == (3, 1) and share.share == pytest.approx(1 / 3)
    msg = share.refusal(file="x.osm", mode="drive", minimum=0.8)
    assert "33%" in msg and "1/3" in msg and "80%" in msg and "B 乙村 2000 米、A 甲村 600 米" in msg


def test_chinese_summary_counts_each_point_once_over_modes() -> None:
    entries = [
        {"kind": "village", "code": "A", "mode": "drive"},
        {"kind": "village", "code": "A", "mode": "walk"},
        {"kind": "village", "code": "B", "mode": "drive"},
        {"kind": "village", "code": "C", "mode": "drive"},
        {"kind": "facility", "id": 7, "mode": "drive"},
        {"kind": "resident", "village_code": "A", "count": 4, "mode": "drive"},
        {"kind": "resident", "village_code": "B", "count": 1, "mode": "drive"},
        {"kind": "resident", "village_code": "A", "count": 4, "mode": "walk"},
    ]
    assert summary_zh(entries, max_m=500.0) == (
        "3 个村社、1 处设施、住户 5 人距路网超过 500 米，按不可达计"
    )
    assert summary_zh([], max_m=500.0) == ""
    line = not_located_summary([{"village_code": "X", "village_name": "某村", "count": 2}])
    assert line.startswith("某村（X）没有点位或边界，其 2 人未定位")
