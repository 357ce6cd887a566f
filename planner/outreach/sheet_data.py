"""What only the teams' route sheets need from the store: full phones, village outlines.

:func:`stop_phones` gives the full phone number of each planned household (the
team calls ahead; :class:`~planner.outreach.plan.MonthPlan` keeps them out of its
JSON), :func:`village_outlines` the boundaries the sheets' route maps draw.
Used by :func:`planner.outreach.month.plan_month`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from shapely.geometry import MultiPolygon, Polygon

from planner.outreach.plan import TeamPlan

__all__ = ["Ring", "sheet_extras", "stop_phones", "village_outlines"]

Ring = tuple[tuple[float, float], ...]
"""A closed polygon ring of WGS-84 ``(lon, lat)`` points."""


def _phone(frame: pd.DataFrame, key: int | None) -> str:
    if key is None or key not in frame.index or "phone" not in frame.columns:
        return ""
    value: Any = frame.at[key, "phone"]
    return "" if value is None or pd.isna(value) else str(value).strip()


def stop_phones(
    teams: Sequence[TeamPlan], *, people: pd.DataFrame, contacts: pd.DataFrame
) -> dict[str, str]:
    """Visit key → full phone number of every planned household that has one.

    Parameters
    ----------
    teams
        The planned teams (only their stops' persons are looked up).
    people
        Residents indexed by resident id, with a ``phone`` column (personal frame).
    contacts
        Leads indexed by lead id, with a ``phone`` column.
    """
    out: dict[str, str] = {}
    for tm in teams:
        for day in tm.days:
            for stop in day.stops:
                who = stop.person
                if who.resident_id is not None:
                    phone = _phone(people, who.resident_id)
                else:
                    phone = _phone(contacts, who.lead_id)
                if phone:
                    out[stop.visit_key] = phone
    return out


def sheet_extras(
    teams: Sequence[TeamPlan],
    *,
    people: pd.DataFrame,
    contacts: pd.DataFrame,
    villages: pd.DataFrame,
    codes: Iterable[str],
) -> dict[str, Any]:
    """:attr:`MonthPlan.phones` and :attr:`MonthPlan.outlines` of a plan's teams.

    The outlines are those of ``codes`` (the month's villages) and of every
    village with a planned stop.
    """
    stops = (s.village_code for tm in teams for d in tm.days for s in d.stops)
    return {
        "phones": stop_phones(teams, people=people, contacts=contacts),
        "outlines": village_outlines(villages, [*codes, *stops]),
    }


def _rings(geom: Any) -> tuple[Ring, ...]:
    polys: Iterable[Polygon]
    if isinstance(geom, Polygon):
        polys = [geom]
    elif isinstance(geom, MultiPolygon):
        polys = list(geom.geoms)
    else:
        return ()
    return tuple(
        tuple((round(float(x), 6), round(float(y), 6)) for x, y, *_ in p.exterior.coords)
        for p in polys
        if not p.is_empty
    )


def village_outlines(
    villages: pd.DataFrame, codes: Iterable[str]
) -> Mapping[str, tuple[Ring, ...]]:
    """Village code → exterior rings of its polygon (WGS-84), for the given codes.

    ``villages`` is indexed by code with a ``polygon`` column (shapely or None);
    villages without a polygon are left out.
    """
    out: dict[str, tuple[Ring, ...]] = {}
    for code in sorted(set(codes)):
        if code in villages.index and "polygon" in villages.columns:
            rings = _rings(villages.at[code, "polygon"])
            if rings:
                out[code] = rings
    return out
