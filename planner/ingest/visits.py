"""Read the filled-in route sheets back: file → good visits + problems (nothing stored).

The outreach teams (入户服务队) take the route sheets of
:mod:`planner.reports.route_sheets` out on the day and fill in, per household,
the 结果 (outcome), the 已提供服务 (services delivered) and 备注 (notes).
:func:`read_sheet` reads one such XLSX sheet, matching each row by its 编号 (the
visit key ``R{resident_id}-{date}-{team}`` or ``L{lead_id}-{date}-{team}``):
rows with an empty 结果 are not visited yet; unknown outcomes, services and
keys, services with an outcome other than 完成, future days and repeated keys
are rejected with the Excel row, column and reason. :func:`typed_visit` checks
one visit typed in by hand the same way.

Writing the visits and applying their effects is :mod:`planner.store.visits`;
:func:`planner.services.visits.import_visits` composes the two.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from geo import crs as geocrs
from planner.domain.privacy import MASK_CHAR, mask_id
from planner.domain.visits import (
    EFFECTS,
    KEY_COLUMN,
    MASKED_ID_COLUMN,
    NOTES_COLUMN,
    OUTCOME_COLUMN,
    OUTCOMES,
    POINT_COLUMNS,
    POINT_GCJ_COLUMN,
    POINT_LAT_COLUMN,
    POINT_LON_COLUMN,
    SERVICE_LABELS,
    SERVICES_COLUMN,
    SHEET_COLUMNS,
    VISIT_KEY_RE,
    Visit,
    VisitKey,
    check_visit,
    visit_key,
)
from planner.errors import InputError, VisitError
from planner.ingest import normalize as nz
from planner.ingest.columns import header_key
from planner.ingest.readers import EXCEL_SUFFIXES, RawRow, read_table
from planner.settings import PrivacyConfig
from planner.store.visits import SheetRow
from planner.units import VisitOutcome

__all__ = [
    "EFFECTS",
    "KEY_COLUMN",
    "MASKED_ID_COLUMN",
    "NOTES_COLUMN",
    "OUTCOMES",
    "OUTCOME_COLUMN",
    "SERVICES_COLUMN",
    "SERVICE_LABELS",
    "SHEET_COLUMNS",
    "ParsedSheet",
    "VisitError",
    "VisitKey",
    "VisitProblem",
    "parse_outcome",
    "parse_point",
    "parse_services",
    "parse_visit_key",
    "read_sheet",
    "sheet_files",
    "typed_point",
    "typed_visit",
    "visit_key",
]

_SPLIT_RE = re.compile(r"[,，、;；/|\s]+")
_HEADER_SEARCH_ROWS = 15
_OLD_PHONE_HEADER = "电话（脱敏）"  # the phone column on sheets written before full phones
_KNOWN_HEADERS = frozenset(
    header_key(h)
    for h in (
        *SHEET_COLUMNS,
        "序号",
        "到达时间",
        "姓名",
        "电话",
        "地址",
        "服务项目",
        _OLD_PHONE_HEADER,
    )
)
_POINT_SPLIT_RE = re.compile(r"\s*[,，;；]\s*|\s+")
_OUTCOME_LOOKUP: dict[str, VisitOutcome] = {
    **{k: VisitOutcome(k) for k in OUTCOMES},
    **{v: VisitOutcome(k) for k, v in OUTCOMES.items()},
    "已完成": VisitOutcome.DONE,
    "迁走": VisitOutcome.MOVED,
    "去世": VisitOutcome.DECEASED,
    "已故": VisitOutcome.DECEASED,
    "拒访": VisitOutcome.REFUSED,
}
_SERVICE_LOOKUP = {
    **{k: k for k in SERVICE_LABELS},
    **{v: k for k, v in SERVICE_LABELS.items()},
}


@dataclass(frozen=True)
class VisitProblem:
    """A rejected row (or a warning) of a visit import.

    ``row`` is the Excel row number; ``masked_id`` the person's masked ID number
    when known; ``value`` never holds an unmasked ID or phone number.
    """

    file: str
    row: int
    column: str | None
    value: str | None
    reason: str
    masked_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "masked_id": self.masked_id,
            "reason": self.reason,
        }

    def text(self) -> str:
        where = [self.file, f"第 {self.row} 行"]
        if self.column:
            where.append(f"列「{self.column}」")
        if self.value is not None:
            where.append(f"值「{self.value}」")
        who = f"（{self.masked_id}）" if self.masked_id else ""
        return f"{'，'.join(where)}{who}：{self.reason}"


@dataclass(frozen=True)
class ParsedSheet:
    """One route sheet read back: its good rows and rejected rows, nothing stored yet.

    ``rows``: non-blank data rows; ``blank``: rows with an empty 结果 (not visited
    yet); ``sha256``: of the file's bytes.
    """

    path: Path
    sha256: str
    format: str
    encoding: str | None
    good: tuple[SheetRow, ...]
    problems: tuple[VisitProblem, ...]
    rows: int
    blank: int


# --- values -----------------------------------------------------------------------------


def parse_visit_key(text: object) -> VisitKey:
    """Split a visit key into its parts.

    Raises
    ------
    ValueError
        With a Chinese message when ``text`` is not a visit key.
    """
    s = nz.compact(text)
    m = VISIT_KEY_RE.match(s or "")
    if not s or m is None:
        raise ValueError(
            "编号格式不对（应为 R<人员号>-<日期>-<队> 或 L<线索号>-<日期>-<队>，"
            "如 R123-2026-12-08-A）；请勿修改路线单的编号列"
        )
    kind, num, day, team = m.groups()
    try:
        visited_on = date.fromisoformat(day)
    except ValueError:
        raise ValueError(f"编号中的日期 {day} 无效；请勿修改路线单的编号列") from None
    n = int(num)
    return VisitKey(
        resident_id=n if kind == "R" else None,
        lead_id=n if kind == "L" else None,
        visited_on=visited_on,
        team=team,
    )


def parse_outcome(value: object) -> VisitOutcome | None:
    """An outcome from a key or label (``None`` when blank).

    Raises
    ------
    ValueError
        When the value is none of 完成、不在家、拒绝、迁出、死亡 (or their keys).
    """
    s = nz.compact(value)
    if s is None:
        return None
    key = _OUTCOME_LOOKUP.get(s) or _OUTCOME_LOOKUP.get(s.lower())
    if key is None:
        raise ValueError(f"无法识别的结果「{s}」；应为 {'、'.join(OUTCOMES.values())} 之一")
    return key


def parse_services(value: object) -> tuple[str, ...]:
    """Service keys from keys or labels separated by 、，,;； or spaces.

    Raises
    ------
    ValueError
        Naming the first unknown service.
    """
    if value is not None and not isinstance(value, str):
        value = "、".join(str(x) for x in value if x is not None)  # type: ignore[attr-defined]
    s = nz.text(value)
    items = [p for p in _SPLIT_RE.split(s) if p] if s else []
    out: list[str] = []
    for item in items:
        key = _SERVICE_LOOKUP.get(item) or _SERVICE_LOOKUP.get(item.lower())
        if key is None:
            raise ValueError(
                f"无法识别的服务「{item}」；可填 {'、'.join(SERVICE_LABELS.values())}"
                "（多项用顿号分隔）"
            )
        if key not in out:
            out.append(key)
    return tuple(out)


def _coordinate(value: object, what: str) -> float:
    x = nz.parse_float(value, what=what)
    if x is None or not math.isfinite(x):
        raise ValueError(f"{what}「{value}」不是数字")
    return x


def _checked(lon: float, lat: float, *, crs: str) -> tuple[float, float]:
    """A point in China, converted to WGS-84 (rounded as the registers store them)."""
    if not nz.in_china(lon, lat):
        swapped = "；经度与纬度是否填反？" if nz.in_china(lat, lon) else ""
        raise ValueError(f"坐标 {lon:g},{lat:g} 不在中国境内{swapped}")
    x, y = geocrs.to_wgs84(lon, lat, crs=crs)
    return round(float(x), nz.COORD_DIGITS), round(float(y), nz.COORD_DIGITS)


def parse_point(
    gcj: object, lon: object, lat: object
) -> tuple[tuple[float, float] | None, str | None]:
    """A corrected household point from the sheet's point columns, WGS-84.

    ``gcj``: a GCJ-02 point copied from Amap, ``"121.406,29.660"`` (comma,
    Chinese comma, semicolon or space between); ``lon``/``lat``: WGS-84 degrees.
    One of the two forms, or neither.

    Returns
    -------
    tuple
        The point (or None) and the column it came from (or None).

    Raises
    ------
    ValueError
        ``(column, value, reason)`` in Chinese: not two numbers, only one of
        经度 and 纬度, both forms at once, or a point outside China.
    """
    text = nz.text(gcj)
    x = nz.compact(lon)
    y = nz.compact(lat)
    if text is not None and (x is not None or y is not None):
        raise ValueError(
            POINT_GCJ_COLUMN,
            text,
            f"同时填写了「{POINT_GCJ_COLUMN}」和「{POINT_LON_COLUMN}」「{POINT_LAT_COLUMN}」；"
            "只填一种（高德坐标，或手机 GPS 的经纬度）",
        )
    if text is not None:
        parts = [p for p in _POINT_SPLIT_RE.split(text) if p]
        try:
            if len(parts) != 2:
                raise ValueError("应为「经度,纬度」两个数，如 121.406,29.660（在高德地图长按复制）")
            px = _coordinate(parts[0], "经度")
            py = _coordinate(parts[1], "纬度")
            return _checked(px, py, crs="gcj02"), POINT_GCJ_COLUMN
        except ValueError as exc:
            raise ValueError(POINT_GCJ_COLUMN, text, str(exc)) from None
    if x is None and y is None:
        return None, None
    if x is None or y is None:
        column = POINT_LON_COLUMN if x is None else POINT_LAT_COLUMN
        raise ValueError(
            column,
            None,
            f"只填写了经度或纬度之一；请同时填写「{POINT_LON_COLUMN}」和「{POINT_LAT_COLUMN}」",
        )
    try:
        px = _coordinate(x, "经度")
    except ValueError as exc:
        raise ValueError(POINT_LON_COLUMN, x, str(exc)) from None
    try:
        py = _coordinate(y, "纬度")
    except ValueError as exc:
        raise ValueError(POINT_LAT_COLUMN, y, str(exc)) from None
    try:
        return _checked(px, py, crs="wgs84"), POINT_LON_COLUMN
    except ValueError as exc:
        raise ValueError(POINT_LON_COLUMN, f"{x},{y}", str(exc)) from None


def typed_point(text: str | None, *, crs: str) -> tuple[float, float] | None:
    """A corrected point typed as ``LON,LAT`` in ``crs`` (``wgs84`` or ``gcj02``), WGS-84.

    Raises
    ------
    VisitError
        Naming ``--point`` and the reason (see :func:`parse_point`).
    """
    if nz.text(text) is None:
        return None
    try:
        if crs == "gcj02":
            point, _ = parse_point(text, None, None)
        else:
            parts = [p for p in _POINT_SPLIT_RE.split(nz.text(text) or "") if p]
            if len(parts) != 2:
                raise ValueError(None, text, "应为「经度,纬度」两个数，如 121.406,29.660")
            point, _ = parse_point(None, parts[0], parts[1])
    except ValueError as exc:
        raise VisitError(str(exc.args[-1]), column="--point", value=str(text)) from None
    return point


def typed_visit(
    *,
    resident_id: int | None,
    lead_id: int | None,
    visited_on: date,
    outcome: str,
    services: Iterable[str],
    team: str | None,
    notes: str | None,
    today: date,
    point: tuple[float, float] | None = None,
) -> Visit:
    """One visit typed in by hand, checked like a route-sheet row (people not looked up).

    Raises
    ------
    VisitError
        Naming the option or column at fault: not exactly one of resident and
        lead, an unknown outcome or service, or a broken rule
        (:func:`planner.domain.visits.check_visit`).
    """
    if (resident_id is None) == (lead_id is None):
        raise VisitError("请给出残疾人编号（--resident）或线索编号（--lead）之一，且只给一个")
    try:
        key = parse_outcome(outcome)
    except ValueError as exc:
        raise VisitError(str(exc), column=OUTCOME_COLUMN, value=str(outcome)) from None
    if key is None:
        raise VisitError(f"结果为空；应为 {'、'.join(OUTCOMES.values())} 之一")
    try:
        svc = parse_services(list(services))
    except ValueError as exc:
        raise VisitError(str(exc), column=SERVICES_COLUMN) from None
    v = Visit(
        resident_id=resident_id,
        lead_id=lead_id,
        visited_on=visited_on,
        team=nz.compact(team),
        outcome=key,
        services=svc,
        notes=nz.text(notes),
        point=point,
    )
    bad = check_visit(v, today=today)
    if bad:
        column, value, reason = bad[0]
        raise VisitError(reason, column=column, value=value)
    return v


def _show_masked(value: object, *, privacy: PrivacyConfig | None) -> str | None:
    """The sheet's masked ID, masked again if someone typed a full number."""
    s = nz.compact(value)
    if s is None:
        return None
    return s if MASK_CHAR in s else mask_id(s, privacy=privacy)


