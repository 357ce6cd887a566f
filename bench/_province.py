"""A generated province-scale instance: ≥ 1,000,000-node road graph, 20,000
villages, 2,000+ facilities, 1,000,000 residents, as the frames the planner uses.

Synthetic and seeded. The graph is a jittered lattice (~300 m spacing, about the
size of Zhejiang) with faster arterial rows and columns every 25 and 100 cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from geo.graph import RoadNetwork

SIDE = 1_000  # lattice side: SIDE² nodes
SPACING_M = 300.0
ORIGIN = (118.0, 27.2)  # south-west corner, WGS-84
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(28.7))
SPEEDS_KMH = {"local": 25.0, "secondary": 40.0, "trunk": 60.0}
VILLAGES = 20_000
TOWN_BLOCK = 32  # lattice cells per town side → ~1,000 towns
RESIDENTS = 1_000_000
FACILITIES = {
    "home": 1_300,
    "psych_station": 300,
    "child_rehab": 60,
    "device_point": 140,
    "service_window": 150,
    "rehab_hospital": 30,
    "care_center": 20,
    "accessible_community": 100,
}
CATEGORY_MIX = {
    "physical": 0.506,
    "hearing": 0.166,
    "psychiatric": 0.138,
    "vision": 0.085,
    "intellectual": 0.067,
    "multiple": 0.032,
    "speech": 0.006,
}


@dataclass(frozen=True)
class Province:
    network: RoadNetwork
    residents: pd.DataFrame
    villages: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame


def make_network(side: int = SIDE, *, seed: int = 7) -> RoadNetwork:
    rng = np.random.default_rng(seed)
    n = side * side
    r, c = np.divmod(np.arange(n), side)
    x = c * SPACING_M + rng.uniform(-40, 40, n)
    y = r * SPACING_M + rng.uniform(-40, 40, n)
    lon = ORIGIN[0] + x / M_PER_DEG_LON
    lat = ORIGIN[1] + y / M_PER_DEG_LAT
    right = np.flatnonzero(c < side - 1)
    up = np.flatnonzero(r < side - 1)
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + side])
    line = np.concatenate([r[right], c[up]])  # the row of a horizontal edge, column of a vertical
    speed = np.where(
        line % 100 == 0,
        SPEEDS_KMH["trunk"],
        np.where(line % 25 == 0, SPEEDS_KMH["secondary"], SPEEDS_KMH["local"]),
    )
    speed = speed * rng.uniform(0.8, 1.2, u.size)
    metres = np.hypot(x[u] - x[v], y[u] - y[v])
    secs = metres / (speed / 3.6)
    return RoadNetwork.from_edges(
        mode="drive",
        lon=lon,
        lat=lat,
        u=np.concatenate([u, v]),
        v=np.concatenate([v, u]),
        seconds=np.concatenate([secs, secs]),
        metres=np.concatenate([metres, metres]),
        source="generated province lattice",
    )


def make_province(
    *, seed: int = 7, side: int = SIDE, villages: int = VILLAGES, residents: int = RESIDENTS
) -> Province:
    rng = np.random.default_rng(seed)
    net = make_network(side, seed=seed)
    node = rng.choice(net.n_nodes, size=villages, replace=False)
    r, c = np.divmod(node, side)
    town = (r // TOWN_BLOCK) * 1_000 + (c // TOWN_BLOCK)
    codes = np.array([f"{330_000_000_000 + i}" for i in range(villages)])
    town_codes = np.array([f"33{t:07d}" for t in town])
    vil = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"村{i}" for i in range(villages)],
            "town_code": town_codes,
            "town_name": [f"镇{t}" for t in town],
            "lon": net.lon[node],
            "lat": net.lat[node],
            "synthetic": True,
        },
        geometry=points(net.lon[node], net.lat[node]),
        crs="EPSG:4326",
    )
    weights = rng.lognormal(0.0, 0.7, villages)
    home_of = rng.choice(villages, size=residents, p=weights / weights.sum())
    cats = rng.choice(list(CATEGORY_MIX), size=residents, p=np.array(list(CATEGORY_MIX.values())))
    birth = pd.to_datetime("2026-11-01") - pd.to_timedelta(
        np.clip(rng.normal(62, 18, residents), 1, 100) * 365.25, unit="D"
    )
    gps = rng.random(residents) < 0.15
    jitter = rng.normal(0, 0.002, (residents, 2))
    res = pd.DataFrame(
        {
            "id": np.arange(1, residents + 1),
            "sex": rng.choice(["男", "女"], residents),
            "birth_date": birth.normalize(),
            "category": cats,
            "grade": rng.choice([1, 2, 3, 4], size=residents, p=[0.19, 0.30, 0.23, 0.28]),
            "village_code": codes[home_of],
            "town_code": town_codes[home_of],
            "lon": np.where(gps, net.lon[node][home_of] + jitter[:, 0], np.nan),
            "lat": np.where(gps, net.lat[node][home_of] + jitter[:, 1], np.nan),
            "needs_review": False,
            "living_subsidy": rng.random(residents) < 0.24,
            "care_subsidy": rng.random(residents) < 0.47,
            "low_income": None,
            "lives_alone": False,
            "elderly_carer": False,
            "bedridden": rng.random(residents) < 0.03,
            "wheelchair": False,
            "supervised_medication": False,
            "stroke_aftercare": False,
            "employment": None,
            "retrofit_year": None,
            "reassessment_due": None,
            "last_visit": None,
        }
    ).set_index("id", drop=False)
    rows = []
    fid = 1
    for kind, count in FACILITIES.items():
        at = rng.choice(villages, size=count, replace=False)
        cap = None if kind == "accessible_community" else rng.integers(20, 120, count)
        for k, v in enumerate(at):
            rows.append(
                {
                    "id": fid,
                    "key": f"{kind}:{fid}",
                    "type": kind,
                    "name": f"{kind}{fid}",
                    "village_code": codes[v],
                    "town_code": town_codes[v],
                    "lon": float(net.lon[node[v]]),
                    "lat": float(net.lat[node[v]]),
                    "capacity": None if cap is None else int(cap[k]),
                    "placed": None,
                }
            )
            fid += 1
    fac = pd.DataFrame(rows)
    facilities = gpd.GeoDataFrame(fac, geometry=points(fac["lon"], fac["lat"]), crs="EPSG:4326")
    return Province(network=net, residents=res, villages=vil, facilities=facilities)
