"""Grouped bounded searches: exactly reach_to's figures (same nodes, same seconds to the
last bit), and the nodes within each limit those of plain networkx Dijkstra, on random
grid districts large enough that cells are searched together."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest

from coverage.data.network import compile_graph
from coverage.engine.traveltime import reach_to
from coverage.planning import _groups
from coverage.planning._groups import reach_grouped


def grid_network(seed: int, side: int = 40):
    """A side x side grid (about 200 m apart) with random one-way and two-way streets."""
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    D = nx.DiGraph()
    for i in range(side * side):
        G.add_node(i, x=71.5 + (i % side) * 0.002, y=34.0 + (i // side) * 0.002)
        D.add_node(i)
    for i in range(side * side):
        for j in (i + 1 if (i + 1) % side else None, i + side if i + side < side * side else None):
            if j is None or rng.random() < 0.1:
                continue
            for u, v in ((i, j), (j, i)) if rng.random() < 0.8 else (rng.choice([(i, j), (j, i)]),):
                t = rng.uniform(12, 40)
                if rng.random() < 0.2:
                    t = 60.0  # ties between paths
                G.add_edge(u, v, travel_time=t)
                if not D.has_edge(u, v) or D[u][v]["w"] > t:
                    D.add_edge(u, v, w=t)
    return compile_graph(G), D


@pytest.mark.parametrize("seed", range(4))
def test_grouped_equals_reach_to_and_networkx(seed: int, monkeypatch) -> None:
    net, D = grid_network(seed)
    rng = np.random.default_rng(seed)
    targets = np.sort(rng.choice(net.n_nodes, size=300, replace=False))
    limits = rng.choice([45.0, 90.0, 150.0], size=targets.size)
    fell_back = []
    plain = _groups.reach_to

    def counted(net_, tgt, *, limit_s):
        fell_back.append(len(tgt))
        return plain(net_, tgt, limit_s=limit_s)

    monkeypatch.setattr(_groups, "reach_to", counted)
    got = reach_grouped(net, targets, limit_s=limits)
    assert sum(fell_back) < targets.size // 2  # most targets were searched in cells
    want = reach_to(net, targets, limit_s=limits)
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.node, want.node)
    assert np.array_equal(got.seconds, want.seconds)  # to the last bit
    R = D.reverse(copy=True)
    for z in range(0, targets.size, 7):
        tgt = int(net.node_id[targets[z]])
        dist = nx.single_source_dijkstra_path_length(R, tgt, cutoff=limits[z], weight="w")
        nodes = got.node[got.indptr[z]:got.indptr[z + 1]]
        secs = got.seconds[got.indptr[z]:got.indptr[z + 1]]
        assert sorted(dist) == sorted(int(v) for v in net.node_id[nodes])
        assert secs == pytest.approx([dist[int(v)] for v in net.node_id[nodes]])


def test_small_areas_fall_back_and_stay_exact(monkeypatch) -> None:
    # a cut-out too small for most rows: those rows go to reach_to, the result is the same
    net, _ = grid_network(7, side=20)
    monkeypatch.setattr(_groups, "SHARE", 0.2)
    targets = np.arange(0, net.n_nodes, 3)
    got = reach_grouped(net, targets, limit_s=200.0)
    want = reach_to(net, targets, limit_s=200.0)
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.node, want.node)
    assert np.array_equal(got.seconds, want.seconds)
    empty = reach_grouped(net, np.empty(0, np.int64), limit_s=100.0)
    assert empty.indptr.tolist() == [0]
    assert empty.node.size == 0
