"""Province-scale benchmark: a SYNTHETIC province of N road nodes, each operation timed in a
fresh process.

The province is deterministic for a given ``--nodes`` and ``--seed``: districts (a jittered
street grid each, like ``benchmarks/engine.py``: residential streets with one-way lines and
deleted segments, a primary arterial every 20th line, shape points on some segments) laid
out on a square plan and joined by two-way trunk roads; stations, officers (about 20 per
1,000 nodes), sensitive zones (about 3 per 10,000 nodes) and a 42-officer suspension list.
It is written as the files the product reads: ``roads.osm.pbf`` (pyosmium), stations and
zones GeoJSON, ``officers.csv`` and ``suspended_42.csv``.

Each operation then runs in its own subprocess and prints one JSON line: ``op``, ``wall_s``
(the whole process as the parent saw it, Python start-up included, median of
``--repeat``), ``peak_rss_mb`` (the process's ``ru_maxrss`` from ``os.wait4``; worker
processes of ``sweep`` are separate processes, reported by their parent as their own peak),
and for in-process timings ``inner_s`` (the timed call only). Operations:

``prepare`` (first parse into an empty cache), ``cold_start`` (cached graph and files to
ready: ``load_dataset`` plus the CSR), ``report`` (the CLI, JSON), ``whatif`` (after
``analyse``: ``suspend`` of the 42 listed officers including its zone figures; also the full
search), ``criticality``, ``backfill_stations`` / ``backfill_nodes`` (200 reserves),
``sweep`` (200 random 42-suspensions on ``--workers`` processes), ``live_map`` (one live-map
refresh with 20,000 live positions at whole-province view and with one district picked:
server seconds and bytes sent; see :func:`live_map_inner`).

Stations carry a ``district`` property (``District 1`` ..., the district the generator put
them in); a province written before that gets it added in place (the same values).

Example::

    .venv/bin/python benchmarks/province.py --nodes 100000
    .venv/bin/python benchmarks/province.py --nodes 1000000 --ops prepare,report
    .venv/bin/python benchmarks/province.py --nodes 1000000 --ops live_map
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACING_M = 80.0
JITTER = 0.2
DISTRICT_GAP_M = 4000.0
TRUNK_STEP_M = 400.0
ARTERIAL_EVERY = 20
ONEWAY_SHARE = 0.10
DELETED_SHARE = 0.05
SHAPE_SHARE = 0.20  # segments drawn with one extra shape point (merged away by simplification)
ORIGIN = (70.5, 32.5)  # lon, lat of the plan's south-west corner (inside Khyber Pakhtunkhwa)
M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(34.0))
ROOT = Path(__file__).resolve().parents[1]

OPS = ("prepare", "cold_start", "report", "whatif", "criticality", "backfill_stations",
       "backfill_nodes", "sweep", "live_map")
#: live_map: live positions in the store (the roster repeated when shorter) and refreshes
#: timed per mode (median).
LIVE_OFFICERS = 20_000
LIVE_REPEAT = 3


# --- the province -----------------------------------------------------------------------------

def plan(n_nodes: int) -> dict[str, int]:
    """Districts, grid side, stations, officers and zones for about ``n_nodes`` road nodes."""
    districts = int(np.clip(round(math.sqrt(n_nodes / 1000)), 2, 32))
    side = max(4, round(math.sqrt(n_nodes / districts)))
    return {"districts": districts, "side": side,
            "stations": max(4, round(400 * n_nodes / 1e6)),
            "officers": max(100, round(20_000 * n_nodes / 1e6)),
            "zones": max(6, round(300 * n_nodes / 1e6))}


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ORIGIN[0] + x / M_PER_DEG_LON, ORIGIN[1] + y / M_PER_DEG_LAT


def district_of(x_m: np.ndarray, y_m: np.ndarray, p: dict[str, int]) -> np.ndarray:
    """The district (0-based) of plan points in metres: the nearest district centre.

    Districts lie on a square plan of ``ceil(sqrt(districts))`` columns, ``side`` x
    ``SPACING_M`` wide with ``DISTRICT_GAP_M`` between them, so rounding to the nearest
    centre is exact for anything within a district (stations: a grid node + 12 m).
    """
    cols = math.ceil(math.sqrt(p["districts"]))
    pitch = p["side"] * SPACING_M + DISTRICT_GAP_M
    half = (p["side"] - 1) * SPACING_M / 2
    col = np.clip(np.round((np.asarray(x_m) - half) / pitch), 0, cols - 1).astype(np.int64)
    row = np.round((np.asarray(y_m) - half) / pitch).astype(np.int64)
    return np.clip(row * cols + col, 0, p["districts"] - 1)


def district_name(d: int) -> str:
    """``District 1`` .. (1-based), the stations file's ``district`` property."""
    return f"District {int(d) + 1}"


