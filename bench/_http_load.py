"""HTTP load for :mod:`bench.api`: ``wrk`` with a Lua script, or an asyncio httpx client.

Both give the same figures: requests, errors (connection failures, time-outs and
responses with a status of 400 or more), p50/p95/p99 latency in milliseconds and
requests per second.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REQUEST_TIMEOUT_S = 10.0  # a slower answer counts as an error
WRK_THREADS = 2

# wrk runs this in each of its threads: the bearer token from the environment, and at the
# end one line of JSON with the totals and the latency percentiles (microseconds).
WRK_LUA = r"""
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["Accept"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass
class Load:
    """Figures of one load run (latencies in milliseconds)."""

    tool: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    samples: list[str] = field(default_factory=list)

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def wrk_load(url: str, *, token: str, seconds: float, clients: int, workdir: Path) -> Load:
    """``wrk`` on ``url`` with ``clients`` connections for ``seconds``."""
    script = workdir / "bench_auth.lua"
    script.write_text(WRK_LUA)
    cmd = [
        "wrk",
        f"-t{min(WRK_THREADS, clients)}",
        f"-c{clients}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={REQUEST_TIMEOUT_S:g}s",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(
        cmd, env={**os.environ, "BENCH_TOKEN": token}, capture_output=True, text=True
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-500:]}")
    d = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(d[k] for k in ("connect", "read", "write", "status", "timeout"))
    samples = [f"{k}: {d[k]}" for k in ("connect", "read", "write", "status", "timeout") if d[k]]
    return Load(
        tool="wrk",
        requests=int(d["requests"]),
        errors=int(errors),
        seconds=d["duration_us"] / 1e6,
        p50_ms=d["p50_us"] / 1000,
        p95_ms=d["p95_us"] / 1000,
        p99_ms=d["p99_us"] / 1000,
        samples=samples,
    )


async def _async_load(url: str, *, token: str, seconds: float, clients: int) -> Load:
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    start = time.perf_counter()
    deadline = start + seconds

    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S) as c:

        async def client() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    r = await c.get(url)
                    await r.aread()
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                if r.status_code >= 400:
                    errors.append(f"HTTP {r.status_code}: {r.text[:120]}")
                    continue
                latencies.append((time.perf_counter() - t0) * 1000)

        await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return Load(
        tool="asyncio httpx",
        requests=len(latencies) + len(errors),
        errors=len(errors),
        seconds=elapsed,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        samples=sorted(set(errors))[:3],
    )


def http_load(
    url: str, *, token: str, seconds: float, clients: int, tool: str, workdir: Path
) -> Load:
    """Load ``url`` with ``tool`` (``wrk``, ``asyncio``, or ``auto``: wrk when installed)."""
    if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
        load = wrk_load(url, token=token, seconds=seconds, clients=clients, workdir=workdir)
    else:
        load = asyncio.run(_async_load(url, token=token, seconds=seconds, clients=clients))
    if load.errors:
        load.samples.append(probe(url, token=token))
    return load


def probe(url: str, *, token: str) -> str:
    """One request after a run with errors: its status and the start of its body."""
    import httpx

    try:
        r = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    except httpx.HTTPError as exc:
        return f"probe: {type(exc).__name__}: {exc}"
    return f"probe: HTTP {r.status_code} {r.text[:160]}"
