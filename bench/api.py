"""HTTP API load and SQLite concurrency benchmark: `make bench-api` (python -m bench.api).

1. HTTP: builds the demo store in a temporary directory (``coverplan demo``, then
   ``coverplan network build``), starts a real uvicorn with ``coverplan serve --host
   127.0.0.1 --port FREE --demo`` (a subprocess, stopped at the end), logs in as a
   demo user (OAuth2 password form) and loads each path of :data:`TARGETS` with
   ``--clients`` concurrent clients for ``--seconds`` (default 50 clients, 30 s):
   with ``wrk`` (Debian package ``wrk``, a Lua script adds the Bearer header and
   prints the latency percentiles) or, when it is missing, an asyncio httpx client.
   Prints p50, p95, errors and requests/s per path against the target (p95 <
   150 ms, 0 errors), and the baseline side by side: the same figures through the
   CLI (``coverplan … --json`` as a subprocess, and in-process, time per call).
2. SQLite: :mod:`bench.sqlite_concurrency` on a copy of the store: 8 writer and 8
   reader processes for 60 s; "database is locked" errors and lost writes (target 0
   each), with the baseline of the same run without busy timeout.

``--seconds`` sets both durations (a quick run: ``make bench-api BENCH_ARGS="--seconds
5"``). ``--base-url`` benchmarks a server already running; ``--db`` uses an existing
store instead of building the demo one. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import sqlite_concurrency
from bench._http_load import Load, http_load, percentile

# --- what is benchmarked: the lead adjusts these to the routes as merged -------------------


@dataclass(frozen=True)
class Target:
    """One benchmarked request: its path (with query) and its CLI equivalent."""

    name: str
    path: str
    cli: tuple[str, ...] | None  # coverplan arguments of the same figures; None: none
    cli_note: str = ""
    judged: bool = True  # False: shown for scale (the floor), not held to the target


TARGETS: tuple[Target, ...] = (
    Target(
        "health (floor)",
        "/api/v1/health",
        None,
        "none: the server's floor on this machine (no sign-in, no data), not judged",
        judged=False,
    ),
    Target("coverage summary", "/api/v1/coverage", ("coverage", "--json")),
    Target(
        "villages GeoJSON",
        "/api/v1/villages",
        ("status", "--json"),
        "nearest CLI: status (counts per town; the CLI prints no GeoJSON)",
    ),
    Target(
        "resident page",
        "/api/v1/residents?page=1&page_size=50&purpose=bench",
        None,
        "no CLI equivalent (the CLI never lists persons)",
    ),
)
HEALTH_PATH = "/api/v1/health"
TOKEN_PATH = "/api/v1/auth/token"
# a demo account created by `coverplan demo` that may read residents (admin)
DEMO_USER = os.environ.get("BENCH_API_USER", "admin")
DEMO_PASSWORD = os.environ.get("BENCH_API_PASSWORD", "demo-admin-pass")
P95_TARGET_MS = 150.0
HTTP_SECONDS = 30.0
CLIENTS = 50
SERVER_START_S = 120.0  # waiting for /api/v1/health
CLI_REPEATS = 3
WARM_TIMEOUT_S = 600.0  # the first coverage request computes it (seconds on the demo)


@dataclass
class CliTime:
    """Time per call of a target's CLI equivalent (milliseconds), or why there is none."""

    subprocess_ms: float | None
    in_process_ms: float | None
    note: str


def _coverplan() -> str:
    exe = Path(sys.executable).with_name("coverplan")
    return str(exe) if exe.exists() else "coverplan"


