"""Parse a register file: file → validated rows + problems (``coverplan import KIND FILE``).

:func:`read_register` reads the file and checks it as a whole (readable, the
required columns present, not the columns of another kind);
:func:`parse_rows` parses every row against the district
(:class:`~planner.ingest.register_context.RegisterLookups`): rows that cannot be
used are rejected with line, column, value and reason; rows that are usable but
doubtful (e.g. the village cannot be resolved) are kept flagged for review;
rows with one natural key are reduced to one (exact repeats) or all rejected
(conflicting data). :func:`prepare_rows` finishes the rows inside the write
transaction against what is stored (villages geometry, the residents a device
belongs to). Writing is :mod:`planner.store.registers`;
:func:`planner.services.imports.import_file` composes the steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from geo.gazetteer import DISTRICT_CODE_LEN, VILLAGE_CODE_LEN
from planner.domain.privacy import mask_id
from planner.errors import InputError, InvalidIdNumber
from planner.ingest import normalize as nz
from planner.ingest.columns import (
    FIELDS,
    KINDS,
    ColumnMap,
    Kind,
    best_header_score,
    map_columns,
    other_kind,
    score_header,
)
from planner.ingest.idnumber import parse_id_number
from planner.ingest.readers import RawRow, RawTable, read_table
from planner.ingest.register_context import (
    ConflictError,
    ParsedRow,
    RegisterContext,
    RegisterLookups,
    RowError,
)
from planner.ingest.register_rows import parse_device, parse_facility, parse_lead, parse_resident
from planner.ingest.register_villages import merge_villages, parse_village
from planner.settings import Config
from planner.store.batches import Problem
from planner.store.registers import RegisterRow, StoredFacts

__all__ = [
    "KIND_LABELS",
    "ParsedRegister",
    "Problem",
    "RegisterLookups",
    "RegisterTable",
    "check_kind",
    "parse_rows",
    "prepare_rows",
    "read_register",
]

KIND_LABELS = {
    "residents": "残疾人名册",
    "facilities": "设施",
    "villages": "村社",
    "devices": "辅具",
    "leads": "疑似未持证线索",
}
# Unmapped columns that only number the rows: two rows differing only there are
# the same record.
_ROW_NUMBER_COLUMNS = frozenset({"序号", "行号", "no", "no."})
# Record fields computed from other columns: which columns a difference points to.
_PLACE_FIELDS = ("town", "village", "address", "village_code")
_DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "village_code": _PLACE_FIELDS,
    "town_code": _PLACE_FIELDS,
    "geocode_method": _PLACE_FIELDS,
    "geocode_score": _PLACE_FIELDS,
    "sex": ("sex", "id_number"),
    "birth_date": ("birth_date", "id_number"),
    "device_type": ("device_type",),
}
_FIELD_WORDS = {
    "polygon": "边界",
    "synthetic": "数据说明",
    "aliases": "别名",
    "attributes": "其他列",
    "lon": "坐标",
    "lat": "坐标",
}
ROW_PARSERS: dict[str, Callable[[RegisterContext, RawRow], ParsedRow]] = {
    "residents": parse_resident,
    "facilities": parse_facility,
    "villages": parse_village,
    "devices": parse_device,
    "leads": parse_lead,
}


@dataclass(frozen=True)
class RegisterTable:
    """A register file read and checked as a whole (its rows not yet parsed)."""

    path: Path
    kind: Kind
    table: RawTable
    cmap: ColumnMap
    sha256: str


@dataclass(frozen=True)
class ParsedRegister:
    """A register file parsed: one good row per natural key, and the rejected rows.

    ``rows`` counts the file's data rows; ``crs`` is the normalised name of the
    coordinate system of its lon/lat values.
    """

    file: RegisterTable
    crs: str
    rows: int
    good: tuple[ParsedRow, ...]
    rejected: tuple[Problem, ...]


def check_kind(kind: str) -> None:
    """Refuse a kind of register that cannot be imported.

    Raises
    ------
    InputError
        Naming the kinds that can.
    """
    if kind not in KINDS:
        raise InputError(f"不支持的导入类型「{kind}」；可用：{'、'.join(KINDS)}")


def read_register(path: Path, kind: Kind, *, config: Config) -> RegisterTable:
    """Read a register file of ``kind`` and check its columns.

    Parameters
    ----------
    path
        CSV (UTF-8/GBK/GB18030, detected), XLSX/XLS, or for villages and
        facilities GeoJSON/GeoPackage/Shapefile.
    kind
        ``residents``, ``facilities``, ``villages``, ``devices`` or ``leads``.
    config
        ``[import] header_search_rows``: leading rows searched for the header.

    Raises
    ------
    InputError
        When the kind is unknown, the file cannot be read, lacks required
        columns, or has the columns of another kind (a residents register
        given as villages).
    """
    check_kind(kind)
    table = _read(path, kind, search_rows=config.import_.header_search_rows)
    cmap = map_columns(kind, table.headers)
    has_points = any(r.geometry is not None for r in table.rows)
    given = frozenset({"lon", "lat"}) if has_points else frozenset()
    guess = other_kind(kind, table.headers, also=given)
    if guess is not None:
        raise InputError(
            f"该文件含 {guess.shown()} 等列，像是{KIND_LABELS[guess.kind]}，"
            f"不是{KIND_LABELS[kind]}；请用 coverplan import {guess.kind}（未写入任何数据）",
            file=path.name,
        )
    missing = cmap.missing(kind, also=given)
    if missing:
        names = "；".join(" 或 ".join(FIELDS[kind][f][0] for f in group) for group in missing)
        raise InputError(
            f"缺少必需的列：{names}（列名对照见 README）",
            file=path.name,
            row=table.header_line or None,
        )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return RegisterTable(path=path, kind=kind, table=table, cmap=cmap, sha256=digest)


def parse_rows(
    file: RegisterTable,
    *,
    lookups: RegisterLookups,
    config: Config,
    crs: str = "wgs84",
    today: date,
) -> ParsedRegister:
    """Parse every row of ``file`` against the district.

    Parameters
    ----------
    file
        The file, read by :func:`read_register`.
    lookups
        The district's gazetteer, manual corrections and village geometry.
    config
        Categories, facility types, ``[geocode]`` and ``[import]`` settings.
    crs
        Coordinate system of lon/lat values and geometries: ``wgs84``,
        ``gcj02`` or ``bd09``; stored points are always WGS-84.
    today
        The current day (ages, dates in the future).

    Raises
    ------
    CRSError
        When ``crs`` is unknown.
    """
    ctx = RegisterContext(
        lookups=lookups,
        config=config,
        kind=file.kind,
        crs=crs,
        cmap=file.cmap,
        file=file.path.name,
        today=today,
    )
    parse = ROW_PARSERS[file.kind]
    problems: list[Problem] = []
    by_key: dict[str, list[ParsedRow]] = {}
    for row in file.table.rows:
        try:
            parsed = parse(ctx, _identifiers_agree(ctx, row))
        except RowError as err:
            problems.append(Problem(row.line, err.column, err.value, "rejected", err.reason))
            continue
        parsed.values = row.values
        by_key.setdefault(parsed.key, []).append(parsed)
    good = _unique_rows(ctx, by_key, problems)
    return ParsedRegister(
        file=file,
        crs=ctx.crs,
        rows=len(file.table.rows),
        good=tuple(good),
        rejected=tuple(problems),
    )


def prepare_rows(
    parsed: ParsedRegister,
    facts: StoredFacts,
    *,
    config: Config,
    replace: bool = False,
) -> tuple[list[RegisterRow], list[Problem]]:
    """The rows to store and every problem of the file, given what is stored.

    Villages rows get their geometry merged with the stored one; devices of a
    person not in the register are rejected; residents, facilities and leads
    carry their review flag and reason. Problems are sorted by line, rejections
    first.

    Raises
    ------
    InputError
        Villages: when the file would overwrite more than ``[import]
        geometry_replace_share`` of the real geometry and ``replace`` is False.
    """
    kind = parsed.file.kind
    good = list(parsed.good)
    problems = list(parsed.rejected)
    if kind == "villages":
        merge_villages(
            good, facts.villages, config=config, replace=replace, file=parsed.file.path.name
        )
    if kind == "devices":
        column = parsed.file.cmap.fields.get("id_number")
        kept = []
        for p in good:
            if p.record["id_number"] in facts.residents:
                kept.append(p)
                continue
            problems.append(
                Problem(
                    p.line,
                    column,
                    mask_id(p.record["id_number"], privacy=config.privacy),
                    "rejected",
                    "该身份证号不在残疾人名册中；请先导入名册",
                )
            )
        good = kept
    rows = [
        RegisterRow(p.line, p.key, _record(kind, p, facts), reviewed=bool(p.reviews)) for p in good
    ]
    problems.extend(r for p in good for r in p.reviews)
    problems.sort(key=lambda p: (p.line, p.action))
    return rows, problems


def _record(kind: str, parsed: ParsedRow, facts: StoredFacts) -> dict[str, Any]:
    rec = dict(parsed.record)
    if kind == "devices":
        rec["resident_id"] = facts.residents[rec.pop("id_number")]
    if kind in ("residents", "facilities", "leads"):
        rec["needs_review"] = bool(parsed.reviews)
        rec["review_reason"] = "；".join(p.reason for p in parsed.reviews) or None
    return rec


# --- file-level checks ---------------------------------------------------------------


def _read(path: Path, kind: Kind, *, search_rows: int) -> RawTable:
    """Read the file; when no header of ``kind`` is found but one of another kind
    is, say which kind the file looks like."""
    try:
        return read_table(path, score=partial(score_header, kind), search_rows=search_rows)
    except InputError as err:
        try:
            table = read_table(path, score=best_header_score, search_rows=search_rows)
        except InputError:
            raise err from None
        guess = other_kind(kind, table.headers)
        if guess is None:
            raise
        raise InputError(
            f"该文件含 {guess.shown()} 等列，像是{KIND_LABELS[guess.kind]}，"
            f"不是{KIND_LABELS[kind]}；请用 coverplan import {guess.kind}（未写入任何数据）",
            file=path.name,
        ) from None


def _identifier_value(ctx: RegisterContext, fld: str, text: str) -> str:
    """An identifier normalised for comparison (ID numbers as 18 characters,
    village codes with a former district prefix made current)."""
    if fld == "id_number":
        try:
            return parse_id_number(text, today=ctx.today).number
        except InvalidIdNumber:
            return text.upper()
    code = text.removesuffix(".0")
    head = code[:DISTRICT_CODE_LEN]
    if len(code) == VILLAGE_CODE_LEN and head in ctx.gazetteer.former_codes:
        return ctx.gazetteer.district_code + code[DISTRICT_CODE_LEN:]
    return code


def _identifiers_agree(ctx: RegisterContext, row: RawRow) -> RawRow:
    """Check that the columns naming one identifier (身份证号 and 公民身份号码) agree.

    Returns the row, with an empty first column filled from the others.

    Raises
    ------
    ConflictError
        When two of them hold different values: which one is right is unknown.
    """
    if not ctx.cmap.alternates:
        return row
    values = row.values
    for fld, alternates in ctx.cmap.alternates.items():
        first = ctx.cmap.fields[fld]
        filled = [
            (col, text, _identifier_value(ctx, fld, text))
            for col in (first, *alternates)
            if (text := nz.compact(values.get(col)))
        ]
        for col, text, norm in filled[1:]:
            if norm != filled[0][2]:
                col0, text0 = filled[0][0], filled[0][1]
                raise ConflictError(
                    col,
                    ctx.show(fld, text),
                    f"列「{col0}」（{ctx.show(fld, text0)}）与列「{col}」（{ctx.show(fld, text)}）"
                    "不一致；无法确定哪个正确，本行未导入，请只保留正确的一列或改成一致",
                )
        if filled and not nz.compact(values.get(first)):
            values = {**values, first: filled[0][1]}
    return row if values is row.values else RawRow(row.line, values, row.geometry)


def _key_words(kind: str, parsed: ParsedRow) -> str:
    """What the natural key of a row is, in words."""
    if kind == "residents":
        return "身份证号"
    if kind == "devices":
        return "身份证号、辅具名称和发放日期"
    if kind == "villages":
        return "村社代码"
    if kind == "leads":
        return "身份证号" if parsed.record.get("id_number") else "姓名、村社和地址"
    return (
        "设施编号"
        if not parsed.key.startswith(f"{parsed.record.get('type')}:")
        else "设施类型和名称"
    )


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    rec = dict(record)
    if isinstance(rec.get("attributes"), dict):
        rec["attributes"] = {
            k: v
            for k, v in rec["attributes"].items()
            if k.strip().lower() not in _ROW_NUMBER_COLUMNS
        }
    return rec


def _differing_columns(ctx: RegisterContext, a: ParsedRow, b: ParsedRow) -> list[str]:
    """The file's columns (or, for geometry, words) in which two rows differ."""
    ra, rb = _comparable(a.record), _comparable(b.record)
    out: list[str] = []
    for fld in ra.keys() | rb.keys():
        if ra.get(fld) == rb.get(fld):
            continue
        if fld == "attributes":
            keys = set(ra.get(fld) or {}) | set(rb.get(fld) or {})
            out += [k for k in keys if (ra.get(fld) or {}).get(k) != (rb.get(fld) or {}).get(k)]
            continue
        sources = _DERIVED_FROM.get(fld, (fld,))
        cols = [c for src in sources if (c := ctx.col(src))]
        if len(cols) > 1:  # derived: point to the source columns that differ
            cols = [c for c in cols if nz.text(a.values.get(c)) != nz.text(b.values.get(c))] or cols
        out += cols or [_FIELD_WORDS.get(fld, fld)]
    order = {h: i for i, h in enumerate(ctx.cmap.fields.values())}
    return sorted(set(out), key=lambda c: (order.get(c, len(order)), c))


