"""Siting benchmark: `make bench-siting` (python -m bench.siting).

Per instance, a table of method, wall seconds, objective, proven bound, gap
to that bound, and each method against ours (time ×, objective %), measured in
the same run:

1. District (the embedded demo), MCLP for 残疾人之家 with k = 2 and 3 new
   sites, uncapacitated and capacitated: ours (HiGHS, CBC), spopt's MCLP with
   CBC through PuLP (dense matrix; the existing homes fixed through its
   ``predefined_facilities_arr``), plain greedy. Target: optimal in < 10 s.
2. Province MCLP (20,000 demand villages × 5,000 candidates, 100 existing
   sites, 30 min, k = 60): ours (HiGHS, CBC back end), greedy,
   greedy + interchange (their gap against our LP bound), spopt + CBC under a
   wall-clock cap. Target: within 0.5 % of the LP bound in < 120 s, beating
   greedy. ``--hard``: no existing sites, k = 100.
3. Solver per problem class on the district (MCLP, capacitated MCLP,
   p-median, LSCP): HiGHS against CBC, to choose ``DEFAULT_SOLVERS``.

``--quick`` runs the district parts only. Every solver runs on one thread;
the load average is printed because other work on the machine skews times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench._siting_instances import Instance, dense_minutes, district_instance, province_instance
from planner.siting import SitingProblem, evaluate, solve
from planner.siting.heuristics import CoverInstance, covered_weight, greedy, interchange
from planner.siting.milp import cover_matrix

THREADS = 1
DISTRICT_LIMIT_S = 60.0
SPOPT_MEMORY_BYTES = 8 * 2**30  # address-space cap of the spopt worker process


@dataclass
class Row:
    method: str
    seconds: float | None
    objective: float | None
    bound: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load average {a:.2f} {b:.2f} {c:.2f} on {os.cpu_count()} CPUs"


def _gap(obj: float | None, bound: float | None, maximise: bool) -> float | None:
    if obj is None or bound is None or not np.isfinite(bound):
        return None
    diff = (bound - obj) if maximise else (obj - bound)
    scale = abs(bound) if maximise else abs(obj)
    return max(diff, 0.0) / scale if scale > 0 else 0.0


def table(
    title: str, rows: list[Row], *, maximise: bool = True, bound: float | None = None
) -> None:
    """Print rows; ``bound`` (ours) is used for methods that have none of their own."""
    print(f"  {title}")
    print(
        f"    {'method':<44} {'seconds':>9} {'objective':>13} {'bound':>13} "
        f"{'gap':>8} {'time ×ours':>10} {'obj vs ours':>11}  note"
    )
    ours = rows[0]
    for r in rows:
        b = r.bound if r.bound is not None else bound
        own = r.bound is not None
        g = _gap(r.objective, b, maximise)
        secs = "—" if r.seconds is None else f"{r.seconds:.2f}"
        obj = "—" if r.objective is None else f"{r.objective:,.1f}"
        bnd = "—" if b is None else (f"{b:,.1f}" if own else f"({b:,.1f})")
        gap = "—" if g is None else f"{g * 100:.3f}%"
        ratio = (
            f"{r.seconds / ours.seconds:.2f}×" if r.seconds is not None and ours.seconds else "—"
        )
        if r.objective is not None and ours.objective:
            rel = (r.objective - ours.objective) / abs(ours.objective) * 100
            vs = f"{rel:+.3f}%"
        else:
            vs = "—"
        print(
            f"    {r.method:<44} {secs:>9} {obj:>13} {bnd:>13} {gap:>8} {ratio:>10} {vs:>11}"
            f"  {r.note}"
        )
    print("    (bound in parentheses: ours, for methods without a bound of their own)", flush=True)


# --------------------------------------------------------------------------- methods


def ours(p: SitingProblem, solver: str, limit: float) -> Row:
    t0 = time.perf_counter()
    # the objective only, as the other methods (tie-breaking adds stages of its own)
    r = solve(
        p,
        solver=solver,  # type: ignore[arg-type]
        time_limit_s=limit,
        mip_gap=1e-4,
        threads=THREADS,
        tie_break=False,
    )
    secs = time.perf_counter() - t0
    return Row(
        f"ours ({solver})",
        secs,
        r.objective,
        r.bound,
        f"{r.status}; {r.solver}; {len(r.opened)} new",
        {"status": r.status, "opened": r.opened.tolist(), "gap": r.gap},
    )


def cover_instance(p: SitingProblem) -> tuple[CoverInstance, np.ndarray, float]:
    cand = p.candidates
    y_col = np.full(p.n_sites, -1, np.int64)
    y_col[cand] = np.arange(len(cand))
    cm = cover_matrix(p, y_col=y_col, n_cand=len(cand))
    k = len(cand) if p.max_new is None else p.max_new
    inst = CoverInstance(w=cm.w, A=cm.A, cost=p.site_cost[cand], k=k, budget=np.inf)
    return inst, cand, float(cm.base_served.sum())


def heuristics(p: SitingProblem, *, swap: bool = True) -> list[Row]:
    """Plain greedy and greedy + interchange on the merged coverage instance."""
    t0 = time.perf_counter()
    inst, cand, base = cover_instance(p)
    at = inst.AT
    t_inst = time.perf_counter() - t0
    t1 = time.perf_counter()
    g = greedy(inst, AT=at)
    t_g = time.perf_counter() - t1
    g_obj = base + covered_weight(inst, g)
    check, _ = evaluate(p, opened=cand[np.asarray(g, np.int64)])
    rows = [
        Row(
            "greedy",
            t_inst + t_g,
            g_obj,
            None,
            f"coverage instance {t_inst:.2f} s ({inst.A.shape[0]:,} merged points); "
            f"evaluate() agrees: {abs(check - g_obj) < 1e-6}",
        )
    ]
    if swap:
        t1 = time.perf_counter()
        s = interchange(inst, list(g), AT=at)
        t_s = time.perf_counter() - t1
        rows.append(
            Row(
                "greedy + interchange",
                t_inst + t_g + t_s,
                base + covered_weight(inst, s),
                None,
                f"interchange {t_s:.2f} s",
            )
        )
    return rows


def _spopt_model(p: SitingProblem, minutes: NDArray[np.floating[Any]]) -> Any:
    """spopt's MCLP on the dense ``minutes`` matrix, existing sites predefined (not solved)."""
    from spopt.locate import MCLP

    n_ex = int(p.existing.sum())
    assert p.max_new is not None
    return MCLP.from_cost_matrix(
        minutes,
        p.demand,
        service_radius=p.threshold_min,
        p_facilities=p.max_new + n_ex,
        predefined_facilities_arr=p.existing.astype(int) if n_ex else None,
    )


