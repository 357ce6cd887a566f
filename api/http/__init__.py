"""The HTTP API (FastAPI): ``coverplan serve`` runs :func:`api.http.app.create_app`."""