def _unique_rows(
    ctx: RegisterContext, by_key: dict[str, list[ParsedRow]], problems: list[Problem]
) -> list[ParsedRow]:
    """One row per natural key.

    Exact duplicates keep the first row (the others are reported). Rows with one
    key but different data are all rejected, each naming the other lines and the
    columns that differ: which of them is right is unknown.
    """
    good: list[ParsedRow] = []
    key_col = {
        "residents": "id_number",
        "devices": "id_number",
        "villages": "code",
        "leads": "id_number",
        "facilities": "code",
    }[ctx.kind]
    for rows in by_key.values():
        first = rows[0]
        if len(rows) == 1:
            good.append(first)
            continue
        what = _key_words(ctx.kind, first)
        if all(_comparable(r.record) == _comparable(first.record) for r in rows[1:]):
            good.append(first)
            problems.extend(
                Problem(
                    r.line, None, None, "rejected", f"与第 {first.line} 行{what}重复，本行未导入"
                )
                for r in rows[1:]
            )
            continue
        for r in rows:
            others = [o for o in rows if o is not r]
            differ: list[str] = []
            for o in others:
                differ += [c for c in _differing_columns(ctx, r, o) if c not in differ]
            lines = "、".join(str(o.line) for o in others)
            raw_key = r.record.get(key_col)
            problems.append(
                Problem(
                    r.line,
                    ctx.col(key_col),
                    ctx.show(key_col, raw_key) if raw_key is not None else None,
                    "rejected",
                    f"与第 {lines} 行{what}相同，但 {'、'.join(differ)} 不同；"
                    "无法确定哪行正确，这些行都未导入，请删去错误的行",
                )
            )
    good.sort(key=lambda p: p.line)
    return good
