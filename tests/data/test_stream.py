"""Streamed OSM reading: the same compiled graph as networkx + osmnx, figure for figure."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pytest

from coverage.data._stream import read_osm
from coverage.data.demo import DEMO_DIR
from coverage.data.network import RoadNetwork, compile_graph, from_arrays, open_roads
from coverage.data.roads import load_graph
from coverage.errors import DataError

HIGHWAYS = ["residential", "residential", "primary", "service", "trunk", "footway", "track"]
ONEWAY = [None, None, None, "yes", "-1", "no", "true", "1"]
MAXSPEED = [None, None, "50", "30 mph", "60;40", "999", "signals"]


def edges(net: RoadNetwork) -> list[tuple]:
    """Every edge with its figures and shape, in a canonical order."""
    return sorted(
        (int(net.edge_u[k]), int(net.edge_v[k]), float(net.length_m[k]),
         float(net.travel_time_s[k]), str(net.highway[k]), str(net.name[k]),
         tuple(map(tuple, net.edge_coords(k).tolist())))
        for k in range(net.n_edges))


def both(path: Path) -> tuple[RoadNetwork, list[str], RoadNetwork, list[str]]:
    with warnings.catch_warnings(record=True) as new_w:
        warnings.simplefilter("always")
        new = from_arrays(read_osm(path))
    with warnings.catch_warnings(record=True) as old_w:
        warnings.simplefilter("always")
        old = compile_graph(load_graph(path))
    return new, [str(w.message) for w in new_w], old, [str(w.message) for w in old_w]


def assert_same(path: Path) -> RoadNetwork:
    new, new_w, old, old_w = both(path)
    np.testing.assert_array_equal(new.node_id, old.node_id)  # same nodes, same order
    np.testing.assert_array_equal(new.lon, old.lon)
    np.testing.assert_array_equal(new.lat, old.lat)
    assert edges(new) == edges(old)
    assert (new.csr != old.csr).nnz == 0
    assert new_w == old_w
    return new


def random_osm(path: Path, seed: int) -> Path:
    """A small OSM XML file with the quirks real data has: junctions, shape points, rings,
    one-way changes, parallel and repeated ways, a node drawn twice in a row, footways,
    areas, odd maxspeeds and node references missing from the file."""
    rng = random.Random(seed)
    n = rng.randint(6, 40)
    ids = rng.sample(range(1, 10_000), n)
    coords = {i: (71.5 + rng.uniform(0, 0.01), 34.0 + rng.uniform(0, 0.01)) for i in ids}
    missing = set(rng.sample(ids, 1)) if seed % 4 == 0 else set()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    lines += [f'<node id="{i}" lat="{y:.7f}" lon="{x:.7f}"/>' for i, (x, y) in coords.items()
              if i not in missing]
    prev: list[int] = []
    for w in range(rng.randint(2, 14)):
        kind = rng.random()
        if kind < 0.15:  # a ring
            ring = rng.sample(ids, rng.randint(3, min(6, n)))
            nodes = [*ring, ring[0]]
        elif kind < 0.25 and prev:  # a way drawn over an earlier one
            nodes = prev
        else:
            nodes = [rng.choice(ids) for _ in range(rng.randint(1, 7))]
            if rng.random() < 0.2:
                nodes.insert(1, nodes[0])  # the same node twice in a row
        prev = nodes
        tags = {"highway": rng.choice(HIGHWAYS), "oneway": rng.choice(ONEWAY),
                "maxspeed": rng.choice(MAXSPEED), "name": rng.choice(["", "A Road", "B"])}
        if rng.random() < 0.1:
            tags["junction"] = "roundabout"
        if rng.random() < 0.05:
            tags["area"] = "yes"
        lines.append(f'<way id="{w + 1}">')
        lines += [f'<nd ref="{i}"/>' for i in nodes]
        lines += [f'<tag k="{k}" v="{v}"/>' for k, v in tags.items() if v]
        lines.append("</way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tiny_file(tiny_osm: Path) -> None:
    assert assert_same(tiny_osm).n_nodes == 4


def chain_osm(path: Path, body: str) -> Path:
    nodes = "\n".join(f'<node id="{i}" lat="34.0" lon="{71.5 + i * 0.001:.3f}"/>'
                      for i in range(1, 9))
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{nodes}\n{body}\n</osm>\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("body", [
    # shape points merged away between two dead ends; a one-way change keeps its node
    '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
    '<tag k="highway" v="residential"/></way>'
    '<way id="2"><nd ref="4"/><nd ref="5"/><nd ref="6"/>'
    '<tag k="highway" v="primary"/><tag k="oneway" v="yes"/></way>',
    # a ring hanging off one junction, and a ring with no junction at all
    '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="2"/>'
    '<tag k="highway" v="residential"/></way>'
    '<way id="2"><nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/>'
    '<tag k="highway" v="service"/><tag k="junction" v="roundabout"/></way>',
    # two parallel one-way ways over the same nodes, classes and names differing
    '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="trunk"/>'
    '<tag k="oneway" v="yes"/><tag k="name" v="Z"/></way>'
    '<way id="2"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/>'
    '<tag k="oneway" v="yes"/><tag k="name" v="A"/></way>',
])
def test_hand_made_shapes(tmp_path: Path, body: str) -> None:
    assert_same(chain_osm(tmp_path / "roads.osm", body))


@pytest.mark.parametrize("seed", range(60))
def test_random_files(tmp_path: Path, seed: int) -> None:
    path = random_osm(tmp_path / "roads.osm", seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_graph(path)
        except DataError:  # no drivable road: both refuse it alike
            with pytest.raises(DataError, match="no drivable roads"):
                load_graph(path)
            with pytest.raises(DataError, match="no drivable roads"):
                read_osm(path)
            return
    assert_same(path)


@pytest.mark.slow
def test_demo_district() -> None:
    net = assert_same(DEMO_DIR / "roads.osm.pbf")
    assert net.n_nodes > 50_000


def test_open_roads_streams_osm_and_caches_text_as_codes(tiny_osm: Path,
                                                         tmp_path: Path) -> None:
    net = open_roads(tiny_osm, cache_dir=tmp_path)
    again = open_roads(tiny_osm, cache_dir=tmp_path)
    assert edges(net) == edges(again)
    assert again.highway.dtype == object
    old = compile_graph(load_graph(tiny_osm))
    assert edges(net) == edges(old)
