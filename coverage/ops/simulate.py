"""Feed simulator: on-duty officers drive shortest paths over the road network; SIMULATED data.

Each on-duty officer starts at its own position (else its station), snapped to the nearest
road node, picks a random node within ``trip_s`` of travel, drives there along the
fastest path, waits up to ``dwell_s``, and picks again. Speeds come from each edge's
travel time, clamped to ``settings.SIM_MIN_SPEED_KPH``..``SIM_MAX_SPEED_KPH``. Reports are
written through the same validation and store path as a real feed, with
``source='simulated'``. The same seed and start time give the same reports.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage import settings
from coverage.data.network import FloatArray, IntArray, RoadNetwork, great_circle_m
from coverage.ops._tail import Idle
from coverage.ops.feed import IDLE, IngestResult, RawRecord, ingest_records
from coverage.ops.store import Store

logger = logging.getLogger(__name__)

SOURCE = "simulated"


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation wrote: officers moved, time steps, and the ingest counts."""

    officers: int
    steps: int
    start: datetime
    end: datetime
    ingest: IngestResult
    failed: int = 0  # with ``via``: requests the server did not answer 200 or 400


@dataclass(frozen=True, eq=False)
class _Roads:
    """The network with simulation times: fastest edge per node pair, its index and CSR."""

    net: RoadNetwork
    csr: sp.csr_array
    pair_key: IntArray  # sorted u * n + v of each kept pair
    pair_edge: IntArray  # the edge index of that pair
    sim_s: FloatArray  # per edge, seconds at the clamped speed