def build_province(n_nodes: int, seed: int) -> dict[str, Any]:
    """Return node coordinates (metres), ways and the grid-node positions of each district."""
    p = plan(n_nodes)
    rng = np.random.default_rng(seed)
    s, d_count = p["side"], p["districts"]
    cols = math.ceil(math.sqrt(d_count))
    pitch = s * SPACING_M + DISTRICT_GAP_M
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ways: list[tuple[np.ndarray, str, str]] = []  # node ids (0-based), highway, oneway
    next_id = 0
    grid_ids = []
    for d in range(d_count):
        ox, oy = (d % cols) * pitch, (d // cols) * pitch
        jj, ii = np.meshgrid(np.arange(s), np.arange(s))
        gx = ox + (jj + rng.uniform(-JITTER, JITTER, (s, s))) * SPACING_M
        gy = oy + (ii + rng.uniform(-JITTER, JITTER, (s, s))) * SPACING_M
        ids = next_id + np.arange(s * s).reshape(s, s)
        next_id += s * s
        xs.append(gx.ravel())
        ys.append(gy.ravel())
        grid_ids.append(ids)
        for axis in (0, 1):  # 0: rows (west-east), 1: columns (south-north)
            for line in range(s):
                line_ids = ids[line] if axis == 0 else ids[:, line]
                lx = gx[line] if axis == 0 else gx[:, line]
                ly = gy[line] if axis == 0 else gy[:, line]
                arterial = line % ARTERIAL_EVERY == ARTERIAL_EVERY // 2
                highway = "primary" if arterial else "residential"
                oneway = ""
                if not arterial and rng.random() < ONEWAY_SHARE:
                    oneway = "yes" if line % 2 == 0 else "-1"
                keep = np.ones(s - 1, dtype=bool)
                if not arterial:
                    keep = rng.random(s - 1) >= DELETED_SHARE
                shaped = rng.random(s - 1) < SHAPE_SHARE
                # shape points: a little off the segment's midpoint
                mid = np.flatnonzero(shaped)
                mx = (lx[mid] + lx[mid + 1]) / 2 + rng.uniform(-8, 8, mid.size)
                my = (ly[mid] + ly[mid + 1]) / 2 + rng.uniform(-8, 8, mid.size)
                mid_ids = next_id + np.arange(mid.size)
                next_id += mid.size
                xs.append(mx)
                ys.append(my)
                shape_of = np.full(s - 1, -1, dtype=np.int64)
                shape_of[mid] = mid_ids
                start = 0
                for stop in [*np.flatnonzero(~keep).tolist(), s - 1]:
                    if stop > start:  # segments start..stop-1 form one way
                        seq = [int(line_ids[start])]
                        for k in range(start, stop):
                            if shape_of[k] >= 0:
                                seq.append(int(shape_of[k]))
                            seq.append(int(line_ids[k + 1]))
                        ways.append((np.array(seq), highway, oneway))
                    start = stop + 1
    px = np.concatenate(xs)
    py = np.concatenate(ys)
    # trunk roads: each district to its east and north neighbours, border middle to middle
    mid = s // 2
    for d in range(d_count):
        for nb, a_end, b_end in ((d + 1, grid_ids[d][mid, -1], None),
                                 (d + cols, grid_ids[d][-1, mid], None)):
            if nb >= d_count or (nb == d + 1 and (d + 1) % cols == 0):
                continue
            b_end = grid_ids[nb][mid, 0] if nb == d + 1 else grid_ids[nb][0, mid]
            ax, ay, bx, by = px[a_end], py[a_end], px[b_end], py[b_end]
            steps = max(2, int(math.hypot(bx - ax, by - ay) // TRUNK_STEP_M))
            t = np.arange(1, steps) / steps
            tx = ax + t * (bx - ax) + rng.uniform(-30, 30, t.size)
            ty = ay + t * (by - ay) + rng.uniform(-30, 30, t.size)
            tids = len(px) + np.arange(t.size)
            px, py = np.concatenate([px, tx]), np.concatenate([py, ty])
            ways.append((np.concatenate([[a_end], tids, [b_end]]), "trunk", ""))
    return {"x": px, "y": py, "ways": ways, "grid": np.concatenate([g.ravel() for g in grid_ids]),
            "plan": p}


def write_pbf(path: Path, prov: dict[str, Any]) -> None:
    """Write the roads as OSM PBF with pyosmium (node ids 1.., then ways)."""
    import osmium
    from osmium.osm import mutable

    path.unlink(missing_ok=True)
    lon, lat = _lonlat(prov["x"], prov["y"])
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, (x, y) in enumerate(zip(np.round(lon, 7).tolist(), np.round(lat, 7).tolist(),
                                       strict=True), start=1):
            writer.add_node(mutable.Node(id=i, location=(x, y)))
        for k, (ids, highway, oneway) in enumerate(prov["ways"], start=1):
            tags = {"highway": highway, "name": f"Road {k}"}
            if oneway:
                tags["oneway"] = oneway
            writer.add_way(mutable.Way(id=k, nodes=(ids + 1).tolist(), tags=tags))
    finally:
        writer.close()


def _geojson(path: Path, features: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}) + "\n",
                    encoding="utf-8")


def write_people(out: Path, prov: dict[str, Any], seed: int) -> dict[str, int]:
    """Write stations, zones, officers and the 42-officer suspension list (SYNTHETIC)."""
    rng = np.random.default_rng(seed + 1)
    p = prov["plan"]
    grid = prov["grid"]
    x, y = prov["x"], prov["y"]
    st_nodes = rng.choice(grid, size=p["stations"], replace=False)
    ang = rng.uniform(0, 2 * np.pi, st_nodes.size)
    sx, sy = x[st_nodes] + 12 * np.cos(ang), y[st_nodes] + 12 * np.sin(ang)
    slon, slat = _lonlat(sx, sy)
    where = district_of(sx, sy, p)
    _geojson(out / "stations.geojson", [
        {"type": "Feature", "properties": {"station_id": f"PS-{k:04d}", "name": f"Station {k}",
                                           "district": district_name(d)},
         "geometry": {"type": "Point", "coordinates": [round(float(a), 7), round(float(b), 7)]}}
        for k, (a, b, d) in enumerate(zip(slon, slat, where, strict=True), start=1)])
    zones = []
    centres = rng.choice(grid, size=p["zones"], replace=False)
    for k, c in enumerate(centres, start=1):
        half = rng.uniform(300, 800)
        rot = rng.uniform(0, np.pi / 2)
        corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1], [-1, -1]], dtype=float) * half
        r = np.array([[np.cos(rot), -np.sin(rot)], [np.sin(rot), np.cos(rot)]])
        xy = corners @ r.T + [x[c], y[c]]
        zlon, zlat = _lonlat(xy[:, 0], xy[:, 1])
        zones.append({"type": "Feature", "properties": {
            "zone_id": f"Z-{k:04d}", "name": f"Zone {k}", "priority": int(rng.integers(1, 4)),
            "target_min": float(rng.choice([4.0, 6.0, 8.0])),
            "min_officers": int(rng.integers(1, 4))},
            "geometry": {"type": "Polygon", "coordinates": [
                [[round(float(a), 7), round(float(b), 7)] for a, b in zip(zlon, zlat,
                                                                         strict=True)]]}})
    _geojson(out / "zones.geojson", zones)
    n_off = p["officers"]
    station = rng.integers(0, st_nodes.size, n_off)
    status = rng.choice(["on_duty", "reserve", "off_duty", "suspended"], size=n_off,
                        p=[0.6, 0.1, 0.25, 0.05])
    own = rng.random(n_off) < 0.3
    dx, dy = rng.normal(0, 600, n_off), rng.normal(0, 600, n_off)
    olon, olat = _lonlat(x[st_nodes[station]] + dx, y[st_nodes[station]] + dy)
    with (out / "officers.csv").open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["officer_id", "name", "rank", "station_id", "status", "lat", "lon",
                     "last_seen"])
        for i in range(n_off):
            lat = f"{olat[i]:.6f}" if own[i] else ""
            lon = f"{olon[i]:.6f}" if own[i] else ""
            wr.writerow([f"KP-{i + 1:06d}", f"Officer {i + 1}", "Constable",
                         f"PS-{station[i] + 1:04d}", status[i], lat, lon,
                         "2026-11-25T07:55:00+05:00"])
    on_duty = np.flatnonzero(status == "on_duty")
    susp = np.sort(rng.choice(on_duty, size=min(42, on_duty.size), replace=False))
    (out / "suspended_42.csv").write_text(
        "officer_id\n" + "".join(f"KP-{i + 1:06d}\n" for i in susp), encoding="utf-8")
    return {"stations": int(st_nodes.size), "zones": len(zones), "officers": n_off,
            "on_duty": int(on_duty.size)}


