"""Progress reports of long actions: the callback type, a silent default, and
scaling a part's 0–1 into the whole's range.

:data:`Progress` is called with a Chinese message and the share done (0–1, or
``None`` when unknown). The application layer (:mod:`planner.services`) passes the
caller's callback down to the analysis (siting stages, routing days); the CLI
draws it on stderr (silent with ``--json``), the HTTP API stores it on the job.
It lives at the bottom of ``planner`` so that analysis modules can use it without
importing the application layer.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress", "scaled", "silent"]

Progress = Callable[[str, float | None], None]


def silent(message: str, fraction: float | None = None) -> None:
    """A :data:`Progress` that ignores everything (the default)."""
    del message, fraction


no_progress = silent


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """``progress`` for a part of the work that runs from ``start`` to ``end`` (0–1)."""

    def report(message: str, fraction: float | None = None) -> None:
        progress(message, None if fraction is None else start + (end - start) * fraction)

    return report
