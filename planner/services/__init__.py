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
``coverage`` (coverage, gaps), ``siting`` (site, scenarios), ``retrofit``,
``outreach`` (year, month), ``visits`` (record, import). Long actions (siting,
the month plan) take a :data:`Progress` callback and a time limit.
"""

from planner.services._common import Progress, no_progress
from planner.services.outreach import (
    MonthOptions,
    YearOptions,
    outreach_month,
    outreach_needs,
    outreach_year,
)

__all__ = ["Progress", "no_progress"]
# outreach
__all__ += ["MonthOptions", "YearOptions", "outreach_month", "outreach_needs", "outreach_year"]
