"""Import registers and geodata into the store: ``coverplan import KIND FILE``.

One transaction per file stores every good row (upsert by its natural key: the
normalised ID number for residents), the batch record and every problem row; a
failure anywhere leaves the store as it was. Rows that cannot be used are
rejected with line, column, value and reason; rows that are usable but doubtful
(e.g. the village cannot be resolved) are stored flagged ``needs_review``. Every
problem is reported, in Chinese, in the report file.

Counts: ``rows`` = non-blank data rows; ``stored`` = rows accepted into the store
(``inserted`` + ``updated`` + ``unchanged``), including those flagged for review;
``stored + rejected == rows`` always.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from geo import crs as geocrs
from geo.geocode import AMBIGUOUS, MATCHED, OUTSIDE, Geocoder, GeocodeResult
from geo.graph import haversine_m
from planner.errors import InputError
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
from planner.ingest.idnumber import IdNumber, InvalidIdNumber, mask_id, mask_phone, parse_id_number
from planner.ingest.readers import RawRow, RawTable, read_table
from planner.settings import Config, get_config
from planner.store import schema as t
from planner.store.core import Store, audit

Action = Literal["rejected", "review"]
_SENSITIVE_FIELDS = {"id_number": mask_id, "phone": mask_phone}
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)
_METRES_PER_KM = 1000.0
_KM_PER_DEGREE = 111.32  # one degree of latitude (and of longitude at the equator)
_VILLAGE_CODE_LEN = 12
_DISTRICT_CODE_LEN = 6
_WRITE_CHUNK = 2000
_KIND_LABELS = {
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


@dataclass(frozen=True)
class Problem:
    """A rejected row, or a stored row flagged for review."""

    line: int
    column: str | None
    value: str | None
    action: Action
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did. ``to_json`` gives the CLI's ``--json`` object."""

    kind: str
    file: str
    format: str
    encoding: str | None
    crs: str
    rows: int
    stored: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    needs_review: int
    report: Path | None
    batch_id: int
    problems: tuple[Problem, ...]
    ignored_columns: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "encoding": self.encoding,
            "rows": self.rows,
            "stored": self.stored,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "needs_review": self.needs_review,
            "report": str(self.report) if self.report else None,
            "kind": self.kind,
            "format": self.format,
            "crs": self.crs,
            "inserted": self.inserted,
            "batch_id": self.batch_id,
            "ignored_columns": list(self.ignored_columns),
        }

    def summary(self) -> str:
        """One paragraph in Chinese for the terminal."""
        label = _KIND_LABELS.get(self.kind, self.kind)
        enc = f"，编码 {self.encoding}" if self.encoding else ""
        lines = [
            f"导入{label}：{self.file}（{self.format}{enc}，坐标系 {self.crs}）",
            f"  数据行 {self.rows}：入库 {self.stored}（新增 {self.inserted}，更新 {self.updated}，"
            f"未变 {self.unchanged}），其中待核查 {self.needs_review}；拒绝 {self.rejected}",
        ]
        if self.ignored_columns:
            lines.append(f"  未使用的列：{'、'.join(self.ignored_columns)}")
        if self.report:
            lines.append(f"  问题清单：{self.report}")
        return "\n".join(lines)


