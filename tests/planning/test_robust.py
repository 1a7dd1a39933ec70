"""The robust plan (``backfill(..., risk=...)``) against brute force on small random districts.

The reference enumerates every way of sending up to K reserves to the candidate stations
and computes the expected objective in closed form (``1 - prod p`` per zone node) over
plain networkx Dijkstra times (tests/support/planning_cases.py); it reads nothing of the
optimiser, the reach matrix or :mod:`coverage.planning.expected`.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import pytest

from coverage.engine.analysis import analyse
from coverage.errors import DataError
from coverage.planning.backfill import backfill, backfill_dict
from coverage.planning.robust import RefusalRisk
from tests.support.planning_cases import Case, random_case


def _expected(case: Case, units: list[tuple[int, float]]) -> float:
    """Expected objective of units (node id, refusal probability) by networkx Dijkstra."""
    dists = [(nx.single_source_dijkstra_path_length(case.D, v, weight="w"), p)
             for v, p in units]
    total = 0.0
    for z in case.zones:
        for v in z["nodes"]:
            fail = 1.0
            for d, p in dists:
                if v in d and d[v] / 60.0 <= z["target_min"]:
                    fail *= p
            total += z["weight"] * (1.0 - fail)
    return total


def _units(case: Case, cov, risk: RefusalRisk) -> list[tuple[int, float]]:
    station = dict(zip(cov.units.officer_id, cov.units.station_id, strict=True))
    return [(v, risk.station_p.get(station[u], risk.default_p)) for u, v in case.units.items()]


def _reserves(case: Case) -> list[tuple[str, str]]:
    ro = case.ds.officers
    res = ro.loc[ro["status"] == "reserve"]
    return list(zip(res["officer_id"], res["station_id"], strict=True))


def _brute(case: Case, cov, risk: RefusalRisk, k: int) -> float:
    """Best expected objective over every choice of <= k reserves and their stations."""
    base = _units(case, cov, risk)
    sites = sorted(set(case.stations.values()))
    best = _expected(case, base)
    for n in range(1, k + 1):
        for chosen in itertools.combinations(_reserves(case), n):
            ps = [risk.station_p.get(h, risk.default_p) for _, h in chosen]
            for where in itertools.product(sites, repeat=n):
                best = max(best, _expected(case, base + list(zip(where, ps, strict=True))))
    return best


def _plan_expected(case: Case, cov, risk: RefusalRisk, bf) -> float:
    home = dict(_reserves(case))
    node = {int(v): int(v) for v in case.stations.values()}
    placed = [(node[o.node_id], risk.station_p.get(home[o.officer_id], risk.default_p))
              for o in bf.placed]
    return _expected(case, _units(case, cov, risk) + placed)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("k", [1, 2])
def test_one_probability_plan_is_the_brute_force_optimum(seed: int, k: int,
                                                         tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_units=4, n_reserves=3)
    cov = analyse(case.ds)
    risk = RefusalRisk(station_p={}, default_p=[0.1, 0.3, 0.5, 0.02][seed % 4])
    bf = backfill(cov, k, risk=risk)
    assert bf.method == "mexclp"
    assert bf.optimal
    best = _brute(case, cov, risk, k)
    assert bf.expected_after == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert _plan_expected(case, cov, risk, bf) == pytest.approx(bf.expected_after, abs=1e-9)
    assert bf.expected_before == pytest.approx(_expected(case, _units(case, cov, risk)),
                                               abs=1e-9)
    assert bf.expected_bound == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert sum(o.gain for o in bf.placed) == pytest.approx(bf.expected_after
                                                           - bf.expected_before, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_greedy_with_probabilities_by_station_within_its_bound(seed: int,
                                                               tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_units=4, n_reserves=3)
    cov = analyse(case.ds)
    levels = [0.02, 0.1, 0.3, 0.6]
    risk = RefusalRisk(station_p={s: levels[i % 4] for i, s in enumerate(case.stations)},
                       default_p=0.02)
    bf = backfill(cov, 2, risk=risk)
    assert bf.method == "greedy"
    assert bf.expected_after is not None
    assert bf.expected_bound is not None
    best = _brute(case, cov, risk, 2)
    got = _plan_expected(case, cov, risk, bf)
    assert got == pytest.approx(bf.expected_after, abs=1e-9)
    assert best <= bf.expected_bound + 1e-9
    # greedy carries no guarantee of the optimum, but on these eight districts it reaches it
    assert got == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_greedy_sends_the_reserve_least_likely_to_refuse(seed: int, tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_units=4, n_reserves=4)
    cov = analyse(case.ds)
    homes = sorted({h for _, h in _reserves(case)})
    if len(homes) < 2:
        pytest.skip("every reserve at one station")
    risk = RefusalRisk(station_p={h: 0.6 - 0.1 * i for i, h in enumerate(homes)},
                       default_p=0.02)
    bf = backfill(cov, 1, risk=risk)
    assert [o.from_station for o in bf.placed] in ([], [homes[-1]])


def test_json_adds_the_expected_objective(tmp_path: Path) -> None:
    case = random_case(1, tmp_path)
    cov = analyse(case.ds)
    plain = backfill_dict(backfill(cov, 2))
    assert "expected_objective_before" not in plain
    rec = backfill_dict(backfill(cov, 2, risk=RefusalRisk({}, 0.1)))
    assert rec["expected_objective_before"] <= rec["expected_objective_after"]
    assert rec["objective_before"] == plain["objective_before"]
    assert any("MEXCLP" in n for n in rec["notes"])


def test_robust_with_moves_is_refused(tmp_path: Path) -> None:
    cov = analyse(random_case(0, tmp_path).ds)
    with pytest.raises(DataError, match=r"robust.*moves"):
        backfill(cov, 1, moves=1, risk=RefusalRisk({}, 0.1))


@pytest.mark.parametrize("seed", range(4))
def test_greedy_with_one_probability_stays_within_its_bound(seed: int, tmp_path: Path) -> None:
    case = random_case(seed, tmp_path, n_units=4, n_reserves=3)
    cov = analyse(case.ds)
    risk = RefusalRisk(station_p={}, default_p=0.3)
    exact = backfill(cov, 2, risk=risk)
    greedy = backfill(cov, 2, risk=risk, method="greedy")
    assert greedy.method == "greedy"
    assert greedy.expected_after <= exact.expected_after + 1e-9
    assert exact.expected_after <= greedy.expected_bound + 1e-6
    assert _plan_expected(case, cov, risk, greedy) == pytest.approx(greedy.expected_after,
                                                                    abs=1e-9)