def make_province(out: Path, n_nodes: int, seed: int) -> dict[str, Any]:
    """Write the province's files to ``out`` (skipped if already there); return a summary."""
    summary_file = out / "province.json"
    if summary_file.is_file():
        summary = dict(json.loads(summary_file.read_text()))
        add_districts(out / "stations.geojson", summary)
        return summary
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    prov = build_province(n_nodes, seed)
    write_pbf(out / "roads.osm.pbf", prov)
    people = write_people(out, prov, seed)
    summary = {"nodes_requested": n_nodes, "seed": seed, **prov["plan"],
               "raw_nodes": len(prov["x"]), "ways": len(prov["ways"]), **people,
               "generate_s": round(time.perf_counter() - t0, 2)}
    summary_file.write_text(json.dumps(summary) + "\n")
    return summary


def add_districts(path: Path, p: dict[str, Any]) -> bool:
    """Give the stations of a province written before stations had a ``district`` the one
    :func:`write_people` now writes (from each station's position; the same values), in
    place and atomically. Returns True when the file was changed."""
    data = json.loads(path.read_text(encoding="utf-8"))
    feats = data["features"]
    if not feats or all("district" in f["properties"] for f in feats):
        return False
    lon = np.array([f["geometry"]["coordinates"][0] for f in feats])
    lat = np.array([f["geometry"]["coordinates"][1] for f in feats])
    where = district_of((lon - ORIGIN[0]) * M_PER_DEG_LON, (lat - ORIGIN[1]) * M_PER_DEG_LAT, p)
    for f, d in zip(feats, where, strict=True):
        f["properties"]["district"] = district_name(d)
    tmp = path.with_suffix(".tmp")
    _geojson(tmp, feats)
    tmp.replace(path)
    return True


