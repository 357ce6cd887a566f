"""The planner's pages (`/planner`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.web.deps import page_for
from api.web.render import page
from planner.domain.access import Role
from planner.services.web_sessions import WebSession

router = APIRouter(include_in_schema=False)
Session = Annotated[WebSession, Depends(page_for(Role.PLANNER))]


@router.get("/planner", response_class=HTMLResponse)
def planner_home(request: Request, session: Session) -> Response:
    return page(request, "planner.html", session=session, title="覆盖总览")
