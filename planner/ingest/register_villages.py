"""Villages rows: the village a row names, the geometry it gives, merged with the stored one.

A villages row is identified by its 12-digit code (checked against its town and
name columns) or, without a code, by a name that resolves to one village. Its
point and boundary are dropped (and reported) when they lie outside the
district's plausible area. When written, the row's geometry is merged with the
stored one (:func:`merge_villages`): nothing the row does not give is erased,
synthetic geometry never replaces real geometry, and replacing more than
``[import] geometry_replace_share`` of the real geometry needs ``--replace``.
Pure: no store, no files (the stored geometry is handed in).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from geo import crs as geocrs
from geo.gazetteer import TOWN_CODE_LEN, VILLAGE_CODE_LEN
from geo.geocode import AMBIGUOUS, MATCHED, OUTSIDE
from planner.errors import InputError
from planner.ingest import normalize as nz
from planner.ingest.normalize import COORD_DIGITS, POLYGON_PRECISION_DEG
from planner.ingest.readers import RawRow
from planner.ingest.register_context import (
    ConflictError,
    ParsedRow,
    RegisterContext,
    RowError,
    RowGeometry,
    code_digits,
    district_of,
    point_of,
    village_by_name,
    village_label,
)
from planner.settings import Config
from planner.store.batches import Problem
from planner.store.registers import StoredGeometry

__all__ = ["merge_village", "merge_villages", "parse_village"]


def _village_code_of(ctx: RegisterContext, row: RawRow, name: str | None) -> str:
    """The (current) village code of a villages row: its code column, checked
    against its town and name columns, or the village its name resolves to."""
    column = ctx.col("code")
    town = nz.text(ctx.raw(row, "town"))
    raw_code = code_digits(ctx.raw(row, "code"))
    if raw_code is None:
        res = village_by_name(ctx, town, name) if name else None
        if res is None or res.status != MATCHED or res.village_code is None:
            raise RowError(
                ctx.col("name"), name, "没有村社代码，且名称无法唯一对应到区划库中的村社"
            )
        return res.village_code
    if not (raw_code.isdigit() and len(raw_code) == VILLAGE_CODE_LEN):
        raise RowError(column, raw_code, "村社代码应为 12 位数字（统计用区划代码）")
    code = district_of(ctx, raw_code, column)
    gaz = ctx.gazetteer
    town_code = code[:TOWN_CODE_LEN]
    if town_code not in ctx.town_codes:
        raise RowError(
            column,
            raw_code,
            f"村社代码 {raw_code} 的镇街 {town_code} 不在本库{ctx.district_label()}的区划中；"
            f"请核对代码，或先用 coverplan init --district {gaz.district_code} "
            "--units <区划文件> 补充区划",
        )
    clash = None
    if town:
        by_town = village_by_name(ctx, town, None)
        if by_town is not None and by_town.status == OUTSIDE:
            clash = f"镇街「{town}」在本库{ctx.district_label()}以外"
        elif by_town is not None and by_town.town_code not in (None, code[:TOWN_CODE_LEN]):
            clash = f"镇街「{town}」与代码所属的{gaz.town(code[:TOWN_CODE_LEN]).name}不一致"
    existing = gaz.village(code) if gaz.has_village(code) else None
    if clash is None and name and (existing is None or name != existing.name):
        named = village_by_name(ctx, town, name)
        if named is not None and named.status == MATCHED and named.village_code != code:
            clash = f"名称「{name}」是{village_label(ctx, named.village_code or '')}"
        elif (
            existing is not None
            and named is not None
            and named.status == AMBIGUOUS
            and named.candidates
            and code not in named.candidates
        ):
            others = "、".join(village_label(ctx, c) for c in named.candidates[:3])
            clash = f"名称「{name}」指向{others}"
    if clash is not None:
        what = village_label(ctx, code) if existing else "区划库中没有的村社"
        raise ConflictError(
            column,
            raw_code,
            f"村社代码 {raw_code}（{what}）与本行不一致：{clash}；无法确定哪个正确，"
            "本行未导入，请更正代码或名称",
        )
    return code


def _in_area(ctx: RegisterContext, lon: float, lat: float) -> bool:
    area = ctx.area()
    if area is None:
        return True
    return area[0] <= lon <= area[2] and area[1] <= lat <= area[3]


def _village_geometry(ctx: RegisterContext, row: RawRow, reviews: list[Problem]) -> RowGeometry:
    """The point and polygon a villages row gives (WGS-84), each dropped and
    reported when implausible (the stored one is then kept)."""
    import shapely
    from shapely.geometry import mapping

    margin = ctx.config.import_.village_area_margin_km
    point = point_of(ctx, row, reviews)
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
        shape = shapely.set_precision(geom, POLYGON_PRECISION_DEG)
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
    return RowGeometry(point=point, polygon=polygon, shape=shape, synthetic=synthetic)


def parse_village(ctx: RegisterContext, row: RawRow) -> ParsedRow:
    """A villages row: keyed by its (current) village code; the geometry it gives is
    merged with the stored one when written (:func:`merge_villages`).

    Raises
    ------
    RowError
        For a code that is not a village of the district, a code that clashes
        with the row's names, or a new village without a name.
    """
    reviews: list[Problem] = []
    name = nz.compact(ctx.raw(row, "name"))
    code = _village_code_of(ctx, row, name)
    existing = ctx.gazetteer.village(code) if ctx.gazetteer.has_village(code) else None
    if existing is None and not name:
        raise RowError(ctx.col("name"), None, f"新村社 {code} 缺少名称")
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
        "town_code": code[:TOWN_CODE_LEN],
        "aliases": aliases,
        "lon": geometry.point[0] if geometry.point else None,
        "lat": geometry.point[1] if geometry.point else None,
        "polygon": geometry.polygon,
        "synthetic": geometry.synthetic,
    }
    return ParsedRow(row.line, code, record, reviews, geometry=geometry)


def merge_village(parsed: ParsedRow, stored: StoredGeometry | None) -> bool:
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
            point = (round(rp.x, COORD_DIGITS), round(rp.y, COORD_DIGITS))
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
            point = (round(rp.x, COORD_DIGITS), round(rp.y, COORD_DIGITS))
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


def merge_villages(
    good: list[ParsedRow],
    stored: Mapping[str, StoredGeometry],
    *,
    config: Config,
    replace: bool,
    file: str,
) -> None:
    """Merge every villages row with the stored geometry; stop (before anything is
    written) when too much real geometry would be overwritten without ``replace``.

    Parameters
    ----------
    good
        The file's good rows (their records get the merged geometry).
    stored
        Village code → the stored geometry, read in the write transaction.

    Raises
    ------
    InputError
        When more than ``[import] geometry_replace_share`` of the villages with
        real points or boundaries would be overwritten and ``replace`` is False.
    """
    overwritten = [p.key for p in good if merge_village(p, stored.get(p.key))]
    protected = sum(1 for v in stored.values() if v.real)
    share = config.import_.geometry_replace_share
    if not replace and overwritten and len(overwritten) > share * protected:
        raise InputError(
            f"本次导入将覆盖 {len(overwritten)} 个村社已有的真实点位或边界"
            f"（库中共 {protected} 个村社有真实点位或边界，超过 [import] "
            f"geometry_replace_share = {share:g} 的比例），未写入任何数据。"
            "如确认要用本文件替换，请加 --replace 重新导入",
            file=file,
        )
