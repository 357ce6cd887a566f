"""A map as HTML: a page served by the app (assets under ``/static/``) or one
standalone file (assets inlined) that opens offline anywhere."""

from __future__ import annotations

from pathlib import Path

import folium

from maps.assets import STATIC_URL, localize, standalone

__all__ = ["save_standalone", "to_html"]


def _render(m: folium.Map) -> str:
    return m.get_root().render()


def to_html(m: folium.Map, *, static_url: str = STATIC_URL) -> str:
    """The map's full HTML document with every CDN file pointing at the app's copy.

    Parameters
    ----------
    m
        The map.
    static_url
        Where the app serves ``maps/static`` (``/static/``).

    Raises
    ------
    AssetError
        The map uses a front-end file the product does not vendor.
    """
    return localize(_render(m), static_url=static_url)


def save_standalone(m: folium.Map, path: Path | str) -> Path:
    """Write the map as one HTML file with every asset inlined (works offline, UTF-8).

    Parameters
    ----------
    m
        The map.
    path
        The file to write (its folder is created).

    Returns
    -------
    Path
        ``path``.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(standalone(_render(m)), encoding="utf-8")
    return out
