"""Progress of a long action drawn on stderr: the CLI's :data:`planner.services.Progress`.

One place decides whether bars are drawn (:func:`bars_wanted`): never with
``--json``; otherwise as ``COVERPLAN_PROGRESS`` says (``1``: always, even into a
log file; ``0``: never) or, when it is unset, only when stderr is a terminal.
A command asks with :func:`command_progress` and passes the callback it yields
to the application layer.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing planner.services loads the whole application layer
    from planner.services import Progress

__all__ = ["bars_wanted", "command_progress", "stage_bars", "titled"]

BAR_STEPS = 100  # the bar counts percent
TITLE_SEPARATOR = "："
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}{postfix}"


def bars_wanted(*, json_mode: bool, stream: Any = None, override: bool | None = None) -> bool:
    """Whether a command draws progress bars.

    Parameters
    ----------
    json_mode
        ``--json`` was given: never draw (stderr stays free of bars).
    stream
        Where the bars would go (default: ``sys.stderr``).
    override
        ``COVERPLAN_PROGRESS`` (:attr:`planner.settings.Settings.progress`):
        ``True`` draws even when ``stream`` is not a terminal, ``False`` never
        draws, ``None`` (unset) draws only when ``stream`` is a terminal.

    Returns
    -------
    bool
        True when bars are to be drawn.
    """
    if json_mode:
        return False
    if override is not None:
        return override
    target = sys.stderr if stream is None else stream
    try:
        return bool(target.isatty())
    except (AttributeError, OSError, ValueError):  # no stream, or a closed one
        return False


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
        if fraction is not None:
            self._bar.update(round(fraction * BAR_STEPS) - self._bar.n)  # redrawn ≤ 10 times/s
        if stage and stage != self._bar.postfix:
            self._bar.set_postfix_str(stage, refresh=True)  # a new stage shows at once
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
    not ``enabled``); bars left open are closed on exit. Commands call
    :func:`command_progress`, which decides ``enabled``."""
    if not enabled:
        yield _silent
        return
    bars = _StageBars()
    try:
        yield bars
    finally:
        bars.close()


@contextmanager
def command_progress(args: argparse.Namespace) -> Iterator[Progress]:
    """The progress callback of a command: bars on stderr when :func:`bars_wanted`
    (terminal, no ``--json``, ``COVERPLAN_PROGRESS``), else silent."""
    from planner.settings import get_settings

    wanted = bars_wanted(
        json_mode=bool(getattr(args, "json", False)), override=get_settings().progress
    )
    with stage_bars(wanted) as progress:
        yield progress


def titled(title: str, progress: Progress) -> Progress:
    """``progress`` told ``title：message`` (one bar for messages that carry no title of
    their own, such as the import's ``写入 2000/30000``)."""

    def report(message: str, fraction: float | None = None) -> None:
        progress(f"{title}{TITLE_SEPARATOR}{message}", fraction)

    return report
