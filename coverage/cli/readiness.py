"""Readiness command of ``python -m coverage``: station readiness and expected coverage.

``readiness --roads R --stations S --zones Z --officers O --events E --resources R
[--suspend F] [--as-of DATE] [--refusal-p ok=..,warning=..,critical=..|P] --format json|table``
prints per station the DATA.md readiness figures with a level and reasons, and per zone the
plain and expected covered share, then the objective and the expected objective. Station
aggregates only: no officer-level record is printed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from coverage import settings
from coverage.cli.inputs import Stages, add_format, add_inputs, load_inputs
from coverage.errors import CoverageError

LEVELS = settings.READINESS_LEVELS


def iso_date(text: str) -> date:
    """Argument type: an ISO 8601 date (2026-11-25) within settings.PLAUSIBLE_YEARS."""
    try:
        when = date.fromisoformat(text.strip())
    except ValueError:
        msg = f"must be an ISO 8601 date like 2026-11-25, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    first, last = settings.PLAUSIBLE_YEARS
    if not first <= when.year <= last:
        msg = f"must be a date in the years {first}..{last}, got {text!r}; check the year"
        raise argparse.ArgumentTypeError(msg)
    return when


def refusal_p(text: str) -> dict[str, float]:
    """Argument type: ``P`` for every level, or ``ok=..,warning=..,critical=..`` (levels
    left out keep their defaults); each a probability between 0 and 1."""
    out = dict(settings.REFUSAL_P)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    try:
        if len(parts) == 1 and "=" not in parts[0]:
            out = dict.fromkeys(LEVELS, float(parts[0]))
        else:
            for part in parts:
                key, sep, value = part.partition("=")
                if not sep or key.strip() not in LEVELS:
                    raise ValueError(part)
                out[key.strip()] = float(value)
    except ValueError:
        msg = (f"{text!r} is not one probability or level=probability pairs; write it like "
               "0.1 or ok=0.02,warning=0.1,critical=0.3")
        raise argparse.ArgumentTypeError(msg) from None
    bad = [f"{k}={v:g}" for k, v in out.items() if not 0 <= v <= 1]
    if bad:
        msg = f"probabilities must lie between 0 and 1, got {', '.join(bad)}"
        raise argparse.ArgumentTypeError(msg)
    return out


def add_parsers(sub: Any) -> None:
    """Add ``readiness`` to the subcommands ``sub``."""
    rd = sub.add_parser("readiness", help="station readiness (absence, complaints, "
                        "grievances, refusals, kit) and expected coverage under refusal risk")
    add_inputs(rd)
    rd.add_argument("--events", required=True, type=Path, help="personnel events (CSV)")
    rd.add_argument("--resources", required=True, type=Path, help="station resources (CSV)")
    rd.add_argument("--as-of", type=iso_date, default=None, metavar="DATE",
                    help="last day of the 30- and 90-day windows (default: the newest "
                    "event's date)")
    rd.add_argument("--refusal-p", type=refusal_p, default=None, metavar="P",
                    help="probability that a unit fails to answer, by its station's level: "
                    "one number, or ok=..,warning=..,critical=.. (default "
                    + ",".join(f"{k}={v:g}" for k, v in settings.REFUSAL_P.items()) + ")")
    add_format(rd)


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _cmd_readiness(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.data.personnel import read_events, read_resources
    from coverage.engine.analysis import analyse
    from coverage.planning.expected import expected_coverage, expected_records
    from coverage.planning.readiness import (
        readiness,
        station_records,
        station_refusal_p,
        unit_refusal_p,
    )

    inputs = load_inputs(args, stages)
    ds = inputs.dataset
    stages("reading personnel events and resources")
    events = read_events(args.events, ds.officers)
    resources = read_resources(args.resources, ds.stations)
    probs = args.refusal_p or dict(settings.REFUSAL_P)
    r = readiness(ds.stations, ds.officers, events, resources, as_of=args.as_of,
                  suspended=inputs.suspended)
    stages("computing travel times")
    cov = analyse(ds, suspended=inputs.suspended, threshold_min=args.threshold_min)
    stages("expected coverage")
    ex = expected_coverage(cov, unit_refusal_p(r, cov.units.station_id, refusal_p=probs))
    stages("done")
    stages.close()
    per_station = station_refusal_p(r, refusal_p=probs)
    stations = [{**s, "refusal_p": per_station[s["station_id"]]} for s in station_records(r)]
    levels = r.stations["level"].value_counts()
    record = {
        "as_of": r.as_of.isoformat(),
        "refusal_p": probs,
        "levels": {k: int(levels.get(k, 0)) for k in LEVELS},
        "stations": stations,
        "zones": expected_records(ex),
        "objective": _num(ex.objective),
        "expected_objective": ex.expected_objective,
        "suspended_officers": len(inputs.suspended),
        "threshold_min": args.threshold_min,
        "sources": {**ds.sources, "events": args.events.name,
                    "resources": args.resources.name},
    }
    if args.format == "json":
        print(json.dumps(record, indent=2, allow_nan=False))
    else:
        print(_table(record))
    return 0


def _aligned(header: list[str], body: list[list[str]], left: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i in left else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in [header, *body]]


def _table(rec: dict[str, Any]) -> str:
    lv = rec["levels"]
    lines = [f"Readiness as of {rec['as_of']}: {lv['critical']} critical, {lv['warning']} "
             f"warning, {lv['ok']} ok stations; refusal p "
             + ", ".join(f"{k} {v:g}" for k, v in rec["refusal_p"].items()),
             f"Objective {rec['objective']:g}, expected under refusal risk "
             f"{rec['expected_objective']:.1f}", ""]
    order = {"critical": 0, "warning": 1, "ok": 2}
    stations = sorted(rec["stations"], key=lambda s: (order[s["level"]], s["station_id"]))
    body = [[s["level"], s["station_id"], str(s["name"])[:28], str(s["strength"]),
             str(s["on_duty"]), str(s["suspended"]), f"{s['absence_rate_30d']:.0%}",
             str(s["complaints_90d"]), str(s["grievances_90d"]), str(s["refusals_90d"]),
             ", ".join(f"{k} -{v['short']}" for k, v in s["kit"].items() if v["short"]) or "-"]
            for s in stations]
    lines += _aligned(["level", "station", "name", "strength", "on_duty", "susp", "absent",
                       "compl", "griev", "refus", "kit short"], body, {0, 1, 2, 10})
    lines.append("")
    zones = sorted(rec["zones"], key=lambda z: (z["expected_covered_share"] - z["covered_share"],
                                                z["zone_id"]))
    body = [[z["zone_id"], str(z["name"])[:32], f"{z['covered_share']:.1%}",
             f"{z['expected_covered_share']:.1%}"] for z in zones]
    lines += _aligned(["zone_id", "name", "covered", "expected"], body, {0, 1})
    return "\n".join(lines)


COMMANDS: dict[str, Callable[[argparse.Namespace, Stages], int]] = {
    "readiness": _cmd_readiness,
}


def add_report_args(rep: argparse.ArgumentParser) -> None:
    """``report ... [--events E --resources R [--refusal-p P]]``: expected coverage too."""
    rep.add_argument("--events", type=Path, help="personnel events (CSV): with --resources, "
                     "adds expected coverage under refusal risk (docs/readiness.md)")
    rep.add_argument("--resources", type=Path, help="station resources (CSV), with --events")
    rep.add_argument("--refusal-p", type=refusal_p, default=None, metavar="P",
                     help="refusal probability by station level, as for readiness")


def expected_for_report(args: argparse.Namespace, cov: Any, out: dict[str, Any]) -> str | None:
    """Add ``expected_covered_share`` to each zone of the report JSON ``out`` and
    ``expected_objective`` to its ``overall``; return the table's line (None without
    ``--events``/``--resources``). Readiness is as of ``--as-of``'s date, else the newest
    event's."""
    if args.events is None and args.resources is None:
        return None
    if args.events is None or args.resources is None:
        msg = "--events and --resources go together (station readiness levels)"
        raise CoverageError(msg)
    from coverage.data.personnel import read_events, read_resources
    from coverage.planning.expected import expected_coverage
    from coverage.planning.readiness import readiness, unit_refusal_p

    ds = cov.dataset
    r = readiness(ds.stations, ds.officers, read_events(args.events, ds.officers),
                  read_resources(args.resources, ds.stations),
                  as_of=args.as_of.date() if args.as_of is not None else None,
                  suspended=cov.suspended)
    probs = args.refusal_p or dict(settings.REFUSAL_P)
    ex = expected_coverage(cov, unit_refusal_p(r, cov.units.station_id, refusal_p=probs))
    share = dict(zip(ex.zones["zone_id"], ex.zones["expected_covered_share"], strict=True))
    for z in out["zones"]:
        z["expected_covered_share"] = float(share[z["zone_id"]])
    out["overall"]["expected_objective"] = ex.expected_objective
    out["refusal_p"] = probs
    return (f"Expected objective under refusal risk {ex.expected_objective:.1f} of plain "
            f"{_num(ex.objective)} (readiness as of {r.as_of.isoformat()})")
