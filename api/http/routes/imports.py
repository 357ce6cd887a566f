"""``POST /api/v1/imports/{kind}``: a register file into the store (admins only).

As ``coverplan import KIND FILE --json``: the file (``multipart/form-data``, field
``file``, at most ``[server] upload_max_mb``; 413 above, nothing stored) is
checked and stored in ONE transaction; the answer is the same batch report, plus
``problems`` (row, column, value, reason of every rejected or flagged row). A
file that cannot be used at all (unreadable, another kind of register, required
columns missing) is a 422 problem naming the file and the fix; nothing is stored.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.http.deps import get_config, get_store, require
from api.http.problems import responses
from api.http.uploads import multipart_body, receive_file
from planner.domain.access import Principal, Role
from planner.settings import Config
from planner.store.core import Store

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])

admins = require(Role.ADMIN)
REGISTER_SUFFIXES = (".csv", ".xlsx", ".xls", ".geojson", ".json", ".gpkg", ".zip")


class ImportKind(StrEnum):
    residents = "residents"
    facilities = "facilities"
    villages = "villages"
    devices = "devices"
    leads = "leads"


class Crs(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


class ImportProblemOut(BaseModel):
    file: str
    row: int
    column: str | None
    value: str | None
    action: str
    reason: str


class ImportReportOut(BaseModel):
    """The batch report of ``coverplan import KIND FILE --json`` (+ ``problems``)."""

    file: str
    encoding: str | None
    rows: int
    stored: int
    updated: int
    unchanged: int
    rejected: int
    needs_review: int
    report: str | None
    kind: str
    format: str
    crs: str
    inserted: int
    batch_id: int
    ignored_columns: list[str]
    problems: list[ImportProblemOut]


@router.post(
    "/{kind}",
    response_model=ImportReportOut,
    summary="导入名单文件（管理员；同 coverplan import KIND FILE --json）",
    description=(
        "multipart/form-data，文件放在字段 file（CSV、XLSX/XLS；村社和设施也可 GeoJSON、"
        "GeoPackage、Shapefile 压缩包）；大小上限见 [server] upload_max_mb（超出 413）；"
        "整个文件一个事务：不能使用的文件（如类型不对）422，不写入任何数据"
    ),
    responses=responses(401, 403, 413, 422),
    openapi_extra=multipart_body("名单文件"),
)
async def import_register(
    kind: Annotated[ImportKind, PathParam(description="名单类型")],
    request: Request,
    principal: Annotated[Principal, Depends(admins)],
    store: Annotated[Store, Depends(get_store)],
    config: Annotated[Config, Depends(get_config)],
    crs: Annotated[
        Crs, Query(description="坐标系：wgs84、gcj02（高德）或 bd09（百度）")
    ] = Crs.wgs84,
    replace_geometry: Annotated[
        bool,
        Query(
            alias="replace",
            description="村社：允许覆盖超过 [import] geometry_replace_share 的已有点位与边界",
        ),
    ] = False,
) -> ImportReportOut:
    from planner.services.imports import ImportOptions, import_file

    del principal
    with tempfile.TemporaryDirectory(prefix="coverplan-upload-") as tmp:
        up = await receive_file(
            request,
            dest=Path(tmp),
            max_mb=config.server.upload_max_mb,
            suffixes=REGISTER_SUFFIXES,
        )
        options = ImportOptions(
            kind=kind.value, path=up.path, crs=crs.value, replace=replace_geometry
        )
        result = await run_in_threadpool(import_file, store, config=config, options=options)
    result = replace(result, file=up.name)
    doc = result.to_json()
    doc["problems"] = [
        {
            "file": up.name,
            "row": p.line,
            "column": p.column,
            "value": p.value,
            "action": p.action,
            "reason": p.reason,
        }
        for p in result.problems
    ]
    return ImportReportOut.model_validate(doc)
