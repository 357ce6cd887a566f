"""Enhanced two-step floating catchment area (E2SFCA; Luo & Qi 2009).

Step 1, per facility ``j``: ``R_j = S_j / Σ_k P_k · W(d_kj)`` over the demand
points ``k`` within its catchment (the supply per weighted person it faces).
Step 2, per demand point ``i``: ``A_i = Σ_j R_j · W(d_ij)``. ``W`` is a
distance-decay weight of the travel time: step weights per travel-time band
(Luo & Qi's Gaussian-derived steps; default 0–10 min 1.00, 10–20 min 0.68,
20–30 min 0.22, i.e. a 30-minute catchment) or a continuous Gaussian.

With supply in places and population in eligible persons, ``A_i`` is places
per eligible person. The index conserves supply: summing step 2 over persons,
``Σ_i P_i · A_i = Σ_j R_j · Σ_i P_i · W(d_ij) = Σ_j R_j · D_j``, where ``D_j``
is facility ``j``'s weighted demand, and ``R_j · D_j = S_j`` whenever
``D_j > 0``. So ``Σ_i P_i · A_i`` equals the total supply of the facilities
that have some population at positive weight in their catchment (all of
them, as soon as each has one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner.coverage._pairs import pairs, vector
from planner.errors import InputError

__all__ = [
    "DEFAULT_BANDS",
    "Accessibility",
    "GaussianDecay",
    "band_weights",
    "e2sfca",
    "gaussian_weights",
    "threshold_bands",
]

# Luo & Qi's Gaussian-derived step weights for three equal bands of a 30-minute
# catchment: (upper bound in minutes, inclusive; weight).
DEFAULT_BANDS: tuple[tuple[float, float], ...] = ((10.0, 1.0), (20.0, 0.68), (30.0, 0.22))


@dataclass(frozen=True)
class GaussianDecay:
    """Continuous Gaussian distance decay with a catchment of ``catchment_min`` minutes.

    ``W(d) = (exp(-½ (d/d0)²) - exp(-½)) / (1 - exp(-½))`` for ``d < d0`` and
    0 beyond (the Gaussian 2SFCA form): 1 at 0 minutes, falling smoothly to 0
    at the catchment edge ``d0``.
    """

    catchment_min: float = 30.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.catchment_min) and self.catchment_min > 0):
            raise InputError("高斯衰减的服务范围 catchment_min 必须是正数（分钟）")


Decay = Sequence[tuple[float, float]] | GaussianDecay


def threshold_bands(threshold_min: float) -> tuple[tuple[float, float], ...]:
    """:data:`DEFAULT_BANDS` stretched to a catchment of ``threshold_min`` minutes.

    Three equal bands of the threshold, with Luo & Qi's weights: e.g. 45 minutes
    gives 0–15 min 1.00, 15–30 min 0.68, 30–45 min 0.22.
    """
    (_, near), (_, middle), (_, far) = DEFAULT_BANDS
    span = threshold_min
    return ((span / 3, near), (2 * span / 3, middle), (span, far))


@dataclass(frozen=True)
class Accessibility:
    """E2SFCA result.

    Attributes
    ----------
    index
        Per demand point ``A_i``: supply per person (e.g. places per eligible
        person), shape ``(n_points,)``; 0 where no facility is in reach.
    ratio
        Per facility ``R_j``: supply per weighted person in its catchment,
        shape ``(n_facilities,)``; 0 where the catchment holds no demand.
    """

    index: NDArray[np.float64]
    ratio: NDArray[np.float64]


def band_weights(minutes: ArrayLike, bands: Sequence[tuple[float, float]]) -> NDArray[np.float64]:
    """Step weight of each travel time.

    Parameters
    ----------
    minutes
        Travel times (minutes).
    bands
        ``(upper_minutes, weight)`` pairs, upper bounds strictly increasing,
        weights in (0, 1].

    Returns
    -------
    numpy.ndarray
        The weight of the first band whose upper bound (inclusive) the time
        does not exceed; 0 beyond the last band.
    """
    uppers, weights = _checked_bands(bands)
    m = np.asarray(minutes, dtype=np.float64)
    table = np.append(weights, 0.0)
    return table[np.searchsorted(uppers, m, side="left")]


def gaussian_weights(minutes: ArrayLike, catchment_min: float) -> NDArray[np.float64]:
    """Gaussian decay weight of each travel time (see :class:`GaussianDecay`)."""
    d0 = GaussianDecay(catchment_min).catchment_min
    m = np.asarray(minutes, dtype=np.float64)
    edge = np.exp(-0.5)
    w = (np.exp(-0.5 * (m / d0) ** 2) - edge) / (1.0 - edge)
    return np.where(m < d0, w, 0.0)


def e2sfca(
    population: ArrayLike,
    supply: ArrayLike,
    *,
    demand: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    bands: Decay = DEFAULT_BANDS,
) -> Accessibility:
    """E2SFCA accessibility of demand points to facilities.

    Parameters
    ----------
    population
        Persons per demand point (e.g. eligible residents of a village),
        shape ``(n_points,)``, finite and ``>= 0``.
    supply
        Supply per facility (places, beds, …), shape ``(n_facilities,)``,
        finite and ``>= 0``.
    demand, facility, minutes
        Candidate (demand point, facility) pairs, same length: indices and
        travel time in minutes (finite, ``>= 0``). Each pair at most once;
        pairs outside the catchment may be listed, they get weight 0.
    bands
        The distance decay: ``(upper_minutes, weight)`` step bands (upper
        bounds strictly increasing and inclusive, weights in (0, 1]; beyond
        the last bound the weight is 0) or a :class:`GaussianDecay`.

    Returns
    -------
    Accessibility
        ``index`` in supply units per person, ``ratio`` per facility.

    Raises
    ------
    InputError
        On mismatched shapes, negative or non-finite values, indices out of
        range, duplicate pairs or invalid bands.
    """
    pop = _nonnegative("population", population)
    sup = _nonnegative("supply", supply)
    d, f, m = pairs(
        demand,
        facility,
        minutes,
        n_rows=pop.shape[0],
        n_f=sup.shape[0],
        row_name="demand",
        row_label="需求点",
        pair_label="配对",
    )
    if isinstance(bands, GaussianDecay):
        w = gaussian_weights(m, bands.catchment_min)
    else:
        w = band_weights(m, bands)
    weighted_demand = np.bincount(f, weights=pop[d] * w, minlength=sup.shape[0])
    ratio = np.zeros(sup.shape[0], dtype=np.float64)
    np.divide(sup, weighted_demand, out=ratio, where=weighted_demand > 0)
    index = np.bincount(d, weights=ratio[f] * w, minlength=pop.shape[0]).astype(np.float64)
    return Accessibility(index=index, ratio=ratio)


def _checked_bands(
    bands: Sequence[tuple[float, float]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        table = np.asarray(bands, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("距离衰减分段必须是 (上限分钟, 权重) 的序列") from exc
    if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] != 2:
        raise InputError("距离衰减分段必须是非空的 (上限分钟, 权重) 序列")
    uppers, weights = table[:, 0], table[:, 1]
    if not np.isfinite(uppers).all() or uppers[0] <= 0 or (np.diff(uppers) <= 0).any():
        raise InputError("距离衰减分段的上限（分钟）必须为正且严格递增")
    if not ((weights > 0) & (weights <= 1)).all():
        raise InputError("距离衰减权重必须在 (0, 1] 之间")
    return uppers, weights


def _nonnegative(name: str, values: ArrayLike) -> NDArray[np.float64]:
    arr = vector(name, values)
    if not np.isfinite(arr).all():
        raise InputError(f"{name} 必须是有限数，不能有缺失值")
    if (arr < 0).any():
        raise InputError(f"{name} 不能为负数")
    return arr
