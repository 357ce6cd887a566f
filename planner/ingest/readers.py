"""Read a user's table file into rows of text cells, whatever its format.

CSV (UTF-8, UTF-8 with BOM, UTF-16, GBK, GB18030 — detected, never decoded with
errors ignored), XLSX/XLS (title rows above the header, merged cells filled),
and GeoJSON/GeoPackage/Shapefile (attributes plus geometry). Line numbers are the
ones a person sees in the file: CSV line, Excel row, or feature number.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from planner.errors import InputError

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip"}
_EXCEL_PRECISION_LIMIT = 1e15  # Excel keeps 15 significant digits
_SNIFF_BYTES = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"  # XLSX (a zip of XML parts)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # XLS (Excel 97-2003, an OLE compound file)
_MARKUP_STARTS = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<meta")


@dataclass
class RawRow:
    line: int
    values: dict[str, Any]
    geometry: Any = None  # shapely geometry for geo formats


@dataclass
class RawTable:
    path: Path
    format: str
    encoding: str | None
    headers: list[str]
    header_line: int
    rows: list[RawRow] = field(default_factory=list)
    crs: str | None = None  # the geo file's declared CRS (after reprojection: EPSG:4326)


HeaderScore = Callable[[list[object]], int]


def detect_encoding(data: bytes, *, file: str) -> str:
    """The encoding of CSV bytes: utf-8-sig, utf-16, utf-8, gbk or gb18030.

    Raises
    ------
    InputError
        When no candidate decodes the whole file without error.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            data.decode(enc)
        except UnicodeDecodeError:
            continue
        return enc
    raise InputError(
        "无法识别文件编码（不是 UTF-8、GBK 或 GB18030）；请用 Excel 另存为“CSV UTF-8”后重试",
        file=file,
    )


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= _EXCEL_PRECISION_LIMIT:
            return f"{value:.14E}"  # digits already lost; parsers report it
        return str(int(value)) if value.is_integer() else repr(value)
    s = str(value)
    return s if s.strip() else None


def _pick_header(
    grid: Sequence[Sequence[Any]], *, score: HeaderScore, search_rows: int, file: str
) -> int:
    best, best_score = -1, 1
    for i, row in enumerate(grid[:search_rows]):
        sc = score(list(row))
        if sc > best_score:
            best, best_score = i, sc
    if best < 0:
        raise InputError(
            f"在前 {search_rows} 行中找不到表头"
            "（至少要有两个能识别的列名，如 姓名、公民身份号码）；"
            "列名对照见 README",
            file=file,
        )
    return best


def _rows_from_grid(
    grid: list[list[Any]],
    lines: list[int],
    *,
    path: Path,
    fmt: str,
    encoding: str | None,
    score: HeaderScore,
    search_rows: int,
) -> RawTable:
    h = _pick_header(grid, score=score, search_rows=search_rows, file=path.name)
    headers = [str(c).strip() if c is not None else "" for c in grid[h]]
    seen: dict[str, int] = {}
    for i, name in enumerate(headers):  # keep duplicate headers apart
        if name in seen:
            headers[i] = f"{name}#{i + 1}"
        seen.setdefault(name, i)
    table = RawTable(
        path=path, format=fmt, encoding=encoding, headers=headers, header_line=lines[h]
    )
    for cells, line in zip(grid[h + 1 :], lines[h + 1 :], strict=True):
        vals = {headers[i]: _cell(c) for i, c in enumerate(cells[: len(headers)]) if headers[i]}
        if all(v is None for v in vals.values()):
            continue
        extra = [c for c in cells[len(headers) :] if _cell(c) is not None]
        if extra:
            vals["__extra__"] = "，".join(str(_cell(c)) for c in extra)
        table.rows.append(RawRow(line=line, values=vals))
    return table


def _read_csv(
    path: Path, *, score: HeaderScore, search_rows: int, data: bytes | None = None
) -> RawTable:
    data = path.read_bytes() if data is None else data
    enc = detect_encoding(data, file=path.name)
    text = data.decode(enc)
    sample = text[:_SNIFF_BYTES]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[list[Any]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            grid.append(record)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"CSV 格式错误：{exc}", file=path.name, row=start) from exc
    name = {"utf-8-sig": "utf-8-sig", "utf-16": "utf-16"}.get(enc, enc)
    return _rows_from_grid(
        grid, lines, path=path, fmt="csv", encoding=name, score=score, search_rows=search_rows
    )


def _read_xlsx(path: Path, *, score: HeaderScore, search_rows: int) -> RawTable:
    import openpyxl

    try:
        # a file object: openpyxl would refuse an XLSX whose name ends in .xls
        with path.open("rb") as fh:
            wb = openpyxl.load_workbook(io.BytesIO(fh.read()), data_only=True)
    except Exception as exc:  # any failure of the parser on the user's bytes: unreadable
        raise InputError(
            f"无法读取 Excel 文件（文件损坏或不是 XLSX）：{exc}；请用 Excel 打开后另存为 .xlsx",
            file=path.name,
        ) from exc
    best: RawTable | None = None
    best_score = -1
    for ws in wb.worksheets:
        grid = [list(r) for r in ws.iter_rows(values_only=True)]
        for rng in ws.merged_cells.ranges:
            top = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if r - 1 < len(grid):
                        row = grid[r - 1]
                        row.extend([None] * (c - len(row)))
                        row[c - 1] = top
        if not grid:
            continue
        sc = max(score(list(r)) for r in grid[:search_rows])
        if sc > best_score:
            best_score = sc
            lines = list(range(1, len(grid) + 1))
            try:
                best = _rows_from_grid(
                    grid,
                    lines,
                    path=path,
                    fmt="xlsx",
                    encoding=None,
                    score=score,
                    search_rows=search_rows,
                )
            except InputError:
                best = None
    wb.close()
    if best is None:
        _pick_header([], score=score, search_rows=search_rows, file=path.name)
        raise AssertionError("unreachable")
    return best


