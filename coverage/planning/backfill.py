"""Backfill: where to send k reserves and which m on-duty officers to move, for the best objective.

Given a run's :class:`~coverage.engine.analysis.Coverage` (a plain run or a scenario), the zone
nodes it leaves uncovered are the demand; a candidate site covers a node when a unit
leaving from it (after ``turnout_s``) reaches the node within its zone's target. The siting
problem (:mod:`coverage.planning.siting`) is solved exactly with HiGHS for up to ``exact_limit``
candidate sites and by lazy greedy (with its optimality bound) beyond. With ``moves=m`` the
plan may also move up to m available on-duty officers (:mod:`coverage.planning.relocation`;
what a moved officer covered from its old position is lost). Then each reserve placement
gets a real reserve officer, nearest first, and ``objective_after`` is measured by running
the chosen plan as a :class:`~coverage.planning.scenario.Scenario`.

Examples
--------
Each zone node weighs 3 here (Z1 has priority 1, Z2 none): 4 nodes, at most 12.

>>> from coverage.data.examples import example_dataset
>>> from coverage.engine.analysis import analyse, suspend
>>> base = analyse(example_dataset(), threshold_min=10)
>>> bf = backfill(suspend(base, ["A", "B"]), 1)   # D is left at node 5; one reserve: C
>>> bf.objective_before, bf.objective_after, bf.objective_max, bf.optimal
(3.0, 6.0, 12.0, True)
>>> [(p.officer_id, p.site) for p in bf.placed]   # node 1 (Z2); node 3 is 33 s away, Z1 wants 30
[('C', 'S1')]

Without B, moving A from node 1 to node 3 (33 s) covers node 3 and still node 1: 6 -> 9.

>>> bf = backfill(suspend(base, ["B"]), 0, moves=1, candidates="nodes", max_move_min=1)
>>> [(m.officer_id, m.site, round(m.travel_min, 2)) for m in bf.moves], bf.objective_after
([('A', '3', 0.55)], 9.0)
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace
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
from coverage.engine.traveltime import reach_to, times_from
from coverage.engine.units import apply_suspension, place_units
from coverage.errors import DataError, DataWarning
from coverage.planning.expected import expected_coverage, reach_matrix
from coverage.planning.kit import KitBudget, held_back_officers, kit_dict, kit_note
from coverage.planning.objective import (
    Demand,
    Weights,
    as_number,
    covered,
    demand,
    objective,
    shortfall,
)
from coverage.planning.relocation import (
    MoveProblem,
    ranked,
    solve_moves_exact,
    solve_moves_greedy,
)
from coverage.planning.robust import RefusalRisk, robust_problem, solve_robust
from coverage.planning.scenario import Deployment, Scenario, apply_scenario
from coverage.planning.siting import Problem, marginal_order, solve_exact, solve_greedy

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
class ReservePlacement:
    """One reserve officer sent to a site; gains are marginal (given the orders ranked before)."""

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
    from_lon: float
    from_lat: float


@dataclass(frozen=True)
class OfficerMove:
    """One available on-duty officer moved from where it stands to a site (DATA.md ``moves``).

    ``gain`` is marginal (given the orders ranked before; it may be below what the site
    alone adds, since the officer's old position is left); ``travel_min`` from its position.
    """

    rank: int
    officer_id: str
    from_station: str
    site: str
    node_id: int
    lon: float
    lat: float
    travel_min: float
    gain: float
    officers_short_reduced: int
    from_lon: float
    from_lat: float


@dataclass(frozen=True, eq=False)
class Backfill:
    """A backfill plan: ranked reserve placements and moves, the objective before and after.

    ``bound`` is an upper bound on any ``objective_after`` reachable with these sites,
    reserves and moves; ``optimal`` says the coverage objective is proven optimal. ``after``
    is the coverage with the plan carried out and ``scenario`` the plan, ready to save.
    """

    before: Coverage
    after: Coverage
    scenario: Scenario
    sites: Sites
    placed: tuple[ReservePlacement, ...]
    moves: tuple[OfficerMove, ...]
    objective_before: float
    objective_after: float
    objective_max: float
    bound: float
    optimal: bool
    method: str
    requested: int
    reserves_available: int
    moves_requested: int
    max_move_min: float | None
    notes: tuple[str, ...]
    expected_before: float | None = None
    expected_after: float | None = None
    expected_bound: float | None = None
    kit: KitBudget | None = None
    held_back: dict[str, tuple[str, ...]] | None = None


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
    cov: Coverage, dem: Demand, sites: Sites, *, turnout_s: float = 0.0,
    items: IntArray | None = None,
) -> tuple[sp.csc_array, IntArray]:
    """Return (cover, items): ``cover[i, s]`` says site ``s`` covers item ``items[i]``.

    ``items`` defaults to the items the run leaves uncovered. Searches run forward from the
    sites when they are no more than the items' nodes (exactly the engine's sums), else
    backward from those nodes, each within its target.
    """
    net = cov.times.network
    if items is None:
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
        # backward from each uncovered node, sparse and bounded (reach_to): each node only as
        # far as its own largest target, less the turnout; a site is any node in reach
        reach = np.zeros(nodes.size)
        np.maximum.at(reach, inv, targets)
        far = np.maximum(reach * 60.0 * (1 + 1e-9) + 1e-6 - turnout_s, 0.0)
        site_of = np.full(net.n_nodes, -1, dtype=np.int64)
        site_of[sites.node] = np.arange(n_sites)
        by_node = np.argsort(inv, kind="stable")  # items grouped by their node
        first = np.searchsorted(inv[by_node], np.arange(nodes.size + 1))
        for lo in range(0, nodes.size, 1024):  # in parts: memory ~ a part's entries
            hi = min(lo + 1024, nodes.size)
            back = reach_to(net, nodes[lo:hi], limit_s=far[lo:hi])
            at = site_of[back.node]
            keep = at >= 0
            kept = np.concatenate([[0], np.cumsum(keep)])[back.indptr]
            size, start = np.diff(kept), kept[:-1]  # per node: its entries at a site
            site, seconds = at[keep], back.seconds[keep] + turnout_s
            del back, at, keep
            mine = by_node[first[lo]:first[hi]]
            per = size[inv[mine] - lo]
            item = np.repeat(mine, per)
            pos = np.repeat(start[inv[mine] - lo] - np.cumsum(per) + per, per) \
                + np.arange(int(per.sum()))
            ok = seconds[pos] / 60.0 <= targets[item]
            rows.append(item[ok].astype(np.int32))
            cols.append(site[pos[ok]].astype(np.int32))
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


def _whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        msg = f"{name}: give a whole number of officers >= 0, got {value!r}"
        raise DataError(msg)
    return int(value)


def backfill(
    cov: Coverage,
    reserves: int,
    *,
    moves: int = 0,
    max_move_min: float | None = None,
    candidates: Literal["stations", "nodes"] = "stations",
    area: Any = None,
    weights: Weights | None = None,
    site_capacity: int | None = None,
    turnout_s: float = 0.0,
    method: Literal["auto", "exact", "greedy"] = "auto",
    exact_limit: int = EXACT_LIMIT,
    time_limit_s: float = 60.0,
    risk: RefusalRisk | None = None,
    kit: KitBudget | None = None,
) -> Backfill:
    """Choose sites for up to ``reserves`` reserves and ``moves`` on-duty officers.

    Parameters
    ----------
    cov
        The run to improve (a plain run or a scenario, e.g. after suspensions).
    reserves
        How many reserves may be placed; more than the reserve officers available uses them
        all (a DataWarning says so). Fewer are placed when more would add nothing.
    moves, max_move_min
        How many available on-duty officers may move to a site, and the longest move in
        minutes of road travel from where the officer stands (default: any reachable site).
        A moved officer's old position is left: what only it covered there is lost.
    candidates, area
        Sites: stations' road nodes, or road nodes; ``area`` (shapely, lon/lat) restricts.
    weights
        Demand weight per priority (see :func:`coverage.planning.objective.zone_weights`).
    site_capacity
        Most units (reserves and moved officers) per site (default: no limit).
    turnout_s
        Seconds before a unit placed at a site starts moving from it.
    method
        ``"auto"``: exact up to ``exact_limit`` candidate sites, else greedy.
    risk
        Refusal risk (:func:`coverage.planning.robust.refusal_risk`): maximise the expected
        objective instead (reserves only; :mod:`coverage.planning.robust`). ``optimal``,
        ``method`` and the gains then refer to the expected objective.
    kit
        Kit budget (:func:`coverage.planning.kit.kit_budget`): only reserves their station
        can equip are deployed (:mod:`coverage.planning.kit`).

    Returns
    -------
    Backfill
        Orders ranked by marginal gain; each reserve placement takes the nearest remaining
        reserve officer (by travel time from where the officer stands, ties by officer id).
        Ties between equally good plans (DATA.md): fewer officers short, then fewer orders,
        then less travel by the moved officers.
    """
    pool, k, notes = _reserves(cov, reserves)
    m = _whole("moves", moves)
    if kit is not None:
        k = min(k, kit.total)
        note = kit_note(kit)
        notes += [note] if note else []
    if risk is not None and m:
        msg = "robust: a plan under refusal risk places reserves only; leave out moves"
        raise DataError(msg)
    if max_move_min is not None and not (np.isfinite(max_move_min) and max_move_min >= 0):
        msg = (f"max_move_min: give a finite number of minutes >= 0 (None: no limit), got "
               f"{max_move_min!r}")
        raise DataError(msg)
    if not (np.isfinite(turnout_s) and turnout_s >= 0):
        msg = f"turnout_s: give a finite number of seconds >= 0, got {turnout_s!r}"
        raise DataError(msg)
    sites = candidate_sites(cov, kind=candidates, area=area)
    dem = demand(cov.zones, weights=weights)
    delay = np.full(sites.node.size, turnout_s) if turnout_s > 0 else None
    counts = within_target(cov.zones, cov.reach_s, sites.node, delay)
    within = cov.table["officers_within_target"].to_numpy(dtype=np.int64)
    cap = k + m if site_capacity is None else max(0, int(site_capacity))
    capacity = np.full(sites.node.size, cap, dtype=np.int64)
    exact = method == "exact" or (method == "auto" and sites.node.size <= exact_limit)
    before_v = objective(dem, cov.times.seconds)
    cover, items = coverage_matrix(cov, dem, sites, turnout_s=turnout_s)
    reserve_only = Problem(cover=cover, item_weight=dem.weight[items], counts=counts,
                           short=shortfall(cov.zones, within),
                           zone_weight=np.ones(len(cov.zones.zone_id)), k=k, capacity=capacity)
    # the greedy sees only the sites that can add something (a site reaching no uncovered
    # item and no short zone's anchor in time never enters its heap): same plan, less work
    useful = np.flatnonzero((np.diff(cover.indptr) > 0)
                            | counts[reserve_only.short > 0].any(axis=0))
    greedy_pb = replace(reserve_only, cover=cover[:, useful], counts=counts[:, useful],
                        capacity=capacity[useful])
    moved_unit = np.empty(0, np.int64)
    step_station: list[str | None] | None = None
    sol = None
    if risk is not None:
        steps, step_station, bound, optimal, how, reach, site_cover = _robust(
            cov, dem, sites, pool, k, capacity, turnout_s, risk, kit, reserve_only,
            time_limit_s, exact)
        notes.append("robust: the expected objective under refusal risk is maximised "
                     + ("exactly (MEXCLP, one refusal probability)" if how == "mexclp" else
                        "by lazy greedy (refusal probabilities differ by station, or more "
                        "candidate sites than the exact limit)")
                     + "; optimal, bound and gains refer to it")
    elif m == 0 or (exact and site_capacity is None):
        if exact:
            sol = solve_exact(reserve_only, time_limit_s=time_limit_s)
        else:
            part = solve_greedy(greedy_pb)
            count = np.zeros(sites.node.size, dtype=np.int64)
            count[useful] = part.count
            sol = replace(part, count=count)
        # reserves alone, with some to spare, cover all a site can add: a move (a reserve
        # that also leaves a position) cannot do better, so this plan is the optimum
        if m and not (sol.optimal and int(sol.count.sum()) < k):
            sol = None
    if risk is not None:
        pass
    elif sol is not None:
        steps = [(-1, s, g, round(h)) for s, g, h in marginal_order(reserve_only, sol.count)]
        bound, optimal, how = sol.bound, sol.optimal, sol.method
    else:
        mp, travel = _move_problem(cov, dem, sites, k=k, m=m, counts=counts, within=within,
                                    capacity=capacity, turnout_s=turnout_s,
                                    max_move_min=max_move_min, enumerate_pairs=exact)
        if exact:
            plan = solve_moves_exact(mp, time_limit_s=time_limit_s)
        else:
            relaxed = replace(greedy_pb, k=k + m)  # a move adds at most what a reserve adds
            plan = solve_moves_greedy(mp, bound_gain=solve_greedy(relaxed).bound,
                                      travel=travel)
            notes.append(f"{sites.node.size:,} candidate sites: moves chosen by greedy, with "
                         "the bound of placing reserves for every move")
        steps = ranked(mp, plan)
        bound, optimal, how = plan.bound, plan.optimal, plan.method
        moved_unit = plan.moved_unit
    kit_left = dict(kit.equipped) if kit is not None else None
    placed, moved = _orders(cov, pool, sites, steps, moved_unit, kit_left=kit_left,
                            step_station=step_station)
    sent: list[ReservePlacement | OfficerMove] = [*placed, *moved]
    scenario = Scenario(
        name=f"backfill: {len(placed)} reserve(s), {len(moved)} move(s)",
        deploy=tuple(Deployment(o.officer_id, node_id=o.node_id) for o in sent),
        unit_turnout_s=tuple((o.officer_id, turnout_s) for o in sent) if turnout_s else (),
    )
    after = apply_scenario(cov, scenario) if placed or moved else cov
    if len(placed) < k:
        notes.append(f"{len(placed)} of {k} reserve(s) placed; more would add nothing")
    if m and len(moved) < m:
        notes.append(f"{len(moved)} of {m} move(s) made; more would add nothing"
                     + (f" within {max_move_min:g} min" if max_move_min is not None else ""))
    notes += [f"{o.officer_id} cannot reach site {o.site} over the road network (one-way "
              "streets?); the placement assumes the officer gets there" for o in placed
              if o.travel_min is None]
    after_v = objective(dem, after.times.seconds)
    ex_before = ex_after = ex_bound = None
    if risk is not None:
        ex_before = expected_coverage(cov, risk.unit_p(cov.units.station_id),
                                      weights=weights, reach=reach).expected_objective
        site_of = {o.officer_id: s for o, (_, s, _, _) in zip(placed, steps, strict=True)}
        ex_after = expected_coverage(after, risk.unit_p(after.units.station_id),
                                     weights=weights, reach=_reach_after(
                                         cov, after, dem, reach, site_cover, site_of),
                                     ).expected_objective
        ex_bound, bound = ex_before + bound, dem.total - before_v
    logger.info("backfill: %d site(s), %d reserve(s) placed, %d move(s), objective %.0f -> "
                "%.0f (%s)", sites.node.size, len(placed), len(moved), before_v, after_v, how)
    return Backfill(
        before=cov, after=after, scenario=scenario, sites=sites, placed=tuple(placed),
        moves=tuple(moved), objective_before=before_v, objective_after=after_v,
        objective_max=dem.total, bound=before_v + bound, optimal=optimal, method=how,
        requested=int(reserves), reserves_available=len(pool), moves_requested=m,
        max_move_min=None if max_move_min is None else float(max_move_min), notes=tuple(notes),
        expected_before=ex_before, expected_after=ex_after, expected_bound=ex_bound, kit=kit,
        held_back=None if kit is None else held_back_officers(kit, pool, placed),
    )


def _robust(
    cov: Coverage, dem: Demand, sites: Sites, pool: Any, k: int, capacity: IntArray,
    turnout_s: float, risk: RefusalRisk, kit: KitBudget | None, plain: Problem,
    time_limit_s: float, exact: bool,
) -> tuple[list[tuple[int, int, float, int]], list[str | None], float, bool, str, Any, Any]:
    """Robust steps (-1, site, expected gain, officers short reduced), the home station
    each reserve must come from (None: any), the bound on the expected gain, optimal,
    method, and the units' and sites' reach over every item (items x units, items x sites).

    Reserve classes are home stations, each with its reserves (or those its kit equips).
    """
    cover, _ = coverage_matrix(cov, dem, sites, turnout_s=turnout_s,
                               items=np.arange(len(dem), dtype=np.int64))
    counts = pool["station_id"].astype(str).value_counts()
    classes = sorted(counts.index)
    cap = [kit.equipped.get(c, 0) if kit is not None else int(counts[c]) for c in classes]
    reach = reach_matrix(cov, dem)
    pb = robust_problem(cover, dem.weight, reach,
                        risk.unit_p(cov.units.station_id), risk.unit_p(classes),
                        np.asarray(cap, dtype=np.int64), k=k, capacity=capacity)
    sol = solve_robust(pb, exact=exact, time_limit_s=time_limit_s)
    short = plain.short.copy()
    steps: list[tuple[int, int, float, int]] = []
    for (s, _), g in zip(sol.picks, sol.gains, strict=True):
        hit = plain.counts[:, s] & (short > 0)
        short = short - hit
        steps.append((-1, s, g, int(hit.sum())))
    stations = [None if c < 0 else classes[c] for _, c in sol.picks]
    return steps, stations, sol.bound, sol.optimal, sol.method, reach, cover


def _reach_after(cov: Coverage, after: Coverage, dem: Demand, reach: Any, site_cover: Any,
                 site_of: dict[str, int]) -> Any:
    """The reach of ``after``'s units: a unit of ``cov`` standing where it stood keeps its
    column, a placed reserve takes its site's; anything else is searched afresh."""
    old = {o: i for i, o in enumerate(cov.units.officer_id)}
    n_old = reach.shape[1]
    cols = []
    for o, node in zip(after.units.officer_id, after.units.node, strict=True):
        if o in site_of:
            cols.append(n_old + site_of[o])
        elif o in old and int(cov.units.node[old[o]]) == int(node):
            cols.append(old[o])
        else:
            return reach_matrix(after, dem)
    both = sp.hstack([sp.csc_array(reach), sp.csc_array(site_cover)], format="csc")
    return sp.csr_array(both[:, np.asarray(cols, dtype=np.int64)])


