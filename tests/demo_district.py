"""The demo district (奉化区, synthetic), built once per test session and copied per test.

Building it (``coverplan demo``: generate, then import ~15 000 register rows) and
its road networks takes 10–20 s; tests that need it share one build and work on
their own copy of the store (see the ``demo_district`` and ``demo_copy`` fixtures
of ``tests/conftest.py``). Under pytest-xdist the build is shared by the workers:
the first one to get the lock builds it, the others wait and reuse it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COVERPLAN = str(Path(sys.executable).parent / "coverplan")
MODES = ("drive", "walk", "wheelchair")
_DONE = "built.json"  # written last: the build is complete
_COPIED = ("coverplan.db", "coverplan.db.key", "cache")  # under var/: store, its key, cache


@dataclass(frozen=True)
class DemoDistrict:
    """The demo district in ``root``: ``var/`` and ``out/`` as ``coverplan demo`` left them.

    ``stdout`` is what ``coverplan demo --json`` printed, ``summary`` that document
    parsed (its paths name the shared build). ``inputs`` holds the generated input
    files (``roads.osm``, ``villages.geojson``, the registers) of the shared build:
    read them, never write them; the store's recorded road network is the
    ``roads.osm`` there.
    """

    root: Path
    stdout: str
    inputs: Path

    @property
    def summary(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc

    @property
    def data_dir(self) -> Path:
        return self.root / "var"

    @property
    def out_dir(self) -> Path:
        return self.root / "out"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "coverplan.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_file}"

    def env(self) -> dict[str, str]:
        """The environment of a ``coverplan`` process working on this copy."""
        env = {
            **os.environ,
            "COVERPLAN_DATA_DIR": str(self.data_dir),
            "COVERPLAN_OUT_DIR": str(self.out_dir),
        }
        for key in ("COVERPLAN_DB_URL", "COVERPLAN_CONFIG"):
            env.pop(key, None)
        return env

    def copy_to(self, dest: Path) -> DemoDistrict:
        """A copy of the store, the network cache and ``out/`` in ``dest`` (inputs shared)."""
        (dest / "var").mkdir(parents=True)
        for name in _COPIED:
            src = self.data_dir / name
            if src.is_dir():
                shutil.copytree(src, dest / "var" / name)
            else:
                shutil.copy2(src, dest / "var" / name)
        shutil.copytree(self.out_dir, dest / "out")
        return DemoDistrict(root=dest, stdout=self.stdout, inputs=self.inputs)


def build_once(shared: Path) -> DemoDistrict:
    """The demo district in ``shared/demo-district``, built there unless already built.

    Safe when several processes (pytest-xdist workers) call it at once: an
    exclusive ``flock`` on ``shared/demo-district.lock`` lets one build while the
    others wait.
    """
    root = shared / "demo-district"
    with (shared / "demo-district.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (root / _DONE).exists():
                _build(root)
            stdout = (root / _DONE).read_text(encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return DemoDistrict(root=root, stdout=stdout, inputs=root / "var" / "demo")


def _build(root: Path) -> None:
    """``coverplan demo --json`` (a real process: the console script's smoke test too),
    then the road networks of every mode into the build cache."""
    from geo.network import build_network
    from planner.settings import load_config

    if root.exists():
        shutil.rmtree(root)  # a build that died half-way
    root.mkdir(parents=True)
    demo = DemoDistrict(root=root, stdout="", inputs=root / "var" / "demo")
    proc = subprocess.run(
        [COVERPLAN, "demo", "--json"],
        capture_output=True,
        text=True,
        env=demo.env(),
        cwd=root,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"coverplan demo failed ({proc.returncode}):\n{proc.stderr}")
    network = load_config().network
    for mode in MODES:
        build_network(
            demo.inputs / "roads.osm",
            profile=network.profile(mode),
            cache_dir=demo.data_dir / "cache" / "networks",
        )
    (root / _DONE).write_text(proc.stdout, encoding="utf-8")
