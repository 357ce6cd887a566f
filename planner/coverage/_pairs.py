"""Validation shared by the array cores (allocation, accessibility): numeric
vectors and sparse (row, facility, minutes) pair lists, with Chinese messages."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planner.errors import InputError


def vector(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as a 1-D float array, or an :class:`InputError` naming ``name``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} 必须是数值数组") from exc
    if arr.ndim != 1:
        raise InputError(f"{name} 必须是一维数组，实际维数 {arr.ndim}")
    return arr


def pairs(
    rows: ArrayLike,
    facility: ArrayLike,
    minutes: ArrayLike,
    *,
    n_rows: int,
    n_f: int,
    row_name: str,
    row_label: str,
    pair_label: str,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Validate candidate pairs: equal lengths, whole in-range indices, finite
    non-negative minutes, no duplicate pair.

    ``row_name``/``row_label`` name the first index (e.g. ``group``/``需求组``),
    ``pair_label`` the pairs (e.g. ``候选配对``) in messages.
    """
    r = vector(row_name, rows)
    f = vector("facility", facility)
    m = vector("minutes", minutes)
    if not (r.shape == f.shape == m.shape):
        raise InputError(
            f"{pair_label}的 {row_name}、facility、minutes 长度必须一致"
            f"（实际 {r.size}、{f.size}、{m.size}）"
        )
    for name, what, arr, n in ((row_name, row_label, r, n_rows), ("facility", "设施", f, n_f)):
        if not np.isfinite(arr).all() or (arr != np.floor(arr)).any():
            raise InputError(f"{name} 必须是整数下标")
        if arr.size and (arr.min() < 0 or arr.max() >= n):
            raise InputError(f"{pair_label}引用了不存在的{what}（{name} 下标须在 [0, {n}) 内）")
    if not np.isfinite(m).all() or (m < 0).any():
        raise InputError("minutes（通行时间）必须是非负有限数（分钟）")
    ri, fi = r.astype(np.int64), f.astype(np.int64)
    if ri.size:
        key = np.sort(ri * max(n_f, 1) + fi)
        if (key[1:] == key[:-1]).any():
            raise InputError(f"同一 ({row_name}, facility) {pair_label}出现了多次")
    return ri, fi, m