class _RowError(Exception):
    def __init__(self, column: str | None, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = None if value is None else str(value)
        self.reason = reason


class _ConflictError(_RowError):
    """Two identifiers of one row disagree: the row is rejected, whatever else it has."""


@dataclass
class _Parsed:
    line: int
    key: str
    record: dict[str, Any]
    reviews: list[Problem] = field(default_factory=list)
    geometry: _VillageGeometry | None = None  # villages only: what the row gives
    values: dict[str, Any] = field(default_factory=dict)  # the row's cells


@dataclass(frozen=True)
class _VillageGeometry:
    """The geometry a villages row gives; merged with the stored one when written."""

    point: tuple[float, float] | None  # given as lon/lat or a Point geometry
    polygon: str | None  # GeoJSON text, WGS-84
    shape: Any  # the polygon as a shapely geometry (None without polygon)
    synthetic: bool

    @property
    def given(self) -> bool:
        return self.point is not None or self.polygon is not None


class _Context:
    """Per-import state: configuration, geocoder, caches, point lookups."""

    def __init__(
        self,
        *,
        store: Store,
        config: Config,
        kind: Kind,
        crs: str,
        cmap: ColumnMap,
        file: str,
        today: date,
    ) -> None:
        self.store = store
        self.config = config
        self.kind = kind
        self.crs = geocrs.parse_crs(crs)
        self.cmap = cmap
        self.file = file
        self.today = today
        self.gazetteer = store.gazetteer()
        self.geocoder = Geocoder(
            self.gazetteer,
            corrections=store.corrections(),
            fuzzy_min_score=config.geocode.fuzzy_min_score,
            fuzzy_margin=config.geocode.fuzzy_margin,
        )
        self.categories = nz.category_lookup(config)
        self.facility_types = nz.facility_type_lookup(config)
        self._geocode_cache: dict[tuple[str | None, ...], GeocodeResult] = {}
        self.town_codes = {tw.code for tw in self.gazetteer.towns}
        self.village_points: dict[str, tuple[float, float]] = {
            v.code: (v.lon, v.lat)
            for v in self.gazetteer.villages
            if v.lon is not None and v.lat is not None
        }
        self._polygons: Any = None
        self._area: list[tuple[float, float, float, float] | None] = []  # [] until computed

    def col(self, fld: str) -> str | None:
        return self.cmap.fields.get(fld)

    def raw(self, row: RawRow, fld: str) -> Any:
        col = self.col(fld)
        return row.values.get(col) if col else None

    def names_only(self, row: RawRow) -> GeocodeResult | None:
        """The village named by the row's town and village columns alone (no code,
        no address), or None when the row names none."""
        town, village = nz.text(self.raw(row, "town")), nz.text(self.raw(row, "village"))
        if not town and not village:
            return None
        key = ("names", town, village)
        hit = self._geocode_cache.get(key)
        if hit is None:
            hit = self.geocoder.geocode_parts(town=town, village=village)
            self._geocode_cache[key] = hit
        return hit

    def area(self) -> tuple[float, float, float, float] | None:
        """The district's plausible area: the box around every stored village point
        and boundary, widened by ``[import] village_area_margin_km`` (WGS-84
        min lon, min lat, max lon, max lat); None while no village has geometry."""
        if not self._area:
            import shapely
            from shapely.geometry import shape

            with self.store.read() as s:
                rows = s.execute(select(t.Village.lon, t.Village.lat, t.Village.polygon)).all()
            xs: list[float] = []
            ys: list[float] = []
            for lon, lat, poly in rows:
                if lon is not None and lat is not None:
                    xs.append(lon)
                    ys.append(lat)
                if poly:
                    x0, y0, x1, y1 = shapely.bounds(shape(json.loads(poly)))
                    xs += [x0, x1]
                    ys += [y0, y1]
            if not xs:
                self._area = [None]
            else:
                margin = self.config.import_.village_area_margin_km
                dlat = margin / _KM_PER_DEGREE
                mid = np.radians((min(ys) + max(ys)) / 2)
                dlon = margin / (_KM_PER_DEGREE * max(float(np.cos(mid)), 1e-6))
                self._area = [(min(xs) - dlon, min(ys) - dlat, max(xs) + dlon, max(ys) + dlat)]
        return self._area[0]

    def district_label(self) -> str:
        return f"{self.gazetteer.district_name}（{self.gazetteer.district_code}）"

    def geocode(self, row: RawRow) -> GeocodeResult:
        parts = tuple(
            nz.text(self.raw(row, f)) for f in ("town", "village", "address", "village_code")
        )
        hit = self._geocode_cache.get(parts)
        if hit is None:
            hit = self.geocoder.geocode_parts(
                town=parts[0], village=parts[1], address=parts[2], village_code=parts[3]
            )
            self._geocode_cache[parts] = hit
        return hit

    def village_at(self, lon: float, lat: float) -> str | None:
        """The village whose polygon contains the point (None without polygons)."""
        if self._polygons is None:
            import shapely
            from shapely.geometry import shape

            with self.store.read() as s:
                rows = s.execute(select(t.Village.code, t.Village.polygon)).all()
            codes = [c for c, p in rows if p]
            geoms = [shape(json.loads(p)) for c, p in rows if p]
            self._polygons = (codes, shapely.STRtree(geoms) if geoms else None)
        codes, tree = self._polygons
        if tree is None:
            return None
        import shapely

        hits = tree.query(shapely.Point(lon, lat), predicate="within")
        return codes[int(hits[0])] if len(hits) == 1 else None


def _hash(record: dict[str, Any]) -> str:
    payload = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _field(ctx: _Context, row: RawRow, fld: str, parser: Callable[[Any], Any]) -> Any:
    """Parse one field; a parser ValueError becomes a row rejection."""
    value = ctx.raw(row, fld)
    try:
        return parser(value)
    except ValueError as exc:
        raise _RowError(ctx.col(fld), value, str(exc)) from None


def _soft(
    ctx: _Context, row: RawRow, fld: str, parser: Callable[[Any], Any], reviews: list[Problem]
) -> Any:
    """Parse a non-essential field; a bad value is dropped and flagged for review."""
    value = ctx.raw(row, fld)
    try:
        return parser(value)
    except ValueError as exc:
        reviews.append(
            Problem(row.line, ctx.col(fld), _show(fld, value), "review", f"{exc}；该项未导入")
        )
        return None


def _show(fld: str, value: object) -> str | None:
    if value is None:
        return None
    masker = _SENSITIVE_FIELDS.get(fld)
    text = str(value)
    return masker(nz.compact(text) or text) if masker else text


def _point(ctx: _Context, row: RawRow, reviews: list[Problem]) -> tuple[float, float] | None:
    lon = _soft(ctx, row, "lon", partial(nz.parse_float, what="经度"), reviews)
    lat = _soft(ctx, row, "lat", partial(nz.parse_float, what="纬度"), reviews)
    if row.geometry is not None and getattr(row.geometry, "geom_type", "") == "Point":
        lon, lat = row.geometry.x, row.geometry.y
    if lon is None or lat is None:
        return None
    if not (_CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1]):
        reviews.append(
            Problem(
                row.line,
                ctx.col("lon"),
                f"{lon},{lat}",
                "review",
                "坐标不在中国境内（经纬度是否写反？）；该坐标未导入",
            )
        )
        return None
    x, y = geocrs.to_wgs84(lon, lat, crs=ctx.crs)
    return round(float(x), 7), round(float(y), 7)


def _check_near_village(
    ctx: _Context,
    row: RawRow,
    point: tuple[float, float] | None,
    village_code: str | None,
    reviews: list[Problem],
) -> tuple[float, float] | None:
    if point is None or village_code is None:
        return point
    ref = ctx.village_points.get(village_code)
    if ref is None:
        return point
    limit = ctx.config.import_.household_point_max_km
    dist = float(haversine_m(point[0], point[1], ref[0], ref[1])) / _METRES_PER_KM
    if dist > limit:
        reviews.append(
            Problem(
                row.line,
                ctx.col("lon"),
                f"{point[0]},{point[1]}",
                "review",
                f"坐标距所属村社 {dist:.1f} 公里，超过 {limit:g} 公里"
                "（坐标系是否选对？）；该坐标未导入",
            )
        )
        return None
    return point


