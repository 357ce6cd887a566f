"""No function over 100 lines and no module over 600 lines (product code and bench).

A newcomer should be able to read a function on a screen or two and guess a
module's content from its name. The known exceptions are listed below, each with
its reason: a listed function or module that has shrunk below the limit (or is
gone) fails too, so the lists only ever get shorter. Tests are not measured.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.imports import ROOT, source_files

MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 600

# module path → reason it may stay longer than MAX_MODULE_LINES (none today)
LONG_MODULES: dict[str, str] = {}

# "module path::qualified name" → reason it may stay longer than MAX_FUNCTION_LINES
LONG_FUNCTIONS: dict[str, str] = {
    # the benchmark's synthetic district is drawn from one seeded stream: splitting it
    # would change the draws, and so the benchmark instance compared across runs
    "bench/coverage.py::district": "the benchmark district, one seeded pass",
}


def _files() -> dict[str, Path]:
    return {p.relative_to(ROOT).as_posix(): p for p in source_files().values()}


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, lines from ``def`` to the last line) of every function and method."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = prefix + node.name
            yield name, (node.end_lineno or node.lineno) - node.lineno + 1
            yield from _functions(node, name + ".")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")
        else:
            yield from _functions(node, prefix)


def long_modules() -> dict[str, int]:
    out = {}
    for rel, path in _files().items():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            out[rel] = n
    return out


def long_functions() -> dict[str, int]:
    out = {}
    for rel, path in _files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, n in _functions(tree):
            if n > MAX_FUNCTION_LINES:
                out[f"{rel}::{name}"] = n
    return out


def test_modules_stay_under_the_limit() -> None:
    found = long_modules()
    new = {k: v for k, v in found.items() if k not in LONG_MODULES}
    assert new == {}, f"split these modules (or list them with a reason): {new}"
    shrunk = sorted(set(LONG_MODULES) - set(found))
    assert shrunk == [], f"now within {MAX_MODULE_LINES} lines or gone: remove from LONG_MODULES"


def test_functions_stay_under_the_limit() -> None:
    found = long_functions()
    new = {k: v for k, v in found.items() if k not in LONG_FUNCTIONS}
    assert new == {}, f"split these functions (or list them with a reason): {new}"
    shrunk = sorted(set(LONG_FUNCTIONS) - set(found))
    assert shrunk == [], (
        f"now within {MAX_FUNCTION_LINES} lines or gone: remove from LONG_FUNCTIONS"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def f():\n    pass\n", {"f": 2}),
        (
            "class A:\n    def m(self):\n        def inner():\n            pass\n",
            {"A.m": 3, "A.m.inner": 2},
        ),
        ("if True:\n    async def g():\n\n        pass\n", {"g": 3}),
    ],
)
def test_function_lines_are_counted(text: str, expected: dict[str, int]) -> None:
    assert dict(_functions(ast.parse(text))) == expected
