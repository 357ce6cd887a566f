"""Siting instances for ``bench/siting.py``: the demo district and a generated province.

District: the embedded demo (built in a temporary directory, as
``bench/coverage.py`` does). Demand = eligible, non-bedridden residents of one
facility type per village, at the village point snapped to the drive network;
sites = the type's existing facilities (fixed open) followed by every village
point as a candidate; pairs = travel minutes from each demand point *to* each
site (residents travel to the facility).

Province: ``bench._province.make_network()`` (1,000 × 1,000 lattice); 20,000
village nodes (seeded), weights ``round(lognormal(0, 0.7) · 3 + 0.5)``; 5,100
of those villages are sites, the first 100 of them existing. The OD pairs
(≤ threshold) are cached as ``var/bench/*.npz`` keyed by the parameters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from planner.siting import SitingProblem

CACHE_DIR = Path("var/bench")


@dataclass(frozen=True)
class Instance:
    """Demand points, sites and reachable pairs (minutes) up to ``pairs_limit_min``."""

    name: str
    demand: NDArray[np.float64]
    existing: NDArray[np.bool_]
    new_capacity: float  # capacity of a new site (capacitated runs)
    existing_capacity: NDArray[np.float64]  # capacity of each existing site
    site_cost: NDArray[np.float64]
    pair_demand: NDArray[np.int64]
    pair_site: NDArray[np.int64]
    pair_minutes: NDArray[np.float64]
    pairs_limit_min: float
    threshold_min: float
    note: str = ""

    @property
    def n_demand(self) -> int:
        return len(self.demand)

    @property
    def n_sites(self) -> int:
        return len(self.existing)

    def problem(
        self,
        objective: str = "mclp",
        *,
        k: int | None = None,
        capacitated: bool = False,
        with_existing: bool = True,
        limit_min: float | None = None,
        target: float = 1.0,
    ) -> SitingProblem:
        """A :class:`SitingProblem` on this instance.

        ``with_existing=False`` drops the existing sites (a from-scratch
        problem on the candidates only); ``limit_min`` keeps only pairs within
        it (default: the covering threshold, or every stored pair for p-median).
        """
        keep_site = np.ones(self.n_sites, bool) if with_existing else ~self.existing
        pos = np.full(self.n_sites, -1, np.int64)
        pos[keep_site] = np.arange(int(keep_site.sum()))
        lim = limit_min
        if lim is None:
            lim = self.pairs_limit_min if objective == "pmedian" else self.threshold_min
        keep = (pos[self.pair_site] >= 0) & (self.pair_minutes <= lim)
        existing = self.existing[keep_site]
        cap = np.full(len(existing), np.inf)
        if capacitated:
            cap = np.where(existing, 0.0, self.new_capacity)
            cap[existing] = self.existing_capacity[keep_site[self.existing]]
        return SitingProblem(
            objective=objective,  # type: ignore[arg-type]
            demand=self.demand,
            pair_demand=self.pair_demand[keep],
            pair_site=pos[self.pair_site[keep]],
            pair_minutes=self.pair_minutes[keep],
            existing=existing,
            site_cost=self.site_cost[keep_site],
            site_capacity=cap,
            threshold_min=self.threshold_min,
            capacitated=capacitated,
            max_new=k,
            target=target,
        )


# --------------------------------------------------------------------------- district


def district_instance(workdir: Path, *, type_key: str = "home") -> tuple[Instance, dict[str, Any]]:
    """The demo district for one facility type; also returns build timings."""
    from data.demo.build import build_demo
    from geo.network import build_network
    from geo.traveltime import od_matrix
    from planner.networks import network_file
    from planner.services.coverage import compute_coverage
    from planner.settings import load_config
    from planner.store.core import open_store
    from planner.store.frames import facilities_frame, villages_frame

    info: dict[str, Any] = {}
    t0 = time.perf_counter()
    config = load_config()
    store = open_store(f"sqlite:///{workdir / 'demo.db'}")
    build_demo(store, config=config, data_dir=workdir, out_dir=workdir / "out")
    info["demo_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = build_network(network_file(store), profile=config.network.profile("drive")).network
    info["network_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cov = compute_coverage(store, config=config, networks={"drive": net}, isochrones=False)
    info["coverage_s"] = time.perf_counter() - t0
    ft = config.facility_types[type_key]
    info["label"] = ft.label
    tc = cov.type(type_key)
    info["coverage"] = {
        "eligible": tc.eligible,
        "covered": tc.covered,
        "covered_within_capacity": tc.covered_within_capacity,
    }

    t0 = time.perf_counter()
    people = cov.residents[(cov.residents["type"] == type_key) & ~cov.residents["home_service"]]
    vil = villages_frame(store).reset_index(drop=True)
    counts = people["village_code"].value_counts()
    demand = counts.reindex(vil["code"]).fillna(0.0).to_numpy(float)
    has = demand > 0
    vil_d = vil[has]
    demand = demand[has]
    d_nodes = net.snap(vil_d["lon"].to_numpy(float), vil_d["lat"].to_numpy(float)).node
    fac = facilities_frame(store)
    fac = fac[(fac["type"] == type_key) & fac["lon"].notna()]
    f_nodes = net.snap(fac["lon"].to_numpy(float), fac["lat"].to_numpy(float)).node
    c_nodes = net.snap(vil["lon"].to_numpy(float), vil["lat"].to_numpy(float)).node
    s_nodes = np.concatenate([f_nodes, c_nodes])
    existing = np.zeros(len(s_nodes), bool)
    existing[: len(f_nodes)] = True
    limit_min = 60.0  # p-median pairs; coverage uses ≤ threshold
    od = od_matrix(net, d_nodes, s_nodes, limit_s=limit_min * 60)
    info["od_s"] = time.perf_counter() - t0
    siting = getattr(ft, "siting", None)
    new_cap = float(getattr(siting, "capacity", 40.0) or 40.0)
    cost = float(getattr(siting, "build_cost", 800_000.0) or 800_000.0)
    inst = Instance(
        name=f"district {type_key}",
        demand=demand,
        existing=existing,
        new_capacity=new_cap,
        existing_capacity=fac["capacity"].astype(float).fillna(np.inf).to_numpy(),
        site_cost=np.where(existing, 0.0, cost),
        pair_demand=od.rows.astype(np.int64),
        pair_site=od.cols.astype(np.int64),
        pair_minutes=od.minutes(),
        pairs_limit_min=limit_min,
        threshold_min=float(ft.threshold_min),
        note=(
            f"{len(demand)} demand villages ({demand.sum():.0f} persons), "
            f"{int(existing.sum())} existing + {len(c_nodes)} candidate sites, "
            f"{od.nnz:,} pairs ≤ {limit_min:.0f} min"
        ),
    )
    return inst, info


# --------------------------------------------------------------------------- province


def province_instance(
    *,
    seed: int = 11,
    side: int = 1_000,
    villages: int = 20_000,
    sites: int = 5_100,
    existing: int = 100,
    threshold_min: float = 30.0,
    net_seed: int = 7,
) -> tuple[Instance, dict[str, Any]]:
    """The generated province; OD pairs from the cache when present."""
    info: dict[str, Any] = {}
    rng = np.random.default_rng(seed)
    v_nodes = rng.choice(side * side, size=villages, replace=False)
    weights = np.round(rng.lognormal(0.0, 0.7, villages) * 3 + 0.5)
    site_vil = rng.choice(villages, size=sites, replace=False)  # first `existing` are open
    key = (
        f"province_od_side{side}_net{net_seed}_seed{seed}_v{villages}_s{sites}"
        f"_t{threshold_min:g}.npz"
    )
    path = CACHE_DIR / key
    if path.exists():
        z = np.load(path)
        rows, cols, secs = z["rows"], z["cols"], z["seconds"]
        info["od_cached"] = str(path)
    else:
        from bench._province import make_network
        from geo.traveltime import od_matrix

        t0 = time.perf_counter()
        net = make_network(side, seed=net_seed)
        info["network_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        od = od_matrix(net, v_nodes, v_nodes[site_vil], limit_s=threshold_min * 60)
        info["od_s"] = time.perf_counter() - t0
        rows, cols, secs = od.rows.astype(np.int32), od.cols.astype(np.int32), od.seconds
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, rows=rows, cols=cols, seconds=secs)
        tmp.replace(path)
        info["od_saved"] = str(path)
    is_existing = np.zeros(sites, bool)
    is_existing[:existing] = True
    inst = Instance(
        name="province",
        demand=weights,
        existing=is_existing,
        new_capacity=40.0,
        existing_capacity=np.full(existing, 40.0),
        site_cost=np.where(is_existing, 0.0, 800_000.0),
        pair_demand=rows.astype(np.int64),
        pair_site=cols.astype(np.int64),
        pair_minutes=np.asarray(secs, np.float64) / 60.0,
        pairs_limit_min=threshold_min,
        threshold_min=threshold_min,
        note=(
            f"{villages:,} demand villages ({weights.sum():,.0f} persons), "
            f"{existing} existing + {sites - existing:,} candidate sites, "
            f"{len(secs):,} pairs ≤ {threshold_min:g} min"
        ),
    )
    return inst, info


def dense_minutes(inst: Instance, problem: SitingProblem, dtype: type = np.float64) -> np.ndarray:
    """Dense demand × site minutes of a problem's pairs (inf where no pair)."""
    out = np.full((problem.n_demand, problem.n_sites), np.inf, dtype=dtype)
    out[problem.pair_demand, problem.pair_site] = problem.pair_minutes
    return out
