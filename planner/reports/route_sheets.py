"""Printable route sheets of a month's outreach (康复入村社入户路线单).

:func:`write_route_sheets` turns a month plan (a typed
:class:`~planner.outreach.plan.MonthPlan`) into one folder per team
(``{team}/``, to hand to that team: it holds only the persons of the team's own
plan) with, per day:

- ``{date}_{team}.html``: an A4 landscape sheet to print, fully offline (no
  external scripts, fonts, images or style sheets; the only outside addresses
  are the Amap navigation links, in GCJ-02 as Amap expects, carrying the point
  and a neutral label ``第N户``, never a name). Its header gives the date, the
  team and its members, start, lunch, and the day's total drive in minutes and
  kilometres (empty shifts included); a small route map is drawn as inline SVG
  from the stops and the village outlines (no tiles);
- ``{date}_{team}.xlsx``: the same rows plus the 编号 (visit key) column, with
  结果/已提供服务/备注 left empty to fill in, a drop-down for 结果, and a
  说明 sheet; :func:`planner.ingest.visits.import_visits` reads it back;
- ``{date}_{team}.gpx``: the route (start, stops in order, lunch at the service
  point, end) in WGS-84 for a GPS or phone app, with masked names only (no ID
  or phone numbers);

plus the team's ``index.html``; and, at the top of the output directory for the
planner, ``plan.json`` (the whole plan, :meth:`MonthPlan.to_json`: names,
masked IDs and masked phones) and ``index.html`` linking everything.

Phones: in full on the team's own sheets (HTML, XLSX; the team calls ahead),
from :attr:`MonthPlan.phones`; masked everywhere else. ID numbers are masked
everywhere. Column names, outcome and service labels and the visit key are
those of :mod:`planner.domain.visits`, which the import of the filled-in sheets
(:mod:`planner.ingest.visits`) reads by.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree as ET

from geo.crs import wgs84_to_gcj02
from planner.domain.privacy import mask_name
from planner.domain.visits import (
    ADDRESS_COLUMN,
    ARRIVAL_COLUMN,
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
    TRAVEL_COLUMN,
)
from planner.errors import InputError
from planner.outreach.plan import MonthPlan, PlannedStop, Unplanned, VillageDay
from planner.reports.route_day import ESTIMATED_HINT, ESTIMATED_MARK
from planner.reports.route_day import SheetDay as _Day
from planner.reports.route_day import drive as _drive
from planner.reports.route_day import esc as _e
from planner.reports.route_day import file_stem as _file_stem
from planner.reports.route_day import labels as _labels
from planner.reports.route_day import num as _num
from planner.reports.route_day import point as _point
from planner.reports.route_day import sheet_days as _days
from planner.reports.route_day import team_dir as _team_dir
from planner.reports.route_map import route_svg
from planner.reports.route_xlsx import write_xlsx

__all__ = [
    "ESTIMATED_HINT",
    "ESTIMATED_MARK",
    "RouteSheetFiles",
    "amap_marker_url",
    "has_real_point",
    "mask_name",
    "write_route_sheets",
]

GPX_NS = "http://www.topografix.com/GPX/1/1"
AMAP_MARKER = (
    "https://uri.amap.com/marker?position={lon:.6f},{lat:.6f}&name={name}&coordinate=gaode"
)

# Printed width (mm) of each column of the A4 landscape sheet (273 mm between the
# margins); the address takes what is left (``None``).
_PRINT_MM: dict[str, float | None] = {
    ORDER_COLUMN: 8,
    ARRIVAL_COLUMN: 11,
    NAME_COLUMN: 17,
    MASKED_ID_COLUMN: 33,
    PHONE_COLUMN: 22,
    ADDRESS_COLUMN: None,
    PLANNED_COLUMN: 22,
    TRAVEL_COLUMN: 11,
    NAV_COLUMN: 11,
    OUTCOME_COLUMN: 28,
    SERVICES_COLUMN: 22,
    NOTES_COLUMN: 24,
}
_HEADERS = SHEET_HEADERS[1:]  # the printed sheet's columns (no 编号)

_CSS = """
@page { size: A4 landscape; margin: 12mm }
* { box-sizing: border-box }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
       "Microsoft YaHei", "PingFang SC", "SimSun", sans-serif; font-size: 9.5pt; color: #000;
       margin: 0 }
