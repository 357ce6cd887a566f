"""Points off the road network: snapped with the configured limit, reported, never covered.

A point farther than ``[network] snap_max_m`` (great-circle metres) from the
node it snaps to is *off the network*: a resident's household, a village's
point, a facility, a candidate site, the outreach office or service point.
Every command that routes from such a point counts it as not reachable, with
that reason, instead of routing from a node that merely happens to be the
closest one (and may sit next to a facility), and lists it in its ``--json``
under ``off_network``. A point that is missing altogether (a village with
neither a committee point nor a polygon) is *not located*.

Entries of the ``off_network`` list (one per point and mode; residents are
aggregated per village, never named)::

    {"kind": "village"|"facility"|"candidate", "code"|"id": …, "name": …,
     "distance_m": …, "mode": …}
    {"kind": "resident", "village_code": …, "village_name": …, "count": N,
     "max_distance_m": …, "mode": …}
    {"kind": "office"|"service_point", "name": …, "distance_m": …, "mode": …}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from geo.graph import RoadNetwork
from geo.network import snap_points
from planner.errors import NetworkCoverageError
from planner.jsonable import to_jsonable
from planner.units import PERCENT

__all__ = [
    "KIND_LABELS",
    "NetworkCoverageError",
    "PointSnap",
    "VillageShare",
    "not_located_summary",
    "point_entries",
    "resident_entries",
    "snap_to_network",
    "summary_zh",
    "village_share",
]

KINDS = ("village", "facility", "candidate", "resident", "office", "service_point", "point")
KIND_LABELS = {  # Chinese noun and measure word per kind
    "village": ("村社", "个"),
    "facility": ("设施", "处"),
    "candidate": ("候选点", "个"),
    "resident": ("住户", "人"),
    "office": ("出发地点", "处"),
    "service_point": ("服务点", "处"),
    "point": ("点位", "个"),
}
DISTANCE_DECIMALS = 1
FARTHEST_SHOWN = 5  # villages named in a refusal message


@dataclass(frozen=True)
class PointSnap:
    """Points of one kind snapped to one mode's network, with the configured limit.

    Attributes
    ----------
    node
        Nearest network node of each point; ``-1`` when the point is missing
        or off the network (so nothing is ever routed from it).
    nearest
        Nearest network node whether off the network or not (``-1``: no point).
    distance_m
        Great-circle metres to ``nearest``; NaN when the point is missing.
    located
        The point exists (finite longitude and latitude).
    off_network
        ``distance_m > max_m``.
    max_m
        The limit, metres (``[network] snap_max_m``).
    mode
        The network's travel mode.
    """

    node: NDArray[np.int64]
    nearest: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    located: NDArray[np.bool_]
    off_network: NDArray[np.bool_]
    max_m: float
    mode: str

    @property
    def usable(self) -> NDArray[np.bool_]:
        """Located and on the network."""
        return np.asarray(self.located & ~self.off_network)


def snap_to_network(
    network: RoadNetwork, lon: ArrayLike, lat: ArrayLike, *, max_m: float
) -> PointSnap:
    """Snap WGS-84 points (NaN: missing) to ``network``; each distinct point once.

    Parameters
    ----------
    network
        The road network of one mode.
    lon, lat
        WGS-84 degrees, same length; NaN or None where a point is missing.
    max_m
        Points farther than this many metres from their nearest node are off
        the network.
    """
    lo = np.atleast_1d(np.asarray(lon, dtype=np.float64)).ravel()
    la = np.atleast_1d(np.asarray(lat, dtype=np.float64)).ravel()
    located = np.isfinite(lo) & np.isfinite(la)
    nearest = np.full(lo.shape, -1, dtype=np.int64)
    dist = np.full(lo.shape, np.nan)
    if located.any():
        pts = np.column_stack([lo[located], la[located]])
        uniq, inverse = np.unique(pts, axis=0, return_inverse=True)
        snap = snap_points(network, uniq[:, 0], uniq[:, 1], max_m=max_m)
        nearest[located] = snap.node[inverse.ravel()]
        dist[located] = snap.distance_m[inverse.ravel()]
    off = located & (np.nan_to_num(dist, nan=0.0) > max_m)
    node = np.where(located & ~off, nearest, -1)
    return PointSnap(
        node=node,
        nearest=nearest,
        distance_m=dist,
        located=located,
        off_network=off,
        max_m=float(max_m),
        mode=network.mode,
    )


def _metres(value: float) -> float:
    return round(float(value), DISTANCE_DECIMALS)


def point_entries(
    kind: str,
    snap: PointSnap,
    *,
    keys: Sequence[Any],
    names: Sequence[Any],
    key: str = "code",
) -> list[dict[str, Any]]:
    """``off_network`` entries of the off-network points of one kind (farthest first).

    Parameters
    ----------
    kind
        ``village``, ``facility``, ``candidate``, ``office``, ``service_point``
        or ``point``.
    snap
        The points' snap, aligned with ``keys`` and ``names``.
    keys, names
        Code (or id) and name of each point.
    key
        The entry's key for ``keys`` (``code`` for villages and candidates,
        ``id`` for facilities).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown off-network kind {kind!r}")
    idx = np.flatnonzero(snap.off_network)
    idx = idx[np.argsort(-snap.distance_m[idx], kind="stable")]
    return [
        {
            "kind": kind,
            key: to_jsonable(keys[int(i)]),
            "name": to_jsonable(names[int(i)]),
            "distance_m": _metres(snap.distance_m[i]),
            "mode": snap.mode,
        }
        for i in idx
    ]