def _resolve_village(
    ctx: _Context, row: RawRow, reviews: list[Problem]
) -> tuple[str | None, str | None, GeocodeResult]:
    """Village and town code of a row, or a review/reject per configuration.

    Raises
    ------
    _ConflictError
        When the row's village code is of another district, or names another
        village than its town and village columns.
    """
    _check_village_code(ctx, row)
    res = ctx.geocode(row)
    if res.status == MATCHED and res.village_code:
        return res.village_code, res.town_code, res
    shown = "/".join(
        str(v) for f in ("town", "village", "address") if (v := ctx.raw(row, f)) is not None
    )
    column = ctx.col("village") or ctx.col("address") or ctx.col("village_code")
    if res.status == OUTSIDE:
        column = ctx.col("address") or column
        reason = f"地址在本库{ctx.district_label()}以外（区外）"
        if ctx.config.import_.unresolved_village == "reject":
            raise _RowError(column, shown, f"{reason}；请核对地址，或导入到该地所属区县的数据库")
        reviews.append(Problem(row.line, column, shown, "review", f"{reason}；已入库，待人工核查"))
        return None, None, res
    if res.status == AMBIGUOUS:
        names = "、".join(_village_label(ctx, c) for c in res.candidates[:5])
        reason = f"村社有歧义（可能是 {names}）"
    else:
        reason = "找不到对应的村社"
    if ctx.config.import_.unresolved_village == "reject":
        raise _RowError(column, shown, f"{reason}；请填写正确的镇街和村社")
    reviews.append(Problem(row.line, column, shown, "review", f"{reason}；已入库，待人工指定村社"))
    return None, res.town_code, res


def _code_digits(value: object) -> str | None:
    """A code cell as digits (``330213100225.0`` from Excel → ``330213100225``)."""
    text = nz.compact(value)
    return text.removesuffix(".0") if text else None


def _district_of(ctx: _Context, code: str, column: str | None) -> str:
    """``code`` with a former district prefix made current; another district's code
    is a conflict (we cannot tell whether the code or the names are right)."""
    gaz = ctx.gazetteer
    head = code[:_DISTRICT_CODE_LEN]
    if head in gaz.former_codes:
        return gaz.district_code + code[_DISTRICT_CODE_LEN:]
    if head != gaz.district_code:
        raise _ConflictError(
            column,
            code,
            f"村社代码 {code} 属于其他区县（前 6 位 {head}），不是本库的{ctx.district_label()}；"
            "请核对代码，本行未导入",
        )
    return code


def _check_village_code(ctx: _Context, row: RawRow) -> None:
    """Reject a row whose explicit village code is of another district or names
    another village than the row's own town and village columns."""
    column = ctx.col("village_code")
    code = _code_digits(ctx.raw(row, "village_code"))
    if column is None or code is None:
        return
    if not (code.isdigit() and len(code) == _VILLAGE_CODE_LEN):
        return  # not a code: the names decide, as before
    current = _district_of(ctx, code, column)
    if not ctx.gazetteer.has_village(current):
        return
    named = ctx.names_only(row)
    if named is None or named.status == OUTSIDE:
        return
    town = ctx.gazetteer.village(current).town_code
    by_town = _village_by_name(ctx, nz.text(ctx.raw(row, "town")), None)
    if named.status == MATCHED:
        clash = named.village_code != current
    elif named.status == AMBIGUOUS and named.candidates:
        clash = current not in named.candidates
    else:
        clash = False
    clash = clash or named.town_code not in (None, town)
    if by_town is not None and by_town.town_code not in (None, town):
        clash = True
        named = by_town
    if not clash:
        return
    names = " ".join(
        str(v) for f in ("town", "village") if (v := nz.text(ctx.raw(row, f))) is not None
    )
    if named.status == MATCHED and named.village_code:
        meant = f"，指向{_village_label(ctx, named.village_code)}"
    elif named.town_code:
        meant = f"，在{ctx.gazetteer.town(named.town_code).name}"
    else:
        meant = ""
    raise _ConflictError(
        column,
        code,
        f"村社代码 {code} 是{_village_label(ctx, current)}，与本行的镇街/村社「{names}」"
        f"不一致{meant}；无法确定哪个正确，本行未导入，请更正代码或名称",
    )


def _village_label(ctx: _Context, code: str) -> str:
    try:
        v = ctx.gazetteer.village(code)
        return f"{ctx.gazetteer.town(v.town_code).name}{v.name}"
    except Exception:
        return code


# --- per-kind row parsers -------------------------------------------------------------


def _required_id(ctx: _Context, row: RawRow) -> IdNumber:
    """The row's ID number, or a rejection saying why it is invalid."""
    raw_id = ctx.raw(row, "id_number")
    try:
        return parse_id_number(raw_id, today=ctx.today)
    except InvalidIdNumber as exc:
        raise _RowError(ctx.col("id_number"), _show("id_number", raw_id), str(exc)) from None


