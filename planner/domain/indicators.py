"""The 十四五 indicators the registers can (or cannot) support, and how each is counted.

A new indicator goes here: a function computing its value (percent, or None when
the data cannot support it) from the coverage figures and the register, and a
line in :func:`indicators`. Targets come from ``[indicators]`` of the TOML.

- 残疾人之家服务覆盖率: the coverage percentage of the 残疾人之家 type (``home``).
- 镇街残疾人之家设置率: towns with at least one 残疾人之家 (浙江: one per town).
- 基本康复服务覆盖率 (proxy): travellers eligible for some rehabilitation type
  (``[indicators] rehab_types``) who reach at least one of them.
- 辅具适配率 (proxy): current devices not past their service life.
- 困难重度残疾人家庭无障碍改造率: 低保/低边, grade 1–2 households already retrofitted.
- 家庭医生签约率: the registers hold no contract data (value None).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.domain.devices import DeviceCounts
from planner.domain.eligibility import retrofit_needy
from planner.settings import Config
from planner.units import PERCENT

__all__ = ["HOME_TYPE", "HomeReach", "Indicator", "indicators", "retrofit_rate_pct"]

#: The facility type of the 残疾人之家 (its coverage and its presence per town are indicators).
HOME_TYPE = "home"
PCT_DECIMALS = 2


@dataclass(frozen=True)
class Indicator:
    """One 十四五 indicator the data can (or cannot) support.

    Attributes
    ----------
    key
        Stable English key (``home_reach``, ``home_town``, ``rehab_reach``,
        ``device_current``, ``retrofit``, ``family_doctor``).
    name
        The indicator's Chinese name.
    target_pct
        The target, percent.
    value_pct
        The current value, percent; None when the data cannot support it.
    basis
        How the value is counted (Chinese).
    """

    key: str
    name: str
    target_pct: float
    value_pct: float | None
    basis: str

    @property
    def met(self) -> bool | None:
        """Whether the value reaches the target (None without a value)."""
        return None if self.value_pct is None else bool(self.value_pct >= self.target_pct)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "target": self.target_pct,
            "value": self.value_pct,
            "met": self.met,
            "basis": self.basis,
        }


@dataclass(frozen=True)
class HomeReach:
    """The 残疾人之家 coverage figures the two home indicators need.

    Attributes
    ----------
    coverage_pct
        Covered / travellers eligible, percent (None without travellers).
    threshold_min
        The type's travel-time threshold, minutes.
    town_has_home
        One boolean per town: whether it has a 残疾人之家.
    """

    coverage_pct: float | None
    threshold_min: float
    town_has_home: pd.Series


def _share_pct(flags: pd.Series) -> float:
    return float(round(PERCENT * flags.mean(), PCT_DECIMALS))


def _home(config: Config, home: HomeReach) -> list[Indicator]:
    ind = config.indicators
    has = home.town_has_home
    return [
        Indicator(
            "home_reach",
            "残疾人之家服务覆盖率",
            ind.home_reach_pct,
            home.coverage_pct,
            f"符合条件者在 {home.threshold_min:g} 分钟内可达的比例",
        ),
        Indicator(
            "home_town",
            "镇街残疾人之家设置率",
            ind.home_town_pct,
            _share_pct(has) if len(has) else None,
            "设有残疾人之家的镇街比例（浙江：每个镇街至少一家）",
        ),
    ]


def _rehab(config: Config, per_resident: pd.DataFrame) -> list[Indicator]:
    ind = config.indicators
    if per_resident.empty:
        return []
    rehab = per_resident[per_resident["type"].isin(ind.rehab_types) & ~per_resident["home_service"]]
    if rehab.empty:
        return []
    reached = rehab.groupby("resident_id")["covered"].any()
    return [
        Indicator(
            "rehab_reach",
            "基本康复服务覆盖率（代理）",
            ind.rehab_reach_pct,
            _share_pct(reached),
            "至少一类适用康复设施可达的比例（无康复服务记录，以可达代替）",
        )
    ]


def _devices(config: Config, devices: DeviceCounts | None) -> list[Indicator]:
    if devices is None or not devices.current:
        return []
    value = round(PERCENT * (devices.current - devices.overdue) / devices.current, PCT_DECIMALS)
    return [
        Indicator(
            "device_current",
            "辅具适配率（代理）",
            config.indicators.device_current_pct,
            value,
            "在用辅具未超过使用年限的比例（无适配需求记录，以在用辅具代替）",
        )
    ]


def retrofit_rate_pct(residents: pd.DataFrame, config: Config) -> float | None:
    """困难重度 households already retrofitted, percent (None when there are none).

    ``residents`` as :func:`planner.store.frames.residents_frame` returns them.
    """
    needy = residents[retrofit_needy(residents, config)]
    return _share_pct(needy["retrofit_year"].notna()) if len(needy) else None


def indicators(
    *,
    config: Config,
    home: HomeReach | None,
    per_resident: pd.DataFrame,
    residents: pd.DataFrame,
    devices: DeviceCounts | None,
) -> tuple[Indicator, ...]:
    """The 十四五 indicators, in the order they are reported.

    Parameters
    ----------
    config
        Targets and the rules' settings (``[indicators]``).
    home
        The 残疾人之家 figures; None when that type was not computed (its two
        indicators are then left out).
    per_resident
        Per (eligible resident, type) coverage rows: ``resident_id, type,
        home_service, covered`` (as :attr:`planner.coverage.result.CoverageResult.residents`).
    residents
        The counted residents (``low_income, grade, category, retrofit_year``).
    devices
        Current and overdue devices; None leaves out the device indicator.
    """
    out = _home(config, home) if home is not None else []
    out += _rehab(config, per_resident)
    out += _devices(config, devices)
    rate = retrofit_rate_pct(residents, config)
    if rate is not None:
        out.append(
            Indicator(
                "retrofit",
                "困难重度残疾人家庭无障碍改造率",
                config.indicators.retrofit_pct,
                rate,
                "低保/低边、一二级残疾人（[indicators] retrofit_categories）中已改造的比例",
            )
        )
    out.append(
        Indicator(
            "family_doctor",
            "家庭医生签约率",
            config.indicators.family_doctor_pct,
            None,
            "名册中没有家庭医生签约信息，无法计算",
        )
    )
    return tuple(out)
