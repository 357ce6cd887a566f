"""Printable route sheets of a month's outreach (康复入村社入户路线单).

:func:`write_route_sheets` turns a month plan (the JSON-serialisable dict of the
month planner) into, per team and day:

- ``{date}_{team}.html``: an A4 landscape sheet to print, fully offline (no
  external scripts, fonts, images or style sheets; the only outside addresses
  are the Amap navigation links, in GCJ-02 as Amap expects);
- ``{date}_{team}.xlsx``: the same rows plus the 编号 (visit key) column, with
  结果/已提供服务/备注 left empty to fill in, a drop-down for 结果, and a
  说明 sheet; :func:`planner.ingest.visits.import_visits` reads it back;
- ``{date}_{team}.gpx``: the route (start, stops in order, end) in WGS-84 for a
  GPS or phone app, with masked names only (no ID or phone numbers);

plus ``plan.json`` (the whole plan) and ``index.html`` linking everything.
Names, IDs and phones are shown as the plan gives them (IDs and phones masked).
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from geo.crs import wgs84_to_gcj02
from planner.errors import InputError
from planner.ingest.visits import (
    KEY_COLUMN,
    MASKED_ID_COLUMN,
    NOTES_COLUMN,
    OUTCOME_COLUMN,
    OUTCOMES,
    SERVICE_LABELS,
    SERVICES_COLUMN,
    visit_key,
)

__all__ = ["RouteSheetFiles", "amap_marker_url", "mask_name", "write_route_sheets"]

GPX_NS = "http://www.topografix.com/GPX/1/1"
AMAP_MARKER = (
    "https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&name={name}&coordinate=gaode"
)

# Columns of a sheet: header, XLSX width (characters).
_COLUMNS: tuple[tuple[str, float], ...] = (
    ("序号", 5),
    ("到达时间", 8),
    ("姓名", 10),
    (MASKED_ID_COLUMN, 21),
    ("电话（脱敏）", 13),
    ("地址", 28),
    ("服务项目", 18),
    ("路程（分钟）", 8),
    ("导航", 9),
    (OUTCOME_COLUMN, 9),
    (SERVICES_COLUMN, 20),
    (NOTES_COLUMN, 24),
)
_KEY_WIDTH = 22
_TITLE_ROWS = 2  # XLSX: title lines above the header row
_SAFE_NAME = re.compile(r"[^\w.-]+")
_LEAD_MARK = "（疑似未登记）"

_CSS = """
@page { size: A4 landscape; margin: 12mm }
* { box-sizing: border-box }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "SimSun", sans-serif; font-size: 10.5pt; color: #000; margin: 0 }
h1 { font-size: 15pt; margin: 0 0 4pt }
h2 { font-size: 12pt; margin: 10pt 0 4pt }
.meta { display: grid; grid-template-columns: repeat(3, auto); gap: 2pt 16pt; margin: 0 0 6pt }
.meta div { white-space: nowrap }
table { width: 100%; border-collapse: collapse; table-layout: auto }
th, td { border: 0.6pt solid #000; padding: 3pt 4pt; vertical-align: top; text-align: left }
th { background: #eee; font-weight: bold; white-space: nowrap }
thead { display: table-header-group }
tr { page-break-inside: avoid; break-inside: avoid }
td.num, th.num { text-align: right; white-space: nowrap }
td.fill { min-width: 20mm }
.opts { font-size: 8.5pt; line-height: 1.6; width: 27mm }
.opts span { white-space: nowrap }
.lead { font-size: 8.5pt }
.sign { margin-top: 14pt; display: grid; grid-template-columns: repeat(3, 1fr); gap: 16pt }
.sign div { border-bottom: 0.6pt solid #000; padding-top: 18pt }
.note { font-size: 9pt; margin-top: 6pt }
a { color: #000 }
@media screen { body { margin: 12mm; max-width: 297mm } }
"""


@dataclass(frozen=True)
class RouteSheetFiles:
    """The files written by :func:`write_route_sheets` (HTML, XLSX, GPX per team-day)."""

    out_dir: Path
    html: tuple[Path, ...]
    xlsx: tuple[Path, ...]
    gpx: tuple[Path, ...]
    plan_json: Path
    index: Path

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (*self.html, *self.xlsx, *self.gpx, self.plan_json, self.index)


# --- small helpers ----------------------------------------------------------------------


def mask_name(name: object) -> str:
    """A name with all but its first character masked, e.g. ``张*``."""
    s = "" if name is None else str(name).strip()
    if len(s) <= 1:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 1)


def amap_marker_url(lon: float, lat: float, name: str) -> str:
    """An Amap (高德) marker link for a WGS-84 point, converted to GCJ-02."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    return AMAP_MARKER.format(lon=float(glon), lat=float(glat), name=quote(name, safe=""))


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: object, digits: int = 1) -> str:
    if value is None or value == "":
        return ""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


def _need(mapping: Mapping[str, Any], key: str, what: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise InputError(f"月计划缺少「{key}」（{what}）；请重新生成月计划")
    return mapping[key]


def _file_stem(day: str, team: str) -> str:
    return f"{_SAFE_NAME.sub('_', day)}_{_SAFE_NAME.sub('_', team)}"


def _labels(stop: Mapping[str, Any]) -> list[str]:
    labels = stop.get("service_labels")
    if labels:
        return [str(x) for x in labels]
    return [SERVICE_LABELS.get(str(s), str(s)) for s in stop.get("services") or ()]


def _place(p: Mapping[str, Any] | None) -> str:
    return str(p.get("name") or "") if p else ""


def _point(p: Mapping[str, Any] | None) -> tuple[float, float] | None:
    if not p or p.get("lon") is None or p.get("lat") is None:
        return None
    return float(p["lon"]), float(p["lat"])


def _stop_key(stop: Mapping[str, Any], day: str, team: str) -> str:
    if stop.get("visit_key"):
        return str(stop["visit_key"])
    return visit_key(
        resident_id=stop.get("resident_id"),
        lead_id=stop.get("lead_id"),
        visited_on=date.fromisoformat(day),
        team=team,
    )


def _stop_name(stop: Mapping[str, Any]) -> str:
    name = str(stop.get("name") or "")
    return name + _LEAD_MARK if stop.get("lead_id") is not None else name


@dataclass(frozen=True)
class _Day:
    """One team-day with what its header needs."""

    month: str
    team: str
    team_label: str
    skills: str
    date: str
    villages: str
    service_point: str
    day: Mapping[str, Any]

    @property
    def stops(self) -> list[Mapping[str, Any]]:
        return list(self.day.get("stops") or [])

    @property
    def title(self) -> str:
        return f"{self.month} 康复入村社入户路线单 · {self.team_label}（{self.team}）· {self.date}"

    def meta(self) -> list[tuple[str, str]]:
        d = self.day
        lunch = d.get("lunch") or {}
        lunch_text = (
            f"{lunch.get('start', '')}–{lunch.get('end', '')} {lunch.get('place') or ''}".strip()
            if lunch
            else ""
        )
        n = d.get("stops_count", len(self.stops))
        totals = f"{n} 户；路程 {_num(d.get('travel_min'))} 分钟，{_num(d.get('distance_km'))} 公里"
        return [
            ("月份", self.month),
            ("日期", self.date),
            ("村社", self.villages),
            ("服务队", f"{self.team_label}（{self.team}）"),
            ("人员", self.skills),
            ("服务点", self.service_point),
            ("出发", _place(d.get("start"))),
            ("返回", _place(d.get("end"))),
            ("午餐", lunch_text),
            ("合计", totals),
        ]


def _days(plan: Mapping[str, Any]) -> list[_Day]:
    month = str(_need(plan, "month", "月份"))
    villages = list(plan.get("villages") or [])
    by_code = {str(v.get("code")): v for v in villages}
    out = []
    for team in _need(plan, "teams", "服务队"):
        key = str(_need(team, "team", "服务队代码"))
        label = str(team.get("label") or key)
        skills = "、".join(str(s) for s in team.get("skill_labels") or team.get("skills") or [])
        for day in team.get("days") or []:
            date_s = str(_need(day, "date", "日期"))
            codes = {str(s.get("village_code")) for s in day.get("stops") or []}
            here = [v for v in villages if date_s in (v.get("dates") or [])]
            here = here or [by_code[c] for c in sorted(codes) if c in by_code] or villages
            names = "、".join(f"{v.get('town_name') or ''}{v.get('name') or ''}" for v in here)
            points = "、".join(
                _place(v.get("service_point")) for v in here if v.get("service_point")
            )
            out.append(
                _Day(
                    month=month,
                    team=key,
                    team_label=label,
                    skills=skills,
                    date=date_s,
                    villages=names,
                    service_point=points,
                    day=day,
                )
            )
    return out


# --- HTML -------------------------------------------------------------------------------


def _html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _html_sheet(d: _Day) -> str:
    meta = "".join(f"<div><b>{_e(k)}：</b>{_e(v)}</div>" for k, v in d.meta())
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if h in ("序号", "路程（分钟）") else f"<th>{_e(h)}</th>"
        for h, _ in _COLUMNS
    )
    boxes = " ".join(f"<span>□{_e(label)}</span>" for label in OUTCOMES.values())
    rows = []
    for stop in d.stops:
        name = str(stop.get("name") or "")
        point = _point(stop)
        nav = (
            f'<a href="{_e(amap_marker_url(point[0], point[1], name))}">高德导航</a>'
            if point
            else ""
        )
        lead = '<div class="lead">疑似未登记</div>' if stop.get("lead_id") is not None else ""
        rows.append(
            "<tr>"
            f'<td class="num">{_e(stop.get("order"))}</td>'
            f"<td>{_e(stop.get('arrival'))}</td>"
            f"<td>{_e(name)}{lead}</td>"
            f"<td>{_e(stop.get('masked_id'))}</td>"
            f"<td>{_e(stop.get('masked_phone'))}</td>"
            f"<td>{_e(stop.get('address'))}</td>"
            f"<td>{_e('、'.join(_labels(stop)))}</td>"
            f'<td class="num">{_e(_num(stop.get("travel_min")))}</td>'
            f"<td>{nav}</td>"
            f'<td class="opts">{boxes}</td>'
            '<td class="fill"></td><td class="fill"></td>'
            "</tr>"
        )
    if not rows:
        rows.append(f'<tr><td colspan="{len(_COLUMNS)}">本日无入户安排。</td></tr>')
    body = (
        f"<h1>{_e(d.title)}</h1>\n"
        f'<div class="meta">{meta}</div>\n'
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n"
        '<p class="note">结果：在方框中打勾（完成／不在家／拒绝／迁出／死亡）；'
        "已提供服务：写实际提供的服务；回来后把结果录入同名 Excel 表（"
        f"{_e(_file_stem(d.date, d.team))}.xlsx）并导入：coverplan visits import。"
        "身份证号和电话已脱敏，本表用后请妥善保管或销毁。</p>\n"
        '<div class="sign"><div>服务队负责人签字：</div><div>村（社区）联络员签字：</div>'
        "<div>日期：</div></div>"
    )
    return _html_page(d.title, body)


def _village_row(v: Mapping[str, Any]) -> str:
    sp = v.get("service_point") or {}
    point = _place(sp) + (f"：{sp['address']}" if sp.get("address") else "")
    invited = "；".join(
        f"{i.get('label') or SERVICE_LABELS.get(str(i.get('service')), i.get('service'))} "
        f"{i.get('count', '')} 人"
        for i in v.get("invited") or []
    )
    dates = "、".join(str(x) for x in v.get("dates") or [])
    name = f"{v.get('town_name') or ''}{v.get('name') or ''}"
    return "<tr>" + "".join(f"<td>{_e(x)}</td>" for x in (name, dates, point, invited)) + "</tr>"


def _sheet_row(d: _Day) -> str:
    stem = quote(_file_stem(d.date, d.team))
    links = "".join(
        f'<td><a href="{_e(stem)}.{ext}">{label}</a></td>'
        for ext, label in (("html", "打印版"), ("xlsx", "Excel 填报"), ("gpx", "GPX 路线"))
    )
    n = d.day.get("stops_count", len(d.stops))
    return (
        f"<tr><td>{_e(d.date)}</td><td>{_e(d.team_label)}（{_e(d.team)}）</td>"
        f'<td class="num">{_e(n)}</td>{links}</tr>'
    )


def _unplanned_row(u: Mapping[str, Any]) -> str:
    services = "、".join(SERVICE_LABELS.get(str(x), str(x)) for x in u.get("services") or [])
    return (
        f"<tr><td>{_e(u.get('masked_id'))}</td><td>{_e(u.get('village_code'))}</td>"
        f"<td>{_e(services)}</td><td>{_e(u.get('reason'))}</td></tr>"
    )


def _html_index(plan: Mapping[str, Any], days: Sequence[_Day]) -> str:
    month = str(plan.get("month") or "")
    villages = "".join(_village_row(v) for v in plan.get("villages") or [])
    sheets = "".join(_sheet_row(d) for d in days)
    unplanned = "".join(_unplanned_row(u) for u in plan.get("unplanned") or [])
    body = (
        f"<h1>{_e(month)} 康复入村社</h1>\n<h2>村社与服务点</h2>\n"
        "<table><thead><tr><th>村社</th><th>日期</th><th>服务点</th><th>邀请到服务点</th>"
        f"</tr></thead><tbody>{villages}</tbody></table>\n"
        "<h2>入户路线单</h2>\n<table><thead><tr><th>日期</th><th>服务队</th>"
        '<th class="num">户数</th><th colspan="3">文件</th></tr></thead>'
        f"<tbody>{sheets}</tbody></table>\n"
    )
    if unplanned:
        body += (
            "<h2>本月未能安排（顺延）</h2>\n<table><thead><tr><th>身份证号（脱敏）</th>"
            f"<th>村社代码</th><th>服务</th><th>原因</th></tr></thead><tbody>{unplanned}"
            "</tbody></table>\n"
        )
    body += '<p class="note">全部计划数据：<a href="plan.json">plan.json</a></p>'
    return _html_page(f"{month} 康复入村社", body)


# --- XLSX -------------------------------------------------------------------------------


def _xlsx_sheet(d: _Day, path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "入户路线单"
    headers = [KEY_COLUMN, *(h for h, _ in _COLUMNS)]
    widths = [_KEY_WIDTH, *(w for _, w in _COLUMNS)]
    ncol = len(headers)
    ws.append([d.title])
    ws.append(["；".join(f"{k}：{v}" for k, v in d.meta() if v)])
    for r in range(1, _TITLE_ROWS + 1):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=ncol)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[2].height = 32
    header_row = _TITLE_ROWS + 1
    ws.append(headers)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fill = PatternFill("solid", fgColor="DDDDDD")
    to_fill = PatternFill("solid", fgColor="FFF7D6")
    for c in range(1, ncol + 1):
        cell = ws.cell(header_row, c)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fill_cols = {headers.index(h) + 1 for h in (OUTCOME_COLUMN, SERVICES_COLUMN, NOTES_COLUMN)}
    nav_col = headers.index("导航") + 1
    for stop in d.stops:
        name = str(stop.get("name") or "")
        ws.append(
            [
                _stop_key(stop, d.date, d.team),
                stop.get("order"),
                stop.get("arrival"),
                _stop_name(stop),
                stop.get("masked_id"),
                stop.get("masked_phone"),
                stop.get("address"),
                "、".join(_labels(stop)),
                stop.get("travel_min"),
                None,
                None,
                None,
                None,
            ]
        )
        r = ws.max_row
        point = _point(stop)
        if point:
            link = ws.cell(r, nav_col, "高德导航")
            link.hyperlink = amap_marker_url(point[0], point[1], name)
            link.font = Font(color="0563C1", underline="single")
        for c in range(1, ncol + 1):
            cell = ws.cell(r, c)
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if c in fill_cols:
                cell.fill = to_fill
        ws.cell(r, 1).font = Font(color="808080", size=9)
        for c in (1, headers.index(MASKED_ID_COLUMN) + 1, headers.index("电话（脱敏）") + 1):
            ws.cell(r, c).number_format = "@"
    last = max(ws.max_row, header_row + 1)
    out_col = get_column_letter(headers.index(OUTCOME_COLUMN) + 1)
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(OUTCOMES.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=True,
        errorTitle="结果无效",
        error="请从下拉列表选择：" + "、".join(OUTCOMES.values()),
        promptTitle="结果",
        prompt="走访后选择结果；未走访留空",
    )
    dv.add(f"{out_col}{header_row + 1}:{out_col}{max(last, header_row + 200)}")
    ws.add_data_validation(dv)
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(ncol)}{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.47  # inches, 12 mm
    ws.page_margins.top = ws.page_margins.bottom = 0.47
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _xlsx_help(wb.create_sheet("说明"))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _xlsx_help(ws: Any) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        "入户路线单填写说明",
        "",
        f"1. 每走访一户，在「{OUTCOME_COLUMN}」列从下拉列表选择："
        + "、".join(OUTCOMES.values())
        + "。",
        f"2. 「{SERVICES_COLUMN}」填写实际提供的服务，多项用顿号（、）分隔；"
        "只有结果为「完成」时才填写。可填写的服务见下表（填名称或代码均可）。",
        f"3. 「{NOTES_COLUMN}」填写需要说明的情况（如新住址、联系人、下次再访时间）。",
        f"4. 尚未走访的户，「{OUTCOME_COLUMN}」留空；导入时跳过，不算错误。",
        f"5. 不要修改「{KEY_COLUMN}」列和表头，不要删除、合并行；可以调整行的顺序。",
        "6. 迁出、死亡：系统只把该人员标记为待核查，不会删除任何人；请由镇街残联核实后处理。",
        "7. 填好后保存为 .xlsx，在区残联电脑上运行：coverplan visits import 文件名.xlsx",
        "   （可以导入整个目录；同一张表重复导入不会重复记录，改正后重新导入会更正记录。）",
        "8. 身份证号和电话已脱敏；本表含个人信息，用后请妥善保管或销毁。",
        "",
        "服务名称\t代码",
        *(f"{label}\t{key}" for key, label in SERVICE_LABELS.items()),
    ]
    for text in lines:
        ws.append(text.split("\t"))
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 100
    ws.column_dimensions["B"].width = 26
    for row in ws.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


# --- GPX --------------------------------------------------------------------------------


def _gpx(d: _Day) -> bytes:
    ET.register_namespace("", GPX_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        e = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}", attrs)
        if text is not None:
            e.text = text
        return e

    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "coverplan"})
    meta = el(root, "metadata")
    el(meta, "name", f"{d.month} 康复入村社 {d.team_label}（{d.team}）{d.date}")
    points: list[tuple[str, tuple[float, float]]] = []
    start, end = _point(d.day.get("start")), _point(d.day.get("end"))
    if start:
        points.append((f"起点 {_place(d.day.get('start'))}".strip(), start))
    for stop in d.stops:
        p = _point(stop)
        if p:
            points.append((f"{stop.get('order', '')} {mask_name(stop.get('name'))}".strip(), p))
    if end:
        points.append((f"终点 {_place(d.day.get('end'))}".strip(), end))
    for name, (lon, lat) in points:
        w = el(root, "wpt", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
        el(w, "name", name)
    rte = el(root, "rte")
    el(rte, "name", f"{d.team_label} {d.date}")
    for name, (lon, lat) in points:
        rp = el(rte, "rtept", lat=f"{lat:.7f}", lon=f"{lon:.7f}")
        el(rp, "name", name)
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


# --- entry point ------------------------------------------------------------------------


def write_route_sheets(plan: Mapping[str, Any], out_dir: Path) -> RouteSheetFiles:
    """Write the route sheets of a month plan under ``out_dir``.

    Parameters
    ----------
    plan
        The month plan dict (``month``, ``villages``, ``teams`` with their
        ``days`` and ordered ``stops``, ``unplanned``, …); points are WGS-84.
    out_dir
        Output directory (created).

    Returns
    -------
    RouteSheetFiles
        ``{date}_{team}.html|xlsx|gpx`` per team-day, ``plan.json``, ``index.html``.

    Raises
    ------
    InputError
        When the plan lacks its month, teams or a day's date.
    """
    out_dir = Path(out_dir)
    days = _days(plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_files, xlsx_files, gpx_files = [], [], []
    seen: set[str] = set()
    for d in days:
        stem = _file_stem(d.date, d.team)
        if stem in seen:
            raise InputError(f"月计划中服务队 {d.team} 在 {d.date} 出现了两次；请重新生成月计划")
        seen.add(stem)
        h = out_dir / f"{stem}.html"
        h.write_text(_html_sheet(d), encoding="utf-8")
        x = out_dir / f"{stem}.xlsx"
        _xlsx_sheet(d, x)
        g = out_dir / f"{stem}.gpx"
        g.write_bytes(_gpx(d))
        html_files.append(h)
        xlsx_files.append(x)
        gpx_files.append(g)
    plan_json = out_dir / "plan.json"
    plan_json.write_text(
        json.dumps(plan, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    index = out_dir / "index.html"
    index.write_text(_html_index(plan, days), encoding="utf-8")
    return RouteSheetFiles(
        out_dir=out_dir,
        html=tuple(html_files),
        xlsx=tuple(xlsx_files),
        gpx=tuple(gpx_files),
        plan_json=plan_json,
        index=index,
    )