def resident_entries(
    village_codes: ArrayLike,
    distance_m: ArrayLike,
    *,
    village_names: Mapping[str, str],
    mode: str,
) -> list[dict[str, Any]]:
    """``off_network`` entries of off-network residents, aggregated per village.

    Parameters
    ----------
    village_codes
        Village code of each off-network resident (one per person; None for
        residents awaiting village review).
    distance_m
        Metres from each person's point to the network.
    village_names
        Village code → name.
    mode
        The travel mode.
    """
    codes = pd.Series(np.asarray(village_codes, dtype=object)).fillna("")
    frame = pd.DataFrame({"village_code": codes.astype(str), "d": np.asarray(distance_m, float)})
    if frame.empty:
        return []
    g = frame.groupby("village_code", sort=True)["d"].agg(["size", "max"])
    g = g.sort_values(["size", "max"], ascending=False, kind="stable")
    return [
        {
            "kind": "resident",
            "village_code": str(code) or None,  # None: awaiting village review
            "village_name": village_names.get(str(code), ""),
            "count": int(row["size"]),
            "max_distance_m": _metres(row["max"]),
            "mode": mode,
        }
        for code, row in g.iterrows()
    ]


def summary_zh(entries: Iterable[Mapping[str, Any]], *, max_m: float) -> str:
    """One Chinese line: ``3 个村社、1 处设施距路网超过 500 米，按不可达计`` ("" when none).

    Points off several modes' networks are counted once per kind; residents
    are counted as persons (the largest count over the modes).
    """
    seen: dict[str, set[Any]] = {}
    persons: dict[tuple[str, str], int] = {}
    for e in entries:
        kind = str(e["kind"])
        if kind == "resident":
            k = (str(e["village_code"]), str(e["mode"]))
            persons[k] = persons.get(k, 0) + int(e["count"])
            continue
        ident = e.get("code", e.get("id", e.get("name")))
        seen.setdefault(kind, set()).add(ident)
    parts = []
    for kind in KINDS:
        if kind == "resident":
            per_mode: dict[str, int] = {}
            for (_, mode), n in persons.items():
                per_mode[mode] = per_mode.get(mode, 0) + n
            n = max(per_mode.values(), default=0)
        else:
            n = len(seen.get(kind, ()))
        if n:
            noun, measure = KIND_LABELS[kind]
            parts.append(f"{noun} {n} {measure}" if kind == "resident" else f"{n} {measure}{noun}")
    if not parts:
        return ""
    return f"{'、'.join(parts)}距路网超过 {max_m:g} 米，按不可达计"


def not_located_summary(entries: Iterable[Mapping[str, Any]]) -> str:
    """One Chinese line on residents of villages without any position ("" when none)."""
    rows = list(entries)
    if not rows:
        return ""
    persons = sum(int(r["count"]) for r in rows)
    names = "、".join(f"{r['village_name']}（{r['village_code']}）" for r in rows[:FARTHEST_SHOWN])
    more = f"等 {len(rows)} 个村社" if len(rows) > FARTHEST_SHOWN else ""
    return (
        f"{names}{more}没有点位或边界，其 {persons} 人未定位，按不可达计；"
        "请用 coverplan import villages 导入村社点位或边界"
    )


@dataclass(frozen=True)
class VillageShare:
    """How much of the district's villages a road network reaches.

    Attributes
    ----------
    located
        Villages with a point.
    within
        Of those, villages within ``max_m`` of the network.
    farthest
        Off-network villages, farthest first: ``code, name, distance_m``.
    max_m
        The snap limit, metres.
    """

    located: int
    within: int
    farthest: tuple[dict[str, Any], ...]
    max_m: float

    @property
    def share(self) -> float | None:
        """``within / located`` (None when no village has a point)."""
        return self.within / self.located if self.located else None

    def to_json(self) -> dict[str, Any]:
        return {
            "villages_located": self.located,
            "villages_within": self.within,
            "share": None if self.share is None else round(self.share, 4),
        }

    def refusal(self, *, file: str, mode: str, minimum: float) -> str:
        """The Chinese message refusing a network file that covers too little."""
        share = self.share or 0.0
        far = "、".join(
            f"{v['code']} {v['name']} {v['distance_m']:.0f} 米"
            for v in self.farthest[:FARTHEST_SHOWN]
        )
        return (
            f"道路网络文件 {file}（{mode}）只覆盖本区 {PERCENT * share:.0f}% 的村社"
            f"（{self.within}/{self.located} 个村社点位距路网不超过 {self.max_m:g} 米），"
            f"低于要求的 {PERCENT * minimum:.0f}%（[network] min_village_share）；"
            f"最远的村社：{far}。请确认该文件是本区的路网且范围完整；"
            "该文件未登记，数据库中已登记的路网不变。"
        )


def village_share(snap: PointSnap, *, codes: Sequence[Any], names: Sequence[Any]) -> VillageShare:
    """Share of the villages (with a point) that lie within the snap limit."""
    entries = point_entries("village", snap, keys=codes, names=names)
    return VillageShare(
        located=int(snap.located.sum()),
        within=int(snap.usable.sum()),
        farthest=tuple(
            {"code": e["code"], "name": e["name"], "distance_m": e["distance_m"]} for e in entries
        ),
        max_m=snap.max_m,
    )
