"""Visit records: the route sheet written, filled in with openpyxl, imported back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from planner.errors import InputError
from planner.ingest.visits import (
    SERVICE_LABELS,
    VisitError,
    parse_outcome,
    parse_services,
    parse_visit_key,
    visit_key,
)
from planner.outreach.plan import MonthPlan
from planner.reports.route_sheets import write_route_sheets
from planner.settings import Config
from planner.store import schema as t
from planner.store.core import Store
from tests.actions import import_file, import_visits, record_visit, save_visit
from tests.factories import make_id

TODAY = date(2026, 12, 20)
DAY = date(2026, 12, 8)
VILLAGE = "330213100001"  # 溪口镇武岭社区
POINT = (121.240, 29.670)


@dataclass(frozen=True)
class Town:
    store: Store
    people: dict[str, int]  # name -> resident id
    lead: int
    ids: dict[str, str]  # name -> ID number


def build_town(store: Store, config: Config, tmp_path: Path) -> Town:
    """Four residents of 武岭社区, their devices and one lead, through the importers."""
    births = {"甲": date(1950, 1, 1), "乙": date(1960, 2, 2), "丙": date(1970, 3, 3)}
    births["丁"] = date(1980, 4, 4)
    ids = {n: make_id(b, 2 * i + 1) for i, (n, b) in enumerate(births.items())}
    reg = tmp_path / "residents.csv"
    reg.write_text(
        "姓名,公民身份号码,残疾类别,残疾等级,乡镇（街道）,村（社区）,复评到期日期,最近走访日期\n"
        f"甲,{ids['甲']},肢体,一级,溪口镇,武岭社区,,2026-01-05\n"
        f"乙,{ids['乙']},肢体,二级,溪口镇,武岭社区,2026-12-31,\n"
        f"丙,{ids['丙']},精神,三级,溪口镇,武岭社区,,\n"
        f"丁,{ids['丁']},听力,四级,溪口镇,武岭社区,,\n",
        encoding="utf-8",
    )
    res = import_file(store, "residents", reg, config=config, today=TODAY)
    assert (res.stored, res.rejected) == (4, 0)
    dev = tmp_path / "devices.csv"
    dev.write_text(
        "公民身份号码,辅具名称,发放日期,使用年限\n"
        f"{ids['甲']},轮椅,2018-01-01,5\n"  # overdue since 2023
        f"{ids['甲']},拐杖,2021-12-25,5\n"  # due 2026-12-25: within the visit's month
        f"{ids['甲']},助听器,2026-06-01,5\n",  # due 2031: not replaced
        encoding="utf-8",
    )
    assert import_file(store, "devices", dev, config=config, today=TODAY).stored == 3
    leads = tmp_path / "leads.csv"
    leads.write_text("姓名,乡镇（街道）,村（社区）\n王五,溪口镇,武岭社区\n", encoding="utf-8")
    assert import_file(store, "leads", leads, config=config, today=TODAY).stored == 1
    with store.read() as s:
        by_number = dict(s.execute(select(t.Resident.id_number, t.Resident.id)).all())
        lead_id = s.scalars(select(t.Lead.id)).one()
    people = {n: by_number[i] for n, i in ids.items()}
    return Town(store=store, people=people, lead=lead_id, ids=ids)


def _stop(
    order: int, name: str, services: list[str], *, rid: int | None, lid: int | None, day: date
) -> Any:
    return {
        "order": order,
        "visit_key": visit_key(resident_id=rid, lead_id=lid, visited_on=day, team="A"),
        "resident_id": rid,
        "lead_id": lid,
        "name": name,
        "masked_id": "330213********0000" if rid else "",
        "masked_phone": "",
        "address": f"溪口镇武岭社区{order}号",
        "village_code": VILLAGE,
        "lon": POINT[0] + order / 1000,
        "lat": POINT[1],
        "services": services,
        "service_labels": [SERVICE_LABELS[x] for x in services],
        "arrival": f"09:{order:02d}",
        "start": f"09:{order:02d}",
        "departure": f"09:{order + 30:02d}",
        "travel_min": 5.0,
        "service_min": 30,
    }


def town_plan(town: Town, *, day: date = DAY) -> MonthPlan:
    p = town.people
    office = {"name": "奉化区残联", "lon": 121.4068, "lat": 29.6551}
    point = {"name": "武岭社区", "lon": POINT[0], "lat": POINT[1], "village_code": VILLAGE}
    stops = [
        _stop(1, "甲", ["device_replacement"], rid=p["甲"], lid=None, day=day),
        _stop(2, "乙", ["reassessment"], rid=p["乙"], lid=None, day=day),
        _stop(3, "丙", ["medication_supervision"], rid=p["丙"], lid=None, day=day),
        _stop(4, "丁", ["routine_visit"], rid=p["丁"], lid=None, day=day),
        _stop(5, "王五", ["certification"], rid=None, lid=town.lead, day=day),
    ]
    village = {"code": VILLAGE, "name": "武岭社区", "town_name": "溪口镇", "dates": []}
    lunch = {"start": "11:30", "end": "13:00", "place": "武岭社区"}
    counts = {"households_needing_visit": 5, "planned": 5, "unplanned": 0, "invited": 0}
    return MonthPlan.from_json(
        {
            "month": "2026-12",
            "villages": [{**village, "service_point": point, "invited": []}],
            "service_point": point,
            "office": office,
            "office_from": "store",
            "start_at": "office",
            "start_note": "入户队从奉化区残联出发并返回",
            "invited_people": [],
            "teams": [
                {
                    "team": "A",
                    "label": "第一入户服务队",
                    "skills": ["device"],
                    "skill_labels": ["辅具技师"],
                    "days": [
                        {
                            "date": day.isoformat(),
                            "start": office,
                            "end": office,
                            "lunch": lunch,
                            "stops": stops,
                            "travel_min": 25.0,
                        }
                    ],
                }
            ],
            "unplanned": [],
            "off_network": [],
            "routine": [],
            "stats": {**counts, "days": 1, "travel_min": 25.0, "feasible": True},
        }
    )


def fill(path: Path, answers: dict[str, tuple[str | None, str | None]]) -> dict[str, int]:
    """Fill 结果/已提供服务 per 编号 like a team would; returns 编号 → Excel row."""
    wb = openpyxl.load_workbook(path)
    ws = wb["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    cols = {c.value: c.column for c in ws[header]}
    rows = {}
    for r in range(header + 1, ws.max_row + 1):
        key = ws.cell(r, 1).value
        rows[key] = r
        if key in answers:
            outcome, services = answers[key]
            ws.cell(r, cols["结果"], outcome)
            ws.cell(r, cols["已提供服务"], services)
    wb.save(path)
    return rows


@pytest.fixture
def town(store: Store, config: Config, tmp_path: Path) -> Town:
    return build_town(store, config, tmp_path)


@pytest.fixture
def sheet(town: Town, tmp_path: Path) -> Path:
    files = write_route_sheets(town_plan(town), tmp_path / "sheets")
    return files.xlsx[0]


def _key(town: Town, name: str) -> str:
    if name == "王五":
        return visit_key(lead_id=town.lead, visited_on=DAY, team="A")
    return visit_key(resident_id=town.people[name], visited_on=DAY, team="A")


def _snapshot(store: Store) -> Any:
    with store.read() as s:
        return (
            s.execute(select(t.Visit.__table__)).all(),
            s.execute(select(t.Resident.__table__)).all(),
            s.execute(select(t.Device.__table__)).all(),
            s.execute(select(t.Lead.__table__)).all(),
        )


def test_import_filled_sheet_updates_the_store(town: Town, sheet: Path) -> None:
    p = town.people
    rows = fill(
        sheet,
        {
            _key(town, "甲"): ("完成", "辅具更换"),
            _key(town, "乙"): ("不在家", None),
            _key(town, "丙"): ("在家", None),  # not an outcome
            # 丁 left blank: not visited yet
            _key(town, "王五"): ("完成", "残疾评定办证、入户走访"),
        },
    )
    res = import_visits(town.store, sheet, today=TODAY)
    assert (res.rows, res.stored, res.inserted, res.unchanged) == (5, 3, 3, 0)
    assert (res.skipped_blank, res.rejected_rows) == (1, 1)
    (bad,) = res.rejected
    assert (bad.file, bad.row, bad.column, bad.value) == (
        sheet.name,
        rows[_key(town, "丙")],
        "结果",
        "在家",
    )
    assert "无法识别的结果" in bad.reason and bad.masked_id == "330213********0000"
    assert res.updated == {
        "visits": 3,
        "last_visit": 1,
        "devices_replaced": 2,
        "reassessment_cleared": 0,
        "leads_visited": 0,
        "leads_registered": 1,
        "needs_review": 0,
        "points_recorded": 0,
    }
    with town.store.read() as s:
        visits = {(v.resident_id, v.lead_id): v for v in s.scalars(select(t.Visit)).all()}
        assert set(visits) == {(p["甲"], None), (p["乙"], None), (None, town.lead)}
        v = visits[(p["甲"], None)]
        assert (v.visited_on, v.team, v.outcome, v.services) == (
            DAY,
            "A",
            "done",
            ["device_replacement"],
        )
        assert v.village_code == VILLAGE and v.batch_id in res.batch_ids
        assert visits[(None, town.lead)].services == ["certification", "routine_visit"]
        assert visits[(p["乙"], None)].outcome == "not_home"
        r = {x.id: x for x in s.scalars(select(t.Resident))}
        assert r[p["甲"]].last_visit == DAY
        assert r[p["乙"]].last_visit is None  # not home: no contact
        assert r[p["乙"]].reassessment_due == date(2026, 12, 31)
        assert not any(x.needs_review for x in r.values())
        devices = {d.device_type: d.replaced_on for d in s.scalars(select(t.Device))}
        assert devices == {"轮椅": DAY, "拐杖": DAY, "助听器": None}
        assert s.get(t.Lead, town.lead).status == "registered"  # type: ignore[union-attr]
        batch = s.get(t.ImportBatch, res.batch_ids[0])
        assert batch is not None
        assert (batch.kind, batch.rows, batch.inserted, batch.rejected) == ("visits", 4, 3, 1)
        problems = s.scalars(select(t.ImportProblem).where(t.ImportProblem.batch_id == batch.id))
        assert [(q.line, q.column, q.action) for q in problems] == [
            (rows[_key(town, "丙")], "结果", "rejected")
        ]
    assert "330213********0000" in res.summary() and town.ids["丙"] not in res.summary()


def test_importing_the_same_sheet_twice_changes_nothing(town: Town, sheet: Path) -> None:
    fill(
        sheet,
        {
            _key(town, "甲"): ("完成", "辅具更换"),
            _key(town, "乙"): ("不在家", None),
            _key(town, "王五"): ("完成", "certification"),
        },
    )
    first = import_visits(town.store, sheet, today=TODAY)
    assert (first.stored, first.unchanged) == (3, 0)
    before = _snapshot(town.store)
    again = import_visits(town.store, sheet, today=TODAY)
    assert (again.stored, again.unchanged, again.rejected_rows) == (0, 3, 0)
    assert set(again.updated.values()) == {0}
    assert _snapshot(town.store) == before


def test_a_corrected_row_revises_the_visit(town: Town, sheet: Path) -> None:
    fill(sheet, {_key(town, "乙"): ("不在家", None)})
    import_visits(town.store, sheet, today=TODAY)
    fill(sheet, {_key(town, "乙"): ("完成", "残疾复评")})
    res = import_visits(town.store, sheet, today=TODAY)
    assert (res.stored, res.inserted, res.revised, res.unchanged) == (1, 0, 1, 0)
    assert res.updated["reassessment_cleared"] == 1 and res.updated["last_visit"] == 1
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 1
        r = s.get(t.Resident, town.people["乙"])
        assert r is not None and r.reassessment_due is None and r.last_visit == DAY


def test_bad_rows_are_rejected_with_row_and_column(town: Town, sheet: Path) -> None:
    rows = fill(
        sheet,
        {
            _key(town, "甲"): ("不在家", "辅具更换"),  # services without 完成
            _key(town, "乙"): ("done", "洗衣服"),  # unknown service
            _key(town, "丙"): (None, "服药监护"),  # services but no outcome
            _key(town, "王五"): ("完成", "辅具更换"),  # a lead has no devices
        },
    )
    wb = openpyxl.load_workbook(sheet)
    ws = wb["入户路线单"]
    ws.cell(rows[_key(town, "丁")], 1, "X9-2026-12-08-A")  # tampered key
    ws.cell(rows[_key(town, "丁")], 11, "完成")
    extra = ws.max_row + 1
    ws.cell(extra, 1, visit_key(resident_id=99999, visited_on=DAY, team="A"))
    ws.cell(extra, 11, "完成")
    wb.save(sheet)
    res = import_visits(town.store, sheet, today=TODAY)
    assert (res.rows, res.stored, res.rejected_rows) == (6, 0, 6)
    got = {(p.row, p.column) for p in res.rejected}
    assert got == {
        (rows[_key(town, "甲")], "已提供服务"),
        (rows[_key(town, "乙")], "已提供服务"),
        (rows[_key(town, "丙")], "结果"),
        (rows[_key(town, "王五")], "已提供服务"),
        (rows[_key(town, "丁")], "编号"),
        (extra, "编号"),
    }
    reasons = " ".join(p.reason for p in res.rejected)
    assert "洗衣服" in reasons and "只有结果为「完成」" in reasons and "数据库中没有" in reasons
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 0
        assert s.scalar(select(func.count()).select_from(t.ImportProblem)) == 6


def test_future_visits_and_duplicate_keys_are_rejected(town: Town, sheet: Path) -> None:
    rows = fill(sheet, {_key(town, "甲"): ("完成", None)})
    wb = openpyxl.load_workbook(sheet)
    ws = wb["入户路线单"]
    ws.cell(rows[_key(town, "乙")], 1, _key(town, "甲"))  # the same key twice
    ws.cell(rows[_key(town, "乙")], 11, "完成")
    wb.save(sheet)
    res = import_visits(town.store, sheet, today=date(2026, 12, 1))
    assert {p.reason for p in res.rejected} >= {"走访日期晚于今天"}
    res = import_visits(town.store, sheet, today=TODAY)
    assert res.stored == 1 and "重复" in res.rejected[0].reason


def test_not_a_route_sheet(town: Town, tmp_path: Path) -> None:
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "地址"])
    ws.append(["甲", "武岭"])
    wb.save(other)
    with pytest.raises(InputError, match="不是入户路线单"):
        import_visits(town.store, other, today=TODAY)
    with pytest.raises(InputError, match="文件不存在"):
        import_visits(town.store, tmp_path / "missing.xlsx", today=TODAY)


def test_a_directory_of_sheets(town: Town, sheet: Path) -> None:
    fill(sheet, {_key(town, "甲"): ("完成", None)})
    res = import_visits(town.store, sheet.parent, today=TODAY)
    assert res.stored == 1 and len(res.batch_ids) == 1


def test_the_whole_output_directory_reads_the_team_folders(town: Town, sheet: Path) -> None:
    """``outreach month --out DIR`` puts the sheets in DIR/A/…: importing DIR finds them,
    and a sheet with the phone column's old header 电话（脱敏） still imports."""
    assert sheet.parent.name == "A"
    fill(sheet, {_key(town, "甲"): ("完成", None), _key(town, "乙"): ("不在家", None)})
    wb = openpyxl.load_workbook(sheet)
    ws = wb["入户路线单"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "编号")
    (phone,) = [c for c in ws[header] if c.value == "电话"]
    phone.value = "电话（脱敏）"
    wb.save(sheet)
    res = import_visits(town.store, sheet.parent.parent, today=TODAY)
    assert (res.stored, len(res.files), res.failed_files) == (2, 1, ())