# --- sheets -----------------------------------------------------------------------------


def sheet_files(path: Path) -> list[Path]:
    """The sheets to import: ``path`` itself, or every ``.xlsx`` of a directory and of
    its sub-folders one level down (the teams' folders of ``outreach month --out``).

    Raises
    ------
    InputError
        When ``path`` does not exist, or is a directory without sheets.
    """
    if not path.exists():
        raise InputError("文件不存在", file=str(path))
    if path.is_dir():
        here = [path, *sorted(p for p in path.iterdir() if p.is_dir())]
        files = [
            p
            for folder in here
            for p in sorted(folder.iterdir())
            if p.is_file() and p.suffix.lower() in EXCEL_SUFFIXES and not p.name.startswith("~$")
        ]
        if not files:
            raise InputError("目录中没有路线单（.xlsx）", file=str(path))
        return files
    return [path]


def _score(row: list[object]) -> int:
    return sum(1 for c in row if c is not None and header_key(c) in _KNOWN_HEADERS)


def _problem(
    file: str, line: int, masked: str | None, column: str | None, value: object, reason: str
) -> VisitProblem:
    return VisitProblem(
        file=file,
        row=line,
        column=column,
        value=None if value is None else str(value),
        reason=reason,
        masked_id=masked,
    )


class _Sheet:
    """The columns of one sheet and the rows seen so far (to find repeated keys)."""

    def __init__(self, path: Path, headers: list[str], *, today: date) -> None:
        cols = {header_key(h): h for h in headers}
        self.col = {c: cols.get(header_key(c)) for c in (*SHEET_COLUMNS, *POINT_COLUMNS)}
        self.file = path.name
        self.today = today
        self.first: dict[tuple[object, ...], int] = {}

    def cell(self, row: RawRow, name: str) -> Any:
        h = self.col[name]
        return row.values.get(h) if h else None

    def parse_row(
        self, row: RawRow, masked: str | None
    ) -> tuple[Visit | None, str | None, list[VisitProblem]]:
        """The visit of a filled-in row and the column of its corrected point, or the
        problems that reject it."""
        problem = partial(_problem, self.file, row.line, masked)
        bad: list[VisitProblem] = []
        key: VisitKey | None = None
        outcome: VisitOutcome | None = None
        services: tuple[str, ...] = ()
        raw_key = self.cell(row, KEY_COLUMN)
        raw_outcome = self.cell(row, OUTCOME_COLUMN)
        raw_services = self.cell(row, SERVICES_COLUMN)
        try:
            key = parse_visit_key(raw_key)
        except ValueError as exc:
            bad.append(problem(KEY_COLUMN, nz.compact(raw_key), str(exc)))
        try:
            outcome = parse_outcome(raw_outcome)
        except ValueError as exc:
            bad.append(problem(OUTCOME_COLUMN, nz.compact(raw_outcome), str(exc)))
        try:
            services = parse_services(raw_services)
        except ValueError as exc:
            bad.append(problem(SERVICES_COLUMN, nz.text(raw_services), str(exc)))
        point: tuple[float, float] | None = None
        point_column: str | None = None
        try:
            point, point_column = parse_point(
                *(self.cell(row, c) for c in (POINT_GCJ_COLUMN, POINT_LON_COLUMN, POINT_LAT_COLUMN))
            )
        except ValueError as exc:
            column, value, reason = exc.args
            bad.append(problem(column, value, reason))
        if key is None or outcome is None or bad:
            return None, None, bad
        v = Visit(
            resident_id=key.resident_id,
            lead_id=key.lead_id,
            visited_on=key.visited_on,
            team=key.team,
            outcome=outcome,
            services=services,
            notes=nz.text(self.cell(row, NOTES_COLUMN)),
            point=point,
        )
        bad.extend(problem(c, val, reason) for c, val, reason in check_visit(v, today=self.today))
        ident = (v.resident_id, v.lead_id, v.visited_on, v.team)
        if not bad and ident in self.first:
            bad.append(
                problem(KEY_COLUMN, nz.compact(raw_key), f"与第 {self.first[ident]} 行编号重复")
            )
        if bad:
            return None, None, bad
        self.first[ident] = row.line
        return v, point_column, []


