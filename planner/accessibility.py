"""Enhanced two-step floating catchment area (E2SFCA; Luo & Qi 2009).

Step 1, per facility j: ``R_j = S_j / Σ_k P_k · W(d_kj)`` over the demand
points k within its catchment. Step 2, per demand point i:
``A_i = Σ_j R_j · W(d_ij)``. With travel-time bands as weights, the index is
the supply (places) available per person, discounted by travel time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner._errors import InputError

# Luo & Qi's Gaussian-derived step weights for three equal bands of the catchment.
DEFAULT_BANDS: tuple[tuple[float, float], ...] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))


@dataclass(frozen=True)
class Accessibility:
    """E2SFCA result.

    Attributes
    ----------
    index
        Per demand point: supply per person (e.g. places per eligible person).
    ratio
        Per facility: supply-to-weighted-demand ratio ``R_j`` (0 without demand).
    """

    index: NDArray[np.float64]
    ratio: NDArray[np.float64]


def band_weights(
    minutes: NDArray[np.float64], bands: Sequence[tuple[float, float]]
) -> NDArray[np.float64]:
    """Weight of each travel time: the weight of the first band whose upper bound
    (inclusive, minutes) it does not exceed; 0 beyond the last band."""
    uppers = np.array([b[0] for b in bands], dtype=np.float64)
    weights = np.array([b[1] for b in bands] + [0.0], dtype=np.float64)
    return weights[np.searchsorted(uppers, minutes, side="left")]


def _check_bands(bands: Sequence[tuple[float, float]]) -> None:
    uppers = [b[0] for b in bands]
    if not bands or any(b <= a for a, b in zip(uppers, uppers[1:], strict=False)) or uppers[0] <= 0:
        raise InputError("距离衰减分段的上限（分钟）必须为正且递增")
    if any(not 0 < w <= 1 for _, w in bands):
        raise InputError("距离衰减权重必须在 (0, 1] 之间")


def e2sfca(
    population: ArrayLike,
    supply: ArrayLike,
    *,
    demand: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    bands: Sequence[tuple[float, float]] = DEFAULT_BANDS,
) -> Accessibility:
    """E2SFCA accessibility of demand points to facilities.

    Parameters
    ----------
    population
        Persons per demand point, shape ``(D,)``.
    supply
        Supply per facility (places), shape ``(F,)``.
    demand, facility, minutes
        Demand–facility pairs and their travel minutes (pairs beyond the last
        band get weight 0).
    bands
        ``(upper_minutes, weight)`` pairs, upper bounds increasing, weights in
        (0, 1].

    Raises
    ------
    InputError
        On inconsistent inputs or invalid bands.
    """
    _check_bands(bands)
    pop = np.asarray(population, dtype=np.float64)
    sup = np.asarray(supply, dtype=np.float64)
    d = np.asarray(demand, dtype=np.int64)
    f = np.asarray(facility, dtype=np.int64)
    m = np.asarray(minutes, dtype=np.float64)
    if not (d.shape == f.shape == m.shape):
        raise InputError("配对的 demand、facility、minutes 长度必须一致")
    if d.size and (d.min() < 0 or d.max() >= pop.size or f.min() < 0 or f.max() >= sup.size):
        raise InputError("配对引用了不存在的需求点或设施")
    if np.any(pop < 0) or np.any(sup < 0):
        raise InputError("人口和供给不能为负数")
    w = band_weights(m, bands)
    weighted_demand = np.bincount(f, weights=pop[d] * w, minlength=sup.size)
    ratio = np.divide(sup, weighted_demand, out=np.zeros_like(sup), where=weighted_demand > 0)
    index = np.bincount(d, weights=ratio[f] * w, minlength=pop.size).astype(np.float64)
    return Accessibility(index=index, ratio=ratio)
