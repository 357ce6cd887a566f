"""Routine home visits of the month, per town (town officers, not the outreach teams).

Poor disabled households (低保/低边) must all be visited every month; anyone
without a home visit for over a year is overdue. Frames in, typed
:class:`~planner.outreach.plan.RoutineVisits` out.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.domain.eligibility import POOR
from planner.domain.privacy import mask_id
from planner.outreach.plan import RoutinePerson, RoutineVisits
from planner.settings import Config

__all__ = ["ROUTINE_OVERDUE_DAYS", "routine_visits"]

ROUTINE_OVERDUE_DAYS = 365
"""A person without a home visit for longer than this is overdue."""


def routine_visits(
    residents: pd.DataFrame, villages: pd.DataFrame, *, config: Config, year: int, month: int
) -> tuple[RoutineVisits, ...]:
    """Per town: the poor disabled households town officers must visit this
    month (100 %), and persons with no home visit for over a year.

    Parameters
    ----------
    residents
        :func:`planner.store.frames.residents_frame` with personal columns
        (``personal=True``), indexed by resident id.
    villages
        :func:`planner.store.frames.villages_frame`.
    config
        ``[privacy]`` (ID masks).
    year, month
        The month.

    Returns
    -------
    tuple of RoutineVisits
        One per town, in town-code order: counts of poor households, those
        visited this month already and overdue persons, and the lists of poor
        households still to visit and of other overdue persons.
    """
    res = residents[residents["town_code"].notna() & ~residents["needs_review"].fillna(False)]
    vf = villages.set_index("code")
    month_start = pd.Timestamp(date(year, month, 1))
    last = pd.to_datetime(res["last_visit"])
    poor = res["low_income"].isin(POOR)
    visited_now = last >= month_start
    overdue = last.isna() | (last < month_start - pd.Timedelta(days=ROUTINE_OVERDUE_DAYS))
    names = vf["name"]

    def people(mask: pd.Series) -> tuple[RoutinePerson, ...]:
        rows = res[mask]
        return tuple(
            RoutinePerson(
                resident_id=int(rid),
                masked_id=mask_id(r["id_number"], privacy=config.privacy),
                name=r["name"],
                village_name=str(names.at[r["village_code"]]),
                last_visit=None if pd.isna(r["last_visit"]) else str(r["last_visit"]),
            )
            for rid, r in zip(rows.index.astype(int), rows.to_dict(orient="records"), strict=True)
        )

    out = []
    towns = vf.drop_duplicates("town_code").set_index("town_code")["town_name"]
    for code, name in towns.sort_index().items():
        here = res["town_code"] == code
        out.append(
            RoutineVisits(
                town_code=str(code),
                town_name=name,
                poor_households=int((here & poor).sum()),
                poor_visited=int((here & poor & visited_now).sum()),
                overdue=int((here & overdue).sum()),
                poor=people(here & poor & ~visited_now),
                overdue_people=people(here & overdue & ~poor),
            )
        )
    return tuple(out)