def spopt_mclp(p: SitingProblem, limit: float) -> Row:
    """spopt's MCLP from a dense matrix, CBC through PuLP; existing sites predefined."""
    import pulp

    t0 = time.perf_counter()
    model = _spopt_model(p, dense_minutes(None, p))  # type: ignore[arg-type]
    t_build = time.perf_counter() - t0
    model = model.solve(
        pulp.PULP_CBC_CMD(msg=False, timeLimit=limit, threads=THREADS), results=False
    )
    secs = time.perf_counter() - t0
    opened = np.asarray(
        [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5 and not p.existing[j]],
        np.int64,
    )
    obj, _ = evaluate(p, opened=opened)
    status = pulp.LpStatus[model.problem.status]
    return Row(
        "spopt MCLP + CBC (PuLP)",
        secs,
        obj,
        None,
        f"{status}; model build {t_build:.2f} s; {len(opened)} new; "
        f"{'existing predefined' if p.existing.any() else 'no existing'}",
    )


# --------------------------------------------------------------------------- district


def district_part(
    inst: Instance, info: dict[str, Any], out: dict[str, Any], skip_spopt: bool
) -> None:
    print(
        f"District (demo of 奉化区), type home「{info['label']}」: {inst.note}\n"
        f"  built: demo {info['demo_s']:.1f} s, drive graph {info['network_s']:.1f} s, "
        f"coverage {info['coverage_s']:.1f} s, demand/sites/OD {info['od_s']:.2f} s; "
        f"coverage now: {info['coverage']}; {load()}",
        flush=True,
    )
    res: dict[str, Any] = {}
    for capacitated in (False, True):
        for k in (2, 3):
            p = inst.problem("mclp", k=k, capacitated=capacitated)
            kind = "capacitated" if capacitated else "uncapacitated"
            rows = [ours(p, "highs", DISTRICT_LIMIT_S), ours(p, "cbc", DISTRICT_LIMIT_S)]
            if not capacitated:
                if not skip_spopt:
                    rows.append(spopt_mclp(p, DISTRICT_LIMIT_S))
                rows += heuristics(p)
            else:
                # the coverage-only greedy's choice, evaluated with capacities
                g = heuristics(inst.problem("mclp", k=k), swap=False)[0]
                inst_u, cand, _ = cover_instance(inst.problem("mclp", k=k))
                sel = cand[np.asarray(greedy(inst_u), np.int64)]
                obj, _ = evaluate(p, opened=sel)
                rows.append(
                    Row(
                        "greedy (uncapacitated choice)",
                        g.seconds,
                        obj,
                        None,
                        "spopt: no capacitated MCLP",
                    )
                )
            before, _ = evaluate(p, opened=np.zeros(0, np.int64))
            table(
                f"MCLP {kind}, k = {k} (existing sites alone: {before:,.0f})",
                rows,
                bound=rows[0].bound,
            )
            best = rows[0]
            ok = best.extra["status"] == "optimal" and (best.seconds or 0) < 10
            print(f"    target district optimal < 10 s (ours, highs): {'met' if ok else 'NOT met'}")
            res[f"mclp_{kind}_k{k}"] = [r.__dict__ for r in rows]
    out["district"] = res


