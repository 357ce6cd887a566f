"""Printable route sheets of a month's outreach (康复入村社入户路线单).

:func:`write_route_sheets` turns a month plan (a typed
:class:`~planner.outreach.plan.MonthPlan`) into, per team and day:

- ``{date}_{team}.html``: an A4 landscape sheet to print, fully offline (no
  external scripts, fonts, images or style sheets; the only outside addresses
  are the Amap navigation links, in GCJ-02 as Amap expects);
- ``{date}_{team}.xlsx``: the same rows plus the 编号 (visit key) column, with
  结果/已提供服务/备注 left empty to fill in, a drop-down for 结果, and a
  说明 sheet; :func:`planner.ingest.visits.import_visits` reads it back;
- ``{date}_{team}.gpx``: the route (start, stops in order, end) in WGS-84 for a
  GPS or phone app, with masked names only (no ID or phone numbers);

plus ``plan.json`` (the whole plan, :meth:`MonthPlan.to_json`) and ``index.html``
linking everything. Names, IDs and phones are shown as the plan gives them (IDs
and phones masked by ``[privacy]``); the GPX masks names too
(:func:`planner.domain.privacy.mask_name`). Column names, outcome and service
labels and the visit key are those of :mod:`planner.domain.visits`, which
the import of the filled-in sheets (:mod:`planner.ingest.visits`) reads by.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from geo.crs import wgs84_to_gcj02
from planner.domain.privacy import mask_name
from planner.domain.visits import (
    ADDRESS_COLUMN,
    ARRIVAL_COLUMN,
    KEY_COLUMN,
    MASKED_ID_COLUMN,
    NAME_COLUMN,
    NAV_COLUMN,
    NOTES_COLUMN,
    ORDER_COLUMN,
    OUTCOME_COLUMN,
    OUTCOMES,
    PHONE_COLUMN,
    PLANNED_COLUMN,
    SERVICE_LABELS,
    SERVICES_COLUMN,
    SHEET_HEADERS,
    SHEET_NAME,
    TRAVEL_COLUMN,
)
from planner.errors import InputError
from planner.outreach.plan import (
    MonthPlan,
    Place,
    PlannedStop,
    ServicePoint,
    TeamDay,
    Unplanned,
    VillageDay,
)

__all__ = ["RouteSheetFiles", "amap_marker_url", "mask_name", "write_route_sheets"]

GPX_NS = "http://www.topografix.com/GPX/1/1"
AMAP_MARKER = (
    "https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&name={name}&coordinate=gaode"
)

# XLSX width (characters) of each column of a sheet; the printed sheet has all but 编号.
_WIDTHS = {
    KEY_COLUMN: 22,
    ORDER_COLUMN: 5,
    ARRIVAL_COLUMN: 8,
    NAME_COLUMN: 10,
    MASKED_ID_COLUMN: 21,
    PHONE_COLUMN: 13,
    ADDRESS_COLUMN: 28,
    PLANNED_COLUMN: 18,
    TRAVEL_COLUMN: 8,
    NAV_COLUMN: 9,
    OUTCOME_COLUMN: 9,
    SERVICES_COLUMN: 20,
    NOTES_COLUMN: 24,
}
_COLUMNS: tuple[tuple[str, float], ...] = tuple((h, _WIDTHS[h]) for h in SHEET_HEADERS[1:])
_TITLE_ROWS = 2  # XLSX: title lines above the header row
_DROPDOWN_ROWS = 200  # XLSX: rows below the header offered the outcome drop-down
_MARGIN_IN = 0.47  # XLSX page margins, inches (12 mm)
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


def _file_stem(day: str, team: str) -> str:
    return f"{_SAFE_NAME.sub('_', day)}_{_SAFE_NAME.sub('_', team)}"


def _labels(stop: PlannedStop) -> str:
    """The stop's services; for a split household, its other visits too."""
    return "；".join(["、".join(stop.service_labels), *(o.note() for o in stop.other_visits)])


def _point(p: Place | ServicePoint | PlannedStop) -> tuple[float, float]:
    return float(p.lon), float(p.lat)


