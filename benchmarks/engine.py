"""Benchmark of the travel-time engine against plain networkx on a synthetic road grid.

Builds a road-like :class:`~coverage.data.network.RoadNetwork` straight from numpy arrays (a
jittered square grid around Peshawar with one-way streets, deleted segments and faster
arterials), then times in one run:

* ``travel_times`` from ``--units`` random unit nodes (best of ``--repeat``);
* ``networkx.multi_source_dijkstra_path_length`` on the same fastest-edge weights (once),
  checking that both give the same seconds;
* ``without_units`` removing ``--removed`` random units (best of ``--repeat``), checked
  against a full ``travel_times`` with the remaining units.

One JSON line goes to stdout; progress goes to stderr. Example::

    python benchmarks/engine.py --nodes 100000 --units 500 --removed 42
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import scipy

from coverage import settings
from coverage.data.network import FloatArray, IntArray, RoadNetwork, great_circle_m
from coverage.engine.traveltime import TravelTimes, travel_times, without_units

logger = logging.getLogger("benchmarks.engine")

T = TypeVar("T")

CENTER_LON = 71.55
CENTER_LAT = 34.0
SPACING_M = 80.0
JITTER = 0.2  # of the spacing, uniform in each direction
ONEWAY_SHARE = 0.10  # of non-arterial streets
DELETED_SHARE = 0.05  # of non-arterial segments
ARTERIAL_EVERY = 20  # rows/columns
RESIDENTIAL_KPH = 30.0
ARTERIAL_KPH = 60.0


def road_grid(n_nodes: int, *, seed: int = 0) -> RoadNetwork:
    """Return a new road-like grid network with exactly ``n_nodes`` nodes.

    Nodes sit on a jittered square grid (side ``ceil(sqrt(n_nodes))``, the last row
    partial) about ``SPACING_M`` apart. Every grid line is a street. Non-arterial streets
    are one-way with probability ``ONEWAY_SHARE``, alternating direction by line parity as
    in real grids, and lose each segment with probability ``DELETED_SHARE``. Every
    ``ARTERIAL_EVERY``-th row and column is a two-way arterial at ``ARTERIAL_KPH``.
    """
    if n_nodes < 2:
        raise ValueError(f"--nodes must be at least 2, got {n_nodes}")
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n_nodes))
    idx = np.arange(n_nodes, dtype=np.int64)
    row, col = idx // side, idx % side

    dlat = math.degrees(SPACING_M / settings.EARTH_RADIUS_M)
    dlon = dlat / math.cos(math.radians(CENTER_LAT))
    jitter = rng.uniform(-JITTER, JITTER, size=(2, n_nodes))
    lat = CENTER_LAT + (row - side / 2 + jitter[0]) * dlat
    lon = CENTER_LON + (col - side / 2 + jitter[1]) * dlon

    # segments: row streets are 0..side-1, column streets side..2*side-1
    east = idx[(col < side - 1) & (idx + 1 < n_nodes)]
    north = idx[idx + side < n_nodes]
    seg_a = np.concatenate([east, north])
    seg_b = np.concatenate([east + 1, north + side])
    street = np.concatenate([row[east], side + col[north]])

    line = np.concatenate([np.arange(side), np.arange(side)])
    arterial = line % ARTERIAL_EVERY == ARTERIAL_EVERY // 2
    oneway = ~arterial & (rng.random(2 * side) < ONEWAY_SHARE)
    forward = line % 2 == 0  # a -> b (east/north) on even lines, b -> a on odd ones
    deleted = ~arterial[street] & (rng.random(seg_a.size) < DELETED_SHARE)

    kept = ~deleted
    seg_oneway = oneway[street]
    two = kept & ~seg_oneway
    fwd = kept & seg_oneway & forward[street]
    bwd = kept & seg_oneway & ~forward[street]
    edge_u = np.concatenate([seg_a[two], seg_b[two], seg_a[fwd], seg_b[bwd]])
    edge_v = np.concatenate([seg_b[two], seg_a[two], seg_b[fwd], seg_a[bwd]])
    edge_street = np.concatenate([street[two], street[two], street[fwd], street[bwd]])

    length_m = great_circle_m(lon[edge_u], lat[edge_u], lon[edge_v], lat[edge_v])
    speed_ms = np.where(arterial[edge_street], ARTERIAL_KPH, RESIDENTIAL_KPH) / 3.6
    kinds = np.array(["residential", "primary"], dtype=np.str_)
    highway = kinds[arterial[edge_street].astype(np.int64)]
    street_names = np.array(
        [f"{'Row' if s < side else 'Column'} {s % side} {'Avenue' if a else 'Street'}"
         for s, a in enumerate(arterial)],
        dtype=np.str_,
    )
    n_edges = edge_u.size
    geom_xy = np.stack(
        [np.column_stack([lon[edge_u], lat[edge_u]]), np.column_stack([lon[edge_v], lat[edge_v]])],
        axis=1,
    ).reshape(2 * n_edges, 2)
    return RoadNetwork(
        node_id=1_000_000_000 + idx,
        lon=lon,
        lat=lat,
        edge_u=edge_u,
        edge_v=edge_v,
        length_m=length_m,
        travel_time_s=length_m / speed_ms,
        highway=highway,
        name=street_names[edge_street],
        geom_offsets=np.arange(0, 2 * n_edges + 1, 2, dtype=np.int64),
        geom_xy=geom_xy,
        source=f"synthetic grid n={n_nodes} seed={seed}",
    )


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Call ``fn`` once; return its result and the wall time in seconds."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def best_of(fn: Callable[[], T], repeat: int) -> tuple[T, float]:
    """Call ``fn`` ``repeat`` times; return the last result and the shortest wall time."""
    out, best = timed(fn)
    for _ in range(repeat - 1):
        out, t = timed(fn)
        best = min(best, t)
    return out, best


def networkx_graph(net: RoadNetwork) -> nx.DiGraph:
    """Return a new DiGraph with the fastest-edge weights of ``net.csr`` (node = index)."""
    coo = net.csr.tocoo()
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))
    G.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    return G


def max_abs_diff(a: FloatArray, b: FloatArray) -> float:
    """Largest |a - b| over finite entries; ``inf`` if the unreachable sets differ."""
    fin_a, fin_b = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(fin_a, fin_b):
        return math.inf
    if not fin_a.any():
        return 0.0
    return float(np.max(np.abs(a[fin_a] - b[fin_a])))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the grid, run the timings and checks; return the JSON record."""
    rng = np.random.default_rng(args.seed)
    if not 0 < args.units <= args.nodes:
        raise ValueError(f"--units must be in 1..{args.nodes}, got {args.units}")
    if not 0 <= args.removed <= args.units:
        raise ValueError(f"--removed must be in 0..{args.units}, got {args.removed}")

    net, grid_s = timed(lambda: road_grid(args.nodes, seed=args.seed))
    logger.info("grid: %d nodes, %d edges in %.2f s", net.n_nodes, net.n_edges, grid_s)
    _, build_s = timed(lambda: net.csr)
    logger.info("csr built in %.3f s (%d stored edges)", build_s, net.csr.nnz)

    unit_nodes: IntArray = rng.choice(args.nodes, size=args.units, replace=False)
    unit_ids = [f"U{i:05d}" for i in range(args.units)]
    tt, engine_s = best_of(lambda: travel_times(net, unit_ids, unit_nodes), args.repeat)
    logger.info(
        "engine: %.3f s (best of %d), %d unreachable", engine_s, args.repeat, tt.unreachable
    )

    networkx_s: float | None = None
    speedup: float | None = None
    diff: float | None = None
    if not args.skip_networkx:
        G, nx_build_s = timed(lambda: networkx_graph(net))
        logger.info("networkx graph built in %.1f s (not timed)", nx_build_s)
        sources = {int(n) for n in unit_nodes}
        lengths, networkx_s = timed(
            lambda: nx.multi_source_dijkstra_path_length(G, sources, weight="weight")
        )
        del G
        nx_seconds = np.full(net.n_nodes, np.inf)
        nx_seconds[np.fromiter(lengths.keys(), np.int64, len(lengths))] = np.fromiter(
            lengths.values(), np.float64, len(lengths)
        )
        del lengths
        diff = max_abs_diff(tt.seconds, nx_seconds)
        speedup = networkx_s / engine_s
        logger.info("networkx: %.2f s, speedup %.1fx, max |diff| %.3g s",
                    networkx_s, speedup, diff)
        if not diff < 1e-6:
            raise RuntimeError(f"engine and networkx disagree: max |diff| = {diff} s")

    removed_idx = rng.choice(args.units, size=args.removed, replace=False)
    removed_ids = [unit_ids[i] for i in removed_idx]
    gone = np.zeros(args.units, dtype=bool)
    gone[removed_idx] = True
    affected = int(np.count_nonzero((tt.nearest >= 0) & gone[np.maximum(tt.nearest, 0)]))
    # the first call also builds net.csr_reverse (cached); report it apart from the best
    first, whatif_first_s = timed(lambda: without_units(tt, removed_ids))
    after, whatif_s = best_of(lambda: without_units(tt, removed_ids), args.repeat)
    whatif_s = min(whatif_s, whatif_first_s)
    kept = np.flatnonzero(~gone)
    full, whatif_full_s = best_of(
        lambda: travel_times(net, [unit_ids[i] for i in kept], unit_nodes[kept]), args.repeat
    )
    mismatch = check_whatif(first, after, full)
    logger.info(
        "what-if: %d removed, %d affected nodes, %.4f s (first %.4f s) vs full %.3f s",
        args.removed, affected, whatif_s, whatif_first_s, whatif_full_s,
    )

    return {
        "nodes": net.n_nodes,
        "units": args.units,
        "engine_s": round(engine_s, 4),
        "networkx_s": None if networkx_s is None else round(networkx_s, 3),
        "speedup": None if speedup is None else round(speedup, 1),
        "whatif_s": round(whatif_s, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "edges": net.n_edges,
        "csr_edges": int(net.csr.nnz),
        "removed": args.removed,
        "seed": args.seed,
        "repeat": args.repeat,
        "grid_s": round(grid_s, 3),
        "build_s": round(build_s, 4),
        "unreachable": tt.unreachable,
        "whatif_first_s": round(whatif_first_s, 4),
        "whatif_full_s": round(whatif_full_s, 4),
        "whatif_affected_nodes": affected,
        "whatif_nearest_mismatch": mismatch,
        "max_abs_diff_s": diff,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "networkx": nx.__version__,
    }


def check_whatif(first: TravelTimes, after: TravelTimes, full: TravelTimes) -> int:
    """Raise RuntimeError unless the incremental what-if equals the full recomputation.

    Returns the number of nodes assigned to a different (equally fast) unit.
    """
    for name, got in (("first", first), ("repeat", after)):
        same_inf = np.array_equal(np.isinf(got.seconds), np.isinf(full.seconds))
        fin = np.isfinite(full.seconds)
        if not same_inf or not np.allclose(got.seconds[fin], full.seconds[fin], rtol=0,
                                           atol=1e-6):
            diff = max_abs_diff(got.seconds, full.seconds)
            raise RuntimeError(f"without_units ({name}) differs from a full run by {diff} s")
        if got.unit_ids != full.unit_ids:
            raise RuntimeError("without_units kept different unit ids than the full run")
    return int(np.count_nonzero(after.nearest != full.nearest))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--nodes", type=int, required=True, help="number of road nodes")
    p.add_argument("--units", type=int, required=True, help="number of units (sources)")
    p.add_argument("--removed", type=int, required=True, help="units removed in the what-if")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--repeat", type=int, default=3, help="best of K engine runs (default 3)")
    p.add_argument("--skip-networkx", action="store_true", help="skip the slow networkx run")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one JSON line."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    record = run(args)
    print(json.dumps(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

