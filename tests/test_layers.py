"""Imports flow one way: api/, maps/ → planner/ → geo/ (and data/ is read by all)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "geo": {"planner", "maps", "api"},
    "planner": {"maps", "api"},
    "maps": {"api"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_never_import_higher_ones(package: str) -> None:
    offenders = {
        str(p.relative_to(ROOT)): bad
        for p in (ROOT / package).rglob("*.py")
        if (bad := imported_packages(p) & FORBIDDEN[package])
    }
    assert offenders == {}