def test_a_bad_file_in_a_directory_does_not_stop_the_others(town: Town, sheet: Path) -> None:
    fill(sheet, {_key(town, "甲"): ("完成", None)})
    other = sheet.parent / "0_别的表.xlsx"  # sorts first: read before the good sheet
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["姓名", "地址"])
    wb.save(other)
    (sheet.parent / "1_损坏.xlsx").write_bytes(b"PK\x03\x04 truncated")
    res = import_visits(town.store, sheet.parent, today=TODAY)
    assert (res.stored, len(res.batch_ids), len(res.files)) == (1, 1, 3)
    assert [Path(f.file).name for f in res.failed_files] == ["0_别的表.xlsx", "1_损坏.xlsx"]
    assert "不是入户路线单" in res.failed_files[0].reason
    assert "无法读取 Excel 文件" in res.failed_files[1].reason
    assert res.to_json()["failed_files"][1]["file"].endswith("1_损坏.xlsx")
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 1
        assert s.scalar(select(func.count()).select_from(t.ImportBatch).where(
            t.ImportBatch.kind == "visits")) == 1  # fmt: skip


def test_record_visit_is_idempotent_and_applies_effects(town: Town) -> None:
    p = town.people
    kw: dict[str, Any] = {"visited_on": DAY, "today": TODAY}
    assert record_visit(town.store, resident_id=p["丙"], outcome="迁出", team="B", **kw)
    assert not record_visit(town.store, resident_id=p["丙"], outcome="moved", team="B", **kw)
    assert record_visit(town.store, lead_id=town.lead, outcome="拒绝", **kw)
    saved = save_visit(
        town.store, resident_id=p["乙"], outcome="完成", services=["reassessment"], **kw
    )
    assert saved.status == "inserted" and saved.updated["reassessment_cleared"] == 1
    assert saved.masked_id == f"{town.ids['乙'][:6]}********{town.ids['乙'][-4:]}"
    again = save_visit(town.store, resident_id=p["乙"], outcome="done", services=["残疾复评"], **kw)
    assert again.status == "unchanged" and set(again.updated.values()) == {0}
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 3
        r = s.get(t.Resident, p["丙"])
        assert r is not None and r.needs_review
        assert r.review_reason == "入户反馈：迁出（2026-12-08）"
        lead = s.get(t.Lead, town.lead)
        assert lead is not None and lead.status == "visited"
        assert s.scalar(select(func.count()).select_from(t.Resident)) == 4  # nobody deleted


