"""Sparse anchor reach: equal to the dense search and to plain networkx on small cases."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import RoadNetwork, compile_graph, great_circle_m
from coverage.engine import traveltime
from coverage.engine.traveltime import reach_to, times_from, times_to, with_sources
from tests.engine.test_traveltime import line_graph, random_network


def geo_grid(seed: int, side: int = 24) -> tuple[RoadNetwork, nx.DiGraph]:
    """A jittered street grid whose times follow the geometry (speeds 20..60 km/h), some
    one-way streets and missing segments, and its fastest-edge DiGraph."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    for i in range(side):
        for j in range(side):
            G.add_node(i * side + j, x=71.5 + (j + rng.uniform(-0.2, 0.2)) * 0.0009,
                       y=34.0 + (i + rng.uniform(-0.2, 0.2)) * 0.0007)
    D = nx.DiGraph()
    D.add_nodes_from(G)

    def add(u: int, v: int, kph: float) -> None:
        metres = float(great_circle_m(G.nodes[u]["x"], G.nodes[u]["y"],
                                      G.nodes[v]["x"], G.nodes[v]["y"]))
        t = metres / (kph / 3.6) * rng.choice([1.0, 1.0, 1.3])
        G.add_edge(u, v, travel_time=t)
        if not D.has_edge(u, v) or D[u][v]["w"] > t:
            D.add_edge(u, v, w=t)

    for i in range(side):
        for j in range(side):
            here = i * side + j
            for v in ([here + 1] if j + 1 < side else []) + (
                    [here + side] if i + 1 < side else []):
                if rng.random() < 0.05:
                    continue
                kph = 60.0 if (i % 8 == 4 or j % 8 == 4) else rng.choice([20.0, 30.0])
                one = rng.random()
                if one >= 0.1:
                    add(here, v, kph)
                if one < 0.1 or one >= 0.2:
                    add(v, here, kph)
    return compile_graph(G), D


def networkx_reach(net: RoadNetwork, D: nx.DiGraph, target: int, limit: float) -> np.ndarray:
    dist = nx.single_source_dijkstra_path_length(D.reverse(copy=False),
                                                 int(net.node_id[target]), weight="w")
    want = np.array([dist.get(int(v), np.inf) for v in net.node_id])
    want[want > limit] = np.inf
    return want


@pytest.mark.parametrize("area", ["grid", "ball"])
@pytest.mark.parametrize("seed", range(6))
def test_local_searches_equal_dense_and_networkx(seed: int, area: str, monkeypatch) -> None:
    """Searches on grid-cell areas (as run) and on exact balls (tighter: some fall short and
    are widened) give the same seconds as the dense search and networkx."""
    if area == "ball":
        monkeypatch.setattr(RoadNetwork, "nodes_near", RoadNetwork.nodes_within)
    net, D = geo_grid(seed)
    calls = []
    original = traveltime.Bounded._local

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append(out is not None)
        return out

    monkeypatch.setattr(traveltime.Bounded, "_local", spy)
    rng = np.random.default_rng(seed)
    targets = rng.choice(net.n_nodes, 12, replace=False)
    limits = rng.choice([0.0, 15.0, 40.0, 90.0, 240.0, 2000.0, np.inf], 12)
    reach = reach_to(net, targets, limit_s=limits)
    dense = times_to(net, targets, limit_s=limits)
    np.testing.assert_array_equal(reach.dense(), dense)  # exactly the same seconds
    for z, (t, lim) in enumerate(zip(targets, limits, strict=True)):
        np.testing.assert_allclose(dense[z], networkx_reach(net, D, int(t), float(lim)))
        nodes, seconds = reach.row(z)
        assert np.all(np.diff(nodes) > 0)
        assert np.all(np.isfinite(seconds))
    assert any(calls), "no search stayed local"
    if area == "ball":
        assert not all(calls), "no local search was refused and widened"


@pytest.mark.parametrize("seed", range(5))
def test_zero_time_edges_fall_back_to_the_whole_graph(seed: int) -> None:
    net, D = random_network(seed)  # zero-second edges between distinct points
    assert net.max_speed_mps == np.inf
    targets, limits = [0, 5, 9], [60.0, 200.0, np.inf]
    reach = reach_to(net, targets, limit_s=limits)
    np.testing.assert_array_equal(reach.dense(), times_to(net, targets, limit_s=limits))
    for z, (t, lim) in enumerate(zip(targets, limits, strict=True)):
        np.testing.assert_allclose(reach.dense()[z], networkx_reach(net, D, t, lim))


def test_at_reads_columns_with_repeats() -> None:
    net = line_graph()
    c = int(net.index_of([ord("c")])[0])
    b = int(net.index_of([ord("b")])[0])
    a = int(net.index_of([ord("a")])[0])
    reach = reach_to(net, [c, a], limit_s=[150.0, 60.0])
    got = reach.at([b, b, c, a])
    np.testing.assert_array_equal(got, [[120.0, 120.0, 0.0, np.inf], [60.0, 60.0, np.inf, 0.0]])
    assert reach.at([]).shape == (2, 0)
    assert reach_to(net, [], limit_s=[]).dense().shape == (0, net.n_nodes)


@pytest.mark.parametrize("seed", range(6))
def test_within_equals_the_dense_comparison(seed: int) -> None:
    net, _ = geo_grid(seed, side=12)
    rng = np.random.default_rng(seed)
    targets = rng.choice(net.n_nodes, 5, replace=False)
    limits = rng.choice([30.0, 90.0, 240.0], 5)
    reach = reach_to(net, targets, limit_s=limits)
    nodes = rng.choice(net.n_nodes, 30)  # repeats on purpose
    delays = rng.choice([0.0, 0.0, 20.0, 60.0], 30)
    dense = times_to(net, targets, limit_s=limits)[:, nodes]
    np.testing.assert_array_equal(reach.within(nodes), dense <= limits[:, None])
    np.testing.assert_array_equal(reach.within(nodes, delay_s=delays, limit_s=limits),
                                  dense + delays[None, :] <= limits[:, None])
    assert reach.within([]).shape == (5, 0)


@pytest.mark.parametrize("seed", range(6))
def test_times_from_local_equals_whole_graph_search(seed: int) -> None:
    """The bounded searches give exactly the seconds of the former whole-graph search."""
    net, D = geo_grid(seed, side=16)
    rng = np.random.default_rng(seed)
    src = rng.choice(net.n_nodes, 6)
    delays = rng.choice([0.0, 15.0, 45.0], 6)
    cols = rng.choice(net.n_nodes, 40)
    for limit in (20.0, 120.0, 600.0):
        for delay in (None, delays):
            got = times_from(net, src, delay_s=delay, limit_s=limit, columns=cols)
            graph, starts = net.csr, src
            if delay is not None:
                graph = with_sources(net.csr, src, delays)
                starts = np.arange(net.n_nodes, net.n_nodes + src.size)
            want = dijkstra(graph, directed=True, indices=starts, limit=limit)
            np.testing.assert_array_equal(got, want[:, : net.n_nodes][:, cols])
    lengths = nx.single_source_dijkstra_path_length(D, int(net.node_id[src[0]]), weight="w")
    row = times_from(net, src[:1], limit_s=300.0)[0]
    for v, t in lengths.items():
        i = int(net.index_of([v])[0])
        assert row[i] == (pytest.approx(t) if t <= 300.0 else np.inf)