def _stop_name(stop: PlannedStop) -> str:
    name = stop.person.name
    return name + _LEAD_MARK if stop.is_lead else name


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
    day: TeamDay

    @property
    def stops(self) -> tuple[PlannedStop, ...]:
        return self.day.stops

    @property
    def title(self) -> str:
        return f"{self.month} 康复入村社入户路线单 · {self.team_label}（{self.team}）· {self.date}"

    def meta(self) -> list[tuple[str, str]]:
        d = self.day
        lunch = f"{d.lunch.start}–{d.lunch.end} {d.lunch.place}".strip()
        travel = f"路程 {_num(d.travel_min)} 分钟，{_num(d.distance_km)} 公里"
        return [
            ("月份", self.month),
            ("日期", self.date),
            ("村社", self.villages),
            ("服务队", f"{self.team_label}（{self.team}）"),
            ("人员", self.skills),
            ("服务点", self.service_point),
            ("出发", d.start.name),
            ("返回", d.end.name),
            ("午餐", lunch),
            ("合计", f"{d.stops_count} 户；{travel}"),
        ]


def _days(plan: MonthPlan) -> list[_Day]:
    """Every team-day of the plan, team by team, with the villages it serves."""
    by_code = {v.code: v for v in plan.villages}
    out = []
    for team, day in plan.team_days:
        on_day = [v for v in plan.villages if day.date in v.dates]
        codes = sorted({s.village_code for s in day.stops})
        here: Sequence[VillageDay] = (
            on_day or [by_code[c] for c in codes if c in by_code] or plan.villages
        )
        out.append(
            _Day(
                month=plan.month,
                team=team.team,
                team_label=team.label or team.team,
                skills="、".join(team.skill_labels or team.skills),
                date=day.date.isoformat(),
                villages="、".join(f"{v.town_name}{v.name}" for v in here),
                service_point="、".join(v.service_point.name for v in here),
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
        f'<th class="num">{_e(h)}</th>'
        if h in (ORDER_COLUMN, TRAVEL_COLUMN)
        else f"<th>{_e(h)}</th>"
        for h, _ in _COLUMNS
    )
    boxes = " ".join(f"<span>□{_e(label)}</span>" for label in OUTCOMES.values())
    rows = []
    for stop in d.stops:
        who = stop.person
        url = amap_marker_url(*_point(stop), who.name)
        lead = '<div class="lead">疑似未登记</div>' if stop.is_lead else ""
        rows.append(
            "<tr>"
            f'<td class="num">{_e(stop.order)}</td>'
            f"<td>{_e(stop.arrival)}</td>"
            f"<td>{_e(who.name)}{lead}</td>"
            f"<td>{_e(who.masked_id)}</td>"
            f"<td>{_e(who.masked_phone)}</td>"
            f"<td>{_e(who.address)}</td>"
            f"<td>{_e(_labels(stop))}</td>"
            f'<td class="num">{_e(_num(stop.travel_min))}</td>'
            f'<td><a href="{_e(url)}">高德导航</a></td>'
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


def _village_row(v: VillageDay) -> str:
    sp = v.service_point
    point = sp.name + (f"：{sp.address}" if sp.address else "")
    invited = "；".join(f"{i.label} {i.count} 人" for i in v.invited)
    dates = "、".join(d.isoformat() for d in v.dates)
    name = f"{v.town_name}{v.name}"
    return "<tr>" + "".join(f"<td>{_e(x)}</td>" for x in (name, dates, point, invited)) + "</tr>"


def _sheet_row(d: _Day) -> str:
    stem = quote(_file_stem(d.date, d.team))
    links = "".join(
        f'<td><a href="{_e(stem)}.{ext}">{label}</a></td>'
        for ext, label in (("html", "打印版"), ("xlsx", "Excel 填报"), ("gpx", "GPX 路线"))
    )
    return (
        f"<tr><td>{_e(d.date)}</td><td>{_e(d.team_label)}（{_e(d.team)}）</td>"
        f'<td class="num">{_e(d.day.stops_count)}</td>{links}</tr>'
    )


def _unplanned_row(u: Unplanned) -> str:
    services = "、".join(SERVICE_LABELS.get(x, x) for x in u.services)
    return (
        f"<tr><td>{_e(u.person.masked_id)}</td><td>{_e(u.village_code)}</td>"
        f"<td>{_e(services)}</td><td>{_e(u.reason)}</td></tr>"
    )


def _html_index(plan: MonthPlan, days: Sequence[_Day]) -> str:
    villages = "".join(_village_row(v) for v in plan.villages)
    sheets = "".join(_sheet_row(d) for d in days)
    unplanned = "".join(_unplanned_row(u) for u in plan.unplanned)
    body = (
        f"<h1>{_e(plan.month)} 康复入村社</h1>\n<h2>村社与服务点</h2>\n"
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
    return _html_page(f"{plan.month} 康复入村社", body)


# --- XLSX -------------------------------------------------------------------------------


def _xlsx_sheet(d: _Day, path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAME
    headers = list(SHEET_HEADERS)
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
    _xlsx_rows(ws, d, header_row=header_row)
    last = max(ws.max_row, header_row + 1)
    ws.add_data_validation(_outcome_list(headers, header_row=header_row, last=last))
    for i, w in enumerate((_WIDTHS[h] for h in headers), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = ws.cell(header_row + 1, 2)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{get_column_letter(ncol)}{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = _MARGIN_IN
    ws.page_margins.top = ws.page_margins.bottom = _MARGIN_IN
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    _xlsx_help(wb.create_sheet("说明"))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def _xlsx_rows(ws: Any, d: _Day, *, header_row: int) -> None:
    """The header row's style and one row per stop (编号 first; 结果… left to fill in)."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    headers = list(SHEET_HEADERS)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    fill = PatternFill("solid", fgColor="DDDDDD")
    to_fill = PatternFill("solid", fgColor="FFF7D6")
    for c in range(1, len(headers) + 1):
        cell = ws.cell(header_row, c)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    fill_cols = {headers.index(h) + 1 for h in (OUTCOME_COLUMN, SERVICES_COLUMN, NOTES_COLUMN)}
    text_cols = (1, headers.index(MASKED_ID_COLUMN) + 1, headers.index(PHONE_COLUMN) + 1)
    nav_col = headers.index(NAV_COLUMN) + 1
    for stop in d.stops:
        who = stop.person
        ws.append(
            [
                stop.visit_key,
                stop.order,
                stop.arrival,
                _stop_name(stop),
                who.masked_id,
                who.masked_phone,
                who.address,
                _labels(stop),
                stop.travel_min,
                None,
                None,
                None,
                None,
            ]
        )
        r = ws.max_row
        link = ws.cell(r, nav_col, "高德导航")
        link.hyperlink = amap_marker_url(*_point(stop), who.name)
        link.font = Font(color="0563C1", underline="single")
        for c in range(1, len(headers) + 1):
            cell = ws.cell(r, c)
            cell.border = border
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if c in fill_cols:
                cell.fill = to_fill
        ws.cell(r, 1).font = Font(color="808080", size=9)
        for c in text_cols:
            ws.cell(r, c).number_format = "@"


def _outcome_list(headers: list[str], *, header_row: int, last: int) -> Any:
    """The drop-down of outcomes on the 结果 column."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

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
    dv.add(f"{out_col}{header_row + 1}:{out_col}{max(last, header_row + _DROPDOWN_ROWS)}")
    return dv


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
    points = [(f"起点 {d.day.start.name}".strip(), _point(d.day.start))]
    points += [(f"{s.order} {mask_name(s.person.name)}".strip(), _point(s)) for s in d.stops]
    points.append((f"终点 {d.day.end.name}".strip(), _point(d.day.end)))
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


def write_route_sheets(plan: MonthPlan, out_dir: Path) -> RouteSheetFiles:
    """Write the route sheets of a month plan under ``out_dir``.

    Parameters
    ----------
    plan
        The month plan (:func:`planner.services.outreach_month`, or
        :meth:`MonthPlan.from_json` of a ``plan.json``); points are WGS-84.
    out_dir
        Output directory (created).

    Returns
    -------
    RouteSheetFiles
        ``{date}_{team}.html|xlsx|gpx`` per team-day, ``plan.json``, ``index.html``.

    Raises
    ------
    InputError
        When a team has two days on the same date.
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
        json.dumps(plan.to_json(), ensure_ascii=False, indent=2, default=str) + "\n",
        encoding="utf-8",
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
