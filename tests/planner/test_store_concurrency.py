"""Two processes at once on one store, on SQLite and PostgreSQL: both succeed, nothing lost.

Real processes (``python -c``), started together behind a file barrier so that
their migrations or imports really overlap; a real SQLite file and a real
PostgreSQL database (``any_db_url``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from geo.gazetteer import load_fenghua
from planner.errors import StoreBusyError
from planner.store import schema as t
from planner.store.core import Store, init_store
from tests.cli import Coverplan
from tests.factories import make_id
from tests.planner import registers as reg

# Each process announces itself with a file, then waits for all the others, then runs.
_BARRIER = textwrap.dedent(
    """
    import pathlib, sys, time
    barrier, me, n = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    {imports}
    (barrier / me).touch()
    deadline = time.monotonic() + 120
    while len(list(barrier.iterdir())) < n and time.monotonic() < deadline:
        time.sleep(0.002)
    {body}
    """
)


def _run_together(
    tmp_path: Path, *, imports: str, body: str, args: list[list[str]]
) -> list[tuple[int, str, str]]:
    """Run one process per argument list together; their CompletedProcess-like results."""
    barrier = tmp_path / f"barrier-{len(list(tmp_path.glob('barrier-*')))}"
    barrier.mkdir()
    code = _BARRIER.format(imports=imports, body=body)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(barrier), str(i), str(len(args)), *a],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, a in enumerate(args)
    ]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        out.append((p.returncode, stdout, stderr))
    return out


def _count(store: Store, table: type[t.Base]) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_two_first_migrations_at_once_both_succeed(any_db_url: str, tmp_path: Path) -> None:
    """Two processes open an empty store at the same moment: both end migrated, exit 0."""
    results = _run_together(
        tmp_path,
        imports="from planner.store.core import open_store",
        body="open_store(sys.argv[4]).dispose()",
        args=[[any_db_url], [any_db_url], [any_db_url]],
    )
    for rc, _out, err in results:
        assert "Traceback" not in err, err
        assert rc == 0, err
    store = Store(any_db_url)
    with store.engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1  # one head, written once
    assert _count(store, t.Scenario) == 0  # the last migration's table exists
    store.dispose()


def _register(path: Path, *, extra: int) -> Path:
    """The messy register (9 stored, 6 rejected) plus ``extra`` good rows."""
    villages = [("溪口镇", "武岭社区"), ("锦屏街道", "长岭村"), ("尚田镇", "冷西村")]
    rows = list(reg.DATA)
    for i in range(extra):
        town, village = villages[i % len(villages)]
        born = date(1975, 1, 1) + timedelta(days=i)
        person = [str(16 + i), f"测试{i}", "", make_id(born, 201), "", "肢体残疾", "二级"]
        rows.append([*person, town, village, "", ""])
    return reg.write_gbk_csv(path, rows=rows)


def test_the_same_file_imported_twice_at_once(any_db_url: str, tmp_path: Path) -> None:
    """``coverplan import residents`` in two processes at once: both succeed, one store.

    Writers are serialised (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory
    transaction lock), so the second sees the first's rows and changes nothing.
    """
    extra = 300
    init_store(any_db_url, gazetteer=load_fenghua()).dispose()
    path = _register(tmp_path / "名册.csv", extra=extra)
    results = _run_together(
        tmp_path,
        imports="from api.cli import main; import planner.ingest.registers",
        body="sys.exit(main(sys.argv[4:]))",
        args=[_import_args(any_db_url, path, tmp_path / f"r{i}.csv") for i in (1, 2)],
    )
    for rc, _out, err in results:
        assert "Traceback" not in err, err
        assert rc == 0, err
    outs = [json.loads(out) for _rc, out, _err in results]
    stored = 9 + extra
    assert all((o["rows"], o["stored"], o["rejected"]) == (15 + extra, stored, 6) for o in outs)
    # one of them inserted everything, the other found it all already there
    assert sorted((o["inserted"], o["unchanged"]) for o in outs) == [(0, stored), (stored, 0)]
    store = Store(any_db_url)
    assert _count(store, t.Resident) == stored
    assert _count(store, t.ImportBatch) == 2
    with store.read() as s:
        per_batch = s.execute(
            select(t.ImportProblem.batch_id, func.count()).group_by(t.ImportProblem.batch_id)
        ).all()
    assert sorted(n for _b, n in per_batch) == [7, 7]  # 6 rejected + 1 review, each time
    store.dispose()


def _import_args(url: str, path: Path, report: Path) -> list[str]:
    """``coverplan`` arguments importing the residents file ``path`` into ``url``."""
    return ["--db", url, "import", "residents", str(path), "--json", "--report", str(report)]


def _import_cmd(url: str, path: Path, report: Path) -> list[str]:
    cmd = "from api.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
    return [sys.executable, "-c", cmd, *_import_args(url, path, report)]


def _resident(id_number: str) -> t.Resident:
    return t.Resident(
        id_number=id_number,
        name="张三",
        sex="男",
        birth_date=date(1950, 1, 1),
        category="physical",
        grade=1,
        content_hash="0" * 64,  # not what the register's row hashes to: it will be updated
    )


def test_an_import_waits_for_a_writer_in_progress_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    """Deterministic: the import queues behind an open write *before* reading the store.

    Without the write lock it would read the store, miss the uncommitted row of ID_A,
    insert it too and fail on the unique index once the first writer commits.
    """
    from sqlalchemy import create_engine

    init_store(pg_url, gazetteer=load_fenghua()).dispose()
    path = reg.write_gbk_csv(tmp_path / "名册.csv")
    store = Store(pg_url)
    watcher = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    waiting = text(
        "SELECT l.locktype FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()"
    )
    with store.write() as s:
        s.add(_resident(reg.ID_A))
        s.flush()
        proc = subprocess.Popen(
            _import_cmd(pg_url, path, tmp_path / "r.csv"),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        locks: list[str] = []
        deadline = time.monotonic() + 120
        while not locks and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            with watcher.connect() as conn:
                locks = [str(x) for x in conn.execute(waiting).scalars()]
        assert proc.poll() is None, proc.communicate()
        assert locks == ["advisory"]  # queued on the writers' lock, nothing read yet
    out, err = proc.communicate(timeout=120)
    watcher.dispose()
    assert "Traceback" not in err, err
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert (result["inserted"], result["updated"], result["unchanged"]) == (8, 1, 0)
    assert _count(store, t.Resident) == 9
    store.dispose()


def test_a_writer_beyond_the_busy_timeout_gives_a_clear_message(
    any_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, coverplan: Coverplan
) -> None:
    """Another process holds the store longer than the busy timeout: exit 2, Chinese
    message, no traceback, nothing stored by the import; the retry then succeeds."""
    init_store(any_db_url, gazetteer=load_fenghua()).dispose()
    path = reg.write_gbk_csv(tmp_path / "名册.csv")
    monkeypatch.setenv("COVERPLAN_SQLITE_BUSY_TIMEOUT_MS", "300")
    store = Store(any_db_url)
    with store.write() as s:
        s.add(_resident(reg.ID_A))
        s.flush()
        busy = subprocess.run(
            _import_cmd(any_db_url, path, tmp_path / "r.csv"),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert busy.returncode == 2, busy.stderr
    assert "Traceback" not in busy.stderr
    assert "另一项导入正在写入同一数据，请稍后重试" in busy.stderr
    assert busy.stdout == ""
    assert _count(store, t.ImportBatch) == 0
    assert _count(store, t.Resident) == 1  # only the other writer's row
    again = coverplan(*_import_args(any_db_url, path, tmp_path / "r.csv"))  # in-process
    assert again.returncode == 0, again.stderr
    assert _count(store, t.Resident) == 9
    store.dispose()


def test_write_lock_with_no_busy_timeout_fails_at_once(any_db_url: str) -> None:
    """busy timeout 0: a second writer gives up immediately (SQLite and PostgreSQL alike)."""
    first = init_store(any_db_url, gazetteer=load_fenghua())
    second = Store(any_db_url, busy_timeout_ms=0)
    with first.write() as s:
        s.add(_resident(reg.ID_A))
        s.flush()
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="请稍后重试"), second.write() as s2:
            s2.add(_resident(reg.ID_X))
        assert time.monotonic() - started < 5
    with second.write() as s2:  # free again
        s2.add(_resident(reg.ID_X))
    assert _count(first, t.Resident) == 2
    first.dispose()
    second.dispose()
