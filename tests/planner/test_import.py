"""Register import: every good row stored, every bad row reported, idempotent."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from planner.errors import InputError
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from tests.actions import import_file
from tests.factories import make_id
from tests.planner import registers as reg

TODAY = date(2026, 11, 1)


def snapshot(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as s:
        rows = s.execute(select(t.Resident).order_by(t.Resident.id_number)).scalars().all()
        return [
            tuple(
                getattr(r, c.name)
                for c in t.Resident.__table__.columns
                if c.name not in ("batch_id", "updated_at")
            )
            for r in rows
        ]


def test_messy_gbk_register(store: Store, config: Config, tmp_path: Path) -> None:
    path = reg.write_gbk_csv(tmp_path / "名册.csv")
    res = import_file(
        store, "residents", path, config=config, today=TODAY, report=tmp_path / "report.csv"
    )
    assert res.encoding == "gbk"
    assert (res.rows, res.stored, res.rejected) == (15, 9, 6)
    assert res.stored + res.rejected == res.rows
    assert res.inserted == 9 and res.updated == 0 and res.unchanged == 0
    assert res.needs_review == 1
    rejected_lines = sorted({p.line for p in res.problems if p.action == "rejected"})
    assert rejected_lines == [reg.gbk_line(i) for i in reg.EXPECTED.rejected_ids_lines]

    with store.read() as s:
        by_id = {r.id_number: r for r in s.scalars(select(t.Resident))}
    assert set(by_id) >= {reg.ID_A, reg.ID_WIDE, reg.ID_X, reg.ID_15_AS_18}
    assert by_id[reg.ID_A].village_code == "330213100001"  # 武岭社区
    assert by_id[reg.ID_A].category == "physical" and by_id[reg.ID_A].grade == 1
    assert by_id[reg.ID_WIDE].phone == "13900000111"
    assert by_id[reg.ID_X].village_code == "330213001212"  # 长岭村 → 长岭村委会, not 长岭社区
    assert by_id[reg.ID_X].sex == "男" or by_id[reg.ID_X].sex == "女"
    assert by_id[reg.ID_15_AS_18].village_code == "330213007201"  # 尚田镇 → 尚田街道 冷西村
    assert by_id[reg.ID_15_AS_18].category == "psychiatric" and by_id[reg.ID_15_AS_18].grade == 3
    review = [r for r in by_id.values() if r.needs_review]
    assert len(review) == 1 and review[0].village_code is None
    assert review[0].town_code == "330213100"

    with (tmp_path / "report.csv").open(encoding="utf-8-sig") as fh:
        report = list(csv.DictReader(fh))
    assert len([r for r in report if r["处理"].startswith("拒绝")]) == 6
    reasons = " ".join(r["原因"] for r in report)
    for words in ("校验位", "出生日期", "为空", "残疾类别", "残疾等级", "重复", "村社"):
        assert words in reasons
    # IDs are masked in the report
    assert reg.BAD_CHECK not in " ".join(r["值"] for r in report)


@pytest.mark.parametrize("writer", [reg.write_xlsx, reg.write_utf8_bom_csv])
def test_reimport_in_another_format_changes_nothing(
    store: Store, config: Config, tmp_path: Path, writer: Any
) -> None:
    import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    before = snapshot(store)
    suffix = ".xlsx" if writer is reg.write_xlsx else ".csv"
    res = import_file(
        store, "residents", writer(tmp_path / f"b{suffix}"), config=config, today=TODAY
    )
    assert (res.rows, res.stored, res.rejected) == (15, 9, 6)
    assert res.unchanged == 9 and res.inserted == 0 and res.updated == 0
    assert snapshot(store) == before


def test_xlsx_lines_are_excel_rows(store: Store, config: Config, tmp_path: Path) -> None:
    res = import_file(
        store, "residents", reg.write_xlsx(tmp_path / "m.xlsx"), config=config, today=TODAY
    )
    assert res.format == "xlsx" and res.encoding is None
    rejected_lines = sorted({p.line for p in res.problems if p.action == "rejected"})
    assert rejected_lines == [reg.xlsx_line(i) for i in reg.EXPECTED.rejected_ids_lines]


def test_changed_row_is_updated(store: Store, config: Config, tmp_path: Path) -> None:
    import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    rows = [list(r) for r in reg.DATA]
    rows[0][6] = rows[13][6] = "二级"  # row 14 repeats row 1 exactly: change both
    res = import_file(
        store,
        "residents",
        reg.write_gbk_csv(tmp_path / "b.csv", rows=rows),
        config=config,
        today=TODAY,
    )
    assert (res.updated, res.unchanged, res.inserted) == (1, 8, 0)
    with store.read() as s:
        assert s.scalar(select(t.Resident.grade).where(t.Resident.id_number == reg.ID_A)) == 2


def test_unresolved_village_can_be_rejected(store: Store, tmp_path: Path) -> None:
    from planner.settings import load_config

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[import]\nunresolved_village = "reject"\n', encoding="utf-8")
    cfg = load_config(cfg_file)
    res = import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=cfg, today=TODAY
    )
    assert (res.stored, res.rejected, res.needs_review) == (8, 7, 0)


def test_missing_required_column_is_a_file_error(
    store: Store, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("姓名,残疾类别,残疾等级,村社\n张三,肢体,一级,武岭社区\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.csv.*缺少必需的列：公民身份号码"):
        import_file(store, "residents", path, config=config)


def test_undecodable_file_is_refused(store: Store, config: Config, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("姓名,公民身份号码\n".encode() + b"\xff\xfe\xfa\n")
    with pytest.raises(InputError, match="编码"):
        import_file(store, "residents", path, config=config)


def test_failure_mid_write_leaves_store_unchanged(
    store: Store, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.store.batches as imp

    import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    before = snapshot(store)
    with store.read() as s:
        batches = len(s.scalars(select(t.ImportBatch)).all())
    rows = [list(r) for r in reg.DATA]
    rows[1][6] = "三级"
    rows.append(
        [
            "16",
            "新人",
            "男",
            make_id(date(1970, 1, 1), 1),
            "",
            "肢体",
            "一级",
            "溪口镇",
            "武岭社区",
            "",
            "",
        ]
    )

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(imp, "audit", boom)
    with pytest.raises(RuntimeError):
        import_file(
            store,
            "residents",
            reg.write_gbk_csv(tmp_path / "b.csv", rows=rows),
            config=config,
            today=TODAY,
        )
    assert snapshot(store) == before
    with store.read() as s:
        assert len(s.scalars(select(t.ImportBatch)).all()) == batches


def test_batch_and_problems_are_stored(store: Store, config: Config, tmp_path: Path) -> None:
    res = import_file(
        store, "residents", reg.write_gbk_csv(tmp_path / "a.csv"), config=config, today=TODAY
    )
    con = sqlite3.connect(str(store.engine.url.database))
    kind, rows, rejected = con.execute(
        "select kind, rows, rejected from import_batches where id = ?", (res.batch_id,)
    ).fetchone()
    assert (kind, rows, rejected) == ("residents", 15, 6)
    n = con.execute(
        "select count(*) from import_problems where batch_id = ? and action = 'rejected'",
        (res.batch_id,),
    ).fetchone()[0]
    assert n == 6
    con.close()


def test_merged_cells_in_data_rows_are_filled(store: Store, config: Config, tmp_path: Path) -> None:
    """Government sheets merge the town and village cells of consecutive persons."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["奉化区残疾人名册"])
    ws.merge_cells("A1:F1")
    ws.append(["姓名", "公民身份号码", "残疾类别", "残疾等级", "乡镇（街道）", "村（社区）"])
    ids = [make_id(date(1950 + i, 1, 1), 2 * i + 1) for i in range(3)]
    for i, n in enumerate(ids):
        ws.append(
            [
                f"人{i}",
                n,
                "肢体",
                "一级",
                "溪口镇" if i == 0 else None,
                "武岭社区" if i == 0 else None,
            ]
        )
    ws.merge_cells("E3:E5")
    ws.merge_cells("F3:F5")
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    res = import_file(store, "residents", path, config=config, today=TODAY)
    assert (res.rows, res.stored, res.needs_review) == (3, 3, 0)
    with store.read() as s:
        codes = s.scalars(select(t.Resident.village_code)).all()
    assert codes == ["330213100001"] * 3


def test_id_stored_by_excel_as_a_number_is_rejected_with_the_fix(
    store: Store, config: Config, tmp_path: Path
) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "公民身份号码", "残疾类别", "残疾等级", "乡镇（街道）", "村（社区）"])
    ws.append(["甲", 330213195001010018, "肢体", "一级", "溪口镇", "武岭社区"])
    path = tmp_path / "n.xlsx"
    wb.save(path)
    res = import_file(store, "residents", path, config=config, today=TODAY)
    assert res.rejected == 1 and "文本" in res.problems[0].reason
