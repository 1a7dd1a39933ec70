"""Map layers on a grid: each cell checked against brute-force nearest nodes and networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely

from coverage.briefing.layers import (
    band_labels,
    nearest_within,
    node_grid,
    response_bands,
    response_surface,
    responsibility_areas,
    service_area,
    start_node,
)
from coverage.engine.analysis import analyse
from coverage.errors import DataError
from tests.support.tiny import haversine_m


@pytest.fixture
def cov(dataset):
    return analyse(dataset, threshold_min=1.0)


def _centres(grid):
    return np.array([(c.centroid.x, c.centroid.y) for c in grid.cells])


def _reference_seconds(net, sources):
    """Seconds from the nearest of ``sources`` (node indices) to every node, by networkx."""
    G = net.to_networkx()
    ids = [int(net.node_id[s]) for s in sources]
    length = nx.multi_source_dijkstra_path_length(G, ids, weight="travel_time")
    return np.array([length.get(int(n), np.inf) for n in net.node_id])


def test_grid_cells_take_their_brute_force_nearest_node(cov) -> None:
    net = cov.dataset.network
    grid = node_grid(net, cell_m=40.0)
    assert len(grid) > 0
    for (x, y), node in zip(_centres(grid), grid.node, strict=True):
        d = [haversine_m(x, y, net.lon[i], net.lat[i]) for i in range(net.n_nodes)]
        assert d[node] == pytest.approx(min(d), abs=1e-6)
        assert min(d) <= 1.5 * 40.0


def test_grid_leaves_out_cells_far_from_roads(cov) -> None:
    net = cov.dataset.network
    tight = node_grid(net, cell_m=40.0, max_gap_m=30.0)
    loose = node_grid(net, cell_m=40.0, max_gap_m=10_000.0)
    assert len(tight) < len(loose)
    x0, y0, x1, y1 = net.bounds
    assert len(loose) == int(np.ceil((y1 - y0) / (40.0 / (np.pi * 6_371_009 / 180)))) * int(
        np.ceil((x1 - x0) / (40.0 / (np.pi * 6_371_009 / 180)
                             / np.cos(np.radians((y0 + y1) / 2)))))


@pytest.mark.parametrize("seed", range(4))
def test_bounded_lookup_equals_the_unbounded_one_within_the_bound(cov, seed: int) -> None:
    """Points with a node within the bound get the unbounded answer; others none."""
    net = cov.dataset.network
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    near_node = rng.integers(0, net.n_nodes, 200)  # half the points close to a node
    lon = np.concatenate([rng.uniform(x0 - 0.004, x1 + 0.004, 200),
                          net.lon[near_node] + rng.normal(0, 0.0004, 200)])
    lat = np.concatenate([rng.uniform(y0 - 0.004, y1 + 0.004, 200),
                          net.lat[near_node] + rng.normal(0, 0.0004, 200)])
    node, dist = net.nearest_nodes(lon, lat)
    for bound in (20.0, 80.0, 150.0):
        got, got_d = nearest_within(net, lon, lat, max_m=bound)
        near = dist <= bound
        assert near.any()
        assert (~near).any()
        np.testing.assert_array_equal(got[near], node[near])
        np.testing.assert_allclose(got_d[near], dist[near])
        assert (got[~near] == -1).all()
        assert np.isinf(got_d[~near]).all()
    big = nearest_within(net, lon, lat, max_m=1e7)
    np.testing.assert_array_equal(big[0], node)


def test_grid_is_the_same_with_the_bounded_lookup(cov) -> None:
    """node_grid (bounded) keeps the cells and nodes an unbounded lookup would keep."""
    net = cov.dataset.network
    grid = node_grid(net, cell_m=25.0, max_gap_m=40.0)
    x0, y0, x1, y1 = net.bounds
    dy = 25.0 / (np.pi * 6_371_009 / 180)
    dx = dy / np.cos(np.radians((y0 + y1) / 2))
    cx = x0 + (np.arange(int(np.ceil((x1 - x0) / dx))) + 0.5) * dx
    cy = y0 + (np.arange(int(np.ceil((y1 - y0) / dy))) + 0.5) * dy
    gx, gy = (a.ravel() for a in np.meshgrid(cx, cy))
    node, dist = net.nearest_nodes(gx, gy)
    keep = dist <= 40.0
    np.testing.assert_array_equal(grid.node, node[keep])
    np.testing.assert_allclose(_centres(grid), np.column_stack([gx[keep], gy[keep]]))


def test_response_surface_bands_match_networkx(cov) -> None:
    net = cov.dataset.network
    grid = node_grid(net, cell_m=30.0)
    surface = response_surface(cov.times, grid, threshold_min=1.0)
    seconds = _reference_seconds(net, cov.units.node)
    edges = np.array(response_bands(1.0)) * 60.0
    labels = band_labels(response_bands(1.0))
    for (x, y), node in zip(_centres(grid), grid.node, strict=True):
        s = seconds[node]
        expected = len(edges) + 1 if not np.isfinite(s) else int(np.searchsorted(edges, s))
        hit = surface.loc[[g.contains(shapely.Point(x, y)) for g in surface.geometry]]
        assert list(hit["band"]) == [expected]
        assert hit["label"].iloc[0] == labels[expected]
    assert surface["cells"].sum() == len(grid)
    assert list(surface["within_target"]) == [b < 2 for b in surface["band"]]


def test_areas_of_responsibility_are_network_voronoi_cells(cov) -> None:
    net = cov.dataset.network
    grid = node_grid(net, cell_m=30.0)
    areas = responsibility_areas(cov.times, grid)
    G = net.to_networkx()
    best = {}
    for uid, node in zip(cov.units.officer_id, cov.units.node, strict=True):
        length = nx.single_source_dijkstra_path_length(G, int(net.node_id[node]),
                                                       weight="travel_time")
        for n, t in length.items():
            if t < best.get(n, (np.inf, ""))[0]:
                best[n] = (t, uid)
    for (x, y), node in zip(_centres(grid), grid.node, strict=True):
        owner = best.get(int(net.node_id[node]))
        hit = areas.loc[[g.contains(shapely.Point(x, y)) for g in areas.geometry]]
        if owner is None:
            assert hit.empty
        else:  # units at one node share the cell; ties go to either
            t = owner[0]
            to_cell = nx.single_source_dijkstra_path_length(
                G.reverse(copy=False), int(net.node_id[node]), weight="travel_time")
            tied = {u for u, n in zip(cov.units.officer_id, cov.units.node, strict=True)
                    if to_cell.get(int(net.node_id[n]), np.inf) == pytest.approx(t)}
            assert len(hit) == 1
            assert set(hit["units"].iloc[0].split(", ")) & tied


def test_service_area_is_what_networkx_reaches(cov) -> None:
    net = cov.dataset.network
    grid = node_grid(net, cell_m=30.0)
    start = int(cov.units.node[0])
    for minutes in (0.2, 0.5, 5.0):
        sa = service_area(grid, start, minutes=minutes)
        length = nx.single_source_dijkstra_path_length(
            net.to_networkx(), int(net.node_id[start]), weight="travel_time")
        reached = {i for i, n in enumerate(net.node_id)
                   if length.get(int(n), np.inf) <= minutes * 60}
        assert sa.nodes_reached == len(reached)
        for (x, y), node in zip(_centres(grid), grid.node, strict=True):
            inside = bool(len(sa.area)) and sa.area.geometry.iloc[0].contains(shapely.Point(x, y))
            assert inside == (int(node) in reached)


def test_start_node_for_station_officer_and_unknown(cov) -> None:
    net = cov.dataset.network
    node, label = start_node(cov, station_id="S2")
    assert (net.lon[node], net.lat[node]) == (71.503, 34.0)
    assert label == "station S2"
    node, label = start_node(cov, officer_id="B")  # placed on its own position
    assert node == int(cov.units.node[cov.units.officer_id.index("B")])
    _, label = start_node(cov, officer_id="E")  # off duty: from its station
    assert "not available" in label
    with pytest.raises(DataError, match="station_id 'S9'"):
        start_node(cov, station_id="S9")
    with pytest.raises(DataError, match="exactly one"):
        start_node(cov)


def test_bad_grid_and_band_arguments_are_refused(cov) -> None:
    with pytest.raises(DataError, match="cell_m"):
        node_grid(cov.dataset.network, cell_m=0)
    with pytest.raises(DataError, match="choose larger cells"):
        node_grid(cov.dataset.network, cell_m=0.001)
    grid = node_grid(cov.dataset.network, cell_m=50.0)
    with pytest.raises(DataError, match="bands_min"):
        response_surface(cov.times, grid, threshold_min=1.0, bands_min=[2.0, 1.0])
    with pytest.raises(DataError, match="minutes"):
        service_area(grid, 0, minutes=-1)


def test_everyone_suspended_leaves_only_unreachable(dataset) -> None:
    cov = analyse(dataset, suspended=["A", "B", "D"], threshold_min=1.0)
    grid = node_grid(dataset.network, cell_m=50.0)
    surface = response_surface(cov.times, grid, threshold_min=1.0)
    assert list(surface["label"]) == ["unreachable"]
    assert responsibility_areas(cov.times, grid).empty
