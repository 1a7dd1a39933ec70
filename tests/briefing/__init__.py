"""Tests of coverage.briefing."""
