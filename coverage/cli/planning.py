"""Planning commands of ``python -m coverage``: ``backfill``, ``criticality`` and ``sweep``.

:func:`add_parsers` adds the subcommands; :data:`COMMANDS` maps each to its handler. Each
loads the inputs like ``report`` (optionally applies a saved scenario), then makes one
library call and prints JSON or a table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coverage.cli.argtypes import whole
from coverage.cli.inputs import Stages, add_format, add_inputs, load_inputs
from coverage.cli.readiness import iso_date, refusal_p
from coverage.errors import CoverageError


def add_parsers(sub: Any) -> None:
    """Add ``backfill``, ``criticality`` and ``sweep`` to the subcommands ``sub``."""
    bf = sub.add_parser("backfill", help="where to send reserves and which on-duty officers "
                        "to move (see docs/planning.md)")
    _common(bf)
    bf.add_argument("--reserves", required=True, type=whole(0),
                    help="reserve officers that may move (more than available: all)")
    bf.add_argument("--moves", type=whole(0), default=0,
                    help="available on-duty officers that may move to a site (default 0)")
    bf.add_argument("--max-move-min", type=float, metavar="T",
                    help="no move longer than T minutes of road travel (default: any)")
    bf.add_argument("--order", type=Path, metavar="FILE.pdf|FILE.csv",
                    help="also write the plan as a deployment order to sign (PDF or CSV)")
    bf.add_argument("--candidates", choices=("stations", "nodes"), default="stations",
                    help="candidate sites: station nodes (default) or road nodes")
    bf.add_argument("--area", type=Path, help="polygon file; only candidate sites inside it")
    bf.add_argument("--site-capacity", type=whole(1), help="most reserves per site (default: any)")
    bf.add_argument("--turnout-s", type=float, default=0.0,
                    help="seconds before a placed reserve starts moving (default 0)")
    bf.add_argument("--method", choices=("auto", "exact", "greedy"), default="auto",
                    help="auto: exact MILP up to 1,000 candidate sites, else lazy greedy")
    bf.add_argument("--save-scenario", type=Path,
                    help="also write the chosen deployment as a scenario JSON file")
    bf.add_argument("--robust", action="store_true",
                    help="maximise the expected objective under refusal risk (needs --events "
                    "and --resources; reserves only; docs/readiness.md)")
    bf.add_argument("--events", type=Path, help="personnel events (CSV), for --robust")
    bf.add_argument("--resources", type=Path,
                    help="station resources (CSV), for --robust and --kit")
    bf.add_argument("--as-of", type=iso_date, default=None, metavar="DATE",
                    help="readiness as of this date (default: the newest event's date)")
    bf.add_argument("--refusal-p", type=refusal_p, default=None, metavar="P",
                    help="refusal probability by station level, as for readiness")
    bf.add_argument("--kit", metavar="ITEMS", help="kit every deployed reserve must take "
                    "from its station's spare, e.g. vest,helmet (needs --resources)")

    cr = sub.add_parser("criticality", help="objective lost per officer removed, single "
                        "points of failure, worst pairs")
    _common(cr)
    cr.add_argument("--top", type=whole(0), default=20, help="officers listed (default 20)")
    cr.add_argument("--pairs-of", type=whole(0), default=10,
                    help="pairs among this many most critical officers (default 10)")

    sw = sub.add_parser("sweep", help="remove each officer, then random sets of officers, "
                        "through local processes or a Dask cluster")
    _common(sw)
    sw.add_argument("--random-suspensions", type=whole(1), default=200, metavar="N",
                    help="random removal sets (default 200)")
    sw.add_argument("--size", type=whole(0), default=42,
                    help="officers per random set (default 42)")
    sw.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sw.add_argument("--workers", type=whole(0), help="local worker processes (default: CPUs; 0: "
                    "in this process)")
    sw.add_argument("--dask", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    sw.add_argument("--top", type=whole(0), default=20, help="officers listed (default 20)")


def _common(p: argparse.ArgumentParser) -> None:
    add_inputs(p)
    p.add_argument("--scenario", type=Path, help="apply this saved scenario (JSON) first")
    p.add_argument("--weights", help="demand weight per priority, e.g. 1=3,2=2,3=1,none=3")
    add_format(p)


def _weights(text: str | None) -> dict[int | None, float] | None:
    if text is None:
        return None
    out: dict[int | None, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        try:
            out[None if key.strip().lower() == "none" else int(key)] = float(value)
        except ValueError:
            msg = (f"--weights: '{part}' is not priority=weight; write it like "
                   "1=3,2=2,3=1,none=3")
            raise CoverageError(msg) from None
    return out


def _baseline(args: argparse.Namespace, stages: Stages) -> Any:
    """Load the inputs, run coverage (with the suspension list) and apply ``--scenario``."""
    from coverage.engine.analysis import analyse
    from coverage.planning.scenario import apply_scenario
    from coverage.planning.scenario_io import load_scenario

    scenario = load_scenario(args.scenario) if args.scenario is not None else None
    inputs = load_inputs(args, stages)
    stages("computing travel times")
    cov = analyse(inputs.dataset, suspended=inputs.suspended, threshold_min=args.threshold_min)
    if scenario is not None:
        stages(f"applying scenario '{scenario.name}'")
        cov = apply_scenario(cov, scenario)
    return cov


def _print(args: argparse.Namespace, record: dict[str, Any], text: str) -> None:
    print(json.dumps(record, indent=2, allow_nan=False) if args.format == "json" else text)


def _cmd_backfill(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.planning.backfill import backfill, backfill_dict, backfill_table, read_area
    from coverage.planning.order import deployment_order, plan_conditions
    from coverage.planning.scenario import Scenario
    from coverage.planning.scenario_io import load_scenario, save_scenario

    if not (math.isfinite(args.turnout_s) and args.turnout_s >= 0):
        msg = f"--turnout-s must be a finite number of seconds >= 0, got {args.turnout_s}"
        raise CoverageError(msg)
    if args.max_move_min is not None and not (math.isfinite(args.max_move_min)
                                              and args.max_move_min >= 0):
        msg = (f"--max-move-min must be a finite number of minutes >= 0, got "
               f"{args.max_move_min} (leave it out for no limit)")
        raise CoverageError(msg)
    if args.kit is not None:
        kit_items(args.kit)
    weights = _weights(args.weights)
    area = read_area(args.area) if args.area is not None else None
    cov = _baseline(args, stages)
    risk, kit = _readiness(args, cov, stages)
    stages("choosing sites")
    if args.order is not None:  # fpdf and the briefing modules only when an order is asked
        from coverage.briefing.order_pdf import check_order_path, write_order

        check_order_path(args.order)
    bf = backfill(cov, args.reserves, moves=args.moves, max_move_min=args.max_move_min,
                  candidates=args.candidates, area=area, weights=weights,
                  site_capacity=args.site_capacity, turnout_s=args.turnout_s,
                  method=args.method, risk=risk, kit=kit)
    if args.order is not None:
        stages("writing the deployment order")
        start = load_scenario(args.scenario) if args.scenario is not None else Scenario()
        write_order(deployment_order(bf, conditions=plan_conditions(
            start, site_turnout_s=args.turnout_s)), args.order)
    stages("done")
    stages.close()
    if args.save_scenario is not None:
        save_scenario(bf.scenario, args.save_scenario)
        print(f"note: deployment saved as scenario {args.save_scenario}", file=sys.stderr)
    if args.order is not None:
        print(f"note: deployment order written to {args.order}", file=sys.stderr)
    _print(args, backfill_dict(bf), backfill_table(bf))
    return 0


def _readiness(args: argparse.Namespace, cov: Any, stages: Stages) -> tuple[Any, Any]:
    """The refusal risk (``--robust``) and kit budget (``--kit``) of ``backfill``."""
    if args.robust and (args.events is None or args.resources is None):
        msg = "--robust needs --events E and --resources R (station readiness levels)"
        raise CoverageError(msg)
    if args.kit is not None and args.resources is None:
        msg = "--kit needs --resources R (the stations' kit on hand)"
        raise CoverageError(msg)
    if not args.robust and args.kit is None:
        return None, None
    from datetime import date

    import pandas as pd

    from coverage import settings
    from coverage.data.personnel import read_events, read_resources
    from coverage.planning.kit import kit_budget
    from coverage.planning.readiness import readiness
    from coverage.planning.robust import refusal_risk

    stages("reading personnel events and resources")
    ds = cov.dataset
    if args.events is not None:
        events, as_of = read_events(args.events, ds.officers), args.as_of
    else:  # kit only: the levels do not matter, the date neither
        events = pd.DataFrame({"officer_id": [], "date": [], "kind": [], "days": [],
                               "note": []})
        as_of = args.as_of or date.today()
    r = readiness(ds.stations, ds.officers, events, read_resources(args.resources, ds.stations),
                  as_of=as_of, suspended=cov.suspended)
    risk = refusal_risk(r, refusal_p=args.refusal_p or settings.REFUSAL_P) if args.robust \
        else None
    kit = kit_budget(r, ds.officers, kit_items(args.kit), suspended=cov.suspended) \
        if args.kit is not None else None
    return risk, kit


def kit_items(text: str) -> list[str]:
    """The items of ``--kit``: comma-separated names, spaces stripped; at least one."""
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        msg = f"--kit: name at least one item, e.g. vest,helmet (got {text!r})"
        raise CoverageError(msg)
    return list(dict.fromkeys(items))


def _cmd_criticality(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.planning.criticality import criticality, criticality_dict, criticality_table

    weights = _weights(args.weights)
    cov = _baseline(args, stages)
    stages("removing each officer")
    crit = criticality(cov, weights=weights, top_n=args.pairs_of)
    stages("done")
    stages.close()
    _print(args, criticality_dict(crit, top=args.top), criticality_table(crit, top=args.top))
    return 0


def _cmd_sweep(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.planning.sweep import sweep, sweep_dict

    if args.workers is not None and args.workers < 0:
        msg = f"--workers must be 0 or more, got {args.workers}"
        raise CoverageError(msg)
    weights = _weights(args.weights)
    cov = _baseline(args, stages)
    stages("sweeping")
    stages.close()
    sw = sweep(cov, runs=args.random_suspensions, size=args.size, seed=args.seed,
               weights=weights, workers=args.workers, dask=args.dask, progress=not args.quiet)
    record = sweep_dict(sw, top=args.top)
    rnd = record["random"]
    lines = [f"Baseline objective {record['baseline']['objective']}; "
             f"{record['officers']} officers removed one at a time", "",
             sw.criticality.head(args.top).to_string(index=False), ""]
    if rnd["runs"]:
        lines.append(f"{rnd['runs']} random removals of {rnd['size']} officers (seed "
                     f"{rnd['seed']}):")
        lines += [f"  {key}: " + ", ".join(f"{k} {v}" for k, v in rnd[key].items())
                  for key in ("objective", "zones_with_gap", "officers_short")]
    _print(args, record, "\n".join(lines))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Stages], int]] = {
    "backfill": _cmd_backfill,
    "criticality": _cmd_criticality,
    "sweep": _cmd_sweep,
}
