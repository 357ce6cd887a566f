"""The demo road network as it is built: OSM ways, nodes in metres, random walks.

:class:`NetBuilder` collects nodes (in the local metric frame of
:mod:`data.demo._geometry`) and ways; :func:`random_walk` grows a street inside
a region. :class:`RoadNetwork` is the finished network in WGS-84 degrees, and
:func:`is_drivable` says which ways a car may use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

DRIVABLE_HIGHWAYS = (
    "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service", "track",
)  # fmt: skip
WALK_ONLY_HIGHWAYS = ("path", "footway", "steps")


@dataclass(frozen=True)
class Way:
    """An OSM way: node indexes (0-based) and tags."""

    refs: list[int]
    tags: dict[str, str]


@dataclass
class RoadNetwork:
    """Nodes (WGS-84 degrees, index = OSM id − 1), ways and each village's hub node."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    ways: list[Way]
    hubs: dict[str, int] = field(default_factory=dict)


def is_drivable(tags: dict[str, str]) -> bool:
    """True for ways a car may use: not path/footway/steps, nor a track with ``access=no``."""
    highway = tags.get("highway", "")
    if highway not in DRIVABLE_HIGHWAYS:
        return False
    return not (highway == "track" and tags.get("access") == "no")


class NetBuilder:
    """Nodes in the local metric frame and ways, as they are built."""

    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self.ways: list[Way] = []

    def node(self, x: float, y: float) -> int:
        """Add a node at ``(x, y)`` metres; its index."""
        self.xy.append((float(x), float(y)))
        return len(self.xy) - 1

    def chain(self, start: int, pts: NDArray[np.float64], end: int | None = None) -> list[int]:
        """``start``, new nodes at ``pts`` and ``end`` (if given), as way refs."""
        refs = [start] + [self.node(x, y) for x, y in pts]
        if end is not None:
            refs.append(end)
        return refs

    def add(self, refs: list[int], tags: dict[str, str]) -> None:
        """Add a way (ignored when it has fewer than two nodes)."""
        if len(refs) >= 2:
            self.ways.append(Way(refs, tags))

    def coords(self, idx: int) -> NDArray[np.float64]:
        """The position of node ``idx`` in metres."""
        return np.array(self.xy[idx])


def random_walk(
    start: NDArray[np.float64],
    *,
    angle: float,
    step: float,
    steps: int,
    turn: float,
    region: BaseGeometry,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """A random walk (metres) from ``start`` that stops before leaving ``region``."""
    out: list[NDArray[np.float64]] = []
    p = start
    for _ in range(steps):
        angle += rng.normal(0.0, turn)
        q = p + step * np.array([math.cos(angle), math.sin(angle)])
        if not shapely.contains_xy(region, q[0], q[1]):
            break
        out.append(q)
        p = q
    return np.array(out, dtype=np.float64).reshape(-1, 2)
