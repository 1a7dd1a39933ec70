"""Small random districts for the planning tests, with an independent networkx reference.

Nodes sit on a 0.002-degree grid (about 200 m), so a zone drawn as small squares around
chosen nodes holds exactly those nodes. The reference objective is written out here from
DATA.md (weights 3/2/1, none = 3) over plain networkx Dijkstra on the fastest edges.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from coverage.data.dataset import Dataset
from coverage.data.loaders import read_officers, read_stations, read_zones
from coverage.data.network import compile_graph

WEIGHT = {1: 3, 2: 2, 3: 1, None: 3}


@dataclass
class Case:
    ds: Dataset
    D: nx.DiGraph  # fastest edge per ordered pair, node = file id
    zones: list[dict]  # zone_id, nodes (file ids), target_min, weight, min_officers
    units: dict[str, int]  # on-duty officer -> node id
    stations: dict[str, int]  # station -> node id


def _square(x: float, y: float, r: float = 0.0002) -> list[list[float]]:
    return [[x - r, y - r], [x + r, y - r], [x + r, y + r], [x - r, y + r], [x - r, y - r]]


def random_case(seed: int, folder: Path, *, n: int = 36, m: int = 100, n_stations: int = 5,
                n_units: int = 5, n_reserves: int = 4, n_zones: int = 3) -> Case:
    rng = random.Random(seed)
    cells = rng.sample(range(100), n)
    xy = {1000 + i: (71.5 + (c % 10) * 0.002, 34.0 + (c // 10) * 0.002)
          for i, c in enumerate(cells)}
    G = nx.MultiDiGraph()
    for v, (x, y) in xy.items():
        G.add_node(v, x=x, y=y)
    D = nx.DiGraph()
    D.add_nodes_from(xy)
    for u, v in nx.gnm_random_graph(n, m, seed=seed, directed=True).edges():
        for _ in range(1 + (rng.random() < 0.2)):
            t = rng.uniform(5, 90)
            G.add_edge(u + 1000, v + 1000, travel_time=t)
            if not D.has_edge(u + 1000, v + 1000) or D[u + 1000][v + 1000]["w"] > t:
                D.add_edge(u + 1000, v + 1000, w=t)
    ids = sorted(xy)
    st_nodes = rng.sample(ids, n_stations)
    stations = {f"S{i}": v for i, v in enumerate(st_nodes)}
    feats = [{"type": "Feature", "properties": {"station_id": s, "name": s},
              "geometry": {"type": "Point", "coordinates": list(xy[v])}}
             for s, v in stations.items()]
    (folder / "stations.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": feats}))
    zones, zfeats = [], []
    for z in range(n_zones):
        nodes = rng.sample(ids, rng.randint(2, 5))
        prio = rng.choice([1, 2, 3, None])
        target = rng.choice([0.5, 1.0, 1.5, 2.0])
        need = rng.randint(0, 3)
        zones.append({"zone_id": f"Z{z}", "nodes": nodes, "target_min": target,
                      "weight": WEIGHT[prio], "min_officers": need})
        zfeats.append({"type": "Feature", "properties": {
            "zone_id": f"Z{z}", "name": f"Zone {z}", "priority": prio, "target_min": target,
            "min_officers": need}, "geometry": {"type": "MultiPolygon", "coordinates": [
                [_square(*xy[v])] for v in nodes]}})
    (folder / "zones.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": zfeats}))
    rows = ["officer_id,name,rank,station_id,status,lat,lon,last_seen"]
    units = {}
    for i in range(n_units):
        v = rng.choice(ids)
        units[f"U{i}"] = v
        rows.append(f"U{i},U {i},Constable,S{rng.randrange(n_stations)},on_duty,"
                    f"{xy[v][1]},{xy[v][0]},2026-11-25T08:00:00+05:00")
    rows += [f"R{i},R {i},Constable,S{rng.randrange(n_stations)},reserve,,,"
             "2026-11-25T08:00:00+05:00" for i in range(n_reserves)]
    (folder / "officers.csv").write_text("\n".join(rows) + "\n")
    st = read_stations(folder / "stations.geojson")
    ds = Dataset(network=compile_graph(G), stations=st,
                 zones=read_zones(folder / "zones.geojson"),
                 officers=read_officers(folder / "officers.csv", st),
                 sources={"officers": "officers.csv", "stations": "stations.geojson"})
    return Case(ds=ds, D=D, zones=zones, units=units, stations=stations)


def reference_objective(case: Case, sources: list[int]) -> float:
    """DATA.md objective with units at ``sources`` (node ids), by networkx Dijkstra."""
    dist = nx.multi_source_dijkstra_path_length(case.D, set(sources), weight="w") \
        if sources else {}
    return float(sum(z["weight"] for z in case.zones for v in z["nodes"]
                     if v in dist and dist[v] / 60.0 <= z["target_min"]))
