"""The web UI: server-rendered pages (Jinja2 + htmx, no front-end build) for
planners, leaders, outreach teams and admins, on the same application layer as
the CLI and the HTTP API. :func:`api.web.app.install_web` adds it to the app."""
