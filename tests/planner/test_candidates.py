"""Candidate sites of ``coverplan site --candidates``: read through the register
readers (any encoding, XLSX with title rows), placed by village or point."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest

from geo.crs import to_wgs84
from planner.errors import InputError
from planner.ingest.candidates import find_place, read_candidates

WULING, JISHAN, BANXI, OTHER_JISHAN = "330213100001", "330213100003", "330213101201", "330213102201"
VILLAGES = gpd.GeoDataFrame(
    {
        "code": [WULING, JISHAN, BANXI, OTHER_JISHAN],
        "name": ["武岭社区", "畸山居委会", "班溪村委会", "畸山居委会"],
        "town_name": ["溪口镇", "溪口镇", "大堰镇", "萧王庙街道"],
        "lon": [121.24, 121.25, np.nan, 121.30],
        "lat": [29.67, 29.68, np.nan, 29.70],
    }
)


def test_xlsx_with_a_title_row_village_names_and_gcj02_points(tmp_path: Path) -> None:
    path = tmp_path / "候选点.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["2027 年残疾人之家候选地块"])  # a title above the header
    ws.append(["名称", "村社", "经度", "纬度", "建设费用", "容量"])
    ws.append(["地块一", "溪口镇武岭社区", None, None, "1,200,000", None])
    ws.append(["地块二", None, 121.2605, 29.6712, None, 30])
    ws.append([None, WULING, None, None, None, None])
    wb.save(path)
    frame = read_candidates(path, villages=VILLAGES, crs="gcj02")
    assert list(frame.columns) == ["name", "village_code", "lon", "lat", "build_cost", "capacity"]
    assert frame["name"].tolist() == ["地块一", "地块二", "武岭社区候选点"]
    assert frame["village_code"].tolist()[::2] == [WULING, WULING]
    assert pd.isna(frame.at[1, "village_code"])
    # a village's committee point is in WGS-84 already: not converted
    assert (frame.at[0, "lon"], frame.at[0, "lat"]) == (121.24, 29.67)
    lon, lat = to_wgs84(121.2605, 29.6712, crs="gcj02")
    assert frame.at[1, "lon"] == pytest.approx(float(lon))
    assert frame.at[1, "lat"] == pytest.approx(float(lat))
    assert frame.at[1, "lon"] != pytest.approx(121.2605, abs=1e-4)  # GCJ-02 is ~500 m off
    assert frame.at[0, "build_cost"] == 1_200_000 and frame.at[1, "capacity"] == 30
    assert pd.isna(frame.at[1, "build_cost"])  # the type's cost applies


def test_gbk_csv_with_only_a_village_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("村社\n畸山\n".encode("gbk"))  # 畸山 is ambiguous…
    with pytest.raises(InputError, match="重名") as err:
        read_candidates(path, villages=VILLAGES)
    assert (err.value.row, err.value.column, err.value.value) == (2, "村社", "畸山")
    path.write_bytes("村社\n溪口镇畸山\n".encode("gbk"))  # …within its town it is not
    frame = read_candidates(path, villages=VILLAGES)
    assert frame["village_code"].tolist() == [JISHAN]
    assert frame["name"].tolist() == ["畸山居委会候选点"]


@pytest.mark.parametrize(
    ("text", "match", "row", "column"),
    [
        ("名称,村社\n地块,大堰镇班溪\n", "没有点位或边界", 2, "村社"),
        ("名称,村社,建设费用\n地块,武岭社区,\n地块,武岭社区,三十万\n", "不是数字", 3, "建设费用"),
        ("名称,村社\n", "没有数据行", None, None),
        ("名称,备注\n地块,空地\n", "需要“村社”列或“经度”“纬度”两列", 1, None),
        ("名称,经度,纬度\n地块,,\n", "需要村社或经纬度", 2, None),
    ],
)
def test_mistakes_name_the_row_and_column(
    tmp_path: Path, text: str, match: str, row: int | None, column: str | None
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match) as err:
        read_candidates(path, villages=VILLAGES)
    assert (err.value.row, err.value.column) == (row, column)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="候选点文件不存在"):
        read_candidates(tmp_path / "none.csv", villages=VILLAGES)


# --------------------------------------------------------------------------
# find_place: where ``site --relocate … --to PLACE`` goes


def test_place_by_village_name_code_row_or_point() -> None:
    by_name = find_place("班溪村", villages=VILLAGES.assign(lon=121.1, lat=29.5))
    assert by_name["village_code"] == BANXI  # 班溪村委会, written as people say it
    assert by_name["name"] == "大堰镇班溪村委会"
    assert (by_name["capacity"], by_name["build_cost"]) == (None, None)
    assert find_place(WULING, villages=VILLAGES)["lon"] == 121.24
    assert find_place("溪口镇畸山社区", villages=VILLAGES)["village_code"] == JISHAN
    rows = pd.DataFrame(
        {
            "name": ["溪口地块"],
            "village_code": [WULING],
            "lon": [121.241],
            "lat": [29.671],
            "build_cost": [np.nan],
            "capacity": [80.0],
        }
    )
    row = find_place("溪口地块", villages=VILLAGES, candidates=rows)
    assert (row["lon"], row["capacity"], row["build_cost"]) == (121.241, 80.0, None)
    point = find_place("121.26，29.67", villages=VILLAGES, crs="gcj02")
    lon, lat = to_wgs84(121.26, 29.67, crs="gcj02")
    assert (point["lon"], point["lat"]) == pytest.approx((float(lon), float(lat)))
    assert point["village_code"] is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("畸山社区", "重名"),  # in two towns
        ("班溪村", "没有点位"),  # no point, no polygon
        ("不存在村", "经度,纬度"),  # says how to write a place
    ],
)
def test_place_mistakes(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        find_place(text, villages=VILLAGES)
