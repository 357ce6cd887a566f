"""What the command modules share: the store and configuration of a command, and
small argument parsers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from planner.settings import Config

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
#: Output cut off by the reader (``coverplan … | head``): 128 + SIGPIPE, the status
#: a shell reports for any tool stopped that way.
EXIT_BROKEN_PIPE = 141


def error_line(message: str) -> None:
    """Print ``错误：message`` on stderr (the command then exits with status 2)."""
    print(f"错误：{message}", file=sys.stderr)


def district_store(args: argparse.Namespace) -> Any:
    """The store of an existing district (never created: a mistyped --db is an error)."""
    from planner.store.core import open_district_store

    return open_district_store(args.db)


def command_config() -> Config:
    """The configuration (the packaged defaults overlaid with ``COVERPLAN_CONFIG``)."""
    from planner.settings import get_config

    return get_config()


def split_names(text: str | None) -> list[str]:
    if text is None:
        return []
    for sep in ("，", "、", ";", "；"):
        text = text.replace(sep, ",")
    return [p.strip() for p in text.split(",") if p.strip()]


def lonlat(text: str) -> tuple[float, float]:
    """``经度,纬度`` (either comma) as two floats, for ``type=`` of an argument."""
    try:
        lon, lat = (float(x) for x in text.replace("，", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"「{text}」应为 经度,纬度，如 121.40,29.66") from None
    return lon, lat
