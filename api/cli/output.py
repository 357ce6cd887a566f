"""Where a command's output goes: the one JSON printer and the stdout guard.

Contract of the ``coverplan`` command line: with ``--json`` the whole of stdout is
exactly one JSON document; progress, logs and anything a native library prints
(HiGHS writes a banner straight to file descriptor 1 when it is constructed) go
to stderr. :func:`command_output` enforces it for the duration of a command:

- file descriptor 1 is pointed at stderr (``os.dup2``), so C-level writes land
  on stderr in every mode;
- in text mode ``sys.stdout`` keeps writing to the real stdout (a stream on a
  duplicate of the original descriptor), so the human summary still goes there;
- in JSON mode ``sys.stdout`` is ``sys.stderr`` and :func:`print_json` only
  records the document; it is written to the real stdout when the command ends.

Every command prints its JSON with :func:`print_json`; nothing else may write
JSON on stdout.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = ["command_output", "dumps", "print_json"]


@dataclass
class _Document:
    """The JSON document of the running command (set once by :func:`print_json`)."""

    text: str | None = None


_document: _Document | None = None


def dumps(obj: Any) -> str:
    """The text :func:`print_json` prints: strict JSON (no NaN), UTF-8 text, indented.

    Values are converted by :func:`planner.jsonable.to_jsonable` (the one
    conversion): NaN and infinities as ``null``, numpy scalars as numbers, dates
    as ISO strings, paths and other objects as their ``str``.
    """
    from planner.jsonable import to_jsonable  # imports pandas: not at start-up (--help)

    return json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2, allow_nan=False)


def print_json(obj: Any) -> None:
    """Print ``obj`` as the command's one JSON document.

    Inside :func:`command_output` the document is written to the real stdout when
    the command ends; outside it, to ``sys.stdout`` at once.

    Raises
    ------
    RuntimeError
        When a command prints a second JSON document (a programming error).
    """
    text = dumps(obj)
    if _document is None:
        print(text)
        return
    if _document.text is not None:
        raise RuntimeError("a command printed two JSON documents; --json allows exactly one")
    _document.text = text


def _flush_c_stdio() -> None:
    """Flush the C library's stdio buffers (what native code printed so far)."""
    with suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)


def _ensure_open(fd: int) -> None:
    """Open the null device as ``fd`` if it is closed, so no file opened later gets it."""
    try:
        os.fstat(fd)
    except OSError:
        null = os.open(os.devnull, os.O_WRONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)


def _fd(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


@contextmanager
def command_output(*, json_mode: bool) -> Iterator[None]:
    """Run a command with stdout guarded (see the module docstring).

    Parameters
    ----------
    json_mode
        True for ``--json``: stdout receives only the document given to
        :func:`print_json` (nothing if the command printed none, e.g. on error).
    """
    global _document
    for fd in (1, 2):
        _ensure_open(fd)
    original = sys.stdout
    # stdout closed when Python started (``coverplan … >&-``): write to the null device
    real: TextIO = original if original is not None else open(os.devnull, "w")  # noqa: SIM115
    with suppress(OSError, ValueError):
        real.flush()
    _flush_c_stdio()
    saved: int | None = None
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no fd 1 or 2 (a detached process): nothing to redirect
        if saved is not None:
            os.close(saved)
        saved = None
    text_out: TextIO = real
    own: TextIO | None = None
    if saved is not None and _fd(real) == 1:
        # ``real`` writes to fd 1, which now is stderr: write to the original stdout
        own = open(  # noqa: SIM115 - closed in the finally below
            saved,
            "w",
            encoding=real.encoding or "utf-8",
            errors=real.errors or "strict",
            closefd=False,
            buffering=1 if real.line_buffering else -1,
        )
        text_out = own
    document = _Document()
    previous = _document
    _document = document
    sys.stdout = sys.stderr if json_mode else text_out
    try:
        yield
        if document.text is not None:
            text_out.write(document.text + "\n")
        text_out.flush()
    finally:
        _document = previous
        sys.stdout = original
        with suppress(OSError, ValueError):
            sys.stderr.flush()
        _flush_c_stdio()
        if own is not None:
            with suppress(OSError, ValueError):
                own.close()  # its buffer was flushed above, or the pipe is gone
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)
