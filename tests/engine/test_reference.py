"""Reference check: the report's figures against an independent computation.

Random districts (an OSM grid with one-way streets and random speeds, random stations,
officers, zones and suspension lists) go through the real command line; the test recomputes
every figure with plain networkx Dijkstra, brute-force haversine snapping and shapely.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point, box

from coverage.cli.main import main
from coverage.data.roads import load_graph
from tests.support.tiny import haversine_m, write

LON0, LAT0, STEP = 71.50, 34.00, 0.002


def make_district(tmp: Path, seed: int) -> dict:
    rng = random.Random(seed)
    side = 9
    nodes, ways = [], []
    nid = lambda r, c: 1 + r * side + c  # noqa: E731
    for r in range(side):
        for c in range(side):
            lon = LON0 + c * STEP + rng.uniform(-3e-4, 3e-4)
            lat = LAT0 + r * STEP + rng.uniform(-3e-4, 3e-4)
            nodes.append(f'<node id="{nid(r, c)}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    wid = 1
    for r in range(side):
        for c in range(side):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr >= side or c + dc >= side or rng.random() < 0.1:
                    continue
                tags = [f'<tag k="highway" v="{rng.choice(["residential", "primary"])}"/>']
                if rng.random() < 0.2:
                    tags.append(f'<tag k="oneway" v="{rng.choice(["yes", "-1"])}"/>')
                if rng.random() < 0.3:
                    tags.append(f'<tag k="maxspeed" v="{rng.choice(["30", "50", "20 mph"])}"/>')
                ways.append(f'<way id="{wid}"><nd ref="{nid(r, c)}"/>'
                            f'<nd ref="{nid(r + dr, c + dc)}"/>{"".join(tags)}</way>')
                wid += 1
    roads = write(tmp / "roads.osm", f'<osm version="0.6">{"".join(nodes + ways)}</osm>')
    extent = side * STEP

    def rand_pt() -> tuple[float, float]:
        return LON0 + rng.uniform(0, extent), LAT0 + rng.uniform(0, extent)

    stations = [(f"S{i}", *rand_pt()) for i in range(4)]
    feats = ",".join(
        f'{{"type": "Feature", "properties": {{"station_id": "{s}", "name": "St {s}"}},'
        f' "geometry": {{"type": "Point", "coordinates": [{x}, {y}]}}}}' for s, x, y in stations
    )
    fc = '{{"type": "FeatureCollection", "features": [{}]}}'
    st_path = write(tmp / "stations.geojson", fc.format(feats))
    zones = []
    for i in range(4):
        x, y = rand_pt()
        w, h = rng.uniform(0.002, 0.008), rng.uniform(0.002, 0.008)
        zones.append((f"Z{i}", box(x, y, x + w, y + h), rng.choice([1, 2, 3]),
                      rng.choice([None, 1.0, 2.0, 3.0]), rng.choice([None, 1, 2, 3])))
    zfeats = ",".join(
        f'{{"type": "Feature", "properties": {{"zone_id": "{z}", "name": "Zone {z}",'
        f' "priority": {p}, "target_min": {json.dumps(t)}, "min_officers": {json.dumps(m)}}},'
        f' "geometry": {json.dumps(g.__geo_interface__)}}}' for z, g, p, t, m in zones
    )
    z_path = write(tmp / "zones.geojson", fc.format(zfeats))
    officers = []
    for i in range(16):
        st = rng.choice(stations)
        status = rng.choice(["on_duty"] * 3 + ["reserve", "off_duty", "suspended"])
        own = rng.random() < 0.5
        x, y = rand_pt() if own else (None, None)
        officers.append((f"K{i}", st[0], status, x, y))
    lines = ["officer_id,name,rank,station_id,status,lat,lon,last_seen"] + [
        f"{o},Name {o},Constable,{s},{st},{'' if y is None else y},{'' if x is None else x},"
        "2026-11-25T08:00:00+05:00" for o, s, st, x, y in officers
    ]
    o_path = write(tmp / "officers.csv", "\n".join(lines) + "\n")
    on_duty = [o[0] for o in officers if o[2] == "on_duty"]
    suspended = rng.sample(on_duty, min(3, len(on_duty)))
    s_path = write(tmp / "suspend.csv", "officer_id\n" + "\n".join(suspended) + "\n")
    return {"roads": roads, "stations": st_path, "zones": z_path, "officers": o_path,
            "suspend": s_path, "station_xy": {s: (x, y) for s, x, y in stations},
            "zone_list": zones, "officer_list": officers, "suspended": suspended}


def percentile(values: np.ndarray, q: float) -> float:
    """Textbook linear-interpolated percentile over sorted values; inf if it touches inf."""
    v = sorted(float(x) for x in values)
    rank = (len(v) - 1) * q / 100
    lo, hi = math.floor(rank), math.ceil(rank)
    if lo == hi:
        return v[lo]
    if math.isinf(v[hi]):
        return math.inf
    return v[lo] + (rank - lo) * (v[hi] - v[lo])


def expected(d: dict, *, threshold: float, use_suspension: bool) -> dict:
    G = load_graph(d["roads"])
    D = nx.DiGraph()
    D.add_nodes_from(G)
    for u, v, data in G.edges(data=True):
        if not D.has_edge(u, v) or D[u][v]["w"] > data["travel_time"]:
            D.add_edge(u, v, w=data["travel_time"])
    coords = {n: (data["x"], data["y"]) for n, data in G.nodes(data=True)}

    def snap(x: float, y: float) -> int:
        return min(coords, key=lambda n: haversine_m(x, y, *coords[n]))

    gone = set(d["suspended"]) if use_suspension else set()
    units = []
    for oid, sid, status, x, y in d["officer_list"]:
        if status == "on_duty" and oid not in gone:
            units.append(snap(x, y) if x is not None else snap(*d["station_xy"][sid]))
    dist = nx.multi_source_dijkstra_path_length(D, set(units), weight="w") if units else {}
    zones = {}
    for zid, geom, _prio, target, need in d["zone_list"]:
        target = threshold if target is None else target
        need = 1 if need is None else need
        inside = [n for n in G if geom.intersects(Point(coords[n]))]
        anchor = snap(geom.representative_point().x, geom.representative_point().y)
        inside = inside or [anchor]
        mins = np.array([dist.get(n, math.inf) / 60 for n in inside])
        to_anchor = nx.single_source_dijkstra_path_length(D.reverse(copy=True), anchor,
                                                          weight="w")
        within = sum(1 for u in units if to_anchor.get(u, math.inf) / 60 <= target)
        share = float(np.mean(mins <= target))
        p50, p90 = percentile(mins, 50), percentile(mins, 90)
        zones[zid] = {
            "nodes": len(inside), "covered_share": share,
            "p50_min": p50, "p90_min": p90,
            "max_min": float(mins.max()), "unreachable_nodes": int(np.isinf(mins).sum()),
            "officers_within_target": within,
            "gap": share < 1 or within < need,
        }
    return {"available": len(units), "zones": zones}


def close(got: float | None, want: float) -> bool:
    if got is None:
        return not math.isfinite(want)
    return math.isfinite(want) and abs(got - want) < 1e-9


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("use_suspension", [False, True])
def test_report_matches_networkx(tmp_path, capsys, seed: int, use_suspension: bool) -> None:
    d = make_district(tmp_path, seed)
    threshold = 2.0
    argv = ["-q", "report", "--roads", str(d["roads"]), "--stations", str(d["stations"]),
            "--zones", str(d["zones"]), "--officers", str(d["officers"]),
            "--threshold-min", str(threshold), "--format", "json"]
    if use_suspension:
        argv += ["--suspend", str(d["suspend"])]
    assert main(argv) == 0
    rep = json.loads(capsys.readouterr().out)
    want = expected(d, threshold=threshold, use_suspension=use_suspension)
    assert rep["units"]["available"] == want["available"]
    for z in rep["zones"]:
        w = want["zones"][z["zone_id"]]
        assert z["nodes"] == w["nodes"]
        assert z["covered_share"] == pytest.approx(w["covered_share"], abs=1e-12)
        assert z["unreachable_nodes"] == w["unreachable_nodes"]
        assert z["officers_within_target"] == w["officers_within_target"]
        assert z["gap"] == w["gap"]
        for key in ("p50_min", "p90_min", "max_min"):
            assert close(z[key], w[key]), (z["zone_id"], key, z[key], w[key])
