"""The one way to write tables for people: CSV (UTF-8 with BOM), XLSX, GeoPackage.

Every writer in :mod:`planner.reports` (and the CLI's ``--out``) goes through
these functions, so that headers, encodings and sheet layout are the same in
every file: Chinese headers from a column map, CSV in UTF-8 with BOM (Excel on
Chinese Windows opens it correctly), one XLSX sheet per table with a frozen
header row and sensible column widths, an optional note in the first row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from planner.errors import InputError

__all__ = ["write_layers", "write_table", "write_workbook"]

CSV_ENCODING = "utf-8-sig"
MAX_COLUMN_WIDTH = 60  # characters
MIN_COLUMN_WIDTH = 6
SHEET_NAME_MAX = 31  # Excel's limit


def _headed(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> pd.DataFrame:
    return frame.rename(columns=dict(columns)) if columns else frame


def _ready(path: Path) -> Path:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建输出目录「{path.parent}」：{exc.strerror}") from None
    return path


def _width(value: object) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)  # CJK characters are wide


def write_table(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str = "表",
    note: str | None = None,
) -> Path:
    """Write one table as CSV or XLSX, chosen by the suffix of ``path``.

    Parameters
    ----------
    frame
        The table; its index is not written.
    path
        ``….csv`` (UTF-8 with BOM) or ``….xlsx``.
    columns
        Column name → header shown (Chinese); columns not listed keep their name.
    sheet
        XLSX sheet name.
    note
        A line written above the header (e.g. the rule behind the figures).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        When the suffix is neither ``.csv`` nor ``.xlsx`` or the file cannot be written.
    """
    path = _ready(Path(path))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_workbook({sheet: frame}, path, columns=columns, notes={sheet: note})
    if suffix != ".csv":
        raise InputError(f"输出文件「{path}」应以 .csv 或 .xlsx 结尾")
    table = _headed(frame, columns)
    try:
        with path.open("w", encoding=CSV_ENCODING, newline="") as fh:
            if note:
                fh.write(f"# {note}\n")
            table.to_csv(fh, index=False)
    except OSError as exc:
        raise InputError(f"无法写入「{path}」：{exc.strerror}") from None
    return path


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    notes: Mapping[str, str | None] | None = None,
) -> Path:
    """Write several tables as the sheets of one XLSX workbook (in the given order).

    Headers are bold; text starting with ``=`` is kept as text, never a formula.
    """
    path = _ready(Path(path))
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=str(name)[:SHEET_NAME_MAX])
        table = _headed(frame, columns)
        note = (notes or {}).get(name)
        if note:
            ws.append([note])
        header = [str(c) for c in table.columns]
        ws.append(header)
        r = ws.max_row
        for cell in ws[r]:
            cell.font = Font(bold=True)
        for row in table.itertuples(index=False):
            values = _cells(row)
            ws.append(values)
            r += 1  # ws[ws.max_row] would scan every cell: quadratic in the rows
            for c, v in enumerate(values, start=1):
                if isinstance(v, str) and v.startswith("="):  # stays text, never a formula
                    ws.cell(row=r, column=c).data_type = "s"
        ws.freeze_panes = ws.cell(row=3 if note else 2, column=1)
        for i, col in enumerate(header, start=1):
            longest = max([_width(col), *(_width(v) for v in table.iloc[:, i - 1].head(200))])
            ws.column_dimensions[get_column_letter(i)].width = min(
                MAX_COLUMN_WIDTH, max(MIN_COLUMN_WIDTH, longest + 2)
            )
    try:
        wb.save(path)
    except OSError as exc:
        raise InputError(f"无法写入「{path}」：{exc.strerror}") from None
    return path


def _cells(row: tuple[object, ...]) -> list[object]:
    out: list[object] = []
    for v in row:
        if v is None or v is pd.NaT or v is pd.NA or (isinstance(v, float) and v != v):  # NaN
            out.append(None)
        elif isinstance(v, (list, tuple, dict, set)):
            out.append(str(v))
        elif hasattr(v, "item") and type(v).__module__ == "numpy":
            out.append(v.item())
        else:
            out.append(v)
    return out


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: Path | str,
    *,
    keep_empty: Collection[str] = (),
) -> Path:
    """Write GeoDataFrames as the layers of one GeoPackage (replacing the file).

    Empty layers are skipped, except those named in ``keep_empty`` (written
    with their columns and no feature); geometry is written in its own CRS
    (WGS-84 here).
    """
    path = _ready(Path(path))
    path.unlink(missing_ok=True)
    for name, layer in layers.items():
        if len(layer) or name in keep_empty:
            layer.to_file(path, layer=name, driver="GPKG")
    return path