def _parse_resident(ctx: _Context, row: RawRow) -> _Parsed:
    reviews: list[Problem] = []
    ident = _required_id(ctx, row)
    name = nz.compact(ctx.raw(row, "name"))
    if not name:
        raise _RowError(ctx.col("name"), None, "姓名为空")
    category = _field(ctx, row, "category", partial(nz.parse_category, lookup=ctx.categories))
    grade = _field(ctx, row, "grade", nz.parse_grade)
    sex = _soft(ctx, row, "sex", nz.parse_sex, reviews)
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
    birth = _soft(ctx, row, "birth_date", nz.parse_date, reviews)
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
    village_code, town_code, geo = _resolve_village(ctx, row, reviews)
    point = _check_near_village(ctx, row, _point(ctx, row, reviews), village_code, reviews)
    b = partial(_soft, ctx, row, parser=nz.parse_bool, reviews=reviews)
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
        "phone": _soft(ctx, row, "phone", nz.parse_phone, reviews),
        "lon": point[0] if point else None,
        "lat": point[1] if point else None,
        "geocode_method": geo.method,
        "geocode_score": round(float(geo.score), 1),
        "living_subsidy": b(fld="living_subsidy"),
        "care_subsidy": b(fld="care_subsidy"),
        "low_income": _soft(ctx, row, "low_income", nz.parse_low_income, reviews),
        "lives_alone": b(fld="lives_alone"),
        "elderly_carer": b(fld="elderly_carer"),
        "bedridden": b(fld="bedridden"),
        "wheelchair": b(fld="wheelchair"),
        "supervised_medication": b(fld="supervised_medication"),
        "stroke_aftercare": b(fld="stroke_aftercare"),
        "employment": _soft(ctx, row, "employment", nz.parse_employment, reviews),
        "retrofit_year": _soft(
            ctx,
            row,
            "retrofit_year",
            partial(nz.parse_int, what="改造年份", low=1949, high=ctx.today.year),
            reviews,
        ),
        "reassessment_due": _soft(ctx, row, "reassessment_due", nz.parse_date, reviews),
        "last_visit": _soft(ctx, row, "last_visit", nz.parse_date, reviews),
    }
    return _Parsed(row.line, ident.number, record, reviews)


def _parse_facility(ctx: _Context, row: RawRow) -> _Parsed:
    reviews: list[Problem] = []
    name = nz.text(ctx.raw(row, "name"))
    if not name:
        raise _RowError(ctx.col("name"), None, "设施名称为空")
    ftype = _field(ctx, row, "type", partial(nz.parse_facility_type, lookup=ctx.facility_types))
    point = _point(ctx, row, reviews)
    has_place = any(ctx.raw(row, f) for f in ("town", "village", "address", "village_code"))
    village_code: str | None = None
    town_code: str | None = None
    if has_place:
        sub: list[Problem] = []
        try:
            village_code, town_code, _ = _resolve_village(ctx, row, sub)
        except _ConflictError:
            raise
        except _RowError:
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
        point = _check_near_village(ctx, row, point, village_code, reviews)
        if point is None:
            point = ctx.village_points.get(village_code)
    if point is None and village_code is None:
        raise _RowError(
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
        "capacity": _soft(ctx, row, "capacity", partial(nz.parse_int, what="容量"), reviews),
        "placed": _soft(ctx, row, "placed", partial(nz.parse_int, what="在册人数"), reviews),
        "attributes": attributes,
    }
    return _Parsed(row.line, key, record, reviews)


def _village_by_name(ctx: _Context, town: str | None, name: str | None) -> GeocodeResult | None:
    """The village a villages row names by its town and name columns (no code)."""
    if not town and not name:
        return None
    key = ("village-name", town, name)
    hit = ctx._geocode_cache.get(key)
    if hit is None:
        hit = ctx.geocoder.geocode_parts(town=town, village=name)
        ctx._geocode_cache[key] = hit
    return hit


def _village_code_of(ctx: _Context, row: RawRow, name: str | None) -> str:
    """The (current) village code of a villages row: its code column, checked
    against its town and name columns, or the village its name resolves to."""
    column = ctx.col("code")
    town = nz.text(ctx.raw(row, "town"))
    raw_code = _code_digits(ctx.raw(row, "code"))
    if raw_code is None:
        res = _village_by_name(ctx, town, name) if name else None
        if res is None or res.status != MATCHED or res.village_code is None:
            raise _RowError(
                ctx.col("name"), name, "没有村社代码，且名称无法唯一对应到区划库中的村社"
            )
        return res.village_code
    if not (raw_code.isdigit() and len(raw_code) == _VILLAGE_CODE_LEN):
        raise _RowError(column, raw_code, "村社代码应为 12 位数字（统计用区划代码）")
    code = _district_of(ctx, raw_code, column)
    gaz = ctx.gazetteer
    if code[:9] not in ctx.town_codes:
        raise _RowError(
            column,
            raw_code,
            f"村社代码 {raw_code} 的镇街 {code[:9]} 不在本库{ctx.district_label()}的区划中；"
            f"请核对代码，或先用 coverplan init --district {gaz.district_code} "
            "--units <区划文件> 补充区划",
        )
    clash = None
    if town:
        by_town = _village_by_name(ctx, town, None)
        if by_town is not None and by_town.status == OUTSIDE:
            clash = f"镇街「{town}」在本库{ctx.district_label()}以外"
        elif by_town is not None and by_town.town_code not in (None, code[:9]):
            clash = f"镇街「{town}」与代码所属的{gaz.town(code[:9]).name}不一致"
    existing = gaz.village(code) if gaz.has_village(code) else None
    if clash is None and name and (existing is None or name != existing.name):
        named = _village_by_name(ctx, town, name)
        if named is not None and named.status == MATCHED and named.village_code != code:
            clash = f"名称「{name}」是{_village_label(ctx, named.village_code or '')}"
        elif (
            existing is not None
            and named is not None
            and named.status == AMBIGUOUS
            and named.candidates
            and code not in named.candidates
        ):
            others = "、".join(_village_label(ctx, c) for c in named.candidates[:3])
            clash = f"名称「{name}」指向{others}"
    if clash is not None:
        what = _village_label(ctx, code) if existing else "区划库中没有的村社"
        raise _ConflictError(
            column,
            raw_code,
            f"村社代码 {raw_code}（{what}）与本行不一致：{clash}；无法确定哪个正确，"
            "本行未导入，请更正代码或名称",
        )
    return code


