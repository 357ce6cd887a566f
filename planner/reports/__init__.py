"""Files for people, at the end of the flow: coverage tables, siting proposals,
route sheets. Nothing else in planner imports this package."""
