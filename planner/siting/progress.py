"""Progress reports of long siting runs: the callback type, a silent default, and
scaling a part's 0–1 into the whole's range.

:data:`Progress` has the shape of :data:`planner.services.Progress` (a Chinese
message and the share done, 0–1, or ``None`` when unknown), so a service passes
its callback straight in; it is defined here because analysis modules do not
import the application layer.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "scaled", "silent"]

Progress = Callable[[str, float | None], None]


def silent(message: str, fraction: float | None = None) -> None:
    """A :data:`Progress` that ignores everything (the default)."""
    del message, fraction


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """``progress`` for a part of the work that runs from ``start`` to ``end`` (0–1)."""

    def report(message: str, fraction: float | None = None) -> None:
        progress(message, None if fraction is None else start + (end - start) * fraction)

    return report