def _move_problem(
    cov: Coverage, dem: Demand, sites: Sites, *, k: int, m: int, counts: np.ndarray,
    within: IntArray, capacity: IntArray, turnout_s: float, max_move_min: float | None,
    enumerate_pairs: bool,
) -> tuple[MoveProblem, Any]:
    """Build the relocation problem over the items a plan can change (see relocation.py),
    and a function giving a move's travel seconds (None: not allowed).

    Unit coverage is searched forward from the units that stand within the largest target
    of some zone node (one backward search finds them). With ``enumerate_pairs`` the
    allowed moves are listed with their travel seconds: every unit that covers a changeable
    item or counts for a zone, to every useful site within the limit, and for each site the
    ``m`` nearest of each class of interchangeable units. Otherwise the greedy asks the
    travel function (None: not allowed) for the moves it wants.
    """
    net, tt = cov.times.network, cov.times
    n_units = len(tt.unit_ids)
    limit_move = np.inf if max_move_min is None else float(max_move_min) * 60.0
    # which units reach which item in time: the one reach matrix (planning.expected)
    unit_hit = reach_matrix(cov, dem)
    # an item covered by more units than may move stays covered: it is left out
    changeable = np.flatnonzero(np.asarray(unit_hit.sum(axis=1)).ravel() <= m)
    site_cover, _ = coverage_matrix(cov, dem, sites, turnout_s=turnout_s, items=changeable)
    unit_cover = sp.csc_array(unit_hit[changeable])
    unit_counts = within_target(cov.zones, cov.reach_s, tt.unit_nodes, tt.delays)
    need = np.asarray(cov.zones.min_officers, dtype=np.int64)
    useful = np.flatnonzero((np.asarray(site_cover.sum(axis=0)).ravel() > 0)
                            | counts[need > within - m].any(axis=0))
    pair_u: list[IntArray] = []
    pair_s: list[IntArray] = []
    pair_t: list[np.ndarray] = []
    if enumerate_pairs and useful.size and n_units:
        to_site = dijkstra(net.csr_reverse, directed=True, indices=sites.node[useful],
                           limit=limit_move)[:, tt.unit_nodes]
        to_site[sites.node[useful][:, None] == tt.unit_nodes[None, :]] = np.inf
        # units that cover the same changeable items and count for the same zones are
        # interchangeable but for travel: per site, only the m nearest of each such class
        classes: dict[bytes, int] = {}
        cover_csc = unit_cover.tocsc()
        short_rows = unit_counts[need > within - m]  # zones that are or may become short
        klass = np.array([classes.setdefault(
            cover_csc.indices[cover_csc.indptr[u]:cover_csc.indptr[u + 1]].tobytes() + b"|"
            + np.packbits(short_rows[:, u]).tobytes(), len(classes)) for u in range(n_units)],
            dtype=np.int64)
        for r, s in enumerate(useful.tolist()):
            secs = to_site[r]
            ok = np.flatnonzero(np.isfinite(secs) & (secs <= limit_move))
            ok = ok[np.lexsort((ok, secs[ok], klass[ok]))]  # by class, then nearest
            first = np.searchsorted(klass[ok], klass[ok], side="left")
            chosen = ok[np.arange(ok.size) - first < m]
            pair_u.append(chosen)
            pair_s.append(np.full(chosen.size, s, dtype=np.int64))
            pair_t.append(secs[chosen])
    mp = MoveProblem(
        site_cover=site_cover, unit_cover=unit_cover, item_weight=dem.weight[changeable],
        site_counts=counts, unit_counts=unit_counts, within=within, need=need,
        pair_unit=_cat(pair_u, np.int64), pair_site=_cat(pair_s, np.int64),
        pair_s=_cat(pair_t, np.float64), k=k, m=m, capacity=capacity)
    cache: dict[int, np.ndarray] = {}

    def travel(u: int, s: int) -> float | None:
        node = int(sites.node[s])
        if node not in cache:
            cache[node] = dijkstra(net.csr_reverse, directed=True, indices=[node],
                                   limit=limit_move)[0]
        secs = float(cache[node][tt.unit_nodes[u]])
        ok = node != int(tt.unit_nodes[u]) and np.isfinite(secs) and secs <= limit_move
        return secs if ok else None

    return mp, travel


