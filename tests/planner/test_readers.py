"""Table files are read by their content, not by their name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.ingest.columns import score_header
from planner.ingest.readers import read_table, sniff_table
from tests.planner import registers as reg


def _read(path: Path):  # type: ignore[no-untyped-def]
    return read_table(path, score=lambda row: score_header("residents", row))


@pytest.mark.parametrize("name", ["名册.xls", "名册.xlsx", "名册.txt"])
def test_a_gbk_csv_named_like_excel_is_read_as_csv(tmp_path: Path, name: str) -> None:
    expected = _read(reg.write_gbk_csv(tmp_path / "名册.csv"))
    path = tmp_path / name
    path.write_bytes((tmp_path / "名册.csv").read_bytes())
    table = _read(path)
    assert (table.format, table.encoding) == ("csv", "gbk")
    assert table.headers == expected.headers
    assert [r.values for r in table.rows] == [r.values for r in expected.rows]
    assert len(table.rows) == 15


def test_a_tab_separated_export_named_xls(tmp_path: Path) -> None:
    path = tmp_path / "导出.xls"
    path.write_text(
        "姓名\t公民身份号码\t残疾类别\t残疾等级\n甲\t11010519491231002X\t肢体\t一级\n",
        encoding="utf-16",
    )
    table = _read(path)
    assert (table.format, table.encoding) == ("csv", "utf-16")
    assert table.rows[0].values["公民身份号码"] == "11010519491231002X"


def test_an_xlsx_named_xls_or_csv_is_read_as_xlsx(tmp_path: Path) -> None:
    xlsx = reg.write_xlsx(tmp_path / "b.xlsx")
    for name in ("b.xls", "b.csv"):
        path = tmp_path / name
        path.write_bytes(xlsx.read_bytes())
        assert sniff_table(path) == "xlsx"
        table = _read(path)
        assert table.format == "xlsx" and len(table.rows) == 15


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("坏.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "Excel 97-2003"),
        ("坏.xls", b"PK\x03\x04" + b"\x00" * 100, "不是 XLSX"),
        ("坏.xlsx", bytes(range(256)) * 4, "既不是 Excel"),
        ("网页.xls", "<html><table><tr><td>姓名</td></tr></table></html>".encode(), "网页"),
    ],
)
def test_an_unreadable_file_is_refused_by_name(
    tmp_path: Path, name: str, data: bytes, match: str
) -> None:
    path = _write(tmp_path / name, data)
    with pytest.raises(InputError, match=match) as err:
        _read(path)
    assert name in str(err.value)


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "压缩.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(InputError, match=r"压缩\.xlsx"):
        _read(path)


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "名册.csv"
    folder.mkdir()
    with pytest.raises(InputError, match="目录"):
        _read(folder)