h1 { font-size: 14pt; margin: 0 0 3pt }
h2 { font-size: 12pt; margin: 10pt 0 4pt }
.top { display: flex; gap: 5mm; align-items: flex-start; margin: 0 0 4pt }
.meta { flex: 1; display: grid; grid-template-columns: auto 1fr; gap: 1.5pt 6pt;
        align-content: start }
.meta dt { font-weight: bold; white-space: nowrap }
.meta dd { margin: 0 }
.map { flex: none; width: 92mm; height: 57mm; border: 0.6pt solid #000 }
.map svg { display: block; width: 100%; height: 100% }
table { width: 100%; border-collapse: collapse; table-layout: fixed }
th, td { border: 0.6pt solid #000; padding: 2pt 3pt; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; line-height: 1.3 }
th { background: #eee; font-weight: bold; font-size: 8.5pt }
thead { display: table-header-group }
tr { page-break-inside: avoid; break-inside: avoid }
td.num, th.num { text-align: right }
td.id { font-size: 8pt; white-space: nowrap; overflow: hidden }
td.tel { white-space: nowrap }
.opts { font-size: 8pt }
.opts span { white-space: nowrap; margin-right: 2pt }
.lead { font-size: 8pt }
tr.leg td { background: #f4f4f4; font-size: 8.5pt }
.sign { margin-top: 10pt; display: grid; grid-template-columns: repeat(3, 1fr); gap: 16pt;
        break-inside: avoid }
.sign div { border-bottom: 0.6pt solid #000; padding-top: 14pt }
.note { font-size: 8.5pt; margin-top: 4pt }
a { color: #000 }
@media screen { body { margin: 12mm; max-width: 297mm } }
"""


@dataclass(frozen=True)
class RouteSheetFiles:
    """The files written by :func:`write_route_sheets`.

    ``html``, ``xlsx``, ``gpx``: per team-day, in each team's folder
    (``teams``: team → folder; ``team_index``: each folder's ``index.html``);
    ``plan_json`` and ``index``: the planner's, at the top of ``out_dir``.
    """

    out_dir: Path
    html: tuple[Path, ...]
    xlsx: tuple[Path, ...]
    gpx: tuple[Path, ...]
    plan_json: Path
    index: Path
    teams: Mapping[str, Path] = field(default_factory=dict)
    team_index: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (*self.html, *self.xlsx, *self.gpx, self.plan_json, self.index, *self.team_index)


# --- small helpers ----------------------------------------------------------------------


def amap_marker_url(lon: float, lat: float, name: str) -> str:
    """An Amap (高德) marker link for a WGS-84 point, converted to GCJ-02."""
    glon, glat = wgs84_to_gcj02(lon, lat)
    return AMAP_MARKER.format(lon=float(glon), lat=float(glat), name=quote(name, safe=""))


def has_real_point(stop: PlannedStop) -> bool:
    """Whether the stop's point is real (its own or one a team recorded): only such
    stops get a navigation link and a GPX waypoint; an estimated one stands at its
    village's point (:mod:`planner.outreach.hops`)."""
    return stop.point_source != "estimated"


def _nav_link(stop: PlannedStop) -> str | None:
    """The navigation link of a stop (None: no link), carrying no personal data.

    The Amap marker at the stop's point with the neutral label ``第N户`` (the
    stop's order), never the resident's name; none for an estimated point.
    """
    if not has_real_point(stop):
        return None
    return amap_marker_url(*_point(stop), f"第{stop.order}户")


# --- HTML -------------------------------------------------------------------------------


def _html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def _colgroup() -> str:
    cols = "".join(
        "<col>" if _PRINT_MM[h] is None else f'<col style="width:{_PRINT_MM[h]:g}mm">'
        for h in _HEADERS
    )
    return f"<colgroup>{cols}</colgroup>"


def _stop_row(d: _Day, stop: PlannedStop, boxes: str) -> str:
    who = stop.person
    url = _nav_link(stop)
    nav = f'<a href="{_e(url)}">高德导航</a>' if url else f"{ESTIMATED_MARK}：{ESTIMATED_HINT}"
    lead = '<div class="lead">疑似未登记</div>' if stop.is_lead else ""
    return (
        "<tr>"
        f'<td class="num">{_e(stop.order)}</td>'
        f"<td>{_e(stop.arrival)}</td>"
        f"<td>{_e(who.name)}{lead}</td>"
        f'<td class="id">{_e(who.masked_id)}</td>'
        f'<td class="tel">{_e(d.phone(stop))}</td>'
        f"<td>{_e(who.address)}</td>"
        f"<td>{_e(_labels(stop))}</td>"
        f'<td class="num">{_e(_num(stop.travel_min))}</td>'
        f"<td>{nav}</td>"
        f'<td class="opts">{boxes}</td>'
        "<td></td><td></td>"
        "</tr>"
    )


def _leg_row(time: str, text: str, minutes: float | None, km: float | None) -> str:
    drive = "" if minutes is None else f"（路程 {_drive(minutes, km)}）"
    return (
        f'<tr class="leg"><td></td><td>{_e(time)}</td>'
        f'<td colspan="{len(_HEADERS) - 2}">{_e(text)}{_e(drive)}</td></tr>'
    )


def _html_sheet(d: _Day) -> str:
    day = d.day
    meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in d.meta())
    head = "".join(
        f'<th class="num">{_e(h)}</th>'
        if h in (ORDER_COLUMN, TRAVEL_COLUMN)
        else f"<th>{_e(h)}</th>"
        for h in _HEADERS
    )
    boxes = "".join(f"<span>□{_e(label)}</span> " for label in OUTCOMES.values()).strip()
    rows = [_stop_row(d, s, boxes) for s in d.morning]
    lunch = day.lunch
    rows.append(
        _leg_row(
            lunch.start,
            f"午餐 {lunch.start}–{lunch.end}：{lunch.place}",
            day.to_lunch_min,
            day.to_lunch_km,
        )
    )
    rows += [_stop_row(d, s, boxes) for s in d.afternoon]
    rows.append(_leg_row("", f"返回{day.end.name}", day.to_end_min, day.to_end_km))
    if not d.stops:
        rows.insert(0, f'<tr><td colspan="{len(_HEADERS)}">本日无入户安排。</td></tr>')
    phones = "电话为完整号码，供提前联系；" if d.phones else "电话已脱敏；"
    body = (
        f"<h1>{_e(d.title)}</h1>\n"
        f'<div class="top"><dl class="meta">{meta}</dl>'
        f'<div class="map">{route_svg(d)}</div></div>\n'
        f"<table>\n{_colgroup()}\n<thead><tr>{head}</tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n"
        '<p class="note">结果：在方框中打勾（完成／不在家／拒绝／迁出／死亡）；'
        "已提供服务：写实际提供的服务；回来后把结果录入同名 Excel 表（"
        f"{_e(_file_stem(d.date, d.team))}.xlsx）并导入：coverplan visits import。"
        f"身份证号已脱敏，{phones}本表含个人信息，仅限本服务队使用，用后请交回或销毁。</p>\n"
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


def _sheet_row(d: _Day, *, folder: str = "") -> str:
    stem = quote(folder + _file_stem(d.date, d.team))
    links = "".join(
        f'<td><a href="{_e(stem)}.{ext}">{label}</a></td>'
        for ext, label in (("html", "打印版"), ("xlsx", "Excel 填报"), ("gpx", "GPX 路线"))
    )
    return (
        f"<tr><td>{_e(d.date)}</td><td>{_e(d.team_label)}（{_e(d.team)}）</td>"
        f'<td class="num">{_e(d.day.stops_count)}</td>'
        f'<td class="num">{_e(_drive(d.day.travel_min, d.day.distance_km))}</td>{links}</tr>'
    )


def _unplanned_row(u: Unplanned) -> str:
    services = "、".join(SERVICE_LABELS.get(x, x) for x in u.services)
    return (
        f"<tr><td>{_e(u.person.masked_id)}</td><td>{_e(u.village_code)}</td>"
        f"<td>{_e(services)}</td><td>{_e(u.reason)}</td></tr>"
    )


_SHEETS_HEAD = (
    "<table><thead><tr><th>日期</th><th>服务队</th>"
    '<th class="num">户数</th><th class="num">路程</th><th colspan="3">文件</th></tr></thead>'
)


def _html_index(plan: MonthPlan, days: Sequence[_Day]) -> str:
    villages = "".join(_village_row(v) for v in plan.villages)
    sheets = "".join(_sheet_row(d, folder=f"{_team_dir(d.team)}/") for d in days)
    unplanned = "".join(_unplanned_row(u) for u in plan.unplanned)
    body = (
        f"<h1>{_e(plan.month)} 康复入村社</h1>\n<h2>村社与服务点</h2>\n"
        "<table><thead><tr><th>村社</th><th>日期</th><th>服务点</th><th>邀请到服务点</th>"
        f"</tr></thead><tbody>{villages}</tbody></table>\n"
        f"<h2>入户路线单</h2>\n{_SHEETS_HEAD}<tbody>{sheets}</tbody></table>\n"
        '<p class="note">每个服务队的文件夹（如 A/）只含该队自己的入户对象（含完整电话，'
        "供提前联系），整个文件夹交给该服务队；本页和 plan.json 留在区残联，不要发给服务队。</p>\n"
    )
    if unplanned:
        body += (
            "<h2>本月未能安排（顺延）</h2>\n<table><thead><tr><th>身份证号（脱敏）</th>"
            f"<th>村社代码</th><th>服务</th><th>原因</th></tr></thead><tbody>{unplanned}"
            "</tbody></table>\n"
        )
    body += '<p class="note">全部计划数据：<a href="plan.json">plan.json</a></p>'
    return _html_page(f"{plan.month} 康复入村社", body)


def _team_index(plan: MonthPlan, team: str, days: Sequence[_Day]) -> str:
    label = days[0].team_label if days else team
    sheets = "".join(_sheet_row(d) for d in days)
    body = (
        f"<h1>{_e(plan.month)} 康复入村社 · {_e(label)}（{_e(team)}）</h1>\n"
        f"{_SHEETS_HEAD}<tbody>{sheets}</tbody></table>\n"
        '<p class="note">本文件夹只含本服务队的入户对象，电话为完整号码，供提前联系；'
        "请妥善保管，用后交回或销毁。填好的 Excel 表交回区残联导入（coverplan visits import）。</p>"
    )
    return _html_page(f"{plan.month} 康复入村社 {label}", body)


# --- GPX --------------------------------------------------------------------------------


def _gpx(d: _Day) -> bytes:
    ET.register_namespace("", GPX_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        e = ET.SubElement(parent, f"{{{GPX_NS}}}{tag}", attrs)
        if text is not None:
            e.text = text
        return e

    def stop(s: PlannedStop) -> tuple[str, tuple[float, float]]:
        return f"{s.order} {mask_name(s.person.name)}".strip(), _point(s)

    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "coverplan"})
    meta = el(root, "metadata")
    el(meta, "name", f"{d.month} 康复入村社 {d.team_label}（{d.team}）{d.date}")
    lunch = d.day.lunch
    points = [(f"起点 {d.day.start.name}".strip(), _point(d.day.start))]
    points += [stop(s) for s in d.morning if has_real_point(s)]
    points.append((f"午餐 {lunch.start}–{lunch.end} {d.sp.name}".strip(), _point(d.sp)))
    points += [stop(s) for s in d.afternoon if has_real_point(s)]
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
    """Write the route sheets of a month plan under ``out_dir``, one folder per team.

    Parameters
    ----------
    plan
        The month plan (:func:`planner.services.outreach_month`, or
        :meth:`MonthPlan.from_json` of a ``plan.json``; read from JSON it has no
        full phones and no village outlines); points are WGS-84.
    out_dir
        Output directory (created).

    Returns
    -------
    RouteSheetFiles
        ``{team}/{date}_{team}.html|xlsx|gpx`` per team-day and
        ``{team}/index.html`` (for the team: only its own persons, full phones),
        ``plan.json`` and ``index.html`` at the top (for the planner: masked
        phones and IDs).

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
    teams: dict[str, Path] = {}
    for d in days:
        stem = _file_stem(d.date, d.team)
        if stem in seen:
            raise InputError(f"月计划中服务队 {d.team} 在 {d.date} 出现了两次；请重新生成月计划")
        seen.add(stem)
        folder = teams.setdefault(d.team, out_dir / _team_dir(d.team))
        folder.mkdir(parents=True, exist_ok=True)
        h = folder / f"{stem}.html"
        h.write_text(_html_sheet(d), encoding="utf-8")
        x = folder / f"{stem}.xlsx"
        write_xlsx(d, x, nav_link=_nav_link)
        g = folder / f"{stem}.gpx"
        g.write_bytes(_gpx(d))
        html_files.append(h)
        xlsx_files.append(x)
        gpx_files.append(g)
    team_index = []
    for team, folder in teams.items():
        page = folder / "index.html"
        page.write_text(
            _team_index(plan, team, [d for d in days if d.team == team]), encoding="utf-8"
        )
        team_index.append(page)
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
        teams=teams,
        team_index=tuple(team_index),
    )
