"""Route sheets (HTML, XLSX, GPX, plan.json, index.html) from a hand-built month plan.

The plan is written in its JSON form (``plan.json``) and read with
:meth:`MonthPlan.from_json`, as a saved plan would be.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest

from geo.crs import wgs84_to_gcj02
from planner.domain.privacy import mask_name
from planner.errors import InputError
from planner.ingest.visits import OUTCOMES, parse_visit_key
from planner.outreach.plan import MonthPlan
from planner.reports.route_sheets import RouteSheetFiles, write_route_sheets

GPX = "{http://www.topografix.com/GPX/1/1}"
OFFICE = {"name": "奉化区残联", "lon": 121.4068, "lat": 29.6551}
VILLAGE = "330213100001"


def _stop(order: int, **kw: Any) -> dict[str, Any]:
    stop: dict[str, Any] = {
        "order": order,
        "visit_key": f"R{100 + order}-2026-12-08-A",
        "resident_id": 100 + order,
        "lead_id": None,
        "name": f"张{order}",
        "masked_id": "330283********3887",
        "masked_phone": "138****5678",
        "address": f"溪口镇武岭社区{order}号",
        "village_code": VILLAGE,
        "lon": 121.24 + order / 1000,
        "lat": 29.67 + order / 1000,
        "services": ["device_replacement"],
        "service_labels": ["辅具更换"],
        "arrival": f"09:{10 * order:02d}",
        "start": f"09:{10 * order:02d}",
        "departure": f"09:{10 * order + 5:02d}",
        "travel_min": 12.5,
        "service_min": 30,
        "point_source": "household",
    }
    stop.update(kw)
    return stop


def sample_plan() -> dict[str, Any]:
    day_a = {
        "date": "2026-12-08",
        "start": OFFICE,
        "end": OFFICE,
        "lunch": {"start": "11:30", "end": "13:00", "place": "武岭社区居委会"},
        "travel_min": 52.5,
        "distance_km": 31.2,
        "stops_count": 3,
        "stops": [
            _stop(1, name="<script>alert(1)</script>", address="武岭路 1 号 & 2 号"),
            _stop(2, services=["medication_supervision"], service_labels=["服药监护"]),
            _stop(
                3,
                visit_key="L7-2026-12-08-A",
                resident_id=None,
                lead_id=7,
                name="李四",
                masked_id="",
                masked_phone="139****4321",
                services=["certification"],
                service_labels=["残疾评定办证"],
            ),
        ],
    }
    day_b = {**day_a, "stops": [], "stops_count": 0, "travel_min": 0, "distance_km": 0}
    return {
        "month": "2026-12",
        "service_point": {
            "name": "武岭社区居委会",
            "lon": 121.24,
            "lat": 29.67,
            "village_code": VILLAGE,
        },
        "office": OFFICE,
        "office_from": "store",
        "start_at": "office",
        "start_note": "入户队从奉化区残联出发并返回",
        "invited_people": [],
        "villages": [
            {
                "code": VILLAGE,
                "name": "武岭社区",
                "town_name": "溪口镇",
                "dates": ["2026-12-08"],
                "service_point": {
                    "name": "武岭社区居委会",
                    "lon": 121.24,
                    "lat": 29.67,
                    "village_code": VILLAGE,
                    "address": "武岭路 100 号",
                },
                "invited": [{"service": "device_assessment", "label": "辅具评估适配", "count": 12}],
            }
        ],
        "teams": [
            {
                "team": "A",
                "label": "第一入户服务队",
                "skills": ["device", "rehab"],
                "skill_labels": ["辅具技师", "康复治疗师"],
                "days": [day_a],
            },
            {
                "team": "B",
                "label": "第二入户服务队",
                "skills": ["psychiatric"],
                "skill_labels": ["精神科护士"],
                "days": [day_b],
            },
        ],
        "unplanned": [
            {
                "resident_id": 9,
                "lead_id": None,
                "name": "王五",
                "masked_id": "330283********1111",
                "masked_phone": "",
                "address": "",
                "village_code": VILLAGE,
                "services": ["stroke_rehab"],
                "service_labels": ["脑卒中康复"],
                "priority": 3.0,
                "reason": "时间不够，顺延下月",
                "reason_code": "shift_full",
            }
        ],
        "off_network": [],
        "routine": [],
        "stats": {
            "households_needing_visit": 4,
            "planned": 3,
            "unplanned": 1,
            "invited": 0,
            "days": 1,
            "travel_min": 52.5,
            "feasible": True,
        },
    }


@pytest.fixture
def files(tmp_path: Path) -> RouteSheetFiles:
    return write_route_sheets(MonthPlan.from_json(sample_plan()), tmp_path / "sheets")


def test_files_are_written_per_team_day(files: RouteSheetFiles, tmp_path: Path) -> None:
    out = tmp_path / "sheets"
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert names == sorted(
        [
            "A",
            "A/2026-12-08_A.html",
            "A/2026-12-08_A.xlsx",
            "A/2026-12-08_A.gpx",
            "A/index.html",
            "B",
            "B/2026-12-08_B.html",
            "B/2026-12-08_B.xlsx",
            "B/2026-12-08_B.gpx",
            "B/index.html",
            "plan.json",
            "index.html",
        ]
    )
    assert files.teams == {"A": out / "A", "B": out / "B"}
    assert all(p.exists() for p in files.paths)
    assert json.loads(files.plan_json.read_text(encoding="utf-8")) == sample_plan()
    assert "武岭社区" in files.plan_json.read_text(encoding="utf-8")  # ensure_ascii=False


def _external_refs(text: str) -> list[str]:
    """src=, <link>, url(), @import pointing anywhere (only <a href> may leave the file)."""
    refs = re.findall(r"""\bsrc\s*=\s*["']?([^"'\s>]+)""", text, flags=re.I)
    refs += re.findall(r"<link\b[^>]*>", text, flags=re.I)
    refs += re.findall(r"url\(([^)]*)\)", text, flags=re.I)
    refs += re.findall(r"@import", text, flags=re.I)
    return refs


def test_html_is_offline_printable_and_escaped(files: RouteSheetFiles) -> None:
    text = files.html[0].read_text(encoding="utf-8")
    assert _external_refs(text) == []
    assert "<script" not in text.lower()  # the name "<script>…" is escaped
    assert html.escape("<script>alert(1)</script>") in text
    assert "武岭路 1 号 &amp; 2 号" in text
    assert "@page { size: A4 landscape; margin: 12mm }" in text
    for header in ("序号", "到达时间", "姓名", "身份证号（脱敏）", "电话", "地址"):
        assert f"<th>{header}</th>" in text or f'<th class="num">{header}</th>' in text
    for header in ("服务项目", "路程（分钟）", "导航", "结果", "已提供服务", "备注"):
        assert header in text
    for label in OUTCOMES.values():
        assert f"<span>□{label}</span>" in text
    assert "第一入户服务队" in text and "辅具技师、康复治疗师" in text
    assert "溪口镇武岭社区" in text and "11:30–13:00" in text and "31.2 公里" in text
    assert "签字" in text
    # every http(s) address is an <a href>
    hrefs = re.findall(r'<a href="([^"]+)"', text)
    assert len(re.findall(r"https?://", text)) == len(hrefs) == 3
    index = files.index.read_text(encoding="utf-8")
    assert _external_refs(index) == []
    assert 'href="A/2026-12-08_A.xlsx"' in index and 'href="plan.json"' in index
    assert "顺延下月" in index and "330283********1111" in index


def test_amap_links_are_gcj02(files: RouteSheetFiles) -> None:
    text = files.html[0].read_text(encoding="utf-8")
    hrefs = [html.unescape(h) for h in re.findall(r'<a href="([^"]+)"', text)]
    url = urlsplit(hrefs[1])
    assert (url.scheme, url.netloc, url.path) == ("https", "uri.amap.com", "/marker")
    q = parse_qs(url.query)
    assert q["coordinate"] == ["gaode"]
    assert q["name"] == ["第2户"]  # URL-decoded: the stop's order, never the name
    lon, lat = (float(x) for x in q["position"][0].split(","))
    stop = sample_plan()["teams"][0]["days"][0]["stops"][1]
    glon, glat = wgs84_to_gcj02(stop["lon"], stop["lat"])
    assert lon == pytest.approx(float(glon), abs=1e-6)
    assert lat == pytest.approx(float(glat), abs=1e-6)
    assert abs(lon - stop["lon"]) > 1e-3  # really shifted, not the WGS-84 point
    assert all("script" not in h and "张" not in h for h in hrefs)  # no names in URLs


def _header_row(ws: Any) -> int:
    for r in range(1, 10):
        if ws.cell(r, 1).value == "编号":
            return r
    raise AssertionError("no 编号 header")


def test_xlsx_has_keys_dropdown_and_print_setup(files: RouteSheetFiles) -> None:
    wb = openpyxl.load_workbook(files.xlsx[0])
    assert wb.sheetnames == ["入户路线单", "说明"]
    ws = wb["入户路线单"]
    h = _header_row(ws)
    headers = [c.value for c in ws[h]]
    assert headers == [
        "编号",
        "序号",
        "到达时间",
        "姓名",
        "身份证号（脱敏）",
        "电话",
        "地址",
        "服务项目",
        "路程（分钟）",
        "导航",
        "结果",
        "已提供服务",
        "备注",
        "更正位置（高德坐标）",
        "更正经度（WGS-84）",
        "更正纬度（WGS-84）",
    ]
    keys = [ws.cell(r, 1).value for r in range(h + 1, ws.max_row + 1)]
    assert keys == ["R101-2026-12-08-A", "R102-2026-12-08-A", "L7-2026-12-08-A"]
    assert parse_visit_key(keys[2]).lead_id == 7
    col = {name: i + 1 for i, name in enumerate(headers)}
    for r in range(h + 1, ws.max_row + 1):
        for name in ("结果", "已提供服务", "备注"):
            assert ws.cell(r, col[name]).value is None
    assert ws.cell(h + 3, col["姓名"]).value == "李四（疑似未登记）"
    assert ws.cell(h + 1, col["导航"]).hyperlink.target.startswith("https://uri.amap.com/marker?")
    validations = ws.data_validations.dataValidation
    assert len(validations) == 1
    dv = validations[0]
    assert dv.type == "list" and dv.formula1 == '"完成,不在家,拒绝,迁出,死亡"'
    out_letter = openpyxl.utils.get_column_letter(col["结果"])
    assert f"{out_letter}{h + 1}" in dv.sqref
    assert ws.freeze_panes == f"B{h + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A4)
    assert ws.print_title_rows == f"${h}:${h}"
    assert ws.column_dimensions["G"].width > ws.column_dimensions["B"].width
    help_text = " ".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value)
    assert (
        "不在家" in help_text and "辅具更换" in help_text and "coverplan visits import" in help_text
    )


