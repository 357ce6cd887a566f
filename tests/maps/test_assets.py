"""Vendored front-end files: present, as the manifest says, and every CDN URL that
folium/branca write is mapped to them (a rendered map keeps no outside URL)."""

from __future__ import annotations

import hashlib
import re

import branca.colormap as cm
import folium
import pytest

from maps.assets import (
    STATIC_DIR,
    AssetError,
    cdn_map,
    check_manifest,
    localize,
    outside_urls,
    standalone,
    vendored,
)


def _busy_map() -> str:
    """A map that pulls every asset folium and branca know of."""
    m = folium.Map(location=[29.6, 121.4], tiles=None, attribution_control=False)
    folium.Marker([29.6, 121.4], icon=folium.Icon(prefix="fa", icon="home")).add_to(m)
    cm.LinearColormap(["white", "red"], vmin=0, vmax=1, caption="覆盖率").add_to(m)
    folium.LayerControl().add_to(m)
    return m.get_root().render()


def test_every_vendored_file_is_as_the_manifest_says() -> None:
    assert check_manifest() == []
    names = set(vendored())
    assert {"leaflet", "jquery", "bootstrap", "d3", "htmx.org"} <= names
    for pkg in vendored().values():
        assert pkg.licence and pkg.version and pkg.files
        assert any("LICENSE" in f for f in pkg.files), pkg.name  # the licence ships too


def test_a_changed_file_is_caught(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pkg = vendored()["d3"]
    f = STATIC_DIR / "vendor" / pkg.folder / "d3.min.js"
    assert hashlib.sha256(f.read_bytes()).hexdigest() == pkg.files["d3.min.js"]
    monkeypatch.setitem(pkg.files, "d3.min.js", "0" * 64)
    assert check_manifest() == [f"{pkg.folder}/d3.min.js: SHA-256 differs from manifest.json"]


def test_a_rendered_map_has_outside_urls_and_localize_removes_every_one() -> None:
    html = _busy_map()
    before = outside_urls(html)
    assert len(before) >= 10  # leaflet, jquery, bootstrap ×2, awesome ×2, fa, rotate, d3, …
    local = localize(html)
    assert outside_urls(local) == []
    assert "glyphicons" not in local  # dropped: every icon is a Font Awesome one
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', local):
        assert (STATIC_DIR / src.removeprefix("/static/")).is_file(), src


def test_standalone_inlines_everything_fonts_included() -> None:
    html = standalone(_busy_map())
    assert outside_urls(html) == []
    assert "/static/" not in html
    assert "data:font/woff2;base64," in html  # Font Awesome's fonts travel with the file
    assert "L.map(" in html and "d3" in html


def test_an_unknown_cdn_file_is_refused_by_name() -> None:
    html = '<script src="https://cdn.jsdelivr.net/npm/leaflet.heat@0.2.0/dist/leaflet-heat.js"></script>'
    with pytest.raises(AssetError, match=r"leaflet-heat\.js"):
        localize(html)


def test_outside_urls_sees_references_not_library_comments() -> None:
    page = (
        '<img src="https://x.example/a.png"><style>a{b:url(//y.example/f.woff)}</style>'
        '<a href="http://127.0.0.1:8000/x">本机</a>'
        '<script>/* https://leafletjs.com */ L.tileLayer("https://t.example/{z}/{x}/{y}.png")</script>'
    )
    assert outside_urls(page) == [
        "https://x.example/a.png",
        "//y.example/f.woff",
        "https://t.example/{z}/{x}/{y}.png",
    ]
    assert outside_urls(page, allowed_hosts=("t.example",))[-1] == "//y.example/f.woff"


def test_cdn_map_points_at_files_that_exist() -> None:
    for url, local in cdn_map().items():
        assert url.startswith("https://")
        assert (STATIC_DIR / local).is_file(), (url, local)


def test_a_map_inline_in_a_notebook_is_a_frame_of_the_standalone_document() -> None:
    import html as html_module

    from maps.render import to_iframe

    m = folium.Map(location=[29.6, 121.4], tiles=None, attribution_control=False)
    folium.Marker([29.6, 121.4], popup="<b>残疾人之家 & 站</b>").add_to(m)
    frame = to_iframe(m, height_px=320)
    assert frame.startswith('<div><iframe srcdoc="') and frame.endswith("></iframe></div>")
    assert "height: 320px" in frame
    doc = html_module.unescape(frame.split('srcdoc="', 1)[1].split('" style=', 1)[0])
    assert '"' not in frame.split('srcdoc="', 1)[1].split('" style=', 1)[0]  # one attribute
    assert doc.lstrip().startswith("<!DOCTYPE html>")
    assert "残疾人之家 &amp; 站" in doc or "残疾人之家 & 站" in doc
    assert outside_urls(frame) == [] and outside_urls(doc) == []
    assert "cdn.jsdelivr.net/npm/leaflet" not in doc  # inlined, not linked
    assert "L.map(" in doc and "<script>" in doc