def _read_xls(path: Path, *, score: HeaderScore, search_rows: int) -> RawTable:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=path.read_bytes(), formatting_info=True)
    except Exception as exc:  # any failure of the parser on the user's bytes: unreadable
        raise InputError(
            f"无法读取 Excel 97-2003 文件（文件损坏或不是 XLS）：{exc}；"
            "请用 Excel 打开后另存为 .xlsx",
            file=path.name,
        ) from exc
    sheet = book.sheet_by_index(0)
    grid: list[list[Any]] = []
    for r in range(sheet.nrows):
        row: list[Any] = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                row.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
            elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                row.append(None)
            else:
                row.append(cell.value)
        grid.append(row)
    for r0, r1, c0, c1 in sheet.merged_cells:
        for r in range(r0, r1):
            for c in range(c0, c1):
                grid[r][c] = grid[r0][c0]
    lines = list(range(1, len(grid) + 1))
    return _rows_from_grid(
        grid, lines, path=path, fmt="xls", encoding=None, score=score, search_rows=search_rows
    )


def _read_geo(path: Path) -> RawTable:
    import geopandas as gpd
    from pyogrio.errors import DataSourceError

    try:
        gdf = gpd.read_file(path)
    except (DataSourceError, OSError, ValueError) as exc:
        raise InputError(f"无法读取地理数据文件：{exc}", file=path.name) from exc
    declared = gdf.crs.to_string() if gdf.crs is not None else None
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4326, 4490):
        gdf = gdf.to_crs(4326)
    headers = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    fmt = path.suffix.lower().lstrip(".")
    table = RawTable(
        path=path,
        format="shp" if fmt == "zip" else fmt,
        encoding=None,
        headers=headers,
        header_line=0,
        crs=declared,
    )
    records = gdf.drop(columns=gdf.geometry.name).to_dict(orient="records")
    for i, (rec, geom) in enumerate(zip(records, gdf.geometry, strict=True), start=1):
        vals = {str(k): _cell(None if _isna(v) else v) for k, v in rec.items()}
        table.rows.append(RawRow(line=i, values=vals, geometry=None if _isna(geom) else geom))
    return table


def _isna(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN, None
    except (TypeError, ValueError):
        return False


def sniff_table(path: Path) -> str:
    """What a table file holds, by its first bytes: ``xlsx``, ``xls``, ``markup`` or ``text``.

    XLSX is a zip (``PK\\x03\\x04``), XLS an OLE compound file (``D0 CF 11 E0``);
    anything else is read as delimited text (CSV/TSV) with encoding detection.
    """
    with path.open("rb") as fh:
        head = fh.read(512)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "xls"
    text = head.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if text.startswith(_MARKUP_STARTS):  # HTML or SpreadsheetML exported as ".xls"
        return "markup"
    return "text"


def _is_binary(data: bytes) -> bool:
    """NUL bytes without a UTF-16 byte-order mark: not a text table."""
    head = data[:_SNIFF_BYTES]
    return b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def read_table(path: Path, *, score: HeaderScore, search_rows: int = 15) -> RawTable:
    """Read ``path`` into a :class:`RawTable`.

    Parameters
    ----------
    path
        CSV/TXT/TSV, XLSX/XLS, GeoJSON, GeoPackage, Shapefile (or a zipped one).
    score
        Scores a candidate header row (number of recognised column names).
    search_rows
        How many leading rows may hold titles before the header.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("文件不存在", file=str(path))
    if path.is_dir():
        raise InputError("这是一个目录；请给出其中的文件", file=str(path))
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES or suffix in EXCEL_SUFFIXES:
        # by content, not by name: government systems export CSV or HTML named .xls
        kind = sniff_table(path)
        if kind == "xlsx":
            return _read_xlsx(path, score=score, search_rows=search_rows)
        if kind == "xls":
            return _read_xls(path, score=score, search_rows=search_rows)
        if kind == "markup":
            raise InputError(
                "文件内容是网页或 XML 表格，不是 XLSX、XLS 或 CSV；请用 Excel 打开后另存为 .xlsx",
                file=path.name,
            )
        data = path.read_bytes()
        if suffix in EXCEL_SUFFIXES and _is_binary(data):
            raise InputError(
                "文件内容既不是 Excel（XLSX/XLS）也不是文本表格（CSV）；"
                "请用 Excel 打开后另存为 .xlsx",
                file=path.name,
            )
        return _read_csv(path, score=score, search_rows=search_rows, data=data)
    if suffix in GEO_SUFFIXES:
        return _read_geo(path)
    raise InputError(
        f"不支持的文件类型「{suffix}」；可用 CSV、XLSX、XLS、GeoJSON、GeoPackage、Shapefile",
        file=path.name,
    )
