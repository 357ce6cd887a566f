"""A user mistake ends with a Chinese message and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from api.cli import EXIT_BROKEN_PIPE, main
from api.cli.output import command_output, dumps, print_json
from geo.gazetteer import load_fenghua
from planner.settings import reset_settings
from planner.store.core import init_store

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
SECRET_URL = "postgresql+psycopg://u:secret@127.0.0.1:1/x"  # nothing listens on port 1


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A store of the packaged district: the commands refuse one that does not exist."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    init_store(url, gazetteer=load_fenghua()).dispose()
    return url


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, db: str | None = None
) -> tuple[int, str, str]:
    reset_settings()
    code = main([*(["--db", db] if db else []), *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


# --- the JSON printer and the stdout guard ---------------------------------------------


def test_dumps_is_strict_json() -> None:
    text = dumps({"nan": float("nan"), "inf": float("inf"), "n": np.int64(3), "b": np.bool_(1)})
    assert json.loads(text) == {"nan": None, "inf": None, "n": 3, "b": True}


def test_the_guard_sends_everything_but_the_document_to_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with command_output(json_mode=True):
        os.write(1, b"native banner\n")  # what HiGHS does
        print("progress")
        print_json({"a": 1})
    out, err = capfd.readouterr()
    assert json.loads(out) == {"a": 1}
    assert "native banner" in err and "progress" in err
    with command_output(json_mode=False):
        os.write(1, b"native banner\n")
        print("summary")
    out, err = capfd.readouterr()
    assert out == "summary\n" and err == "native banner\n"


def test_a_second_document_is_a_programming_error(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(RuntimeError, match="two JSON documents"), command_output(json_mode=True):
        print_json({"a": 1})
        print_json({"b": 2})
    assert capfd.readouterr().out == ""


# --- exits ------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["99999", "0", "-1", "9999"])
def test_outreach_year_out_of_range(
    capsys: pytest.CaptureFixture[str], db_url: str, year: str
) -> None:
    code, out, err = run(capsys, "outreach", "year", year, "--json", db=db_url)
    assert (code, out) == (2, "")
    assert f"年份「{year}」无效" in err


def test_outreach_year_not_a_number(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--db", db_url, "outreach", "year", "abc"])
    assert stop.value.code == 2
    assert "参数 year 的值「abc」不是整数" in capsys.readouterr().err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_output_cut_off_by_head_exits_quietly(db_url: str, json_flag: list[str]) -> None:
    """``coverplan … | head``: the reader is gone; no traceback, status 141."""
    env = {**os.environ, "COVERPLAN_DB_URL": db_url}
    with subprocess.Popen(
        [COVERPLAN, "status", *json_flag],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the command has written anything
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert err == ""


def test_a_password_is_never_shown(capsys: pytest.CaptureFixture[str]) -> None:
    for url in (SECRET_URL, "postgresql+psycopg://u:secret@h:port/x"):
        code, out, err = run(capsys, "status", "--json", db=url)
        assert (code, out) == (2, "")
        assert "secret" not in err and "u:***@" in err


def test_an_unreachable_database_in_a_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run(
        [COVERPLAN, "--db", SECRET_URL, "init", "--district", "330213", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "无法打开或升级数据库 postgresql+psycopg://u:***@127.0.0.1:1/x" in proc.stderr
    assert "secret" not in proc.stderr and "Traceback" not in proc.stderr


def test_an_invalid_config_value(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "mine.toml"
    cfg.write_text("[outreach]\ndays = 9\ndayz = 1\n", encoding="utf-8")
    monkeypatch.setenv("COVERPLAN_CONFIG", str(cfg))
    code, _, err = run(capsys, "status", db=db_url)
    assert code == 2
    assert "配置项 outreach.days 的值 9 无效：应 ≤ 3" in err
    assert "配置项 outreach.dayz 不存在；是否为 outreach.days？" in err


def test_an_import_rejecting_every_row_exits_2_with_its_report(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "坏名册.xls"  # a CSV, named as government systems export it
    path.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        "甲,110105194912310021,肢体,一级,溪口镇,武岭社区\n"  # wrong check character
        "乙,11010519491231002X,外星,一级,溪口镇,武岭社区\n",  # unknown category
        encoding="gbk",
    )
    code, out, err = run(capsys, "import", "residents", str(path), "--json", db=db_url)
    assert code == 2
    doc = json.loads(out)
    assert (doc["format"], doc["rows"], doc["rejected"], doc["stored"]) == ("csv", 2, 2, 0)
    assert Path(doc["report"]).exists()
    assert "2 行数据全部被拒绝" in err


def test_files_and_directories_mixed_up(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "import", "residents", str(tmp_path), db=db_url)
    assert code == 2 and "这是一个目录" in err
    good = tmp_path / "名册.csv"
    good.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        "甲,11010519491231002X,肢体,一级,溪口镇,不存在村\n",
        encoding="utf-8",
    )
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a directory should be", encoding="utf-8")
    report = blocker / "问题清单.csv"
    code, _, err = run(capsys, "import", "residents", str(good), "--report", str(report), db=db_url)
    assert code == 2 and f"无法读写「{blocker}」" in err


def test_a_bad_month(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    code, out, err = run(capsys, "outreach", "month", "2026-13", "--json", db=db_url)
    assert (code, out) == (2, "") and "YYYY-MM" in err


def test_a_network_file_that_does_not_build_is_not_registered(
    capsys: pytest.CaptureFixture[str], db_url: str, tmp_path: Path
) -> None:
    from planner.networks import NETWORK_META_KEY
    from planner.store.core import Store

    streets = Path(__file__).parents[1] / "data" / "osm" / "streets.osm"
    code, out, _ = run(
        capsys, "network", "build", str(streets), "--mode", "drive", "--json", db=db_url
    )
    assert code == 0 and json.loads(out)["drive"]["nodes"] > 0
    empty = tmp_path / "empty.osm"
    empty.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "network", "build", str(empty), "--mode", "drive", db=db_url)
    assert code == 2 and "空文件" in err
    store = Store(db_url)
    assert store.get_meta(NETWORK_META_KEY) == str(streets.resolve())
    store.dispose()
