"""The admin's pages (`/admin`): register imports with their reports, and the
access audit. Users and API keys are in :mod:`api.web.routes.admin_accounts`
(included here).

- ``/admin``, ``/admin/imports``: the upload form (kind, coordinate system, file)
  and the past import batches, newest first, paged; ``POST /admin/imports``
  imports the file as ``coverplan import KIND FILE`` does (one transaction, at
  most ``[server] upload_max_mb``) and shows the same batch report: rows,
  inserted, updated, unchanged, rejected, and every problem row with its file,
  row, column, value and reason. A file that cannot be used at all (unreadable,
  another kind of register, required columns missing) is told in Chinese (422)
  and nothing is stored.
- ``/admin/imports/{id}``: one past batch with its problem rows.
- ``/admin/audit``: the latest person-level reads and exports (who, when, role,
  what, why, how many), paged.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from api.http.routes.imports import REGISTER_SUFFIXES
from api.http.uploads import receive_file
from api.web.deps import check_csrf, page_for
from api.web.render import page
from api.web.routes import admin_accounts
from planner.domain.access import Role
from planner.errors import CoverplanError, InputError
from planner.services.history import IMPORT_KINDS, access_log, import_batch, import_batches
from planner.services.imports import ImportOptions, ImportResult, Problem, import_file
from planner.services.visits import VisitImport, VisitImportOptions, import_visits
from planner.services.web_sessions import WebSession

router = APIRouter(include_in_schema=False)
router.include_router(admin_accounts.router)
Session = Annotated[WebSession, Depends(page_for(Role.ADMIN))]
PageQuery = Annotated[int, Query(alias="page", ge=1, le=1_000_000)]

#: Coordinate systems of an import (``--crs``) → Chinese label.
CRS_LABELS = {
    "wgs84": "WGS-84（GPS、天地图）",
    "gcj02": "GCJ-02（高德、腾讯）",
    "bd09": "BD-09（百度）",
}
ROLE_LABELS = {
    "admin": "管理员",
    "planner": "规划人员",
    "leader": "领导",
    "outreach": "入户服务队",
    "integration": "系统调用（密钥）",
}
ACTION_LABELS = {"rejected": "拒绝", "review": "待核查", "warning": "提醒"}
#: What the form imports: the registers, and the filled-in route sheets (visits).
FORM_KINDS = {**IMPORT_KINDS, "visits": "走访记录（填好的路线单 .xlsx）"}
#: The counts of a register import's report (key, Chinese label).
REGISTER_COUNTS = (
    ("rows", "数据行"),
    ("stored", "入库"),
    ("inserted", "新增"),
    ("updated", "更新"),
    ("unchanged", "未变"),
    ("rejected", "拒绝"),
    ("needs_review", "待核查"),
)
#: The counts of a visit import's report (``coverplan visits import --json``).
VISIT_COUNTS = (
    ("rows", "数据行"),
    ("stored", "入库"),
    ("inserted", "新增"),
    ("revised", "更正"),
    ("unchanged", "未变"),
    ("skipped_blank", "未走访（结果为空）"),
    ("rejected", "拒绝"),
)
BAD_KIND = "名单类型「{kind}」无效；可选：{known}"


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _imports_page(
    request: Request,
    session: WebSession,
    *,
    page_no: int = 1,
    report: dict[str, Any] | None = None,
    error: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    size = request.app.state.config.server.page_size_default
    history = import_batches(request.app.state.store, page=page_no, page_size=size)
    return page(
        request,
        "admin_imports.html",
        session=session,
        title="系统管理 · 导入",
        tab="imports",
        kinds=FORM_KINDS,
        crs_labels=CRS_LABELS,
        form=form or {"kind": "residents", "crs": "wgs84"},
        history=history,
        pages=_pages(history.total, size),
        report=report,
        error=error,
        action_labels=ACTION_LABELS,
        max_mb=request.app.state.config.server.upload_max_mb,
        status_code=status_code,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, session: Session, page_no: PageQuery = 1) -> Response:
    return _imports_page(request, session, page_no=page_no)


@router.get("/admin/imports", response_class=HTMLResponse)
def admin_imports(request: Request, session: Session, page_no: PageQuery = 1) -> Response:
    return _imports_page(request, session, page_no=page_no)


def _report(result: ImportResult, file: str) -> dict[str, Any]:
    """The batch report shown: the CLI's ``--json`` object and every problem row."""
    doc = result.to_json()
    doc["kind_label"] = FORM_KINDS.get(result.kind, result.kind)
    doc["counts"] = [(k, label, doc[k]) for k, label in REGISTER_COUNTS]
    doc["problems"] = [_problem(file, p) for p in result.problems]
    return doc


