"""``coverplan scenarios``: list/show/compare/delete through a test-local parser."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from api.cli.scenarios import add_arguments, cmd_scenarios
from planner.errors import ScenarioError
from planner.store.core import Store
from planner.store.scenarios import list_scenarios, save_scenario


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--db")
    p.add_argument("--json", action="store_true")
    add_arguments(p)
    return p


@pytest.fixture
def seeded(store: Store) -> Iterator[Store]:
    # commands need a store with a district (the `store` fixture: 奉化区 at db_url)
    save_scenario(
        store,
        name="三处新建",
        kind="site",
        facility_type="home",
        inputs={"budget": 3_000_000, "new_sites": 3},
        result={"opened": ["X1", "X2", "X3"]},
        metrics={"cost": 2_900_000, "coverage_pct_after": 81.25},
        by_town={"锦屏街道": {"covered_after": 100}, "溪口镇": {"covered_after": 40}},
    )
    save_scenario(
        store,
        name="两新三改",
        kind="site",
        facility_type="home",
        inputs={"budget": 3_000_000, "new_sites": 2, "upgrades": 3},
        result={"opened": ["X1", "X2"]},
        metrics={"cost": 2_750_000.5, "upgrades": 3, "coverage_pct_after": 79.5},
        by_town={"锦屏街道": {"covered_after": 95}},
    )
    yield store


def run(db_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = _parser().parse_args(["--db", db_url, *argv])
    assert args.func is cmd_scenarios
    code = cmd_scenarios(args)
    return code, capsys.readouterr().out


def run_json(db_url: str, *argv: str, capsys: pytest.CaptureFixture[str]) -> Any:
    code, out = run(db_url, *argv, capsys=capsys)
    assert code == 0
    return json.loads(out)  # exactly one JSON object: anything else fails to parse


def test_list_json(seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(db_url, "list", "--json", capsys=capsys)
    assert [s["name"] for s in out["scenarios"]] == ["三处新建", "两新三改"]
    first = out["scenarios"][0]
    assert set(first) == {"name", "kind", "facility_type", "created_at", "updated_at", "metrics"}
    assert first["metrics"] == {"cost": 2_900_000, "coverage_pct_after": 81.25}


def test_json_before_the_action_is_kept(
    seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_json(db_url, "--json", "list", capsys=capsys)
    assert len(out["scenarios"]) == 2


def test_show_json_and_text(seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(db_url, "show", "两新三改", "--json", capsys=capsys)
    assert out["name"] == "两新三改" and out["kind"] == "site"
    assert out["result"] == {"opened": ["X1", "X2"]}
    assert out["by_town"] == {"锦屏街道": {"covered_after": 95}}
    code, text = run(db_url, "show", "两新三改", capsys=capsys)
    assert code == 0
    assert "方案「两新三改」（类型 site，设施类型 home）" in text
    assert "费用（元）" in text and "2,750,000.5" in text
    assert "覆盖人数（后）" in text


def test_compare_json_with_out(
    seeded: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cmp.xlsx"
    out = run_json(
        db_url, "compare", "两新三改", "三处新建", "--out", str(path), "--json", capsys=capsys
    )
    assert set(out) == {"names", "metrics", "towns", "inputs", "files"}
    assert out["names"] == ["两新三改", "三处新建"]
    assert out["metrics"] == [
        {"key": "cost", "label": "费用（元）", "两新三改": 2_750_000.5, "三处新建": 2_900_000},
        {"key": "upgrades", "label": "改造升级数", "两新三改": 3, "三处新建": None},
        {
            "key": "coverage_pct_after",
            "label": "覆盖率%（后）",
            "两新三改": 79.5,
            "三处新建": 81.25,
        },
    ]
    assert out["towns"] == [
        {"town": "溪口镇", "两新三改·covered_after": None, "三处新建·covered_after": 40},
        {"town": "锦屏街道", "两新三改·covered_after": 95, "三处新建·covered_after": 100},
    ]
    assert out["files"] == [str(path)]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["指标", "镇街", "输入"]
    wb.close()


def test_compare_text_is_an_aligned_table(
    seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = run(db_url, "compare", "两新三改", "三处新建", capsys=capsys)
    assert code == 0
    lines = text.splitlines()
    start = lines.index("指标：")
    table = lines[start + 1 : start + 5]
    assert table[0].split() == ["指标", "两新三改", "三处新建"]
    assert table[1].split() == ["费用（元）", "2,750,000.5", "2,900,000"]
    assert table[2].split() == ["改造升级数", "3", "-"]
    # numbers are right-aligned: every row of the table ends at the same display column
    from api.cli.scenarios import _width

    assert len({_width(line) for line in table}) == 1
    assert "各镇街 · 覆盖人数（后）：" in text


def test_delete_then_list(seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(db_url, "delete", "三处新建", "--json", capsys=capsys) == {
        "deleted": "三处新建"
    }
    assert [s.name for s in list_scenarios(seeded)] == ["两新三改"]
    code, text = run(db_url, "delete", "两新三改", capsys=capsys)
    assert code == 0 and "已删除方案「两新三改」" in text
    code, text = run(db_url, "list", capsys=capsys)
    assert text.strip() == "还没有保存任何方案。"


def test_missing_scenario_raises_scenario_error(
    seeded: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["show", "无此方案"], ["delete", "无此方案", "--json"]):
        with pytest.raises(ScenarioError, match="已保存的方案：三处新建、两新三改"):
            run(db_url, *argv, capsys=capsys)
    with pytest.raises(ScenarioError, match="至少需要两个方案"):
        run(db_url, "compare", "三处新建", capsys=capsys)
    with pytest.raises(ScenarioError, match=r"请用 \.csv 或 \.xlsx"):
        run(db_url, "compare", "三处新建", "两新三改", "--out", "x.pdf", capsys=capsys)
    assert capsys.readouterr().out == ""


def test_an_action_is_required() -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["--db", "sqlite://"])
