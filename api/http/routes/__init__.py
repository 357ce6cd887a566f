"""One router per resource (``router = APIRouter(prefix="/api/v1/…")``), registered
in :func:`api.http.app.create_app`."""
