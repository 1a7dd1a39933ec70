"""Backfill: hand-checked on the tiny district, exact against brute force with networkx,
greedy within its bound, and the CLI's JSON contract."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from coverage.cli.main import main
from coverage.data.dataset import load_dataset
from coverage.engine.analysis import analyse
from coverage.errors import DataError, DataWarning
from coverage.planning.backfill import (
    Sites,
    backfill,
    backfill_dict,
    candidate_sites,
    coverage_matrix,
    read_area,
)
from coverage.planning.objective import demand
from tests.support.planning_cases import WEIGHT, random_case, reference_objective
from tests.support.tiny import write


@pytest.fixture
def suspended_b(tiny_inputs: dict[str, Path]):
    p = tiny_inputs
    return analyse(load_dataset(p["roads"], p["stations"], p["zones"], p["officers"]),
                   suspended=["B"])


def test_tiny_by_hand(suspended_b) -> None:
    # Without B: Z1 keeps node 5 (D), loses 3 (A needs 33.2 s > 30 s) and 4 (unreachable);
    # Z2 keeps node 1 (A). Weights 3 (priority 1) and 3 (none): 3 + 3 = 6.
    bf = backfill(suspended_b, 1, candidates="nodes")
    assert (bf.objective_before, bf.objective_after, bf.objective_max) == (6.0, 12.0, 12.0)
    assert bf.optimal
    assert bf.method == "milp"
    (move,) = bf.placed
    assert bf.moves == ()
    assert (move.officer_id, move.from_station, move.site, move.node_id) == ("C", "S2", "4", 4)
    assert move.gain == 6.0
    assert move.officers_short_reduced == 1  # Z1's anchor (node 3) is 26.7 s from node 4
    assert move.travel_min is None  # C stands at node 5, a dead end
    assert any("cannot reach site 4" in n for n in bf.notes)
    assert bf.after.overall.officers_short == bf.before.overall.officers_short - 1
    # stations only: S1 (node 1) and S2 (node 5) add nothing, so nobody moves
    none = backfill(suspended_b, 1)
    assert none.placed == ()
    assert none.objective_after == 6.0
    assert none.optimal


def test_turnout_and_area_by_hand(suspended_b, tmp_path: Path) -> None:
    # 5 s late from node 4: node 3 at 31.7 s misses the 30 s target; node 4 alone adds 3
    assert backfill(suspended_b, 1, candidates="nodes", turnout_s=5).objective_after == 9.0
    area = write(tmp_path / "area.geojson", json.dumps({
        "type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                   "geometry": shapely.geometry.mapping(
                                                       shapely.box(71.5019, 33.9999, 71.5021,
                                                                   34.0001))}]}))
    bf = backfill(suspended_b, 1, candidates="nodes", area=read_area(area))
    assert [m.site for m in bf.placed] == ["3"]
    assert bf.objective_after == 9.0
    with pytest.raises(DataError, match=r"area: no candidate node lies inside"):
        backfill(suspended_b, 1, candidates="nodes", area=shapely.box(0, 0, 1, 1))
    with pytest.raises(DataError, match=r"broken\.geojson: cannot be read"):
        read_area(write(tmp_path / "broken.geojson", "{"))


def test_reserves_are_never_invented(suspended_b) -> None:
    with pytest.warns(DataWarning, match="3 reserves requested but only 1 reserve officer"):
        bf = backfill(suspended_b, 3, candidates="nodes")
    assert len(bf.placed) == 1
    assert bf.reserves_available == 1
    with pytest.raises(DataError, match="reserves: give a whole number"):
        backfill(suspended_b, -1)


@pytest.mark.parametrize(("kw", "says"), [
    ({"turnout_s": math.nan}, "turnout_s: give a finite number of seconds >= 0, got nan"),
    ({"turnout_s": math.inf}, "turnout_s: give a finite number of seconds >= 0, got inf"),
    ({"moves": 1, "max_move_min": math.inf},
     "max_move_min: give a finite number of minutes >= 0"),
])
def test_non_finite_times_are_named(suspended_b, kw, says) -> None:
    with pytest.raises(DataError, match=re.escape(says)):
        backfill(suspended_b, 1, **kw)


def to_anchor(case, cov) -> list[dict[int, float]]:
    R = case.D.reverse(copy=True)
    return [nx.single_source_dijkstra_path_length(R, int(cov.times.network.node_id[a]),
                                                  weight="w") for a in cov.zones.anchor]


def brute_force(case, cov, sites: list[int], k: int):
    """Best (objective, officers short removed) over every placement of <= k units."""
    units = [int(cov.times.network.node_id[n]) for n in cov.units.node]
    reach = to_anchor(case, cov)

    def within(z: int, nodes: list[int]) -> int:
        limit = case.zones[z]["target_min"] * 60.0
        return sum(1 for v in nodes if reach[z].get(v, math.inf) <= limit)

    best = (-1.0, -1.0)
    for j in range(k + 1):
        for placed in itertools.combinations_with_replacement(sites, j):
            value = reference_objective(case, [*units, *placed])
            short = sum((
                max(0, case.zones[z]["min_officers"] - within(z, units))
                - max(0, case.zones[z]["min_officers"] - within(z, [*units, *placed])))
                for z in range(len(case.zones)))
            best = max(best, (value, float(short)))
    return best


@pytest.mark.parametrize("seed", range(10))
def test_exact_equals_brute_force(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_reserves=3)
    cov = analyse(case.ds, suspended=["U0"])
    k = 1 + seed % 3
    bf = backfill(cov, k, method="exact")
    best = brute_force(case, cov, sorted(case.stations.values()), k)
    assert bf.optimal
    assert bf.objective_after == pytest.approx(best[0])
    # the plan itself, measured independently
    units = [int(cov.times.network.node_id[n]) for n in cov.units.node]
    assert reference_objective(case, [*units, *(m.node_id for m in bf.placed)]) == \
        pytest.approx(bf.objective_after)
    short_w = sum((b - a) for b, a in (zip(
        bf.before.table["officers_within_target"].rsub(bf.before.table["min_officers"])
        .clip(lower=0), bf.after.table["officers_within_target"].rsub(
            bf.after.table["min_officers"]).clip(lower=0), strict=True)))
    assert short_w == pytest.approx(best[1])
    assert bf.objective_after - bf.objective_before == pytest.approx(
        sum(m.gain for m in bf.placed))
    assert len(bf.placed) <= min(k, 3)


@pytest.mark.parametrize("seed", range(8))
def test_greedy_meets_its_bound(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=3, n_reserves=3, n_zones=4)
    cov = analyse(case.ds)
    exact = backfill(cov, 3, candidates="nodes", method="exact")
    greedy = backfill(cov, 3, candidates="nodes", method="greedy")
    assert greedy.method == "greedy"
    best_gain = exact.objective_after - exact.objective_before
    assert greedy.objective_after - greedy.objective_before >= (1 - 1 / math.e) * best_gain - 1e-9
    assert exact.objective_after <= greedy.bound + 1e-9
    if greedy.optimal:
        assert greedy.objective_after == pytest.approx(exact.objective_after)
    gains = [m.gain for m in greedy.placed]
    assert gains == sorted(gains, reverse=True)


def test_moves_take_the_nearest_reserve(tmp_path: Path) -> None:
    case = random_case(3, tmp_path, n_reserves=4)
    cov = analyse(case.ds, suspended=["U0", "U1"])
    bf = backfill(cov, 4, candidates="nodes", site_capacity=1)
    assert len({m.site for m in bf.placed}) == len(bf.placed)
    home = {f"R{i}": case.stations[s] for i, s in enumerate(
        cov.dataset.officers.set_index("officer_id").loc[[f"R{i}" for i in range(4)],
                                                         "station_id"])}
    free = set(home)
    for m in bf.placed:
        dist = {r: nx.shortest_path_length(case.D, home[r], m.node_id, weight="w")
                if nx.has_path(case.D, home[r], m.node_id) else math.inf for r in free}
        assert dist[m.officer_id] == pytest.approx(min(dist.values()))
        if m.travel_min is not None:
            assert m.travel_min == pytest.approx(dist[m.officer_id] / 60)
        free.remove(m.officer_id)


def cli_args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["backfill", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), *extra]


def test_cli_json_contract(tiny_inputs, capsys, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert main(cli_args(tiny_inputs, "--reserves", "1", "--candidates", "nodes",
                         "--format", "json", "--save-scenario", str(saved))) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"placements", "objective_before", "objective_after", "optimal"} <= set(out)
    (place,) = out["placements"]
    assert {"site", "lat", "lon", "count"} <= set(place)
    assert (place["site"], place["lat"], place["lon"], place["count"]) == ("4", 34.001, 71.502, 1)
    assert place["officers"] == ["C"]
    assert (out["objective_before"], out["objective_after"], out["optimal"]) == (6, 12, True)
    assert json.loads(saved.read_text())["inputs"]["deploy"] == [
        {"officer_id": "C", "node_id": 4}]
    # the saved deployment opens again as a scenario
    assert main(["criticality", *cli_args(tiny_inputs)[1:], "--scenario", str(saved),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["objective"] == 12


def test_cli_reserves_beyond_pool_and_negative(tiny_inputs, capsys) -> None:
    assert main(cli_args(tiny_inputs, "--reserves", "5", "--candidates", "nodes")) == 0
    captured = capsys.readouterr()
    assert "warning: backfill: 5 reserves requested but only 1" in captured.err
    assert "Objective 6 -> 12 of 12 (optimal, milp" in captured.out
    with pytest.raises(SystemExit) as exc:  # argparse refuses it
        main(cli_args(tiny_inputs, "--reserves", "-2", "--format", "json"))
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "error: argument --reserves: must be a whole number >= 0" in captured.err
    assert captured.out == ""
    assert "Traceback" not in captured.err


def test_dict_is_json_safe(suspended_b) -> None:
    record = backfill_dict(backfill(suspended_b, 1, candidates="nodes"))
    json.dumps(record, allow_nan=False)
    assert record["deployments"][0]["travel_min"] is None
    assert record["moves"] == []
    assert record["reserves_placed"] == 1
    assert WEIGHT[None] == 3


def test_module_entry_point_prints_only_json(tiny_inputs) -> None:
    import subprocess
    import sys

    from tests.support.tiny import ROOT

    run = subprocess.run(
        [sys.executable, "-m", "coverage", "-q", *cli_args(tiny_inputs, "--reserves", "1",
                                                           "--candidates", "nodes",
                                                           "--format", "json")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["objective_after"] == 12  # no solver banner on stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("seed", range(8))
def test_cover_matrix_equals_networkx(tmp_path: Path, seed: int) -> None:
    """The sparse backward cover matrix (reach_to) is the plain per-site Dijkstra's."""
    case = random_case(seed, tmp_path, n_units=2, n_zones=5)
    cov = analyse(case.ds)
    net = cov.times.network
    dem = demand(cov.zones)
    rng = np.random.default_rng(seed)
    every = candidate_sites(cov, kind="nodes")
    some = np.sort(rng.choice(net.n_nodes, size=net.n_nodes // 2, replace=False))
    for sites in (every, Sites(node=some, label=(), kind="nodes")):
        for turnout_s in (0.0, 25.0, 70.0):
            cover, items = coverage_matrix(cov, dem, sites, turnout_s=turnout_s)
            assert sites.node.size > np.unique(dem.node[items]).size  # the backward branch
            want = np.zeros((items.size, sites.node.size), dtype=bool)
            for s, node in enumerate(sites.node.tolist()):
                dist = nx.single_source_dijkstra_path_length(
                    case.D, int(net.node_id[node]), weight="w")
                for i, item in enumerate(items.tolist()):
                    v = int(net.node_id[dem.node[item]])
                    want[i, s] = v in dist and \
                        (dist[v] + turnout_s) / 60.0 <= dem.target_min[item]
            assert np.array_equal(cover.toarray(), want)
