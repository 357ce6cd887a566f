"""The planner's pages (`/planner`): the plan's indicator table, coverage per
facility type with its maps, the tables per village and town, the coverage and
policy gaps, each downloadable as CSV or XLSX.

Figures are those of the HTTP API (:mod:`api.web.tables`: the same cached
analyses and the same suppression of counts 1..``[privacy] min_count``-1 for
every role but admin). The type selector and the indicator selector update parts
of the page with htmx (``/planner/panel``, ``/planner/indicator-map``); long
tables are paged on the page (``/planner/table/NAME?page=N``) and whole in the
download (``/planner/download/NAME.csv|xlsx?type=T``).
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.analyses import cached_indicators, suppress_indicators
from api.web.deps import page_for
from api.web.render import TEMPLATES, page
from api.web.tables import (
    FORMATS,
    TABLES,
    Table,
    build_table,
    default_type,
    encode_table,
    type_options,
)
from planner.domain.access import Role
from planner.errors import NotFoundError
from planner.services.web_sessions import WebSession

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.PLANNER))]
TypeQuery = Annotated[str | None, Query(max_length=64)]
PageQuery = Annotated[int, Query(ge=1, le=100_000)]

#: The tables of the type panel, in page order; those shown unfolded at first.
PANEL_TABLES = ("gaps", "towns", "villages")
PANEL_OPEN = ("gaps", "towns")


def _paged(request: Request, table: Table, *, type_key: str, page_no: int) -> dict[str, Any]:
    """The context of one table fragment: its rows of page ``page_no``."""
    size = request.app.state.config.server.page_size_default
    pages = max(1, math.ceil(len(table.rows) / size))
    page_no = min(page_no, pages)
    start = (page_no - 1) * size
    return {
        "table": table,
        "rows": table.rows[start : start + size],
        "page_no": page_no,
        "pages": pages,
        "first": start + 1,
        "last": min(start + size, len(table.rows)),
        "type": type_key,
        "qtype": quote(type_key),
    }


def _table(request: Request, session: WebSession, name: str, type_key: str) -> Table:
    return build_table(
        request,
        name,
        type_key=type_key,
        principal=session.principal,
        config=request.app.state.config,
    )


def _panel(request: Request, session: WebSession, type_key: str) -> dict[str, Any]:
    """The context of the type panel: maps and the per-type tables (first pages)."""
    return {
        "type": type_key,
        "qtype": quote(type_key),
        "open": PANEL_OPEN,
        "tables": [
            _paged(request, _table(request, session, n, type_key), type_key=type_key, page_no=1)
            for n in PANEL_TABLES
        ],
    }


def _indicator_keys(request: Request) -> list[tuple[str, str]]:
    """(key, name) of the plan's indicators, in the plan's order."""
    return [(i.key, f"{i.number}. {i.name}") for i in cached_indicators(request).table.indicators]


def _indicator_context(request: Request, session: WebSession, key: str) -> dict[str, Any]:
    """The context of the indicator map fragment: the frame, and the indicator per
    town (numerators and denominators 1..min_count-1 suppressed but for admins)."""
    items = {i.key: i for i in cached_indicators(request).table.indicators}
    if key not in items:
        raise NotFoundError(f"没有指标「{key}」；可选：{'、'.join(items)}")
    item = items[key]
    min_count = request.app.state.config.privacy.min_count
    shown = suppress_indicators([item.to_json()], principal=session.principal, min_count=min_count)[
        0
    ]
    return {
        "indicator": key,
        "qindicator": quote(key),
        "label": f"{item.number}. {item.name}",
        "unit": shown["unit"],
        "towns": shown["by_town"],
        "min_count": min_count,
        "suppressed": not session.principal.full_records,
    }


def _first_mapped(request: Request) -> str:
    """The first indicator with a value in some town (the map shown first)."""
    items = cached_indicators(request).table.indicators
    found = [i.key for i in items if any(t.value is not None for t in i.figure.by_town)]
    return (found or [i.key for i in items] or [""])[0]


@router.get("/planner", response_class=HTMLResponse)
def planner_home(request: Request, session: Session, type: TypeQuery = None) -> Response:
    type_key = default_type(request, type)
    keys = _indicator_keys(request)
    indicator = _first_mapped(request)
    indicator_table = _table(request, session, "indicators", type_key)
    policy = _table(request, session, "policy", type_key)
    return page(
        request,
        "planner.html",
        session=session,
        title="覆盖总览",
        types=type_options(request),
        type_table=_table(request, session, "types", type_key),
        indicators=indicator_table,
        indicator_keys=keys,
        indicator_keys_selected=indicator,
        indicator_map=_indicator_context(request, session, indicator) if indicator else None,
        policy=_paged(request, policy, type_key=type_key, page_no=1),
        panel=_panel(request, session, type_key),
    )


@router.get("/planner/panel", response_class=HTMLResponse)
def planner_panel(request: Request, session: Session, type: TypeQuery = None) -> Response:
    type_key = default_type(request, type)
    return TEMPLATES.TemplateResponse(
        request, "planner_panel.html", {"panel": _panel(request, session, type_key)}
    )


@router.get("/planner/table/{name}", response_class=HTMLResponse)
def planner_table(
    request: Request, session: Session, name: str, type: TypeQuery = None, page: PageQuery = 1
) -> Response:
    type_key = default_type(request, type)
    table = _table(request, session, name, type_key)
    return TEMPLATES.TemplateResponse(
        request, "planner_table.html", _paged(request, table, type_key=type_key, page_no=page)
    )


@router.get("/planner/indicator-map", response_class=HTMLResponse)
def planner_indicator_map(
    request: Request, session: Session, indicator: Annotated[str, Query(max_length=64)] = ""
) -> Response:
    return TEMPLATES.TemplateResponse(
        request, "planner_indicator_map.html", _indicator_context(request, session, indicator)
    )


@router.get("/planner/download/{name}.{fmt}")
def planner_download(
    request: Request, session: Session, name: str, fmt: str, type: TypeQuery = None
) -> Response:
    """One table, whole, as CSV (UTF-8 with BOM) or XLSX, with Chinese headers."""
    if name not in TABLES:
        raise NotFoundError(f"没有名为「{name}」的表；可下载：{'、'.join(TABLES)}")
    type_key = default_type(request, type)
    table = _table(request, session, name, type_key)
    body = encode_table(table, fmt)
    ascii_name = f"{name}-{type_key}.{fmt}" if TABLES[name].per_type else f"{name}.{fmt}"
    shown = f"{table.title}.{fmt}"
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(shown)}"
    return Response(
        content=body,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": disposition},
    )
