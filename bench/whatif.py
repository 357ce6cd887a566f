"""What-if benchmark: `make bench-whatif` (python -m bench.whatif).

Builds the demo store in a temporary directory (``coverplan demo``, ``coverplan
network build``; ``--db`` uses an existing store), opens a what-if
(:func:`planner.services.whatif.open_whatif`) for each type of ``--types``
(default ``home`` and ``psych_station``) and makes ``--clicks`` random clicks with
a fixed seed: the action first (add, remove, upgrade: a third each), then a site
it applies to (a closed candidate or facility to add, an open site to remove or
to give ``upgrade_capacity`` more places, or 10 when none is configured). Prints
the server time per click (median, p95: the ``server_ms`` of each apply) next to
the full recompute it replaces: ``coverplan coverage --type T --json`` as a
subprocess, and in process (:func:`planner.coverage.engine.coverage_from_frames`
on the what-if's facilities, frames already read), with the figures of both
side by side (they must be equal). Also times "suggest next" (k = 5) and "best
within budget" (three new sites' cost). Exit status 1 when a median is over
:data:`TARGET_MS` or the figures differ.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

TARGET_MS = 100.0
CLICKS = 100
SEED = 14
TYPES = ("home", "psych_station")
UPGRADE_FALLBACK = 10  # places added per upgrade when the type configures none
MS = 1000.0
P95 = 0.95


@dataclass
class TypeBench:
    """One type's figures (milliseconds unless stated)."""

    type: str
    persons: int
    sites: int
    pairs: int
    open_s: float
    clicks: int
    median_ms: float
    p95_ms: float
    max_ms: float
    cli_ms: float
    full_ms: float
    suggest_ms: float
    budget_ms: float
    whatif: dict[str, int]
    engine: dict[str, int]
    village_mismatches: int

    @property
    def ok(self) -> bool:
        return (
            self.median_ms <= TARGET_MS
            and self.whatif == self.engine
            and self.village_mismatches == 0
        )


def _click(wi: Any, rng: random.Random, upgrade_by: int) -> Any:
    """A random click: the action first (add, remove or upgrade, a third each), then a
    site it applies to (a closed one to add, an open one to remove or upgrade)."""
    from planner.services.whatif import Change

    cands = wi.candidates()
    closed = [c for c in cands if c.status == "closed"]
    is_open = [c for c in cands if c.status != "closed"]
    action = rng.choice(["add", "remove", "upgrade"])
    if action == "add" or not is_open:
        return Change("add", rng.choice(closed).code)
    cand = rng.choice(is_open)
    if action == "remove" or cand.places is None:
        return Change("remove", cand.code)
    return Change("upgrade", cand.code, cand.places + upgrade_by)


def _cli_ms(url: str, key: str, workdir: Path) -> float:
    from bench.api import _run_cli

    t0 = time.perf_counter()
    done = _run_cli(url, ["coverage", "--type", key, "--json"], cwd=workdir)
    if done.returncode != 0:
        raise SystemExit(f"coverplan coverage failed:\n{done.stderr[-2000:]}")
    return (time.perf_counter() - t0) * MS


