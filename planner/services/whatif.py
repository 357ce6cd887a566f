"""The leader's what-if: add, remove or upgrade a site and see coverage change at once.

:func:`open_whatif` reads the store and builds the session once (persons, sites,
the OD pairs within the type's threshold: seconds on the demo); each
:meth:`WhatIf.apply` then updates only what the change touches
(:mod:`planner.coverage.whatif`) and re-counts: milliseconds (``make
bench-whatif``). The figures equal ``coverplan coverage --type <type>`` on the
facilities as the changes leave them (in reach, within capacity, per village,
per site: the same nearest-first rule).

"Suggest the next site" and "best within a budget" score every candidate with
the rule of :mod:`planner.siting.lexicographic` for a capacitated MCLP: most
persons gained within capacity, then most newly in reach, then the smallest
increase of total minutes to the nearest open site, then the site order of
``coverplan site`` (existing facilities by code, then candidates by code).
:meth:`WhatIf.best_within_budget` is greedy (stated there). A web session
registry keeps one :class:`WhatIf` per user; :meth:`WhatIf.copy` and
:meth:`WhatIf.reset` are cheap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import points

from geo.graph import RoadNetwork
from planner.coverage.whatif import Evaluation, WhatIfState
from planner.errors import InputError
from planner.ingest.candidates import read_candidates
from planner.networks import NetworkCache, load_networks
from planner.services.whatif_build import Built, build_arrays
from planner.services.whatif_report import Report
from planner.services.whatif_scenario import scenario_changes
from planner.services.whatif_types import (
    ACTIONS_ZH,
    Candidate,
    Change,
    Suggestion,
    WhatIfFigures,
    WhatIfOptions,
)
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import facilities_frame, residents_frame, villages_frame

__all__ = ["Change", "WhatIf", "WhatIfFigures", "WhatIfOptions", "open_whatif"]

MS_PER_S = 1000.0
WGS84 = "EPSG:4326"


class WhatIf:
    """A what-if session on one facility type (see the module notes).

    Parameters
    ----------
    built
        The static arrays and frames (:func:`planner.services.whatif_build.build_arrays`).
    config
        Places and costs of new sites and upgrades (``[facility_types.<type>.siting]``),
        indicator targets.
    type_key
        The facility type.
    base
        Changes applied before the session starts (a saved scenario's).
    """

    def __init__(
        self, built: Built, *, config: Config, type_key: str, base: tuple[Change, ...] = ()
    ) -> None:
        self.built = built
        self.type_key = type_key
        self.ft = config.facility_types[type_key]
        self._codes = {str(c): i for i, c in enumerate(built.sites["code"])}
        self._site_codes = [str(c) for c in built.sites["code"]]
        self._default_places = built.sites["places"].to_numpy(float)
        self._build_cost = built.sites["build_cost"].to_numpy(float)
        self._report = Report(built, config=config, type_key=type_key)
        state = WhatIfState(built.arrays)
        for change in base:
            self._change(state, change)
        self._base = state
        self._base_eval = state.evaluate()
        self._report.set_base(state, self._base_eval)
        self.reset()

    # ---- session --------------------------------------------------------------

    def reset(self) -> None:
        """Back to the start (no change applied)."""
        self._state = self._base.copy()
        self._eval = self._base_eval
        self._history: list[tuple[WhatIfState, Evaluation]] = []
        self.changes: list[Change] = []
        self._ms = 0.0

    def copy(self) -> WhatIf:
        """An independent session at the same point (static arrays shared)."""
        new = object.__new__(WhatIf)
        new.__dict__.update(self.__dict__)
        new._state = self._state.copy()
        new._history = list(self._history)
        new.changes = list(self.changes)
        return new

    def figures(self) -> WhatIfFigures:
        """The figures now."""
        return self._report.figures(
            self._state,
            self._eval,
            changes=tuple(self.changes),
            cost=self.total_cost(),
            server_ms=self._ms,
        )

    def total_cost(self) -> float:
        """Yuan of the changes as they stand: the build cost of every candidate open
        now, and the upgrade cost of every upgrade of a site open now."""
        state, sites = self._state, self.built.sites
        new = state.is_open & ~sites["existing"].to_numpy(bool)
        total = float(np.nansum(sites["build_cost"].to_numpy(float)[new]))
        each = self.ft.siting.upgrade_cost or 0.0
        ups = sum(
            1 for c in self.changes if c.action == "upgrade" and state.is_open[self._codes[c.site]]
        )
        return total + each * ups

    def apply(self, change: Change) -> WhatIfFigures:
        """Apply one change and return the new figures.

        Raises
        ------
        InputError
            Unknown site, adding an open site, removing a closed one, upgrading a
            closed one or to no more places (Chinese message naming the site).
        """
        started = time.perf_counter()
        state = self._state.copy()
        self._change(state, change)
        self._history.append((self._state, self._eval))
        self._state, self._eval = state, state.evaluate()
        self.changes.append(change)
        self._ms = (time.perf_counter() - started) * MS_PER_S
        return self.figures()

    def undo(self) -> WhatIfFigures:
        """Take back the last change (nothing to undo: the figures as they are)."""
        started = time.perf_counter()
        if self._history:
            self._state, self._eval = self._history.pop()
            self.changes.pop()
        self._ms = (time.perf_counter() - started) * MS_PER_S
        return self.figures()

    def facilities_now(self, facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``facilities`` (as :func:`planner.store.frames.facilities_frame`) as the
        changes leave them: closed sites dropped, places changed, opened candidates
        added (``key`` = the candidate's code, ``id`` = ``NEW_ID_BASE`` + site index).
        ``coverplan coverage`` on this frame gives the what-if's figures."""
        sites, state = self.built.sites, self._state
        places = state.places
        out = facilities.copy()
        ids = sites["id"].to_numpy(np.int64)
        existing = sites["existing"].to_numpy(bool)
        closed = set(ids[existing & ~state.is_open].tolist())
        out = out[~((out["type"] == self.type_key) & out["id"].isin(closed))].copy()
        for j in np.flatnonzero(existing & state.is_open):
            row = out["id"] == ids[j]
            out.loc[row, "capacity"] = None if math.isinf(places[j]) else int(places[j])
        new = np.flatnonzero(~existing & state.is_open)
        add = pd.DataFrame(
            {
                "id": ids[new],
                "key": sites["code"].to_numpy()[new],
                "type": self.type_key,
                "name": sites["name"].to_numpy()[new],
                "village_code": sites["village_code"].to_numpy()[new],
                "town_code": sites["town_code"].to_numpy()[new],
                "lon": sites["lon"].to_numpy(float)[new],
                "lat": sites["lat"].to_numpy(float)[new],
                "capacity": [None if math.isinf(places[j]) else int(places[j]) for j in new],
                "placed": None,
            }
        )
        geo = gpd.GeoDataFrame(add, geometry=points(add["lon"], add["lat"]), crs=WGS84)
        both = pd.concat([out, geo], ignore_index=True) if len(add) else out
        return gpd.GeoDataFrame(both, geometry="geometry", crs=WGS84)

    def evaluation(self) -> Evaluation:
        """The array figures now (for tests and maps)."""
        return self._eval

    # ---- sites ----------------------------------------------------------------

    def site_index(self, code: str) -> int:
        """The site index of ``code`` (InputError naming it when unknown)."""
        j = self._codes.get(str(code).strip())
        if j is None:
            raise InputError(
                f"未知的站点「{code}」：请从地图或候选列表中选择候选点（村社代码）"
                f"或{self.ft.label}的设施编号"
            )
        return j

    def _name(self, j: int) -> str:
        return str(self.built.sites.at[j, "name"])

    def _change(self, state: WhatIfState, change: Change) -> None:
        """Apply ``change`` to ``state`` (checked)."""
        j = self.site_index(change.site)
        name = f"{self._name(j)}（{change.site}）"
        verb = ACTIONS_ZH[change.action]
        if change.action == "add":
            if state.is_open[j]:
                raise InputError(f"{name}已经开放，不能再{verb}；要增加名额请用 upgrade（扩容）")
            default = float(self._default_places[j])
            places = default if change.places is None else float(change.places)
            state.set_open(j, True)
            state.set_places(j, places if self.ft.capacity_binding else math.inf)
        elif change.action == "remove":
            if not state.is_open[j]:
                raise InputError(f"{name}已经关闭（或尚未开放），不能重复关闭")
            state.set_open(j, False)
        else:
            if not state.is_open[j]:
                raise InputError(f"{name}未开放，不能{verb}；请先 add（新增）")
            now = float(state.places[j])
            if math.isinf(now) or not self.ft.capacity_binding:
                raise InputError(f"{name}的名额不限，无需{verb}")
            added = self.ft.siting.upgrade_capacity
            if change.places is None and added <= 0:
                raise InputError(
                    f"{self.ft.label}没有配置扩容名额：请给出扩容后的名额，或在配置 "
                    f"[facility_types.{self.type_key}] 中设置 siting.upgrade_capacity"
                )
            places = now + added if change.places is None else float(change.places)
            if places <= now:
                raise InputError(
                    f"{name}现有 {now:.0f} 个名额，扩容后须多于此数（收到 {places:.0f}）"
                )
            state.set_places(j, places)

    def candidates(self) -> list[Candidate]:
        """Every site the leader can click, with its status now (site order)."""
        return self._report.candidates(self._state)

    def cost(self, change: Change) -> float | None:
        """Yuan of a change: a new site's build cost, the configured upgrade cost
        (None: not configured), 0 for a removal or a re-opened facility."""
        j = self.site_index(change.site)
        if change.action == "remove":
            return 0.0
        if change.action == "upgrade":
            return self.ft.siting.upgrade_cost
        cost = float(self._build_cost[j])
        return 0.0 if math.isnan(cost) else cost

    # ---- suggestions ----------------------------------------------------------

    def _options(
        self, state: WhatIfState, *, upgraded: frozenset[int] = frozenset()
    ) -> tuple[list[Change], np.ndarray, np.ndarray]:
        """The next decisions: open each closed candidate with its default places,
        upgrade each open site not in ``upgraded`` by ``upgrade_capacity`` (when a
        cost is configured)."""
        sites = self.built.sites
        new = np.flatnonzero(~state.is_open & ~sites["existing"].to_numpy(bool))
        changes = [Change("add", self._site_codes[j]) for j in new.tolist()]
        added = [float(self._default_places[j]) for j in new.tolist()]
        idx: list[int] = new.tolist()
        up = self.ft.siting
        if self.ft.capacity_binding and up.upgrade_cost is not None and up.upgrade_capacity > 0:
            for j in np.flatnonzero(state.is_open & np.isfinite(state.places)):
                if int(j) in upgraded:
                    continue
                places = int(state.places[j]) + up.upgrade_capacity
                changes.append(Change("upgrade", self._site_codes[int(j)], places))
                added.append(float(up.upgrade_capacity))
                idx.append(int(j))
        return changes, np.asarray(idx, dtype=np.int64), np.asarray(added, dtype=float)

    def _ranked(
        self,
        state: WhatIfState,
        ev: Evaluation,
        *,
        per_yuan: bool,
        need: int | None,
        upgraded: frozenset[int] = frozenset(),
        max_cost: float = math.inf,
    ) -> list[Suggestion]:
        changes, idx, added = self._options(state, upgraded=upgraded)
        costs = [self.cost(c) for c in changes]
        fit = [k for k, c in enumerate(costs) if (c or 0.0) <= max_cost]
        changes, idx, added = [changes[k] for k in fit], idx[fit], added[fit]
        costs = [costs[k] for k in fit]
        if not changes:
            return []
        weight = np.array([1.0 / c if per_yuan and c else 1.0 for c in costs])
        if per_yuan and any(not c for c in costs):
            need = None  # a free decision: no common scale to prune on
        gains = state.gains(ev, idx, added, need=need, weight=weight)
        out = [
            Suggestion(
                change=c,
                name=self._name(int(j)),
                gain_within_capacity=int(w),
                gain_in_reach=int(r),
                minutes_change=float(m),
                cost=cost,
            )
            for c, j, w, r, m, cost in zip(
                changes, idx, gains.within_capacity, gains.in_reach, gains.minutes, costs,
                strict=True,
            )
        ]  # fmt: skip

        def key(s: Suggestion) -> tuple[float, ...]:
            ratio = s.gain_within_capacity / s.cost if per_yuan and s.cost else 0.0
            j = self._codes[s.change.site]
            return (-ratio, -s.gain_within_capacity, -s.gain_in_reach, s.minutes_change, j)

        return sorted(out, key=key)

    def suggest_next(self, *, k: int = 5) -> list[Suggestion]:
        """The ``k`` best next decisions (a new site, or an upgrade when costed).

        Ranked by persons gained within capacity, then persons newly in reach,
        then the smallest change of total minutes to the nearest open site, then
        the site order of ``coverplan site`` (existing facilities by code, then
        candidates by code: :mod:`planner.siting.lexicographic`). Decisions that
        gain nobody are left out.
        """
        if k < 1:
            raise InputError(f"建议数量 k 至少为 1，收到 {k}")
        ranked = self._ranked(self._state, self._eval, per_yuan=False, need=k)
        return [s for s in ranked if s.gain_within_capacity > 0 or s.gain_in_reach > 0][:k]

    def best_within_budget(
        self, *, sites: int | None = None, budget: float | None = None
    ) -> list[Change]:
        """Greedy improvement within a number of decisions and/or a budget (yuan).

        The rule: repeatedly take the decision (a new site at its default places,
        or an upgrade by ``upgrade_capacity``) that fits the remaining budget and
        gains the most persons within capacity per yuan when a budget is given
        (per decision otherwise), ties as :meth:`suggest_next`; a site is upgraded
        at most once (counting the session's upgrades); stop when
        ``sites`` decisions are taken, nothing fits, or nothing gains anyone.
        The changes are returned, not applied.

        Raises
        ------
        InputError
            Neither a number of decisions nor a budget, or a negative one.
        """
        if sites is None and budget is None:
            raise InputError("请给出新增站点数（sites）或预算（元，budget），或两者都给")
        if (sites is not None and sites < 0) or (budget is not None and budget < 0):
            raise InputError("新增站点数和预算（元）不能为负数")
        state, ev = self._state.copy(), self._eval
        left = math.inf if budget is None else float(budget)
        taken: list[Change] = []
        upgraded = {self._codes[c.site] for c in self.changes if c.action == "upgrade"}
        while sites is None or len(taken) < sites:
            ranked = self._ranked(
                state,
                ev,
                per_yuan=budget is not None,
                need=1,
                upgraded=frozenset(upgraded),
                max_cost=left,
            )
            fits = [s for s in ranked if s.gain_within_capacity > 0 or s.gain_in_reach > 0]
            if not fits:
                break
            pick = fits[0]
            if pick.change.action == "upgrade":
                upgraded.add(self._codes[pick.change.site])
            self._change(state, pick.change)
            ev = state.evaluate()
            left -= pick.cost or 0.0
            taken.append(pick.change)
        return taken


def _roads(
    store: Store,
    *,
    config: Config,
    mode: str,
    networks: Mapping[str, RoadNetwork] | NetworkCache | None,
) -> RoadNetwork:
    if isinstance(networks, Mapping) and mode in networks:
        return networks[mode]
    cache = networks if isinstance(networks, NetworkCache) else None
    return load_networks(store, config=config, modes=[mode], cache=cache)[mode].network


def open_whatif(
    store: Store,
    *,
    config: Config,
    options: WhatIfOptions,
    networks: Mapping[str, RoadNetwork] | NetworkCache | None = None,
) -> WhatIf:
    """Open a what-if session on ``options.type_key`` (reads the store, computes the OD
    pairs once: seconds).

    Parameters
    ----------
    store
        The district.
    config
        Facility types (threshold minutes, mode, eligibility, places and costs of
        new sites and upgrades), ``[network] snap_max_m`` (metres), indicator targets.
    options
        Type, saved scenario to start from, reference day, candidates file.
    networks
        Road networks by mode, or the process's network cache (None: load the
        registered file).

    Raises
    ------
    InputError
        An unknown type, a type counted by village (no travel), a scenario of
        another type or a bad candidates file.
    ConfigError, NetworkError
        No network registered, or an unusable network file.
    """
    key = options.type_key
    ft = config.facility_types.get(key)
    if ft is None:
        raise InputError(f"未知的设施类型「{key}」；可用：{'、'.join(config.facility_types)}")
    if ft.catchment != "travel":
        raise InputError(f"{ft.label}按村社认定，没有可达范围，不能做新增/关闭推演")
    network = _roads(store, config=config, mode=ft.mode, networks=networks)
    villages = villages_frame(store)
    candidates = (
        read_candidates(options.candidates_file, villages=villages)
        if options.candidates_file is not None
        else None
    )
    built = build_arrays(
        key,
        config=config,
        residents=residents_frame(store),
        villages=villages,
        facilities=facilities_frame(store),
        network=network,
        today=options.today or date.today(),
        candidates=candidates,
    )
    base: tuple[Change, ...] = ()
    if options.scenario is not None:
        base = scenario_changes(
            store, options.scenario, type_key=key, label=ft.label, sites=built.sites
        )
    return WhatIf(built, config=config, type_key=key, base=base)
