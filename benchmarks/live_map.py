"""Live map with many officers (not a unit test): what one refresh costs, and drawing it.

Builds a roster of ``--officers`` officers on the demo district (the demo's officers,
repeated and moved to random road nodes; SYNTHETIC), stores one live position each in a
fresh SQLite store, then times what the live map's fragment does on every refresh: read the
latest positions, merge them and re-run coverage
(``coverage.ops.positions.live_coverage``), build the changing layers as the page does
(``coverage.briefing.livemap.map_layers``: above 2,000 officers, clusters) and turn them
into the Leaflet script streamlit-folium sends to the browser (the base map's roads are
fetched from a file, not sent). The province figures: ``benchmarks/province.py --ops
live_map``.
Then it opens the same map as one offline HTML page in Debian's Chromium and times until
Leaflet has drawn it, and the frame rate while panning. Prints one JSON line.

    .venv/bin/python benchmarks/live_map.py                      # 5,000 officers
    .venv/bin/python benchmarks/live_map.py --officers 20000 --no-browser
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.briefing.assets import offline_html
from coverage.briefing.livemap import map_layers
from coverage.briefing.mapview import base_map, coverage_map
from coverage.data.dataset import load_dataset
from coverage.data.demo import DEMO_DIR
from coverage.data.districts import districts_of
from coverage.engine.analysis import analyse
from coverage.engine.rollup import district_figures
from coverage.ops.positions import latest_positions, live_coverage
from coverage.ops.store import Position, open_store, to_us

ROOT = Path(__file__).resolve().parent.parent
DEMO = DEMO_DIR


def roster(ds, n: int) -> gpd.GeoDataFrame:
    """``n`` officers: the demo's, repeated with new ids (SYNTHETIC)."""
    base = ds.officers
    reps = int(np.ceil(n / len(base)))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[:n].copy()
    frame["officer_id"] = [f"SIM-{i:05d}" for i in range(n)]
    frame["last_seen"] = pd.NaT
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=base.crs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--officers", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5, help="refreshes timed (median printed)")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    ds = load_dataset(DEMO / "roads.osm.pbf", DEMO / "stations.geojson",
                      DEMO / "zones.geojson", DEMO / "officers.csv")
    ds = replace(ds, officers=roster(ds, args.officers))
    base = analyse(ds)
    load_s = time.perf_counter() - t0
    net = ds.network
    nodes = rng.integers(0, net.n_nodes, size=args.officers)
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/live.db") as store:
        run = store.begin_ingest("benchmark", "ndjson", "simulated")
        store.write_batch(run, [
            Position(oid, float(net.lat[k]), float(net.lon[k]), to_us(now), now.isoformat(),
                     source="simulated")
            for oid, k in zip(ds.officers["officer_id"], nodes, strict=True)], [])
        from streamlit_folium import _get_feature_group_string, _get_map_string

        timings: dict[str, list[float]] = {"read": [], "coverage": [], "layers": [],
                                           "script": []}
        districts = districts_of(ds.stations, ds.zones)
        for _ in range(args.repeat):
            t = time.perf_counter()
            live = latest_positions(store)
            timings["read"].append(time.perf_counter() - t)
            t = time.perf_counter()
            view = live_coverage(base, live)  # every refresh a full run (no reuse)
            timings["coverage"].append(time.perf_counter() - t)
            t = time.perf_counter()
            groups = map_layers(view.coverage, districts, officers=view.officers,
                                figures=district_figures(view.coverage, districts)).groups
            timings["layers"].append(time.perf_counter() - t)
            t = time.perf_counter()
            # as the page: the base map (roads fetched from a file), then the groups
            m = base_map(net, roads_url="/app/static/roads/roads.geojson")
            script = _get_map_string(m) + "".join(
                _get_feature_group_string(g, m, i) for i, g in enumerate(groups))
            timings["script"].append(time.perf_counter() - t)
        result: dict[str, object] = {
            "officers": args.officers, "nodes": net.n_nodes, "load_s": round(load_s, 2),
            **{f"{k}_s": round(float(np.median(v)), 4) for k, v in timings.items()},
            "refresh_s": round(float(sum(np.median(v) for v in timings.values())), 3),
            "payload_mb": round(len(script) / 1e6, 2),
            "available_units": view.coverage.counts.available,
        }
        if not args.no_browser:
            page = offline_html(coverage_map(view.coverage,
                                             officers=None).get_root().render())
            result |= browser_figures(page)
    print(json.dumps(result))


def browser_figures(page: str) -> dict[str, object]:
    """Time Chromium from opening the offline map until drawn, and the panning frame rate."""
    from playwright.sync_api import sync_playwright

    from coverage.briefing.export import CHROMIUM_PATH

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        path = Path(tmp) / "map.html"
        path.write_text(page, encoding="utf-8")
        browser = p.chromium.launch(executable_path=CHROMIUM_PATH,
                                    args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        t = time.perf_counter()
        tab.goto(path.as_uri())
        tab.wait_for_function("() => document.querySelector('.leaflet-container canvas')")
        drawn_s = time.perf_counter() - t
        fps = tab.evaluate("""async () => {
            const m = Object.values(window).find(v => v && v._container && v.panBy);
            let frames = 0; const t0 = performance.now();
            await new Promise(done => {
              function step() { frames++; m.panBy([4, 2], {animate: false});
                if (performance.now() - t0 < 2000) requestAnimationFrame(step); else done(); }
              requestAnimationFrame(step); });
            return frames / ((performance.now() - t0) / 1000); }""")
        browser.close()
    return {"browser_drawn_s": round(drawn_s, 2), "pan_fps": round(float(fps), 1),
            "page_mb": round(len(page) / 1e6, 2)}


if __name__ == "__main__":
    main()
