"""Months per town and each month's first village of the outreach calendar.

Steps 2 and 3 of :func:`planner.outreach.calendar.plan_year`: the 12 months are
shared between the towns in proportion to need (:func:`town_months`, never
fewer than :func:`town_minimum`), then each town's best villages take a month
each, highest need first into the earliest month their no-repeat window allows
while every chosen village keeps a month free (:func:`_hosts`). A town minimum
that cannot hold raises :class:`~planner.errors.CalendarError` naming the
setting to relax.

Villages are positions in the need table; months are positions 0–11 in the
calendar's window; ``allowed`` is the (villages, 12) boolean table of months a
village may take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from planner.errors import CalendarError
from planner.settings import Config, OutreachConfig
from planner.units import MONTHS_PER_YEAR

__all__ = ["town_minimum", "town_months"]

MONTHS = MONTHS_PER_YEAR


def town_minimum(oc: OutreachConfig) -> int:
    """Months every town gets at least in 12: ``town_min_months``, or 1 when an
    older file sets ``every_town = true``."""
    return max(oc.town_min_months, 1 if oc.every_town else 0)


def _first_allowed(allowed: np.ndarray) -> np.ndarray:
    """Per village, the first month position it may take (12: none)."""
    return np.where(allowed.any(axis=1), allowed.argmax(axis=1), MONTHS)


def _fillable(k0: Sequence[int] | np.ndarray) -> int:
    """How many of the 12 months villages allowed from ``k0`` on can fill (one each)."""
    k0 = np.sort(np.asarray(k0, int))
    filled = 0
    for k in range(MONTHS):
        if int(np.searchsorted(k0, k, side="right")) > filled:  # one allowed by month k is free
            filled += 1
    return filled


def town_months(
    need: Mapping[str, float],
    *,
    months: int,
    minimum: Mapping[str, int],
    cap: Mapping[str, int],
) -> dict[str, int]:
    """Share ``months`` between towns in proportion to need (largest remainders).

    Parameters
    ----------
    need
        Town code → need (sum of its villages' scores; negative counts as 0).
        With no need anywhere, towns share by ``cap``.
    months
        Months to share (at most the sum of ``cap``).
    minimum
        Town code → months it gets at least (at most its ``cap``).
    cap
        Town code → months it can take at most (its villages that may go).

    Returns
    -------
    dict
        Town code → months; they add up to ``months`` (more only when the
        minimums alone do). Ties go to the larger need, then the smaller town code.
    """
    codes = sorted(need)
    w = np.array([max(0.0, float(need[t])) for t in codes])
    caps = np.array([int(cap[t]) for t in codes])
    if w.sum() <= 0:
        w = caps.astype(float)
    ideal = months * w / w.sum() if w.sum() > 0 else np.zeros(len(codes))
    low = np.array([min(int(minimum.get(t, 0)), c) for t, c in zip(codes, caps, strict=True)])
    q = np.minimum(np.maximum(low, np.floor(ideal + 1e-9).astype(int)), caps)
    rank = {t: i for i, t in enumerate(codes)}

    def key(i: int, sign: int) -> tuple[float, float, int]:
        return (sign * (ideal[i] - q[i]), sign * w[i], -sign * rank[codes[i]])

    while q.sum() < months:
        room = [i for i in range(len(codes)) if q[i] < caps[i]]
        if not room:
            break
        q[max(room, key=lambda i: key(i, 1))] += 1
    while q.sum() > months:
        over = [i for i in range(len(codes)) if q[i] > low[i]]
        if not over:  # the minimums alone take more than the months
            break
        q[min(over, key=lambda i: key(i, 1))] -= 1
    return {t: int(q[i]) for i, t in enumerate(codes)}


def _town_table(needs: pd.DataFrame, allowed: np.ndarray, *, config: Config) -> pd.DataFrame:
    """Per town: villages, eligible, need, share, minimum and quota (months it hosts).

    Raises
    ------
    CalendarError
        When the town minimums cannot hold.
    """
    oc = config.outreach
    low = town_minimum(oc)
    frame = pd.DataFrame(
        {
            "town_code": needs["town_code"].astype(str).to_numpy(),
            "town_name": needs["town_name"].astype(str).to_numpy(),
            "eligible": allowed.any(axis=1),
            "score": needs["score"].to_numpy(float).clip(min=0),
        }
    )
    frame["need"] = frame["score"].where(frame["eligible"], 0.0)
    towns = (
        frame.groupby("town_code", sort=True)
        .agg(
            town_name=("town_name", "first"),
            villages=("eligible", "size"),
            eligible=("eligible", "sum"),
            need=("need", "sum"),
        )
        .reset_index()
    )
    towns["minimum"] = low
    n_towns = len(towns)
    if low * n_towns > MONTHS:
        raise CalendarError(
            f"全区 {n_towns} 个镇街，每个镇街每 12 个月至少 {low} 个月，共需 {low * n_towns} "
            f"个月，超过 12 个月：请调小 [outreach] town_min_months"
            + ("（或去掉 every_town = true）" if oc.every_town else "")
        )
    short = towns[towns["eligible"] < low]
    if len(short):
        names = "、".join(
            f"{r.town_name}（{r.villages} 个村社，可排 {r.eligible} 个）"
            for r in short.itertuples()
        )
        raise CalendarError(
            f"{names}可排的村社少于每个镇街每 12 个月至少 {low} 个月"
            f"（其余村社在 [outreach] no_repeat_months = {oc.no_repeat_months} 个月内去过）："
            "请调小 [outreach] no_repeat_months 或 [outreach] town_min_months"
            + ("（或去掉 every_town = true）" if oc.every_town else "")
        )
    fillable = _fillable(_first_allowed(allowed))
    need = dict(zip(towns["town_code"], towns["need"], strict=True))
    total = sum(need.values())
    towns["share"] = [fillable * n / total if total > 0 else 0.0 for n in towns["need"]]
    quota = town_months(
        need,
        months=fillable,
        minimum=dict.fromkeys(need, low),
        cap=dict(zip(towns["town_code"], towns["eligible"].astype(int), strict=True)),
    )
    towns["quota"] = towns["town_code"].map(quota).astype(int)
    return towns


def _order(needs: pd.DataFrame, idx: Sequence[int] | np.ndarray) -> list[int]:
    """Village positions ``idx``, highest need first, ties by code."""
    idx = np.asarray(idx, int)
    score = needs["score"].to_numpy(float)[idx]
    codes = needs.index.to_numpy()[idx]
    return [int(i) for i in idx[np.lexsort((codes, -score))]]


def _overfull(k0: Sequence[int], free: np.ndarray) -> int | None:
    """The first month position from which villages allowed from ``k0`` on
    outnumber the free months (None: each can take a free month)."""
    for k in range(MONTHS):
        if sum(1 for x in k0 if x >= k) > int(free[k:].sum()):
            return k
    return None


def _choose_hosts(
    needs: pd.DataFrame, k0: np.ndarray, quota: Mapping[str, int], *, oc: OutreachConfig
) -> list[int]:
    """Each town's best villages, as many as its quota, that can all have a month.

    While more chosen villages may only go from some month on than there are
    months left from it, the one of least need among them gives way to the
    next best village of its town that may go earlier (or to none, unless its
    town would fall below ``town_min_months``).

    Raises
    ------
    CalendarError
        When the town minimums cannot all find a month.
    """
    low = town_minimum(oc)
    town = needs["town_code"].astype(str).to_numpy()
    score = needs["score"].to_numpy(float)
    codes = needs.index.astype(str).to_numpy()
    eligible = np.flatnonzero(k0 < MONTHS)
    cands = {t: _order(needs, eligible[town[eligible] == t]) for t in sorted(quota)}
    chosen = {t: cands[t][: quota[t]] for t in cands}
    nxt = {t: quota[t] for t in cands}
    all_free = np.ones(MONTHS, bool)
    while True:
        picked = [v for t in chosen for v in chosen[t]]
        bad = _overfull([int(k0[v]) for v in picked], all_free)
        if bad is None:
            return picked
        late = []
        for v in picked:
            t = town[v]
            spare = [w for w in cands[t][nxt[t] :] if k0[w] < bad]
            if k0[v] >= bad and (spare or len(chosen[t]) > low):
                late.append(v)
        if not late:
            names = sorted({str(needs["town_name"].iloc[v]) for v in picked if k0[v] >= bad})
            raise CalendarError(
                f"{'、'.join(names)}的村社最近去过，要满 [outreach] no_repeat_months"
                f"（{oc.no_repeat_months} 个月）才能再去，12 个月内排不下每个镇街至少 {low} 个月："
                "请调小 [outreach] no_repeat_months 或 [outreach] town_min_months"
            )
        drop = min(late, key=lambda v: (score[v], codes[v]))
        t = town[drop]
        chosen[t].remove(drop)
        while nxt[t] < len(cands[t]):
            w = cands[t][nxt[t]]
            nxt[t] += 1
            if k0[w] < bad:
                chosen[t].append(w)
                break


def _hosts(
    needs: pd.DataFrame,
    allowed: np.ndarray,
    quota: Mapping[str, int],
    *,
    oc: OutreachConfig,
) -> list[int]:
    """The first village of each month (position in ``needs``; -1: none).

    The chosen villages (:func:`_choose_hosts`) take a month each, highest
    need first into the earliest free month they may take while every one
    still to come keeps a month. Months still empty go to the best village
    left that may go then.

    Raises
    ------
    CalendarError
        When the town minimums cannot all find a month.
    """
    k0 = _first_allowed(allowed)
    chosen = _choose_hosts(needs, k0, quota, oc=oc)
    free = np.ones(MONTHS, bool)
    hosts = [-1] * MONTHS
    waiting = set(chosen)
    for v in _order(needs, chosen):
        waiting.discard(v)
        for m in range(int(k0[v]), MONTHS):
            if not free[m]:
                continue
            free[m] = False
            if _overfull([int(k0[w]) for w in waiting], free) is None:
                hosts[m] = v
                break
            free[m] = True
    used = {v for v in hosts if v >= 0}
    rest = [v for v in _order(needs, np.flatnonzero(k0 < MONTHS)) if v not in used]
    for m in range(MONTHS):
        if hosts[m] < 0:
            for v in rest:
                if allowed[v, m]:
                    hosts[m] = v
                    rest.remove(v)
                    break
    return hosts
