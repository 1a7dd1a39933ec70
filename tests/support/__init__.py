"""Shared test helpers: tiny hand-checkable inputs, a PostgreSQL server, the browser."""
