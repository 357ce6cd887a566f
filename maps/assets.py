"""The maps' and pages' front-end files, served from the product, never from a CDN.

folium and branca write ``<script src>`` / ``<link href>`` tags that point at CDNs
(public content-delivery hosts). On a government intranet those
are blank pages, so every rendered map goes through :func:`localize`, the one choke
point that rewrites each known CDN URL to the vendored copy under
``/static/vendor/`` (``maps/static/vendor``, fetched from the npm registry by
:mod:`maps.vendor`, listed with versions, licences and SHA-256 in
``manifest.json``). :func:`standalone` inlines the same files instead, for a map
exported as one HTML file. :func:`outside_urls` finds any URL to an outside host
that is left (tests use it on every rendered map and page).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from geo.errors import CoverplanError

__all__ = [
    "STATIC_DIR",
    "VENDOR_URL",
    "AssetError",
    "Vendored",
    "cdn_map",
    "check_manifest",
    "localize",
    "outside_urls",
    "standalone",
    "vendored",
]

#: The package data folder served at ``/static`` (``vendor/`` and ``coverplan/``).
STATIC_DIR = Path(__file__).parent / "static"
#: Where the app serves :data:`STATIC_DIR` (``/static/vendor/…``).
STATIC_URL = "/static/"
VENDOR_URL = STATIC_URL + "vendor/"

#: The rotation rules of awesome-markers, written by us (not on npm).
ROTATE_CSS = "coverplan/leaflet.awesome.rotate.css"

#: folium's own names of the files it links (``folium.folium._default_js`` and
#: ``_default_css``) → (npm package, path in it), our :data:`ROTATE_CSS`, or None for
#: a stylesheet the product never needs (Bootstrap 3 glyphicons: every icon is a
#: Font Awesome one, ``Icon(prefix="fa")``), whose tag is dropped. The URLs are
#: folium's: no CDN address is written here.
_FOLIUM_FILES: dict[str, tuple[str, str] | str | None] = {
    "leaflet": ("leaflet", "dist/leaflet.js"),
    "jquery": ("jquery", "dist/jquery.min.js"),
    "bootstrap": ("bootstrap", "dist/js/bootstrap.bundle.min.js"),
    "awesome_markers": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.js"),
    "leaflet_css": ("leaflet", "dist/leaflet.css"),
    "bootstrap_css": ("bootstrap", "dist/css/bootstrap.min.css"),
    "glyphicons_css": None,
    "awesome_markers_font_css": ("@fortawesome/fontawesome-free", "css/all.min.css"),
    "awesome_markers_css": ("leaflet.awesome-markers", "dist/leaflet.awesome-markers.css"),
    "awesome_rotate_css": ROTATE_CSS,
}

#: Hosts that are the app itself (``testserver``: Starlette's test client).
LOOPBACK = ("127.0.0.1", "localhost", "testserver")

_TAG = re.compile(
    r"""<(?P<tag>script|link)\b(?P<attrs>[^>]*?)(?P<attr>src|href)\s*=\s*(?P<q>["'])(?P<url>https?://[^"']+)(?P=q)(?P<rest>[^>]*)>(?:\s*</script>)?""",
    re.IGNORECASE,
)
_CSS_URL = re.compile(r"""url\(\s*(?P<q>["']?)(?P<ref>[^)"']+)(?P=q)\s*\)""")


class AssetError(CoverplanError):
    """A vendored file is missing or differs from the manifest, or a page links a
    CDN file the product does not vendor."""


@dataclass(frozen=True)
class Vendored:
    """One vendored package: its folder under ``static/vendor`` and its files."""

    name: str
    version: str
    folder: str
    licence: str
    files: dict[str, str]  # path in the package → SHA-256


@functools.cache
def vendored() -> dict[str, Vendored]:
    """The packages of ``static/vendor/manifest.json`` by npm name."""
    doc = json.loads((STATIC_DIR / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    return {
        name: Vendored(name, d["version"], d["folder"], d["licence"], dict(d["files"]))
        for name, d in doc.items()
    }


def check_manifest() -> list[str]:
    """Every vendored file that is missing or whose SHA-256 differs (empty: all good)."""
    problems = []
    for pkg in vendored().values():
        for path, digest in pkg.files.items():
            f = STATIC_DIR / "vendor" / pkg.folder / path
            if not f.is_file():
                problems.append(f"{pkg.folder}/{path}: missing")
            elif hashlib.sha256(f.read_bytes()).hexdigest() != digest:
                problems.append(f"{pkg.folder}/{path}: SHA-256 differs from manifest.json")
    return problems


def _in_package(name: str, path: str) -> str | None:
    pkg = vendored().get(name)
    if pkg is None or path not in pkg.files:
        return None
    return f"vendor/{pkg.folder}/{path}"


@functools.cache
def _folium_urls() -> dict[str, str | None]:
    """folium's CDN URLs → path under :data:`STATIC_DIR` (None: the tag is dropped)."""
    from folium.folium import _default_css, _default_js

    out: dict[str, str | None] = {}
    for name, url in [*_default_js, *_default_css]:
        target = _FOLIUM_FILES.get(name, "")
        if isinstance(target, tuple):
            out[url] = _in_package(*target)
        elif target != "":
            out[url] = target  # ROTATE_CSS, or None: dropped
    return out


def _by_package(url: str) -> str | None:
    """A URL whose path names a vendored package and its exact version, npm style
    (``…/NAME@VERSION/PATH``) or library style (``…/NAME/VERSION/…/FILE``, the file
    found by name): the vendored copy (None: another package or version)."""
    path = urlsplit(url).path
    for pkg in vendored().values():
        for marker in (f"/{pkg.name}@{pkg.version}/", f"/{pkg.name}/{pkg.version}/"):
            at = path.find(marker)
            if at < 0:
                continue
            rest = path[at + len(marker) :]
            if rest in pkg.files:
                return _in_package(pkg.name, rest)
            same = [f for f in pkg.files if f.rsplit("/", 1)[-1] == rest.rsplit("/", 1)[-1]]
            if len(same) == 1:
                return _in_package(pkg.name, same[0])
    return None


def cdn_map() -> dict[str, str]:
    """Every CDN URL folium declares that :func:`localize` rewrites → its path under
    ``/static/`` (any other URL naming a vendored package and version is found by
    :func:`_by_package`)."""
    return {url: local for url, local in _folium_urls().items() if local is not None}


def _rewrite(html: str, replace: object) -> str:
    def sub(m: re.Match[str]) -> str:
        url = m["url"]
        declared = _folium_urls()
        if url in declared and declared[url] is None:
            return ""  # a file the product never needs
        local = declared.get(url) or _by_package(url)
        if local is None:
            raise AssetError(
                f"地图引用了未随产品提供的外部文件 {url}；"
                "请在 maps/vendor.py 中加入该包并运行 make vendor"
            )
        return replace(m, local)  # type: ignore[operator]

    return _TAG.sub(sub, html)


def localize(html: str, *, static_url: str = STATIC_URL) -> str:
    """``html`` with every CDN ``<script src>`` / ``<link href>`` pointing at the
    vendored copy under ``static_url`` (the app serves ``/static/``).

    Raises
    ------
    AssetError
        A CDN file the product does not vendor (the tag names it).
    """

    def to_url(m: re.Match[str], local: str) -> str:
        return m.group(0).replace(m["url"], static_url + local)

    return _rewrite(html, to_url)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".woff2":
        mime = "font/woff2"
    elif path.suffix == ".ttf":
        mime = "font/ttf"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css(path: Path) -> str:
    """A stylesheet with every relative ``url(…)`` (fonts, images) as a data URI;
    the TrueType fallbacks of a ``@font-face`` whose WOFF2 is given are dropped."""
    css = path.read_text(encoding="utf-8")
    css = re.sub(r""",\s*url\([^)]*\.ttf\)\s*format\(["']truetype["']\)""", "", css)

    def sub(m: re.Match[str]) -> str:
        ref = m["ref"].split("#")[0].split("?")[0]
        if ref.startswith(("data:", "http:", "https:", "//")):
            return m.group(0)
        target = (path.parent / ref).resolve()
        if not target.is_file():
            return m.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(sub, css)


def standalone(html: str) -> str:
    """``html`` with every CDN script and stylesheet inlined from the vendored copy:
    one file that opens offline anywhere (a map exported by ``coverplan map``).

    Raises
    ------
    AssetError
        A CDN file the product does not vendor.
    """

    def inline(m: re.Match[str], local: str) -> str:
        path = STATIC_DIR / local
        if m["tag"].lower() == "script":
            code = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
            return f"<script>{code}</script>"
        return f"<style>{_inline_css(path)}</style>"

    return _rewrite(html, inline)


def outside_urls(text: str, *, allowed_hosts: tuple[str, ...] = ()) -> list[str]:
    """Every reference that would make a browser (or ``wget --mirror``) fetch from a
    host other than loopback or ``allowed_hosts`` (a configured tile server): ``src``,
    ``href``, ``action``, ``poster`` and ``data`` attributes, CSS ``url(…)`` and
    ``@import`` (outside ``<script>`` bodies), and tile URL templates
    (``{z}/{x}/{y}``, anywhere). URLs in the vendored libraries' code, comments and
    licence headers are not requests and are not listed."""
    markup = _SCRIPT_BODY.sub(r"\1\2", text)  # library code: not requests
    urls = [next(g for g in m.groups() if g) for m in _REFERENCE.finditer(markup)]
    urls += [m.group(1) for m in _TILES.finditer(text)]
    found = []
    for url in urls:
        host = _host(url)
        if (
            host is None
            or host in ("127.0.0.1", "localhost", "testserver")
            or host in allowed_hosts
        ):
            continue
        found.append(url)
    return found


def _host(url: str) -> str | None:
    m = re.match(r"(?:https?:)?//([^/:?#\s]+)", url.strip(), re.IGNORECASE)
    return m.group(1).lower() if m else None


_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?((?:https?:)?//[^"'\s>]+))"""
    r"""|(?:url\(\s*["']?((?:https?:)?//[^"')\s]+))"""
    r"""|(?:@import\s+["']((?:https?:)?//[^"']+))""",
    re.IGNORECASE,
)
_TILES = re.compile(r"""["']((?:https?:)?//[^"'\s]*\{z\}[^"'\s]*)["']""")
_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>).*?(</script>)", re.IGNORECASE | re.DOTALL)
