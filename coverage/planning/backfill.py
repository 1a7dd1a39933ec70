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

The parts: candidate sites and the cover matrix in :mod:`coverage.planning.cover`, the
move and robust problems in :mod:`coverage.planning._problems`, who goes where in
:mod:`coverage.planning.assignment`; this module chooses the plan and prints it.

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
from typing import Any, Literal

import numpy as np

from coverage.engine.analysis import Coverage
from coverage.engine.metrics import within_target
from coverage.engine.units import apply_suspension
from coverage.errors import DataError, DataWarning
from coverage.planning._problems import move_problem, reach_after, robust_steps
from coverage.planning.assignment import OfficerMove, ReservePlacement, assign
from coverage.planning.cover import (
    Sites,
    candidate_sites,
    coverage_matrix,
    read_area,
    useful_sites,
)
from coverage.planning.expected import expected_coverage
from coverage.planning.kit import KitBudget, held_back_officers, kit_dict, kit_note
from coverage.planning.objective import Weights, as_number, demand, objective, shortfall
from coverage.planning.relocation import ranked, solve_moves_exact, solve_moves_greedy
from coverage.planning.robust import RefusalRisk
from coverage.planning.scenario import Deployment, Scenario, apply_scenario
from coverage.planning.siting import Problem, marginal_order, solve_exact, solve_greedy

__all__ = [
    "EXACT_LIMIT", "MOVE_KEYS", "Backfill", "OfficerMove", "ReservePlacement", "Sites",
    "backfill", "backfill_dict", "backfill_table", "candidate_sites", "coverage_matrix",
    "orders", "read_area",
]

logger = logging.getLogger(__name__)

#: Up to this many candidate sites the MILP is solved; beyond, the lazy greedy.
EXACT_LIMIT = 1000


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
    within = cov.table["officers_within_target"].to_numpy(dtype=np.int64)
    cap = k + m if site_capacity is None else max(0, int(site_capacity))
    capacity = np.full(sites.node.size, cap, dtype=np.int64)
    exact = method == "exact" or (method == "auto" and sites.node.size <= exact_limit)
    before_v = objective(dem, cov.times.seconds)
    cover, items = coverage_matrix(cov, dem, sites, turnout_s=turnout_s)
    short = shortfall(cov.zones, within)
    # the greedy sees only the sites that can add something (a site reaching no uncovered
    # item and no short zone's anchor in time never enters its heap): same plan, less work
    useful, useful_counts = useful_sites(cov, sites, cover, short, delay_s=delay)
    greedy_pb = Problem(cover=cover[:, useful], item_weight=dem.weight[items],
                        counts=useful_counts, short=short,
                        zone_weight=np.ones(len(cov.zones.zone_id)), k=k,
                        capacity=capacity[useful])
    if risk is None and m == 0 and not exact:  # the greedy alone: no zones x all sites counts
        reserve_only, at = greedy_pb, useful  # at: the site of each of its columns
    else:
        reserve_only = replace(greedy_pb, cover=cover, capacity=capacity,
                               counts=within_target(cov.zones, cov.reach_s, sites.node, delay))
        at = np.arange(sites.node.size, dtype=np.int64)
    moved_unit = np.empty(0, np.int64)
    step_station: list[str | None] | None = None
    sol = None
    if risk is not None:
        steps, step_station, bound, optimal, how, reach, site_cover = robust_steps(
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
        steps = [(-1, int(at[s]), g, round(h))
                 for s, g, h in marginal_order(reserve_only, sol.count[at])]
        bound, optimal, how = sol.bound, sol.optimal, sol.method
    else:
        mp, travel = move_problem(cov, dem, sites, k=k, m=m, counts=reserve_only.counts,
                                    within=within,
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
    placed, moved = assign(cov, pool, sites, steps, moved_unit, kit_left=kit_left,
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
                                     weights=weights, reach=reach_after(
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
