"""Percentiles from a partial sort: the same figures as the full sort they replace."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coverage.engine.metrics import _percentile, _percentiles


def sorted_percentile(values: np.ndarray, q: float) -> float | None:
    """The former rule, on a full sort."""
    if values.size == 0:
        return None
    ordered = np.sort(values)
    rank = (ordered.size - 1) * q / 100.0
    lo, hi = math.floor(rank), math.ceil(rank)
    if lo == hi or rank == lo:
        value = float(ordered[lo])
    elif not math.isfinite(ordered[hi]):
        return None
    else:
        value = float(np.percentile(ordered[lo : hi + 1], 100.0 * (rank - lo)))
    return value if math.isfinite(value) else None


@pytest.mark.parametrize("seed", range(40))
def test_partial_sort_equals_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice([0.0, 0.5, 1.25, 3.0, np.inf], size=rng.integers(0, 30))
    values = values + rng.uniform(0, 1, values.size) * (seed % 2)
    qs = (0.0, 10.0, 50.0, 90.0, 99.0, 100.0)
    want = [sorted_percentile(values, q) for q in qs]
    assert _percentiles(values, qs) == want
    assert [_percentile(values, q) for q in qs] == want


def test_hand_checked() -> None:
    assert _percentile(np.array([0.0, 0.5, np.inf]), 50) == 0.5
    assert _percentile(np.array([0.0, np.inf]), 50) is None
    assert _percentiles(np.array([]), (50, 90)) == [None, None]
