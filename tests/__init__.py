"""The test suite; it mirrors coverage/ (data, engine, planning, ops, briefing, cli) and the app."""