def classes_part(inst: Instance, out: dict[str, Any], repeats: int = 3) -> None:
    print(
        f"Solver per problem class (district; median of {repeats} runs when < 2 s; {load()}):",
        flush=True,
    )
    cases: list[tuple[str, str, Callable[[], SitingProblem]]] = [
        ("mclp", "MCLP k=2", lambda: inst.problem("mclp", k=2)),
        ("mclp", "MCLP k=3", lambda: inst.problem("mclp", k=3)),
        ("mclp_cap", "capacitated MCLP k=2", lambda: inst.problem("mclp", k=2, capacitated=True)),
        ("mclp_cap", "capacitated MCLP k=3", lambda: inst.problem("mclp", k=3, capacitated=True)),
        ("pmedian", "p-median k=2, pairs ≤ 60 min", lambda: inst.problem("pmedian", k=2)),
        (
            "lscp",
            "LSCP 0.9 of coverable, no existing",
            lambda: inst.problem("lscp", with_existing=False, target=0.9),
        ),
    ]
    print(f"    {'case':<38} {'highs s':>9} {'cbc s':>9} {'highs obj':>14} {'cbc obj':>14}  status")
    per_class: dict[str, dict[str, float]] = {}
    better_obj: dict[str, list[str]] = {}
    results = []
    for cls, name, make in cases:
        p = make()
        figs: dict[str, tuple[float, float, str]] = {}
        for s in ("highs", "cbc"):
            runs: list[tuple[float, float, str]] = []
            while len(runs) < repeats and (not runs or runs[0][0] < 2.0):  # repeat short ones
                t0 = time.perf_counter()
                r = solve(
                    p,
                    solver=s,
                    time_limit_s=DISTRICT_LIMIT_S,
                    threads=THREADS,
                    tie_break=False,  # the solver choice per class is about the objective
                )
                runs.append((time.perf_counter() - t0, r.objective, r.status))
            secs = float(np.median([x[0] for x in runs]))
            figs[s] = (secs, runs[0][1], runs[0][2])
            per_class.setdefault(cls, {}).setdefault(s, 0.0)
            per_class[cls][s] += secs
        h, c = figs["highs"], figs["cbc"]
        if abs(h[1] - c[1]) > 1e-6 * max(1.0, abs(h[1])):
            better = "highs" if (h[1] > c[1]) == p.maximise else "cbc"
            better_obj.setdefault(cls, []).append(better)
        print(
            f"    {name:<38} {h[0]:9.3f} {c[0]:9.3f} {h[1]:14,.1f} {c[1]:14,.1f}  {h[2]}/{c[2]}",
            flush=True,
        )
        results.append({"class": cls, "case": name, "highs": h, "cbc": c})
    winners = {}
    for cls, t in per_class.items():
        if better_obj.get(cls):
            w = max(set(better_obj[cls]), key=better_obj[cls].count)
            why = "better objective"
        else:
            w = min(t, key=t.get)  # type: ignore[arg-type]
            why = f"same objective, {t['highs']:.3f} s vs {t['cbc']:.3f} s (highs vs cbc, summed)"
        winners[cls] = w
        print(f"    winner {cls:<10} {w:<6} ({why})")
    out["classes"] = {"cases": results, "winners": winners}


