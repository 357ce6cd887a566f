"""Honest travel between homes: where each household stands, and the minutes of each move.

Every household to visit gets a ``point_source``:

- ``"recorded"``: a corrected point a team recorded on a route sheet
  (``coverplan visits import``, stored for the whole household); it wins over
  the register's point;
- ``"household"``: the household's own GPS point from the register (the survey app);
- ``"estimated"``: neither; the household stands at its village's point (the
  committee, else a point inside the boundary) — an estimate, shown as
  位置估计 on the sheets, without a navigation link.

Households are at the same **address** when they share the 户号 in one village,
or, without 户号, the same address text in one village; the stops of one address
are one place.

The travel seconds of a move from location ``a`` to ``b`` (the office, the
service point, households; ``network`` the drive time between the points'
network nodes, an estimated household's node being its village point's;
``hop(v)`` the hop seconds of village ``v``):

1. ``a`` and ``b`` at the same address: 0;
2. both estimated, in the same village: ``hop(v)`` — one move inside the village;
3. otherwise ``network(a, b)`` plus ``hop`` of the village of each estimated
   end: the drive reaches the village point, the hop goes from there to the
   door (or from the door back to it); this is the mixed rule (one estimated,
   one real household: network time from the village point plus the hop);
4. a move between two different addresses (at least one of them a household)
   never takes less than ``min_minutes``, whatever the network says (two
   points snapped to one node would otherwise be 0 minutes apart).

``hop(v)`` (``[outreach.hops]``): with ``by = "area"``, the mean distance
between two random points of a disc of the village's area, 128 R / (45 π) with
R = √(area / π), times ``detour``, at the ``mode``'s speed (``walk_kmh`` or
``drive_kmh``); with ``by = "fixed"``, or for a village without a boundary,
``minutes``; never less than ``min_minutes``. Seconds are rounded up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from planner.settings import OutreachHops
from planner.units import METRES_PER_KM, SECONDS_PER_MINUTE

__all__ = [
    "DISC_MEAN_FACTOR",
    "ESTIMATED",
    "HOUSEHOLD",
    "POINT_SOURCES",
    "RECORDED",
    "address_key",
    "hop_minutes",
    "place_households",
    "travel_seconds",
    "village_area_m2",
    "village_hop_minutes",
]

HOUSEHOLD, RECORDED, ESTIMATED = "household", "recorded", "estimated"
POINT_SOURCES = (HOUSEHOLD, RECORDED, ESTIMATED)
DISC_MEAN_FACTOR = 128 / (45 * math.pi)
"""Mean distance between two uniform random points of a disc, in radii (≈ 0.9054)."""
_GEOD = Geod(ellps="WGS84")


def village_area_m2(polygon: BaseGeometry | None) -> float | None:
    """Geodesic area of a WGS-84 village boundary, square metres (None without one)."""
    if polygon is None or polygon.is_empty:
        return None
    area = abs(float(_GEOD.geometry_area_perimeter(polygon)[0]))
    return area if area > 0 else None


def hop_minutes(area_m2: float | None, *, hops: OutreachHops) -> float:
    """Minutes of one move between homes of a village of ``area_m2`` square metres.

    Parameters
    ----------
    area_m2
        The village's area, square metres (None: unknown, ``minutes`` applies).
    hops
        ``[outreach.hops]``.

    Returns
    -------
    float
        ``max(min_minutes, d / speed)`` with ``d`` = 128 R / (45 π) × ``detour``
        metres, R = √(area / π), speed ``walk_kmh`` or ``drive_kmh`` by ``mode``;
        ``max(min_minutes, minutes)`` with ``by = "fixed"`` or without an area.
    """
    if hops.by == "fixed" or area_m2 is None or not area_m2 > 0:
        return max(hops.min_minutes, hops.minutes)
    radius = math.sqrt(area_m2 / math.pi)
    metres = DISC_MEAN_FACTOR * radius * hops.detour
    kmh = hops.walk_kmh if hops.mode == "walk" else hops.drive_kmh
    metres_per_minute = kmh * METRES_PER_KM / SECONDS_PER_MINUTE
    return max(hops.min_minutes, metres / metres_per_minute)


def village_hop_minutes(
    villages: pd.DataFrame, codes: Sequence[str], *, hops: OutreachHops
) -> dict[str, float]:
    """Hop minutes of each village of ``codes`` (``villages``: indexed by code, ``polygon``)."""
    has_polygon = "polygon" in villages.columns
    return {
        c: hop_minutes(
            village_area_m2(villages.at[c, "polygon"] if has_polygon else None), hops=hops
        )
        for c in dict.fromkeys(codes)
        if c in villages.index
    }


def _text(x: Any) -> str | None:
    """``x`` as trimmed text without spaces, None when missing or blank."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return "".join(str(x).split()) or None


