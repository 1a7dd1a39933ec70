"""Tests of coverage.planning."""
