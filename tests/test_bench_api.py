"""Smoke test of `make bench-api` (bench.api): the harness runs and its counters are right.

The SQLite part runs for real (2 writer and 2 reader processes, 1 s) on the toy
district's store; a lost and a phantom write are injected into the store itself
(a row deleted, a row added) and must be counted. The HTTP load counters are
checked against a tiny local HTTP server that answers 200 to the right bearer
token and 401 otherwise.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import api, sqlite_concurrency
from bench._http_load import http_load
from tests.toy_district import build_store, write_inputs


@pytest.fixture
def toy_url(tmp_path: Path) -> str:
    files = write_inputs(tmp_path / "inputs")
    url = f"sqlite:///{tmp_path / 'toy.db'}"
    build_store(url, files).dispose()
    return url


def _db(url: str) -> str:
    return url.removeprefix("sqlite:///")


def test_concurrency_counts_writes_and_detects_lost_and_phantom_rows(toy_url: str) -> None:
    fig = sqlite_concurrency.run(toy_url, seconds=1, writers=2, readers=2)
    assert fig.writes > 0 and fig.reads > 0
    assert (fig.locked, fig.lost, fig.phantom, fig.other_errors) == (0, 0, 0, 0)
    stored = sqlite_concurrency.stored_visits(toy_url, writers=2)
    # every committed write is one row of its writer's team, read back
    assert sum(len(rows) for rows in stored.values()) == fig.writes
    assert sqlite_concurrency.compare(stored, stored) == (0, 0)

    # a write the writer saw committed, then gone from the store: one lost write
    with sqlite3.connect(_db(toy_url)) as con:
        (vid,) = con.execute(
            "SELECT id FROM visits WHERE team = ? ORDER BY id LIMIT 1",
            (f"{sqlite_concurrency.TEAM_PREFIX}1",),
        ).fetchone()
        con.execute("DELETE FROM visits WHERE id = ?", (vid,))
    after = sqlite_concurrency.stored_visits(toy_url, writers=2)
    assert sqlite_concurrency.compare(stored, after) == (1, 0)

    # a row of writer 0 it never saw committed: one phantom write
    with sqlite3.connect(_db(toy_url)) as con:
        con.execute(
            "INSERT INTO visits (resident_id, visited_on, team, outcome, services) "
            "SELECT id, '2001-01-01', ?, 'not_home', '[]' FROM residents ORDER BY id LIMIT 1",
            (f"{sqlite_concurrency.TEAM_PREFIX}0",),
        )
    again = sqlite_concurrency.stored_visits(toy_url, writers=2)
    assert sqlite_concurrency.compare(stored, again) == (1, 1)

    sqlite_concurrency.clear_bench_rows(toy_url)
    assert sqlite_concurrency.stored_visits(toy_url, writers=2) == {0: set(), 1: set()}


def test_bench_api_sqlite_part_runs_on_a_copy_and_writes_its_figures(
    toy_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    args = ["--only", "sqlite", "--db", toy_url, "--seconds", "1"]
    code = api.main(
        [*args, "--writers", "2", "--readers", "2", "--no-baseline", "--json", str(out)]
    )
    assert code == 0
    (fig,) = json.loads(out.read_text())["sqlite"]
    assert (fig["writers"], fig["readers"]) == (2, 2)
    assert fig["writes"] > 0 and fig["locked"] == 0 and fig["lost"] == 0
    assert "'database is locked' (target 0)" in capsys.readouterr().out
    # the store given is left as it was: the run wrote into a copy
    with sqlite3.connect(_db(toy_url)) as con:
        assert con.execute("SELECT count(*) FROM visits").fetchone() == (0,)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == "Bearer good"
        body = b'{"ok": true}' if ok else b'{"title": "unauthorised"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api/v1/coverage"
    httpd.shutdown()
    httpd.server_close()


TOOLS = [
    "asyncio",
    "wrk",  # installed by make test's test-deps
]


@pytest.mark.parametrize("tool", TOOLS)
def test_http_load_counts_requests_and_errors(server: str, tmp_path: Path, tool: str) -> None:
    good = http_load(server, token="good", seconds=1, clients=2, tool=tool, workdir=tmp_path)
    assert good.requests > 0 and good.errors == 0
    assert 0 < good.p50_ms <= good.p95_ms <= good.p99_ms
    bad = http_load(server, token="forged", seconds=1, clients=2, tool=tool, workdir=tmp_path)
    assert bad.requests > 0 and bad.errors == bad.requests
    assert bad.samples[-1].startswith("probe: HTTP 401")
