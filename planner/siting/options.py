"""What a siting run is asked: :class:`SitingOptions` (the user's choices) and
:class:`SolverParams` (the solver's limits, from ``[siting]``).

Both are frozen and validated when built, so a bad value is refused with the
option's name before any data is read. Defaults that depend on the
configuration (the per-town rule, the time limit) stay ``None`` here and are
resolved against it by :meth:`SitingOptions.town_rule_for` and
:meth:`SolverParams.from_config`; the facility type's costs and places come
from its ``[facility_types.<type>] siting`` table when the problem is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.crs import parse_crs
from planner.errors import InputError, SitingError
from planner.siting.problem import OBJECTIVES, Objective

if TYPE_CHECKING:
    from planner.settings import Config, FacilityTypeConfig
    from planner.siting.milp import Solver

__all__ = ["SitingOptions", "SolverParams"]

#: Coverage pairs above which a large uncapacitated MCLP solves its LP first.
KERNEL_PAIRS = 200_000
#: Solver defaults when no configuration is given (``[siting]`` overrides them).
DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_MIP_GAP = 1e-4


def _count(value: int | None, *, what: str, option: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what}（{option}）应为整数，现为「{value}」", value=str(value))
    if value < 0:
        raise InputError(f"{what}（{option}）不能为负数，现为 {value}", value=str(value))


@dataclass(frozen=True, kw_only=True)
class SitingOptions:
    """The choices of one siting run (``coverplan site``).

    Attributes
    ----------
    facility_type
        Facility type key (``home``, ``psych_station``, ``care_center``, …; ``--type``).
    objective
        ``mclp`` (most persons covered with ``new`` sites or ``budget``),
        ``pmedian`` (least person-minutes), ``lscp`` (fewest sites reaching ``target``).
    new
        At most this many new sites (``--new``; ``None``: no limit).
    budget
        Build + upgrade budget, yuan (``--budget``; ``None``: no limit).
    upgrade
        Also consider upgrading existing facilities (``--upgrade``): each adds the
        type's ``upgrade_capacity`` places for ``upgrade_cost`` yuan.
    max_upgrades
        At most this many upgrades (``--max-upgrades``).
    candidates_file
        CSV/XLSX of candidate sites (``--candidates``; ``None``: every village
        committee point without a facility of the type).
    candidates_crs
        Coordinate system of that file's points: ``wgs84``, ``gcj02`` or ``bd09``.
    exclude
        Village codes or candidate names that must not be chosen (``--exclude``).
    town_rule
        At least one site per town (``None``: the types in ``[siting] one_per_town``;
        ``--no-town-rule`` gives ``False``).
    capacitated
        Count only persons within capacity (``None``: when the type's capacity
        binds and is known; ``--uncapacitated`` gives ``False``).
    target
        ``lscp``: share (0–1] of the coverable demand to cover (``--target``).
    time_limit_s
        Wall-clock limit of the solve, seconds (``None``: ``[siting] time_limit_s``).
    today
        Reference day for ages (``None``: the day of the run).
    network_file
        OSM file of the road network (``None``: the one registered in the store).
    close
        Existing facilities (code or name) closed in the plan (``--close``).
    relocate
        ``(facility, place)`` pairs (``--relocate … --to …``): the facility (code
        or name) moves to the place: a ``--candidates`` row name, a village code
        or name, ``LON,LAT`` (in ``candidates_crs``), or ``best`` (the solver
        chooses among the candidates, or every village point without a facility
        of the type; not with new sites, a budget or ``lscp``). With closures
        or relocations and neither ``new`` nor ``budget``, no new site is added
        and the per-town rule is not applied unless asked.
    """

    facility_type: str
    objective: Objective = "mclp"
    new: int | None = None
    budget: float | None = None
    upgrade: bool = False
    max_upgrades: int | None = None
    candidates_file: Path | None = None
    candidates_crs: str = "wgs84"
    exclude: tuple[str, ...] = field(default=())
    town_rule: bool | None = None
    capacitated: bool | None = None
    target: float = 1.0
    time_limit_s: float | None = None
    today: date | None = None
    network_file: Path | None = None
    close: tuple[str, ...] = field(default=())
    relocate: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.facility_type, str) or not self.facility_type.strip():
            raise InputError("请给出设施类型（--type），如 home、psych_station、care_center")
        if self.objective not in OBJECTIVES:
            raise InputError(
                f"未知的目标（--objective）「{self.objective}」；可选 mclp、pmedian、lscp",
                value=str(self.objective),
            )
        _count(self.new, what="新建数量", option="--new")
        _count(self.max_upgrades, what="升级数量上限", option="--max-upgrades")
        if self.budget is not None and not (math.isfinite(self.budget) and self.budget >= 0):
            raise InputError(
                f"预算（--budget）应为不小于 0 的金额（元），现为「{self.budget}」；"
                "不限预算时请省略该项",
                value=str(self.budget),
            )
        if not (isinstance(self.target, int | float) and 0 < self.target <= 1):
            raise InputError(
                f"覆盖目标（--target）必须在 (0, 1] 之间，例如 0.9 表示 90%；现为「{self.target}」",
                value=str(self.target),
            )
        if self.time_limit_s is not None and not (
            math.isfinite(self.time_limit_s) and self.time_limit_s > 0
        ):
            raise InputError(
                f"求解时间上限（--time-limit）必须是大于 0 的秒数，现为「{self.time_limit_s}」",
                value=str(self.time_limit_s),
            )
        if isinstance(self.exclude, str):
            raise InputError("排除项（--exclude）应为村社代码或候选点名称的列表")
        object.__setattr__(self, "exclude", tuple(str(x) for x in self.exclude))
        if self.candidates_file is not None:
            object.__setattr__(self, "candidates_file", Path(self.candidates_file))
            parse_crs(self.candidates_crs)  # CRSError naming the accepted names
        if self.network_file is not None:
            object.__setattr__(self, "network_file", Path(self.network_file))
        self._check_changes()

    def _check_changes(self) -> None:
        """Closures and relocations: texts given, ``best`` only where it can be solved."""
        if isinstance(self.close, str) or any(
            not isinstance(c, str) or not c.strip() for c in self.close
        ):
            raise InputError("关闭的设施（--close）应为设施代码或名称的列表，且不能为空")
        object.__setattr__(self, "close", tuple(c.strip() for c in self.close))
        pairs = []
        for pair in self.relocate:
            if (
                isinstance(pair, str)
                or len(pair) != 2
                or not all(isinstance(t, str) and t.strip() for t in pair)
            ):
                raise InputError(
                    "迁建应写成 --relocate 设施代码或名称 --to 地块（候选点名称、村社、"
                    "经度,纬度 或 best），两者都不能为空"
                )
            pairs.append((pair[0].strip(), pair[1].strip()))
        object.__setattr__(self, "relocate", tuple(pairs))
        best = [f for f, to in self.relocate if to.lower() == "best"]
        if best and (self.new or self.budget is not None):
            raise InputError(
                f"「{best[0]}」迁建到最佳地块（--to best）时不能同时新建（--new）或给预算"
                "（--budget）：请分两次运行，或为迁建指定地块"
            )
        if best and self.objective == "lscp":
            raise InputError(
                "迁建到最佳地块（--to best）只用于 mclp 或 pmedian 目标；lscp 请改用指定地块"
            )

    @property
    def changes_only(self) -> bool:
        """Closures or relocations with no new site asked (``new`` and ``budget`` unset or 0)."""
        return bool(self.close or self.relocate) and not self.new and self.budget is None

    def type_config(self, config: Config) -> FacilityTypeConfig:
        """The facility type's configuration.

        Raises
        ------
        SitingError
            When ``config`` has no such type; the message lists the types.
        """
        ft = config.facility_types.get(self.facility_type)
        if ft is None:
            raise SitingError(
                f"未知的设施类型 {self.facility_type}；可用：{'、'.join(config.facility_types)}"
            )
        return ft

    def town_rule_for(self, config: Config) -> bool:
        """Whether every town needs a site: the option, else ``[siting] one_per_town``."""
        if self.town_rule is not None:
            return self.town_rule
        if self.changes_only:
            return False  # a closure or a move is compared as is
        return self.facility_type in config.siting.one_per_town

    def inputs(self, *, town_rule: bool, capacitated: bool, today: date) -> dict[str, Any]:
        """What the run was asked, as saved with a scenario (``inputs``).

        ``town_rule`` and ``capacitated`` are the rules the problem was solved
        with (resolved from the defaults); ``target`` is shown for ``lscp`` only.
        """
        return {
            "type": self.facility_type,
            "objective": self.objective,
            "new": self.new,
            "budget": self.budget,
            "upgrade": self.upgrade,
            "max_upgrades": self.max_upgrades,
            "candidates": str(self.candidates_file) if self.candidates_file else None,
            "exclude": list(self.exclude),
            "town_rule": town_rule,
            "capacitated": capacitated,
            "target": self.target if self.objective == "lscp" else None,
            "today": today.isoformat(),
            "close": list(self.close),
            "relocate": [{"facility": f, "to": to} for f, to in self.relocate],
        }


@dataclass(frozen=True, kw_only=True)
class SolverParams:
    """How the MILP is solved (see :func:`planner.siting.solve.solve`).

    Attributes
    ----------
    solver
        ``"highs"``, ``"cbc"``, or a mapping from problem class (``mclp``,
        ``mclp_capacitated``, ``pmedian``, …) to one (``[siting] solver``).
    time_limit_s
        Wall-clock limit of the whole solve, seconds.
    mip_gap
        Relative gap accepted as optimal.
    threads
        Solver threads.
    kernel_pairs
        Uncapacitated MCLPs with more coverage entries solve the LP first.
    """

    solver: Solver | Mapping[str, Solver] | None = None
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    mip_gap: float = DEFAULT_MIP_GAP
    threads: int = 1
    kernel_pairs: int = KERNEL_PAIRS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise InputError(f"求解时间上限必须是大于 0 的秒数，现为「{self.time_limit_s}」")
        if not 0 <= self.mip_gap < 1:
            raise InputError(f"[siting] mip_gap 应在 [0, 1) 之间，现为 {self.mip_gap}")
        if self.threads < 1:
            raise InputError(f"[siting] threads 至少为 1，现为 {self.threads}")

    @classmethod
    def from_config(cls, config: Config, *, time_limit_s: float | None = None) -> SolverParams:
        """``[siting]``'s solver, gap and threads; ``time_limit_s`` overrides its limit."""
        s = config.siting
        return cls(
            solver=dict(s.solver),
            time_limit_s=time_limit_s or s.time_limit_s,
            mip_gap=s.mip_gap,
            threads=s.threads,
        )
