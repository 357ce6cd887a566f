"""SQLite under concurrent writers and readers, through the store and service layer.

Part of ``make bench-api`` (:mod:`bench.api`); runs alone with
``python -m bench.sqlite_concurrency --db sqlite:///FILE [--seconds S] [--writers N]``.

Each writer is its own process with its own :class:`~planner.store.core.Store` and
records home visits by hand (:func:`planner.services.visits.record_visit`, one write
transaction each) under a team key of its own, so every write is a distinct row; each
reader is its own process reading the residents and villages frames and counting the
visits. Afterwards the rows of every writer are read back and compared with the rows
the writer saw committed:

- ``locked``: "database is locked" (or busy) errors seen by any worker (target 0);
- ``lost``: writes reported committed that are not in the store (target 0);
- ``phantom``: rows in the store the writer saw fail (target 0).

The baseline is the same run on a store opened with ``busy_timeout_ms=0`` (the
store's WAL mode and ``BEGIN IMMEDIATE`` writers stay, only the waiting for the
write lock goes): it shows what the busy timeout buys.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

TEAM_PREFIX = "bench-w"  # visits.team of writer k: f"{TEAM_PREFIX}{k}" (String(32))
RESIDENTS_USED = 200  # residents the writers cycle through (one visit per resident and day)
SECONDS = 60.0
WRITERS = 8
READERS = 8

Key = tuple[int, str]  # (resident_id, visited_on ISO date)


@dataclass
class WorkerResult:
    """What one worker process did (latencies in milliseconds)."""

    role: str  # "writer" | "reader"
    index: int
    ops: int = 0
    locked: int = 0
    other_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    committed: list[Key] = field(default_factory=list)  # writers: rows seen committed


@dataclass
class Figures:
    """Totals of one run (``writes_per_s``: committed writes per second, all writers)."""

    label: str
    writers: int
    readers: int
    seconds: float
    writes: int
    reads: int
    writes_per_s: float
    reads_per_s: float
    write_p50_ms: float
    write_p95_ms: float
    read_p50_ms: float
    read_p95_ms: float
    locked: int
    other_errors: int
    lost: int
    phantom: int
    error_samples: list[str]

    @property
    def ok(self) -> bool:
        return self.locked == 0 and self.lost == 0 and self.phantom == 0 and not self.other_errors


def _is_locked(exc: BaseException) -> bool:
    from planner.errors import StoreBusyError

    text = str(exc).lower()
    return isinstance(exc, StoreBusyError) or "locked" in text or "busy" in text


def _note_error(out: WorkerResult, exc: BaseException) -> None:
    if _is_locked(exc):
        out.locked += 1
    else:
        out.other_errors += 1
    if len(out.error_samples) < 3:
        out.error_samples.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def _writer(
    url: str, index: int, resident_ids: list[int], deadline: float, busy_ms: int
) -> WorkerResult:
    from planner.services.visits import RecordVisitOptions, record_visit
    from planner.settings import load_config
    from planner.store.core import Store

    config = load_config()
    store = Store(url, busy_timeout_ms=busy_ms)
    out = WorkerResult("writer", index)
    team = f"{TEAM_PREFIX}{index}"
    today = date.today()
    i = 0
    try:
        while time.time() < deadline:
            rid = resident_ids[i % len(resident_ids)]
            day = today - timedelta(days=1 + i // len(resident_ids))
            i += 1
            t0 = time.perf_counter()
            try:
                saved = record_visit(
                    store,
                    config=config,
                    options=RecordVisitOptions(
                        resident_id=rid, visited_on=day, outcome="not_home", team=team, today=today
                    ),
                )
            except Exception as exc:  # counted, never fatal: the run goes on
                _note_error(out, exc)
                continue
            out.latencies_ms.append((time.perf_counter() - t0) * 1000)
            out.ops += 1
            if saved.status == "inserted":
                out.committed.append((rid, day.isoformat()))
    finally:
        store.dispose()
    return out


def _reader(url: str, index: int, deadline: float, busy_ms: int) -> WorkerResult:
    from sqlalchemy import func, select

    from planner.store import schema as t
    from planner.store.core import Store
    from planner.store.frames import residents_frame, villages_frame

    store = Store(url, busy_timeout_ms=busy_ms)
    out = WorkerResult("reader", index)
    try:
        while time.time() < deadline:
            t0 = time.perf_counter()
            try:
                residents_frame(store)
                villages_frame(store)
                with store.read() as s:
                    s.scalar(select(func.count()).select_from(t.Visit))
            except Exception as exc:  # counted, never fatal
                _note_error(out, exc)
                continue
            out.latencies_ms.append((time.perf_counter() - t0) * 1000)
            out.ops += 1
    finally:
        store.dispose()
    return out


def stored_visits(url: str, *, writers: int) -> dict[int, set[Key]]:
    """The bench rows in the store: writer index → {(resident_id, visited_on)}."""
    from sqlalchemy import select

    from planner.store import schema as t
    from planner.store.core import Store

    store = Store(url)
    teams = {f"{TEAM_PREFIX}{k}": k for k in range(writers)}
    found: dict[int, set[Key]] = {k: set() for k in range(writers)}
    try:
        with store.read() as s:
            rows = s.execute(
                select(t.Visit.team, t.Visit.resident_id, t.Visit.visited_on).where(
                    t.Visit.team.in_(list(teams))
                )
            )
            for team, rid, day in rows:
                if team is not None and rid is not None:  # the filter: never None
                    found[teams[team]].add((int(rid), day.isoformat()))
    finally:
        store.dispose()
    return found


def compare(
    committed: Mapping[int, Iterable[Key]], stored: Mapping[int, set[Key]]
) -> tuple[int, int]:
    """(lost, phantom): rows seen committed but not stored, and stored but not seen."""
    lost = phantom = 0
    for k in set(committed) | set(stored):
        seen = set(committed.get(k, ()))
        there = stored.get(k, set())
        lost += len(seen - there)
        phantom += len(there - seen)
    return lost, phantom


def clear_bench_rows(url: str) -> None:
    """Delete the visits a previous run wrote (every team starting with ``TEAM_PREFIX``)."""
    from sqlalchemy import delete

    from planner.store import schema as t
    from planner.store.core import Store

    store = Store(url)
    try:
        with store.write() as s:
            s.execute(delete(t.Visit).where(t.Visit.team.like(f"{TEAM_PREFIX}%")))
    finally:
        store.dispose()


def _resident_ids(url: str) -> list[int]:
    from sqlalchemy import select

    from planner.store import schema as t
    from planner.store.core import Store

    store = Store(url)
    try:
        with store.read() as s:
            ids = s.scalars(select(t.Resident.id).order_by(t.Resident.id).limit(RESIDENTS_USED))
            return [int(i) for i in ids]
    finally:
        store.dispose()


def _warm_imports() -> None:
    """Import what the workers use in the parent, so forked workers start at once."""
    from planner.settings import load_config

    for name in ("planner.services.visits", "planner.store.frames"):
        importlib.import_module(name)
    load_config()


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run(
    url: str,
    *,
    seconds: float = SECONDS,
    writers: int = WRITERS,
    readers: int = READERS,
    busy_timeout_ms: int | None = None,
    label: str = "store",
) -> Figures:
    """Run ``writers`` writer and ``readers`` reader processes on ``url`` for ``seconds``.

    Parameters
    ----------
    url
        An SQLite store holding residents (migrated; its bench rows are cleared first).
    seconds
        Duration of the run, in seconds (wall clock, all workers at once).
    busy_timeout_ms
        The workers' store busy timeout in milliseconds; None: the settings' value.
    """
    from planner.settings import get_settings

    busy = get_settings().sqlite_busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
    ids = _resident_ids(url)
    if not ids:
        raise SystemExit(f"{url}：数据库中没有残疾人，无法压测写入；请先运行 coverplan demo")
    clear_bench_rows(url)
    _warm_imports()
    ctx = multiprocessing.get_context("fork")  # workers open their own Store after the fork
    start = time.time() + 1.0  # the workers' imports happen before the clock starts
    deadline = start + seconds
    with ProcessPoolExecutor(max_workers=writers + readers, mp_context=ctx) as pool:
        futures = [pool.submit(_writer, url, k, ids, deadline, busy) for k in range(writers)]
        futures += [pool.submit(_reader, url, k, deadline, busy) for k in range(readers)]
        results = [f.result() for f in futures]
    elapsed = max(time.time() - start, 1e-9)
    committed = {r.index: r.committed for r in results if r.role == "writer"}
    lost, phantom = compare(committed, stored_visits(url, writers=writers))
    w = [r for r in results if r.role == "writer"]
    rd = [r for r in results if r.role == "reader"]
    wl = [x for r in w for x in r.latencies_ms]
    rl = [x for r in rd for x in r.latencies_ms]
    n_writes = sum(len(r.committed) for r in w)
    n_reads = sum(r.ops for r in rd)
    return Figures(
        label=label,
        writers=writers,
        readers=readers,
        seconds=round(elapsed, 2),
        writes=n_writes,
        reads=n_reads,
        writes_per_s=n_writes / elapsed,
        reads_per_s=n_reads / elapsed,
        write_p50_ms=_pct(wl, 50),
        write_p95_ms=_pct(wl, 95),
        read_p50_ms=_pct(rl, 50),
        read_p95_ms=_pct(rl, 95),
        locked=sum(r.locked for r in results),
        other_errors=sum(r.other_errors for r in results),
        lost=lost,
        phantom=phantom,
        error_samples=list(dict.fromkeys(s for r in results for s in r.error_samples))[:3],
    )


def print_table(rows: list[Figures]) -> None:
    """The runs side by side (the first is the store as configured, then baselines)."""
    print(f"  {'':<34}" + "".join(f"{f.label:>22}" for f in rows))
    lines: list[tuple[str, Any]] = [
        ("writers + readers (processes)", lambda f: f"{f.writers} + {f.readers}"),
        ("seconds", lambda f: f"{f.seconds:.1f}"),
        ("writes committed", lambda f: f"{f.writes:,}"),
        ("writes/s", lambda f: f"{f.writes_per_s:.1f}"),
        ("write p50 / p95 (ms)", lambda f: f"{f.write_p50_ms:.1f} / {f.write_p95_ms:.1f}"),
        ("reads/s", lambda f: f"{f.reads_per_s:.1f}"),
        ("read p50 / p95 (ms)", lambda f: f"{f.read_p50_ms:.1f} / {f.read_p95_ms:.1f}"),
        ("'database is locked' (target 0)", lambda f: f"{f.locked:,}"),
        ("lost writes (target 0)", lambda f: f"{f.lost:,}"),
        ("phantom writes (target 0)", lambda f: f"{f.phantom:,}"),
        ("other errors", lambda f: f"{f.other_errors:,}"),
        ("target met", lambda f: "yes" if f.ok else "NO"),
    ]
    for name, fmt in lines:
        print(f"  {name:<34}" + "".join(f"{fmt(f):>22}" for f in rows), flush=True)
    for f in rows:
        for sample in f.error_samples:
            print(f"  [{f.label}] e.g. {sample}")


def bench(
    url: str, *, seconds: float, writers: int, readers: int, baseline: bool = True
) -> list[Figures]:
    """The store as configured, then (``baseline``) with ``busy_timeout_ms=0``; printed."""
    print(
        f"SQLite concurrency: {writers} writer and {readers} reader processes, "
        f"{seconds:g} s each run, store {url}",
        flush=True,
    )
    rows = [run(url, seconds=seconds, writers=writers, readers=readers, label="store")]
    if baseline:
        rows.append(
            run(
                url,
                seconds=seconds,
                writers=writers,
                readers=readers,
                busy_timeout_ms=0,
                label="baseline busy 0 ms",
            )
        )
    clear_bench_rows(url)
    print_table(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="SQLite store URL holding residents")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument("--readers", type=int, default=READERS)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    rows = bench(
        args.db,
        seconds=args.seconds,
        writers=args.writers,
        readers=args.readers,
        baseline=not args.no_baseline,
    )
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0 if rows[0].ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
