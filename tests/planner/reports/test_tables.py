"""The one table writer: CSV with BOM, XLSX sheets, GeoPackage layers; plain JSON."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point

from planner.errors import InputError
from planner.jsonable import records, to_jsonable
from planner.reports.tables import write_layers, write_table, write_workbook


def frame() -> pd.DataFrame:
    return pd.DataFrame({"code": ["330213001001", "330213001002"], "n": [3, np.nan]})


def test_csv_has_a_bom_chinese_headers_and_the_note(tmp_path: Path) -> None:
    path = write_table(frame(), tmp_path / "a.csv", columns={"code": "村社代码"}, note="规则")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines == ["# 规则", "村社代码,n", "330213001001,3.0", "330213001002,"]


def test_xlsx_sheets_in_order_with_headers_and_empty_cells_for_nan(tmp_path: Path) -> None:
    path = write_workbook(
        {"甲": frame(), "乙": frame().head(1)}, tmp_path / "b.xlsx", columns={"n": "人数"}
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["甲", "乙"]
    rows = list(wb["甲"].iter_rows(values_only=True))
    assert rows == [("code", "人数"), ("330213001001", 3), ("330213001002", None)]
    assert write_table(frame(), tmp_path / "c.xlsx", sheet="表一").exists()


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.csv 或 \.xlsx"):
        write_table(frame(), tmp_path / "a.txt")


def test_geopackage_layers(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(121.4, 29.6)], crs="EPSG:4326")
    path = write_layers({"villages": g, "empty": g.iloc[:0]}, tmp_path / "x.gpkg")
    back = gpd.read_file(path, layer="villages")
    assert list(back["name"]) == ["甲"] and back.crs.to_epsg() == 4326


def test_to_jsonable() -> None:
    value = {"a": np.int64(2), "b": (np.float32(0.5), float("inf")), "d": date(2027, 1, 5)}
    assert to_jsonable(value) == {"a": 2, "b": [0.5, None], "d": "2027-01-05"}
    rec = records(frame())
    assert rec[1] == {"code": "330213001002", "n": None}
    assert not any(isinstance(v, float) and math.isnan(v) for r in rec for v in r.values())


def test_xlsx_bold_headers_text_never_a_formula_and_missing_integers(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"name": ["=1+1", "两新三改"], "year": pd.array([2021, None], dtype="Int64")}
    )
    path = write_workbook({"表": table}, tmp_path / "d.xlsx", notes={"表": "说明"})
    wb = openpyxl.load_workbook(path)
    ws = wb["表"]
    assert [c.font.bold for c in ws[2]] == [True, True]  # the header, below the note
    assert not ws["A3"].font.bold
    assert ws["A3"].value == "=1+1" and ws["A3"].data_type == "s"  # text, not a formula
    assert [list(r) for r in ws.iter_rows(min_row=3, values_only=True)] == [
        ["=1+1", 2021],
        ["两新三改", None],  # pd.NA: an empty cell
    ]
    wb.close()