def _visit_report(result: VisitImport, file: str) -> dict[str, Any]:
    """The report of a visit import: ``coverplan visits import --json`` and its rows."""
    doc = result.to_json()
    problems = [(p, "rejected") for p in result.rejected] + [
        (p, "warning") for p in result.warnings
    ]
    return {
        "kind_label": FORM_KINDS["visits"],
        "file": file,
        "format": "xlsx",
        "encoding": None,
        "crs": "-",
        "batch_id": "、".join(str(i) for i in result.batch_ids) or "—",
        "ignored_columns": [],
        "rows": result.rows,
        "rejected": result.rejected_rows,
        "counts": [(k, label, doc[k]) for k, label in VISIT_COUNTS],
        "problems": [
            {
                "file": file,
                "row": p.row,
                "column": p.column,
                "value": p.value,
                "action": action,
                "reason": p.reason,
            }
            for p, action in problems
        ],
    }


def _import(store: Any, config: Any, path: Path, form: dict[str, str], name: str) -> Any:
    """Run the import the form asks for (in a worker thread): its report."""
    if form["kind"] == "visits":
        done = import_visits(store, config=config, options=VisitImportOptions(path=path))
        return _visit_report(done, name)
    options = ImportOptions(
        kind=form["kind"],  # type: ignore[arg-type]  # checked by the caller
        path=path,
        crs=form["crs"] or "wgs84",
        replace=form["replace"] == "on",
    )
    result = import_file(store, config=config, options=options)
    return _report(replace(result, file=name), name)


def _problem(file: str, p: Problem) -> dict[str, Any]:
    """A problem row as the API's import report lists it."""
    return {
        "file": file,
        "row": p.line,
        "column": p.column,
        "value": p.value,
        "action": p.action,
        "reason": p.reason,
    }


@router.post("/admin/imports", response_class=HTMLResponse)
async def admin_import(request: Request, session: Session) -> Response:
    """Import the uploaded register (``multipart/form-data``: ``file``, ``kind``,
    ``crs``, ``replace``, ``csrf``)."""
    config = request.app.state.config
    store = request.app.state.store
    with tempfile.TemporaryDirectory(prefix="coverplan-upload-") as tmp:
        up = await receive_file(
            request, dest=Path(tmp), max_mb=config.server.upload_max_mb, suffixes=REGISTER_SUFFIXES
        )
        check_csrf(request, session, up.fields.get("csrf"))
        form = {k: up.fields.get(k, "") for k in ("kind", "crs", "replace")}
        try:
            if form["kind"] not in FORM_KINDS:
                known = "、".join(f"{v}（{k}）" for k, v in FORM_KINDS.items())
                raise InputError(BAD_KIND.format(kind=form["kind"], known=known))
            report = await run_in_threadpool(_import, store, config, up.path, form, up.name)
        except CoverplanError as exc:
            return _imports_page(
                request,
                session,
                error=f"文件「{up.name}」未导入，库中数据未改变：{exc}",
                form=form,
                status_code=422,
            )
    return _imports_page(request, session, report=report, form=form)


@router.get("/admin/imports/{batch_id}", response_class=HTMLResponse)
def admin_import_batch(request: Request, session: Session, batch_id: int) -> Response:
    found = import_batch(request.app.state.store, batch_id)
    return page(
        request,
        "admin_batch.html",
        session=session,
        title=f"系统管理 · 导入批次 {batch_id}",
        tab="imports",
        batch=found.batch,
        counts=[(k, label, getattr(found.batch, k)) for k, label in REGISTER_COUNTS],
        problems_rows=[_problem(found.batch.file, p) for p in found.problems],
        action_labels=ACTION_LABELS,
    )


@router.get("/admin/audit", response_class=HTMLResponse)
def admin_audit(request: Request, session: Session, page_no: PageQuery = 1) -> Response:
    size = request.app.state.config.server.page_size_default
    log = access_log(request.app.state.store, page=page_no, page_size=size)
    return page(
        request,
        "admin_audit.html",
        session=session,
        title="系统管理 · 审计日志",
        tab="audit",
        log=log,
        pages=_pages(log.total, size),
        role_labels=ROLE_LABELS,
    )