def _roads(net: RoadNetwork, min_kph: float, max_kph: float) -> _Roads:
    length = np.where(np.isfinite(net.length_m), net.length_m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kph = np.where(net.travel_time_s > 0, length / net.travel_time_s * 3.6, max_kph)
    sim_s = length / (np.clip(kph, min_kph, max_kph) / 3.6)
    order = np.lexsort((sim_s, net.edge_v, net.edge_u))
    u, v = net.edge_u[order], net.edge_v[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    keep = order[first]
    n = net.n_nodes
    csr = sp.csr_array((sim_s[keep], (net.edge_u[keep], net.edge_v[keep])), shape=(n, n))
    return _Roads(net, csr, net.edge_u[keep] * n + net.edge_v[keep], keep, sim_s)


class _Officer:
    """One simulated officer's trip: path edges, cumulative seconds, and when it started."""

    def __init__(self, officer_id: str, node: int) -> None:
        self.officer_id, self.node = officer_id, node
        self.edges: IntArray = np.empty(0, dtype=np.int64)
        self.ends: FloatArray = np.empty(0)
        self.depart = 0.0

    def plan(self, roads: _Roads, rng: np.random.Generator, at: float, trip_s: float,
             dwell_s: float) -> None:
        dist, pred = dijkstra(roads.csr, directed=True, indices=[self.node],
                              return_predecessors=True, limit=trip_s)
        dist, pred = dist[0], pred[0]
        targets = np.flatnonzero(np.isfinite(dist) & (dist > 0))
        self.depart = at + float(rng.uniform(0, dwell_s))
        if not len(targets):
            self.edges, self.ends = np.empty(0, dtype=np.int64), np.empty(0)
            return
        node = int(rng.choice(targets))
        nodes = [node]
        while nodes[-1] != self.node:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        n = roads.net.n_nodes
        keys = np.asarray(nodes[:-1], dtype=np.int64) * n + np.asarray(nodes[1:], dtype=np.int64)
        self.edges = roads.pair_edge[np.searchsorted(roads.pair_key, keys)]
        self.ends = np.cumsum(roads.sim_s[self.edges])
        self.node = node

    def where(self, roads: _Roads, at: float) -> tuple[float, float, float, float] | None:
        """(lon, lat, speed km/h, heading) at time ``at``; None once the trip is over."""
        elapsed = at - self.depart
        net = roads.net
        if not len(self.edges) or elapsed >= self.ends[-1]:
            return None
        if elapsed < 0:  # waiting before the trip: at its first node
            k = int(self.edges[0])
            return float(net.lon[net.edge_u[k]]), float(net.lat[net.edge_u[k]]), 0.0, 0.0
        i = int(np.searchsorted(self.ends, elapsed, side="right"))
        k = int(self.edges[i])
        begin = self.ends[i - 1] if i else 0.0
        frac = (elapsed - begin) / roads.sim_s[k] if roads.sim_s[k] > 0 else 0.0
        lon, lat, heading = _along(net, k, frac)
        speed = net.length_m[k] / roads.sim_s[k] * 3.6 if roads.sim_s[k] > 0 else 0.0
        return lon, lat, float(speed), heading


def _along(net: RoadNetwork, k: int, frac: float) -> tuple[float, float, float]:
    """Point at ``frac`` of edge ``k``'s drawn length, and the heading there (degrees)."""
    xy = net.edge_coords(k)
    u = net.edge_u[k]
    if len(xy) > 1 and (xy[0, 0], xy[0, 1]) != (net.lon[u], net.lat[u]):
        d0 = great_circle_m(xy[0, 0], xy[0, 1], net.lon[u], net.lat[u])
        d1 = great_circle_m(xy[-1, 0], xy[-1, 1], net.lon[u], net.lat[u])
        xy = xy[::-1] if d1 < d0 else xy
    seg = great_circle_m(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    if cum[-1] <= 0:
        return float(xy[0, 0]), float(xy[0, 1]), 0.0
    target = min(max(frac, 0.0), 1.0) * cum[-1]
    j = min(int(np.searchsorted(cum, target, side="right")) - 1, len(seg) - 1)
    t = (target - cum[j]) / seg[j] if seg[j] > 0 else 0.0
    (x0, y0), (x1, y1) = xy[j], xy[j + 1]
    east = (x1 - x0) * math.cos(math.radians(y0))
    heading = math.degrees(math.atan2(east, y1 - y0)) % 360.0
    return float(x0 + t * (x1 - x0)), float(y0 + t * (y1 - y0)), heading


def simulate_records(net: RoadNetwork, officers: gpd.GeoDataFrame, *, seconds: float,
                     interval_s: float, seed: int, start: datetime,
                     realtime: bool = False, stop: threading.Event | None = None,
                     trip_s: float = 600.0, dwell_s: float = 120.0,
                     min_kph: float = settings.SIM_MIN_SPEED_KPH,
                     max_kph: float = settings.SIM_MAX_SPEED_KPH
                     ) -> Iterator[RawRecord | Idle]:
    """Yield one report per on-duty officer every ``interval_s`` for ``seconds``.

    Report ``i`` is timestamped ``start + i * interval_s`` (aware ``start``). With
    ``realtime`` each step waits for the wall clock to reach its timestamp, and an
    :data:`~coverage.ops.feed.IDLE` marker after each step has the ingester commit it at once.
    """
    rng = np.random.default_rng(seed)
    roads = _roads(net, min_kph, max_kph)
    units = officers.loc[officers["status"] == "on_duty"]
    nodes, _ = net.nearest_nodes(units.geometry.x.to_numpy(), units.geometry.y.to_numpy())
    fleet = [_Officer(str(o), int(n)) for o, n in zip(units["officer_id"], nodes, strict=True)]
    for f in fleet:
        f.plan(roads, rng, 0.0, trip_s, dwell_s)
    line = 0
    for step in range(int(seconds // interval_s) + 1):
        at = step * interval_s
        stamp = start + timedelta(seconds=at)
        if realtime:
            wait = (stamp - datetime.now(UTC)).total_seconds()
            if stop is not None and stop.wait(max(wait, 0.0)):
                return
            if stop is None and wait > 0:
                time.sleep(wait)
        if stop is not None and stop.is_set():
            return
        text = stamp.isoformat(timespec="milliseconds")
        for f in fleet:
            here = f.where(roads, at)
            if here is None:
                f.plan(roads, rng, at, trip_s, dwell_s)
                here = f.where(roads, at) or (float(net.lon[f.node]), float(net.lat[f.node]),
                                              0.0, 0.0)
            lon, lat, speed, heading = here
            fields = {"officer_id": f.officer_id, "lat": round(lat, 6), "lon": round(lon, 6),
                      "timestamp": text, "status": "on_duty", "speed_kph": round(speed, 1),
                      "heading_deg": round(heading, 1)}
            line += 1
            yield RawRecord(line, json.dumps(fields), fields=fields)
        if realtime:
            yield IDLE


def simulate_feed(store: Store, net: RoadNetwork, officers: gpd.GeoDataFrame, *,
                  seconds: float = 600.0, interval_s: float = 10.0, seed: int = 0,
                  start: datetime | None = None, realtime: bool = False,
                  stop: threading.Event | None = None) -> SimulationResult:
    """Simulate the on-duty officers' movement and store it as ``source='simulated'``.

    Parameters
    ----------
    store, net, officers
        An open store, the compiled road network, the officers frame (not modified).
    seconds, interval_s
        Simulated duration and time between reports.
    seed
        Random seed: the same seed and ``start`` give the same reports.
    start
        Time of the first report (aware). Default: ``seconds`` before now, so the last
        reports are current; with ``realtime``, now.
    realtime
        Pace the reports with the wall clock (a live demo) instead of writing at once.
    """
    if not (seconds >= 0 and interval_s > 0):
        msg = f"seconds must be >= 0 and interval_s > 0, got {seconds} and {interval_s}"
        raise ValueError(msg)
    now = datetime.now(UTC)
    first = start or (now if realtime else now - timedelta(seconds=seconds))
    records = simulate_records(net, officers, seconds=seconds, interval_s=interval_s,
                               seed=seed, start=first, realtime=realtime, stop=stop)
    result = ingest_records(store, records, input_name=f"simulate-feed seed={seed}",
                            fmt="simulated", source=SOURCE)
    n_units = int((officers["status"] == "on_duty").sum())
    steps = result.read // n_units if n_units else 0
    logger.info("simulated %d officers for %d steps: %s", n_units, steps, result.summary())
    return SimulationResult(n_units, steps, first,
                            first + timedelta(seconds=max(steps - 1, 0) * interval_s), result)


def post_feed(url: str, net: RoadNetwork, officers: gpd.GeoDataFrame, *,
              token: str | None = None, seconds: float = 600.0, interval_s: float = 10.0,
              seed: int = 0, start: datetime | None = None, realtime: bool = False,
              stop: threading.Event | None = None) -> SimulationResult:
    """As :func:`simulate_feed`, but POST each report to a running ``serve-feed`` at ``url``.

    The reports are OsmAnd JSON bodies (Traccar Client's format) marked
    ``extras.simulated``, so the server stores them as ``source='simulated'``. In the
    result, ``accepted`` counts 200 answers (new or duplicate), ``rejected`` 400 answers,
    and ``failed`` the rest (401, 429, 503, no answer).
    """
    from coverage.ops.feedclient import PostCounts, osmand_body, post_positions

    t0 = time.perf_counter()
    first = start or (datetime.now(UTC) if realtime
                      else datetime.now(UTC) - timedelta(seconds=seconds))
    counts, batch = PostCounts(), list[dict[str, object]]()

    def flush() -> None:
        if batch:
            counts.add(post_positions(url, batch, token=token))
            batch.clear()

    for rec in simulate_records(net, officers, seconds=seconds, interval_s=interval_s,
                                seed=seed, start=first, realtime=realtime, stop=stop):
        if isinstance(rec, Idle):
            flush()
            continue
        f = rec.fields or {}
        batch.append(osmand_body(f["officer_id"], f["lat"], f["lon"], f["timestamp"],
                                 speed_kph=f["speed_kph"], heading_deg=f["heading_deg"],
                                 simulated=True))
        if len(batch) >= 2_000:
            flush()
    flush()
    for reason in counts.reasons[:3]:
        logger.warning("simulate-feed --via %s: %s", url, reason)
    n_units = int((officers["status"] == "on_duty").sum())
    steps = counts.sent // n_units if n_units else 0
    result = IngestResult(url, 0, counts.sent, counts.ok, 0, counts.rejected,
                          time.perf_counter() - t0)
    return SimulationResult(n_units, steps, first,
                            first + timedelta(seconds=max(steps - 1, 0) * interval_s), result,
                            counts.failed)


@dataclass(frozen=True)
class Background:
    """A feed running in a daemon thread: set ``stop`` to end it; ``alive`` until it ends."""

    thread: threading.Thread
    stop: threading.Event

    @property
    def alive(self) -> bool:
        """True while the thread runs (it ends when stopped, finished or failed)."""
        return self.thread.is_alive()


def run_in_background(store: Store, net: RoadNetwork, officers: gpd.GeoDataFrame, *,
                      interval_s: float = 5.0, hours: float = 24.0,
                      seed: int = 0) -> Background:
    """Start a daemon thread feeding simulated positions in real time; return its handle.

    For the demo's live map: the same reports as ``simulate-feed --realtime``, written as
    ``source='simulated'``. Errors (a store that went away) end the thread and are logged,
    not raised; the caller may start another (see :attr:`Background.alive`).
    """
    stop = threading.Event()

    def run() -> None:
        try:
            simulate_feed(store, net, officers, seconds=hours * 3600.0, interval_s=interval_s,
                          seed=seed, realtime=True, stop=stop)
        except Exception:  # a background feed must never take the app down
            logger.exception("simulated feed stopped")

    thread = threading.Thread(target=run, name="seccov-simulated-feed", daemon=True)
    thread.start()
    logger.info("simulated feed: %d officers every %g s", int((officers["status"]
                                                               == "on_duty").sum()), interval_s)
    return Background(thread, stop)
