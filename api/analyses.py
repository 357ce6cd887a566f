"""The slow analyses behind the aggregate routes, computed once per data version.

Coverage of every facility type, its gaps, the indicator table and the retrofit
plan take seconds; :class:`AnalysisCache` keeps each result per app, keyed by
what was asked, the store's :meth:`~planner.store.core.Store.data_version` and
the day (ages and due dates move with it). The data version changes with every
write that goes through :func:`planner.store.core.audit` (imports, facilities,
visits, corrections, district changes, scenarios, in this process or another:
the CLI too) and with a new road network, so the next request after a change
recomputes, and every other request answers from memory (one primary-key read
of ``meta``). Concurrent requests for the same missing key wait for one
computation instead of each starting its own. :func:`cached_json` keeps, in a
second cache (``app.state.answers``), the encoded answer of a route per route,
"admin or not" (suppression), query and data version, so a repeated GET sends
bytes already encoded.

:func:`suppress_counts` hides small counts in the JSON shown to roles that see
aggregates only (``[privacy] min_count``).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import date
from typing import Any, TypeVar

from fastapi import Request, Response

from planner.domain.access import Principal
from planner.networks import NetworkCache
from planner.services.coverage import CoverageOptions, coverage, find_gaps
from planner.services.indicators import IndicatorOptions, IndicatorsResult, indicators
from planner.services.retrofit import RetrofitOptions, RetrofitPlan, retrofit
from planner.services.types import CoverageResult, Gaps
from planner.settings import Config
from planner.store.core import Store

__all__ = [
    "AnalysisCache",
    "cached_coverage",
    "cached_gaps",
    "cached_indicators",
    "cached_json",
    "cached_retrofit",
    "suppress_counts",
]

T = TypeVar("T")

#: Results kept per app (coverage, gaps, indicators and a few retrofit variants).
MAX_ENTRIES = 16
#: Encoded answers kept per app (per route, admin or not, type, top); a village
#: GeoJSON of a district is a few megabytes.
MAX_ANSWERS = 32


class AnalysisCache:
    """Results by key, least recently used dropped beyond ``max_entries``.

    Thread-safe; one computation per key at a time (others wait for it).
    """

    def __init__(self, *, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value of ``key``, computed by ``compute`` when missing."""
        with self._lock:
            if key in self._values:
                self.hits += 1
                self._values.move_to_end(key)
                value: T = self._values[key]
                return value
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._values:
                    self.hits += 1
                    found: T = self._values[key]
                    return found
            self.misses += 1
            try:
                computed = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self._values[key] = computed
                while len(self._values) > self._max:
                    self._values.popitem(last=False)
                self._computing.pop(key, None)
            return computed


def _state(request: Request) -> tuple[Store, Config, AnalysisCache, NetworkCache]:
    app = request.app
    return app.state.store, app.state.config, app.state.analyses, app.state.networks


def _key(store: Store, *parts: Hashable) -> tuple[Hashable, ...]:
    return (*parts, store.data_version(), date.today().isoformat())


def cached_json(
    request: Request,
    parts: tuple[Hashable, ...],
    build: Callable[[], Any],
    *,
    media_type: str = "application/json",
) -> Response:
    """The JSON response of ``build()``, encoded once per ``parts``, data version and
    day (a repeated GET costs a ``meta`` read and the bytes sent, no re-validation)."""
    store = request.app.state.store
    answers: AnalysisCache = request.app.state.answers
    body = answers.get(
        _key(store, "json", *parts),
        lambda: json.dumps(
            build(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8"),
    )
    return Response(content=body, media_type=media_type)


def cached_coverage(request: Request) -> CoverageResult:
    """Coverage of every configured type (as ``coverplan coverage --json``)."""
    store, config, cache, networks = _state(request)
    return cache.get(
        _key(store, "coverage"),
        lambda: coverage(store, config=config, options=CoverageOptions(), networks=networks),
    )


def cached_service_areas(request: Request, type_key: str) -> CoverageResult:
    """Coverage of one type with its facilities' service areas (isochrones), for the
    coverage map (as ``coverplan coverage --type T --isochrones``)."""
    store, config, cache, networks = _state(request)
    options = CoverageOptions(types=(type_key,), isochrones=True)
    return cache.get(
        _key(store, "coverage-isochrones", type_key),
        lambda: coverage(store, config=config, options=options, networks=networks),
    )


def cached_gaps(request: Request) -> Gaps:
    """Coverage and policy gaps of every type (as ``coverplan gaps --json``)."""
    store, config, cache, _ = _state(request)
    result = cached_coverage(request)
    return cache.get(
        _key(store, "gaps"), lambda: find_gaps(store, config=config, result=result, types=None)
    )


def cached_indicators(request: Request) -> IndicatorsResult:
    """The plan's indicator table (as ``coverplan indicators --json``)."""
    store, config, cache, networks = _state(request)
    return cache.get(
        _key(store, "indicators"),
        lambda: indicators(store, config=config, options=IndicatorOptions(), networks=networks),
    )


def cached_retrofit(request: Request, options: RetrofitOptions) -> RetrofitPlan:
    """This year's retrofit plan for ``options`` (as ``coverplan retrofit --json``)."""
    store, config, cache, _ = _state(request)
    key = _key(store, "retrofit", options.year, options.quota, options.budget)
    return cache.get(key, lambda: retrofit(store, config=config, options=options))


def suppress_counts(
    rows: Iterable[dict[str, Any]], keys: Iterable[str], *, principal: Principal, min_count: int
) -> list[dict[str, Any]]:
    """Copies of ``rows`` whose ``keys`` holding 1..``min_count``-1 are None, for
    every role but admin (admins get the rows as they are)."""
    out = [dict(r) for r in rows]
    if principal.full_records:
        return out
    names = tuple(keys)
    for row in out:
        for k in names:
            v = row.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < min_count:
                row[k] = None
    return out


def suppress_indicators(
    items: Iterable[dict[str, Any]], *, principal: Principal, min_count: int
) -> list[dict[str, Any]]:
    """Indicator JSON (:meth:`planner.domain.indicators.Indicator.to_json`) with the
    per-town numerators and denominators suppressed (and the readings' too)."""
    out = []
    for item in items:
        shown = dict(item)
        shown["by_town"] = _towns(item.get("by_town", []), principal, min_count)
        shown["readings"] = [
            {**r, "by_town": _towns(r.get("by_town", []), principal, min_count)}
            for r in item.get("readings", [])
        ]
        out.append(shown)
    return out


def _towns(
    rows: list[dict[str, Any]], principal: Principal, min_count: int
) -> list[dict[str, Any]]:
    return suppress_counts(
        rows, ("numerator", "denominator"), principal=principal, min_count=min_count
    )
