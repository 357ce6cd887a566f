"""What every register row parser shares: the import's context, field parsing, places.

:class:`RegisterContext` holds one import's configuration, column map, geocoder
and lookups (the district's gazetteer, manual corrections, village points and
boundaries: :class:`RegisterLookups`, read from the store by the caller). The
functions below parse one field of a row (a bad essential value rejects the
row, a bad optional one is dropped and flagged for review) and resolve the
row's village. Pure: no store, no files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np

from geo import crs as geocrs
from geo.gazetteer import DISTRICT_CODE_LEN, VILLAGE_CODE_LEN, Gazetteer
from geo.geocode import AMBIGUOUS, MATCHED, OUTSIDE, Geocoder, GeocodeResult
from geo.graph import haversine_m
from planner.domain.privacy import mask_id, mask_phone
from planner.ingest import normalize as nz
from planner.ingest.columns import ColumnMap, Kind
from planner.ingest.readers import RawRow
from planner.settings import Config
from planner.store.batches import Problem
from planner.store.registers import VillagePoint
from planner.units import METRES_PER_KM

__all__ = [
    "ConflictError",
    "ParsedRow",
    "RegisterContext",
    "RegisterLookups",
    "RowError",
    "RowGeometry",
    "check_near_village",
    "code_digits",
    "district_of",
    "parse_field",
    "point_of",
    "resolve_village",
    "soft_field",
    "village_by_name",
    "village_label",
]

KM_PER_DEGREE = 111.32  # one degree of latitude (and of longitude at the equator)
_MIN_COS_LAT = 1e-6  # keeps the longitude margin finite at the poles


class RowError(Exception):
    """A row is rejected: the column, the value shown and the reason (Chinese)."""

    def __init__(self, column: str | None, value: object, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.value = None if value is None else str(value)
        self.reason = reason


class ConflictError(RowError):
    """Two identifiers of one row disagree: the row is rejected, whatever else it has."""


@dataclass(frozen=True)
class RowGeometry:
    """The geometry a villages row gives; merged with the stored one when written."""

    point: tuple[float, float] | None  # given as lon/lat or a Point geometry
    polygon: str | None  # GeoJSON text, WGS-84
    shape: Any  # the polygon as a shapely geometry (None without polygon)
    synthetic: bool

    @property
    def given(self) -> bool:
        return self.point is not None or self.polygon is not None


@dataclass
class ParsedRow:
    """A good row: its natural key, the record to store, its review notes."""

    line: int
    key: str
    record: dict[str, Any]
    reviews: list[Problem] = field(default_factory=list)
    geometry: RowGeometry | None = None  # villages only: what the row gives
    values: dict[str, Any] = field(default_factory=dict)  # the row's cells


@dataclass(frozen=True)
class RegisterLookups:
    """What the row parsers check rows against: read from the store before parsing."""

    gazetteer: Gazetteer
    corrections: Mapping[str, str]  # normalised address → village code
    places: Sequence[VillagePoint]  # every stored village point and boundary


class RegisterContext:
    """Per-import state: configuration, geocoder, caches, point lookups."""

    def __init__(
        self,
        *,
        lookups: RegisterLookups,
        config: Config,
        kind: Kind,
        crs: str,
        cmap: ColumnMap,
        file: str,
        today: date,
    ) -> None:
        self.config = config
        self.kind = kind
        self.crs = geocrs.parse_crs(crs)
        self.cmap = cmap
        self.file = file
        self.today = today
        self.gazetteer = lookups.gazetteer
        self.places = lookups.places
        self.geocoder = Geocoder(
            self.gazetteer,
            corrections=dict(lookups.corrections),
            fuzzy_min_score=config.geocode.fuzzy_min_score,
            fuzzy_margin=config.geocode.fuzzy_margin,
        )
        self.categories = nz.category_lookup(config)
        self.facility_types = nz.facility_type_lookup(config)
        self.geocode_cache: dict[tuple[str | None, ...], GeocodeResult] = {}
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

    def show(self, fld: str, value: object) -> str | None:
        """A cell as shown in a problem: ID numbers and phones masked per ``[privacy]``."""
        if value is None:
            return None
        text = str(value)
        if fld == "id_number":
            return mask_id(nz.compact(text) or text, privacy=self.config.privacy)
        if fld == "phone":
            return mask_phone(nz.compact(text) or text, privacy=self.config.privacy)
        return text

    def names_only(self, row: RawRow) -> GeocodeResult | None:
        """The village named by the row's town and village columns alone (no code,
        no address), or None when the row names none."""
        town, village = nz.text(self.raw(row, "town")), nz.text(self.raw(row, "village"))
        if not town and not village:
            return None
        key = ("names", town, village)
        hit = self.geocode_cache.get(key)
        if hit is None:
            hit = self.geocoder.geocode_parts(town=town, village=village)
            self.geocode_cache[key] = hit
        return hit

    def area(self) -> tuple[float, float, float, float] | None:
        """The district's plausible area: the box around every stored village point
        and boundary, widened by ``[import] village_area_margin_km`` (WGS-84
        min lon, min lat, max lon, max lat); None while no village has geometry."""
        if not self._area:
            import shapely
            from shapely.geometry import shape

            xs: list[float] = []
            ys: list[float] = []
            for p in self.places:
                if p.lon is not None and p.lat is not None:
                    xs.append(p.lon)
                    ys.append(p.lat)
                if p.polygon:
                    x0, y0, x1, y1 = shapely.bounds(shape(json.loads(p.polygon)))
                    xs += [x0, x1]
                    ys += [y0, y1]
            if not xs:
                self._area = [None]
            else:
                margin = self.config.import_.village_area_margin_km
                dlat = margin / KM_PER_DEGREE
                mid = np.radians((min(ys) + max(ys)) / 2)
                dlon = margin / (KM_PER_DEGREE * max(float(np.cos(mid)), _MIN_COS_LAT))
                self._area = [(min(xs) - dlon, min(ys) - dlat, max(xs) + dlon, max(ys) + dlat)]
        return self._area[0]

    def district_label(self) -> str:
        return f"{self.gazetteer.district_name}（{self.gazetteer.district_code}）"

    def geocode(self, row: RawRow) -> GeocodeResult:
        parts = tuple(
            nz.text(self.raw(row, f)) for f in ("town", "village", "address", "village_code")
        )
        hit = self.geocode_cache.get(parts)
        if hit is None:
            hit = self.geocoder.geocode_parts(
                town=parts[0], village=parts[1], address=parts[2], village_code=parts[3]
            )
            self.geocode_cache[parts] = hit
        return hit

    def village_at(self, lon: float, lat: float) -> str | None:
        """The village whose polygon contains the point (None without polygons)."""
        import shapely

        if self._polygons is None:
            from shapely.geometry import shape

            codes = [p.code for p in self.places if p.polygon]
            geoms = [shape(json.loads(p.polygon)) for p in self.places if p.polygon]
            self._polygons = (codes, shapely.STRtree(geoms) if geoms else None)
        codes, tree = self._polygons
        if tree is None:
            return None
        hits = tree.query(shapely.Point(lon, lat), predicate="within")
        return codes[int(hits[0])] if len(hits) == 1 else None


# --- fields -------------------------------------------------------------------------------


def parse_field(ctx: RegisterContext, row: RawRow, fld: str, parser: Callable[[Any], Any]) -> Any:
    """Parse one field; a parser ValueError becomes a row rejection."""
    value = ctx.raw(row, fld)
    try:
        return parser(value)
    except ValueError as exc:
        raise RowError(ctx.col(fld), value, str(exc)) from None


def soft_field(
    ctx: RegisterContext,
    row: RawRow,
    fld: str,
    parser: Callable[[Any], Any],
    reviews: list[Problem],
) -> Any:
    """Parse a non-essential field; a bad value is dropped and flagged for review."""
    value = ctx.raw(row, fld)
    try:
        return parser(value)
    except ValueError as exc:
        reviews.append(
            Problem(row.line, ctx.col(fld), ctx.show(fld, value), "review", f"{exc}；该项未导入")
        )
        return None


def point_of(
    ctx: RegisterContext, row: RawRow, reviews: list[Problem]
) -> tuple[float, float] | None:
    """The row's point (WGS-84), from its lon/lat columns or its Point geometry."""
    lon = soft_field(ctx, row, "lon", partial(nz.parse_float, what="经度"), reviews)
    lat = soft_field(ctx, row, "lat", partial(nz.parse_float, what="纬度"), reviews)
    if row.geometry is not None and getattr(row.geometry, "geom_type", "") == "Point":
        lon, lat = row.geometry.x, row.geometry.y
    if lon is None or lat is None:
        return None
    if not nz.in_china(lon, lat):
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
    return round(float(x), nz.COORD_DIGITS), round(float(y), nz.COORD_DIGITS)


