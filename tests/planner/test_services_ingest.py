"""The application layer of set-up, imports and visits: options, pure parsing, privacy.

The register parser runs without any store (the district is handed in); the
services validate their options; the ``[privacy]`` settings decide how ID
numbers are masked in the import's problems and in a recorded visit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from geo.gazetteer import load_fenghua
from planner.errors import CRSError, InputError, VisitError
from planner.ingest.register_context import RegisterLookups
from planner.ingest.registers import parse_rows, prepare_rows, read_register
from planner.reports.import_problems import REPORT_HEADER, report_path, write_report
from planner.services.district import InitOptions
from planner.services.imports import ImportOptions, import_file
from planner.services.visits import RecordVisitOptions, record_visit
from planner.settings import Config, load_config
from planner.store import schema as t
from planner.store.batches import Problem
from planner.store.core import Store
from planner.store.registers import StoredFacts
from tests.factories import make_id

TODAY = date(2026, 11, 1)
GOOD = make_id(date(1950, 1, 1), 11)
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")  # wrong check character
HEADER = "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）\n"


def _register(path: Path) -> Path:
    path.write_text(
        HEADER + f"甲,{GOOD},肢体,一级,溪口镇,武岭社区\n乙,{BAD},肢体,二级,溪口镇,武岭社区\n",
        encoding="utf-8",
    )
    return path


def _privacy(tmp_path: Path, head: int, tail: int) -> Config:
    cfg = tmp_path / "privacy.toml"
    cfg.write_text(f"[privacy]\nid_keep_head = {head}\nid_keep_tail = {tail}\n", encoding="utf-8")
    return load_config(cfg)


def test_a_register_parses_without_a_store(tmp_path: Path, config: Config) -> None:
    file = read_register(_register(tmp_path / "r.csv"), "residents", config=config)
    lookups = RegisterLookups(gazetteer=load_fenghua(), corrections={}, places=())
    parsed = parse_rows(file, lookups=lookups, config=config, today=TODAY)
    assert parsed.rows == 2
    assert [p.key for p in parsed.good] == [GOOD]
    assert [(p.line, p.column, p.action) for p in parsed.rejected] == [
        (3, "公民身份号码", "rejected")
    ]
    assert parsed.rejected[0].value == BAD[:6] + "********" + BAD[-4:]
    rows, problems = prepare_rows(parsed, StoredFacts(), config=config)
    assert [(r.line, r.key, r.reviewed) for r in rows] == [(2, GOOD, False)]
    assert rows[0].record["village_code"] == "330213100001"  # 溪口镇武岭社区
    assert rows[0].record["needs_review"] is False and rows[0].record["review_reason"] is None
    assert problems == list(parsed.rejected)


def test_privacy_settings_mask_import_problems_and_visits(store: Store, tmp_path: Path) -> None:
    config = _privacy(tmp_path, head=2, tail=3)
    options = ImportOptions(kind="residents", path=_register(tmp_path / "r.csv"), today=TODAY)
    res = import_file(store, config=config, options=options)
    assert (res.stored, res.rejected) == (1, 1)
    assert [p.value for p in res.problems] == [BAD[:2] + "*" * 13 + BAD[-3:]]
    with store.read() as s:
        resident_id = s.scalar(select(t.Resident.id))
    visit = RecordVisitOptions(
        resident_id=resident_id, visited_on=TODAY, outcome="不在家", today=TODAY
    )
    saved = record_visit(store, config=config, options=visit)
    assert saved.status == "inserted"
    assert saved.masked_id == GOOD[:2] + "*" * 13 + GOOD[-3:]
    assert saved.to_json()["outcome"] == "not_home"
    assert saved.to_json()["outcome_label"] == "不在家"


def test_import_reports_the_rows_written(store: Store, tmp_path: Path, config: Config) -> None:
    seen: list[tuple[str, float | None]] = []
    options = ImportOptions(kind="residents", path=_register(tmp_path / "r.csv"), today=TODAY)
    import_file(store, config=config, options=options, progress=lambda m, f: seen.append((m, f)))
    assert seen == [("写入 1/1", 1.0)]


def test_options_are_checked_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="不支持的导入类型「people」"):
        ImportOptions(kind="people", path=tmp_path / "x.csv")  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="不认识的坐标系「mercator」"):
        ImportOptions(kind="facilities", path=tmp_path / "x.csv", crs="mercator")
    with pytest.raises(VisitError, match="之一，且只给一个"):
        RecordVisitOptions(resident_id=1, lead_id=2, visited_on=TODAY, outcome="完成")
    with pytest.raises(VisitError, match="走访日期晚于今天"):
        RecordVisitOptions(resident_id=1, visited_on=TODAY, outcome="完成", today=date(2026, 1, 1))
    with pytest.raises(InputError, match="--district「33021」应为 6 位区县代码"):
        InitOptions(district="33021")
    with pytest.raises(InputError, match="--former-codes「330213」"):
        InitOptions(district="330213", former_codes=("330213",))
    assert InitOptions(district=" 330213 ", crs="高德").crs == "gcj02"


def test_problem_report_path_and_xlsx(tmp_path: Path) -> None:
    src = tmp_path / "名册.csv"
    assert report_path(src, report_dir=tmp_path / "d", has_problems=False) is None
    assert report_path(src, report_dir=tmp_path / "d", has_problems=True) == (
        tmp_path / "d" / "名册_问题清单.csv"
    )
    given = tmp_path / "r.xlsx"
    assert report_path(src, report=given, report_dir=tmp_path, has_problems=False) == given
    problems = [
        Problem(3, "公民身份号码", "330213********1234", "rejected", "校验位错误"),
        Problem(4, None, None, "review", "找不到对应的村社"),
    ]
    write_report(problems, given, file="名册.csv")
    ws = openpyxl.load_workbook(given)["问题清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == REPORT_HEADER
    assert rows[1] == (
        "名册.csv",
        3,
        "公民身份号码",
        "330213********1234",
        "拒绝（未入库）",
        "校验位错误",
    )
    assert rows[2][1] == 4 and rows[2][4] == "已入库，待核查"
