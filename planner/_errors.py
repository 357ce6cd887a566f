"""Planner-level exceptions (see :mod:`geo._errors` for the base class)."""

from __future__ import annotations

from geo._errors import CoverplanError, CRSError, GazetteerError, InputError

__all__ = [
    "CRSError",
    "ConfigError",
    "CoverplanError",
    "GazetteerError",
    "InputError",
    "ScenarioError",
    "StoreError",
]


class ConfigError(CoverplanError):
    """The settings or the TOML configuration are invalid."""


class StoreError(CoverplanError):
    """The store cannot be opened, migrated or written."""


class ScenarioError(CoverplanError):
    """A planning scenario cannot be saved, found or compared (bad name, unknown name)."""
