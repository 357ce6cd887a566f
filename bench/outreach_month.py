"""Benchmark: the demo district's outreach month, PyVRP (the product) against
OR-Tools on the same routing problems with the same time limit.

Two months: the calendar's next month (1 day, the default), and a large month
(3 days, the neediest town's villages until about 150 households need a home
visit). Prints the planning time (target < 30 s for the demo month), the
households visited, travel minutes and feasibility per solver.

Run: ``python -m bench.outreach_month [--seconds S]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.routing_ortools import solve_ortools
from planner.networks import load_network
from planner.services.outreach import MonthOptions, outreach_month, outreach_needs
from planner.settings import get_config
from planner.store.core import Store
from planner.units import SECONDS_PER_MINUTE

YEAR, MONTH = 2026, 12
LARGE_HOUSEHOLDS = 150
LARGE_DAYS = 3
DEMO_MONTH_TARGET_S = 30.0


def _demo(root: Path) -> Store:
    env = {**os.environ, "COVERPLAN_DATA_DIR": str(root / "var")}
    env.pop("COVERPLAN_DB_URL", None)
    exe = str(Path(sys.executable).parent / "coverplan")
    subprocess.run([exe, "demo"], check=True, env=env, cwd=root, capture_output=True)
    return Store(f"sqlite:///{root / 'var' / 'coverplan.db'}")


def _row(
    name: str, solver: str, seconds: float, visited: int, total: int, travel: float, ok: bool
) -> None:
    print(
        f"  {name:<34} {solver:<8} {seconds:7.1f} s  visited {visited:>3}/{total:<3}"
        f"  travel {travel:7.1f} min  {'feasible' if ok else 'INFEASIBLE'}"
    )


def run(seconds: float) -> None:
    config = get_config()
    print(f"bench.outreach_month: load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="coverplan-bench-") as tmp:
        store = _demo(Path(tmp))
        network = load_network(store, config=config, mode="drive").network
        needs = outreach_needs(store, config=config, today=date(YEAR, MONTH, 1), horizon_days=31)
        town = needs.groupby("town_code")["home_visits"].sum().idxmax()
        rows = needs[needs["town_code"] == town].sort_values("score", ascending=False)
        picked, total = [], 0
        for code, r in rows.iterrows():
            picked.append(str(code))
            total += int(r["home_visits"])
            if total >= LARGE_HOUSEHOLDS:
                break
        big = config.model_copy(
            update={"outreach": config.outreach.model_copy(update={"days": LARGE_DAYS})}
        )
        cases = [
            ("demo month (calendar, 1 day)", config, None),
            (f"large month ({len(picked)} villages, {LARGE_DAYS} days)", big, picked),
        ]
        for name, cfg, villages in cases:
            t = time.perf_counter()
            options = MonthOptions(
                year=YEAR,
                month=MONTH,
                villages=None if villages is None else tuple(villages),
                time_limit_s=seconds,
            )
            mp = outreach_month(store, config=cfg, options=options, network=network)
            elapsed = time.perf_counter() - t
            st = mp.stats
            _row(
                name,
                "pyvrp",
                elapsed,
                st.planned,
                st.households_needing_visit,
                st.travel_min,
                st.feasible,
            )
            # the same routing problems (day by day) with OR-Tools
            t = time.perf_counter()
            visited = travel = 0.0
            ok = True
            for problem, _ in mp.routing:
                res = solve_ortools(problem, seconds=seconds)
                visited += sum(len(rt.visits) for rt in res.routes)
                travel += res.travel_s / SECONDS_PER_MINUTE
                ok &= res.is_feasible
            _row(
                name,
                "ortools",
                time.perf_counter() - t,
                int(visited),
                st.households_needing_visit,
                travel,
                ok,
            )
            if villages is None:
                met = "met" if elapsed < DEMO_MONTH_TARGET_S else "NOT met"
                print(f"    target demo month < {DEMO_MONTH_TARGET_S:g} s: {met} ({elapsed:.1f} s)")
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="routing seconds per day")
    args = parser.parse_args(argv)
    run(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
