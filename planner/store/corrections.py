"""Manual geocoding corrections: a normalised address → the village it means."""

from __future__ import annotations

from datetime import datetime

from planner.store import schema as t
from planner.store.core import Store, audit

__all__ = ["corrections", "save_correction"]


def save_correction(store: Store, *, key: str, village_code: str, note: str | None = None) -> None:
    """Save (or replace) the correction ``key`` → ``village_code``, with its audit entry.

    ``key`` is the normalised address (:func:`planner.ingest.geocoding.correction_key`).
    """
    with store.write() as s:
        s.merge(
            t.GeocodeCorrection(
                key=key, village_code=village_code, created_at=datetime.now(), note=note
            )
        )
        audit(s, action="correct", entity="geocode", detail={"key": key, "village": village_code})


def corrections(store: Store) -> dict[str, str]:
    """Every saved correction: normalised address → village code."""
    return store.corrections()
