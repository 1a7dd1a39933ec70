"""Search kernels: the numpy bucket search against plain networkx and scipy's Dijkstra."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from coverage.data.network import min_per_pair
from coverage.engine import search
from coverage.engine.analysis import analyse, suspend
from coverage.engine.report import report_dict
from coverage.engine.search import bucket_search, nearest_source, scipy_search
from coverage.engine.traveltime import travel_times, with_units, without_units
from tests.engine.test_traveltime import check_nearest, random_network, reference


def tie_graph(seed: int, n: int = 120, m: int = 360) -> tuple[sp.csr_array, nx.DiGraph]:
    """Random directed graph with parallel, one-way, zero-time and tied (whole-second) edges,
    and nodes nobody reaches; the CSR keeps the fastest parallel edge, like the network."""
    rng = random.Random(seed)
    D = nx.DiGraph()
    D.add_nodes_from(range(n))
    rows, cols, vals = [], [], []
    for u, v in nx.gnm_random_graph(n - 10, m, seed=seed, directed=True).edges():
        for _ in range(1 + (rng.random() < 0.3)):  # parallel edges
            t = float(rng.choice([0, 0, 1, 2, 3, 5, 8, 13, 40, 300]))
            if rng.random() < 0.2:
                t = rng.uniform(0.1, 50.0)  # awkward float sums
            rows.append(u)
            cols.append(v)
            vals.append(t)
            if not D.has_edge(u, v) or D[u][v]["w"] > t:
                D.add_edge(u, v, w=t)
    u_a, v_a, w_a = (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
                     np.array(vals))
    r, c, w = min_per_pair(u_a, v_a, w_a)
    return sp.csr_array((w, (r, c)), shape=(n, n)), D


@pytest.mark.parametrize("width", [0.05, 0.5, 2.0, 1e9])
@pytest.mark.parametrize("seed", range(12))
def test_bucket_search_equals_networkx_and_scipy(seed: int, width: float, monkeypatch) -> None:
    monkeypatch.setattr(search, "BUCKET_WIDTH_MEDIANS", width)
    g, D = tie_graph(seed)
    rng = np.random.default_rng(seed)
    sources = np.unique(rng.choice(g.shape[0], 1 + seed % 9, replace=False))
    seconds, won = bucket_search(g, sources)
    want = nx.multi_source_dijkstra_path_length(D, {int(s) for s in sources}, weight="w")
    ref = np.array([want.get(v, np.inf) for v in range(g.shape[0])])
    np.testing.assert_allclose(seconds, ref, rtol=1e-9, atol=0)
    ref_s, ref_won = scipy_search(g, sources)
    np.testing.assert_array_equal(seconds, ref_s)  # the same float sums, to the last bit
    np.testing.assert_array_equal(won < 0, ref_won < 0)
    for v in np.flatnonzero(won >= 0):  # the winner reaches the node in exactly that time
        assert won[v] in sources
        assert nx.dijkstra_path_length(D, int(won[v]), int(v), weight="w") == pytest.approx(
            seconds[v], rel=1e-9, abs=1e-12)
    assert (seconds[sources] == 0).all()
    assert (won[sources] == sources).all()


def test_bucket_search_all_zero_and_no_edges() -> None:
    g = sp.csr_array((np.zeros(2), ([0, 1], [1, 2])), shape=(4, 4))
    seconds, won = bucket_search(g, np.array([0]))
    assert seconds.tolist() == [0.0, 0.0, 0.0, np.inf]
    assert won.tolist() == [0, 0, 0, -1]
    empty = sp.csr_array((4, 4))
    seconds, won = bucket_search(empty, np.array([2]))
    assert won.tolist() == [-1, -1, 2, -1]
    assert nearest_source(empty, np.array([], dtype=np.int64))[1].tolist() == [-1] * 4


def test_bucket_search_finishes_with_huge_times() -> None:
    """A time whose ratio to the bucket width passes 2**53 (a 1e20 s turnout, a 2e16 s
    edge) once made the next bucket's bound equal its lowest label: an endless loop."""
    import signal

    def hung(*_: object) -> None:
        raise AssertionError("the bucket search did not finish in 20 s")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        _huge_times()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _huge_times() -> None:
    n = 10
    rows = np.arange(n - 1)
    w = np.ones(n - 1)
    w[4] = 1e20
    chain = sp.csr_array((w, (rows, rows + 1)), shape=(n, n))
    seconds, won = bucket_search(chain, np.array([0]))
    np.testing.assert_array_equal(seconds, scipy_search(chain, np.array([0]))[0])
    assert won.tolist() == [0] * n
    delayed = search.with_sources(chain, np.array([0, 7]), np.array([0.0, 1e20]))
    seconds, _ = bucket_search(delayed, np.array([n, n + 1]))
    np.testing.assert_array_equal(seconds, scipy_search(delayed, np.array([n, n + 1]))[0])
    assert seconds[7] == 1e20  # either way: next to 1e20 the few seconds vanish


@pytest.mark.parametrize("seed", range(10))
def test_engine_on_the_bucket_search_equals_networkx(seed: int, monkeypatch) -> None:
    """travel_times, without_units (its re-seeded area search) and with_units with delays,
    all on the bucket search, against networkx."""
    monkeypatch.setattr(search, "BUCKET_MIN_NODES", 0)
    net, D = random_network(seed)
    rng = random.Random(seed)
    nodes = [*rng.sample(range(net.n_nodes), 8), 0]
    ids = [f"u{k}" for k in range(len(nodes))]
    tt = travel_times(net, ids, nodes)
    np.testing.assert_allclose(tt.seconds, reference(net, D, nodes), rtol=1e-9)
    check_nearest(net, D, tt)
    removed = rng.sample(ids, 4)
    after = without_units(tt, removed)
    kept = [n for n, u in zip(nodes, ids, strict=True) if u not in removed]
    np.testing.assert_allclose(after.seconds, reference(net, D, kept), rtol=1e-9)
    check_nearest(net, D, after)
    delayed = with_units(after, ["r1", "r2"], [3, 7], delay_s=[30.0, 0.0])
    monkeypatch.setattr(search, "BUCKET_MIN_NODES", 10**9)
    old = with_units(without_units(travel_times(net, ids, nodes), removed), ["r1", "r2"],
                     [3, 7], delay_s=[30.0, 0.0])
    np.testing.assert_array_equal(delayed.seconds, old.seconds)


@pytest.mark.parametrize("seed", range(6))
def test_figures_equal_on_either_search(tmp_path, seed: int, monkeypatch) -> None:
    """Every derived figure (zone table, overall, report) is the same on either search."""
    from tests.support.planning_cases import random_case

    case = random_case(seed, tmp_path, n_units=8, n_zones=6)
    rng = random.Random(seed)
    ids = rng.sample(sorted(case.units), 3)
    runs = []
    for least in (10**9, 0):  # scipy's Dijkstra, then the bucket search everywhere
        monkeypatch.setattr(search, "BUCKET_MIN_NODES", least)
        base = analyse(case.ds)
        runs.append((base, suspend(base, ids), analyse(case.ds, suspended=ids)))
    for old, new in zip(runs[0], runs[1], strict=True):
        np.testing.assert_array_equal(old.times.seconds, new.times.seconds)
        pd.testing.assert_frame_equal(old.table, new.table)
        assert report_dict(old) == report_dict(new)
