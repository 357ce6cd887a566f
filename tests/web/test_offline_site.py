"""What ``wget --mirror`` of the site would fetch, as each role: every page, frame,
stylesheet and script reachable from ``/`` by links (href/src, CSS url()) is served
by the app itself, none of them references another host, and none answers 5xx."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from maps.assets import outside_urls
from tests.web.conftest import PASSWORDS, ROLES, WebServer

#: Pages reached by following links at most (the site is small; a bound keeps a
#: link loop from running away).
MAX_URLS = 300
_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"'#]+)""", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")
#: Links a crawler must not follow: signing out ends the crawl's session.
SKIP = ("/logout",)


def _links(base: str, url: str, text: str, content_type: str) -> list[str]:
    found = _CSS_URL.findall(text) if "css" in content_type else _LINK.findall(text)
    out = []
    for ref in found:
        if ref.startswith(("data:", "blob:", "javascript:", "mailto:")):
            continue
        absolute = urljoin(url, ref)
        if urlsplit(absolute).netloc == urlsplit(base).netloc:
            out.append(absolute.split("#")[0])
    return out


def crawl(server: WebServer, role: str | None) -> dict[str, int]:
    """Status of every URL reached from ``/`` (signed in as ``role``)."""
    seen: dict[str, int] = {}
    problems: list[str] = []
    with httpx.Client(base_url=server.base, follow_redirects=True, timeout=60) as client:
        if role is not None:
            r = client.post("/login", data={"username": role, "password": PASSWORDS[role]})
            assert r.status_code == 200, r.text[:300]
        queue = deque([server.base + "/"])
        while queue and len(seen) < MAX_URLS:
            url = queue.popleft()
            if url in seen or any(urlsplit(url).path.startswith(s) for s in SKIP):
                continue
            r = client.get(url)
            seen[url] = r.status_code
            content_type = r.headers.get("content-type", "")
            if r.status_code >= 500:
                problems.append(f"{r.status_code} {url}")
            if not any(k in content_type for k in ("html", "css")):
                continue
            text = r.text
            left = outside_urls(text)
            if left:
                problems.append(f"{url}: {left[:3]}")
            queue.extend(_links(server.base, str(r.url), text, content_type))
    assert problems == [], problems
    return seen


@pytest.mark.parametrize("role", [None, *ROLES])
def test_the_site_references_no_other_host(web_server: WebServer, role: str | None) -> None:
    seen = crawl(web_server, role)
    assert any("/static/" in u for u in seen)  # the crawl reached the assets
    if role is not None:
        assert any(urlsplit(u).path != "/login" for u in seen if seen[u] == 200)
