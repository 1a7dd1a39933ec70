"""Compiled network: persistence, cache, snapping and extent checks."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from coverage.data.network import (
    check_extent,
    compile_graph,
    load_network,
    min_per_pair,
    open_roads,
    save_network,
)
from coverage.data.roads import load_graph
from coverage.errors import DataWarning, GraphError
from tests.support.tiny import haversine_m


def test_save_load_roundtrip(tiny_osm: Path, tmp_path: Path) -> None:
    net = compile_graph(load_graph(tiny_osm), source="tiny.osm")
    save_network(net, tmp_path / "n.npz")
    back = load_network(tmp_path / "n.npz")
    for name in ("node_id", "lon", "lat", "edge_u", "edge_v", "travel_time_s", "geom_xy"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert back.source == "tiny.osm"
    assert (back.csr != net.csr).nnz == 0



def test_load_maps_the_arrays_and_reads_older_and_compressed_files(tiny_osm: Path,
                                                                   tmp_path: Path) -> None:
    """The cache is memory-mapped; a file with int64 CSR indices (as written before) or
    compressed members (``savez_compressed``) gives the same network."""
    net = compile_graph(load_graph(tiny_osm), source="tiny.osm")
    assert net.csr.indices.dtype == np.int32
    save_network(net, tmp_path / "n.npz")
    with np.load(tmp_path / "n.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["csr_indices"] = arrays["csr_indices"].astype(np.int64)
    arrays["csr_indptr"] = arrays["csr_indptr"].astype(np.int64)
    np.savez(tmp_path / "old.npz", **arrays)
    np.savez_compressed(tmp_path / "packed.npz", **arrays)
    for name in ("n.npz", "old.npz", "packed.npz"):
        back = load_network(tmp_path / name)
        for k in ("node_id", "lon", "lat", "edge_u", "edge_v", "length_m", "travel_time_s",
                  "highway", "name", "geom_offsets", "geom_xy"):
            np.testing.assert_array_equal(getattr(back, k), getattr(net, k))
        assert back.csr.indices.dtype == np.int32
        for k in ("indptr", "indices", "data"):
            np.testing.assert_array_equal(getattr(back.csr, k), getattr(net.csr, k))
        for k in ("lon", "lat", "node_id", "travel_time_s", "geom_xy"):  # never misaligned
            assert getattr(back, k).flags.aligned
        assert back.csr.data.flags.aligned
    cut = (tmp_path / "n.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(cut[: len(cut) // 2])
    with pytest.raises(GraphError, match="cannot read compiled graph"):
        load_network(tmp_path / "cut.npz")


def test_cache_arrays_are_aligned_and_an_old_cache_is_rewritten(tiny_osm: Path,
                                                                tmp_path: Path) -> None:
    """save_network starts each array on a multiple of 64 bytes (mapped as is); a cache
    written by plain numpy.savez (misaligned) is read, then rewritten aligned by open_roads."""
    from coverage.data._npz import is_aligned as _is_aligned

    first = open_roads(tiny_osm, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("tiny.osm.*.npz")
    assert _is_aligned(cached)
    back = load_network(cached)
    assert isinstance(back.geom_xy.base, np.memmap)
    with np.load(cached) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(cached, **arrays)  # the layout before: members wherever they fall
    assert not _is_aligned(cached)
    again = open_roads(tiny_osm, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.travel_time_s, first.travel_time_s)
    assert _is_aligned(cached)
    assert (load_network(cached).csr != first.csr).nnz == 0

def test_open_roads_uses_cache(tiny_osm: Path, tmp_path: Path, monkeypatch) -> None:
    first = open_roads(tiny_osm, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("tiny.osm.*.npz"))) == 1

    def boom(*_a, **_k):
        raise AssertionError("parsed again instead of using the cache")

    monkeypatch.setattr("coverage.data._stream.read_osm", boom)
    monkeypatch.setattr("coverage.data.roads.load_graph", boom)
    second = open_roads(tiny_osm, cache_dir=tmp_path)
    np.testing.assert_array_equal(first.travel_time_s, second.travel_time_s)


def test_cache_key_follows_speeds(tiny_osm: Path, tmp_path: Path) -> None:
    a = open_roads(tiny_osm, cache_dir=tmp_path)
    b = open_roads(tiny_osm, cache_dir=tmp_path, speeds_kph={"residential": 10.0})
    assert len(list(tmp_path.glob("*.npz"))) == 2
    assert b.travel_time_s.max() > a.travel_time_s.max()


def test_corrupt_cache_is_rebuilt(tiny_osm: Path, tmp_path: Path) -> None:
    open_roads(tiny_osm, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.npz")
    cached.write_bytes(b"not a zip")
    with pytest.raises(GraphError, match="cannot read compiled graph"):
        load_network(cached)
    assert open_roads(tiny_osm, cache_dir=tmp_path).n_nodes == 4


def test_nearest_nodes_matches_brute_force(tiny_osm: Path) -> None:
    net = compile_graph(load_graph(tiny_osm))
    rng = random.Random(1)
    for _ in range(50):
        lon, lat = rng.uniform(71.49, 71.51), rng.uniform(33.99, 34.01)
        d = [haversine_m(lon, lat, x, y) for x, y in zip(net.lon, net.lat, strict=True)]
        node, dist = net.nearest_nodes([lon], [lat])
        assert dist[0] == pytest.approx(min(d), rel=1e-9)
        assert d[int(node[0])] == pytest.approx(min(d), rel=1e-9)


def test_to_networkx_keeps_times(tiny_osm: Path) -> None:
    G = load_graph(tiny_osm)
    H = compile_graph(G).to_networkx()
    assert sorted(G.nodes) == sorted(H.nodes)
    assert sorted((u, v, round(d["travel_time"], 9)) for u, v, d in G.edges(data=True)) == sorted(
        (u, v, round(d["travel_time"], 9)) for u, v, d in H.edges(data=True)
    )


def test_index_of_unknown() -> None:
    import networkx as nx

    G = nx.MultiDiGraph()
    G.add_node(5, x=71.5, y=34.0)
    with pytest.raises(GraphError, match=r"\[6\]"):
        compile_graph(G).index_of([6])


def test_empty_graph() -> None:
    import networkx as nx

    with pytest.raises(GraphError, match="no nodes"):
        compile_graph(nx.MultiDiGraph())


def test_swapped_coordinates_warned(tiny_osm: Path) -> None:
    net = compile_graph(load_graph(tiny_osm))
    with pytest.warns(DataWarning, match=r"officers\.csv: 1 point.*swapped.*K-7"):
        mask = check_extent(net, [71.5, 34.0], [34.0, 71.5], ["K-1", "K-7"],
                            what="officers.csv")
    assert mask.tolist() == [False, True]


def test_road_warnings_are_repeated_from_the_cache(tmp_path: Path) -> None:
    road = tmp_path / "cut.osm"
    road.write_text(
        '<osm version="0.6"><node id="1" lat="34" lon="71.5"/><node id="2" lat="34"'
        ' lon="71.501"/><way id="5"><nd ref="1"/><nd ref="2"/><nd ref="9"/>'
        '<tag k="highway" v="primary"/></way></osm>'
    )
    for _ in range(2):  # parsed, then from the cache: the same warning both times
        with pytest.warns(DataWarning, match=r"cut\.osm: 1 way node.*way id\(s\) 5"):
            open_roads(road, cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("seed", range(10))
def test_min_per_pair_equals_the_lexsort_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 7, 60)
    cols = rng.integers(0, 5, 60)
    vals = rng.choice([0.0, 1.5, 2.0, 7.25], 60)
    order = np.lexsort((vals, cols, rows))  # the former rule: sort all three, keep firsts
    r, c, v = rows[order], cols[order], vals[order]
    first = np.ones(r.size, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    got = min_per_pair(rows, cols, vals)
    for a, b in zip(got, (r[first], c[first], v[first]), strict=True):
        np.testing.assert_array_equal(a, b)
    empty = np.empty(0, dtype=np.int64)
    assert min_per_pair(empty, empty, np.empty(0))[0].size == 0


def test_nodes_in_box_equals_the_mask(tiny_osm: Path) -> None:
    rng = np.random.default_rng(3)
    net = open_roads(tiny_osm, use_cache=False)
    for _ in range(20):
        x0, x1 = np.sort(rng.uniform(71.499, 71.504, 2))
        y0, y1 = np.sort(rng.uniform(33.998, 34.002, 2))
        want = np.flatnonzero((net.lon >= x0) & (net.lon <= x1)
                              & (net.lat >= y0) & (net.lat <= y1))
        np.testing.assert_array_equal(net.nodes_in_box(x0, y0, x1, y1), want)


@pytest.mark.parametrize("seed", range(4))
def test_nodes_in_box_on_the_grid_equals_the_mask(seed: int) -> None:
    """Many nodes (several per grid cell, some on the same line of longitude or latitude as
    a box edge, some at the extent's corners): every box gives exactly the masked nodes."""
    from coverage.data._grid import Grid as _Grid

    rng = np.random.default_rng(seed)
    n = 5000
    lon = np.round(rng.uniform(71.0, 72.0, n), 3)  # repeats: nodes on a box's very edge
    lat = np.round(rng.uniform(33.0, 33.5, n), 3)
    lon[:2], lat[:2] = [71.0, 72.0], [33.0, 33.5]
    grid = _Grid.of(lon, lat)
    assert grid.nx > 1
    for _ in range(50):
        x0, x1 = np.sort(rng.choice(np.concatenate([lon, rng.uniform(70.9, 72.1, 20)]), 2))
        y0, y1 = np.sort(rng.choice(np.concatenate([lat, rng.uniform(32.9, 33.6, 20)]), 2))
        got = grid.candidates(x0, y0, x1, y1)
        inside = np.flatnonzero((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        assert set(inside.tolist()) <= set(got.tolist())
        assert len(set(got.tolist())) == got.size
    assert grid.candidates(1.0, 0.0, 0.0, 1.0).size == 0


@pytest.mark.parametrize("seed", range(3))
def test_nodes_near_holds_every_node_within_the_radius(seed: int) -> None:
    """nodes_near is a superset of the exact ball (nodes_within), also by the antimeridian
    and near a pole, where it falls back to every longitude."""
    from coverage.data.network import RoadNetwork

    rng = np.random.default_rng(seed)
    n = 3000
    lon = np.concatenate([rng.uniform(71.0, 71.3, n), rng.uniform(179.9, 180.0, 50),
                          rng.uniform(-180.0, -179.9, 50), rng.uniform(-180, 180, 20)])
    lat = np.concatenate([rng.uniform(33.0, 33.2, n), rng.uniform(-0.05, 0.05, 100),
                          rng.uniform(89.95, 90.0, 20)])
    m = lon.size
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0)
    net = RoadNetwork(node_id=np.arange(m), lon=lon, lat=lat, edge_u=empty_i, edge_v=empty_i,
                      length_m=empty_f, travel_time_s=empty_f, highway=np.array([], dtype=str),
                      name=np.array([], dtype=str), geom_offsets=np.zeros(1, dtype=np.int64),
                      geom_xy=np.empty((0, 2)))
    for node in [*rng.choice(m, 30).tolist(), n, n + 60, m - 1]:
        for radius in (0.0, 50.0, 900.0, 5000.0, 30000.0):
            near = net.nodes_near(int(node), radius)
            assert set(net.nodes_within(int(node), radius).tolist()) <= set(near.tolist())
            assert len(set(near.tolist())) == near.size


def test_members_over_2_gb_are_aligned_too(tmp_path) -> None:
    """A member of 2 GB or more is written as zip64, whose own 20-byte extra field follows
    the padding: the padding counts it, so such a cache is not rewritten on every load.
    (An array that says it has 2 GB stands in for one, without writing 2 GB.)"""
    import numpy as np

    from coverage.data._npz import is_aligned, mapped, savez_aligned

    class Big(np.ndarray):
        @property
        def nbytes(self) -> int:  # type: ignore[override]
            return 2**31

    path = tmp_path / "big.npz"
    with path.open("wb") as fh:
        savez_aligned(fh, {"x": np.arange(100.0).view(Big), "y": np.arange(7, dtype="i4")})
    assert is_aligned(path)
    assert mapped(path)["x"].tolist() == list(np.arange(100.0))
