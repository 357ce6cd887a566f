"""The store's contents as (Geo)DataFrames for analysis. WGS-84, EPSG:4326.

Personal columns (name, ID, phone, address) are only loaded when asked for
(``personal=True``): analysis and aggregates never need them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from planner.store import schema as t
from planner.store.core import Store

RESIDENT_COLUMNS = (
    "id",
    "sex",
    "birth_date",
    "category",
    "grade",
    "village_code",
    "town_code",
    "lon",
    "lat",
    "needs_review",
    "living_subsidy",
    "care_subsidy",
    "low_income",
    "lives_alone",
    "elderly_carer",
    "bedridden",
    "wheelchair",
    "supervised_medication",
    "stroke_aftercare",
    "employment",
    "retrofit_year",
    "reassessment_due",
    "last_visit",
    "pension_insured",
    "medical_insured",
    "family_doctor",
    "rehab_needed",
    "rehab_received",
    "device_needed",
    "culture_sports",
    "education_stage",
    "household_id",
)
PERSONAL_COLUMNS = ("name", "id_number", "phone", "address")


def residents_frame(store: Store, *, personal: bool = False) -> pd.DataFrame:
    """Residents, one row each, indexed by resident id (in id order).

    Columns as in :data:`RESIDENT_COLUMNS` (``lon``/``lat``: the household's own
    GPS point, NaN when absent), plus :data:`PERSONAL_COLUMNS` when ``personal``,
    plus ``tie_key``: the rank of the ID number (0 = smallest), which orders
    residents on equal terms whatever order they were imported in.
    """
    cols = [*RESIDENT_COLUMNS, *(PERSONAL_COLUMNS if personal else ())]
    with store.read() as s:
        rows = s.execute(
            select(*(getattr(t.Resident, c) for c in cols)).order_by(t.Resident.id)
        ).all()
    # column-wise construction: several times faster than row records
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(cols)
    frame = pd.DataFrame(
        {c: pd.Series(v, dtype=object) for c, v in zip(cols, columns, strict=True)}
    )
    frame = frame.infer_objects()
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    frame["tie_key"] = _id_number_rank(store, frame["id"])
    return frame.set_index("id", drop=False)


def _id_number_rank(store: Store, ids: pd.Series) -> NDArray[np.int64]:
    """Per resident (in the order of ``ids``): the rank of its ID number (code-point
    order, the same on every database), the tie-break key of the capacity split
    that does not depend on the order rows were imported in."""
    with store.read() as s:
        rows = s.execute(select(t.Resident.id, t.Resident.id_number)).all()
    by_number = sorted(rows, key=lambda r: (str(r[1]), int(r[0])))
    rank = pd.Series(np.arange(len(by_number), dtype=np.int64), index=[r[0] for r in by_number])
    return rank.reindex(ids.to_numpy()).fillna(-1).to_numpy(np.int64)


def villages_frame(store: Store) -> gpd.GeoDataFrame:
    """Villages with their town name, the point to route from and the polygon.

    Any mix works: villages with a committee point, with only a polygon, with
    both, or with neither.

    Columns
    -------
    code, name, town_code, town_name
        The village and its town.
    lon, lat
        WGS-84 point every travel computation starts from: the committee point
        when known, else a point inside the polygon (its representative point),
        else NaN (the village is *not located*).
    point_source
        ``"point"``, ``"polygon"`` or None (not located).
    synthetic
        Geometry from the synthetic demo.
    polygon
        The boundary (shapely Polygon/MultiPolygon) or None.
    geometry
        For maps and the GeoPackage: the polygon when known, else the point,
        else None.
    """
    with store.read() as s:
        rows = s.execute(
            select(
                t.Village.code,
                t.Village.name,
                t.Village.town_code,
                t.Town.name,
                t.Village.lon,
                t.Village.lat,
                t.Village.synthetic,
                t.Village.polygon,
            )
            .join(t.Town, t.Town.code == t.Village.town_code)
            .order_by(t.Village.code)
        ).all()
    cols = ["code", "name", "town_code", "town_name", "lon", "lat", "synthetic", "polygon"]
    frame = pd.DataFrame(
        {c: pd.Series([r[i] for r in rows], dtype=object) for i, c in enumerate(cols)}
    )
    polygons = [_polygon(p) for p in frame["polygon"]]
    lon = np.array(pd.to_numeric(frame["lon"], errors="coerce"), dtype=np.float64)
    lat = np.array(pd.to_numeric(frame["lat"], errors="coerce"), dtype=np.float64)
    stored = np.isfinite(lon) & np.isfinite(lat)
    source: list[str | None] = []
    for i, poly in enumerate(polygons):
        if stored[i]:
            source.append("point")
        elif poly is not None:
            rp = poly.representative_point()
            lon[i], lat[i] = rp.x, rp.y
            source.append("polygon")
        else:
            lon[i] = lat[i] = np.nan
            source.append(None)
    frame["lon"], frame["lat"] = lon, lat
    frame["point_source"] = pd.Series(source, dtype=object)
    frame["synthetic"] = frame["synthetic"].fillna(False).astype(bool)
    frame["polygon"] = pd.Series(polygons, dtype=object)
    geoms = [
        poly if poly is not None else (Point(x, y) if src is not None else None)
        for poly, x, y, src in zip(polygons, lon, lat, source, strict=True)
    ]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


def _polygon(text: object) -> BaseGeometry | None:
    """A stored GeoJSON polygon (None when absent or empty)."""
    if not isinstance(text, str) or not text.strip():
        return None
    geom = shape(json.loads(text))
    return None if geom.is_empty else geom


def facilities_frame(store: Store) -> gpd.GeoDataFrame:
    """Facilities with their points: ``id, key, type, name, village_code, town_code,
    lon, lat, capacity, placed, geometry``."""
    cols = [
        "id",
        "key",
        "type",
        "name",
        "village_code",
        "town_code",
        "lon",
        "lat",
        "capacity",
        "placed",
    ]
    with store.read() as s:
        rows = s.execute(
            select(*(getattr(t.Facility, c) for c in cols)).order_by(t.Facility.id)
        ).all()
    frame = pd.DataFrame(rows, columns=cols)
    geoms = [
        Point(x, y) if pd.notna(x) else None
        for x, y in zip(frame["lon"], frame["lat"], strict=True)
    ]
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")


DEVICE_COLUMNS = ("id", "resident_id", "device_type", "issued_on", "service_years", "replaced_on")


def devices_frame(store: Store) -> pd.DataFrame:
    """Every device issued, in id order: ``id, resident_id, device_type, issued_on,
    service_years, replaced_on`` (dates as :class:`datetime.date`, ``replaced_on``
    None when not replaced; service life in years)."""
    with store.read() as s:
        rows = s.execute(
            select(*(getattr(t.Device, c) for c in DEVICE_COLUMNS)).order_by(t.Device.id)
        ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(DEVICE_COLUMNS)
    return pd.DataFrame(
        {c: pd.Series(v, dtype=object) for c, v in zip(DEVICE_COLUMNS, columns, strict=True)}
    )


def resident_id_numbers(store: Store) -> dict[int, str]:
    """ID numbers by resident id, for masking only (names are never loaded)."""
    with store.read() as s:
        rows = s.execute(select(t.Resident.id, t.Resident.id_number).order_by(t.Resident.id)).all()
    return {int(rid): number for rid, number in rows}


def resident_addresses(store: Store) -> dict[int, str | None]:
    """Addresses by resident id (residents with one), for grouping into families only."""
    with store.read() as s:
        rows = s.execute(
            select(t.Resident.id, t.Resident.address)
            .where(t.Resident.address.is_not(None))
            .order_by(t.Resident.id)
        ).all()
    return {int(rid): address for rid, address in rows}
