"""Row parsers of the registers: residents, facilities, devices and leads.

Each takes the import's :class:`~planner.ingest.register_context.RegisterContext`
and one row of the file, and returns the row's natural key and the record to
store (with review notes), or raises
:class:`~planner.ingest.register_context.RowError` naming the column, the value
and the reason. Villages rows are parsed in :mod:`planner.ingest.register_villages`.
Pure: no store, no files.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any

from planner.errors import InvalidIdNumber
from planner.ingest import normalize as nz
from planner.ingest.idnumber import IdNumber, parse_id_number
from planner.ingest.readers import RawRow
from planner.ingest.register_context import (
    ConflictError,
    ParsedRow,
    RegisterContext,
    RowError,
    check_near_village,
    parse_field,
    point_of,
    resolve_village,
    soft_field,
)
from planner.store.batches import Problem

__all__ = ["parse_device", "parse_facility", "parse_lead", "parse_resident", "required_id"]

EARLIEST_RETROFIT_YEAR = 1949
#: The yes/no columns of the plan's indicators; with 在读学段, stored only when the
#: file has the column (a register without it keeps what an earlier import stored).
INDICATOR_FLAGS = (
    "pension_insured",
    "medical_insured",
    "family_doctor",
    "rehab_needed",
    "rehab_received",
    "device_needed",
    "culture_sports",
)
_UNKNOWN_CATEGORY = frozenset({"待定", "不详", "未知"})
_LEAD_KEY_DIGITS = 24  # hex digits of the key of a lead without ID number


def required_id(ctx: RegisterContext, row: RawRow) -> IdNumber:
    """The row's ID number, or a rejection saying why it is invalid."""
    raw_id = ctx.raw(row, "id_number")
    try:
        return parse_id_number(raw_id, today=ctx.today)
    except InvalidIdNumber as exc:
        raise RowError(ctx.col("id_number"), ctx.show("id_number", raw_id), str(exc)) from None


def parse_resident(ctx: RegisterContext, row: RawRow) -> ParsedRow:
    """A residents row: keyed by the normalised ID number (sex and birth date from it).

    Raises
    ------
    RowError
        For an invalid ID number, an empty name, or an unknown category or grade.
    """
    reviews: list[Problem] = []
    ident = required_id(ctx, row)
    name = nz.compact(ctx.raw(row, "name"))
    if not name:
        raise RowError(ctx.col("name"), None, "姓名为空")
    category = parse_field(ctx, row, "category", partial(nz.parse_category, lookup=ctx.categories))
    grade = parse_field(ctx, row, "grade", nz.parse_grade)
    sex = soft_field(ctx, row, "sex", nz.parse_sex, reviews)
    if sex is not None and sex != ident.sex:
        reviews.append(
            Problem(
                row.line,
                ctx.col("sex"),
                sex,
                "review",
                f"性别与身份证号不符，按身份证号记为{ident.sex}",
            )
        )
    birth = soft_field(ctx, row, "birth_date", nz.parse_date, reviews)
    if birth is not None and birth != ident.birth_date:
        reviews.append(
            Problem(
                row.line,
                ctx.col("birth_date"),
                birth.isoformat(),
                "review",
                f"出生日期与身份证号不符，按身份证号记为 {ident.birth_date}",
            )
        )
    village_code, town_code, geo = resolve_village(ctx, row, reviews)
    point = check_near_village(ctx, row, point_of(ctx, row, reviews), village_code, reviews)
    b = partial(soft_field, ctx, row, parser=nz.parse_bool, reviews=reviews)
    record: dict[str, Any] = {
        "id_number": ident.number,
        "name": name,
        "sex": ident.sex,
        "birth_date": ident.birth_date,
        "category": category,
        "grade": grade,
        "village_code": village_code,
        "town_code": town_code,
        "address": nz.text(ctx.raw(row, "address")),
        "household_id": soft_field(ctx, row, "household_id", nz.parse_household_id, reviews),
        "phone": soft_field(ctx, row, "phone", nz.parse_phone, reviews),
        "lon": point[0] if point else None,
        "lat": point[1] if point else None,
        "geocode_method": geo.method,
        "geocode_score": round(float(geo.score), 1),
        "living_subsidy": b(fld="living_subsidy"),
        "care_subsidy": b(fld="care_subsidy"),
        "low_income": soft_field(ctx, row, "low_income", nz.parse_low_income, reviews),
        "lives_alone": b(fld="lives_alone"),
        "elderly_carer": b(fld="elderly_carer"),
        "bedridden": b(fld="bedridden"),
        "wheelchair": b(fld="wheelchair"),
        "supervised_medication": b(fld="supervised_medication"),
        "stroke_aftercare": b(fld="stroke_aftercare"),
        "employment": soft_field(ctx, row, "employment", nz.parse_employment, reviews),
        "retrofit_year": soft_field(
            ctx,
            row,
            "retrofit_year",
            partial(nz.parse_int, what="改造年份", low=EARLIEST_RETROFIT_YEAR, high=ctx.today.year),
            reviews,
        ),
        "reassessment_due": soft_field(ctx, row, "reassessment_due", nz.parse_date, reviews),
        "last_visit": soft_field(ctx, row, "last_visit", nz.parse_date, reviews),
    }
    record.update({f: b(fld=f) for f in INDICATOR_FLAGS if ctx.col(f) is not None})
    if ctx.col("lon") is None and ctx.col("lat") is None and row.geometry is None:
        # a register without point columns keeps the household points stored before
        del record["lon"], record["lat"]
    if ctx.col("education_stage") is not None:
        record["education_stage"] = soft_field(
            ctx, row, "education_stage", nz.parse_education_stage, reviews
        )
    return ParsedRow(row.line, ident.number, record, reviews)