# --------------------------------------------------------------------------- province


def _spopt_worker(seconds: float, hard: bool) -> int:
    """Child process: spopt MCLP on the province; prints PROGRESS/RESULT lines."""
    import pulp

    t0 = time.perf_counter()
    inst, _ = province_instance()
    p = _province_problem(inst, hard)
    cm = dense_minutes(inst, p, dtype=np.float32)
    print(
        f"PROGRESS matrix {cm.nbytes / 2**20:.0f} MB float32 {time.perf_counter() - t0:.1f}",
        flush=True,
    )
    orig = pulp.LpProblem.__iadd__
    count = [0]

    def iadd(self: Any, other: Any) -> Any:
        count[0] += 1
        if count[0] % 250 == 0:
            print(f"PROGRESS rows {count[0]} {time.perf_counter() - t0:.1f}", flush=True)
        return orig(self, other)

    pulp.LpProblem.__iadd__ = iadd  # type: ignore[method-assign]
    model = _spopt_model(p, cm)
    print(f"PROGRESS built {count[0]} {time.perf_counter() - t0:.1f}", flush=True)
    model = model.solve(
        pulp.PULP_CBC_CMD(msg=False, timeLimit=seconds, threads=THREADS), results=False
    )
    opened = [
        j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5 and not p.existing[j]
    ]
    obj, _ = evaluate(p, opened=np.asarray(opened, np.int64))
    print(
        "RESULT "
        + json.dumps(
            {
                "objective": obj,
                "status": pulp.LpStatus[model.problem.status],
                "seconds": time.perf_counter() - t0,
                "opened": len(opened),
            }
        ),
        flush=True,
    )
    return 0


