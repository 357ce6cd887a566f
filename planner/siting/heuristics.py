"""Greedy and interchange heuristics for coverage siting (warm starts, ranking).

They work on a coverage matrix ``A`` (demand points × candidate sites, 1 where
the site covers the point) of the demand not already covered, with weights
``w`` (persons). Constraints honoured: at most ``k`` sites, a budget over site
costs, and groups that need at least a number of sites each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from planner.units import FLOAT_TOL

#: A candidate adding at most this many persons adds nothing (stops the greedy).
GAIN_TOL = 1e-12


@dataclass(frozen=True)
class CoverInstance:
    """Uncapacitated coverage on arrays.

    ``A`` is CSR (points × candidates); ``groups`` lists candidate-column arrays
    with the number of sites each still needs.
    """

    w: NDArray[np.float64]
    A: sp.csr_matrix
    cost: NDArray[np.float64]
    k: int
    budget: float
    groups: tuple[tuple[NDArray[np.int64], int], ...] = ()

    @property
    def AT(self) -> sp.csr_matrix:
        return self.A.T.tocsr()


def covered_weight(inst: CoverInstance, selected: list[int] | NDArray[np.int64]) -> float:
    """Persons covered by ``selected`` columns."""
    x = np.zeros(inst.A.shape[1])
    x[np.asarray(selected, dtype=np.int64)] = 1.0
    return float(inst.w[(inst.A @ x) > 0].sum())


def _groups_ok(inst: CoverInstance, chosen: NDArray[np.bool_]) -> bool:
    return all(int(chosen[cols].sum()) >= need for cols, need in inst.groups)


def greedy(inst: CoverInstance, *, AT: sp.csr_matrix | None = None) -> list[int]:
    """Greedy coverage: group needs first, then the largest gain per step.

    With a budget, a site is only taken when it still fits; gains are compared
    per yuan when costs differ (the usual budgeted-coverage rule), else as is.

    Returns
    -------
    list of int
        Chosen candidate columns in the order taken.
    """
    A = inst.A
    at = inst.AT if AT is None else AT
    n, m = A.shape
    uncovered = np.ones(n, bool)
    gain = np.asarray(at @ inst.w, dtype=np.float64)
    chosen = np.zeros(m, bool)
    order: list[int] = []
    spent = 0.0
    per_yuan = bool(np.ptp(inst.cost) > 0) if m else False

    def take(j: int) -> None:
        nonlocal spent
        chosen[j] = True
        order.append(j)
        spent += float(inst.cost[j])
        cov = at.indices[at.indptr[j] : at.indptr[j + 1]]
        new = cov[uncovered[cov]]
        uncovered[new] = False
        if len(new):
            gain[:] -= A[new].T @ inst.w[new]

    for cols, need in sorted(inst.groups, key=lambda g: len(g[0])):
        for _ in range(need - int(chosen[cols].sum())):
            ok = cols[~chosen[cols] & (inst.cost[cols] <= inst.budget - spent + FLOAT_TOL)]
            if not len(ok) or len(order) >= inst.k:
                break
            take(int(ok[np.argmax(gain[ok] - FLOAT_TOL * inst.cost[ok])]))
    while len(order) < inst.k:
        free = ~chosen & (inst.cost <= inst.budget - spent + FLOAT_TOL)
        if not free.any():
            break
        score = np.where(free, gain, -np.inf)
        if per_yuan:
            score = np.where(free, gain / np.maximum(inst.cost, 1.0), -np.inf)
        j = int(np.argmax(score))
        if gain[j] <= GAIN_TOL:
            break
        take(j)
    return order


def interchange(
    inst: CoverInstance,
    selected: list[int],
    *,
    AT: sp.csr_matrix | None = None,
    max_iter: int = 10_000,
) -> list[int]:
    """Best-improvement swaps (one site out, one in) until none improves.

    Each round scores every (in, out) pair at once: the gain of the site coming
    in, minus the loss of the site going out, plus the persons only the
    leaving site covered that the entering one covers too (a sparse product).
    Swaps keep the budget and the group needs.
    """
    A = inst.A
    at = inst.AT if AT is None else AT
    m = A.shape[1]
    sel = list(selected)
    if not sel:
        return sel
    for _ in range(max_iter):
        x = np.zeros(m)
        x[sel] = 1.0
        count = A @ x
        gain = np.asarray(at @ (inst.w * (count == 0)), dtype=np.float64)
        single = count == 1
        a_sel = A[:, sel]
        loss = np.asarray(a_sel.T @ (inst.w * single)).ravel()
        e = a_sel.multiply(single[:, None]).tocsc()
        extra = (at @ sp.diags(inst.w * single) @ e).tocoo()
        chosen = np.zeros(m, bool)
        chosen[sel] = True
        spent = float(inst.cost[sel].sum())
        best, best_in, best_out = FLOAT_TOL, -1, -1
        for pos, s in enumerate(sel):
            allowed = ~chosen & (inst.cost <= inst.budget - spent + inst.cost[s] + FLOAT_TOL)
            locked = [
                cols for cols, need in inst.groups if s in cols and chosen[cols].sum() <= need
            ]
            for cols in locked:
                mask = np.zeros(m, bool)
                mask[cols] = True
                allowed &= mask
            if not allowed.any():
                continue
            # pairs with an overlap term
            hit = extra.col == pos
            rows, vals = extra.row[hit], extra.data[hit]
            ok = allowed[rows]
            if ok.any():
                v = gain[rows[ok]] - loss[pos] + vals[ok]
                t = int(np.argmax(v))
                if v[t] > best:
                    best, best_in, best_out = float(v[t]), int(rows[ok][t]), pos
            g = np.where(allowed, gain, -np.inf)
            j = int(np.argmax(g))
            if g[j] - loss[pos] > best:
                best, best_in, best_out = float(g[j] - loss[pos]), j, pos
        if best_in < 0:
            break
        sel[best_out] = best_in
    return sel


def order_by_gain(inst: CoverInstance, selected: list[int]) -> tuple[list[int], list[float]]:
    """Rank ``selected``: each next site adds the most not yet covered.

    Returns the order and each site's marginal persons.
    """
    left = list(selected)
    uncovered = np.ones(inst.A.shape[0], bool)
    at = inst.AT
    order: list[int] = []
    gains: list[float] = []
    while left:
        g = [
            float(
                inst.w[at.indices[at.indptr[j] : at.indptr[j + 1]]][
                    uncovered[at.indices[at.indptr[j] : at.indptr[j + 1]]]
                ].sum()
            )
            for j in left
        ]
        t = int(np.argmax(g))
        j = left.pop(t)
        order.append(j)
        gains.append(g[t])
        uncovered[at.indices[at.indptr[j] : at.indptr[j + 1]]] = False
    return order, gains
