"""Scenarios: hand-checked delays and closures on the tiny district, incremental = full runs,
files that round-trip, and bad files named by file and field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from coverage.engine.analysis import analyse
from coverage.engine.report import compare, report_dict
from coverage.errors import DataError
from coverage.planning.scenario import (
    Deployment,
    Reassignment,
    Scenario,
    apply_scenario,
)
from coverage.planning.scenario_io import load_scenario, save_scenario
from tests.support.planning_cases import random_case, reference_objective
from tests.support.tiny import T13, T43, write


def seconds(cov, node_id: int) -> float:
    return float(cov.times.seconds[cov.times.network.index_of([node_id])[0]])


def zone(cov, zone_id: str) -> dict:
    return next(z for z in report_dict(cov)["zones"] if z["zone_id"] == zone_id)


def test_turnout_delay_of_one_unit_by_hand(dataset) -> None:
    base = analyse(dataset)
    assert seconds(base, 3) == pytest.approx(T43)  # B from node 4
    cov = apply_scenario(base, Scenario(unit_turnout_s={"B": 10.0}))
    assert seconds(cov, 4) == 10.0
    assert seconds(cov, 3) == pytest.approx(T13)  # A (33.2 s) now beats B (10 + 26.7 s)
    assert seconds(cov, 1) == 0.0
    z1 = zone(cov, "Z1")
    assert z1["covered_share"] == pytest.approx(2 / 3)  # node 3 is over the 30 s target
    assert z1["officers_within_target"] == 0  # B needs 36.7 s to the anchor
    delays = dict(zip(cov.times.unit_ids, cov.times.delays.tolist(), strict=True))
    assert delays == {"A": 0.0, "B": 10.0, "D": 0.0}
    assert cov.units.officer_id == cov.times.unit_ids


def test_turnout_delay_for_every_unit_by_hand(dataset) -> None:
    cov = apply_scenario(dataset, Scenario(turnout_s=5.0))
    assert [seconds(cov, n) for n in (1, 4, 5)] == [5.0, 5.0, 5.0]
    assert seconds(cov, 3) == pytest.approx(T43 + 5.0)
    assert zone(cov, "Z1")["covered_share"] == pytest.approx(2 / 3)  # 31.7 s > 30 s
    assert zone(cov, "Z2")["officers_within_target"] == 2  # A at 5 s, B at 5 + 59.9 s


@pytest.mark.parametrize("closure", [
    {"closed_roads": ((4, 3),)},
    {"closed_areas": ("POLYGON ((71.5018 34.0004, 71.5022 34.0004, 71.5022 34.0006, "
                      "71.5018 34.0006, 71.5018 34.0004))",)},
])
def test_road_closure_by_hand(dataset, closure) -> None:
    base = analyse(dataset)
    edges, csr = dataset.network.n_edges, dataset.network.csr.copy()
    cov = apply_scenario(base, Scenario(**closure))
    assert seconds(cov, 3) == pytest.approx(T13)  # 4 -> 3 is closed: only A gets there
    assert seconds(cov, 4) == 0.0
    assert cov.times.network.n_edges == edges - 1
    assert zone(cov, "Z1")["officers_within_target"] == 0
    # the input network is untouched
    assert dataset.network.n_edges == edges
    assert (dataset.network.csr != csr).nnz == 0
    assert seconds(base, 3) == pytest.approx(T43)


def test_closure_of_unknown_roads_names_the_field(dataset) -> None:
    with pytest.raises(DataError, match=r"closed_roads\[0\]: node 99 is not in the road"):
        apply_scenario(dataset, Scenario(closed_roads=((1, 99),)))
    with pytest.raises(DataError, match=r"no road joins nodes 1 and 5"):
        apply_scenario(dataset, Scenario(closed_roads=((1, 5),)))


def test_deploy_reassign_and_remove_by_hand(dataset) -> None:
    base = analyse(dataset)
    s = Scenario(remove=("B",), deploy=(Deployment("C", node_id=4),),
                 reassign=(Reassignment("A", "S2"),))
    cov = apply_scenario(base, s)
    assert set(cov.times.unit_ids) == {"A", "C", "D"}
    assert seconds(cov, 4) == 0.0  # C stands there
    assert seconds(cov, 1) == pytest.approx(T43 + T13)  # A moved to S2 (node 5), a dead end
    assert report_dict(cov)["units"]["available"] == 3
    assert cov.suspended == ("B",)
    c_row = cov.dataset.officers.set_index("officer_id").loc["C"]
    assert (c_row["status"], c_row["lon"], c_row["lat"]) == ("on_duty", 71.502, 34.001)


def test_invalid_inputs_name_the_field(dataset) -> None:
    with pytest.raises(DataError, match=r"field remove\[0\]: officer 'X' is not in officers\.csv"
                                        r"\n.*field deploy\[0\]: officer 'E' is not an "
                                        r"available reserve or on-duty officer "
                                        r"\(status off_duty\)"):
        apply_scenario(dataset, Scenario(remove=("X",), deploy=(Deployment("E", node_id=4),)))
    # an on-duty officer deployed to a site is a move (backfill with moves)
    moved = apply_scenario(dataset, Scenario(deploy=(Deployment("D", node_id=4),)))
    assert int(moved.dataset.network.node_id[moved.units.node[
        moved.units.officer_id.index("D")]]) == 4
    with pytest.raises(DataError, match=r"field reassign\[0\]: station 'S9'"):
        apply_scenario(dataset, Scenario(reassign=(Reassignment("A", "S9"),)))
    with pytest.raises(DataError, match=r"field deploy\[0\]: give node_id, or lon and lat"):
        Scenario(deploy=(Deployment("C", node_id=4, lon=71.5, lat=34.0),))
    with pytest.raises(DataError, match=r"field turnout_s: -1.0 is not a number of seconds"):
        Scenario(turnout_s=-1)


@pytest.mark.parametrize("seed", range(4))
def test_incremental_equals_full_run(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path)
    ds = case.ds
    base = analyse(ds, suspended=["U0"])
    node = int(ds.network.node_id[7])
    s = Scenario(remove=("U1",), deploy=(Deployment("R0", node_id=node),
                                         Deployment("R1", lon=71.503, lat=34.004)),
                 reassign=(Reassignment("U2", "S1"),), unit_turnout_s={"U3": 20.0, "R0": 7.5})
    incremental = apply_scenario(base, s)
    full = apply_scenario(ds, Scenario(remove=("U0", "U1"), deploy=s.deploy,
                                       reassign=s.reassign, unit_turnout_s=s.unit_turnout_s))
    np.testing.assert_array_equal(incremental.times.seconds, full.times.seconds)
    assert report_dict(incremental)["zones"] == report_dict(full)["zones"]
    assert sorted(incremental.times.unit_ids) == sorted(full.times.unit_ids)
    # independent check of the objective: networkx from the scenario's units (no delays)
    plain = apply_scenario(base, Scenario(remove=("U1",), deploy=s.deploy))
    from coverage.planning.objective import demand, objective

    sources = [int(ds.network.node_id[n]) for n in plain.units.node]
    assert objective(demand(plain.zones), plain.times.seconds) == pytest.approx(
        reference_objective(case, sources))


def test_save_load_round_trip_and_hash(tmp_path: Path) -> None:
    s = Scenario(name="night", author="DSP Ops", remove=("B", "A", "B"),
                 deploy=(Deployment("C", lon=71.502, lat=34.001), Deployment("E", node_id=4)),
                 reassign=(Reassignment("D", "S1"),), closed_roads=((4, 3),),
                 closed_areas=("POLYGON ((0 0, 1 0, 1 1, 0 0))",), turnout_s=30,
                 unit_turnout_s={"D": 60})
    saved = save_scenario(s, tmp_path / "night.json")
    assert saved.created is not None
    assert saved.created[-6] in "+-"  # ISO 8601 with an offset
    again = load_scenario(tmp_path / "night.json")
    assert again == saved
    assert again.sha256 == s.sha256
    record = json.loads((tmp_path / "night.json").read_text())
    assert record["sha256"] == s.sha256
    # the hash is of the canonical inputs only, written out independently here
    canonical = {
        "remove": ["A", "B"],
        "deploy": [{"officer_id": "C", "lon": 71.502, "lat": 34.001},
                   {"officer_id": "E", "node_id": 4}],
        "reassign": [{"officer_id": "D", "station_id": "S1"}],
        "closed_roads": [[3, 4]],
        "closed_areas": ["POLYGON ((0 0, 1 1, 1 0, 0 0))"],
        "turnout_s": 30.0,
        "unit_turnout_s": {"D": 60.0},
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    assert s.sha256 == hashlib.sha256(text.encode()).hexdigest()
    same = Scenario(name="other", remove=("A", "B"), deploy=tuple(reversed(s.deploy)),
                    reassign=s.reassign, closed_roads=((3, 4),), closed_areas=s.closed_areas,
                    turnout_s=30.0, unit_turnout_s=(("D", 60.0),))
    assert same.sha256 == s.sha256
    assert Scenario(remove=("A",)).sha256 != s.sha256


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('{"format": "seccov-scenario/1", "inputs": {', r"bad\.json: not valid JSON at line 1"),
        ("[1, 2]", r"bad\.json: expected a JSON object"),
        ('{"format": "seccov-scenario/1", "name": "x", "inputs": {"deploy": '
         '[{"officer_id": "C", "node_id": "four"}]}}',
         r"bad\.json: field 'inputs\.deploy\[0\]\.node_id': expected an integer"),
        ('{"format": "seccov-scenario/1", "inputs": {"remove": "A", "closures": []}}',
         r"bad\.json: field 'inputs\.closures': unknown field(.|\n)*"
         r"field 'inputs\.remove': expected a list"),
        ('{"format": "other", "inputs": {}}', r"bad\.json: field 'format'"),
        ('{"format": "seccov-scenario/1", "inputs": {"turnout_s": -5}}',
         r"bad\.json: scenario 'scenario': field turnout_s"),
        ('{"format": "seccov-scenario/1", "sha256": "abc", "inputs": {}}',
         r"bad\.json: field 'sha256': 'abc' does not match"),
        ('{"format": "seccov-scenario/1", "created": "2026-11-25T08:00:00", "inputs": {}}',
         r"bad\.json: scenario 'scenario': field created: .* offset"),
    ],
)
def test_bad_scenario_file_names_file_and_field(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        load_scenario(write(tmp_path / "bad.json", text))


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.json: file not found"):
        load_scenario(tmp_path / "nope.json")


def test_compare_side_by_side(dataset) -> None:
    base = analyse(dataset)
    what_if = apply_scenario(base, Scenario(remove=("B",)))
    table = compare(base, what_if).set_index("zone_id")
    z1 = table.loc["Z1"]
    assert (z1["objective_a"], z1["objective_b"], z1["objective_delta"]) == (9.0, 3.0, -6.0)
    assert z1["covered_share_delta"] == pytest.approx(1 / 3 - 1)
    assert z1["officers_within_target_delta"] == -1
    assert z1["max_min_a"] == pytest.approx(T43 / 60)
    assert z1["max_min_b"] is pd_na() or np.isnan(z1["max_min_b"])  # unreachable node
    assert (bool(z1["gap_a"]), bool(z1["gap_b"])) == (True, True)
    z2 = table.loc["Z2"]
    assert (z2["objective_delta"], z2["officers_within_target_delta"]) == (0.0, -1)


def pd_na():
    import pandas as pd

    return pd.NA


@pytest.mark.parametrize("seed", range(6))
def test_engine_delays_against_networkx(tmp_path: Path, seed: int) -> None:
    """Turnout delays in the engine = networkx from virtual sources ``delay`` seconds away."""
    import random

    import networkx as nx

    from coverage.engine.traveltime import times_from, travel_times, with_units, without_units

    case = random_case(seed, tmp_path)
    net = case.ds.network
    rng = random.Random(seed)
    nodes = rng.sample(range(net.n_nodes), 6)
    delays = [rng.choice([0.0, 0.0, 15.0, 40.0]) for _ in nodes]
    ids = [f"u{i}" for i in range(len(nodes))]

    def reference(chosen: list[int]) -> np.ndarray:
        G = case.D.copy()
        for i in chosen:
            G.add_edge(("v", i), int(net.node_id[nodes[i]]), w=delays[i])
        dist = nx.multi_source_dijkstra_path_length(G, {("v", i) for i in chosen}, weight="w") \
            if chosen else {}
        return np.array([dist.get(int(v), np.inf) for v in net.node_id])

    tt = travel_times(net, ids, nodes, delay_s=delays)
    np.testing.assert_allclose(tt.seconds, reference(list(range(6))))
    for i in range(net.n_nodes):
        if tt.nearest[i] >= 0:  # the nearest unit's own delayed time is the node's time
            u = int(tt.nearest[i])
            row = times_from(net, [nodes[u]], delay_s=[delays[u]])[0]
            assert row[i] == pytest.approx(tt.seconds[i])
    after = without_units(tt, ["u1", "u4"])
    np.testing.assert_allclose(after.seconds, reference([0, 2, 3, 5]))
    back = with_units(after, ["u1"], [nodes[1]], delay_s=[delays[1]])
    np.testing.assert_allclose(back.seconds, reference([0, 1, 2, 3, 5]))
    assert dict(zip(back.unit_ids, back.delays.tolist(), strict=True)) == {
        ids[i]: delays[i] for i in (0, 1, 2, 3, 5)}
    limited = times_from(net, nodes, delay_s=delays, limit_s=60.0, columns=[0, 1, 2])
    for r in range(6):
        want = reference([r])[[0, 1, 2]]
        want[want > 60.0] = np.inf
        np.testing.assert_allclose(limited[r], want)
