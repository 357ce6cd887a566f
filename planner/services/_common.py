"""What every application-layer action shares: the progress callback."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "no_progress"]

Progress = Callable[[str, float | None], None]
"""Called with a Chinese message and the share done (0–1) or ``None`` when unknown.

The CLI draws it on stderr (silent with ``--json``), the HTTP API stores it on the
job so that ``GET /jobs/{id}`` can report it.
"""


def no_progress(message: str, fraction: float | None = None) -> None:
    """A :data:`Progress` that ignores everything (the default)."""
    del message, fraction
