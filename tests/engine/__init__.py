"""Tests of coverage.engine."""
