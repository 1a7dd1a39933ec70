"""Tests of coverage.data."""
