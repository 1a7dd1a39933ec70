"""Backfill objective (DATA.md): weighted zone nodes covered within target, officer shortfall.

Every (zone, node) pair is one *demand item*: a node inside two zones counts in both, each
with its zone's weight and target. The objective of a set of available units is the sum of
the weights of the items whose response time is within their zone's ``target_min``; the
secondary figure is each zone's officer shortfall, ``max(0, min_officers - officers within
target)``.

Examples
--------
>>> import numpy as np
>>> from coverage.engine.metrics import ZoneNodes
>>> zn = ZoneNodes(zone_id=("Z1",), nodes=(np.array([0, 1]),), anchor=np.array([0]),
...                anchor_m=np.zeros(1), at_anchor=np.zeros(1, bool),
...                target_min=np.array([1.0]), min_officers=np.array([1]),
...                priority=(2,), name=("Z",))
>>> objective(demand(zn), np.array([30.0, 90.0]))
2.0
"""

from __future__ import annotations

import numpy as np

from coverage.data.network import IntArray
from coverage.engine.metrics import (
    BoolArray,
    Demand,
    Weights,
    ZoneNodes,
    covered,
    demand,
    objective,
    zone_objective,
    zone_weights,
)

__all__ = [
    "BoolArray", "Demand", "Weights", "as_number", "covered", "demand", "objective",
    "shortfall", "zone_objective", "zone_weights",
]

def shortfall(zones: ZoneNodes, within: IntArray) -> IntArray:
    """Return each zone's officer shortfall, ``max(0, min_officers - within)``."""
    return np.maximum(np.asarray(zones.min_officers, dtype=np.int64) - within, 0)


def as_number(value: float) -> float | int:
    """Return ``value`` as an int when it is whole (tidier JSON), else unchanged."""
    return int(value) if float(value).is_integer() else float(value)
