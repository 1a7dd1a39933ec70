"""Backfill: where to send k reserve officers so the DATA.md objective is as high as it can be.

Given a run's :class:`~coverage.engine.analysis.Coverage` (a plain run or a scenario), the zone
nodes it leaves uncovered are the demand; a candidate site covers a node when a unit
leaving from it (after ``turnout_s``) reaches the node within its zone's target. The siting
problem (:mod:`coverage.planning.siting`) is solved exactly with HiGHS for up to ``exact_limit``
candidate sites and by lazy greedy (with its optimality bound) beyond. Then each placement
gets a real reserve officer, nearest first, and ``objective_after`` is measured by running
the chosen deployment as a :class:`~coverage.planning.scenario.Scenario`.

Examples
--------
>>> from coverage import load_dataset, analyse  # doctest: +SKIP
>>> bf = backfill(analyse(ds, suspended=ids), 42)  # doctest: +SKIP
>>> bf.objective_after - bf.objective_before, bf.optimal  # doctest: +SKIP
(531, True)
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pyogrio
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import IntArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import within_target
from coverage.engine.traveltime import times_from
from coverage.engine.units import apply_suspension, place_units
from coverage.errors import DataError, DataWarning
from coverage.planning.objective import (
    Demand,
    Weights,
    as_number,
    covered,
    demand,
    objective,
    shortfall,
)
from coverage.planning.scenario import Deployment, Scenario, apply_scenario
from coverage.planning.siting import Problem, Solution, marginal_order, solve_exact, solve_greedy

logger = logging.getLogger(__name__)

#: Up to this many candidate sites the MILP is solved; beyond, the lazy greedy.
EXACT_LIMIT = 1000


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate sites: road node indices and their labels (station ids or node ids)."""

    node: IntArray
    label: tuple[str, ...]
    kind: str


@dataclass(frozen=True)
class Move:
    """One reserve officer's move, in rank order; gains are marginal (given earlier moves)."""

    rank: int
    officer_id: str
    from_station: str
    site: str
    node_id: int
    lon: float
    lat: float
    travel_min: float | None
    gain: float
    officers_short_reduced: int


@dataclass(frozen=True, eq=False)
class Backfill:
    """A backfill plan: the ranked moves, the objective before and after, and the bound.

    ``bound`` is an upper bound on any ``objective_after`` reachable with these sites and
    reserves; ``optimal`` says the coverage objective is proven optimal. ``after`` is the
    coverage with the reserves placed and ``scenario`` the deployment, ready to save.
    """

    before: Coverage
    after: Coverage
    scenario: Scenario
    sites: Sites
    moves: tuple[Move, ...]
    objective_before: float
    objective_after: float
    objective_max: float
    bound: float
    optimal: bool
    method: str
    requested: int
    reserves_available: int
    notes: tuple[str, ...]


def read_area(path: str | Path) -> Any:
    """Read a polygon file (GeoJSON, GeoPackage, zipped Shapefile) as one WGS84 geometry."""
    p = Path(path)
    try:
        frame = gpd.read_file(p)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            ValueError) as exc:
        msg = f"{p.name}: cannot be read as a polygon file ({exc})"
        raise DataError(msg) from exc
    if frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    geoms = [g for g in frame.geometry if g is not None and not g.is_empty]
    bad = [i + 1 for i, g in enumerate(geoms) if g.geom_type not in ("Polygon", "MultiPolygon")]
    if not geoms or bad:
        msg = (f"{p.name}: row(s) {bad} are not polygons; draw the area as polygons" if bad
               else f"{p.name}: the file holds no polygon; draw the candidate area")
        raise DataError(msg)
    return shapely.union_all([shapely.make_valid(g) for g in geoms])


