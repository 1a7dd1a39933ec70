"""Backfill with moves (DATA.md): the plan equals brute force over every placement of up to K
reserves and every move of up to M on-duty officers, recomputed with plain networkx."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import networkx as nx
import pytest

from coverage.cli.main import main
from coverage.engine.analysis import analyse
from coverage.errors import DataError
from coverage.planning.backfill import MOVE_KEYS, backfill, backfill_dict
from tests.support.planning_cases import random_case, reference_objective

DATA_MD_MOVE_KEYS = {"officer_id", "from_station", "site", "node_id", "lat", "lon",
                     "travel_min", "gain"}


def reference(case, cov, k: int, m: int, *, max_move_s: float = math.inf):
    """Best (objective, -officers short, -orders, -travel) over every plan, with networkx.

    A move needs a road path from the officer's node to the site (within ``max_move_s``).
    """
    units = {o: int(cov.times.network.node_id[n])
             for o, n in zip(cov.units.officer_id, cov.units.node, strict=True)}
    sites = sorted(set(case.stations.values()))
    R = case.D.reverse(copy=True)
    anchors = [int(cov.times.network.node_id[a]) for a in cov.zones.anchor]
    reach = [nx.single_source_dijkstra_path_length(R, a, weight="w") for a in anchors]
    travel = {u: nx.single_source_dijkstra_path_length(case.D, v, weight="w")
              for u, v in units.items()}

    def short(nodes: list[int]) -> int:
        total = 0
        for i, z in enumerate(case.zones):
            limit = z["target_min"] * 60.0
            within = sum(1 for v in nodes if reach[i].get(v, math.inf) <= limit)
            total += max(0, z["min_officers"] - within)
        return total

    best = None
    for j in range(k + 1):
        for placed in itertools.combinations_with_replacement(sites, j):
            for n_moves in range(m + 1):
                for who in itertools.combinations(sorted(units), n_moves):
                    for where in itertools.product(sites, repeat=n_moves):
                        secs = [travel[u].get(s, math.inf) for u, s in zip(who, where,
                                                                           strict=True)]
                        if not all(math.isfinite(t) and t <= max_move_s for t in secs):
                            continue
                        final = [v for u, v in units.items() if u not in who]
                        final += [*placed, *where]
                        key = (reference_objective(case, final), -short(final),
                               -(j + n_moves), -sum(secs))
                        best = key if best is None or key > best else best
    return best


@pytest.mark.parametrize(("seed", "n_units"), [(s, 4) for s in range(6)]
                         + [(s, 6) for s in (8, 9, 11, 14)])
def test_plan_equals_brute_force(tmp_path: Path, seed: int, n_units: int) -> None:
    case = random_case(seed, tmp_path, n_units=n_units, n_reserves=2, n_stations=4,
                       n_zones=3 if n_units == 4 else 4)
    cov = analyse(case.ds, suspended=["U0"])
    units = {o: int(cov.times.network.node_id[n])
             for o, n in zip(cov.units.officer_id, cov.units.node, strict=True)}
    for k, m in itertools.product(range(3), range(3)):
        bf = backfill(cov, k, moves=m, method="exact")
        best = reference(case, cov, k, m)
        assert bf.optimal
        assert bf.objective_after == pytest.approx(best[0]), (k, m)
        assert bf.after.overall.officers_short == -best[1], (k, m)
        assert len(bf.placed) + len(bf.moves) == -best[2], (k, m)
        # the plan's final units, measured independently
        gone = {o.officer_id for o in bf.moves}
        final = [v for u, v in units.items() if u not in gone]
        final += [o.node_id for o in (*bf.placed, *bf.moves)]
        assert reference_objective(case, final) == pytest.approx(bf.objective_after)
        assert sum(o.travel_min for o in bf.moves) * 60 == pytest.approx(-best[3]), (k, m)
        assert bf.objective_after - bf.objective_before == pytest.approx(
            sum(o.gain for o in (*bf.placed, *bf.moves)))
        assert len(bf.moves) <= m
        assert len(bf.placed) <= k
        assert gone <= set(units)  # only available on-duty officers move
        if n_units == 6 and (k, m) == (1, 2):  # these cases need moves beyond the reserve
            assert bf.moves


@pytest.mark.parametrize("seed", range(3))
def test_travel_limit(tmp_path: Path, seed: int) -> None:
    case = random_case(seed + 20, tmp_path, n_units=4, n_reserves=1, n_stations=4)
    cov = analyse(case.ds, suspended=["U0"])
    bf = backfill(cov, 0, moves=2, max_move_min=1.0)
    assert bf.objective_after == pytest.approx(reference(case, cov, 0, 2, max_move_s=60.0)[0])
    for o in bf.moves:
        start = int(cov.times.network.node_id[cov.units.node[
            cov.units.officer_id.index(o.officer_id)]])
        secs = nx.shortest_path_length(case.D, start, o.node_id, weight="w")
        assert o.travel_min == pytest.approx(secs / 60)
        assert o.travel_min <= 1.0


@pytest.mark.parametrize("seed", range(4))
def test_greedy_within_its_bound(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=5, n_reserves=1, n_zones=4)
    cov = analyse(case.ds, suspended=["U0", "U1"])
    exact = backfill(cov, 1, moves=2, candidates="nodes", method="exact")
    greedy = backfill(cov, 1, moves=2, candidates="nodes", method="greedy")
    assert greedy.method == "greedy"
    assert any("greedy" in n for n in greedy.notes)
    assert exact.objective_after <= greedy.bound + 1e-9
    assert greedy.objective_after >= greedy.objective_before
    assert greedy.objective_after <= exact.objective_after + 1e-9
    if greedy.optimal:
        assert greedy.objective_after == pytest.approx(exact.objective_after)


def test_suspended_officers_never_move(tmp_path: Path) -> None:
    case = random_case(5, tmp_path, n_units=5, n_reserves=0)
    cov = analyse(case.ds, suspended=["U0", "U1", "U2"])
    bf = backfill(cov, 0, moves=5)
    assert {o.officer_id for o in bf.moves} <= {"U3", "U4"}
    with pytest.raises(DataError, match="moves: give a whole number"):
        backfill(cov, 0, moves=-1)
    with pytest.raises(DataError, match="max_move_min: give a finite number of minutes"):
        backfill(cov, 0, moves=1, max_move_min=-2)


def test_json_moves_have_the_data_md_keys(tmp_path: Path) -> None:
    case = random_case(1, tmp_path, n_units=5, n_reserves=0)
    cov = analyse(case.ds, suspended=["U0"])
    for seed_moves in (1, 2, 3):
        record = backfill_dict(backfill(cov, 0, moves=seed_moves))
        json.dumps(record, allow_nan=False)
        assert set(MOVE_KEYS) == DATA_MD_MOVE_KEYS
        for move in record["moves"]:
            assert set(move) == DATA_MD_MOVE_KEYS
        assert {"placements", "objective_before", "objective_after", "optimal"} <= set(record)


def test_cli_moves(tiny_inputs: dict[str, Path], capsys) -> None:
    p = tiny_inputs
    args = ["backfill", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), "--candidates", "nodes", "--reserves", "0",
            "--moves", "2", "--max-move-min", "5", "--format", "json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["moves_requested"], out["max_move_min"], out["reserves_placed"]) == (2, 5.0, 0)
    assert all(set(mv) == DATA_MD_MOVE_KEYS for mv in out["moves"])
    assert all(mv["travel_min"] <= 5.0 for mv in out["moves"])
    assert out["objective_after"] >= out["objective_before"]
    with pytest.raises(SystemExit) as exc:
        main([*args[:-8], "--reserves", "0", "--moves", "-1"])
    assert exc.value.code == 2
    assert "--moves" in capsys.readouterr().err
