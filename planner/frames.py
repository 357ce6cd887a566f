"""The store's contents as (Geo)DataFrames for analysis. WGS-84, EPSG:4326.

Personal columns (name, ID, phone, address) are only loaded when asked for
(``personal=True``): analysis and aggregates never need them.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, shape
from sqlalchemy import select

from planner import tables as t
from planner.store import Store

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
)
PERSONAL_COLUMNS = ("name", "id_number", "phone", "address")


def residents_frame(store: Store, *, personal: bool = False) -> pd.DataFrame:
    """Residents, one row each, indexed by resident id (in id order).

    Columns as in :data:`RESIDENT_COLUMNS` (``lon``/``lat``: the household's own
    GPS point, NaN when absent), plus :data:`PERSONAL_COLUMNS` when ``personal``.
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
    return frame.set_index("id", drop=False)


def villages_frame(store: Store) -> gpd.GeoDataFrame:
    """Villages with their town name, committee point and polygon (may be None).

    Columns: ``code, name, town_code, town_name, lon, lat, synthetic, geometry``
    (the polygon when known, else the point).
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
    frame = pd.DataFrame(
        rows,
        columns=["code", "name", "town_code", "town_name", "lon", "lat", "synthetic", "polygon"],
    )
    geoms = [
        shape(json.loads(p)) if p else (Point(x, y) if x is not None else None)
        for p, x, y in zip(frame["polygon"], frame["lon"], frame["lat"], strict=True)
    ]
    return gpd.GeoDataFrame(frame.drop(columns="polygon"), geometry=geoms, crs="EPSG:4326")


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
