"""The 十四五 plan's indicator table and the further policy checks: the entry point.

:func:`indicators` computes the plan's 14 rows (seed 003, "主要指标", in its
order) and the policy checks the plan's text names, from the register, the
facilities and the 残疾人之家 coverage per town. What each row counts is in
:mod:`planner.domain.plan_table`; targets, comparisons and the per-town figures
in :mod:`planner.domain.indicator_figures`. A new indicator is a row function
there and a line in :func:`~planner.domain.plan_table.plan_rows` (or
:func:`~planner.domain.plan_table.policy_rows`); its target goes into
``[indicators]`` of the TOML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.domain.eligibility import retrofit_needy
from planner.domain.indicator_figures import (
    HOME_TYPE,
    HomeReach,
    Indicator,
    IndicatorInputs,
    Target,
)
from planner.domain.plan_table import plan_rows, policy_rows
from planner.settings import Config
from planner.units import PERCENT

__all__ = [
    "HOME_TYPE",
    "HomeReach",
    "Indicator",
    "IndicatorInputs",
    "IndicatorTable",
    "Target",
    "indicators",
    "retrofit_rate_pct",
]

PCT_DECIMALS = 2


@dataclass(frozen=True)
class IndicatorTable:
    """The plan's indicator table and the further policy checks.

    Attributes
    ----------
    indicators
        The plan's 14 rows, in its order (:attr:`Indicator.number` 1–14).
    policy_checks
        Further requirements the plan's text names (a home in every town, the
        provincial accessible communities, 家庭医生签约率), listed apart.
    """

    indicators: tuple[Indicator, ...]
    policy_checks: tuple[Indicator, ...]

    def to_json(self) -> dict[str, Any]:
        """``indicators`` and ``policy_checks``: lists of :meth:`Indicator.to_json`."""
        return {
            "indicators": [i.to_json() for i in self.indicators],
            "policy_checks": [i.to_json() for i in self.policy_checks],
        }


def _share_pct(flags: pd.Series) -> float:
    return float(round(PERCENT * flags.mean(), PCT_DECIMALS))


def retrofit_rate_pct(residents: pd.DataFrame, config: Config) -> float | None:
    """困难重度 households already retrofitted, percent (None when there are none).

    ``residents`` as :func:`planner.store.frames.residents_frame` returns them.
    """
    needy = residents[retrofit_needy(residents, config)]
    return _share_pct(needy["retrofit_year"].notna()) if len(needy) else None


def indicators(inputs: IndicatorInputs, *, config: Config) -> IndicatorTable:
    """The plan's indicator table and the policy checks.

    Parameters
    ----------
    inputs
        Counted residents, every town, every facility, the reference day, the
        残疾人之家 coverage per town (None: its people reading has no value)
        and the devices' holders.
    config
        ``[indicators]``: targets, the home reading, ages, facility types.

    Returns
    -------
    IndicatorTable
        Every row present, with a value or 无数据 and the data it needs.
    """
    return IndicatorTable(
        indicators=tuple(row(inputs, config) for row in plan_rows()),
        policy_checks=tuple(row(inputs, config) for row in policy_rows()),
    )
