"""The what-if state of one facility type: open or close sites, change places, re-count.

Pure arrays, no store. :class:`WhatIfArrays` holds what never changes during a
what-if session: the eligible persons (village, origin group, tie key, whether
they travel), the sites (existing facilities and candidate points) and every
(group, site) pair within the type's threshold with its travel minutes — the
OD pairs are computed once when the session opens. :class:`WhatIfState` holds
what a click changes: which sites are open and their places.

A click (:meth:`WhatIfState.set_open`, :meth:`WhatIfState.set_places`) updates the
per-group count of open sites in reach incrementally (only the changed site's
pairs); :meth:`WhatIfState.evaluate` then counts

* in reach: travellers of the groups with at least one open site in reach (the
  coverage engine's ``covered``);
* within capacity: the nearest-first split
  (:func:`planner.coverage.nearest_first.nearest_first`) of those persons over
  the open sites' pairs, on the aggregated (group × site) graph — the same call,
  on the same pairs, keys and places, as :func:`planner.coverage.reach.type_reach`
  makes, so totals, per-village and per-site figures equal a full recompute of the
  coverage engine for the same open set. The split is recomputed whole on the
  aggregated graph (a few hundred groups × the open sites): measured on the demo
  (``make bench-whatif``, 2 shared cores, December 2026) 5–20 ms when the plain
  greedy reaches the maximum and 50–300 ms when the rule has to skip pairs to keep
  it (home, places short: median 45–100 ms per click depending on the load),
  against about 1 s for the engine in process and 4–20 s for ``coverplan
  coverage``. The last evaluations are cached by open set and places.

Per site: ``demand`` is the travellers whose nearest open site it is (on equal
minutes the smaller facility key, as the engine picks ``facility_id``), so the
demands of the open sites add up to the persons in reach; the status is
``shortage`` when that demand exceeds the places, else ``full`` when the
nearest-first split fills every place, else ``spare``.

:meth:`WhatIfState.gains` scores one more site (or more places at one) for every
candidate at once: persons newly in reach, persons within capacity gained (a
maximum flow on the residual network of the current split, one per candidate,
pruned by an upper bound) and the change of the total minutes to the nearest
open site.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow

from planner.coverage.nearest_first import nearest_first

__all__ = ["Evaluation", "Gains", "SiteStatus", "WhatIfArrays", "WhatIfState"]

SiteStatus = Literal["shortage", "full", "spare", "closed"]
_I64 = np.int64
#: Evaluations kept per session family (each a few arrays of the persons' size).
CACHED_EVALUATIONS = 64


@dataclass(frozen=True)
class WhatIfArrays:
    """What a what-if session never changes (indices, persons, minutes).

    Attributes
    ----------
    person_village
        Per eligible person: index of its village (``0..n_villages-1``).
    person_group
        Per eligible person: its origin group (``0..n_groups-1``; persons at one
        network node share a group), -1 when it cannot be reached (off the
        network, not located, or served at home).
    person_key
        Per eligible person: the distinct tie key of the capacity split (the ID
        number's rank).
    home_service
        Per eligible person: served at home (bedridden), never counted in reach.
    n_villages
        Villages of the district.
    pair_group, pair_site, pair_minutes
        Every (group, site) pair within the type's threshold, travel minutes.
    site_rank
        Per site: the distinct rank of its facility key (tie-break on equal minutes).
    places
        Per site: places at the start (``inf``: no limit).
    is_open
        Per site: open at the start.
    binding
        Capacity limits who is served (``capacity_binding``); False: every place
        is unlimited.
    """

    person_village: NDArray[np.int64]
    person_group: NDArray[np.int64]
    person_key: NDArray[np.int64]
    home_service: NDArray[np.bool_]
    n_villages: int
    pair_group: NDArray[np.int64]
    pair_site: NDArray[np.int64]
    pair_minutes: NDArray[np.float64]
    site_rank: NDArray[np.int64]
    places: NDArray[np.float64]
    is_open: NDArray[np.bool_]
    binding: bool = True

    @property
    def n_sites(self) -> int:
        """Sites (existing and candidate)."""
        return int(self.site_rank.shape[0])

    @property
    def n_groups(self) -> int:
        """Origin groups."""
        g = self.person_group
        return int(g.max()) + 1 if g.size and g.max() >= 0 else 0


@dataclass(frozen=True)
class Evaluation:
    """The figures of one open set (persons unless stated).

    Attributes
    ----------
    in_reach, within_capacity
        Travellers within the threshold of an open site; of those, given a place.
    person_in_reach, person_served
        Per eligible person.
    village_in_reach, village_served
        Per village (persons).
    site_demand
        Per site: travellers whose nearest open site it is (0 when closed).
    site_assigned
        Per site: persons given a place there.
    site_status
        Per site: ``shortage`` / ``full`` / ``spare`` / ``closed``.
    minutes
        Total minutes of the persons in reach to their nearest open site.
    """

    in_reach: int
    within_capacity: int
    person_in_reach: NDArray[np.bool_]
    person_served: NDArray[np.bool_]
    village_in_reach: NDArray[np.int64]
    village_served: NDArray[np.int64]
    site_demand: NDArray[np.int64]
    site_assigned: NDArray[np.int64]
    site_status: tuple[SiteStatus, ...]
    minutes: float
    group_served: NDArray[np.int64] = field(repr=False, default_factory=lambda: np.zeros(0, _I64))
    pair_assigned: NDArray[np.int64] = field(repr=False, default_factory=lambda: np.zeros(0, _I64))


@dataclass(frozen=True)
class Gains:
    """What one more decision adds, per site scored (persons; minutes).

    Attributes
    ----------
    site
        The site of each decision.
    in_reach
        Persons newly within reach (0 for more places at an open site).
    within_capacity
        Persons within capacity gained (exact maximum-flow increase).
    minutes
        Change of the total minutes to the nearest open site (may be negative).
    """

    site: NDArray[np.int64]
    in_reach: NDArray[np.int64]
    within_capacity: NDArray[np.int64]
    minutes: NDArray[np.float64]


class WhatIfState:
    """The open set and places of a what-if session, with in-reach counts kept up to date.

    Cheap to copy (:meth:`copy`: a few arrays of the size of the sites and groups;
    the static :class:`WhatIfArrays` are shared).
    """

    def __init__(self, arrays: WhatIfArrays) -> None:
        a = arrays
        self.a = a
        n_g, n_s = a.n_groups, a.n_sites
        travel = (a.person_group >= 0) & ~a.home_service
        self._demand = np.bincount(a.person_group[travel], minlength=n_g).astype(_I64)
        # pairs by site (incremental reach counts)
        by_site = np.argsort(a.pair_site, kind="stable")
        self._site_ptr = np.searchsorted(a.pair_site[by_site], np.arange(n_s + 1))
        self._site_groups = a.pair_group[by_site]
        self._site_minutes = a.pair_minutes[by_site]
        # pairs by (group, minutes, site rank): the nearest open site is the first open one
        order = np.lexsort((a.site_rank[a.pair_site], a.pair_minutes, a.pair_group))
        self._ng, self._ns, self._nm = (
            a.pair_group[order],
            a.pair_site[order],
            a.pair_minutes[order],
        )
        keys = a.pair_group * n_s + a.pair_site
        self._pair_order = np.argsort(keys, kind="stable")
        self._pair_keys = keys[self._pair_order]
        self.site_in_reach = np.bincount(
            a.pair_site, weights=self._demand[a.pair_group], minlength=n_s
        ).astype(_I64)
        self._cache: OrderedDict[bytes, Evaluation] = OrderedDict()  # shared by copies
        self._lock = threading.Lock()
        self.is_open = a.is_open.copy()
        self.places = a.places.astype(np.float64).copy()
        self.reach_count = np.zeros(n_g, dtype=_I64)
        for j in np.flatnonzero(self.is_open):
            self.reach_count[self._groups_of(int(j))] += 1

    def copy(self) -> WhatIfState:
        """An independent state sharing the static arrays."""
        new = object.__new__(WhatIfState)
        new.__dict__.update(self.__dict__)
        new.is_open = self.is_open.copy()
        new.places = self.places.copy()
        new.reach_count = self.reach_count.copy()
        return new

    def _groups_of(self, j: int) -> NDArray[np.int64]:
        return self._site_groups[self._site_ptr[j] : self._site_ptr[j + 1]]

    def set_open(self, j: int, is_open: bool) -> None:
        """Open or close site ``j`` (its pairs' groups gain or lose one site in reach)."""
        if bool(self.is_open[j]) == is_open:
            return
        self.is_open[j] = is_open
        self.reach_count[self._groups_of(j)] += 1 if is_open else -1

    def set_places(self, j: int, places: float) -> None:
        """Places of site ``j`` (``inf``: no limit)."""
        self.places[j] = places

    # ---- figures ------------------------------------------------------------------

    def _nearest(self) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Nearest open site and its minutes per group (-1 / inf: none)."""
        n_g = self.a.n_groups
        near = np.full(n_g, -1, dtype=_I64)
        mins = np.full(n_g, np.inf)
        hit = np.flatnonzero(self.is_open[self._ns])
        if hit.size:
            g = self._ng[hit]
            first = np.ones(hit.size, dtype=bool)
            first[1:] = g[1:] != g[:-1]
            near[g[first]] = self._ns[hit[first]]
            mins[g[first]] = self._nm[hit[first]]
        return near, mins

    def _split(self, reached: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The nearest-first split: per person the site given (-1: none), per site the load."""
        a = self.a
        n_s = a.n_sites
        person_site = np.full(a.person_group.shape[0], -1, dtype=_I64)
        load = np.zeros(n_s, dtype=_I64)
        travel = (a.person_group >= 0) & ~a.home_service
        idx = np.flatnonzero(travel & reached[np.maximum(a.person_group, 0)])
        if not idx.size:
            return person_site, load
        groups, group_of = np.unique(a.person_group[idx], return_inverse=True)
        in_group = np.full(a.n_groups, -1, dtype=_I64)
        in_group[groups] = np.arange(groups.size)
        keep = self.is_open[a.pair_site] & (in_group[a.pair_group] >= 0)
        open_sites = np.flatnonzero(self.is_open)
        col = np.full(n_s, -1, dtype=_I64)
        col[open_sites] = np.arange(open_sites.size)
        cap = self.places[open_sites] if a.binding else np.full(open_sites.size, np.inf)
        split = nearest_first(
            group_of,
            cap,
            group=in_group[a.pair_group[keep]],
            facility=col[a.pair_site[keep]],
            minutes=a.pair_minutes[keep],
            person_key=a.person_key[idx],
            facility_key=a.site_rank[open_sites],
        )
        placed = split.facility >= 0
        person_site[idx[placed]] = open_sites[split.facility[placed]]
        load[open_sites] = split.load
        return person_site, load

    def evaluate(self) -> Evaluation:
        """The figures of the current open set (see the module notes).

        The last :data:`CACHED_EVALUATIONS` evaluations are kept (shared by copies):
        toggling a site back, or two sessions on the same sites, cost nothing.
        """
        key = self.is_open.tobytes() + self.places.tobytes()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        ev = self._evaluate()
        with self._lock:
            self._cache[key] = ev
            while len(self._cache) > CACHED_EVALUATIONS:
                self._cache.popitem(last=False)
        return ev

    def _evaluate(self) -> Evaluation:
        a = self.a
        n_g, n_s, n_v = a.n_groups, a.n_sites, a.n_villages
        reached = self.reach_count > 0
        near, mins = self._nearest()
        travel = (a.person_group >= 0) & ~a.home_service
        pg = np.maximum(a.person_group, 0)
        person_in = travel & reached[pg]
        person_site, load = self._split(reached)
        served = person_site >= 0
        demand = np.bincount(near[reached], weights=self._demand[reached], minlength=n_s).astype(
            _I64
        )
        status: list[SiteStatus] = []
        for j in range(n_s):
            if not self.is_open[j]:
                status.append("closed")
            elif demand[j] > self.places[j]:
                status.append("shortage")
            elif a.binding and load[j] >= self.places[j]:
                status.append("full")
            else:
                status.append("spare")
        group_served = np.bincount(a.person_group[served], minlength=n_g).astype(_I64)
        pair_assigned = np.zeros(a.pair_group.shape[0], dtype=_I64)
        if served.any():
            key = a.person_group[served] * n_s + person_site[served]
            at = self._pair_order[np.searchsorted(self._pair_keys, key)]
            np.add.at(pair_assigned, at, 1)
        return Evaluation(
            in_reach=int(person_in.sum()),
            within_capacity=int(served.sum()),
            person_in_reach=person_in,
            person_served=served,
            village_in_reach=np.bincount(a.person_village[person_in], minlength=n_v).astype(_I64),
            village_served=np.bincount(a.person_village[served], minlength=n_v).astype(_I64),
            site_demand=demand,
            site_assigned=load,
            site_status=tuple(status),
            minutes=float(np.dot(self._demand[reached], mins[reached])),
            group_served=group_served,
            pair_assigned=pair_assigned,
        )

    # ---- one more decision -------------------------------------------------------

    def gains(
        self,
        ev: Evaluation,
        sites: NDArray[np.int64],
        added_places: NDArray[np.float64],
        *,
        need: int | None = None,
        weight: NDArray[np.float64] | None = None,
    ) -> Gains:
        """What opening each closed site of ``sites`` with ``added_places`` places (or
        adding that many places to an open one) would add.

        ``need``: score ``within_capacity`` exactly only for the decisions whose
        upper bound (times ``weight``, e.g. 1 / cost) reaches the ``need``-th best
        exact weighted gain found; the others get -1 (not among the best). None:
        every decision exactly.
        """
        a = self.a
        sites = np.asarray(sites, dtype=_I64)
        reached = self.reach_count > 0
        _, mins = self._nearest()
        cur = np.where(np.isfinite(mins), mins, 0.0)
        new_reach = np.zeros(sites.size, dtype=_I64)
        d_min = np.zeros(sites.size)
        bound = np.zeros(sites.size)
        unserved = self._demand - ev.group_served
        for k, j in enumerate(sites.tolist()):
            lo, hi = self._site_ptr[j], self._site_ptr[j + 1]
            g, m = self._site_groups[lo:hi], self._site_minutes[lo:hi]
            # more places or a new site can also free places elsewhere (a person moves to
            # it): only the places and everyone without a place bound the gain
            bound[k] = min(float(added_places[k]), float(unserved.sum()))
            if self.is_open[j]:
                continue
            fresh = ~reached[g]
            new_reach[k] = int(self._demand[g[fresh]].sum())
            d = self._demand[g]
            closer = np.minimum(m[~fresh] - cur[g[~fresh]], 0.0)
            d_min[k] = float(np.dot(d[fresh], m[fresh]) + np.dot(d[~fresh], closer))
        within = np.full(sites.size, -1, dtype=_I64)
        if not a.binding:
            within = new_reach.copy()
        else:
            w = np.ones(sites.size) if weight is None else np.asarray(weight, dtype=float)
            residual = _Residual(self, ev)
            best: list[float] = []
            for k in np.argsort(-bound * w, kind="stable").tolist():
                if need is not None and len(best) >= need and bound[k] * w[k] < best[-need]:
                    continue
                within[k] = residual.gain(int(sites[k]), float(added_places[k]))
                best.append(float(within[k] * w[k]))
                best.sort()
        return Gains(site=sites, in_reach=new_reach, within_capacity=within, minutes=d_min)


class _Residual:
    """The residual network of the current split, to price one more site or places."""

    def __init__(self, state: WhatIfState, ev: Evaluation) -> None:
        a = state.a
        self.state = state
        n_g, n_s = a.n_groups, a.n_sites
        self.n_g, self.n_s = n_g, n_s
        self.s, self.t = n_g + n_s, n_g + n_s + 1
        self.n = n_g + n_s + 2
        self.big = int(state._demand.sum()) + 1
        reached = state.reach_count > 0
        src = np.flatnonzero(state._demand > ev.group_served)  # unreached groups too
        use = state.is_open[a.pair_site] & reached[a.pair_group]
        back = np.flatnonzero(ev.pair_assigned > 0)
        open_sites = np.flatnonzero(state.is_open)
        cap = np.where(np.isfinite(state.places), state.places, self.big)
        free = cap[open_sites] - ev.site_assigned[open_sites]
        has_free = free > 0
        self.rows = np.concatenate(
            [np.full(src.size, self.s), a.pair_group[use], n_g + a.pair_site[back],
             n_g + open_sites[has_free]]
        )  # fmt: skip
        self.cols = np.concatenate(
            [src, n_g + a.pair_site[use], a.pair_group[back], np.full(int(has_free.sum()), self.t)]
        )
        self.vals = np.concatenate(
            [(state._demand - ev.group_served)[src], np.full(int(use.sum()), self.big),
             ev.pair_assigned[back], free[has_free]]
        ).astype(_I64)  # fmt: skip
        self.reached = reached

    def gain(self, j: int, places: float) -> int:
        """Maximum-flow increase when site ``j`` opens (or gets ``places`` more)."""
        st = self.state
        cap = self.big if not np.isfinite(places) else int(places)
        if cap <= 0:
            return 0
        rows, cols, vals = [self.rows], [self.cols], [self.vals]
        if not st.is_open[j]:
            g = st._groups_of(j)
            rows.append(g)
            cols.append(np.full(g.size, self.n_g + j))
            vals.append(np.full(g.size, self.big, dtype=_I64))
        rows.append(np.array([self.n_g + j]))
        cols.append(np.array([self.t]))
        vals.append(np.array([cap], dtype=_I64))
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        net = sparse.coo_array((v.astype(np.int32), (r, c)), shape=(self.n, self.n)).tocsr()
        net.sum_duplicates()
        return int(maximum_flow(net, self.s, self.t, method="dinic").flow_value)