def _cat(parts: list[Any], kind: Any) -> Any:
    return np.concatenate(parts).astype(kind) if parts else np.empty(0, kind)


def _orders(
    cov: Coverage, pool: Any, sites: Sites, steps: list[tuple[int, int, float, int]],
    moved_unit: IntArray, *, kit_left: dict[str, int] | None = None,
    step_station: list[str | None] | None = None,
) -> tuple[list[ReservePlacement], list[OfficerMove]]:
    """Turn ranked steps into orders: each reserve placement takes the nearest remaining
    reserve officer; each move names its officer, from station and travel time.

    ``kit_left`` (reserves each station can still equip) keeps unequipped reserves home;
    ``step_station[i]`` names the home station step ``i``'s reserve must come from."""
    if not steps:
        return [], []
    net, tt = cov.times.network, cov.times
    placed_pool = place_units(cov.dataset.network, pool, what="reserve officers")
    targets = np.unique([sites.node[s] for _, s, _, _ in steps])
    # seconds to each chosen site, searched against traffic, kept only from the nodes the
    # reserves and moved officers stand on (not a sites x all-nodes matrix)
    need = np.unique(np.concatenate([placed_pool.node, tt.unit_nodes[moved_unit]]))
    to_site = np.concatenate([
        dijkstra(net.csr_reverse, directed=True, indices=targets[lo:lo + 16])[:, need]
        for lo in range(0, targets.size, 16)])
    col = {int(n): i for i, n in enumerate(targets)}

    def at(nodes: Any) -> Any:  # columns of to_site for these road nodes
        return np.searchsorted(need, nodes)

    free = np.ones(len(pool), dtype=bool)
    station = dict(zip(cov.units.officer_id, cov.units.station_id, strict=True))
    placed: list[ReservePlacement] = []
    moved: list[OfficerMove] = []
    for rank, (i, s, gain, reduced) in enumerate(steps, start=1):
        node = int(sites.node[s])
        where: dict[str, Any] = {"site": sites.label[s], "node_id": int(net.node_id[node]),
                                 "lon": float(net.lon[node]), "lat": float(net.lat[node])}
        if i >= 0:
            u = int(moved_unit[i])
            oid = tt.unit_ids[u]
            moved.append(OfficerMove(
                rank=rank, officer_id=oid, from_station=station.get(oid, ""),
                travel_min=float(to_site[col[node]][at(tt.unit_nodes[u])]) / 60.0, gain=gain,
                officers_short_reduced=reduced, from_lon=float(net.lon[tt.unit_nodes[u]]),
                from_lat=float(net.lat[tt.unit_nodes[u]]), **where))
            continue
        home = pool["station_id"].astype(str).to_numpy()
        ok = free.copy()
        if kit_left is not None:
            ok &= np.array([kit_left.get(h, 0) > 0 for h in home], dtype=bool)
        if step_station is not None and step_station[rank - 1] is not None:
            ok &= home == step_station[rank - 1]
        secs = np.where(ok, to_site[col[node]][at(placed_pool.node)], np.inf)
        r = int(np.flatnonzero(ok)[0]) if not np.isfinite(secs).any() else int(np.argmin(secs))
        free[r] = False
        if kit_left is not None:
            kit_left[home[r]] -= 1
        travel = float(secs[r])
        placed.append(ReservePlacement(
            rank=rank, officer_id=str(pool["officer_id"].iloc[r]),
            from_station=str(pool["station_id"].iloc[r]),
            travel_min=travel / 60.0 if np.isfinite(travel) else None, gain=gain,
            officers_short_reduced=reduced, from_lon=float(net.lon[placed_pool.node[r]]),
            from_lat=float(net.lat[placed_pool.node[r]]), **where))
    return placed, moved


