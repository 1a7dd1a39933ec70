"""Expected coverage under refusal risk against brute force and a Monte-Carlo run.

The brute force enumerates every set of units that refuse, weights it by its probability
and measures what the others cover with plain networkx Dijkstra (tests/support/
planning_cases.py); the Monte-Carlo run draws refusals and measures each draw with the
engine's incremental what-if (:func:`coverage.engine.analysis.suspend`). Neither reads the
reach matrix or the closed form under test.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from coverage.engine.analysis import analyse, suspend
from coverage.engine.metrics import demand, objective
from coverage.errors import DataError
from coverage.planning.expected import covered_probability, expected_coverage, expected_records
from tests.support.planning_cases import random_case
from tests.support.tiny import T13, T43


def _reference(case, unit_p: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Expected objective and per-zone expected covered share by enumeration."""
    names = list(case.units)
    dist = {u: nx.single_source_dijkstra_path_length(case.D, case.units[u], weight="w")
            for u in names}
    total, shares = 0.0, {z["zone_id"]: 0.0 for z in case.zones}
    for fails in itertools.product((False, True), repeat=len(names)):
        prob = math.prod(unit_p[u] if f else 1 - unit_p[u] for u, f in zip(names, fails,
                                                                            strict=True))
        alive = [u for u, f in zip(names, fails, strict=True) if not f]
        for z in case.zones:
            hit = [any(v in dist[u] and dist[u][v] / 60.0 <= z["target_min"] for u in alive)
                   for v in z["nodes"]]
            total += prob * z["weight"] * sum(hit)
            shares[z["zone_id"]] += prob * sum(hit) / len(hit)
    return total, shares


@pytest.mark.parametrize("seed", range(6))
def test_expected_coverage_equals_enumeration_of_who_refuses(seed: int, tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_units=6, n_zones=3)
    cov = analyse(case.ds)
    rng = np.random.default_rng(seed)
    p = rng.choice([0.0, 0.02, 0.1, 0.3, 0.5, 1.0], size=len(cov.units))
    ex = expected_coverage(cov, p)
    ref_total, ref_shares = _reference(case, dict(zip(cov.units.officer_id, p, strict=True)))
    assert ex.expected_objective == pytest.approx(ref_total, abs=1e-9)
    got = dict(zip(ex.zones["zone_id"], ex.zones["expected_covered_share"], strict=True))
    for zid, share in ref_shares.items():
        assert got[zid] == pytest.approx(share, abs=1e-12), zid


@pytest.mark.parametrize("seed", range(4))
def test_no_refusals_give_the_plain_figures_and_all_refusals_nothing(seed: int,
                                                                     tmp_path: Path) -> None:
    cov = analyse(random_case(seed + 10, tmp_path).ds)
    ex = expected_coverage(cov, np.zeros(len(cov.units)))
    assert ex.expected_objective == ex.objective == objective(demand(cov.zones),
                                                              cov.times.seconds)
    assert ex.zones["expected_covered_share"].tolist() == cov.table["covered_share"].tolist()
    assert ex.zones["expected_objective"].tolist() == ex.zones["objective"].tolist()
    none = expected_coverage(cov, np.ones(len(cov.units)))
    assert none.expected_objective == 0.0
    assert (none.zones["expected_covered_share"] == 0).all()


def test_monte_carlo_agrees_with_the_closed_form(tmp_path: Path) -> None:
    case = random_case(3, tmp_path, n_units=10, n_zones=4)
    cov = analyse(case.ds)
    p = np.array([0.3, 0.1, 0.5, 0.02, 0.3, 0.7, 0.1, 0.3, 0.5, 0.2])[:len(cov.units)]
    ex = expected_coverage(cov, p)
    dem = demand(cov.zones)
    rng = np.random.default_rng(7)
    draws = 1500
    values = np.empty(draws)
    ids = np.array(cov.units.officer_id)
    for i in range(draws):
        refused = ids[rng.random(len(ids)) < p]
        values[i] = objective(dem, suspend(cov, refused.tolist()).times.seconds)
    sem = values.std(ddof=1) / math.sqrt(draws)
    assert sem > 0  # refusals do change the picture in this case
    assert abs(values.mean() - ex.expected_objective) < 4 * sem