def test_gpx_has_the_route_and_no_personal_numbers(files: RouteSheetFiles) -> None:
    root = ET.parse(files.gpx[0]).getroot()
    assert root.tag == f"{GPX}gpx" and root.get("version") == "1.1"
    wpts = root.findall(f"{GPX}wpt")
    rtepts = root.findall(f"{GPX}rte/{GPX}rtept")
    assert len(wpts) == len(rtepts) == 3 + 3  # start, 3 morning stops, lunch, end
    names = [w.findtext(f"{GPX}name") or "" for w in wpts]
    assert names[0].startswith("起点") and names[-1].startswith("终点")
    assert names[1:4] == ["1 <" + "*" * 24, "2 张*", "3 李*"]
    assert names[4] == "午餐 11:30–13:00 武岭社区居委会"
    assert (float(wpts[4].get("lon", "")), float(wpts[4].get("lat", ""))) == (121.24, 29.67)
    stop = sample_plan()["teams"][0]["days"][0]["stops"][1]
    assert float(wpts[2].get("lon", "")) == pytest.approx(stop["lon"])  # WGS-84, not shifted
    assert float(wpts[2].get("lat", "")) == pytest.approx(stop["lat"])
    text = files.gpx[0].read_text(encoding="utf-8")
    for secret in ("3887", "5678", "4321", "330283", "R101", "L7-", "张2", "李四", "服药监护"):
        assert secret not in text
    empty = ET.parse(files.gpx[1]).getroot()
    assert len(empty.findall(f"{GPX}wpt")) == 3  # start, lunch, end


def test_empty_day_still_gets_a_sheet(files: RouteSheetFiles) -> None:
    assert "本日无入户安排" in files.html[1].read_text(encoding="utf-8")
    ws = openpyxl.load_workbook(files.xlsx[1])["入户路线单"]
    assert ws.cell(_header_row(ws) + 1, 1).value is None


def test_mask_name() -> None:
    assert (mask_name("张三"), mask_name("欧阳娜娜"), mask_name("王"), mask_name(None)) == (
        "张*",
        "欧***",
        "*",
        "",
    )


def test_plan_without_teams_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="teams"):
        write_route_sheets(MonthPlan.from_json({"month": "2026-12", "villages": []}), tmp_path)
