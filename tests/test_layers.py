"""Imports flow one way, and the layers inside ``planner`` hold.

    geo → planner {store → ingest; domain, coverage, siting, outreach, retrofit,
    scenarios; services} → reports / maps → api {cli, http, web}

``data.config`` and ``data.reference`` are resources read by all; ``data.demo``
is a client of the product (it imports planner, nothing imports it but ``api``);
``bench`` may import anything and nothing imports it. The import graph is read
from the source (``tests/imports.py``): lazy imports inside functions count.

A rule that does not hold yet is marked ``xfail(strict=True)`` with the modules
that break it: when they are fixed the test XPASSes, which fails, and the mark
must go.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tests.imports import (
    Import,
    all_imports,
    cycles,
    edges_between,
    imports_in,
    source_files,
    unit,
    unit_graph,
    violations,
    within,
)

OURS = ("geo", "planner", "maps", "api", "data", "bench", "tests")
SQL = ("sqlalchemy", "alembic")
ANALYSIS = (
    "planner.coverage",
    "planner.siting",
    "planner.outreach",
    "planner.domain",
    "planner.retrofit",
    "planner.scenarios",
)
BELOW_ANALYSIS = ("planner.store", "planner.ingest", "planner.reports", "planner.services")
#: Units of the import graph: planner and data by subpackage; api by module of its
#: subpackages (the web pages, ``api.web``, use the HTTP API's caches and upload
#: parsing, while ``api.http.app`` mounts the pages: no cycle between modules).
SUBPACKAGES = {"planner": 2, "api": 3, "data": 2}


def known(reason: str) -> pytest.MarkDecorator:
    """A rule known not to hold yet on this branch (the issue-10 slices fix it)."""
    return pytest.mark.xfail(strict=True, reason=reason)


def _units(top: str) -> list[str]:
    """The subpackages and top-level modules of package ``top`` (``planner.store``, …)."""
    return sorted({unit(n, SUBPACKAGES) for n in source_files() if n.startswith(top + ".")})


# --- every package imports only lower layers ----------------------------------------------

# importer → what it must not import (anything under these names)
DOWNWARDS: dict[str, tuple[str, ...]] = {
    "geo": ("planner", "maps", "api", "data.demo", "bench", "tests"),
    "planner": ("maps", "api", "data.demo", "bench", "tests"),
    "maps": ("api", "data.demo", "bench", "tests"),
    "api": ("bench", "tests"),
    "data.demo": ("maps", "api", "bench", "tests"),
    # resources: nothing of ours
    "data.config": ("geo", "planner", "maps", "api", "data.demo", "bench", "tests"),
    "data.reference": ("geo", "planner", "maps", "api", "data.demo", "bench", "tests"),
}


@pytest.mark.parametrize("package", sorted(DOWNWARDS))
def test_lower_layers_never_import_higher_ones(package: str) -> None:
    assert violations([package], DOWNWARDS[package]) == []


def test_every_package_has_a_rule() -> None:
    """A new top-level package or ``data`` subpackage needs its line in DOWNWARDS."""
    covered = set(DOWNWARDS) | {"bench", "data"}  # bench may import anything
    units = {unit(n, {"data": 2}) for n in source_files()}
    assert units - covered == set()


# --- (c) only the store layer speaks SQL --------------------------------------------------

SQL_KNOWN: dict[str, str] = {}


def _sql_importers() -> list[str]:
    outside = [u for u in _units("planner") if u != "planner.store"]
    return ["geo", "maps", *_units("api"), *_units("data"), *outside]


@pytest.mark.parametrize(
    "importer",
    [pytest.param(u, marks=known(SQL_KNOWN[u])) if u in SQL_KNOWN else u for u in _sql_importers()],
)
def test_only_the_store_imports_sqlalchemy(importer: str) -> None:
    """SQL only in ``planner.store`` (``planner.ingest`` writes through store functions)."""
    assert violations([importer], SQL) == []


# --- (d) analysis takes frames and arrays, not the store ----------------------------------

ANALYSIS_KNOWN: dict[str, str] = {}


@pytest.mark.parametrize(
    "package",
    [
        pytest.param(p, marks=known(ANALYSIS_KNOWN[p])) if p in ANALYSIS_KNOWN else p
        for p in ANALYSIS
    ],
)
def test_analysis_never_imports_store_ingest_reports_or_services(package: str) -> None:
    assert violations([package], BELOW_ANALYSIS) == []


# --- (e) services and reports sit on top of planner ---------------------------------------


@pytest.mark.parametrize("package", ["planner.services", "planner.reports"])
def test_nothing_in_planner_imports_services_or_reports(package: str) -> None:
    """Only ``planner.services`` uses itself; ``planner.reports`` is imported by the
    clients only (``api``, and ``data.demo``, which builds the demo as a user would)."""
    assert violations(["planner", "geo"], [package], allowed_importers=[package]) == []


# --- (e2) the HTTP API is a client of the application layer ------------------------------

#: What ``api.http`` may use of ``planner``: the application layer (services,
#: reports), the rules (domain), errors, settings and the store handle's type;
#: and the clients' shared infrastructure: JSON conversion, progress callbacks and
#: the per-process road-network cache (the CLI uses the same three).
HTTP_MAY_USE = (
    "planner.jsonable",
    "planner.networks",
    "planner.progress",
    "planner.services",
    "planner.reports",
    "planner.domain",
    "planner.errors",
    "planner.settings",
    "planner.store.core",
)


def test_the_http_api_uses_only_the_application_layer_of_planner() -> None:
    """Routes call the same functions as the CLI; no query or analysis of their own."""
    bad = sorted(
        str(imp)
        for imp in all_imports()
        if within(imp.importer, ["api.http"])
        and within(imp.name, ["planner"])
        and not within(imp.name, HTTP_MAY_USE)
    )
    assert bad == []


def test_the_command_line_and_the_http_api_are_separate_clients() -> None:
    """Only ``coverplan serve`` starts the HTTP app; the app never imports the CLI."""
    assert violations(["api.http"], ["api.cli"]) == []
    assert violations(["api.cli"], ["api.http"], allowed_importers=["api.cli.serve"]) == []


# --- (f) no cycles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "split",
    [pytest.param({}, id="packages"), pytest.param(SUBPACKAGES, id="subpackages")],
)
def test_no_import_cycle(split: dict[str, int]) -> None:
    """No cycle between the packages, nor between the subpackages (and top-level
    modules) of planner, api and data."""
    found = cycles(unit_graph(split))
    assert found == [], {" ⇄ ".join(c): edges_between(c, split) for c in found}


# --- (g) api and data use the public surface ----------------------------------------------


def _private(imp: Import) -> bool:
    parts = imp.name.split(".")[1:] + ([imp.symbol] if imp.symbol else [])
    return any(p.startswith("_") and not p.startswith("__") for p in parts)


@pytest.mark.parametrize("client", ["api", "data.demo", "maps"])
def test_clients_import_no_private_module_of_planner_or_geo(client: str) -> None:
    """``from planner.coverage._pairs import …`` or ``from geo.x import _helper`` is off limits."""
    private = sorted(
        str(imp)
        for imp in all_imports()
        if within(imp.importer, [client]) and within(imp.name, ["planner", "geo"]) and _private(imp)
    )
    assert private == []


# --- the graph reader itself --------------------------------------------------------------


def _names(imports: Iterable[Import]) -> set[tuple[str, str | None]]:
    return {(i.name, i.symbol) for i in imports}


def test_the_reader_resolves_modules_symbols_and_relative_imports() -> None:
    text = (
        "import numpy as np\n"
        "from planner.store import schema\n"
        "from planner.store.core import Store\n"
        "def f():\n"
        "    from . import engine\n"
        "    from ..errors import InputError\n"
    )
    found = _names(imports_in("planner.coverage.gaps", text))
    assert found == {
        ("numpy", None),
        ("planner.store.schema", None),
        ("planner.store.core", "Store"),
        ("planner.coverage.engine", None),
        ("planner.errors", "InputError"),
    }


def test_the_reader_sees_the_tree() -> None:
    """The graph is the real one: known modules and a lazy (in-function) import are in it."""
    modules = source_files()
    assert {"geo.crs", "planner.store.core", "api.cli", "data.demo.build"} <= set(modules)
    assert not any(".migrations.versions." in m for m in modules)
    lazy = [i for i in all_imports() if i.importer == "api.cli.district"]
    assert ("data.demo.build", "build_demo") in _names(lazy)


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
