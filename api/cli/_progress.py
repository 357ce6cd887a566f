"""Progress of a long action drawn on stderr: the CLI's :data:`planner.services.Progress`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing planner.services loads the whole application layer
    from planner.services import Progress

BAR_STEPS = 100  # the bar counts percent
TITLE_SEPARATOR = "："
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}"


class _StageBars:
    """One tqdm bar per title (the message up to ``：``); the rest is the bar's postfix."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._title: str | None = None

    def __call__(self, message: str, fraction: float | None = None) -> None:
        from tqdm import tqdm

        title, _, stage = message.partition(TITLE_SEPARATOR)
        if title != self._title:
            self.close()
            self._title = title
            self._bar = tqdm(total=BAR_STEPS, desc=title, file=sys.stderr, bar_format=BAR_FORMAT)
        if stage:
            self._bar.set_postfix_str(stage, refresh=fraction is None)
        if fraction is not None:
            self._bar.update(round(fraction * BAR_STEPS) - self._bar.n)
        if fraction is not None and fraction >= 1:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._title = None, None


def _silent(message: str, fraction: float | None = None) -> None:
    del message, fraction


@contextmanager
def stage_bars(enabled: bool) -> Iterator[Progress]:
    """A :data:`~planner.services.Progress` drawing bars on stderr (silent when
    not ``enabled``, e.g. with ``--json``); bars left open are closed on exit."""
    if not enabled:
        yield _silent
        return
    bars = _StageBars()
    try:
        yield bars
    finally:
        bars.close()
