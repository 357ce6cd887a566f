"""Coverage: travel-time reach, capacity assignment, E2SFCA accessibility,
gaps and off-network points."""