def spopt_capped(seconds: float, cap_s: float, hard: bool, n_rows: int) -> Row:
    """Run the spopt worker in its own process group with a wall-clock and memory cap."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (SPOPT_MEMORY_BYTES, SPOPT_MEMORY_BYTES))

    args = [sys.executable, "-m", "bench.siting", "--spopt-worker", "--seconds", str(seconds)]
    if hard:
        args.append("--hard")
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=limits,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=cap_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the worker's own group (incl. its CBC)
        proc.wait()
    reader.join(timeout=5)
    secs = time.perf_counter() - t0
    result = next((json.loads(x[7:]) for x in lines if x.startswith("RESULT ")), None)
    rows_done = [
        x.split() for x in lines if x.startswith("PROGRESS rows") or x.startswith("PROGRESS built")
    ]
    if result is not None:
        return Row(
            "spopt MCLP + CBC (PuLP)",
            secs,
            result["objective"],
            None,
            f"{result['status']}; {result['opened']} new; incl. process start and matrix",
        )
    reached = "matrix not built"
    if rows_done:
        last = rows_done[-1]
        done, at = int(last[2]), float(last[3])
        rate = done / max(at, 1e-9)
        est = n_rows / max(rate, 1e-9)
        reached = (
            f"model build reached {done:,} of ~{n_rows:,} coverage rows at {at:.0f} s "
            f"(≈ {rate:.0f} rows/s → ≈ {est / 60:.0f} min to build, before CBC starts)"
        )
    why = f"did not finish in {cap_s:.0f} s (killed)" if timed_out else f"exited {proc.returncode}"
    tail = [x.strip() for x in lines if not x.startswith(("PROGRESS", "RESULT"))][-2:]
    if not timed_out and tail:
        why += f": {' | '.join(tail)[:200]}"
    return Row("spopt MCLP + CBC (PuLP)", None, None, None, f"{why}; {reached}")


def _province_problem(inst: Instance, hard: bool) -> SitingProblem:
    if hard:
        return inst.problem("mclp", k=100, with_existing=False)
    return inst.problem("mclp", k=60)


def province_part(
    seconds: float, out: dict[str, Any], *, hard: bool, skip_spopt: bool, spopt_cap: float
) -> None:
    t0 = time.perf_counter()
    inst, info = province_instance()
    if "od_s" in info:
        print(
            f"  province OD computed: graph {info['network_s']:.1f} s, OD (5,100 sites → "
            f"20,000 villages, ≤ 30 min) {info['od_s']:.1f} s; cached to {info['od_saved']}"
        )
    else:
        print(f"  province OD from cache {info['od_cached']} ({time.perf_counter() - t0:.1f} s)")
    p = _province_problem(inst, hard)
    title = (
        "Province MCLP, hard variant: no existing sites, k = 100"
        if hard
        else "Province MCLP: 100 existing sites fixed, k = 60"
    )
    note = inst.note
    if hard:
        note = (
            f"{p.n_demand:,} demand villages ({p.demand.sum():,.0f} persons), "
            f"{len(p.candidates):,} candidate sites (the 100 existing ones as candidates), "
            f"{len(p.pair_site):,} pairs ≤ {p.threshold_min:g} min"
        )
    print(f"{title}: {note}; {load()}", flush=True)
    rows = [ours(p, "highs", seconds)]
    print(f"    ours (highs) done: {rows[0].seconds:.1f} s; {load()}", flush=True)
    rows.append(ours(p, "cbc", seconds))
    rows += heuristics(p)
    if not skip_spopt:
        print(f"    spopt: wall-clock cap {spopt_cap:.0f} s; {load()}", flush=True)
        n_rows = int((p.demand > 0).sum())
        rows.append(spopt_capped(seconds, spopt_cap, hard, n_rows))
    table(f"{title}, time limit {seconds:.0f} s", rows, bound=rows[0].bound)
    best = rows[0]
    g = _gap(best.objective, best.bound, True) or 0.0
    greedy_obj = next(r.objective for r in rows if r.method == "greedy")
    within = g <= 0.005 and (best.seconds or 0) < 120
    beat = best.objective is not None and greedy_obj is not None and best.objective > greedy_obj
    print(
        f"    target within 0.5 % of the LP bound in < 120 s: {'met' if within else 'NOT met'} "
        f"(gap {g * 100:.3f} %, {best.seconds:.1f} s); beats greedy: {'yes' if beat else 'NO'} "
        f"(+{(best.objective or 0) - (greedy_obj or 0):,.0f} persons)"
    )
    out["province_hard" if hard else "province"] = [r.__dict__ for r in rows]


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="district parts only (smoke test)")
    parser.add_argument("--seconds", type=float, default=110.0, help="province time limit")
    parser.add_argument("--skip-spopt", action="store_true")
    parser.add_argument("--hard", action="store_true", help="also the from-scratch province k=100")
    parser.add_argument("--spopt-cap", type=float, default=None, help="spopt wall cap (province)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--spopt-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.spopt_worker:
        return _spopt_worker(args.seconds, args.hard)
    out: dict[str, Any] = {"cpus": os.cpu_count(), "threads": THREADS}
    print(f"bench.siting: {load()}; solvers on {THREADS} thread", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        inst, info = district_instance(Path(tmp))
    district_part(inst, info, out, args.skip_spopt)
    classes_part(inst, out)
    if not args.quick:
        cap = args.spopt_cap if args.spopt_cap is not None else 2 * args.seconds
        province_part(args.seconds, out, hard=False, skip_spopt=args.skip_spopt, spopt_cap=cap)
        if args.hard:
            province_part(args.seconds, out, hard=True, skip_spopt=args.skip_spopt, spopt_cap=cap)
    out["load_end"] = os.getloadavg()
    print(f"done; {load()}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
