"""``--json``: every command prints exactly one JSON document on stdout, nothing else.

The commands are enumerated from the argument parser, so a new command with
``--json`` fails :func:`test_every_json_command_has_a_case` until it gets a case
here. The cases run on a copy of the demo district (built once per session by
``coverplan demo --json`` in a real process: the ``demo`` case), in process with
``capfd`` (file-descriptor capture: a native library writing to fd 1 would show
up in stdout) and ``site`` also as a subprocess, where HiGHS
prints its banner straight to fd 1 when it is constructed.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.cli import build_parser, main
from planner.settings import reset_settings
from planner.store import schema as t
from planner.store.core import Store
from planner.store.scenarios import save_scenario
from tests.demo_district import DemoDistrict

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
HIGHS_BANNER = "Running HiGHS"
VILLAGE = "330213100001"  # 溪口镇武岭社区


def json_commands(parser: argparse.ArgumentParser | None = None) -> list[tuple[str, ...]]:
    """Every leaf command (``("scenarios", "show")``) that accepts ``--json``."""
    out: list[tuple[str, ...]] = []

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...], inherited: bool) -> None:
        has_json = inherited or "--json" in p._option_string_actions
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            if has_json:
                out.append(path)
            return
        for action in subs:
            for name, child in action.choices.items():
                walk(child, (*path, name), has_json)

    walk(parser or build_parser(), (), False)
    return out


def one_document(text: str) -> Any:
    """The one strict JSON document ``text`` holds (no banner, no NaN, nothing after)."""

    def no_constant(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_constant)


@dataclass
class Ctx:
    """What the cases need: paths of this test's store copy and inputs."""

    tmp: Path
    db_url: str
    resident_id: int
    today: date


Case = Callable[[Ctx], list[str]]


def _import_file(ctx: Ctx) -> str:
    path = ctx.tmp / "名册.csv"
    path.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"
        "甲,11010519491231002X,肢体,一级,溪口镇,武岭社区\n",
        encoding="utf-8",
    )
    return str(path)


def _addresses(ctx: Ctx) -> str:
    path = ctx.tmp / "地址.csv"
    path.write_text("地址\n溪口镇武岭社区3号\n浙江省宁波市奉化区不存在村\n", encoding="utf-8")
    return str(path)


def argv(text: str) -> list[str]:
    """The words of ``text`` (the arguments of a case, as typed in a shell)."""
    return text.split()


# In order: later cases use what earlier ones made (a scenario, route sheets).
CASES: dict[tuple[str, ...], Case] = {
    ("status",): lambda c: argv("status --json"),
    ("network", "build"): lambda c: argv("network build --mode drive --json"),
    ("travel-time",): lambda c: argv("travel-time --from 121.40,29.66 --to 121.25,29.67 --json"),
    ("coverage",): lambda c: argv("coverage --type home --json"),
    ("indicators",): lambda c: argv("indicators --json"),
    ("gaps",): lambda c: argv("gaps --type home --top 3 --json"),
    ("site",): lambda c: argv("site --type home --new 2 --uncapacitated --scenario 甲 --json"),
    ("scenarios", "list"): lambda c: argv("scenarios list --json"),
    ("scenarios", "show"): lambda c: argv("scenarios show 甲 --json"),
    ("map",): lambda c: [*argv("map siting --scenario 甲 --json --out"), str(c.tmp / "m.html")],
    ("scenarios", "compare"): lambda c: argv("scenarios compare 甲 乙 --json"),
    ("scenarios", "delete"): lambda c: argv("scenarios delete 乙 --json"),
    ("retrofit",): lambda c: argv("retrofit --quota 5 --json"),
    ("outreach", "year"): lambda c: ["outreach", "year", str(c.today.year + 1), "--json"],
    ("outreach", "month"): lambda c: [
        *argv(f"outreach month {c.today.year + 1}-01 --seconds 0.5 --json --out"),
        str(c.tmp / "sheets"),
    ],
    ("visits", "import"): lambda c: ["visits", "import", str(c.tmp / "sheets"), "--json"],
    ("visits", "record"): lambda c: [
        *argv(f"visits record --resident {c.resident_id} --outcome 完成 --json --date"),
        c.today.isoformat(),
    ],
    # accounts (issue 13): the demo store has the demo accounts and key (prefix 00000000)
    ("users", "add"): lambda c: argv("users add zhang --role planner --password-stdin --json"),
    ("users", "list"): lambda c: argv("users list --json"),
    ("users", "disable"): lambda c: argv("users disable zhang --json"),
    ("keys", "add"): lambda c: argv("keys add 测试系统 --scopes read:aggregates --json"),
    ("keys", "list"): lambda c: argv("keys list --json"),
    ("keys", "revoke"): lambda c: argv("keys revoke 00000000 --json"),
    ("corrections", "add"): lambda c: ["corrections", "add", "武岭村3组", VILLAGE, "--json"],
    ("corrections", "list"): lambda c: argv("corrections list --json"),
    ("geocode",): lambda c: [
        *argv("geocode --column 地址 --json --out"),
        str(c.tmp / "g.csv"),
        _addresses(c),
    ],
    ("import",): lambda c: ["import", "residents", _import_file(c), "--json"],
    ("init",): lambda c: [
        "--db",
        f"sqlite:///{c.tmp / 'fresh.db'}",
        "init",
        "--district",
        "330213",
        "--json",
    ],
}
BY_FIXTURE = {("demo",)}  # run by the session's demo_district fixture as a subprocess