def check_near_village(
    ctx: RegisterContext,
    row: RawRow,
    point: tuple[float, float] | None,
    village_code: str | None,
    reviews: list[Problem],
) -> tuple[float, float] | None:
    """The point, or None (flagged) when it lies too far from its village's point."""
    if point is None or village_code is None:
        return point
    ref = ctx.village_points.get(village_code)
    if ref is None:
        return point
    limit = ctx.config.import_.household_point_max_km
    dist = float(haversine_m(point[0], point[1], ref[0], ref[1])) / METRES_PER_KM
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


# --- places -------------------------------------------------------------------------------


def resolve_village(
    ctx: RegisterContext, row: RawRow, reviews: list[Problem]
) -> tuple[str | None, str | None, GeocodeResult]:
    """Village and town code of a row, or a review/reject per configuration.

    Raises
    ------
    ConflictError
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
            raise RowError(column, shown, f"{reason}；请核对地址，或导入到该地所属区县的数据库")
        reviews.append(Problem(row.line, column, shown, "review", f"{reason}；已入库，待人工核查"))
        return None, None, res
    if res.status == AMBIGUOUS:
        names = "、".join(village_label(ctx, c) for c in res.candidates[:5])
        reason = f"村社有歧义（可能是 {names}）"
    else:
        reason = "找不到对应的村社"
    if ctx.config.import_.unresolved_village == "reject":
        raise RowError(column, shown, f"{reason}；请填写正确的镇街和村社")
    reviews.append(Problem(row.line, column, shown, "review", f"{reason}；已入库，待人工指定村社"))
    return None, res.town_code, res


def code_digits(value: object) -> str | None:
    """A code cell as digits (``330213100225.0`` from Excel → ``330213100225``)."""
    text = nz.compact(value)
    return text.removesuffix(".0") if text else None


def district_of(ctx: RegisterContext, code: str, column: str | None) -> str:
    """``code`` with a former district prefix made current; another district's code
    is a conflict (we cannot tell whether the code or the names are right)."""
    gaz = ctx.gazetteer
    head = code[:DISTRICT_CODE_LEN]
    if head in gaz.former_codes:
        return gaz.district_code + code[DISTRICT_CODE_LEN:]
    if head != gaz.district_code:
        raise ConflictError(
            column,
            code,
            f"村社代码 {code} 属于其他区县（前 6 位 {head}），不是本库的{ctx.district_label()}；"
            "请核对代码，本行未导入",
        )
    return code


def _check_village_code(ctx: RegisterContext, row: RawRow) -> None:
    """Reject a row whose explicit village code is of another district or names
    another village than the row's own town and village columns."""
    column = ctx.col("village_code")
    code = code_digits(ctx.raw(row, "village_code"))
    if column is None or code is None:
        return
    if not (code.isdigit() and len(code) == VILLAGE_CODE_LEN):
        return  # not a code: the names decide, as before
    current = district_of(ctx, code, column)
    if not ctx.gazetteer.has_village(current):
        return
    named = ctx.names_only(row)
    if named is None or named.status == OUTSIDE:
        return
    town = ctx.gazetteer.village(current).town_code
    by_town = village_by_name(ctx, nz.text(ctx.raw(row, "town")), None)
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
        meant = f"，指向{village_label(ctx, named.village_code)}"
    elif named.town_code:
        meant = f"，在{ctx.gazetteer.town(named.town_code).name}"
    else:
        meant = ""
    raise ConflictError(
        column,
        code,
        f"村社代码 {code} 是{village_label(ctx, current)}，与本行的镇街/村社「{names}」"
        f"不一致{meant}；无法确定哪个正确，本行未导入，请更正代码或名称",
    )


def village_label(ctx: RegisterContext, code: str) -> str:
    """``溪口镇武岭社区`` for a village code (the code itself when unknown)."""
    try:
        v = ctx.gazetteer.village(code)
        return f"{ctx.gazetteer.town(v.town_code).name}{v.name}"
    except Exception:
        return code


def village_by_name(
    ctx: RegisterContext, town: str | None, name: str | None
) -> GeocodeResult | None:
    """The village a row names by its town and name columns (no code)."""
    if not town and not name:
        return None
    key = ("village-name", town, name)
    hit = ctx.geocode_cache.get(key)
    if hit is None:
        hit = ctx.geocoder.geocode_parts(town=town, village=name)
        ctx.geocode_cache[key] = hit
    return hit
