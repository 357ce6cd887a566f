"""The roads inside one demo village: residential streets, spurs, tracks, paths, steps.

:func:`village_streets` grows them as random walks from the village's hub (its
committee point) that stop at the village border. Villages inside a street grid
get only service spurs; hill villages get more tracks, paths and steps.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry.base import BaseGeometry

from data.demo._geometry import Village, name_stem
from data.demo._street_grid import STREET_SUFFIXES
from data.demo._ways import NetBuilder, random_walk


def village_streets(
    net: NetBuilder,
    village: Village,
    hub: int,
    region: BaseGeometry,
    rng: np.random.Generator,
    *,
    gridded: bool,
) -> None:
    """Residential streets, service spurs, tracks, paths and steps of one village."""
    stem = name_stem(village.name)
    hilly = village.hilly
    street_nodes: list[int] = [hub]
    if not gridded:
        _residential(net, village, hub, region, rng, street_nodes=street_nodes, stem=stem)
    _service_spurs(net, region, rng, street_nodes=street_nodes)
    n_track = int(rng.integers(2, 5)) if hilly else int(rng.integers(0, 3))
    if gridded:
        n_track = 0
    track_ends = _tracks(net, n_track, region, rng, street_nodes=street_nodes, stem=stem)
    n_path = int(rng.integers(1, 3)) if hilly else int(rng.random() < 0.25)
    if gridded:
        n_path = 0
    _paths(net, n_path, region, rng, starts=track_ends or street_nodes, stem=stem, hilly=hilly)
    if hilly and rng.random() < 0.4:
        _steps(net, region, rng, street_nodes=street_nodes)


def _residential(
    net: NetBuilder,
    village: Village,
    hub: int,
    region: BaseGeometry,
    rng: np.random.Generator,
    *,
    street_nodes: list[int],
    stem: str,
) -> None:
    """Residential streets (one for a farm, 1–2 in the hills, 2–4 elsewhere); their
    nodes are added to ``street_nodes``."""
    if village.kind == "farm":
        n_res = 1
    elif village.hilly:
        n_res = int(rng.integers(1, 3))
    else:
        n_res = int(rng.integers(2, 5))
    suffixes = list(STREET_SUFFIXES)
    order = rng.permutation(len(suffixes))
    for k in range(n_res):
        start = hub if k == 0 or rng.random() < 0.5 else int(rng.choice(street_nodes))
        pts = random_walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=rng.uniform(35.0, 55.0),
            steps=int(rng.integers(4, 10)),
            turn=0.15,
            region=region,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        refs = net.chain(start, pts)
        tags = {"highway": "residential"}
        if rng.random() < 0.6:
            tags["name"] = stem + suffixes[int(order[k % len(order)])]
        if rng.random() < 0.4:
            tags["surface"] = "concrete"
        net.add(refs, tags)
        street_nodes.extend(refs[1:])


def _service_spurs(
    net: NetBuilder, region: BaseGeometry, rng: np.random.Generator, *, street_nodes: list[int]
) -> None:
    """1–3 short service roads off the streets (off the hub when there are none)."""
    spur_from = street_nodes[1:] or street_nodes
    for _ in range(int(rng.integers(1, 4))):
        start = int(rng.choice(spur_from))
        pts = random_walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=rng.uniform(30.0, 45.0),
            steps=int(rng.integers(1, 4)),
            turn=0.1,
            region=region,
            rng=rng,
        )
        if len(pts):
            net.add(net.chain(start, pts), {"highway": "service"})


def _tracks(
    net: NetBuilder,
    count: int,
    region: BaseGeometry,
    rng: np.random.Generator,
    *,
    street_nodes: list[int],
    stem: str,
) -> list[int]:
    """``count`` tracks off the streets (some ``access=no``, some ``wheelchair=no``);
    returns their end nodes."""
    track_ends: list[int] = []
    for _ in range(count):
        start = int(rng.choice(street_nodes))
        pts = random_walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=50.0,
            steps=int(rng.integers(4, 17)),
            turn=0.35,
            region=region,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        refs = net.chain(start, pts)
        tags = {
            "highway": "track",
            "tracktype": str(rng.choice(["grade2", "grade3", "grade4", "grade5"])),
            "surface": str(rng.choice(["gravel", "dirt", "ground", "compacted"])),
        }
        if rng.random() < 0.6:
            tags["smoothness"] = str(rng.choice(["bad", "very_bad", "horrible"]))
        if rng.random() < 0.12:
            tags["access"] = "no"
            tags["name"] = f"{stem}林区道路"
        if rng.random() < 0.5:
            tags["wheelchair"] = "no"
        net.add(refs, tags)
        track_ends.append(refs[-1])
    return track_ends


def _paths(
    net: NetBuilder,
    count: int,
    region: BaseGeometry,
    rng: np.random.Generator,
    *,
    starts: list[int],
    stem: str,
    hilly: bool,
) -> None:
    """``count`` footpaths from ``starts`` (the track ends, else the streets)."""
    for _ in range(count):
        start = int(rng.choice(starts))
        pts = random_walk(
            net.coords(start),
            angle=rng.uniform(0, 2 * math.pi),
            step=30.0,
            steps=int(rng.integers(3, 11)),
            turn=0.45,
            region=region,
            rng=rng,
        )
        if len(pts) == 0:
            continue
        tags = {"highway": "path", "surface": str(rng.choice(["ground", "dirt", "rock"]))}
        if rng.random() < 0.5:
            tags["wheelchair"] = "no"
        if hilly and rng.random() < 0.3:
            tags["name"] = f"{stem}古道"
        net.add(net.chain(start, pts), tags)


def _steps(
    net: NetBuilder, region: BaseGeometry, rng: np.random.Generator, *, street_nodes: list[int]
) -> None:
    """A short flight of steps off the streets (``wheelchair=no``)."""
    start = int(rng.choice(street_nodes))
    pts = random_walk(
        net.coords(start),
        angle=rng.uniform(0, 2 * math.pi),
        step=20.0,
        steps=2,
        turn=0.1,
        region=region,
        rng=rng,
    )
    if len(pts):
        steps_tags = {
            "highway": "steps",
            "wheelchair": "no",
            "step_count": str(int(rng.integers(12, 60))),
        }
        net.add(net.chain(start, pts), steps_tags)
