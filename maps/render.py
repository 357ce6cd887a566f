"""A map as HTML: a page served by the app (assets under ``/static/``), one
standalone file (assets inlined) that opens offline anywhere, or an inline frame
of that standalone document for a Jupyter notebook."""

from __future__ import annotations

import html
from pathlib import Path

import folium

from maps.assets import STATIC_URL, localize, standalone

__all__ = ["FRAME_HEIGHT_PX", "save_standalone", "to_html", "to_iframe"]

#: Height of a map shown inline in a notebook, CSS pixels (the width fills the cell).
FRAME_HEIGHT_PX = 600


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


def to_iframe(m: folium.Map, *, height_px: int = FRAME_HEIGHT_PX) -> str:
    """The map as an ``<iframe srcdoc=…>`` holding its standalone document (in a ``<div>``).

    For a notebook cell (``IPython.display.HTML(to_iframe(m))``): every asset is
    inlined (:func:`maps.assets.standalone`), so the map draws offline, unlike
    folium's own notebook display, which links CDNs. The ``<div>`` keeps IPython
    from suggesting its ``IFrame`` (a URL, which an offline map has not).

    Parameters
    ----------
    m
        The map.
    height_px
        The frame's height, CSS pixels.

    Raises
    ------
    AssetError
        The map uses a front-end file the product does not vendor.
    """
    doc = html.escape(standalone(_render(m)), quote=True)
    return (
        f'<div><iframe srcdoc="{doc}" style="width: 100%; height: {int(height_px)}px; border: 0;" '
        'sandbox="allow-scripts allow-popups"></iframe></div>'
    )