#: The keys of each ``moves`` entry in the JSON output (DATA.md "Backfill with moves").
MOVE_KEYS = ("officer_id", "from_station", "site", "node_id", "lat", "lon", "travel_min", "gain")


def backfill_dict(bf: Backfill) -> dict[str, Any]:
    """Return the JSON object of ``python -m coverage backfill`` (see docs/planning.md)."""
    placements: dict[str, dict[str, Any]] = {}
    for o in bf.placed:
        p = placements.setdefault(o.site, {
            "site": o.site, "node_id": o.node_id, "lat": o.lat, "lon": o.lon, "count": 0,
            "officers": [], "gain": 0.0, "officers_short_reduced": 0})
        p["count"] += 1
        p["officers"].append(o.officer_id)
        p["gain"] += o.gain
        p["officers_short_reduced"] += o.officers_short_reduced
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
        "reserves_placed": len(bf.placed),
        "deployments": [{**vars(o), "gain": as_number(o.gain)} for o in bf.placed],
        "moves": [{k: as_number(getattr(o, k)) if k == "gain" else getattr(o, k)
                   for k in MOVE_KEYS} for o in bf.moves],
        "moves_requested": bf.moves_requested,
        "moves_made": len(bf.moves),
        "max_move_min": bf.max_move_min,
        "candidates": bf.sites.kind,
        "candidate_sites": int(bf.sites.node.size),
        "threshold_min": bf.before.threshold_min,
        "suspended": len(bf.before.suspended),
        "scenario_sha256": bf.scenario.sha256,
        "notes": list(bf.notes),
        **({} if bf.expected_before is None else {
            "expected_objective_before": bf.expected_before,
            "expected_objective_after": bf.expected_after,
            "expected_bound": bf.expected_bound}),
        **({} if bf.kit is None else {"kit": kit_dict(bf.kit, bf.held_back or {})}),
    }


