"""Tests of coverage.ops."""
