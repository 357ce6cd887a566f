"""A hand-built messy register with known answers, written in several formats."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl

from tests.factories import make_id

HEADER = [
    "序号",
    "姓名",
    "性别",
    "公民身份号码",
    "出生日期",
    "残疾类别",
    "残疾等级",
    "乡镇（街道）",
    "村（社区）",
    "现住址",
    "联系电话",
]
TITLE = "奉化区持证残疾人名册（测试）"


def _wide(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


def _x_id() -> str:
    for seq in range(1000):
        n = make_id(date(1971, 2, 3), seq)
        if n.endswith("X"):
            return n
    raise AssertionError("no X check char found")


ID_A = make_id(date(1950, 1, 1), 11)
ID_WIDE = make_id(date(1962, 7, 8), 23)
ID_X = _x_id()
ID_15 = "330283" + "480315" + "123"  # legacy 15 digits: born 1948-03-15
ID_15_AS_18 = make_id(date(1948, 3, 15), 123, region="330283")
BAD_CHECK = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
BAD_DATE_17 = "330213" + "19501301" + "051"
BAD_DATE = BAD_DATE_17 + "0"  # check char irrelevant: the date fails first


@dataclass(frozen=True)
class Expected:
    rows: int
    stored: int
    rejected: int
    needs_review: int
    rejected_ids_lines: tuple[int, ...]  # data-row numbers (1-based) that are rejected
    stored_ids: frozenset[str]


ROW_1 = [
    "1",
    "张三",
    "男",
    ID_A,
    "1950-01-01",
    "肢体残疾",
    "一级",
    "溪口镇",
    "武岭社区",
    "溪口镇武岭社区5号",
    "13812345678",
]

DATA: list[list[str]] = [
    # good rows
    ROW_1,
    [
        "2",
        "李四",
        "男",
        _wide(ID_WIDE),
        "1962-07-08",
        "肢体",
        "1级",
        "溪口镇",
        "畸山居委会",
        "",
        "１３９ ００００ ０１１１",
    ],
    ["3", "王五", "", ID_X.lower(), "1971-02-03", "听力残疾", "Ⅱ级", "锦屏街道", "长岭村", "", ""],
    [
        "4",
        "赵六",
        "男",
        ID_15,
        "1948-03-15",
        "精神",
        "3",
        "尚田镇",
        "冷西村",
        "尚田镇冷西村3组",
        "0574-88881234",
    ],
    [
        "5",
        "钱七",
        "女",
        make_id(date(1980, 5, 5), 2),
        "",
        "智力残疾",
        "四级",
        "裘村",
        "吴江村",
        "",
        "",
    ],
    [
        "6",
        "孙八",
        "男",
        make_id(date(1990, 6, 6), 3),
        "",
        "言语残疾",
        "二级",
        "江口街道",
        "柱石村委会",
        "",
        "",
    ],
    [
        "7",
        "周九",
        "男",
        make_id(date(1955, 9, 9), 5),
        "",
        "视力残疾",
        "三级",
        "松岙镇",
        "上汪村",
        "",
        "",
    ],
    [
        "8",
        "吴十",
        "女",
        make_id(date(1940, 1, 2), 8),
        "",
        "多重残疾",
        "一级",
        "锦屏街道",
        "长岭社区",
        "",
        "",
    ],
    # bad rows
    ["9", "郑一", "男", BAD_CHECK, "", "肢体残疾", "一级", "溪口镇", "武岭社区", "", ""],
    ["10", "王二", "男", BAD_DATE, "", "肢体残疾", "一级", "溪口镇", "武岭社区", "", ""],
    ["11", "冯三", "男", "", "", "肢体残疾", "一级", "溪口镇", "武岭社区", "", ""],
    [
        "12",
        "陈四",
        "男",
        make_id(date(1966, 6, 1), 7),
        "",
        "其他",
        "一级",
        "溪口镇",
        "武岭社区",
        "",
        "",
    ],
    [
        "13",
        "褚五",
        "女",
        make_id(date(1967, 6, 1), 8),
        "",
        "肢体残疾",
        "五级",
        "溪口镇",
        "武岭社区",
        "",
        "",
    ],
    # an exact duplicate of row 1 (rows with one ID but different data: test_import_integrity)
    ["14", *ROW_1[1:]],
    # stored, flagged for review: the village does not exist
    [
        "15",
        "蒋七",
        "男",
        make_id(date(1958, 8, 8), 9),
        "",
        "肢体残疾",
        "二级",
        "溪口镇",
        "不存在村",
        "",
        "",
    ],
]

EXPECTED = Expected(
    rows=15,
    stored=9,
    rejected=6,
    needs_review=1,
    rejected_ids_lines=(9, 10, 11, 12, 13, 14),
    stored_ids=frozenset(),
)


def write_gbk_csv(path: Path, *, rows: list[list[str]] = DATA) -> Path:
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([TITLE])
        w.writerow(["导出日期：2024-12-31"])
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def write_utf8_bom_csv(path: Path, *, rows: list[list[str]] = DATA) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, *, rows: list[list[str]] = DATA) -> Path:
    """XLSX with a merged title row, a blank row, then the header; IDs as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([TITLE])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append([])
    ws.append(HEADER)
    for r in rows:
        ws.append([int(c) if i == 0 else c for i, c in enumerate(r)])
    wb.save(path)
    return path


# data-row index (1-based) -> file line, per writer
def gbk_line(data_row: int) -> int:
    return data_row + 3


def xlsx_line(data_row: int) -> int:
    return data_row + 3
