"""The application layer: one function per user action.

Every caller of the product — the CLI (``api/cli``), the HTTP API and web pages
(``api/http``, ``api/web``, to come) and the notebooks — calls these functions
and nothing below them. Each takes the store, the configuration and a frozen,
typed options object (keyword-only fields, validated in ``__post_init__``), and
returns a typed result (a frozen dataclass with ``to_json()``, or a frame with
documented columns). No terminal, HTTP or file-format code lives here: writers
are in :mod:`planner.reports`, printing in ``api``.

Modules, one per family of actions: ``district`` (init, status), ``imports``
(registers, geocoding, corrections), ``network`` (build, travel time),
``coverage`` (coverage, gaps), ``indicators`` (the plan's indicator table),
``siting`` (site, scenarios), ``retrofit``,
``outreach`` (year, month), ``visits`` (record, import). Long actions (siting,
the month plan) take a :data:`Progress` callback and a time limit.
"""

from planner.services._common import Progress, no_progress

# district: init, status
from planner.services.district import InitOptions, InitResult, StoreSummary, init_district, status

# imports: registers, geocoding, corrections
from planner.services.imports import (
    CorrectionOptions,
    Corrections,
    GeocodeFileResult,
    GeocodeOptions,
    ImportOptions,
    ImportResult,
    SavedCorrection,
    add_correction,
    geocode_file,
    import_file,
    list_corrections,
)

# network: build, travel time
from planner.services.network import (
    NetworkBuildOptions,
    NetworkBuildResult,
    TravelTime,
    TravelTimeOptions,
    build_networks,
    travel_time,
)

# visits: record, import
from planner.services.visits import (
    FailedFile,
    RecordVisitOptions,
    SavedVisit,
    VisitImport,
    VisitImportOptions,
    import_visits,
    record_visit,
)

# coverage: coverage, gaps
from planner.services.coverage import (  # isort: skip
    CoverageOptions,
    GapsOptions,
    GapsResult,
    coverage,
    gaps,
)
from planner.services.indicators import (  # isort: skip
    IndicatorOptions,
    IndicatorsResult,
    indicators,
)

# siting, scenarios, retrofit
from planner.services.retrofit import RetrofitOptions, RetrofitPlan, retrofit  # isort: skip
from planner.services.scenarios import (  # isort: skip
    Scenario,
    ScenarioComparison,
    compare_scenarios,
    delete_scenario,
    list_scenarios,
    save_proposal,
    save_scenario,
    show_scenario,
)
from planner.services.siting import (  # isort: skip
    Proposal,
    SiteChanges,
    SitingOptions,
    site,
    site_changes,
)

# outreach: year, month
from planner.services.outreach import (  # isort: skip
    MonthOptions,
    YearOptions,
    outreach_month,
    outreach_needs,
    outreach_year,
)

__all__ = [  # noqa: RUF022 - grouped by family of actions
    "Progress",
    "no_progress",
    # district
    "InitOptions",
    "InitResult",
    "StoreSummary",
    "init_district",
    "status",
    # imports
    "CorrectionOptions",
    "Corrections",
    "GeocodeFileResult",
    "GeocodeOptions",
    "ImportOptions",
    "ImportResult",
    "SavedCorrection",
    "add_correction",
    "geocode_file",
    "import_file",
    "list_corrections",
    # visits
    "FailedFile",
    "RecordVisitOptions",
    "SavedVisit",
    "VisitImport",
    "VisitImportOptions",
    "import_visits",
    "record_visit",
    # network
    "NetworkBuildOptions",
    "NetworkBuildResult",
    "TravelTime",
    "TravelTimeOptions",
    "build_networks",
    "travel_time",
    # coverage
    "CoverageOptions",
    "GapsOptions",
    "GapsResult",
    "coverage",
    "gaps",
    "IndicatorOptions",
    "IndicatorsResult",
    "indicators",
    # siting, scenarios, retrofit
    "Proposal",
    "RetrofitOptions",
    "RetrofitPlan",
    "Scenario",
    "ScenarioComparison",
    "SiteChanges",
    "SitingOptions",
    "compare_scenarios",
    "delete_scenario",
    "list_scenarios",
    "retrofit",
    "save_proposal",
    "save_scenario",
    "show_scenario",
    "site",
    "site_changes",
    # outreach
    "MonthOptions",
    "YearOptions",
    "outreach_month",
    "outreach_needs",
    "outreach_year",
]
