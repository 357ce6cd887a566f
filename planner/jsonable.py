"""Plain JSON values from analysis results: the one conversion every ``to_json`` uses.

Typed results (dataclasses, frames) turn themselves into JSON-ready values with
:func:`to_jsonable` and :func:`records`; the CLI and the HTTP API print those.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["records", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None).

    numpy scalars become Python numbers, NaN/NaT/±inf become ``None``, dates
    become ISO strings (``2026-12-01``), paths strings, tuples and sets lists
    (sets sorted), dataclasses dicts, frames lists of records.

    Examples
    --------
    >>> to_jsonable({"n": np.int64(3), "x": float("nan"), "d": date(2026, 12, 1)})
    {'n': 3, 'x': None, 'd': '2026-12-01'}
    """
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if value is pd.NaT:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_jsonable(v) for v in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(asdict(value))
    with_json = getattr(value, "to_json", None)
    if callable(with_json):
        return to_jsonable(with_json())
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-ready dicts (column name → value)."""
    return [
        {str(k): to_jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
    ]