def test_record_visit_refuses_bad_input(town: Town) -> None:
    p = town.people
    kw: dict[str, Any] = {"visited_on": DAY, "today": TODAY}
    with pytest.raises(VisitError, match="无法识别的结果"):
        record_visit(town.store, resident_id=p["甲"], outcome="在家", **kw)
    with pytest.raises(VisitError, match="无法识别的服务"):
        record_visit(town.store, resident_id=p["甲"], outcome="完成", services=["x"], **kw)
    with pytest.raises(VisitError, match="没有编号为 424242 的残疾人"):
        record_visit(town.store, resident_id=424242, outcome="完成", **kw)
    with pytest.raises(VisitError, match="之一"):
        record_visit(town.store, resident_id=p["甲"], lead_id=town.lead, outcome="完成", **kw)
    with pytest.raises(VisitError, match="晚于今天"):
        record_visit(
            town.store, resident_id=p["甲"], outcome="完成", visited_on=TODAY.replace(day=21),
            today=TODAY,
        )  # fmt: skip
    with town.store.read() as s:
        assert s.scalar(select(func.count()).select_from(t.Visit)) == 0


def test_device_replacement_without_a_due_device_warns(town: Town) -> None:
    saved = save_visit(
        town.store,
        resident_id=town.people["丁"],
        visited_on=DAY,
        outcome="完成",
        services=["device_replacement"],
        today=TODAY,
    )
    assert saved.updated["devices_replaced"] == 0 and "没有到期的辅具" in saved.warnings[0]


def test_parsers() -> None:
    assert parse_outcome(" 完成 ") == "done" and parse_outcome("NOT_HOME") == "not_home"
    assert parse_outcome("") is None
    assert parse_services("辅具更换、 stroke_rehab，服药监护;辅具更换") == (
        "device_replacement",
        "stroke_rehab",
        "medication_supervision",
    )
    assert parse_services(None) == ()
    key = parse_visit_key("L12-2026-12-08-B")
    assert (key.resident_id, key.lead_id, key.visited_on, key.team) == (None, 12, DAY, "B")
    with pytest.raises(ValueError, match="编号格式不对"):
        parse_visit_key("R1-2026-13-08")
    with pytest.raises(ValueError, match="日期"):
        parse_visit_key("R1-2026-13-08-A")
