"""Embedded data: the demo district and the default configuration."""