def _in_area(ctx: _Context, lon: float, lat: float) -> bool:
    area = ctx.area()
    if area is None:
        return True
    return area[0] <= lon <= area[2] and area[1] <= lat <= area[3]


def _village_geometry(ctx: _Context, row: RawRow, reviews: list[Problem]) -> _VillageGeometry:
    """The point and polygon a villages row gives (WGS-84), each dropped and
    reported when implausible (the stored one is then kept)."""
    import shapely
    from shapely.geometry import mapping

    margin = ctx.config.import_.village_area_margin_km
    point = _point(ctx, row, reviews)
    if point is not None and not _in_area(ctx, *point):
        reviews.append(
            Problem(
                row.line,
                ctx.col("lon"),
                f"{point[0]},{point[1]}",
                "review",
                f"坐标在本库{ctx.district_label()}各村社范围以外（超出 {margin:g} 公里，"
                "坐标系是否选对？）；该坐标未导入，保留库中原有点位",
            )
        )
        point = None
    geom = row.geometry
    polygon = None
    shape = None
    if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon"):
        if ctx.crs != "wgs84":
            geom = shapely.transform(
                geom, lambda xy: np.column_stack(geocrs.to_wgs84(xy[:, 0], xy[:, 1], crs=ctx.crs))
            )
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            reviews.append(Problem(row.line, None, None, "review", "边界自相交，已自动修复"))
        shape = shapely.set_precision(geom, 1e-7)
        inner = shape.representative_point()
        if _in_area(ctx, inner.x, inner.y):
            polygon = json.dumps(mapping(shape), ensure_ascii=False)
        else:
            reviews.append(
                Problem(
                    row.line,
                    None,
                    f"{inner.x:.5f},{inner.y:.5f}",
                    "review",
                    f"边界在本库{ctx.district_label()}各村社范围以外（超出 {margin:g} 公里，"
                    "坐标系是否选对？）；该边界未导入，保留库中原有边界",
                )
            )
            shape = None
    notes = nz.text(ctx.raw(row, "notes")) or ""
    synthetic = "合成" in notes or "synthetic" in notes.lower()
    return _VillageGeometry(point=point, polygon=polygon, shape=shape, synthetic=synthetic)


def _parse_village(ctx: _Context, row: RawRow) -> _Parsed:
    reviews: list[Problem] = []
    name = nz.compact(ctx.raw(row, "name"))
    code = _village_code_of(ctx, row, name)
    existing = ctx.gazetteer.village(code) if ctx.gazetteer.has_village(code) else None
    if existing is None and not name:
        raise _RowError(ctx.col("name"), None, f"新村社 {code} 缺少名称")
    if existing is not None and name and name != existing.name:
        reviews.append(
            Problem(
                row.line,
                ctx.col("name"),
                name,
                "review",
                f"名称与区划库「{existing.name}」不同，保留区划库名称",
            )
        )
    geometry = _village_geometry(ctx, row, reviews)
    aliases = sorted(
        set(nz.split_aliases(ctx.raw(row, "aliases"))) | set(existing.aliases if existing else ())
    )
    # The geometry fields are filled in when written, merged with what is stored.
    record = {
        "code": code,
        "name": existing.name if existing else name,
        "town_code": code[:9],
        "aliases": aliases,
        "lon": geometry.point[0] if geometry.point else None,
        "lat": geometry.point[1] if geometry.point else None,
        "polygon": geometry.polygon,
        "synthetic": geometry.synthetic,
    }
    return _Parsed(row.line, code, record, reviews, geometry=geometry)


def _parse_device(ctx: _Context, row: RawRow) -> _Parsed:
    ident = _required_id(ctx, row)
    device = nz.compact(ctx.raw(row, "device_type"))
    if not device:
        raise _RowError(ctx.col("device_type"), None, "辅具名称为空")
    issued = _field(ctx, row, "issued_on", nz.parse_date)
    if issued is None:
        raise _RowError(ctx.col("issued_on"), None, "发放日期为空")
    if issued > ctx.today:
        raise _RowError(ctx.col("issued_on"), issued.isoformat(), "发放日期晚于今天")
    years = _field(ctx, row, "service_years", partial(nz.parse_float, what="使用年限"))
    if years is None or years <= 0:
        raise _RowError(
            ctx.col("service_years"), ctx.raw(row, "service_years"), "使用年限应为正数（年）"
        )
    reviews: list[Problem] = []
    replaced = _soft(ctx, row, "replaced_on", nz.parse_date, reviews)
    record = {
        "id_number": ident.number,
        "device_type": device,
        "issued_on": issued,
        "service_years": float(years),
        "replaced_on": replaced,
    }
    return _Parsed(row.line, f"{ident.number}|{device}|{issued.isoformat()}", record, reviews)