def parse_facility(ctx: RegisterContext, row: RawRow) -> ParsedRow:
    """A facilities row: keyed by its 设施编号, else by ``type:name``.

    Located by its point and/or its village; unmapped columns are kept as attributes.

    Raises
    ------
    RowError
        For an empty name, an unknown type, or neither a point nor a village.
    """
    reviews: list[Problem] = []
    name = nz.text(ctx.raw(row, "name"))
    if not name:
        raise RowError(ctx.col("name"), None, "设施名称为空")
    ftype = parse_field(
        ctx, row, "type", partial(nz.parse_facility_type, lookup=ctx.facility_types)
    )
    point = point_of(ctx, row, reviews)
    has_place = any(ctx.raw(row, f) for f in ("town", "village", "address", "village_code"))
    village_code: str | None = None
    town_code: str | None = None
    if has_place:
        sub: list[Problem] = []
        try:
            village_code, town_code, _ = resolve_village(ctx, row, sub)
        except ConflictError:
            raise
        except RowError:
            if point is None:
                raise
        if village_code is None and point is not None:
            village_code = ctx.village_at(*point)
        if village_code is None:
            reviews.extend(sub)
    elif point is not None:
        village_code = ctx.village_at(*point)
        if village_code is None:
            reviews.append(
                Problem(
                    row.line,
                    ctx.col("lon"),
                    f"{point[0]},{point[1]}",
                    "review",
                    "坐标不在任何村社范围内；已入库，待人工指定村社",
                )
            )
    if village_code is not None:
        town_code = ctx.gazetteer.village(village_code).town_code
        point = check_near_village(ctx, row, point, village_code, reviews)
        if point is None:
            point = ctx.village_points.get(village_code)
    if point is None and village_code is None:
        raise RowError(
            ctx.col("village") or ctx.col("lon"),
            name,
            "没有坐标，也无法确定所在村社；请补充经纬度或村社",
        )
    code = nz.compact(ctx.raw(row, "code"))
    key = code or f"{ftype}:{name}"
    used = set(ctx.cmap.fields.values())
    attributes = {k: str(v) for k, v in row.values.items() if k not in used and v is not None}
    for extra in ("star", "notes"):
        if (v := nz.text(ctx.raw(row, extra))) is not None:
            attributes[ctx.col(extra) or extra] = v
    record = {
        "key": key,
        "type": ftype,
        "name": name,
        "village_code": village_code,
        "town_code": town_code,
        "address": nz.text(ctx.raw(row, "address")),
        "lon": point[0] if point else None,
        "lat": point[1] if point else None,
        "capacity": soft_field(ctx, row, "capacity", partial(nz.parse_int, what="容量"), reviews),
        "placed": soft_field(ctx, row, "placed", partial(nz.parse_int, what="在册人数"), reviews),
        "attributes": attributes,
    }
    return ParsedRow(row.line, key, record, reviews)


