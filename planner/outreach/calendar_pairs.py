"""The second village of an outreach month, by drive from its service point.

Step 4 of :func:`planner.outreach.calendar.plan_year`: a village joins a month's
first village only within ``pair_max_drive_min`` minutes' drive of its service
point (:class:`PairDrive`, on the drive network: :func:`network_pair_drive`),
in the same town when ``pair_same_town``, and when the home visits of both fit
the month's capacity. :func:`_pairing` gives the calendar's ``pairing`` record
(why there is no pairing at all, when there is none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from planner.outreach.calendar_towns import _order
from planner.settings import Config, OutreachConfig
from planner.units import MONTHS_PER_YEAR, SECONDS_PER_MINUTE

__all__ = ["PairDrive", "network_pair_drive"]

MONTHS = MONTHS_PER_YEAR
DRIVE_DECIMALS = 1


@dataclass(frozen=True)
class PairDrive:
    """Drive minutes from a month's service point to candidate second villages.

    Attributes
    ----------
    minutes
        ``minutes(host_code, codes)``: drive minutes from the service point of
        village ``host_code`` (its committee point) to each village of
        ``codes``; ``inf`` where not known or not reachable.
    basis
        How the minutes are counted, for the output: ``"network"`` (the drive
        network's travel times between the villages' points).
    """

    minutes: Callable[[str, Sequence[str]], np.ndarray]
    basis: str = "network"


def network_pair_drive(
    network: Any, villages: pd.DataFrame, *, max_m: float, limit_min: float
) -> PairDrive:
    """:class:`PairDrive` on the drive network.

    Parameters
    ----------
    network
        The drive network (:class:`geo.graph.RoadNetwork`).
    villages
        :func:`planner.store.frames.villages_frame`: ``code``, ``lon``, ``lat``
        (WGS-84; NaN where not located).
    max_m
        ``[network] snap_max_m``: a village farther than this many metres from
        the network has no drive time (never paired).
    limit_min
        Search cut-off, minutes (``pair_max_drive_min``): farther is ``inf``.
    """
    from geo.traveltime import od_matrix
    from planner.coverage.offnetwork import snap_to_network

    codes = villages["code"].astype(str).tolist()
    snap = snap_to_network(network, villages["lon"], villages["lat"], max_m=max_m)
    node = dict(zip(codes, snap.node.tolist(), strict=True))

    def minutes(host: str, targets: Sequence[str]) -> np.ndarray:
        out = np.full(len(targets), np.inf)
        src = node.get(host, -1)
        pos = [i for i, c in enumerate(targets) if node.get(c, -1) >= 0]
        if src < 0 or not pos:
            return out
        od = od_matrix(
            network,
            [src],
            [node[targets[i]] for i in pos],
            limit_s=limit_min * SECONDS_PER_MINUTE,
        )
        out[np.asarray(pos, int)[od.cols]] = od.minutes()
        return out

    return PairDrive(minutes=minutes, basis="network")


def _pairing(oc: OutreachConfig, drive: PairDrive | None) -> dict[str, Any]:
    """The ``pairing`` of :class:`Calendar`."""
    note = None
    if oc.villages_per_month < 2:
        note = "[outreach] villages_per_month = 1：每月只去一个村社"
    elif drive is None:
        note = (
            "尚未建立道路网络，无法核算车程，每月只排一个村社"
            "（运行 coverplan network build 后按 [outreach] pair_max_drive_min 配对）"
        )
    return {
        "basis": "none" if note or drive is None else drive.basis,
        "max_drive_min": oc.pair_max_drive_min,
        "same_town": oc.pair_same_town,
        "note": note,
    }


def _pairs(
    needs: pd.DataFrame,
    allowed: np.ndarray,
    hosts: list[int],
    *,
    drive: PairDrive,
    config: Config,
    capacity: int,
) -> dict[int, tuple[int, float]]:
    """Month → (second village, its drive minutes from the service point).

    Villages not yet placed, highest need first, each into the earliest month
    whose first village's service point is within ``pair_max_drive_min``, in
    its town when ``pair_same_town``, with room for both villages' home visits.
    """
    oc = config.outreach
    load = np.minimum(needs["home_visits"].to_numpy(float), capacity)
    town = needs["town_code"].astype(str).to_numpy()
    codes = needs.index.astype(str).to_numpy()
    placed = {v for v in hosts if v >= 0}
    rest = [v for v in _order(needs, np.flatnonzero(allowed.any(axis=1))) if v not in placed]
    minutes: dict[int, dict[int, float]] = {}
    for m, h in enumerate(hosts):
        if h < 0:
            continue
        cand = [v for v in rest if not oc.pair_same_town or town[v] == town[h]]
        cand = [v for v in cand if allowed[v, m] and load[h] + load[v] <= capacity]
        got = drive.minutes(str(codes[h]), [str(codes[v]) for v in cand]) if cand else np.empty(0)
        minutes[m] = {
            v: float(d)
            for v, d in zip(cand, got, strict=True)
            if np.isfinite(d) and d <= oc.pair_max_drive_min
        }
    out: dict[int, tuple[int, float]] = {}
    for v in rest:
        for m in range(MONTHS):
            if m not in out and v in minutes.get(m, {}):
                out[m] = (v, round(minutes[m][v], DRIVE_DECIMALS))
                break
    return out