def read_sheet(path: Path, *, today: date, privacy: PrivacyConfig | None = None) -> ParsedSheet:
    """Parse one route sheet: its good rows, its problems, its row counts.

    Raises
    ------
    InputError
        When the file cannot be read or is not a route sheet (no 编号 or 结果 column).
    OSError
        When the file cannot be opened.
    """
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    table = read_table(path, score=_score, search_rows=_HEADER_SEARCH_ROWS)
    cols = {header_key(h) for h in table.headers}
    missing = [c for c in (KEY_COLUMN, OUTCOME_COLUMN) if header_key(c) not in cols]
    if missing:
        raise InputError(
            f"不是入户路线单：缺少列「{'」「'.join(missing)}」；"
            "请导入 coverplan 生成的路线单（.xlsx），不要改动表头",
            file=path.name,
            row=table.header_line or None,
        )
    sheet = _Sheet(path, table.headers, today=today)
    good: list[SheetRow] = []
    problems: list[VisitProblem] = []
    blank = 0
    for row in table.rows:
        masked = _show_masked(sheet.cell(row, MASKED_ID_COLUMN), privacy=privacy)
        if nz.compact(sheet.cell(row, OUTCOME_COLUMN)) is None:
            pointed = [c for c in POINT_COLUMNS if nz.compact(sheet.cell(row, c)) is not None]
            if pointed and nz.compact(sheet.cell(row, SERVICES_COLUMN)) is None:
                problems.append(
                    _problem(
                        path.name,
                        row.line,
                        masked,
                        OUTCOME_COLUMN,
                        None,
                        f"填写了「{pointed[0]}」，但结果为空；请选择结果（完成、不在家…）",
                    )
                )
            elif nz.compact(sheet.cell(row, SERVICES_COLUMN)) is not None:
                problems.append(
                    _problem(
                        path.name,
                        row.line,
                        masked,
                        OUTCOME_COLUMN,
                        None,
                        "填写了已提供服务，但结果为空；请选择结果（完成、不在家…）",
                    )
                )
            else:
                blank += 1
            continue
        visit, point_column, bad = sheet.parse_row(row, masked)
        problems.extend(bad)
        if visit is not None:
            good.append(SheetRow(row.line, visit, masked, point_column))
    return ParsedSheet(
        path=path,
        sha256=digest,
        format=table.format,
        encoding=table.encoding,
        good=tuple(good),
        problems=tuple(problems),
        rows=len(table.rows),
        blank=blank,
    )