def bench_type(url: str, key: str, *, clicks: int, seed: int, workdir: Path) -> TypeBench:
    """Open, click, compare with the full engine, suggest, budget: one type."""
    from planner.coverage.engine import coverage_from_frames
    from planner.networks import load_networks
    from planner.services.whatif import WhatIfOptions, open_whatif
    from planner.settings import get_config
    from planner.store.core import open_district_store
    from planner.store.frames import facilities_frame, residents_frame, villages_frame

    config = get_config()
    store = open_district_store(url)
    ft = config.facility_types[key]
    nets = {m: b.network for m, b in load_networks(store, config=config, modes=[ft.mode]).items()}
    today = date.today()
    t0 = time.perf_counter()
    wi = open_whatif(store, config=config, options=WhatIfOptions(key, today=today), networks=nets)
    open_s = time.perf_counter() - t0
    rng = random.Random(seed)
    upgrade_by = ft.siting.upgrade_capacity or UPGRADE_FALLBACK
    times = []
    for _ in range(clicks):
        times.append(wi.apply(_click(wi, rng, upgrade_by)).server_ms)
    fig = wi.figures()
    frames = residents_frame(store), villages_frame(store), facilities_frame(store)
    t0 = time.perf_counter()
    res = coverage_from_frames(
        frames[0],
        frames[1],
        wi.facilities_now(frames[2]),
        config=config,
        networks=nets,
        types=[key],
        today=today,
        isochrones=False,
    )
    full_ms = (time.perf_counter() - t0) * MS
    tc = res.type(key)
    v = res.villages.set_index("village_code")
    wrong = sum(
        1
        for r in fig.villages
        if r.code in v.index
        and (r.served, r.served + r.in_reach_no_place)
        != (v.at[r.code, "covered_within_capacity"], v.at[r.code, "covered"])
    )
    t0 = time.perf_counter()
    wi.suggest_next(k=5)
    suggest_ms = (time.perf_counter() - t0) * MS
    t0 = time.perf_counter()
    wi.best_within_budget(budget=3 * ft.siting.build_cost)
    budget_ms = (time.perf_counter() - t0) * MS
    ordered = sorted(times)
    a = wi.built.arrays
    return TypeBench(
        type=key,
        persons=int(a.person_group.size),
        sites=a.n_sites,
        pairs=int(a.pair_group.size),
        open_s=open_s,
        clicks=clicks,
        median_ms=statistics.median(times),
        p95_ms=ordered[min(len(ordered) - 1, int(P95 * len(ordered)))],
        max_ms=ordered[-1],
        cli_ms=_cli_ms(url, key, workdir),
        full_ms=full_ms,
        suggest_ms=suggest_ms,
        budget_ms=budget_ms,
        whatif={"in_reach": fig.totals.in_reach, "within_capacity": fig.totals.within_capacity},
        engine={"in_reach": tc.covered, "within_capacity": tc.covered_within_capacity},
        village_mismatches=wrong,
    )


def _print(b: TypeBench) -> None:
    print(f"\n{b.type}: {b.persons} eligible, {b.sites} sites, {b.pairs} OD pairs")
    print(f"  open the what-if (OD pairs once)        {b.open_s:9.2f} s")
    print(
        f"  per click over {b.clicks} clicks: median {b.median_ms:7.1f} ms"
        f"   p95 {b.p95_ms:7.1f} ms   max {b.max_ms:7.1f} ms (median target {TARGET_MS:.0f})"
    )
    print(f"  full run: coverplan coverage (subprocess) {b.cli_ms:9.1f} ms")
    print(f"  full run: engine in process (frames read) {b.full_ms:9.1f} ms")
    print(f"  suggest next (k = 5)                      {b.suggest_ms:9.1f} ms")
    print(f"  best within budget (3 new sites' cost)    {b.budget_ms:9.1f} ms")
    print(f"  after the clicks   what-if {b.whatif}")
    print(f"                     engine  {b.engine}   villages differing: {b.village_mismatches}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing store (default: build the demo)")
    parser.add_argument("--types", default=",".join(TYPES), help="facility types, comma-separated")
    parser.add_argument("--clicks", type=int, default=CLICKS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-whatif-") as tmp:
        workdir = Path(tmp)
        url = args.db
        if url is None:
            from bench.api import build_demo_store

            print("building the demo store:", flush=True)
            url = build_demo_store(workdir)
        rows = [
            bench_type(url, key, clicks=args.clicks, seed=args.seed, workdir=workdir)
            for key in args.types.split(",")
        ]
    for b in rows:
        _print(b)
    if args.json:
        out = [{**asdict(b), "ok": b.ok} for b in rows]
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2))
    ok = all(b.ok for b in rows)
    print(f"\nbench-whatif: {'every target met' if ok else 'a target was MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
