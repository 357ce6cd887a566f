"""``coverplan visits``: import and record through a test-local parser."""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from api.cli.visits import add_arguments, cmd_visits
from geo.errors import CoverplanError
from planner.ingest.visits import VisitError
from planner.reports.route_sheets import write_route_sheets
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from tests.planner.test_visits import Town, build_town, fill, town_plan, visit_key

DAY = date(2025, 12, 8)  # the CLI checks visit days against the system date


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--db")
    p.add_argument("--json", action="store_true")
    add_arguments(p)
    return p


def run(db_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = _parser().parse_args(["--db", db_url, *argv])
    assert args.func is cmd_visits
    code = cmd_visits(args)
    return code, capsys.readouterr().out


def run_json(db_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> Any:
    code, out = run(db_url, *argv, capsys=capsys)
    assert code == 0
    return json.loads(out)  # exactly one JSON object: anything else fails to parse


@pytest.fixture
def town(store: Store, config: Config, tmp_path: Path) -> Town:
    return build_town(store, config, tmp_path)


def test_import_json_then_again(
    town: Town, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_route_sheets(town_plan(town, day=DAY), tmp_path / "sheets").xlsx[0]
    bad = visit_key(resident_id=town.people["丙"], visited_on=DAY, team="A")
    rows = fill(
        sheet,
        {
            visit_key(resident_id=town.people["甲"], visited_on=DAY, team="A"): (
                "完成",
                "辅具更换",
            ),
            bad: ("在家", None),
        },
    )
    out = run_json(db_url, "import", str(sheet), "--json", capsys=capsys)
    assert (out["rows"], out["stored"], out["unchanged"], out["rejected"]) == (5, 1, 0, 1)
    assert out["skipped_blank"] == 3
    assert out["updated"]["devices_replaced"] == 1  # the 拐杖 is due in December 2026
    (problem,) = out["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (rows[bad], "结果", "在家")
    assert problem["masked_id"] == "330213********0000"
    out = run_json(db_url, "--json", "import", str(sheet), capsys=capsys)
    assert (out["stored"], out["unchanged"]) == (0, 1)


def test_import_text_shows_masked_ids_only(
    town: Town, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_route_sheets(town_plan(town, day=DAY), tmp_path / "sheets").xlsx[0]
    fill(sheet, {visit_key(resident_id=town.people["乙"], visited_on=DAY, team="A"): ("x", None)})
    code, out = run(db_url, "import", str(sheet), capsys=capsys)
    assert code == 2  # the only filled-in row is rejected: nothing imported
    assert "拒绝 1" in out and "无法识别的结果" in out and "330213********0000" in out
    assert not any(number in out for number in town.ids.values())


def test_import_a_directory_with_a_bad_file_exits_2_after_the_good_ones(
    town: Town, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_route_sheets(town_plan(town, day=DAY), tmp_path / "sheets").xlsx[0]
    fill(
        sheet, {visit_key(resident_id=town.people["甲"], visited_on=DAY, team="A"): ("完成", None)}
    )
    (sheet.parent / "损坏.xlsx").write_bytes(b"not a workbook")
    code, out = run(db_url, "import", str(sheet.parent), "--json", capsys=capsys)
    assert code == 2
    doc = json.loads(out)
    assert doc["stored"] == 1
    assert [Path(f["file"]).name for f in doc["failed_files"]] == ["损坏.xlsx"]
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 1


def test_record(town: Town, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    rid = str(town.people["甲"])
    argv = ["record", "--resident", rid, "--date", "2025-12-10", "--outcome", "完成"]
    out = run_json(db_url, *argv, "--services", "辅具更换,入户走访", "--team", "A", "--json",
                   capsys=capsys)  # fmt: skip
    assert out["status"] == "inserted" and out["inserted"] is True
    assert out["services"] == ["device_replacement", "routine_visit"]
    assert out["updated"]["devices_replaced"] == 1
    assert out["masked_id"].count("*") == 8 and town.ids["甲"] not in json.dumps(out)
    code, text = run(
        db_url, *argv, "--services", "device_replacement,routine_visit", "--team", "A",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0 and text.startswith("已存在，未变")
    code, text = run(
        db_url, "record", "--lead", str(town.lead), "--date", "2025/12/09", "--outcome",
        "refused", capsys=capsys,
    )  # fmt: skip
    assert code == 0 and "线索状态改为已走访" in text
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 2


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--outcome", "在家"], "无法识别的结果"),
        (["--outcome", "完成", "--services", "洗衣"], "无法识别的服务"),
        (["--outcome", "不在家", "--services", "辅具更换"], "只有结果为「完成」"),
        (["--outcome", "完成", "--date", "2026-02-30"], "无法识别的日期"),
        (["--outcome", "完成", "--date", "2999-01-01"], "晚于今天"),
    ],
)
def test_record_errors_are_coverplan_errors(
    town: Town, db_url: str, argv: list[str], match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["record", "--resident", str(town.people["甲"]), "--date", "2025-12-08"]
    with pytest.raises(VisitError, match=match) as info:
        run(db_url, *base, *argv, capsys=capsys)
    assert isinstance(info.value, CoverplanError)


def test_record_needs_a_person(db_url: str) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(
            ["--db", db_url, "record", "--date", "2026-12-08", "--outcome", "完成"]
        )
