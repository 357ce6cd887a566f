"""Sampling and date helpers of the demo generator (one ``numpy`` random generator)."""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def exact_counts(shares: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Integer counts summing to ``total`` in proportion to ``shares`` (largest remainder)."""
    raw = shares / shares.sum() * total
    counts = np.floor(raw).astype(np.int64)
    rest = total - int(counts.sum())
    order = np.lexsort((np.arange(len(raw)), -(raw - counts)))
    counts[order[:rest]] += 1
    return counts


def pick(rng: np.random.Generator, weights: NDArray[np.float64], count: int) -> NDArray[np.int64]:
    """``count`` distinct indexes drawn with probability proportional to ``weights``."""
    count = min(count, int(np.count_nonzero(weights > 0)))
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    p = weights / weights.sum()
    return np.sort(rng.choice(len(weights), size=count, replace=False, p=p)).astype(np.int64)


def to_mask(n: int, idx: NDArray[np.int64]) -> NDArray[np.bool_]:
    """A boolean array of length ``n``, true at ``idx``."""
    out = np.zeros(n, dtype=bool)
    out[idx] = True
    return out


def pick_from(
    rng: np.random.Generator, pool: NDArray[np.int64], weights: NDArray[np.float64], count: int
) -> NDArray[np.int64]:
    """``count`` distinct members of ``pool`` drawn in proportion to ``weights``."""
    return pool[pick(rng, weights.astype(np.float64), count)]
