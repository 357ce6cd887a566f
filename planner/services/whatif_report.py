"""The what-if's figures from the array evaluation: totals, indicators, villages, sites.

Kept apart from the session (:mod:`planner.services.whatif`): plain loops over
lists prepared once, so that a click's figures take well under a millisecond
per hundred rows.
"""

from __future__ import annotations

import math

import numpy as np

from planner.coverage.whatif import Evaluation, WhatIfState
from planner.domain.indicators import HOME_TYPE, Target
from planner.services.whatif_build import Built
from planner.services.whatif_types import (
    Candidate,
    Change,
    IndicatorRow,
    SiteRow,
    VillageRow,
    WhatIfFigures,
    WhatIfTotals,
)
from planner.settings import Config
from planner.units import PERCENT

__all__ = ["Report"]

PCT_DECIMALS = 2


def _pct(numerator: int, denominator: int) -> float | None:
    return round(PERCENT * numerator / denominator, PCT_DECIMALS) if denominator else None


def _none_if_inf(value: float) -> int | None:
    return None if math.isinf(value) else int(value)


class Report:
    """Builds :class:`WhatIfFigures` for one session (static parts prepared once)."""

    def __init__(self, built: Built, *, config: Config, type_key: str) -> None:
        a = built.arrays
        self.built = built
        self.config = config
        self.type_key = type_key
        self.ft = config.facility_types[type_key]
        n_v = a.n_villages
        self.v_eligible = np.bincount(a.person_village, minlength=n_v).astype(np.int64)
        self.v_home = np.bincount(a.person_village[a.home_service], minlength=n_v).astype(np.int64)
        v = built.villages
        self.v_code = v["code"].astype(str).tolist()
        self.v_name = v["name"].astype(str).tolist()
        self.v_town = v["town_name"].astype(str).tolist()
        self.v_town_code = v["town_code"].astype(str).tolist()
        self.towns = sorted(set(self.v_town_code))
        s = built.sites
        self.s_code = s["code"].astype(str).tolist()
        self.s_name = s["name"].astype(str).tolist()
        self.s_lon = s["lon"].astype(float).tolist()
        self.s_lat = s["lat"].astype(float).tolist()
        self.s_kind = s["kind"].tolist()
        self.s_existing = s["existing"].astype(bool).tolist()
        self.s_village = [None if c != c else str(c) for c in s["village_code"]]
        self.s_town = [None if c != c else str(c) for c in s["town_code"]]
        self.s_town_name = [None if c != c else str(c) for c in s["town_name"]]
        self.eligible = int(a.person_village.size)
        self.home = int(a.home_service.sum())
        self._before: WhatIfTotals | None = None
        self._ind_before: list[tuple[str, str, str, Target | None, int, int | None]] = []

    # ---- totals and indicators ----------------------------------------------------

    def totals(self, state: WhatIfState, ev: Evaluation) -> WhatIfTotals:
        travellers = self.eligible - self.home
        places = state.places[state.is_open]
        return WhatIfTotals(
            eligible=self.eligible,
            home_service=self.home,
            in_reach=ev.in_reach,
            within_capacity=ev.within_capacity,
            coverage_pct=_pct(ev.in_reach, travellers),
            capacity_pct=_pct(ev.within_capacity, travellers),
            sites=int(state.is_open.sum()),
            places=float(places.sum()) if places.size else 0.0,
        )

    def _readings(
        self, state: WhatIfState, ev: Evaluation
    ) -> list[tuple[str, str, str, Target | None, int, int | None]]:
        """``(key, name, unit, target, numerator, denominator)`` of the type's indicators."""
        ft, ind = self.ft, self.config.indicators
        travellers = self.eligible - self.home
        out: list[tuple[str, str, str, Target | None, int, int | None]] = [
            (
                f"{self.type_key}_coverage",
                f"{ft.label}可达覆盖率（{ft.threshold_min:g} 分钟内）",
                "%",
                None,
                ev.in_reach,
                travellers,
            ),
            (
                f"{self.type_key}_within_capacity",
                f"{ft.label}容量内覆盖率（可达且有名额）",
                "%",
                None,
                ev.within_capacity,
                travellers,
            ),
        ]
        if self.type_key == HOME_TYPE:
            towns = set(self.built.pinned_towns)
            towns.update(
                t for t, o in zip(self.s_town, state.is_open.tolist(), strict=True) if o and t
            )
            with_home = len(towns & set(self.towns))
            reach = Target.pct(ind.home_reach_pct, "≥")
            out += [
                ("home", '"残疾人之家"覆盖率（乡镇(街道)全覆盖口径）', "%", reach, with_home,
                 len(self.towns)),
                ("home_people", '"残疾人之家"覆盖率（人员口径：可达且容量内）', "%", reach,
                 ev.within_capacity, travellers),
                ("home_town", "每个镇街至少一家残疾人之家", "%",
                 Target.pct(ind.home_town_pct, "≥"), with_home, len(self.towns)),
            ]  # fmt: skip
        return out

    def set_base(self, state: WhatIfState, ev: Evaluation) -> None:
        """Remember the figures at the start (the "before" of every later figure)."""
        self._before = self.totals(state, ev)
        self._ind_before = self._readings(state, ev)

    def indicators(self, state: WhatIfState, ev: Evaluation) -> tuple[IndicatorRow, ...]:
        rows = []
        for before, after in zip(self._ind_before, self._readings(state, ev), strict=True):
            key, name, unit, target, num_b, den_b = before
            num_a, den_a = after[4], after[5]
            vb = _pct(num_b, den_b or 0)
            va = _pct(num_a, den_a or 0)
            rows.append(
                IndicatorRow(
                    key=key,
                    name=name,
                    unit=unit,
                    target="" if target is None else target.text,
                    before=vb,
                    after=va,
                    met_before=None
                    if target is None
                    else target.met(numerator=num_b, denominator=den_b, value=vb),
                    met_after=None
                    if target is None
                    else target.met(numerator=num_a, denominator=den_a, value=va),
                )
            )
        return tuple(rows)

    # ---- rows -------------------------------------------------------------------------

    def villages(self, ev: Evaluation) -> tuple[VillageRow, ...]:
        elig, home = self.v_eligible.tolist(), self.v_home.tolist()
        reach, served = ev.village_in_reach.tolist(), ev.village_served.tolist()
        return tuple(
            VillageRow(
                code=self.v_code[i],
                name=self.v_name[i],
                town=self.v_town[i],
                eligible=elig[i],
                home_service=home[i],
                served=served[i],
                in_reach_no_place=reach[i] - served[i],
                out_of_reach=elig[i] - home[i] - reach[i],
            )
            for i in np.argsort(self.v_code, kind="stable").tolist()
        )

    def sites(self, state: WhatIfState, ev: Evaluation) -> tuple[SiteRow, ...]:
        is_open = state.is_open.tolist()
        places = state.places.tolist()
        demand, assigned = ev.site_demand.tolist(), ev.site_assigned.tolist()
        in_reach = state.site_in_reach.tolist()
        rows = []
        for j in range(len(is_open)):
            if not (is_open[j] or self.s_existing[j]):
                continue
            rows.append(
                SiteRow(
                    code=self.s_code[j],
                    name=self.s_name[j],
                    lon=self.s_lon[j],
                    lat=self.s_lat[j],
                    places=_none_if_inf(places[j]),
                    demand=demand[j] if is_open[j] else 0,
                    in_reach=in_reach[j],
                    assigned=assigned[j],
                    status=ev.site_status[j],
                    is_new=not self.s_existing[j],
                    is_closed=not is_open[j],
                    town_code=self.s_town[j],
                )
            )
        return tuple(rows)

    def figures(
        self,
        state: WhatIfState,
        ev: Evaluation,
        *,
        changes: tuple[Change, ...],
        cost: float,
        server_ms: float,
    ) -> WhatIfFigures:
        assert self._before is not None
        return WhatIfFigures(
            type_key=self.type_key,
            label=self.ft.label,
            before=self._before,
            totals=self.totals(state, ev),
            indicators=self.indicators(state, ev),
            villages=self.villages(ev),
            sites=self.sites(state, ev),
            changes=changes,
            cost=cost,
            server_ms=server_ms,
        )

    def candidates(self, state: WhatIfState) -> list[Candidate]:
        is_open, places = state.is_open.tolist(), state.places.tolist()
        out = []
        for j in range(len(is_open)):
            existing = self.s_existing[j]
            status = "closed" if not is_open[j] else ("existing" if existing else "open")
            out.append(
                Candidate(
                    code=self.s_code[j],
                    name=self.s_name[j],
                    lon=self.s_lon[j],
                    lat=self.s_lat[j],
                    kind=self.s_kind[j],
                    status=status,  # type: ignore[arg-type]
                    village_code=self.s_village[j],
                    town_code=self.s_town[j],
                    town_name=self.s_town_name[j],
                    places=_none_if_inf(places[j]),
                )
            )
        return out
