"""The coverplan command as a user runs it: JSON contract, errors, crash safety.

The commands run in-process (the ``coverplan`` fixture); the import killed half-way
runs in a real process, since killing it is the point.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli import Coverplan, Ran
from tests.factories import make_id
from tests.planner import registers as reg

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
IMPORT_KEYS = {
    "file",
    "encoding",
    "rows",
    "stored",
    "updated",
    "unchanged",
    "rejected",
    "needs_review",
    "report",
}


Run = Callable[..., Ran]


@pytest.fixture
def run(coverplan: Coverplan) -> Run:
    """``run(*args, db=URL)``: ``coverplan --db URL ARGS`` in-process.

    Exit status 0 is asserted unless ``check=False``; a "Warning" on stderr fails.
    """

    def run(*args: str, db: str, check: bool = True) -> Ran:
        proc = coverplan(*args, db=db)
        if check:
            assert proc.returncode == 0, proc.stderr
        assert "Warning" not in proc.stderr, proc.stderr
        return proc

    return run


def test_import_json_contract_and_idempotence(run: Run, tmp_path: Path, db_url: str) -> None:
    run("init", "--district", "330213", db=db_url)
    path = reg.write_gbk_csv(tmp_path / "名册.csv")
    report = tmp_path / "问题.xlsx"
    out = json.loads(
        run("import", "residents", str(path), "--json", "--report", str(report), db=db_url).stdout
    )
    assert set(out) >= IMPORT_KEYS
    assert out["encoding"] == "gbk"
    assert (out["rows"], out["stored"], out["rejected"], out["needs_review"]) == (15, 9, 6, 1)
    assert out["report"] == str(report) and report.exists()
    again = json.loads(
        run(
            "import", "residents", str(reg.write_xlsx(tmp_path / "b.xlsx")), "--json", db=db_url
        ).stdout
    )
    assert (again["unchanged"], again["updated"], again["stored"]) == (9, 0, 9)


def test_user_mistakes_give_a_message_not_a_traceback(
    run: Run, tmp_path: Path, db_url: str
) -> None:
    run("init", "--district", "330213", db=db_url)
    proc = run("import", "residents", str(tmp_path / "nope.csv"), db=db_url, check=False)
    assert proc.returncode == 2
    assert "文件不存在" in proc.stderr and "Traceback" not in proc.stderr
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    proc = run("import", "residents", str(bad), db=db_url, check=False)
    assert proc.returncode == 2 and "表头" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("import", "facilities", str(bad), "--crs", "mercator", db=db_url, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def _big_register(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "公民身份号码", "残疾类别", "残疾等级", "乡镇（街道）", "村（社区）"])
        start = date(1930, 1, 1)
        for i in range(n):
            w.writerow(
                [
                    f"测试{i}",
                    make_id(start + timedelta(days=i // 900), i % 900 + 1),
                    "肢体残疾",
                    "二级",
                    "溪口镇",
                    "武岭社区",
                ]
            )


def test_import_killed_midway_leaves_store_unchanged(run: Run, tmp_path: Path, db_url: str) -> None:
    run("init", "--district", "330213", db=db_url)
    run("import", "residents", str(reg.write_gbk_csv(tmp_path / "a.csv")), db=db_url)
    db_file = db_url.removeprefix("sqlite:///")
    con = sqlite3.connect(db_file)
    before = con.execute("select count(*), group_concat(id_number) from residents").fetchone()
    batches = con.execute("select count(*) from import_batches").fetchone()[0]
    con.close()

    big = tmp_path / "big.csv"
    _big_register(big, 30_000)
    # stderr is a pipe: progress is drawn only because COVERPLAN_PROGRESS=1 asks for it
    env = {**os.environ, "COVERPLAN_DB_URL": db_url, "COVERPLAN_PROGRESS": "1"}
    with subprocess.Popen(
        [COVERPLAN, "import", "residents", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stderr is not None
        seen = b""
        while "写入".encode() not in seen:  # the bar's "写入 2000/30000": rows are being written
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, seen.decode("utf-8", errors="replace")
            seen += chunk
        assert "写入 30000/30000".encode() not in seen, seen.decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    con = sqlite3.connect(db_file)
    assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert (
        con.execute("select count(*), group_concat(id_number) from residents").fetchone() == before
    )
    assert con.execute("select count(*) from import_batches").fetchone()[0] == batches
    con.close()


def test_init_reference_district_gives_codes_and_names_only(
    run: Run, tmp_path: Path, db_url: str
) -> None:
    """`init --district 330213` loads the packaged list; synthetic geometry is the demo's."""
    out = json.loads(run("init", "--district", "330213", "--json", db=db_url).stdout)
    assert (out["towns"], out["villages"], out["synthetic_geometry"]) == (12, 337, 0)
    assert (out["district_code"], out["district_name"]) == ("330213", "奉化区")
    assert out["created"] is True
    assert out["office"] == {"name": "奉化区残联", "lon": 121.4068, "lat": 29.6551}
    assert out["without_geometry"] == 337
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    n, poly, synth = con.execute(
        "select count(*), count(polygon), sum(synthetic) from villages"
    ).fetchone()
    assert (n, poly, synth) == (337, 0, 0)
    assert con.execute("select count(*) from residents").fetchone()[0] == 0
    con.close()
    assert run("status", db=db_url).returncode == 0


def test_geocode_file_and_saved_corrections(run: Run, tmp_path: Path, db_url: str) -> None:
    run("init", "--district", "330213", db=db_url)
    src = tmp_path / "addresses.csv"
    src.write_text(
        "编号,地址\n1,浙江省宁波市奉化市尚田镇冷西村12号\n2,锦屏街道长岭\n3,溪口镇中兴路12号\n"
        "4,奉化区西坞街道河头村5组\n",
        encoding="gbk",
    )
    out = tmp_path / "result.csv"
    summary = json.loads(
        run("geocode", str(src), "--column", "地址", "--out", str(out), "--json", db=db_url).stdout
    )
    assert (summary["matched"], summary["ambiguous"], summary["unmatched"]) == (2, 1, 1)
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == [
        "address",
        "village_code",
        "village_name",
        "town_name",
        "method",
        "score",
        "status",
    ]
    assert rows[0]["village_code"] == "330213007201" and rows[0]["town_name"] == "尚田街道"
    assert rows[1]["status"] == "ambiguous" and rows[1]["village_code"] == ""
    assert rows[2]["status"] == "unmatched" and rows[2]["town_name"] == "溪口镇"

    run("corrections", "add", "锦屏街道长岭", "330213001010", db=db_url)
    run("geocode", str(src), "--column", "地址", "--out", str(out), db=db_url)
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[1]["status"] == "matched" and rows[1]["method"] == "correction"
    assert rows[1]["village_name"] == "长岭社区"
    bad = run("corrections", "add", "某地", "330213999999", db=db_url, check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
