"""Expected coverage under refusal risk (DATA.md): who answers is uncertain.

Each available unit fails to answer with its own probability ``p[u]`` (by its station's
readiness level, :func:`coverage.planning.readiness.unit_refusal_p`), independently of the
others. A demand item (a zone node) is covered with probability ``1 - prod p[u]`` over the
units that reach it within its zone's target; ``expected_covered_share`` is the mean of that
over the zone's nodes and ``expected_objective`` the sum over items of weight x that
probability. With every ``p`` 0 they equal ``covered_share`` and the objective.

Which units reach which node within target is read from forward searches from the units'
nodes (:func:`coverage.engine.traveltime.times_from`, each unit's turnout delay included),
bounded by the largest zone target: the same sums and the same ``seconds / 60 <= target``
test as the coverage run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from coverage.data.network import FloatArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import Demand, Weights, demand, objective
from coverage.engine.traveltime import times_from
from coverage.errors import DataError

logger = logging.getLogger(__name__)

EXPECTED_COLUMNS: tuple[str, ...] = (
    "zone_id", "name", "priority", "nodes", "covered_share", "expected_covered_share",
    "objective", "expected_objective",
)
_SOURCES_PER_CHUNK = 256


@dataclass(frozen=True, eq=False)
class ExpectedCoverage:
    """Plain and expected coverage of one run.

    ``unit_p[u]`` is unit ``u``'s refusal probability (``Coverage.units`` order);
    ``item_p[j]`` the probability that demand item ``j`` is covered; ``zones`` one row per
    zone (columns :data:`EXPECTED_COLUMNS`); ``objective`` and ``expected_objective`` over
    all zones.
    """

    unit_p: FloatArray
    item_p: FloatArray
    zones: pd.DataFrame
    objective: float
    expected_objective: float


def reach_matrix(cov: Coverage, dem: Demand) -> sp.csr_array:
    """Return items x units (boolean, sparse): does unit ``u`` reach item ``j`` in time?

    Units standing on the same node with the same turnout delay share one search.
    """
    units = cov.units
    n_units, n_items = len(units), len(dem)
    if n_units == 0 or n_items == 0:
        return sp.csr_array((n_items, n_units), dtype=bool)
    delays = cov.times.delays
    pairs = np.column_stack([units.node.astype(np.float64), delays])
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    nodes, where = np.unique(dem.node, return_inverse=True)
    limit = float(dem.target_min.max()) * 60.0 * (1 + 1e-9) + 1e-6
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    for lo in range(0, len(uniq), _SOURCES_PER_CHUNK):
        chunk = uniq[lo:lo + _SOURCES_PER_CHUNK]
        delay = chunk[:, 1] if chunk[:, 1].any() else None
        t = times_from(cov.times.network, chunk[:, 0].astype(np.int64), delay_s=delay,
                       limit_s=limit, columns=nodes)
        src, item = np.nonzero(t[:, where] / 60.0 <= dem.target_min[None, :])
        rows.append(item.astype(np.int64))
        cols.append(src.astype(np.int64) + lo)
    item_idx, source_idx = np.concatenate(rows), np.concatenate(cols)
    # expand each shared search back to the units standing there
    members = sp.csr_array((np.ones(n_units, dtype=bool),
                            (inverse, np.arange(n_units))), shape=(len(uniq), n_units))
    by_source = sp.csr_array((np.ones(item_idx.size, dtype=bool), (item_idx, source_idx)),
                             shape=(n_items, len(uniq)))
    return sp.csr_array((by_source.astype(np.int64) @ members.astype(np.int64)) > 0)


def covered_probability(reach: sp.csr_array, unit_p: npt.ArrayLike) -> FloatArray:
    """Return, per item, ``1 - prod p[u]`` over the units ``u`` that reach it (0 if none)."""
    p = np.asarray(unit_p, dtype=np.float64)
    if p.ndim != 1 or p.size != reach.shape[1]:
        msg = f"unit_p: give one probability per unit ({reach.shape[1]}), got shape {p.shape}"
        raise DataError(msg)
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        msg = "unit_p: every refusal probability must lie between 0 and 1"
        raise DataError(msg)
    coo = sp.coo_array(reach)
    rows = np.asarray(coo.row, dtype=np.int64)
    fail = p[np.asarray(coo.col, dtype=np.int64)]
    zero = np.bincount(rows[fail == 0], minlength=reach.shape[0]) > 0
    with np.errstate(divide="ignore"):
        logs = np.where(fail > 0, np.log(np.where(fail > 0, fail, 1.0)), 0.0)
    all_fail = np.exp(np.bincount(rows, weights=logs, minlength=reach.shape[0]))
    reached = np.bincount(rows, minlength=reach.shape[0]) > 0
    return np.where(reached, np.where(zero, 1.0, 1.0 - all_fail), 0.0)


def expected_coverage(cov: Coverage, unit_p: npt.ArrayLike, *,
                      weights: Weights | None = None,
                      reach: sp.csr_array | None = None) -> ExpectedCoverage:
    """Return the plain and expected coverage of ``cov`` when unit ``u`` refuses with
    probability ``unit_p[u]`` (``Coverage.units`` order), independently.

    ``weights`` overrides the zone demand weights (as for the backfill objective);
    ``reach`` is :func:`reach_matrix` of ``cov`` when already computed (it does not depend
    on the probabilities or the weights).
    """
    dem = demand(cov.zones, weights=weights)
    if reach is None:
        reach = reach_matrix(cov, dem)
    item_p = covered_probability(reach, unit_p)
    nodes = np.bincount(dem.zone, minlength=len(cov.zones.zone_id))
    per_zone = np.bincount(dem.zone, weights=item_p, minlength=len(nodes))
    weighted = np.bincount(dem.zone, weights=item_p * dem.weight, minlength=len(nodes))
    plain = dict(zip(cov.table["zone_id"], cov.table["covered_share"], strict=True))
    seconds = cov.times.seconds
    hit = (seconds[dem.node] / 60.0 <= dem.target_min).astype(np.float64)
    plain_w = np.bincount(dem.zone, weights=hit * dem.weight, minlength=len(nodes))
    zones = pd.DataFrame({
        "zone_id": list(cov.zones.zone_id),
        "name": list(cov.zones.name),
        "priority": pd.array(cov.zones.priority, dtype="Int64"),
        "nodes": nodes.astype(np.int64),
        "covered_share": [float(plain[z]) for z in cov.zones.zone_id],
        "expected_covered_share": np.divide(per_zone, nodes, out=np.zeros(len(nodes)),
                                            where=nodes > 0),
        "objective": plain_w,
        "expected_objective": weighted,
    }, columns=list(EXPECTED_COLUMNS))
    result = ExpectedCoverage(
        unit_p=np.asarray(unit_p, dtype=np.float64), item_p=item_p, zones=zones,
        objective=objective(dem, seconds), expected_objective=float((item_p * dem.weight).sum()),
    )
    logger.info("expected coverage: objective %.1f, expected %.1f over %d units",
                result.objective, result.expected_objective, len(cov.units))
    return result


def expected_records(ex: ExpectedCoverage) -> list[dict[str, Any]]:
    """One JSON-ready object per zone: ``zone_id``, ``name``, ``priority``,
    ``covered_share``, ``expected_covered_share``."""
    return [{"zone_id": str(r["zone_id"]), "name": str(r["name"]),
             "priority": None if pd.isna(r["priority"]) else int(r["priority"]),
             "covered_share": float(r["covered_share"]),
             "expected_covered_share": float(r["expected_covered_share"])}
            for r in ex.zones.to_dict("records")]