def test_every_json_command_has_a_case() -> None:
    commands = set(json_commands())
    assert len(commands) >= 20  # the enumeration itself works (sub-commands included)
    assert {("scenarios", "compare"), ("visits", "record"), ("network", "build")} <= commands
    missing = commands - set(CASES) - BY_FIXTURE
    assert not missing, f"add a case to CASES for: {sorted(missing)}"
    stale = (set(CASES) | BY_FIXTURE) - commands
    assert not stale, f"no such command with --json: {sorted(stale)}"


@pytest.fixture
def store_copy(
    demo_copy: DemoDistrict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Ctx, Store]]:
    url = demo_copy.db_url
    monkeypatch.setenv("COVERPLAN_DB_URL", url)  # main() sets it (`init --db`); undone after
    store = Store(url)
    with store.read() as s:
        rid = s.scalars(select(t.Resident.id).order_by(t.Resident.id).limit(1)).one()
    yield Ctx(tmp=tmp_path, db_url=url, resident_id=rid, today=date.today()), store
    store.dispose()


def test_every_json_command_prints_one_document(
    demo_district: DemoDistrict,
    store_copy: tuple[Ctx, Store],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ctx, store = store_copy
    demo_json = one_document(demo_district.stdout)  # ("demo",): run by the fixture
    assert isinstance(demo_json, dict) and demo_json["synthetic"] is True
    done: list[tuple[str, ...]] = []
    for command, case in CASES.items():
        if command == ("scenarios", "compare"):  # a second scenario to compare with
            save_scenario(
                store, name="乙", kind="site", inputs={}, result={}, metrics={"cost": 1}, by_town={}
            )
        if command == ("users", "add"):  # the password comes on stdin, never in argv
            monkeypatch.setattr(sys, "stdin", io.StringIO("zhang-password-1\n"))
        argv = case(ctx)
        reset_settings()
        code = main(argv)
        out, err = capfd.readouterr()
        assert code == 0, (command, err)
        assert "Traceback" not in err, (command, err)
        try:
            doc = one_document(out)
        except (ValueError, AssertionError) as exc:
            raise AssertionError(
                f"{command}: stdout is not one JSON document: {out[:300]!r}"
            ) from exc
        assert isinstance(doc, dict) and doc, command
        done.append(command)
    assert set(done) == set(CASES)


def test_site_in_a_subprocess_keeps_the_highs_banner_off_stdout(
    demo_copy: DemoDistrict, tmp_path: Path
) -> None:
    """HiGHS prints its banner to fd 1 when constructed: it must land on stderr."""
    env = demo_copy.env()
    args = [COVERPLAN, "site", "--type", "home", "--new", "2", "--uncapacitated"]
    proc = subprocess.run(
        [*args, "--json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert HIGHS_BANNER in proc.stderr  # HiGHS did run, and spoke on stderr
    out = one_document(proc.stdout)
    assert len([s for s in out["selected"] if s["action"] == "new"]) == 2
    text = subprocess.run(args, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert text.returncode == 0, text.stderr
    assert HIGHS_BANNER not in text.stdout and HIGHS_BANNER in text.stderr
    assert text.stdout.startswith("残疾人之家选址方案")
