"""Benchmark of the planning tools on the demo district, pinned to one CPU core.

Times, on ``geodata/peshawar/`` (90,633 nodes, 310 on-duty officers, 90 reserves):

* ``criticality`` over every on-duty officer (no suspension), best of ``--repeat``;
* an exact ``backfill`` of 42 reserves over the 30 stations after the 42-officer
  suspension list, best of ``--repeat``;
* the same with every on-duty officer suspended (all 974 zone nodes uncovered), exact
  over the stations and lazy greedy over all 90,633 road nodes;
* a sweep of ``--runs`` random suspensions of 42 officers, in this process;
* the planning desk: a plan of 42 reserves and 10 moves (20 min at most) after the
  suspension list, its deployment order, a plan of 10 moves and no reserve, and the
  what-if of the 42 suspensions itself.

Checks (the script fails if one does not hold): criticality losses equal full re-runs for
``--check`` officers; each backfill's ``objective_after`` equals ``objective_before`` plus
its moves' gains. Prints one JSON line on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from coverage.data.demo import DEMO_DIR

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
DEMO = DEMO_DIR
logger = logging.getLogger("planning")


def best_of(fn: Callable[[], T], repeat: int) -> tuple[T, float]:
    """Call ``fn`` ``repeat`` times; return the last result and the shortest wall time (s)."""
    best = float("inf")
    out: Any = None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def check_backfill(bf: Any, name: str) -> None:
    """Raise RuntimeError unless the measured objective equals before + the moves' gains."""
    gained = sum(m.gain for m in (*bf.placed, *bf.moves))
    if abs(bf.objective_after - bf.objective_before - gained) > 1e-6:
        raise RuntimeError(f"{name}: objective_after {bf.objective_after} != before "
                           f"{bf.objective_before} + gains {gained}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Load the demo, time the planning calls, check them; return the JSON record."""
    from coverage import analyse, load_dataset
    from coverage.data.loaders import read_suspension
    from coverage.planning.backfill import backfill
    from coverage.planning.criticality import criticality
    from coverage.planning.objective import demand, objective
    from coverage.planning.sweep import evaluate, random_suspensions, run_sweep, sweep_model

    start = time.perf_counter()
    ds = load_dataset(DEMO / "roads.osm.pbf", DEMO / "stations.geojson",
                      DEMO / "zones.geojson", DEMO / "officers.csv")
    load_s = time.perf_counter() - start
    ids = read_suspension(DEMO / "suspended_42.csv", ds.officers)
    base, analyse_s = best_of(lambda: analyse(ds), 1)
    cov42 = analyse(ds, suspended=ids)
    logger.info("loaded in %.1f s; baseline %d units", load_s, len(base.units))

    crit, crit_s = best_of(lambda: criticality(base), args.repeat)
    crit42, crit42_s = best_of(lambda: criticality(cov42), args.repeat)
    dem = demand(base.zones)
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(crit42.table["officer_id"].to_numpy(), size=args.check, replace=False)
    lost = crit42.table.set_index("officer_id")["objective_lost"]
    worst = 0.0
    for o in sample:
        full = analyse(ds, suspended=[*ids, str(o)])
        diff = abs(crit42.objective - objective(dem, full.times.seconds) - lost[o])
        worst = max(worst, diff)
    if worst > 1e-9:
        raise RuntimeError(f"criticality differs from full re-runs by {worst}")
    logger.info("criticality: %.3f s (all %d officers), %.3f s after the suspension",
                crit_s, len(crit.table), crit42_s)

    bf, bf_s = best_of(lambda: backfill(cov42, 42), args.repeat)
    check_backfill(bf, "backfill")
    on_duty = sorted(base.units.officer_id)
    hard = analyse(ds, suspended=on_duty)
    hard_bf, hard_s = best_of(lambda: backfill(hard, 42), args.repeat)
    check_backfill(hard_bf, "hard backfill")
    greedy, greedy_s = best_of(lambda: backfill(hard, 42, candidates="nodes"), 1)
    exact5, _ = best_of(lambda: backfill(hard, 5), 1)
    greedy5, _ = best_of(lambda: backfill(hard, 5, method="greedy"), 1)
    check_backfill(greedy, "greedy backfill")
    logger.info("backfill: %.3f s (42 over stations), hard %.3f s, greedy nodes %.2f s",
                bf_s, hard_s, greedy_s)
    # the planning desk: 42 reserves and 10 moves after the 42 suspensions (as the Plan page
    # runs it), the order it writes, and a plan that must move officers (no reserves)
    from coverage.engine.analysis import suspend
    from coverage.planning.order import deployment_order

    plan, plan_s = best_of(lambda: backfill(cov42, 42, moves=10, max_move_min=20),
                           args.repeat)
    check_backfill(plan, "plan with moves")
    _, order_s = best_of(lambda: deployment_order(plan), 1)
    moves_only, moves_only_s = best_of(lambda: backfill(cov42, 0, moves=10), args.repeat)
    check_backfill(moves_only, "moves only")
    _, what_if_s = best_of(lambda: suspend(base, ids), args.repeat)
    logger.info("plan 42+10: %.3f s; moves only: %.3f s; what-if: %.3f s", plan_s,
                moves_only_s, what_if_s)

    model = sweep_model(base)
    draws = random_suspensions(model, args.runs, 42, seed=args.seed)
    outcomes, sweep_s = best_of(lambda: run_sweep(model, draws, workers=0), 1)
    objs = np.array([o.objective for o in outcomes])
    gaps = np.array([o.zones_with_gap for o in outcomes])
    targeted = evaluate(model, ids)

    return {
        "criticality_s": round(crit_s, 4),
        "backfill_s": round(bf_s, 4),
        "criticality_officers": len(crit.table),
        "backfill_reserves": 42,
        "backfill_objective_before": bf.objective_before,
        "backfill_objective_after": bf.objective_after,
        "backfill_placed": len(bf.placed),
        "plan_42_reserves_10_moves_s": round(plan_s, 4),
        "plan_objective_before_after": [plan.objective_before, plan.objective_after],
        "plan_officers_short_before_after": [plan.before.overall.officers_short,
                                             plan.after.overall.officers_short],
        "plan_reserves_placed_moves": [len(plan.placed), len(plan.moves)],
        "plan_optimal": plan.optimal,
        "plan_order_s": round(order_s, 3),
        "moves_only_10_s": round(moves_only_s, 4),
        "moves_only_objective_after": moves_only.objective_after,
        "moves_only_moved": len(moves_only.moves),
        "moves_only_optimal": moves_only.optimal,
        "what_if_42_s": round(what_if_s, 4),
        "backfill_optimal": bf.optimal,
        "criticality_suspended42_s": round(crit42_s, 4),
        "criticality_checked_officers": int(args.check),
        "hard_suspended": len(on_duty),
        "hard_backfill_s": round(hard_s, 4),
        "hard_objective_before": hard_bf.objective_before,
        "hard_objective_after": hard_bf.objective_after,
        "hard_placed": len(hard_bf.placed),
        "hard_officers_short_before_after": [hard.overall.officers_short,
                                             hard_bf.after.overall.officers_short],
        "hard_optimal": hard_bf.optimal,
        "greedy_nodes_s": round(greedy_s, 3),
        "greedy_candidates": int(greedy.sites.node.size),
        "greedy_objective_after": greedy.objective_after,
        "greedy_bound": round(greedy.bound, 6),
        "greedy_optimal": greedy.optimal,
        "greedy_placed": len(greedy.placed),
        "k5_stations_exact_vs_greedy_officers_short": [
            exact5.after.overall.officers_short, greedy5.after.overall.officers_short],
        "sweep_runs": args.runs,
        "sweep_s": round(sweep_s, 3),
        "sweep_objective_p5_p50_p95": [float(np.percentile(objs, q)) for q in (5, 50, 95)],
        "sweep_zones_with_gap_max": int(gaps.max()) if gaps.size else 0,
        "suspended42_objective": targeted.objective,
        "suspended42_zones_with_gap": targeted.zones_with_gap,
        "objective_max": dem.total,
        "load_s": round(load_s, 2),
        "analyse_s": round(analyse_s, 3),
        "nodes": ds.network.n_nodes,
        "on_duty": len(base.units),
        "reserves": int((ds.officers["status"] == "reserve").sum()),
        "cpus_used": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "repeat": args.repeat,
        "seed": args.seed,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=3, help="best of K runs (default 3)")
    p.add_argument("--runs", type=int, default=300, help="random suspensions (default 300)")
    p.add_argument("--check", type=int, default=10,
                   help="officers re-run in full to check criticality (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--all-cores", action="store_true", help="do not pin to one core")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one JSON line."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    args = parse_args(argv)
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
