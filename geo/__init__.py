"""Gazetteer, geocoding, coordinate systems, road networks and travel times.

This is the lowest layer: it imports nothing from ``planner``, ``maps`` or ``api``.
"""
