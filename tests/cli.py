"""Run ``coverplan`` in-process (``api.cli.main``), as the ``coverplan`` fixture does.

A real process adds nothing to most command-line tests but 1–2 s of start-up;
the few that test process-level behaviour (a kill half-way, HiGHS writing to
file descriptor 1, a closed pipe, the console script itself) keep a subprocess.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from api.cli import main
from planner.settings import reset_settings

_DB_URL = "COVERPLAN_DB_URL"


@dataclass(frozen=True)
class Ran:
    """What a command did (named like :class:`subprocess.CompletedProcess`)."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The one JSON document on stdout of a command that succeeded."""
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)


class Coverplan:
    """``coverplan(*args, db=URL)`` runs ``coverplan --db URL ARGS`` in this process.

    Like a new process, each command reads the settings afresh and leaves the
    environment as it found it (``main`` sets ``COVERPLAN_DB_URL`` for ``--db``).
    """

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str, db: str | None = None) -> Ran:
        argv = ["--db", db, *args] if db is not None else list(args)
        saved = os.environ.get(_DB_URL)
        reset_settings()
        self._capsys.readouterr()
        try:
            code = main(argv)
        finally:
            if saved is None:
                os.environ.pop(_DB_URL, None)
            else:
                os.environ[_DB_URL] = saved
            reset_settings()
        out, err = self._capsys.readouterr()
        return Ran(returncode=code, stdout=out, stderr=err)