def orders(bf: Backfill) -> list[ReservePlacement | OfficerMove]:
    """Every order of the plan (reserve placements and moves) in rank order."""
    return sorted([*bf.placed, *bf.moves], key=lambda o: o.rank)


def backfill_table(bf: Backfill) -> str:
    """Return the plan as aligned text: the summary, then one line per order."""
    lines = [
        f"Objective {as_number(bf.objective_before)} -> {as_number(bf.objective_after)} of "
        f"{as_number(bf.objective_max)} ({'optimal' if bf.optimal else 'not proven optimal'}"
        f", {bf.method}, bound {as_number(round(bf.bound, 9))})",
        f"Officers short {bf.before.overall.officers_short} -> "
        f"{bf.after.overall.officers_short}; reserves placed {len(bf.placed)} of "
        f"{bf.requested} requested ({bf.reserves_available} available); officers moved "
        f"{len(bf.moves)} of {bf.moves_requested} allowed",
        *([] if bf.expected_before is None else [
            f"Expected objective under refusal risk {bf.expected_before:.1f} -> "
            f"{bf.expected_after:.1f} (bound {bf.expected_bound:.1f})"]),
        *(f"Note: {n}" for n in bf.notes), "",
    ]
    header = ["rank", "officer", "kind", "from", "to site", "travel_min", "gain", "short-"]
    body = [[str(o.rank), o.officer_id, "move" if isinstance(o, OfficerMove) else "reserve",
             o.from_station, o.site, "-" if o.travel_min is None else f"{o.travel_min:.1f}",
             str(as_number(round(o.gain, 6))), str(o.officers_short_reduced)]
            for o in orders(bf)]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        lines.append("  ".join(c.ljust(w) if i in (1, 2, 3, 4) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines).rstrip()
