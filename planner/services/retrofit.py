"""``retrofit``: this year's household accessibility retrofits and the
accessible-community candidates, from the store.

Loads residents (with ID numbers for masking, never names), villages and
facilities and calls :func:`planner.retrofit.plan_from_frames`; the files are
written by :func:`planner.reports.retrofit.write_retrofit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.errors import InputError
from planner.retrofit import RetrofitPlan, check_limits, check_year, plan_from_frames
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import (
    facilities_frame,
    resident_id_numbers,
    residents_frame,
    villages_frame,
)

__all__ = ["RetrofitOptions", "RetrofitPlan", "retrofit"]


@dataclass(frozen=True, kw_only=True)
class RetrofitOptions:
    """The choices of one retrofit plan (``coverplan retrofit``).

    Attributes
    ----------
    year
        The plan year (``--year``; ``None``: this year). Ages are taken on 31 December.
    quota
        Households at most (``--quota``; ``None``: ``[retrofit] quota``).
    budget
        Yuan available (``--budget``; ``None``: no budget limit).
    communities_top
        Candidate villages listed (``None``: ``[retrofit] communities_top``).
    """

    year: int | None = None
    quota: int | None = None
    budget: float | None = None
    communities_top: int | None = None

    def __post_init__(self) -> None:
        if self.year is not None:
            check_year(self.year)
        check_limits(0 if self.quota is None else self.quota, self.budget)
        if self.communities_top is not None and self.communities_top < 0:
            raise InputError("候选村社数不能为负数", value=str(self.communities_top))


def retrofit(store: Store, *, config: Config, options: RetrofitOptions) -> RetrofitPlan:
    """This year's retrofit plan for the store's residents.

    Parameters
    ----------
    store
        The district's store.
    config
        ``[retrofit]`` (weights, quota, cost), ``[privacy]`` (masked ID numbers),
        ``[indicators] retrofit_pct`` and the ``accessible_community`` type.
    options
        Year, quota, budget, communities listed.

    Returns
    -------
    RetrofitPlan
        Every candidate ranked (masked IDs, no names), the selection, the
        困难重度 retrofit rate before and after, the community candidates.
    """
    residents = residents_frame(store)
    numbers = resident_id_numbers(store)
    residents["id_number"] = [numbers.get(int(rid)) for rid in residents.index]
    return plan_from_frames(
        residents,
        villages=villages_frame(store),
        facilities=facilities_frame(store),
        config=config,
        year=date.today().year if options.year is None else options.year,
        quota=options.quota,
        budget=options.budget,
        communities_top=options.communities_top,
    )
