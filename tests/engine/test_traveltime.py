"""Travel-time engine: hand-checked small graphs and reference checks against networkx."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from coverage.data.network import RoadNetwork, compile_graph
from coverage.engine.traveltime import times_to, travel_times, with_units, without_units
from coverage.errors import GraphError


def line_graph() -> RoadNetwork:
    """a -60s- b -120s- c (both ways), c -30s-> d (one-way), e isolated."""
    G = nx.MultiDiGraph()
    for i, n in enumerate("abcde"):
        G.add_node(ord(n), x=71.5 + i * 0.001, y=34.0)
    for u, v, t in [("a", "b", 60), ("b", "c", 120)]:
        G.add_edge(ord(u), ord(v), travel_time=float(t))
        G.add_edge(ord(v), ord(u), travel_time=float(t))
    G.add_edge(ord("c"), ord("d"), travel_time=30.0)
    G.add_edge(ord("c"), ord("d"), travel_time=90.0)  # slower parallel edge: ignored
    return compile_graph(G)


def idx(net: RoadNetwork, name: str) -> int:
    return int(net.index_of([ord(name)])[0])


def test_hand_checked_line() -> None:
    net = line_graph()
    tt = travel_times(net, ["U1", "U2"], [idx(net, "a"), idx(net, "d")])
    by_name = {n: tt.minutes[idx(net, n)] for n in "abcde"}
    assert by_name == {"a": 0.0, "b": 1.0, "c": 3.0, "d": 0.0, "e": np.inf}
    assert [tt.nearest_unit_id[idx(net, n)] for n in "abcde"] == ["U1", "U1", "U1", "U2", None]
    assert tt.unreachable == 1


def test_parallel_edges_fastest_counts() -> None:
    net = line_graph()
    c, d = idx(net, "c"), idx(net, "d")
    assert net.csr[c, d] == 30.0


def test_no_units_is_all_unreachable() -> None:
    net = line_graph()
    tt = travel_times(net, [], [])
    assert np.isinf(tt.seconds).all()
    assert (tt.nearest == -1).all()


def test_remove_every_unit_gives_empty_answer() -> None:
    net = line_graph()
    tt = without_units(travel_times(net, ["U1"], [idx(net, "a")]), ["U1"])
    assert np.isinf(tt.seconds).all()
    assert tt.unit_ids == ()


def test_units_sharing_a_node() -> None:
    net = line_graph()
    tt = travel_times(net, ["U1", "U2"], [idx(net, "b"), idx(net, "b")])
    assert tt.nearest_unit_id[idx(net, "a")] == "U1"
    after = without_units(tt, ["U1"])
    assert after.nearest_unit_id[idx(net, "a")] == "U2"
    assert after.minutes[idx(net, "a")] == 1.0


def test_zero_time_edge_is_an_edge() -> None:
    G = nx.MultiDiGraph()
    G.add_nodes_from([(1, {"x": 0.0, "y": 0.0}), (2, {"x": 0.0, "y": 0.0})])
    G.add_edge(1, 2, travel_time=0.0)
    tt = travel_times(compile_graph(G), ["U"], [0])
    assert tt.seconds.tolist() == [0.0, 0.0]
    assert tt.nearest.tolist() == [0, 0]


def test_bad_unit_nodes() -> None:
    net = line_graph()
    with pytest.raises(GraphError, match="unit_nodes"):
        travel_times(net, ["U"], [99])
    with pytest.raises(GraphError, match="unit_ids has 2 entries"):
        travel_times(net, ["U", "V"], [0])


def test_times_to_hand_checked() -> None:
    net = line_graph()
    rows = times_to(net, [idx(net, "c")], limit_s=[150.0])
    got = {n: rows[0, idx(net, n)] for n in "abcde"}
    # a->c is 180 s, beyond the 150 s limit: not searched
    assert got == {"a": np.inf, "b": 120.0, "c": 0.0, "d": np.inf, "e": np.inf}


def random_network(seed: int, n: int = 80, m: int = 220) -> tuple[RoadNetwork, nx.DiGraph]:
    """A random directed multigraph and, independently, its fastest-edge DiGraph."""
    rng = random.Random(seed)
    base = nx.gnm_random_graph(n, m, seed=seed, directed=True)
    G = nx.MultiDiGraph()
    for v in base:
        G.add_node(v + 1000, x=rng.uniform(71.4, 71.7), y=rng.uniform(33.9, 34.1))
    D = nx.DiGraph()
    D.add_nodes_from(G)
    for u, v in base.edges():
        for _ in range(1 + (rng.random() < 0.2)):
            t = rng.choice([0.0, 5.0, 10.0, rng.uniform(1, 300)])
            G.add_edge(u + 1000, v + 1000, travel_time=t)
            if not D.has_edge(u + 1000, v + 1000) or D[u + 1000][v + 1000]["w"] > t:
                D.add_edge(u + 1000, v + 1000, w=t)
    return compile_graph(G), D


def reference(net: RoadNetwork, D: nx.DiGraph, nodes: list[int]) -> np.ndarray:
    ids = [int(net.node_id[i]) for i in nodes]
    dist = nx.multi_source_dijkstra_path_length(D, set(ids), weight="w") if ids else {}
    return np.array([dist.get(int(v), np.inf) for v in net.node_id])


def check_nearest(net: RoadNetwork, D: nx.DiGraph, tt) -> None:
    for i in range(net.n_nodes):
        if tt.nearest[i] >= 0:
            src = int(net.node_id[tt.unit_nodes[tt.nearest[i]]])
            path = nx.dijkstra_path_length(D, src, int(net.node_id[i]), weight="w")
            assert path == pytest.approx(tt.seconds[i], abs=1e-9)
        else:
            assert np.isinf(tt.seconds[i])


@pytest.mark.parametrize("seed", range(25))
def test_reference_random_graphs(seed: int) -> None:
    net, D = random_network(seed)
    rng = random.Random(seed)
    nodes = [*rng.sample(range(net.n_nodes), 8), 0]
    ids = [f"u{k}" for k in range(len(nodes))]
    tt = travel_times(net, ids, nodes)
    np.testing.assert_allclose(tt.seconds, reference(net, D, nodes))
    check_nearest(net, D, tt)

    removed = rng.sample(ids, 4)
    after = without_units(tt, removed)
    kept = [n for n, u in zip(nodes, ids, strict=True) if u not in removed]
    np.testing.assert_allclose(after.seconds, reference(net, D, kept))
    check_nearest(net, D, after)
    full = travel_times(net, list(after.unit_ids), after.unit_nodes)
    np.testing.assert_allclose(after.seconds, full.seconds)

    added = with_units(after, ["r1", "r2"], [3, 7])
    np.testing.assert_allclose(added.seconds, reference(net, D, [*kept, 3, 7]))
    check_nearest(net, D, added)


@pytest.mark.parametrize("seed", range(5))
def test_times_to_reference(seed: int) -> None:
    net, D = random_network(seed)
    targets = [0, 5, 9]
    limits = [60.0, 200.0, np.inf]
    rows = times_to(net, targets, limit_s=limits)
    R = D.reverse(copy=True)
    for row, t, lim in zip(rows, targets, limits, strict=True):
        dist = nx.single_source_dijkstra_path_length(R, int(net.node_id[t]), weight="w")
        want = np.array([dist.get(int(v), np.inf) for v in net.node_id])
        want[want > lim] = np.inf
        np.testing.assert_allclose(row, want)