def parse_device(ctx: RegisterContext, row: RawRow) -> ParsedRow:
    """A devices row: keyed by ID number, device and issue date.

    Raises
    ------
    RowError
        For an invalid ID number, no device, no or a future issue date, or a
        service life that is not a positive number of years.
    """
    ident = required_id(ctx, row)
    device = nz.compact(ctx.raw(row, "device_type"))
    if not device:
        raise RowError(ctx.col("device_type"), None, "辅具名称为空")
    issued = parse_field(ctx, row, "issued_on", nz.parse_date)
    if issued is None:
        raise RowError(ctx.col("issued_on"), None, "发放日期为空")
    if issued > ctx.today:
        raise RowError(ctx.col("issued_on"), issued.isoformat(), "发放日期晚于今天")
    years = parse_field(ctx, row, "service_years", partial(nz.parse_float, what="使用年限"))
    if years is None or years <= 0:
        raise RowError(
            ctx.col("service_years"), ctx.raw(row, "service_years"), "使用年限应为正数（年）"
        )
    reviews: list[Problem] = []
    replaced = soft_field(ctx, row, "replaced_on", nz.parse_date, reviews)
    record = {
        "id_number": ident.number,
        "device_type": device,
        "issued_on": issued,
        "service_years": float(years),
        "replaced_on": replaced,
    }
    return ParsedRow(row.line, f"{ident.number}|{device}|{issued.isoformat()}", record, reviews)


def parse_lead(ctx: RegisterContext, row: RawRow) -> ParsedRow:
    """A leads row: keyed by the ID number when valid, else by a hash of name,
    village and address (a bad ID number is dropped and flagged).

    Raises
    ------
    RowError
        For an empty name, or (per ``[import] unresolved_village``) no village.
    """
    reviews: list[Problem] = []
    name = nz.compact(ctx.raw(row, "name"))
    if not name:
        raise RowError(ctx.col("name"), None, "姓名为空")
    raw_id = ctx.raw(row, "id_number")
    id_number = sex = None
    if nz.compact(raw_id):
        try:
            ident = parse_id_number(raw_id, today=ctx.today)
            id_number, sex = ident.number, ident.sex
        except InvalidIdNumber as exc:
            reviews.append(
                Problem(
                    row.line,
                    ctx.col("id_number"),
                    ctx.show("id_number", raw_id),
                    "review",
                    f"{exc}；身份证号未导入",
                )
            )
    sex = sex or soft_field(ctx, row, "sex", nz.parse_sex, reviews)
    village_code, town_code, _ = resolve_village(ctx, row, reviews)
    category_raw = nz.compact(ctx.raw(row, "suspected_category"))
    category = None
    if category_raw and category_raw not in _UNKNOWN_CATEGORY:
        category = soft_field(
            ctx,
            row,
            "suspected_category",
            partial(nz.parse_category, lookup=ctx.categories),
            reviews,
        )
    address = nz.text(ctx.raw(row, "address"))
    key = (
        id_number
        or "h:"
        + hashlib.sha256(f"{name}|{village_code or town_code}|{address}".encode()).hexdigest()[
            :_LEAD_KEY_DIGITS
        ]
    )
    record = {
        "key": key,
        "name": name,
        "sex": sex,
        "id_number": id_number,
        "village_code": village_code,
        "town_code": town_code,
        "address": address,
        "phone": soft_field(ctx, row, "phone", nz.parse_phone, reviews),
        "suspected_category": category,
        "source": nz.text(ctx.raw(row, "source")),
        "reported_on": soft_field(ctx, row, "reported_on", nz.parse_date, reviews),
        "notes": nz.text(ctx.raw(row, "notes")),
    }
    return ParsedRow(row.line, key, record, reviews)