def _run_cli(url: str, args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COVERPLAN_DB_URL": url}
    return subprocess.run(
        [_coverplan(), "--db", url, *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def build_demo_store(workdir: Path) -> str:
    """``coverplan demo`` and ``coverplan network build`` into ``workdir/demo.db``."""
    url = f"sqlite:///{workdir / 'demo.db'}"
    for args in (["demo"], ["network", "build"]):
        t0 = time.perf_counter()
        done = _run_cli(url, args, cwd=workdir)
        print(f"  coverplan {' '.join(args):<30} {time.perf_counter() - t0:7.1f} s", flush=True)
        if done.returncode != 0:
            raise SystemExit(f"coverplan {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return url


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(url: str, *, workdir: Path) -> Iterator[str]:
    """``coverplan serve --demo`` on a free port of 127.0.0.1; yields its base URL."""
    import httpx

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "serve.log").open("w")
    cmd = [_coverplan(), "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--demo"],
        cwd=workdir,
        env={**os.environ, "COVERPLAN_DB_URL": url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                log.flush()
                tail = (workdir / "serve.log").read_text()[-2000:]
                raise RuntimeError(f"coverplan serve exited ({proc.returncode}):\n{tail}")
            try:
                if httpx.get(base + HEALTH_PATH, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{base}{HEALTH_PATH} not up after {SERVER_START_S:.0f} s")
            time.sleep(0.5)
        print(f"  coverplan serve --demo on {base} (pid {proc.pid})", flush=True)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def login(base: str, *, user: str, password: str) -> str:
    """A bearer token of ``user`` from the OAuth2 password form at :data:`TOKEN_PATH`."""
    import httpx

    r = httpx.post(
        base + TOKEN_PATH,
        data={"grant_type": "password", "username": user, "password": password},
        timeout=30,
    )
    if r.status_code != 200:
        raise RuntimeError(
            f"login as {user} at {TOKEN_PATH}: HTTP {r.status_code} {r.text[:300]} "
            "(set the demo account with --user/--password or BENCH_API_USER/BENCH_API_PASSWORD)"
        )
    return str(r.json()["access_token"])


def warm(url: str, *, token: str) -> float:
    """Seconds of one request to ``url`` before it is loaded: the server computes the
    coverage once per data version and answers from memory afterwards, so the load
    measures the steady state and the first computation is printed apart."""
    import httpx

    t0 = time.perf_counter()
    r = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=WARM_TIMEOUT_S)
    if r.status_code != 200:
        raise RuntimeError(f"warm-up {url}: HTTP {r.status_code} {r.text[:300]}")
    return time.perf_counter() - t0


def _in_process_cli(url: str, args: tuple[str, ...]) -> float:
    """Milliseconds of one ``api.cli.main`` call (stdout and stderr discarded)."""
    import contextlib
    import io

    from api.cli import main as cli_main

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["--db", url, *args])
    ms = (time.perf_counter() - t0) * 1000
    if code != 0:
        raise RuntimeError(f"coverplan {' '.join(args)} exited {code}")
    return ms


def cli_baseline(url: str, target: Target, *, workdir: Path, repeats: int) -> CliTime:
    """Median time per call of the target's CLI equivalent: subprocess and in-process."""
    if target.cli is None:
        return CliTime(None, None, target.cli_note)
    sub: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = _run_cli(url, list(target.cli), cwd=workdir)
        sub.append((time.perf_counter() - t0) * 1000)
        if done.returncode != 0:
            return CliTime(None, None, f"CLI failed: {done.stderr.strip()[-200:]}")
    old = os.environ.get("COVERPLAN_DB_URL")
    os.environ["COVERPLAN_DB_URL"] = url
    try:
        _in_process_cli(url, target.cli)  # the first call pays the imports
        inproc = [_in_process_cli(url, target.cli) for _ in range(repeats)]
    finally:
        if old is None:
            os.environ.pop("COVERPLAN_DB_URL", None)
        else:
            os.environ["COVERPLAN_DB_URL"] = old
    note = target.cli_note or f"coverplan {' '.join(target.cli)}"
    return CliTime(percentile(sub, 50), percentile(inproc, 50), note)


def _fmt(x: float | None, spec: str = ".1f") -> str:
    return "—" if x is None else format(x, spec)


def print_http(rows: list[tuple[Target, Load, CliTime]], *, clients: int, seconds: float) -> None:
    """HTTP figures and the CLI baseline side by side, one line per target."""
    print(
        f"\n  HTTP: {clients} clients × {seconds:g} s per path; target p95 < "
        f"{P95_TARGET_MS:.0f} ms and 0 errors. Baseline: one CLI call (ms, median)."
    )
    head = (
        f"  {'path':<20}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}{'req/s':>9}{'target':>8}"
        f"{'CLI ms':>10}{'CLI/s':>8}{'in-proc ms':>12}  tool"
    )
    print(head)
    for target, load, cli in rows:
        met = load.p95_ms < P95_TARGET_MS and load.errors == 0 and load.requests > 0
        verdict = ("met" if met else "MISSED") if target.judged else "floor"
        per_s = None if cli.subprocess_ms is None else 1000 / cli.subprocess_ms
        print(
            f"  {target.name:<20}{load.p50_ms:9.1f}{load.p95_ms:9.1f}{load.errors:8,}"
            f"{load.requests_per_s:9.1f}{verdict:>8}"
            f"{_fmt(cli.subprocess_ms, '.0f'):>10}{_fmt(per_s, '.2f'):>8}"
            f"{_fmt(cli.in_process_ms, '.0f'):>12}  {load.tool}"
        )
    print(
        f"    ({os.cpu_count()} CPUs shared by the server and the load tool; with {clients}"
        " clients always waiting, latency ≈ clients / (req/s): p95 < 150 ms needs about"
        f" {clients / P95_TARGET_MS * 1000 * 1.5:.0f} req/s)"
    )
    for target, load, cli in rows:
        print(f"    {target.name}: {target.path}; baseline {cli.note}")
        for sample in load.samples:
            print(f"      e.g. {sample}")


def http_part(
    url: str | None, args: argparse.Namespace, workdir: Path
) -> list[tuple[Target, Load, CliTime]]:
    """Serve (unless ``--base-url``), log in, load every target, time the CLI baseline."""
    seconds = args.seconds if args.seconds is not None else HTTP_SECONDS

    def bench(base: str) -> list[tuple[Target, Load, CliTime]]:
        token = login(base, user=args.user, password=args.password)
        rows = []
        for target in TARGETS:
            first = warm(base + target.path, token=token)
            print(f"  loading {target.path} (first request {first:.1f} s) …", flush=True)
            load = http_load(
                base + target.path,
                token=token,
                seconds=seconds,
                clients=args.clients,
                tool=args.tool,
                workdir=workdir,
            )
            cli = (
                cli_baseline(url, target, workdir=workdir, repeats=args.cli_repeats)
                if url is not None
                else CliTime(None, None, "no store given (--db): no CLI baseline")
            )
            rows.append((target, load, cli))
        return rows

    if args.base_url:
        rows = bench(args.base_url.rstrip("/"))
    else:
        assert url is not None
        with served(url, workdir=workdir) as base:
            rows = bench(base)
    print_http(rows, clients=args.clients, seconds=seconds)
    return rows


def copy_store(url: str, dest: Path) -> str:
    """A consistent copy of the SQLite store at ``url`` (the SQLite backup API)."""
    from sqlalchemy.engine import make_url

    src = make_url(url).database
    if not src:
        raise SystemExit(f"{url}: not an SQLite file")
    with sqlite3.connect(src) as a, sqlite3.connect(dest) as b:
        a.backup(b)
    key = Path(f"{src}.key")  # the data key of the encrypted ID numbers travels with the file
    if key.exists():
        shutil.copy2(key, Path(f"{dest}.key"))
    return f"sqlite:///{dest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, help="duration of each run (default 30 / 60)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent HTTP clients")
    parser.add_argument("--writers", type=int, default=sqlite_concurrency.WRITERS)
    parser.add_argument("--readers", type=int, default=sqlite_concurrency.READERS)
    parser.add_argument("--only", choices=("http", "sqlite"), help="run one part only")
    parser.add_argument("--db", help="use this store (SQLite URL) instead of building the demo")
    parser.add_argument("--base-url", help="benchmark this running server instead of serving")
    parser.add_argument("--user", default=DEMO_USER)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--tool", choices=("auto", "wrk", "asyncio"), default="auto")
    parser.add_argument("--cli-repeats", type=int, default=CLI_REPEATS)
    parser.add_argument("--no-baseline", action="store_true", help="skip the SQLite baseline")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"cpus": os.cpu_count()}
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        workdir = Path(tmp)
        url: str | None = args.db
        needs_store = args.only == "sqlite" or not args.base_url
        if url is None and needs_store:
            print("Demo store:", flush=True)
            url = build_demo_store(workdir)
        if args.only != "sqlite":
            print("HTTP API (coverplan serve, uvicorn):", flush=True)
            try:
                rows = http_part(url, args, workdir)
            except RuntimeError as exc:
                print(f"  HTTP part failed: {exc}", flush=True)
                out["http_error"] = str(exc)
                ok = False
            else:
                out["http"] = [
                    {"target": asdict(t), "load": asdict(ld), "cli": asdict(c)} for t, ld, c in rows
                ]
                ok &= all(
                    ld.p95_ms < P95_TARGET_MS and ld.errors == 0 for t, ld, _ in rows if t.judged
                )
        if args.only != "http":
            assert url is not None
            copy = copy_store(url, workdir / "concurrency.db")
            figures = sqlite_concurrency.bench(
                copy,
                seconds=args.seconds if args.seconds is not None else sqlite_concurrency.SECONDS,
                writers=args.writers,
                readers=args.readers,
                baseline=not args.no_baseline,
            )
            out["sqlite"] = [asdict(f) for f in figures]
            ok &= figures[0].ok
        shutil.rmtree(workdir / "out", ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    print(f"\nbench-api: {'every target met' if ok else 'a target was MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
