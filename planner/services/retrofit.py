"""``retrofit``: this year's family accessibility retrofits and the
accessible-community candidates, from the store.

Loads residents (with 户号 and addresses to find families, ID numbers for
masking, never names), villages and facilities and calls
:func:`planner.retrofit.plan_from_frames`; the files are written by
:func:`planner.reports.retrofit.write_retrofit`. :func:`family_residents` gives
the residents as the family rules need them (for the indicator
符合条件残疾人家庭无障碍改造率 elsewhere, via
:func:`planner.domain.retrofit_rate.retrofit_family_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from planner.errors import InputError
from planner.retrofit import RetrofitPlan, check_limits, check_year, plan_from_frames
from planner.settings import Config
from planner.store.core import Store
from planner.store.frames import (
    facilities_frame,
    resident_addresses,
    resident_id_numbers,
    residents_frame,
    villages_frame,
)

__all__ = ["RetrofitOptions", "RetrofitPlan", "family_residents", "retrofit"]


@dataclass(frozen=True, kw_only=True)
class RetrofitOptions:
    """The choices of one retrofit plan (``coverplan retrofit``).

    Attributes
    ----------
    year
        The plan year (``--year``; ``None``: this year). Ages are taken on 31 December.
    quota
        Families at most (``--quota``; ``None``: ``[retrofit] quota``).
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


def family_residents(store: Store) -> pd.DataFrame:
    """Residents as the family rules need them: :func:`residents_frame` (with
    ``household_id``, the 户号) plus ``address`` (None when unknown).

    The address is there only to group residents without 户号 into families
    (:func:`planner.domain.families.family_keys`); it must not be output.
    """
    residents = residents_frame(store)
    addresses = resident_addresses(store)
    residents["address"] = pd.Series(
        [addresses.get(int(rid)) for rid in residents.index], index=residents.index, dtype=object
    )
    return residents


def retrofit(store: Store, *, config: Config, options: RetrofitOptions) -> RetrofitPlan:
    """This year's retrofit plan for the store's families.

    Parameters
    ----------
    store
        The district's store.
    config
        ``[retrofit]`` (weights, quota, cost), ``[privacy]`` (masked ID numbers
        and 户号), ``[indicators]`` (``retrofit_pct`` and who makes a family
        count) and the ``accessible_community`` type.
    options
        Year, quota, budget, communities listed.

    Returns
    -------
    RetrofitPlan
        Every candidate family ranked (masked IDs, no names, no addresses), the
        selection, the 符合条件残疾人家庭无障碍改造率 before and after (district
        and per town), the community candidates.
    """
    residents = family_residents(store)
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
