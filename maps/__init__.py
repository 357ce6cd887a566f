"""Folium maps (later issue)."""
