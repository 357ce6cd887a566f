"""Named scenarios in the store: save/load/overwrite/delete, comparison, files, migration."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from planner.errors import ScenarioError
from planner.reports.scenarios import write_comparison
from planner.scenarios import METRIC_LABELS, Scenario
from planner.services.scenarios import compare_scenarios, show_scenario
from planner.store import schema as t
from planner.store.core import Store, open_store
from planner.store.scenarios import delete_scenario, list_scenarios, load_scenario, save_scenario


@pytest.fixture
def sstore(db_url: str) -> Iterator[Store]:
    """A migrated store file in tmp_path (no gazetteer needed for scenarios)."""
    s = open_store(db_url)
    yield s
    s.dispose()


def _save(store: Store, name: str, **kw: Any) -> Scenario:
    args: dict[str, Any] = {
        "kind": "site",
        "inputs": {},
        "result": {},
        "metrics": {},
        "by_town": {},
        "facility_type": "home",
    }
    args.update(kw)
    return save_scenario(store, name=name, **args)


def _audit(store: Store) -> list[tuple[str, str, dict[str, object]]]:
    with store.read() as s:
        rows = s.scalars(select(t.AuditLog).where(t.AuditLog.entity == "scenario"))
        return [(r.action, r.entity, r.detail) for r in rows]


# ---------------------------------------------------------------- save / load


def test_save_and_load_round_trip_through_the_file(sstore: Store, db_url: str) -> None:
    saved = save_scenario(
        sstore,
        name="新建2处+改造3处（预算300万）",
        kind="site",
        facility_type="home",
        inputs={
            "budget": 3_000_000,
            "new_sites": np.int64(2),
            "candidates": ("330213001212", "330213100299"),
            "as_of": date(2026, 11, 1),
            "weights": {"bedridden": 2.5},
        },
        result={"opened": [{"code": "X1", "minutes": np.float64(12.5)}], "bound": float("nan")},
        metrics={"cost": 2_950_000, "gap": np.float64(0.004), "status": "optimal"},
        by_town={"锦屏街道": {"covered_after": 120, "eligible": np.int32(150)}},
    )
    assert Path(db_url.removeprefix("sqlite:///")).is_file()
    other = Store(db_url)  # a second handle: what was committed to the file
    try:
        loaded = load_scenario(other, "新建2处+改造3处（预算300万）")
    finally:
        other.dispose()
    assert loaded == saved
    assert loaded.kind == "site" and loaded.facility_type == "home"
    assert loaded.inputs == {
        "budget": 3_000_000,
        "new_sites": 2,
        "candidates": ["330213001212", "330213100299"],
        "as_of": "2026-11-01",
        "weights": {"bedridden": 2.5},
    }
    assert type(loaded.inputs["new_sites"]) is int
    assert loaded.result == {"opened": [{"code": "X1", "minutes": 12.5}], "bound": None}
    assert loaded.metrics == {"cost": 2_950_000, "gap": 0.004, "status": "optimal"}
    assert loaded.by_town == {"锦屏街道": {"covered_after": 120, "eligible": 150}}
    assert loaded.created_at == loaded.updated_at
    assert isinstance(loaded.created_at, datetime)
    assert _audit(sstore) == [
        ("save", "scenario", {"name": loaded.name, "kind": "site", "facility_type": "home"})
    ]


def test_overwrite_keeps_created_at_and_updates_the_rest(sstore: Store) -> None:
    first = _save(sstore, "A", metrics={"cost": 1, "new_sites": 1}, by_town={"溪口镇": {"x": 1}})
    second = _save(sstore, "A", kind="retrofit", facility_type=None, metrics={"households": 9})
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    loaded = load_scenario(sstore, "A")
    assert loaded == second
    assert (loaded.kind, loaded.facility_type) == ("retrofit", None)
    assert loaded.metrics == {"households": 9} and loaded.by_town == {}
    with sstore.read() as s:
        assert len(s.scalars(select(t.Scenario)).all()) == 1
    assert [a[0] for a in _audit(sstore)] == ["save", "replace"]


def test_overwrite_false_refuses_an_existing_name(sstore: Store) -> None:
    _save(sstore, "A", metrics={"cost": 1})
    with pytest.raises(ScenarioError, match="方案「A」已存在"):
        _save(sstore, "A", metrics={"cost": 2}, overwrite=False)
    assert load_scenario(sstore, "A").metrics == {"cost": 1}
    assert [a[0] for a in _audit(sstore)] == ["save"]
    assert _save(sstore, "B", overwrite=False).name == "B"  # a new name is fine


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", "不能为空"),
        (" 方案A", "首尾有空格"),
        ("方案A\u3000", "首尾有空格"),
        ("方案A\t", "首尾有空格"),
        ("方" * 65, "65 个字符，超过 64 个"),
        ("两行\n名称", "控制字符"),
        ("label", "列名冲突"),
    ],
)
def test_bad_names_are_refused_with_the_fix(sstore: Store, name: str, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        _save(sstore, name)
    assert list_scenarios(sstore) == []


def test_longest_name_and_bad_kinds(sstore: Store) -> None:
    assert _save(sstore, "方" * 64).name == "方" * 64
    with pytest.raises(ScenarioError, match="类型不能为空"):
        _save(sstore, "A", kind="")
    with pytest.raises(ScenarioError, match="超过 16 个字符"):
        _save(sstore, "A", kind="k" * 17)
    with pytest.raises(ScenarioError, match=r"设施类型「.*」超过 32 个字符"):
        _save(sstore, "A", facility_type="f" * 33)


def test_metric_values_must_be_numbers_or_text(sstore: Store) -> None:
    with pytest.raises(ScenarioError, match=r"指标「cost」.*数字或文字"):
        _save(sstore, "A", metrics={"cost": {"a": 1}})
    with pytest.raises(ScenarioError, match=r"镇街「溪口镇」.*指标「x」.*只能是数字"):
        _save(sstore, "A", by_town={"溪口镇": {"x": "many"}})
    with pytest.raises(TypeError, match=r"inputs\.f: object"):
        _save(sstore, "A", inputs={"f": object()})
    assert list_scenarios(sstore) == []


def test_load_of_a_missing_name_lists_the_saved_ones(sstore: Store) -> None:
    with pytest.raises(ScenarioError, match="没有名为「X」的方案；数据库中还没有保存任何方案"):
        load_scenario(sstore, "X")
    _save(sstore, "甲方案")
    _save(sstore, "乙方案")
    with pytest.raises(ScenarioError, match="没有名为「X」的方案；已保存的方案：甲方案、乙方案。"):
        load_scenario(sstore, "X")


def test_list_is_ordered_by_created_at_then_name(sstore: Store) -> None:
    for name in ("C", "A", "B"):
        _save(sstore, name)
    assert [s.name for s in list_scenarios(sstore)] == ["C", "A", "B"]
    same = datetime(2026, 1, 1, 9, 0)
    with sstore.write() as s:
        for row in s.scalars(select(t.Scenario).where(t.Scenario.name.in_(["B", "C"]))):
            row.created_at = same
    assert [s.name for s in list_scenarios(sstore)] == ["B", "C", "A"]


def test_delete(sstore: Store) -> None:
    _save(sstore, "A")
    _save(sstore, "B")
    delete_scenario(sstore, "A")
    assert [s.name for s in list_scenarios(sstore)] == ["B"]
    with pytest.raises(ScenarioError, match="没有名为「A」的方案；已保存的方案：B。"):
        delete_scenario(sstore, "A")
    actions = _audit(sstore)
    assert [a[0] for a in actions] == ["save", "save", "delete"]
    assert actions[-1][2]["name"] == "A"


# ---------------------------------------------------------------- comparison


@pytest.fixture
def three(sstore: Store) -> Store:
    _save(
        sstore,
        "三处新建",
        inputs={"budget": 3_000_000, "new_sites": 3, "types": ["home"]},
        metrics={"cost": 2_900_000, "new_sites": 3, "coverage_pct_after": 81.25, "gap": 0.0},
        by_town={
            "锦屏街道": {"covered_after": 100, "eligible": 120},
            "溪口镇": {"covered_after": 40, "eligible": 90},
        },
    )
    _save(
        sstore,
        "两新三改",
        inputs={"budget": 3_000_000, "new_sites": 2, "upgrades": 3, "fixed": True},
        metrics={"cost": 2_750_000.5, "new_sites": 2, "upgrades": 3, "coverage_pct_after": 79.5},
        by_town={"锦屏街道": {"covered_after": 95}, "尚田街道": {"covered_after": 30}},
    )
    _save(
        sstore,
        "改造方案",
        kind="retrofit",
        facility_type=None,
        inputs={"budget": None},
        metrics={"households": 60, "retrofit_pct_after": 42.0, "solver": "highs"},
        by_town={"溪口镇": {"households": 25}},
    )
    return sstore


def test_compare_two_with_different_metric_sets(three: Store) -> None:
    c = compare_scenarios(three, ["两新三改", "三处新建"])
    assert c.names == ("两新三改", "三处新建")
    m = c.metrics
    assert list(m.columns) == ["label", "两新三改", "三处新建"]
    assert m.index.name == "key"
    assert list(m.index) == ["cost", "new_sites", "upgrades", "coverage_pct_after", "gap"]
    assert list(m["label"]) == [
        "费用（元）",
        "新建点数",
        "改造升级数",
        "覆盖率%（后）",
        "最优性差距",
    ]
    assert m.loc["cost", "两新三改"] == 2_750_000.5
    assert m.loc["cost", "三处新建"] == 2_900_000
    assert m.loc["upgrades", "两新三改"] == 3 and math.isnan(m.loc["upgrades", "三处新建"])
    assert math.isnan(m.loc["gap", "两新三改"]) and m.loc["gap", "三处新建"] == 0.0
    assert m["两新三改"].dtype == np.float64

    towns = c.towns
    assert towns.index.name == "town"
    assert list(towns.index) == sorted(["锦屏街道", "溪口镇", "尚田街道"])
    assert list(towns.columns) == [
        "两新三改·covered_after",
        "三处新建·covered_after",
        "三处新建·eligible",
    ]
    assert towns.loc["锦屏街道", "两新三改·covered_after"] == 95
    assert towns.loc["锦屏街道", "三处新建·covered_after"] == 100
    assert towns.loc["溪口镇", "三处新建·eligible"] == 90
    assert math.isnan(towns.loc["溪口镇", "两新三改·covered_after"])
    assert math.isnan(towns.loc["尚田街道", "三处新建·eligible"])

    inputs = c.inputs
    assert list(inputs.index) == ["budget", "new_sites", "upgrades", "fixed", "types"]
    assert inputs.loc["budget"].tolist() == ["3000000", "3000000"]
    assert inputs.loc["fixed", "两新三改"] == "是"
    assert inputs.loc["types", "三处新建"] == '["home"]'
    assert pd.isna(inputs.loc["upgrades", "三处新建"])


def test_compare_three_keeps_the_order_asked_and_labels_unknown_keys(three: Store) -> None:
    c = compare_scenarios(three, ["改造方案", "三处新建", "两新三改"])
    m = c.metrics
    assert list(m.columns) == ["label", "改造方案", "三处新建", "两新三改"]
    assert list(m.index) == [
        "households",
        "retrofit_pct_after",
        "solver",
        "cost",
        "new_sites",
        "coverage_pct_after",
        "gap",
        "upgrades",
    ]
    assert m.loc["solver", "label"] == "solver"  # no label: the key itself
    assert m.loc["households", "label"] == METRIC_LABELS["households"] == "改造户数"
    assert m.loc["solver", "改造方案"] == "highs"
    assert m.loc["households", "改造方案"] == 60
    assert m["改造方案"].dtype == object  # text and numbers
    assert math.isnan(m.loc["households", "三处新建"])
    pct = m.loc["coverage_pct_after"]
    assert math.isnan(pct["改造方案"]) and (pct["三处新建"], pct["两新三改"]) == (81.25, 79.5)
    assert list(c.towns.columns) == [
        "改造方案·households",
        "三处新建·covered_after",
        "两新三改·covered_after",
        "三处新建·eligible",
    ]
    assert c.towns.loc["溪口镇", "改造方案·households"] == 25
    assert c.inputs.loc["budget"].tolist() == ["", "3000000", "3000000"]


def test_to_json_is_plain_json_with_null_for_missing(three: Store) -> None:
    out = compare_scenarios(three, ["两新三改", "改造方案"]).to_json()
    text = json.dumps(out, allow_nan=False, ensure_ascii=False)  # no NaN left
    assert set(out) == {"names", "metrics", "towns", "inputs"}
    assert out["names"] == ["两新三改", "改造方案"]
    assert out["metrics"][0] == {
        "key": "cost",
        "label": "费用（元）",
        "两新三改": 2_750_000.5,
        "改造方案": None,
    }
    new_sites = next(r for r in out["metrics"] if r["key"] == "new_sites")
    assert new_sites["两新三改"] == 2 and isinstance(new_sites["两新三改"], int)
    solver = next(r for r in out["metrics"] if r["key"] == "solver")
    assert solver == {"key": "solver", "label": "solver", "两新三改": None, "改造方案": "highs"}
    assert out["towns"][0] == {
        "town": "尚田街道",
        "两新三改·covered_after": 30,
        "改造方案·households": None,
    }
    assert {"key": "budget", "两新三改": "3000000", "改造方案": ""} in out["inputs"]
    assert "NaN" not in text


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (["三处新建"], "至少需要两个方案（现在给了 1 个）"),
        ([], "至少需要两个方案"),
        ("三处新建", "至少需要两个方案"),
        (["三处新建", "两新三改", "三处新建"], "方案「三处新建」重复给出"),
        (
            ["三处新建", "无此方案"],
            "没有名为「无此方案」的方案；已保存的方案：三处新建、两新三改、改造方案",
        ),
        (["甲", "乙"], "没有名为「甲」「乙」的方案；已保存的方案：三处新建、两新三改、改造方案"),
    ],
)
def test_compare_refuses_bad_name_lists(three: Store, names: Any, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        compare_scenarios(three, names)


# ---------------------------------------------------------------- files


def test_write_csv_metrics_and_towns(three: Store, tmp_path: Path) -> None:
    c = compare_scenarios(three, ["两新三改", "三处新建"])
    out = tmp_path / "out" / "比较.csv"
    files = write_comparison(c, out)
    towns_path = tmp_path / "out" / "比较_towns.csv"
    assert files == (out, towns_path)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    metrics = pd.read_csv(out, encoding="utf-8-sig")
    assert list(metrics.columns) == ["指标", "两新三改", "三处新建"]
    assert metrics["指标"].tolist() == [
        "费用（元）",
        "新建点数",
        "改造升级数",
        "覆盖率%（后）",
        "最优性差距",
    ]
    assert metrics["两新三改"].tolist()[:4] == [2_750_000.5, 2, 3, 79.5]
    assert math.isnan(metrics["两新三改"].iloc[4])
    assert metrics["三处新建"].tolist()[0] == 2_900_000
    raw = out.read_text(encoding="utf-8-sig").splitlines()
    assert raw[1] == "费用（元）,2750000.5,2900000"  # whole numbers without ".0"
    assert raw[3] == "改造升级数,3,"  # missing: empty
    towns = pd.read_csv(towns_path, encoding="utf-8-sig")
    assert list(towns.columns) == [
        "镇街",
        "两新三改·覆盖人数（后）",
        "三处新建·覆盖人数（后）",
        "三处新建·符合条件人数",
    ]
    row = towns.set_index("镇街").loc["锦屏街道"]
    assert row.tolist() == [95, 100, 120]


def test_write_xlsx_three_sheets(three: Store, tmp_path: Path) -> None:
    c = compare_scenarios(three, ["三处新建", "改造方案"])
    path = tmp_path / "比较.xlsx"
    assert write_comparison(c, path) == (path,)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["指标", "镇街", "输入"]
    ws = wb["指标"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["指标", "三处新建", "改造方案"]
    assert rows[1] == ["费用（元）", 2_900_000, None]
    assert rows[-1] == ["solver", None, "highs"]
    assert ["改造户数", None, 60] in rows
    assert all(cell.font.bold for cell in ws[1])
    assert not ws["A2"].font.bold
    assert ws.column_dimensions["A"].width >= 14  # 覆盖率%（后） is wide
    towns = [list(r) for r in wb["镇街"].iter_rows(values_only=True)]
    assert towns[0] == [
        "镇街",
        "三处新建·覆盖人数（后）",
        "三处新建·符合条件人数",
        "改造方案·改造户数",
    ]
    assert ["溪口镇", 40, 90, 25] in towns
    inputs = [list(r) for r in wb["输入"].iter_rows(values_only=True)]
    assert inputs[0] == ["输入项", "三处新建", "改造方案"]
    assert ["types", '["home"]', None] in inputs
    wb.close()
    frame = pd.read_excel(path, sheet_name="指标")
    assert frame.set_index("指标").loc["覆盖率%（后）", "三处新建"] == 81.25


@pytest.mark.parametrize("name", ["比较.txt", "比较", "比较.xls"])
def test_write_other_suffixes_is_refused(three: Store, tmp_path: Path, name: str) -> None:
    c = compare_scenarios(three, ["三处新建", "改造方案"])
    with pytest.raises(ScenarioError, match=r"请用 \.csv 或 \.xlsx"):
        write_comparison(c, tmp_path / name)
    assert list(tmp_path.glob("比较*")) == []


# ---------------------------------------------------------------- migration


def test_a_store_at_0001_is_upgraded_to_hold_scenarios(db_url: str) -> None:
    old = Store(db_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(resources.files("planner.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", db_url)
    with old.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.commit()
    assert "scenarios" not in inspect(old.engine).get_table_names()
    old.dispose()
    store = open_store(db_url)
    try:
        assert "scenarios" in inspect(store.engine).get_table_names()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), t.Base.metadata)
        assert diff == []
        _save(store, "A")
        assert [s.name for s in list_scenarios(store)] == ["A"]
    finally:
        store.dispose()


def test_a_scenario_saved_by_the_earlier_code_loads_and_compares(sstore: Store) -> None:
    """A row as ``coverplan site --scenario`` stored it before the application layer
    (the golden ``scenarios show --json`` of the example district) still loads, shows
    the same document and compares: the table's shape is unchanged, no migration."""
    golden = Path(__file__).parent / "golden" / "site" / "scenarios_show.json"
    old = json.loads(golden.read_text(encoding="utf-8"))
    stamp = datetime(2026, 11, 30, 9, 15)
    with sstore.engine.begin() as conn:
        conn.execute(
            insert(t.Scenario).values(
                name=old["name"],
                kind=old["kind"],
                facility_type=old["facility_type"],
                created_at=stamp,
                updated_at=stamp,
                inputs=old["inputs"],
                result=old["result"],
                metrics=old["metrics"],
                by_town=old["by_town"],
            )
        )
    shown = show_scenario(sstore, old["name"])
    assert shown.to_json() == {
        **old,
        "created_at": stamp.isoformat(),
        "updated_at": stamp.isoformat(),
    }
    assert shown.result["selected"][0]["village_name"] == "中岭村"
    _save(
        sstore,
        "三处新建",
        metrics={"cost": 2_400_000.0, "new_sites": 3},
        by_town={"云岭镇": {"covered_after": 16}},
    )
    c = compare_scenarios(sstore, [old["name"], "三处新建"])
    assert c.metrics.loc["cost", old["name"]] == 800_000.0
    assert c.metrics.loc["new_sites", "三处新建"] == 3
    assert c.towns.loc["云岭镇", f"{old['name']}·covered_after"] == 15
    assert c.towns.loc["云岭镇", "三处新建·covered_after"] == 16
    assert c.inputs.loc["new", old["name"]] == "1"