def _parse_lead(ctx: _Context, row: RawRow) -> _Parsed:
    reviews: list[Problem] = []
    name = nz.compact(ctx.raw(row, "name"))
    if not name:
        raise _RowError(ctx.col("name"), None, "姓名为空")
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
                    _show("id_number", raw_id),
                    "review",
                    f"{exc}；身份证号未导入",
                )
            )
    sex = sex or _soft(ctx, row, "sex", nz.parse_sex, reviews)
    village_code, town_code, _ = _resolve_village(ctx, row, reviews)
    category_raw = nz.compact(ctx.raw(row, "suspected_category"))
    category = None
    if category_raw and category_raw not in {"待定", "不详", "未知"}:
        category = _soft(
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
        + hashlib.sha256(f"{name}|{village_code or town_code}|{address}".encode()).hexdigest()[:24]
    )
    record = {
        "key": key,
        "name": name,
        "sex": sex,
        "id_number": id_number,
        "village_code": village_code,
        "town_code": town_code,
        "address": address,
        "phone": _soft(ctx, row, "phone", nz.parse_phone, reviews),
        "suspected_category": category,
        "source": nz.text(ctx.raw(row, "source")),
        "reported_on": _soft(ctx, row, "reported_on", nz.parse_date, reviews),
        "notes": nz.text(ctx.raw(row, "notes")),
    }
    return _Parsed(row.line, key, record, reviews)


_PARSERS: dict[str, Callable[[_Context, RawRow], _Parsed]] = {
    "residents": _parse_resident,
    "facilities": _parse_facility,
    "villages": _parse_village,
    "devices": _parse_device,
    "leads": _parse_lead,
}

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
            f"该文件含 {guess.shown()} 等列，像是{_KIND_LABELS[guess.kind]}，"
            f"不是{_KIND_LABELS[kind]}；请用 coverplan import {guess.kind}（未写入任何数据）",
            file=path.name,
        ) from None


def _identifier_value(ctx: _Context, fld: str, text: str) -> str:
    """An identifier normalised for comparison (ID numbers as 18 characters,
    village codes with a former district prefix made current)."""
    if fld == "id_number":
        try:
            return parse_id_number(text, today=ctx.today).number
        except InvalidIdNumber:
            return text.upper()
    code = text.removesuffix(".0")
    head = code[:_DISTRICT_CODE_LEN]
    if len(code) == _VILLAGE_CODE_LEN and head in ctx.gazetteer.former_codes:
        return ctx.gazetteer.district_code + code[_DISTRICT_CODE_LEN:]
    return code


