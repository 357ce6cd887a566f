"""`coverplan travel-time` against an independent Dijkstra on the same .osm file.

The command runs in-process on the demo district's road file. The independent
side parses the OSM XML with the standard library, applies the speed rules of
the default configuration itself, and runs networkx: it shares no code with
geo/network.py or geo/traveltime.py.
"""

from __future__ import annotations

import itertools
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from planner.settings import load_config
from planner.store.core import Store
from tests.cli import Coverplan
from tests.demo_district import DemoDistrict

ONEWAY_FORWARD = {"yes", "true", "1"}
R = 6_371_008.8


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl, dp = math.radians(lon2 - lon1), p2 - p1
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


def independent_drive_graph(path: Path) -> tuple[nx.DiGraph, dict[int, tuple[float, float]]]:
    prof = load_config().network.drive
    root = ET.parse(path).getroot()
    pos = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    g = nx.DiGraph()
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        hw = tags.get("highway")
        if hw not in prof.speeds_kmh:
            continue
        if any(tags.get(k) in vals for k, vals in prof.exclude.items()):
            continue
        speed = prof.speeds_kmh[hw]
        ms = tags.get("maxspeed", "").split(" ")[0]
        if ms.isdigit():
            speed = min(speed, float(ms) * prof.maxspeed_factor)
        refs = [int(nd.get("ref")) for nd in way.iter("nd")]
        ow = tags.get("oneway")
        for a, b in itertools.pairwise(refs):
            secs = haversine(*pos[a], *pos[b]) / (speed / 3.6)
            pairs = (
                [(a, b)] if ow in ONEWAY_FORWARD else [(b, a)] if ow == "-1" else [(a, b), (b, a)]
            )
            for u, v in pairs:
                if not g.has_edge(u, v) or g[u][v]["w"] > secs:
                    g.add_edge(u, v, w=secs)
    core = max(nx.strongly_connected_components(g), key=len)
    return g.subgraph(core).copy(), {n: pos[n] for n in core}


def nearest_node(pos: dict[int, tuple[float, float]], lon: float, lat: float) -> int:
    return min(pos, key=lambda n: haversine(lon, lat, *pos[n]))


@pytest.mark.slow
def test_travel_time_agrees_with_independent_dijkstra(
    demo_district: DemoDistrict, coverplan: Coverplan, db_url: str, store: Store
) -> None:
    # `store`: commands run on a store with a district (奉化区 at db_url); the road
    # network is the demo's file, built afresh (this test's data directory is empty)
    roads = demo_district.inputs / "roads.osm"
    g, pos = independent_drive_graph(roads)
    villages = json.loads((demo_district.inputs / "villages.geojson").read_text(encoding="utf-8"))[
        "features"
    ]
    pts = [(f["properties"]["经度"], f["properties"]["纬度"]) for f in villages]
    pairs = [(pts[i], pts[j]) for i, j in ((0, 336), (5, 200), (40, 41), (100, 300), (250, 12))]
    for a, b in pairs:
        proc = coverplan(
            "travel-time",
            "--from",
            f"{a[0]},{a[1]}",
            "--to",
            f"{b[0]},{b[1]}",
            "--mode",
            "drive",
            "--network",
            str(roads),
            "--json",
            db=db_url,
        )
        assert proc.returncode == 0, proc.stderr
        ours = json.loads(proc.stdout)
        s, t = nearest_node(pos, *a), nearest_node(pos, *b)
        ref = nx.dijkstra_path_length(g, s, t, weight="w") / 60
        assert ours["minutes"] == pytest.approx(ref, rel=0.01), (a, b, ours, ref)
        assert ours["metres"] > 0