def candidate_sites(
    cov: Coverage, *, kind: Literal["stations", "nodes"] = "stations", area: Any = None
) -> Sites:
    """Return the candidate sites: each station's road node, or every road node.

    ``area`` (a shapely polygon in lon/lat) keeps only the sites inside it. Stations that
    snap to the same node share one site, labelled ``"PS-01/PS-02"``.
    """
    net = cov.times.network
    if kind == "stations":
        st = cov.dataset.stations
        node, _ = net.nearest_nodes(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
        labels: dict[int, list[str]] = {}
        for n, sid in zip(node.tolist(), st["station_id"], strict=True):
            labels.setdefault(n, []).append(str(sid))
        nodes = np.array(sorted(labels), dtype=np.int64)
        names = tuple("/".join(labels[n]) for n in nodes.tolist())
    elif kind == "nodes":
        nodes = np.arange(net.n_nodes, dtype=np.int64)
        names = ()
    else:
        msg = f"candidates: '{kind}' is not one of stations, nodes"
        raise DataError(msg)
    if area is not None:
        inside = shapely.intersects_xy(area, net.lon[nodes], net.lat[nodes])
        nodes = nodes[inside]
        names = tuple(n for n, keep in zip(names, inside, strict=True) if keep) if names else ()
        if nodes.size == 0:
            msg = f"area: no candidate {kind[:-1]} lies inside the given area"
            raise DataError(msg)
    if kind == "nodes":
        names = tuple(str(v) for v in net.node_id[nodes])
    return Sites(node=nodes, label=names, kind=kind)


def coverage_matrix(
    cov: Coverage, dem: Demand, sites: Sites, *, turnout_s: float = 0.0
) -> tuple[sp.csc_array, IntArray]:
    """Return (cover, items): ``cover[i, s]`` says site ``s`` covers uncovered item ``items[i]``.

    Searches run forward from the sites when they are no more than the uncovered zone nodes
    (exactly the engine's sums), else backward from those nodes, each within its target.
    """
    net = cov.times.network
    items = np.flatnonzero(~covered(dem, cov.times.seconds))
    n_sites = sites.node.size
    if items.size == 0 or n_sites == 0:
        return sp.csc_array((items.size, n_sites), dtype=bool), items
    targets = dem.target_min[items]
    nodes, inv = np.unique(dem.node[items], return_inverse=True)
    limit = float(targets.max()) * 60.0 * (1 + 1e-9) + 1e-6
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    if n_sites <= nodes.size:
        delay = np.full(n_sites, turnout_s) if turnout_s > 0 else None
        t = times_from(net, sites.node, delay_s=delay, limit_s=limit, columns=nodes)
        s_idx, i_idx = np.nonzero(t[:, inv] / 60.0 <= targets[None, :])
        rows, cols = [i_idx], [s_idx]
    else:
        # backward from each uncovered node, nodes with tight targets together (each chunk
        # searches only as far as its own largest target)
        reach = np.zeros(nodes.size)
        np.maximum.at(reach, inv, targets)
        order = np.argsort(reach, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        for lo in range(0, nodes.size, 64):
            chunk = order[lo:lo + 64]
            far = float(reach[chunk].max()) * 60.0 * (1 + 1e-9) + 1e-6
            back = dijkstra(net.csr_reverse, directed=True, indices=nodes[chunk],
                            limit=max(far - turnout_s, 0.0))[:, sites.node] + turnout_s
            mine = np.flatnonzero((rank[inv] >= lo) & (rank[inv] < lo + 64))
            i_idx, s_idx = np.nonzero(back[rank[inv[mine]] - lo] / 60.0 <= targets[mine, None])
            rows.append(mine[i_idx])
            cols.append(s_idx)
    r, c = np.concatenate(rows), np.concatenate(cols)
    cover = sp.csc_array((np.ones(r.size, dtype=bool), (r, c)), shape=(items.size, n_sites))
    return cover, items


def _reserves(cov: Coverage, requested: int) -> tuple[Any, int, list[str]]:
    if isinstance(requested, bool) or not isinstance(requested, int | np.integer) or requested < 0:
        msg = f"reserves: give a whole number of officers >= 0, got {requested!r}"
        raise DataError(msg)
    officers = apply_suspension(cov.dataset.officers, cov.suspended)
    pool = officers.loc[officers["status"] == "reserve"].sort_values("officer_id")
    notes = []
    if requested > len(pool):
        note = (f"{requested} reserves requested but only {len(pool)} reserve officer(s) are "
                f"available; using all {len(pool)}")
        warnings.warn(f"backfill: {note}", DataWarning, stacklevel=3)
        notes.append(note)
    return pool.reset_index(drop=True), min(int(requested), len(pool)), notes


def backfill(
    cov: Coverage,
    reserves: int,
    *,
    candidates: Literal["stations", "nodes"] = "stations",
    area: Any = None,
    weights: Weights | None = None,
    site_capacity: int | None = None,
    turnout_s: float = 0.0,
    method: Literal["auto", "exact", "greedy"] = "auto",
    exact_limit: int = EXACT_LIMIT,
    time_limit_s: float = 60.0,
) -> Backfill:
    """Choose sites for up to ``reserves`` reserve officers and say who goes where.

    Parameters
    ----------
    cov
        The run to improve (its available units stay where they are).
    reserves
        How many reserves may move; more than the reserve officers available uses them all
        (a DataWarning says so). Fewer are placed when more would add nothing.
    candidates, area
        Sites: stations' road nodes, or road nodes; ``area`` (shapely, lon/lat) restricts.
    weights
        Demand weight per priority (see :func:`coverage.planning.objective.zone_weights`).
    site_capacity
        Most reserves per site (default: no limit). Extra reserves at one site add no
        coverage, only officers within target.
    turnout_s
        Seconds before a placed reserve starts moving from its site.
    method
        ``"auto"``: exact up to ``exact_limit`` candidate sites, else greedy.

    Returns
    -------
    Backfill
        Moves ranked by marginal gain; each takes the nearest remaining reserve officer (by
        travel time from where the officer stands, ties by officer id).
    """
    pool, k, notes = _reserves(cov, reserves)
    sites = candidate_sites(cov, kind=candidates, area=area)
    dem = demand(cov.zones, weights=weights)
    cover, items = coverage_matrix(cov, dem, sites, turnout_s=turnout_s)
    delay = np.full(sites.node.size, turnout_s) if turnout_s > 0 else None
    counts = within_target(cov.zones, cov.reach_s, sites.node, delay)
    within = cov.table["officers_within_target"].to_numpy(dtype=np.int64)
    cap = k if site_capacity is None else max(0, int(site_capacity))
    pb = Problem(cover=cover, item_weight=dem.weight[items], counts=counts,
                 short=shortfall(cov.zones, within), zone_weight=dem.zone_weight, k=k,
                 capacity=np.full(sites.node.size, cap, dtype=np.int64))
    exact = method == "exact" or (method == "auto" and sites.node.size <= exact_limit)
    sol: Solution = solve_exact(pb, time_limit_s=time_limit_s) if exact else solve_greedy(pb)
    order = marginal_order(pb, sol.count)
    moves = _assign(cov, pool, sites, order, counts=counts, short=pb.short)
    scenario = Scenario(
        name=f"backfill of {len(moves)} reserve(s)",
        deploy=tuple(Deployment(m.officer_id, node_id=m.node_id) for m in moves),
        unit_turnout_s=tuple((m.officer_id, turnout_s) for m in moves) if turnout_s else (),
    )
    after = apply_scenario(cov, scenario) if moves else cov
    before_v = objective(dem, cov.times.seconds)
    if len(moves) < k:
        notes.append(f"{len(moves)} of {k} reserve(s) placed; more would add nothing")
    notes += [f"{m.officer_id} cannot reach site {m.site} over the road network (one-way "
              "streets?); the placement assumes the officer gets there" for m in moves
              if m.travel_min is None]
    logger.info("backfill: %d site(s), %d reserve(s) placed, objective %.0f -> %.0f (%s)",
                sites.node.size, len(moves), before_v, objective(dem, after.times.seconds),
                sol.method)
    return Backfill(
        before=cov, after=after, scenario=scenario, sites=sites, moves=tuple(moves),
        objective_before=before_v, objective_after=objective(dem, after.times.seconds),
        objective_max=dem.total, bound=before_v + sol.bound, optimal=sol.optimal,
        method=sol.method, requested=int(reserves), reserves_available=len(pool),
        notes=tuple(notes),
    )


def _assign(
    cov: Coverage, pool: Any, sites: Sites, order: list[tuple[int, float, float]], *,
    counts: np.ndarray, short: IntArray,
) -> list[Move]:
    """Give each ranked placement the nearest remaining reserve officer."""
    if not order:
        return []
    added = np.cumsum(counts[:, [s for s, _, _ in order]], axis=1)
    met = np.minimum(added, short[:, None]).sum(axis=0)
    reduced = np.diff(np.concatenate([[0], met]))
    net = cov.times.network
    placed = place_units(cov.dataset.network, pool, what="reserve officers")
    targets = np.unique([sites.node[s] for s, _, _ in order])
    # seconds from every node to each chosen site, searched against traffic
    to_site = dijkstra(net.csr_reverse, directed=True, indices=targets)
    col = {int(n): i for i, n in enumerate(targets)}
    free = np.ones(len(pool), dtype=bool)
    moves = []
    for rank, (s, gain, _) in enumerate(order, start=1):
        node = int(sites.node[s])
        secs = np.where(free, to_site[col[node]][placed.node], np.inf)
        r = int(np.flatnonzero(free)[0]) if not np.isfinite(secs).any() else int(np.argmin(secs))
        free[r] = False
        travel = float(secs[r])
        moves.append(Move(
            rank=rank, officer_id=str(pool["officer_id"].iloc[r]),
            from_station=str(pool["station_id"].iloc[r]), site=sites.label[s],
            node_id=int(net.node_id[node]), lon=float(net.lon[node]), lat=float(net.lat[node]),
            travel_min=travel / 60.0 if np.isfinite(travel) else None, gain=gain,
            officers_short_reduced=int(reduced[rank - 1]),
        ))
    return moves


def backfill_dict(bf: Backfill) -> dict[str, Any]:
    """Return the JSON object of ``python -m coverage backfill`` (see docs/planning.md)."""
    placements: dict[str, dict[str, Any]] = {}
    for m in bf.moves:
        p = placements.setdefault(m.site, {
            "site": m.site, "node_id": m.node_id, "lat": m.lat, "lon": m.lon, "count": 0,
            "officers": [], "gain": 0.0, "officers_short_reduced": 0})
        p["count"] += 1
        p["officers"].append(m.officer_id)
        p["gain"] += m.gain
        p["officers_short_reduced"] += m.officers_short_reduced
    for p in placements.values():
        p["gain"] = as_number(p["gain"])
    return {
        "placements": list(placements.values()),
        "objective_before": as_number(bf.objective_before),
        "objective_after": as_number(bf.objective_after),
        "optimal": bf.optimal,
        "method": bf.method,
        "bound": as_number(round(bf.bound, 9)),
        "objective_max": as_number(bf.objective_max),
        "officers_short_before": bf.before.overall.officers_short,
        "officers_short_after": bf.after.overall.officers_short,
        "reserves_requested": bf.requested,
        "reserves_available": bf.reserves_available,
        "reserves_placed": len(bf.moves),
        "moves": [{**vars(m), "gain": as_number(m.gain)} for m in bf.moves],
        "candidates": bf.sites.kind,
        "candidate_sites": int(bf.sites.node.size),
        "threshold_min": bf.before.threshold_min,
        "suspended": len(bf.before.suspended),
        "scenario_sha256": bf.scenario.sha256,
        "notes": list(bf.notes),
    }


def backfill_table(bf: Backfill) -> str:
    """Return the plan as aligned text: the summary, then one line per move."""
    lines = [
        f"Objective {as_number(bf.objective_before)} -> {as_number(bf.objective_after)} of "
        f"{as_number(bf.objective_max)} ({'optimal' if bf.optimal else 'not proven optimal'}"
        f", {bf.method}, bound {as_number(round(bf.bound, 9))})",
        f"Officers short {bf.before.overall.officers_short} -> "
        f"{bf.after.overall.officers_short}; reserves placed {len(bf.moves)} of "
        f"{bf.requested} requested ({bf.reserves_available} available)",
        *(f"Note: {n}" for n in bf.notes), "",
    ]
    header = ["rank", "officer", "from", "to site", "travel_min", "gain", "short-"]
    body = [[str(m.rank), m.officer_id, m.from_station, m.site,
             "-" if m.travel_min is None else f"{m.travel_min:.1f}",
             str(as_number(round(m.gain, 6))), str(m.officers_short_reduced)]
            for m in bf.moves]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append("  ".join(c.ljust(w) if i in (1, 2, 3) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines).rstrip()
