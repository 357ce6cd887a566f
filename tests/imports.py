"""The project's import graph, read from the source with :mod:`ast` (nothing is imported).

Every ``import`` and ``from … import`` counts, wherever it stands (inside a
function or under ``if TYPE_CHECKING:`` too): a lazy import is still a
dependency. ``from planner.store import schema`` names the module
``planner.store.schema``; ``from planner.store.core import Store`` the module
``planner.store.core``; relative imports are resolved.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "planner", "maps", "api", "data", "bench")
# Alembic's revision scripts run inside Alembic, not as part of the package graph.
SKIPPED = ("planner/store/migrations/versions/",)


@dataclass(frozen=True)
class Import:
    """``importer`` (a module of ours) imports ``name`` (ours or a third party's) at ``line``.

    ``symbol`` is the name taken from a module (``from m import symbol``), if any.
    """

    importer: str
    name: str
    line: int
    symbol: str | None = None

    def __str__(self) -> str:
        what = f"{self.name}.{self.symbol}" if self.symbol else self.name
        return f"{self.importer}:{self.line} → {what}"


def module_name(path: Path) -> str:
    """``planner/store/core.py`` → ``planner.store.core``; ``planner/__init__.py`` → ``planner``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def source_files() -> dict[str, Path]:
    """Every module of :data:`PACKAGES` by name."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not any(rel.startswith(s) for s in SKIPPED):
                out[module_name(path)] = path
    return out


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module name ``from …`` refers to (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_in(name: str, text: str, *, is_package: bool = False) -> Iterator[Import]:
    """The imports of module ``name`` whose source is ``text``."""
    modules = source_files()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(name, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, is_package, node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    yield Import(name, sub, node.lineno)
                else:
                    yield Import(name, target, node.lineno, symbol=alias.name)


@cache
def all_imports() -> tuple[Import, ...]:
    """Every import of every module of ours."""
    return tuple(
        imp
        for name, path in source_files().items()
        for imp in imports_in(
            name, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py"
        )
    )


def within(name: str, prefixes: Iterable[str]) -> bool:
    """Whether module ``name`` is one of ``prefixes`` or inside one (``a.b`` is within ``a``)."""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(
    importers: Iterable[str],
    forbidden: Iterable[str],
    *,
    allowed_importers: Iterable[str] = (),
) -> list[str]:
    """The imports by modules within ``importers`` of a module within ``forbidden``.

    Modules within ``allowed_importers`` are exempt (e.g. a package may import
    itself: ``forbidden`` of ``planner.services`` with ``allowed_importers`` the same).
    """
    importers, forbidden, allowed = tuple(importers), tuple(forbidden), tuple(allowed_importers)
    return sorted(
        {
            str(imp)
            for imp in all_imports()
            if within(imp.importer, importers)
            and not within(imp.importer, allowed)
            and within(imp.name, forbidden)
        }
    )


def unit(name: str, split: Mapping[str, int]) -> str:
    """The unit a module belongs to in the package graph: its first ``split[top]`` parts.

    With ``{"planner": 2}``, ``planner.store.core`` → ``planner.store`` and
    ``planner.retrofit`` → ``planner.retrofit``; a package not in ``split`` is one unit.
    """
    parts = name.split(".")
    return ".".join(parts[: split.get(parts[0], 1)])


def unit_graph(split: Mapping[str, int]) -> dict[str, set[str]]:
    """Unit → the units it imports (our own modules only, self-edges left out)."""
    ours = source_files()
    graph: dict[str, set[str]] = {unit(n, split): set() for n in ours}
    for imp in all_imports():
        if imp.name.split(".")[0] not in PACKAGES:
            continue
        a, b = unit(imp.importer, split), unit(imp.name, split)
        if a != b:
            graph[a].add(b)
            graph.setdefault(b, set())
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def edges_between(component: Iterable[str], split: Mapping[str, int]) -> list[str]:
    """The imports that tie a cycle's units together (for the failure message)."""
    members = set(component)
    return sorted(
        {
            str(imp)
            for imp in all_imports()
            if unit(imp.importer, split) in members
            and imp.name.split(".")[0] in PACKAGES
            and unit(imp.name, split) in members
            and unit(imp.importer, split) != unit(imp.name, split)
        }
    )
