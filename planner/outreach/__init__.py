"""Monthly village outreach (康复入村社): needs, month plans, routes and route sheets."""