def _number(x: Any) -> float | None:
    """``x`` as a finite float, None when missing."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def address_key(village_code: Any, household_id: Any, address: Any, key: str) -> str:
    """The address a household is at: its 户号 in its village, else its address text
    in its village, else its own ``key`` (an address of its own)."""
    v = _text(village_code) or ""
    hid = _text(household_id)
    if hid:
        return f"{v}|户号|{hid}"
    text = _text(address)
    if text:
        return f"{v}|地址|{text}"
    return f"{v}|{key}"


def place_households(
    home: pd.DataFrame,
    *,
    people: pd.DataFrame,
    contacts: pd.DataFrame,
    recorded: pd.DataFrame | None,
    villages: pd.DataFrame,
) -> pd.DataFrame:
    """The households of ``home`` with their point, its source and their address.

    Parameters
    ----------
    home
        :func:`planner.outreach.needs.person_needs`'s ``home`` frame (``key``,
        ``resident_id``, ``lead_id``, ``village_code``, …).
    people
        Residents with ``lon``, ``lat``, ``household_id`` and ``address``, by id.
    contacts
        Leads' ``address`` by lead id.
    recorded
        Points teams recorded: ``key``, ``lon``, ``lat`` (WGS-84), or None.
    villages
        Villages indexed by code with their routing point ``lon``, ``lat``.

    Returns
    -------
    pandas.DataFrame
        ``home`` with ``lon``, ``lat`` (WGS-84: the recorded point, else the
        household's own, else its village's), ``point_source``
        (``"recorded"``, ``"household"``, ``"estimated"``) and ``address_key``.
    """
    out = home.copy()
    rec: dict[str, tuple[float, float]] = {}
    if recorded is not None:
        for k, x, y in zip(recorded["key"], recorded["lon"], recorded["lat"], strict=True):
            rec[str(k)] = (float(x), float(y))
    lons, lats, sources, addresses = [], [], [], []
    for r in out.to_dict(orient="records"):
        key, code = str(r["key"]), r["village_code"]
        person: dict[Any, Any] = {}
        rid, lid = _number(r["resident_id"]), _number(r["lead_id"])
        if rid is not None and int(rid) in people.index:
            person = people.loc[int(rid)].to_dict()
        elif lid is not None and int(lid) in contacts.index:
            person = contacts.loc[int(lid)].to_dict()
        own = (_number(person.get("lon")), _number(person.get("lat")))
        if key in rec:
            (x, y), source = rec[key], RECORDED
        elif own[0] is not None and own[1] is not None:
            (x, y), source = (own[0], own[1]), HOUSEHOLD
        else:
            x = _number(villages.at[code, "lon"]) or math.nan
            y = _number(villages.at[code, "lat"]) or math.nan
            source = ESTIMATED
        lons.append(x)
        lats.append(y)
        sources.append(source)
        addresses.append(address_key(code, person.get("household_id"), person.get("address"), key))
    out["lon"] = np.array(lons, dtype=float)
    out["lat"] = np.array(lats, dtype=float)
    out["point_source"] = sources
    out["address_key"] = addresses
    return out


def travel_seconds(
    network_s: NDArray[np.int64],
    *,
    first_household: int,
    estimated: Sequence[bool],
    villages: Sequence[str],
    addresses: Sequence[str],
    hop_s: Mapping[str, int],
    min_s: int,
) -> NDArray[np.int64]:
    """The routing matrix: network seconds with the hop rule of this module applied.

    Parameters
    ----------
    network_s
        Whole seconds between the locations' network nodes (locations before
        ``first_household``: the office and the service point; then one per
        household, an estimated one at its village point's node).
    first_household
        Index of the first household location.
    estimated, villages, addresses
        Per household (in location order from ``first_household``): whether its
        position is estimated, its village code, its address key.
    hop_s
        Hop seconds per village code.
    min_s
        Least seconds of a move between two different addresses.

    Returns
    -------
    numpy.ndarray
        Whole seconds, the same shape as ``network_s``; the diagonal 0.
    """
    n = network_s.shape[0]
    k = n - first_household
    if not len(estimated) == len(villages) == len(addresses) == k:
        raise ValueError("one estimated flag, village and address per household location")
    est = np.zeros(n, dtype=bool)
    est[first_household:] = np.asarray(estimated, dtype=bool)
    hop = np.zeros(n, dtype=np.int64)
    hop[first_household:] = [int(hop_s.get(v, 0)) for v in villages]
    hop = np.where(est, hop, 0)
    out = network_s.astype(np.int64) + hop[:, None] + hop[None, :]
    vil = np.array([f"\x00{i}" for i in range(first_household)] + list(villages), dtype=object)
    adr = np.array([f"\x00{i}" for i in range(first_household)] + list(addresses), dtype=object)
    same_village_est = est[:, None] & est[None, :] & (vil[:, None] == vil[None, :])
    out = np.where(same_village_est, hop[:, None], out)
    is_home = np.zeros(n, dtype=bool)
    is_home[first_household:] = True
    involves_home = is_home[:, None] | is_home[None, :]
    same_address = adr[:, None] == adr[None, :]
    out = np.where(involves_home & ~same_address, np.maximum(out, min_s), out)
    out = np.where(same_address & is_home[:, None] & is_home[None, :], 0, out)
    np.fill_diagonal(out, 0)
    return out.astype(np.int64)
