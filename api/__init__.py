"""Command line and HTTP interfaces: the edge layer."""
