"""The admin's pages (`/admin`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.web.deps import page_for
from api.web.render import page
from planner.domain.access import Role
from planner.services.web_sessions import WebSession

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.ADMIN))]


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, session: Session) -> Response:
    return page(request, "admin.html", session=session, title="系统管理")
