"""The 十四五 plan's indicator table: ``coverplan indicators``.

:func:`indicators` computes the plan's 14 rows and the further policy checks
(:mod:`planner.domain.indicators`) for the store. The 残疾人之家 coverage per
town (the people reading of 残疾人之家覆盖率) needs the road network: it is
computed when one is registered (or given), else that reading shows 无数据 and
the other rows are computed all the same.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from planner.domain.devices import count_devices
from planner.domain.indicators import HOME_TYPE, IndicatorInputs, IndicatorTable
from planner.domain.indicators import indicators as indicator_table
from planner.networks import NETWORK_META_KEY, NetworkCache
from planner.services._common import Progress, no_progress
from planner.services.coverage import CoverageOptions, coverage
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import devices_frame, facilities_frame, residents_frame, villages_frame

__all__ = ["IndicatorOptions", "IndicatorsResult", "indicators"]

SECONDS_DECIMALS = 3


@dataclass(frozen=True, kw_only=True)
class IndicatorOptions:
    """What to compute the table for.

    Attributes
    ----------
    today
        Reference day for ages and device dates; None: today.
    network
        OSM file instead of the registered one (for the 残疾人之家 people reading).
    """

    today: date | None = None
    network: Path | None = None

    def __post_init__(self) -> None:
        if self.network is not None:
            object.__setattr__(self, "network", Path(self.network))


@dataclass(frozen=True)
class IndicatorsResult:
    """The plan's indicator table for the store.

    Attributes
    ----------
    today
        The reference day.
    table
        The plan's 14 rows (``table.indicators``) and the policy checks
        (``table.policy_checks``).
    home_reading
        The reading of 残疾人之家覆盖率 held against its target (``town`` or
        ``people``, ``[indicators] home_reading``).
    awaiting_review
        Residents not yet assigned to a village (not counted).
    seconds
        Wall time, seconds.
    """

    today: date
    table: IndicatorTable
    home_reading: str
    awaiting_review: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """``today, home_reading, indicators, policy_checks, awaiting_review, seconds``."""
        return {
            "today": self.today.isoformat(),
            "home_reading": self.home_reading,
            **self.table.to_json(),
            "awaiting_review": self.awaiting_review,
            "seconds": round(self.seconds, SECONDS_DECIMALS),
        }


def _without_coverage(store: Store, *, config: Config, today: date) -> tuple[IndicatorTable, int]:
    """The table from the register and facilities alone (no 残疾人之家 people reading)."""
    residents = residents_frame(store)
    counted = residents[residents["village_code"].notna()]
    inputs = IndicatorInputs(
        residents=counted,
        towns=IndicatorInputs.towns_of(villages_frame(store)),
        facilities=facilities_frame(store),
        today=today,
        devices=count_devices(devices_frame(store), today=today),
    )
    return indicator_table(inputs, config=config), len(residents) - len(counted)


def indicators(
    store: Store,
    *,
    config: Config,
    options: IndicatorOptions,
    progress: Progress = no_progress,
    networks: NetworkCache | None = None,
) -> IndicatorsResult:
    """The plan's indicator table, every row present, with the policy checks.

    The 残疾人之家 coverage is computed (as :func:`planner.services.coverage.coverage`
    with ``--type home``) when the type is configured and a road network is
    registered or given; otherwise its people reading is 无数据.

    Parameters
    ----------
    store
        The district.
    config
        ``[indicators]`` (targets, the home reading), facility types, ``[network]``.
    options
        Reference day, network file.
    progress
        Told each network build stage.
    networks
        Networks already loaded in this process (None: load from disk).

    Raises
    ------
    NetworkError
        When the network file cannot be used.
    """
    started = time.perf_counter()
    today = options.today or date.today()
    has_network = options.network is not None or bool(store.get_meta(NETWORK_META_KEY))
    if HOME_TYPE in config.facility_types and has_network:
        cov = coverage(
            store,
            config=config,
            options=CoverageOptions(types=(HOME_TYPE,), today=today, network=options.network),
            progress=progress,
            networks=networks,
        )
        table = IndicatorTable(cov.indicators, cov.policy_checks)
        waiting = cov.awaiting_review
    else:
        table, waiting = _without_coverage(store, config=config, today=today)
    return IndicatorsResult(
        today=today,
        table=table,
        home_reading=config.indicators.home_reading,
        awaiting_review=waiting,
        seconds=time.perf_counter() - started,
    )