# --- the operations ---------------------------------------------------------------------------

_INNER = {
    "cold_start": """
import time, json
t0 = time.perf_counter()
from coverage.data.dataset import load_dataset
t1 = time.perf_counter()
ds = load_dataset(*FILES)
_ = ds.network.csr
t2 = time.perf_counter()
print(json.dumps({"inner_s": round(t2 - t1, 4), "import_s": round(t1 - t0, 4),
                  "nodes": ds.network.n_nodes, "edges": ds.network.n_edges}))
""",
    "whatif": """
import time, json, statistics
from coverage.data.dataset import load_dataset
from coverage.data.loaders import read_suspension
from coverage.engine.analysis import analyse, suspend
from coverage.engine.traveltime import travel_times
ds = load_dataset(*FILES)
t0 = time.perf_counter()
cov = analyse(ds)
t1 = time.perf_counter()
ids = read_suspension(SUSPEND, ds.officers)
runs = []
for _ in range(5):
    a = time.perf_counter(); after = suspend(cov, ids); runs.append(time.perf_counter() - a)
search = []
for _ in range(3):
    a = time.perf_counter()
    travel_times(ds.network, list(cov.units.officer_id), cov.units.node)
    search.append(time.perf_counter() - a)
print(json.dumps({"inner_s": round(statistics.median(runs), 4),
                  "analyse_s": round(t1 - t0, 4),
                  "search_s": round(statistics.median(search), 4),
                  "units": len(cov.units), "zones_with_gap_after": after.overall.zones_with_gap}))
""",
}