def test_covered_probability_by_hand() -> None:
    import scipy.sparse as sp

    # item 0: units 0 and 1; item 1: unit 2 (p = 0); item 2: nobody
    reach = sp.csr_array(np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool))
    got = covered_probability(reach, [0.3, 0.5, 0.0])
    assert got.tolist() == pytest.approx([1 - 0.3 * 0.5, 1.0, 0.0])
    with pytest.raises(DataError, match="one probability per unit"):
        covered_probability(reach, [0.1])
    with pytest.raises(DataError, match="between 0 and 1"):
        covered_probability(reach, [0.1, 1.2, 0.0])


def test_tiny_district_by_hand(dataset) -> None:
    """Z2 (West, target 10 min) holds node 1, where A stands; B reaches it (4->3->1), D
    cannot (3->5 is one-way, node 5 a dead end). Z1 (East, 0.5 min) holds nodes 3, 4, 5:
    B stands at 4 and reaches 3 in T43 <= 30 s, A needs T13 > 30 s, D stands at 5."""
    assert T43 <= 30 < T13
    cov = analyse(dataset)
    assert list(cov.units.officer_id) == ["A", "B", "D"]
    ex = expected_coverage(cov, [0.5, 0.2, 0.1])
    rec = {r["zone_id"]: r for r in expected_records(ex)}
    assert rec["Z2"]["covered_share"] == 1.0
    assert rec["Z2"]["expected_covered_share"] == pytest.approx(1 - 0.5 * 0.2)
    assert rec["Z1"]["covered_share"] == 1.0
    assert rec["Z1"]["expected_covered_share"] == pytest.approx((0.8 + 0.8 + 0.9) / 3)
    # weights: Z1 priority 1 -> 3, Z2 no priority -> 3
    assert ex.expected_objective == pytest.approx(3 * (0.8 + 0.8 + 0.9) + 3 * 0.9)
    assert ex.objective == 3 * 3 + 3 * 1
    assert rec["Z1"]["priority"] == 1
    assert rec["Z2"]["priority"] is None


@pytest.mark.parametrize("seed", range(3))
def test_turnout_delays_count_as_in_the_coverage_run(seed: int, tmp_path: Path) -> None:
    """Units that leave late (a scenario's turnout delay) reach fewer nodes in time; the
    reach is checked against networkx distances plus each unit's delay, by enumeration."""
    from dataclasses import replace

    from coverage.engine.traveltime import travel_times

    case = random_case(seed + 20, tmp_path, n_units=5, n_zones=3)
    cov = analyse(case.ds)
    rng = np.random.default_rng(seed)
    delays = rng.choice([0.0, 10.0, 25.0], size=len(cov.units))
    tt = travel_times(cov.times.network, list(cov.units.officer_id), cov.units.node,
                      delay_s=delays)
    late = replace(cov, times=tt)
    dem = demand(late.zones)
    plain = expected_coverage(late, np.zeros(len(cov.units)))
    assert plain.expected_objective == plain.objective == objective(dem, tt.seconds)
    p = rng.choice([0.1, 0.4, 0.7], size=len(cov.units))
    ex = expected_coverage(late, p)
    names = list(cov.units.officer_id)
    wait = dict(zip(names, delays, strict=True))
    dist = {u: nx.single_source_dijkstra_path_length(case.D, case.units[u], weight="w")
            for u in names}
    total = 0.0
    for fails in itertools.product((False, True), repeat=len(names)):
        prob = math.prod(pu if f else 1 - pu for pu, f in zip(p, fails, strict=True))
        alive = [u for u, f in zip(names, fails, strict=True) if not f]
        total += prob * sum(
            z["weight"] for z in case.zones for v in z["nodes"]
            if any(v in dist[u] and (wait[u] + dist[u][v]) / 60.0 <= z["target_min"]
                   for u in alive))
    assert ex.expected_objective == pytest.approx(total, abs=1e-9)
