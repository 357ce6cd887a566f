"""Assistive devices issued to the valid persons over the last ten years."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from data.demo._calibration import (
    CATEGORIES,
    DEVICE_HISTORY_YEARS,
    DEVICE_LIFE_YEARS,
    DEVICES_DUE,
    ELDERLY_AGE,
)
from data.demo._records import SYNTHETIC_NOTE, Roster
from data.demo._sampling import add_years, to_mask


def make_devices(roster: Roster, today: date, rng: np.random.Generator) -> list[list[str]]:
    """Device issue rows; exactly DEVICES_DUE current devices fall due within a year."""
    n = len(roster.ids)
    cat = np.array(CATEGORIES)[roster.category]
    physical = cat == "肢体残疾"
    severe = roster.grade <= 2
    old = roster.age >= ELDERLY_AGE
    walker = physical & ~roster.wheelchair
    holders: list[tuple[int, str]] = []
    rules: list[tuple[str, NDArray[np.bool_], float]] = [
        ("轮椅", roster.wheelchair, 1.0),
        ("护理床", roster.bedridden, 0.35),
        ("坐便椅", physical & severe & old, 0.12),
        ("助行器", walker & old, 0.09),
        ("拐杖", walker, 0.07),
        ("假肢", walker & (roster.grade >= 2) & (roster.age >= 18), 0.025),
        ("助听器", (cat == "听力残疾") | ((cat == "多重残疾") & (rng.random(n) < 0.2)), 0.5),
        ("盲杖", (cat == "视力残疾") & severe, 0.35),
        ("助视器", (cat == "视力残疾") & ~severe, 0.35),
    ]
    for device, eligible, share in rules:
        take = eligible & (rng.random(n) < share)
        holders.extend((int(i), device) for i in np.flatnonzero(take))
    due = to_mask(len(holders), rng.choice(len(holders), size=DEVICES_DUE, replace=False))
    earliest = add_years(today, -DEVICE_HISTORY_YEARS)
    horizon = today + timedelta(days=365)
    rows: list[tuple[date, str, str, int]] = []
    for (i, device), is_due in zip(holders, due.tolist(), strict=True):
        life = DEVICE_LIFE_YEARS[device]
        cutoff = add_years(horizon, -life)  # issued on or before this day → due
        if is_due:
            lo, hi = earliest, cutoff
        else:
            lo, hi = cutoff + timedelta(days=1), today
        issued = lo + timedelta(days=int(rng.integers(0, (hi - lo).days + 1)))
        rows.append((issued, roster.ids[i], device, life))
        # Earlier devices of the same kind, since replaced.
        prev = issued
        while rng.random() < 0.55:
            prev = add_years(prev, -life) - timedelta(days=int(rng.integers(0, 541)))
            if prev < earliest:
                break
            rows.append((prev, roster.ids[i], device, life))
    rows.sort()
    return [
        [pid, device, d.isoformat(), str(life), SYNTHETIC_NOTE] for d, pid, device, life in rows
    ]
