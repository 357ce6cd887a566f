"""Domain model, store, import, coverage, siting and outreach."""