def _identifiers_agree(ctx: _Context, row: RawRow) -> RawRow:
    """Check that the columns naming one identifier (身份证号 and 公民身份号码) agree.

    Returns the row, with an empty first column filled from the others.

    Raises
    ------
    _ConflictError
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
                raise _ConflictError(
                    col,
                    _show(fld, text),
                    f"列「{col0}」（{_show(fld, text0)}）与列「{col}」（{_show(fld, text)}）"
                    "不一致；无法确定哪个正确，本行未导入，请只保留正确的一列或改成一致",
                )
        if filled and not nz.compact(values.get(first)):
            values = {**values, first: filled[0][1]}
    return row if values is row.values else RawRow(row.line, values, row.geometry)


def _key_words(kind: str, parsed: _Parsed) -> str:
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


def _differing_columns(ctx: _Context, a: _Parsed, b: _Parsed) -> list[str]:
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
    ctx: _Context, by_key: dict[str, list[_Parsed]], problems: list[Problem]
) -> list[_Parsed]:
    """One row per natural key.

    Exact duplicates keep the first row (the others are reported). Rows with one
    key but different data are all rejected, each naming the other lines and the
    columns that differ: which of them is right is unknown.
    """
    good: list[_Parsed] = []
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
                    _show(key_col, raw_key) if raw_key is not None else None,
                    "rejected",
                    f"与第 {lines} 行{what}相同，但 {'、'.join(differ)} 不同；"
                    "无法确定哪行正确，这些行都未导入，请删去错误的行",
                )
            )
    good.sort(key=lambda p: p.line)
    return good


# --- writing -------------------------------------------------------------------------


def _existing(session: Session, kind: str) -> dict[str, tuple[int | str, str | None]]:
    """Natural key → (primary key, content hash) of what the store already holds."""
    if kind == "devices":
        q_dev = select(
            t.Resident.id_number,
            t.Device.device_type,
            t.Device.issued_on,
            t.Device.id,
            t.Device.content_hash,
        ).join(t.Resident, t.Resident.id == t.Device.resident_id)
        return {f"{a}|{b}|{c.isoformat()}": (d, e) for a, b, c, d, e in session.execute(q_dev)}
    q: Any
    if kind == "residents":
        q = select(t.Resident.id_number, t.Resident.id, t.Resident.content_hash)
    elif kind == "facilities":
        q = select(t.Facility.key, t.Facility.id, t.Facility.content_hash)
    elif kind == "villages":
        q = select(t.Village.code, t.Village.code, t.Village.content_hash)
    else:
        q = select(t.Lead.key, t.Lead.id, t.Lead.content_hash)
    return {k: (pk, h) for k, pk, h in session.execute(q)}


_TABLES: dict[str, Any] = {
    "residents": t.Resident,
    "facilities": t.Facility,
    "villages": t.Village,
    "leads": t.Lead,
    "devices": t.Device,
}
_PK = {"villages": "code"}


def _review_text(reviews: list[Problem]) -> str | None:
    return "；".join(p.reason for p in reviews) or None


def _prepare(kind: str, parsed: _Parsed, resident_ids: dict[str, int] | None) -> dict[str, Any]:
    rec = dict(parsed.record)
    if kind == "devices":
        assert resident_ids is not None
        rec["resident_id"] = resident_ids[rec.pop("id_number")]
    if kind in ("residents", "facilities", "leads"):
        rec["needs_review"] = bool(parsed.reviews)
        rec["review_reason"] = _review_text(parsed.reviews)
    return rec


def _merge_village(parsed: _Parsed, stored: Any) -> bool:
    """Fill in the geometry of a villages row from what it gives and what is stored.

    Nothing the row does not give is erased: a row without geometry keeps the
    stored point and polygon; a rejected point keeps the stored point; a
    polygon-only row keeps a stored point that lies inside it, else gets the
    polygon's representative point. Synthetic stored geometry is not kept when
    the row gives real geometry (and the synthetic flag is cleared); synthetic
    geometry never replaces real geometry (the row is flagged).

    ``stored`` is the stored row (``lon, lat, polygon, synthetic``) or None.

    Returns
    -------
    bool
        Whether stored real (non-synthetic) geometry is overwritten.
    """
    import shapely

    geo = parsed.geometry
    assert geo is not None
    rec = parsed.record
    if stored is None:
        point = geo.point
        if point is None and geo.shape is not None:
            rp = geo.shape.representative_point()
            point = (round(rp.x, 7), round(rp.y, 7))
        rec.update(
            lon=point[0] if point else None,
            lat=point[1] if point else None,
            polygon=geo.polygon,
            synthetic=geo.synthetic and geo.given,
        )
        return False
    s_point = (
        (stored.lon, stored.lat) if stored.lon is not None and stored.lat is not None else None
    )
    s_poly = stored.polygon
    real = not stored.synthetic and (s_point is not None or s_poly is not None)
    if not geo.given or (geo.synthetic and real):
        if geo.given:
            parsed.reviews.append(
                Problem(
                    parsed.line,
                    None,
                    None,
                    "review",
                    "库中已有真实点位或边界，合成数据未覆盖",
                )
            )
        rec.update(lon=stored.lon, lat=stored.lat, polygon=s_poly, synthetic=bool(stored.synthetic))
        return False
    base_point, base_poly = (None, None) if stored.synthetic else (s_point, s_poly)
    polygon = geo.polygon if geo.polygon is not None else base_poly
    point = geo.point
    if point is None and geo.shape is not None:
        if base_point is not None and shapely.covers(geo.shape, shapely.Point(base_point)):
            point = base_point
        else:
            rp = geo.shape.representative_point()
            point = (round(rp.x, 7), round(rp.y, 7))
    elif point is None:
        point = base_point
    rec.update(
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        polygon=polygon,
        synthetic=geo.synthetic,
    )
    if not real:
        return False
    moved = s_point is not None and point != s_point
    reshaped = s_poly is not None and polygon != s_poly
    return moved or reshaped


def _merge_villages(
    session: Session,
    good: list[_Parsed],
    *,
    config: Config,
    replace: bool,
    file: str,
) -> None:
    """Merge every villages row with the stored geometry; stop (before anything is
    written) when too much real geometry would be overwritten without ``replace``.

    Raises
    ------
    InputError
        When more than ``[import] geometry_replace_share`` of the villages with
        real points or boundaries would be overwritten and ``replace`` is False.
    """
    cols = (t.Village.code, t.Village.lon, t.Village.lat, t.Village.polygon, t.Village.synthetic)
    stored = {v.code: v for v in session.execute(select(*cols))}
    overwritten = [p.key for p in good if _merge_village(p, stored.get(p.key))]
    protected = sum(
        1
        for v in stored.values()
        if not v.synthetic and (v.polygon is not None or (v.lon is not None and v.lat is not None))
    )
    share = config.import_.geometry_replace_share
    if not replace and overwritten and len(overwritten) > share * protected:
        raise InputError(
            f"本次导入将覆盖 {len(overwritten)} 个村社已有的真实点位或边界"
            f"（库中共 {protected} 个村社有真实点位或边界，超过 [import] "
            f"geometry_replace_share = {share:g} 的比例），未写入任何数据。"
            "如确认要用本文件替换，请加 --replace 重新导入",
            file=file,
        )


def import_file(
    store: Store,
    kind: Kind,
    path: Path | str,
    *,
    crs: str = "wgs84",
    report: Path | str | None = None,
    report_dir: Path | str | None = None,
    config: Config | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    replace: bool = False,
) -> ImportResult:
    """Import one file of ``kind`` into ``store`` in a single transaction.

    Parameters
    ----------
    store
        An open, migrated store with a gazetteer (``coverplan init``).
    kind
        ``residents``, ``facilities``, ``villages``, ``devices`` or ``leads``.
    path
        CSV (UTF-8/GBK/GB18030, detected), XLSX/XLS, or for villages and
        facilities GeoJSON/GeoPackage/Shapefile.
    crs
        Coordinate system of lon/lat values and geometries: ``wgs84``, ``gcj02``
        or ``bd09``; stored points are always WGS-84.
    report
        Where to write the problem report (``.csv`` or ``.xlsx``); by default a
        CSV under ``report_dir`` when there are problems.
    progress
        Called as ``progress(done, total)`` while rows are written.
    replace
        Villages: allow overwriting more than ``[import] geometry_replace_share``
        of the stored real village points and boundaries.

    Raises
    ------
    InputError
        When the file cannot be read, lacks required columns, has the columns of
        another kind (a residents register given as villages), or (villages)
        would overwrite too much real geometry without ``replace``; nothing is
        stored then.
    """
    if kind not in KINDS:
        raise InputError(f"不支持的导入类型「{kind}」；可用：{'、'.join(KINDS)}")
    config = config or get_config()
    today = today or date.today()
    path = Path(path)
    started = datetime.now()
    table = _read(path, kind, search_rows=config.import_.header_search_rows)
    cmap = map_columns(kind, table.headers)
    has_points = any(r.geometry is not None for r in table.rows)
    given = frozenset({"lon", "lat"}) if has_points else frozenset()
    guess = other_kind(kind, table.headers, also=given)
    if guess is not None:
        raise InputError(
            f"该文件含 {guess.shown()} 等列，像是{_KIND_LABELS[guess.kind]}，"
            f"不是{_KIND_LABELS[kind]}；请用 coverplan import {guess.kind}（未写入任何数据）",
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
    ctx = _Context(
        store=store, config=config, kind=kind, crs=crs, cmap=cmap, file=path.name, today=today
    )
    parse = _PARSERS[kind]
    problems: list[Problem] = []
    by_key: dict[str, list[_Parsed]] = {}
    for row in table.rows:
        try:
            parsed = parse(ctx, _identifiers_agree(ctx, row))
        except _RowError as err:
            problems.append(Problem(row.line, err.column, err.value, "rejected", err.reason))
            continue
        parsed.values = row.values
        by_key.setdefault(parsed.key, []).append(parsed)
    good = _unique_rows(ctx, by_key, problems)

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with store.write() as s:
        if kind == "villages":
            _merge_villages(s, good, config=config, replace=replace, file=path.name)
        resident_ids: dict[str, int] | None = None
        if kind == "devices":
            resident_ids = dict(s.execute(select(t.Resident.id_number, t.Resident.id)).all())
            kept = []
            for p in good:
                if p.record["id_number"] in resident_ids:
                    kept.append(p)
                else:
                    problems.append(
                        Problem(
                            p.line,
                            cmap.fields.get("id_number"),
                            mask_id(p.record["id_number"]),
                            "rejected",
                            "该身份证号不在残疾人名册中；请先导入名册",
                        )
                    )
            good = kept
        existing = _existing(s, kind)
        model = _TABLES[kind]
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        unchanged = 0
        now = datetime.now()
        batch = t.ImportBatch(
            kind=kind,
            file=path.name,
            sha256=digest,
            format=table.format,
            encoding=table.encoding,
            crs=ctx.crs,
            rows=0,
            stored=0,
            inserted=0,
            updated=0,
            unchanged=0,
            rejected=0,
            needs_review=0,
            started_at=started,
            finished_at=started,
        )
        s.add(batch)
        s.flush()
        for p in good:
            rec = _prepare(kind, p, resident_ids)
            h = _hash(rec)
            old = existing.get(p.key)
            if old is not None and old[1] == h:
                unchanged += 1
                continue
            rec["content_hash"] = h
            rec["batch_id"] = batch.id
            if kind == "residents":
                rec["updated_at"] = now
            if old is None:
                inserts.append(rec)
            else:
                rec[_PK.get(kind, "id")] = old[0]
                updates.append(rec)
        total = len(inserts) + len(updates)
        done = 0
        for chunk_start in range(0, len(inserts), _WRITE_CHUNK):
            chunk = inserts[chunk_start : chunk_start + _WRITE_CHUNK]
            s.execute(insert(model), chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        for chunk_start in range(0, len(updates), _WRITE_CHUNK):
            chunk = updates[chunk_start : chunk_start + _WRITE_CHUNK]
            s.execute(update(model), chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        reviews = [r for p in good for r in p.reviews]
        problems.extend(reviews)
        problems.sort(key=lambda p: (p.line, p.action))
        rejected_lines = {p.line for p in problems if p.action == "rejected"}
        review_lines = {p.line for p in good if p.reviews}
        for prob in problems:
            s.add(
                t.ImportProblem(
                    batch_id=batch.id,
                    line=prob.line,
                    column=prob.column,
                    value=prob.value,
                    action=prob.action,
                    reason=prob.reason,
                )
            )
        batch.rows = len(table.rows)
        batch.stored = len(good)
        batch.inserted = len(inserts)
        batch.updated = len(updates)
        batch.unchanged = unchanged
        batch.rejected = len(rejected_lines)
        batch.needs_review = len(review_lines)
        batch.finished_at = datetime.now()
        audit(
            s,
            action="import",
            entity=kind,
            detail={
                "batch": batch.id,
                "file": path.name,
                "sha256": digest,
                "inserted": len(inserts),
                "updated": len(updates),
            },
        )
        batch_id = batch.id
        counts = (
            batch.rows,
            batch.stored,
            batch.inserted,
            batch.updated,
            batch.unchanged,
            batch.rejected,
            batch.needs_review,
        )

    report_path: Path | None = None
    if report is not None:
        report_path = Path(report)
    elif problems and report_dir is not None:
        report_path = Path(report_dir) / f"{path.stem}_问题清单.csv"
    if report_path is not None:
        write_report(problems, report_path, file=path.name)
    rows, stored, inserted, updated, unchanged_n, rejected, review = counts
    if stored + rejected != rows:  # an invariant, not a user error
        raise AssertionError(f"import counts do not add up: {counts}")
    return ImportResult(
        kind=kind,
        file=str(path),
        format=table.format,
        encoding=table.encoding,
        crs=ctx.crs,
        rows=rows,
        stored=stored,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged_n,
        rejected=rejected,
        needs_review=review,
        report=report_path,
        batch_id=batch_id,
        problems=tuple(problems),
        ignored_columns=cmap.ignored,
    )


_REPORT_HEADER = ("文件", "行号", "列", "值", "处理", "原因")
_ACTION_LABEL = {"rejected": "拒绝（未入库）", "review": "已入库，待核查"}


def write_report(problems: Iterable[Problem], path: Path, *, file: str) -> Path:
    """Write the problem rows as CSV (UTF-8 with BOM, opens in Excel) or XLSX."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        (file, p.line, p.column or "", p.value or "", _ACTION_LABEL[p.action], p.reason)
        for p in problems
    ]
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.title = "问题清单"
        ws.append(list(_REPORT_HEADER))
        for r in rows:
            ws.append(list(r))
        for col, width in zip("ABCDEF", (24, 8, 16, 30, 16, 60), strict=True):
            ws.column_dimensions[col].width = width
        wb.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(_REPORT_HEADER)
            w.writerows(rows)
    return path
