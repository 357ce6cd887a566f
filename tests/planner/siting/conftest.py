"""Factories for siting tests: small random problems and hand-built ones.

Plain functions (imported by the test modules) so that one instance can be
built with different objectives and options.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner.siting.problem import SiteGroup, SitingProblem

THRESHOLD = 10.0  # covering threshold, minutes
REACH = 25.0  # pairs are listed up to this many minutes (p-median uses them)
UNSERVED = 40.0  # p-median penalty per unassigned person, above REACH


def random_geometry(
    seed: int, *, n: tuple[int, int] = (15, 40), m: tuple[int, int] = (6, 12)
) -> dict[str, Any]:
    """Random points and sites in a 10 km square, minutes = 3 × distance.

    Returns the arrays shared by every objective: ``demand``, ``minutes``
    (dense n × m), ``site_xy``.
    """
    rng = np.random.default_rng(seed)
    n_d = int(rng.integers(n[0], n[1] + 1))
    n_s = int(rng.integers(m[0], m[1] + 1))
    pts = rng.uniform(0, 10, (n_d, 2))
    sites = rng.uniform(0, 10, (n_s, 2))
    minutes = np.round(3.0 * np.linalg.norm(pts[:, None, :] - sites[None, :, :], axis=2), 3)
    demand = rng.integers(1, 60, n_d).astype(float)
    return {"rng": rng, "demand": demand, "minutes": minutes, "site_xy": sites}


def pairs_from_dense(
    minutes: NDArray[np.float64], reach: float = REACH
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The (demand, site, minutes) pairs with finite minutes ≤ ``reach``."""
    i, j = np.nonzero(np.isfinite(minutes) & (minutes <= reach))
    return i.astype(np.int64), j.astype(np.int64), minutes[i, j]


def random_problem(
    seed: int,
    objective: str,
    *,
    capacitated: bool = False,
    n: tuple[int, int] = (15, 40),
    m: tuple[int, int] = (6, 12),
    **overrides: Any,
) -> SitingProblem:
    """A random small siting problem with existing sites, costs, groups, upgrades.

    The instance (points, sites, existing, costs, capacities, rules) depends on
    ``seed`` only, so the same seed gives the same geography for every
    objective. ``overrides`` replace any :class:`SitingProblem` field.
    """
    g = random_geometry(seed, n=n, m=m)
    rng: np.random.Generator = g["rng"]
    demand, minutes, xy = g["demand"], g["minutes"], g["site_xy"]
    n_s = minutes.shape[1]
    existing = np.zeros(n_s, bool)
    existing[rng.choice(n_s, int(rng.integers(1, 3)), replace=False)] = True
    site_cost = rng.integers(2, 10, n_s).astype(float) * 10_000
    site_capacity = rng.integers(40, 160, n_s).astype(float)
    site_capacity[rng.random(n_s) < 0.15] = np.inf
    upgrade_cost = np.full(n_s, np.nan)
    upgrade_capacity = np.zeros(n_s)
    ex = np.flatnonzero(existing)
    upgrade_cost[ex[:1]] = rng.integers(1, 6) * 10_000.0  # the first existing one
    upgrade_capacity[ex] = 80.0
    # two towns split at x = 5; a town without an existing site needs one
    west = np.flatnonzero(xy[:, 0] < 5)
    east = np.flatnonzero(xy[:, 0] >= 5)
    groups = tuple(
        SiteGroup(name=name, sites=sites, minimum=1)
        for name, sites in (("西镇", west), ("东镇", east))
        if len(sites) and (not existing[sites].all()) and rng.random() < 0.7
    )
    max_new = int(rng.integers(2, 4))
    budget = float(rng.integers(10, 25) * 10_000) if rng.random() < 0.6 else None
    pd_, ps, pm = pairs_from_dense(minutes)
    fields: dict[str, Any] = {
        "objective": objective,
        "demand": demand,
        "pair_demand": pd_,
        "pair_site": ps,
        "pair_minutes": pm,
        "existing": existing,
        "site_cost": site_cost,
        "site_capacity": site_capacity,
        "threshold_min": THRESHOLD,
        "capacitated": capacitated,
        "max_new": max_new,
        "budget": budget,
        "upgrade_cost": upgrade_cost,
        "upgrade_capacity": upgrade_capacity,
        "max_upgrades": 1,
        "groups": groups,
        "target": float(rng.choice([0.8, 0.9, 1.0])),
        "unserved_minutes": UNSERVED,
    }
    if objective == "lscp":
        fields["max_new"] = None  # the target decides how many
        fields["budget"] = None
    fields.update(overrides)
    return SitingProblem(**fields)


def line_problem(objective: str = "mclp", **overrides: Any) -> SitingProblem:
    """Five villages on a road, 6 minutes apart; a candidate site in each.

    Villages A–E at 0, 6, 12, 18, 24 minutes with 10, 50, 20, 50, 10 persons;
    candidate j sits in village j. Threshold 7 minutes: a site covers its
    village and the neighbours.
    """
    pos = np.array([0.0, 6.0, 12.0, 18.0, 24.0])
    minutes = np.abs(pos[:, None] - pos[None, :])
    pd_, ps, pm = pairs_from_dense(minutes, reach=np.inf)
    fields: dict[str, Any] = {
        "objective": objective,
        "demand": np.array([10.0, 50.0, 20.0, 50.0, 10.0]),
        "pair_demand": pd_,
        "pair_site": ps,
        "pair_minutes": pm,
        "existing": np.zeros(5, bool),
        "site_cost": np.full(5, 100_000.0),
        "site_capacity": np.full(5, np.inf),
        "threshold_min": 7.0,
        "max_new": 1,
        "unserved_minutes": 100.0,
    }
    fields.update(overrides)
    return SitingProblem(**fields)
