"""Folium maps that work offline: base layers from the store, one builder per
map (coverage, gaps, indicators, siting, retrofit, outreach), the vendored
front-end files (:mod:`maps.assets`), rendering (:mod:`maps.render`) and the
export used by ``coverplan map`` and the web pages (:mod:`maps.export`)."""
