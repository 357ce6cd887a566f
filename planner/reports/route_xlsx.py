"""The XLSX route sheet of a team-day: the rows to fill in, read back by
:func:`planner.ingest.visits.import_visits`.

:func:`write_xlsx` writes the 编号 (visit key) column first, 结果/已提供服务/备注
empty to fill in with a drop-down for 结果, the print set-up (A4 landscape, one
page wide) and a 说明 sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
    POINT_COLUMNS,
    POINT_GCJ_COLUMN,
    POINT_LAT_COLUMN,
    POINT_LON_COLUMN,
    SERVICE_LABELS,
    SERVICES_COLUMN,
    SHEET_NAME,
    TRAVEL_COLUMN,
    XLSX_HEADERS,
)
from planner.outreach.plan import PlannedStop
from planner.reports.route_day import ESTIMATED_HINT, ESTIMATED_MARK
from planner.reports.route_day import SheetDay as _Day
from planner.reports.route_day import labels as _labels
from planner.reports.route_day import stop_name as _stop_name

__all__ = ["write_xlsx"]

NavLink = Callable[[PlannedStop], "str | None"]

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
    POINT_GCJ_COLUMN: 22,
    POINT_LON_COLUMN: 14,
    POINT_LAT_COLUMN: 14,
}
_TITLE_ROWS = 2  # XLSX: title lines above the header row
_DROPDOWN_ROWS = 200  # XLSX: rows below the header offered the outcome drop-down
_MARGIN_IN = 0.47  # XLSX page margins, inches (12 mm)


def write_xlsx(d: _Day, path: Path, *, nav_link: NavLink) -> None:
    """Write the XLSX sheet of team-day ``d`` to ``path`` (``nav_link``: a stop's link)."""
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_NAME
    headers = list(XLSX_HEADERS)
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
    _xlsx_rows(ws, d, header_row=header_row, nav_link=nav_link)
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


def _xlsx_rows(ws: Any, d: _Day, *, header_row: int, nav_link: NavLink) -> None:
    """The header row's style and one row per stop (编号 first; 结果… left to fill in)."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    headers = list(XLSX_HEADERS)
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
    filled = (OUTCOME_COLUMN, SERVICES_COLUMN, NOTES_COLUMN, *POINT_COLUMNS)
    fill_cols = {headers.index(h) + 1 for h in filled}
    text_cols = [1, *(headers.index(h) + 1 for h in (MASKED_ID_COLUMN, PHONE_COLUMN))]
    text_cols.append(headers.index(POINT_GCJ_COLUMN) + 1)
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
                d.phone(stop),
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
        url = nav_link(stop)
        if url:
            link = ws.cell(r, nav_col, "高德导航")
            link.hyperlink = url
            link.font = Font(color="0563C1", underline="single")
        else:
            ws.cell(r, nav_col, f"{ESTIMATED_MARK}：{ESTIMATED_HINT}")
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
        f"8. 住户位置不对或为「{ESTIMATED_MARK}」时，可记下住户门口的实际位置：在高德地图长按"
        f"该点复制坐标，粘贴到「{POINT_GCJ_COLUMN}」（如 121.406,29.660）；或把手机 GPS 的"
        f"经纬度填入「{POINT_LON_COLUMN}」「{POINT_LAT_COLUMN}」（二者选一）。"
        "导入后，下月计划按该位置导航和计算路程。",
        "9. 身份证号已脱敏，电话为完整号码（供提前联系）；本表含个人信息，"
        "仅限本服务队使用，用后请交回或销毁。",
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