_INNER["live_map"] = """
import json, runpy
bench = runpy.run_path(BENCH)
print(json.dumps(bench["live_map_inner"](FILES, officers=LIVE_OFFICERS, repeat=LIVE_REPEAT)))
"""


def live_map_inner(files: tuple[str, str, str, str], *, officers: int = 20_000,
                   repeat: int = 3) -> dict[str, Any]:
    """What one live-map refresh costs with ``officers`` live positions (op ``live_map``).

    As ``pages/live-map.py`` does on each refresh: read the latest positions from a SQLite
    store, merge them and re-run coverage (``live_coverage``, reusing the last view when
    nothing moved), per-district figures, the layers (``map_layers``), and the script
    st_folium sends (the base map's, then each group's). Timed at whole-province view and
    with one district picked, with every officer moved since the last refresh (a new
    position each) and with nothing moved. The roster is the province's, repeated to
    ``officers`` with new ids when shorter (SYNTHETIC). ``first_view_s``: from the cached
    graph to the first refresh's script (load, ``analyse``, districts, the roads file).
    """
    import statistics
    import tempfile
    import time as clock
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    import geopandas as gpd
    import pandas as pd
    from streamlit_folium import _get_feature_group_string, _get_map_string

    from coverage.briefing.livemap import map_layers
    from coverage.briefing.mapview import base_map, write_roads
    from coverage.data.dataset import load_dataset
    from coverage.data.districts import districts_of
    from coverage.engine.analysis import analyse
    from coverage.engine.rollup import district_figures
    from coverage.ops.positions import latest_positions, live_coverage
    from coverage.ops.store import Position, open_store, to_us

    t0 = clock.perf_counter()
    ds = load_dataset(*files)
    base_roster = ds.officers
    if len(base_roster) < officers:
        reps = math.ceil(officers / len(base_roster))
        frame = pd.concat([base_roster] * reps, ignore_index=True).iloc[:officers].copy()
        frame["officer_id"] = [f"SIM-{i:06d}" for i in range(officers)]
        ds = replace(ds, officers=gpd.GeoDataFrame(frame, geometry="geometry",
                                                   crs=base_roster.crs))
    cov = analyse(ds)
    districts = districts_of(ds.stations, ds.zones)
    out_dir = Path(tempfile.mkdtemp(prefix="live-map-roads-"))
    roads_file = out_dir / write_roads(ds.network, out_dir)
    setup_s = clock.perf_counter() - t0
    net = ds.network
    rng = np.random.default_rng(11)
    home = ds.officers.geometry
    ids = ds.officers["officer_id"].astype(str).tolist()

    def positions(step: int) -> list[Position]:
        """Each officer within about 600 m of their roster place, snapped to a road."""
        lon = home.x.to_numpy() + rng.normal(0, 600 / M_PER_DEG_LON, len(ids))
        lat = home.y.to_numpy() + rng.normal(0, 600 / M_PER_DEG_LAT, len(ids))
        node, _ = net.nearest_nodes(lon, lat)
        at = datetime.now(UTC) - timedelta(seconds=30) + timedelta(seconds=step)
        return [Position(o, float(net.lat[k]), float(net.lon[k]), to_us(at), at.isoformat(),
                         source="simulated") for o, k in zip(ids, node, strict=True)]

    rows: dict[str, Any] = {"officers": len(ids), "nodes": net.n_nodes,
                            "districts": len(districts.names), "setup_s": round(setup_s, 3),
                            "roads_file_mb": round(roads_file.stat().st_size / 1e6, 3)}
    picked = districts.names[len(districts.names) // 2] if districts.grouped else None
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/l.db") as store:
        step = 0

        def write() -> None:
            nonlocal step
            step += 1
            store.write_batch(store.begin_ingest("bench", "ndjson", "simulated"),
                              positions(step), [])

        def refresh(district: str | None, previous: Any) -> tuple[Any, dict[str, float], int]:
            t = {}
            a = clock.perf_counter()
            live = latest_positions(store)
            t["read"] = clock.perf_counter() - a
            a = clock.perf_counter()
            view = live_coverage(cov, live, previous=previous)
            t["coverage"] = clock.perf_counter() - a
            a = clock.perf_counter()
            figures = district_figures(view.coverage, districts)
            drawn = map_layers(view.coverage, districts, officers=view.officers,
                               district=district, figures=figures)
            t["layers"] = clock.perf_counter() - a
            a = clock.perf_counter()
            m = base_map(net, roads_url="/app/static/roads/" + roads_file.name)
            script = _get_map_string(m) + "".join(
                _get_feature_group_string(g, m, i) for i, g in enumerate(drawn.groups))
            t["script"] = clock.perf_counter() - a
            t["total"] = sum(t.values())
            return view, t, len(script.encode())

        write()
        view, first, first_bytes = refresh(None, None)
        rows["first_view_s"] = round(setup_s + first["total"], 3)
        rows["first_view_kb"] = round(first_bytes / 1e3, 1)
        rows["first_refresh_s"] = round(first["total"], 3)
        for label, district in (("province", None), ("district", picked)):
            for moved in (True, False):
                runs = []
                for _ in range(max(1, repeat)):
                    if moved:
                        write()
                    view, t, size = refresh(district, view)
                    runs.append((t, size))
                key = f"{label}_{'moved' if moved else 'still'}"
                for part in ("read", "coverage", "layers", "script", "total"):
                    rows[f"{key}_{part}_s"] = round(statistics.median(r[0][part] for r in runs),
                                                    3)
                rows[f"{key}_kb"] = round(statistics.median(r[1] for r in runs) / 1e3, 1)
        rows["picked"] = picked
    return rows


def _command(op: str, files: dict[str, Path], workers: int) -> list[str]:
    py = sys.executable
    common = ["--roads", str(files["roads"]), "--stations", str(files["stations"]),
              "--zones", str(files["zones"]), "--officers", str(files["officers"]), "-q"]
    if op == "prepare":
        return [py, "-m", "coverage", "prepare", "--roads", str(files["roads"]), "-q",
                "--format", "json"]
    if op in _INNER:
        args = (repr(str(files["roads"])), repr(str(files["stations"])),
                repr(str(files["zones"])), repr(str(files["officers"])))
        code = (f"FILES = ({', '.join(args)})\nSUSPEND = {str(files['suspend'])!r}\n"
                f"BENCH = {str(Path(__file__).resolve())!r}\n"
                f"LIVE_OFFICERS = {LIVE_OFFICERS}\nLIVE_REPEAT = {LIVE_REPEAT}\n"
                + _INNER[op])
        return [py, "-c", code]
    if op == "report":
        return [py, "-m", "coverage", "report", *common, "--suspend", str(files["suspend"]),
                "--format", "json"]
    if op == "criticality":
        return [py, "-m", "coverage", "criticality", *common, "--format", "json"]
    if op.startswith("backfill_"):
        return [py, "-m", "coverage", "backfill", *common, "--reserves", "200",
                "--candidates", op.removeprefix("backfill_"), "--format", "json"]
    if op == "sweep":
        return [py, "-m", "coverage", "sweep", *common, "--random-suspensions", "200",
                "--size", "42", "--workers", str(workers), "--format", "json"]
    msg = f"unknown operation {op!r}"
    raise ValueError(msg)


def run_op(op: str, files: dict[str, Path], cache: Path, workers: int) -> dict[str, Any]:
    """Run ``op`` once in a fresh process; return wall time, peak RSS and inner figures."""
    env = {**os.environ, "SECCOV_CACHE_DIR": str(cache)}
    if op == "prepare":
        env["SECCOV_CACHE_DIR"] = tempfile.mkdtemp(prefix="province-prepare-")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(_command(op, files, workers), stdout=out, stderr=err,
                                env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if op == "prepare":
        cache_mb = sum(f.stat().st_size for f in Path(env["SECCOV_CACHE_DIR"]).glob("*.npz"))
        shutil.rmtree(env["SECCOV_CACHE_DIR"], ignore_errors=True)
    if proc.returncode != 0:
        msg = f"{op} failed ({proc.returncode}):\n{stderr[-3000:]}"
        raise RuntimeError(msg)
    row: dict[str, Any] = {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}
    if op in _INNER:
        row.update(json.loads(stdout.strip().splitlines()[-1]))
    if op == "prepare":
        row["cache_mb"] = cache_mb / 2**20
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, required=True, help="road nodes, about (10k..1M)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=None,
                    help="where the province files go (default /tmp/seccov-province-N-S)")
    ap.add_argument("--ops", default=",".join(OPS), help=f"comma list of {', '.join(OPS)}")
    ap.add_argument("--repeat", type=int, default=1, help="runs per operation (median)")
    ap.add_argument("--workers", type=int, default=2, help="sweep worker processes")
    args = ap.parse_args(argv)
    ops = [o for o in args.ops.split(",") if o]
    for op in ops:
        if op not in OPS:
            ap.error(f"--ops: {op!r} is not one of {', '.join(OPS)}")
    out = args.dir or Path(tempfile.gettempdir()) / f"seccov-province-{args.nodes}-{args.seed}"
    summary = make_province(out, args.nodes, args.seed)
    print(json.dumps({"op": "province", **summary}), flush=True)
    files = {"roads": out / "roads.osm.pbf", "stations": out / "stations.geojson",
             "zones": out / "zones.geojson", "officers": out / "officers.csv",
             "suspend": out / "suspended_42.csv"}
    cache = out / "cache"
    cache.mkdir(exist_ok=True)
    if any(op != "prepare" for op in ops):  # the cached graph the other operations read
        subprocess.run(_command("prepare", files, args.workers), check=True, cwd=ROOT,
                       env={**os.environ, "SECCOV_CACHE_DIR": str(cache)},
                       stdout=subprocess.DEVNULL)
    for op in ops:
        runs = [run_op(op, files, cache, args.workers) for _ in range(max(1, args.repeat))]
        row: dict[str, Any] = {"op": op, "nodes_requested": args.nodes, "repeat": len(runs)}
        for key in runs[0]:
            values = [r[key] for r in runs]
            if all(isinstance(v, int | float) for v in values):
                row[key] = round(statistics.median(values), 4)
            else:
                row[key] = values[-1]
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
