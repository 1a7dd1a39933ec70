"""Backfill objective (DATA.md): weighted zone nodes covered within target, officer shortfall.

Every (zone, node) pair is one *demand item*: a node inside two zones counts in both, each
with its zone's weight and target. The objective of a set of available units is the sum of
the weights of the items whose response time is within their zone's ``target_min``; the
secondary figure is each zone's officer shortfall, ``max(0, min_officers - officers within
target)``.

Examples
--------
>>> import numpy as np
>>> from coverage.metrics import ZoneNodes
>>> zn = ZoneNodes(zone_id=("Z1",), nodes=(np.array([0, 1]),), anchor=np.array([0]),
...                anchor_m=np.zeros(1), at_anchor=np.zeros(1, bool),
...                target_min=np.array([1.0]), min_officers=np.array([1]),
...                priority=(2,), name=("Z",))
>>> objective(demand(zn), np.array([30.0, 90.0]))
2.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coverage import settings
from coverage._errors import DataError
from coverage.metrics import ZoneNodes
from coverage.network import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]

#: Keys of a weight override: a priority 1..3, or None for zones without one.
Weights = Mapping[int | None, float]


@dataclass(frozen=True, eq=False)
class Demand:
    """Demand items: item ``j`` is node ``node[j]`` of zone ``zone[j]``.

    ``weight[j]`` and ``target_min[j]`` are its zone's demand weight and response target;
    ``zone_weight[z]`` is zone ``z``'s weight.
    """

    zones: ZoneNodes
    zone: IntArray
    node: IntArray
    weight: FloatArray
    target_min: FloatArray
    zone_weight: FloatArray

    def __len__(self) -> int:
        return len(self.node)

    @property
    def total(self) -> float:
        """The objective when every item is covered."""
        return float(self.weight.sum())


def zone_weights(zones: ZoneNodes, *, weights: Weights | None = None) -> FloatArray:
    """Return each zone's demand weight: 3/2/1 for priority 1/2/3, 3 without a priority.

    ``weights`` overrides any of these, keyed by priority (``None`` for zones without one);
    weights must be finite and >= 0.
    """
    table: dict[int | None, float] = {
        **{int(k): float(v) for k, v in settings.PRIORITY_WEIGHTS.items()},
        None: float(settings.UNPRIORITISED_WEIGHT),
    }
    for key, value in (weights or {}).items():
        if key not in table:
            msg = f"weights: key {key!r} is not a priority 1, 2, 3 or None (no priority)"
            raise DataError(msg)
        if not (np.isfinite(value) and value >= 0):
            msg = f"weights: weight {value!r} for priority {key} must be a number >= 0"
            raise DataError(msg)
        table[key] = float(value)
    return np.array([table.get(p, table[None]) for p in zones.priority], dtype=np.float64)


def demand(zones: ZoneNodes, *, weights: Weights | None = None) -> Demand:
    """Return the demand items of ``zones`` (see :class:`Demand`)."""
    zw = zone_weights(zones, weights=weights)
    sizes = np.array([len(n) for n in zones.nodes], dtype=np.int64)
    zone = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    node = (np.concatenate(zones.nodes).astype(np.int64) if len(sizes)
            else np.empty(0, dtype=np.int64))
    return Demand(zones=zones, zone=zone, node=node, weight=zw[zone],
                  target_min=np.asarray(zones.target_min, dtype=np.float64)[zone],
                  zone_weight=zw)


def covered(d: Demand, seconds: FloatArray) -> BoolArray:
    """Return, per item, whether its node's response time is within its zone's target.

    The test is ``seconds / 60 <= target_min``, the one the zone table uses.
    """
    return np.asarray(seconds[d.node] / 60.0 <= d.target_min)


def objective(d: Demand, seconds: FloatArray) -> float:
    """Return the objective: the summed weight of the items covered within target."""
    return float(d.weight[covered(d, seconds)].sum())


def zone_objective(d: Demand, seconds: FloatArray) -> FloatArray:
    """Return each zone's part of the objective (weight x its nodes covered)."""
    hit = covered(d, seconds)
    per_zone = np.bincount(d.zone, weights=d.weight * hit, minlength=len(d.zone_weight))
    return np.asarray(per_zone, dtype=np.float64)


def shortfall(zones: ZoneNodes, within: IntArray) -> IntArray:
    """Return each zone's officer shortfall, ``max(0, min_officers - within)``."""
    return np.maximum(np.asarray(zones.min_officers, dtype=np.int64) - within, 0)


def as_number(value: float) -> float | int:
    """Return ``value`` as an int when it is whole (tidier JSON), else unchanged."""
    return int(value) if float(value).is_integer() else float(value)
