"""Command line: ``python -m coverage report|prepare|brief ...``.

Bad data ends with ``error: <file>: ...`` on stderr and exit code 2, never a traceback;
warnings about accepted data go to stderr as ``warning: ...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from coverage.cli import feed as _feed_commands
from coverage.cli import live as _live_commands
from coverage.cli import planning as _planning_commands
from coverage.cli import readiness as _readiness_commands
from coverage.cli.argtypes import whole
from coverage.cli.inputs import Stages, add_format, add_inputs, load_inputs
from coverage.errors import CoverageError, CoverageWarning

if TYPE_CHECKING:
    from coverage.briefing.brief import ExpectedFigures
    from coverage.engine.analysis import Coverage

EXIT_DATA_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """Bad flags end like bad data: ``error: ...`` on stderr, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_DATA_ERROR, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m coverage``."""
    parser = _Parser(
        prog="python -m coverage",
        description="Security coverage of sensitive zones over a road network.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="coverage figures per zone")
    add_inputs(rep)
    add_format(rep)
    _add_live(rep)
    _readiness_commands.add_report_args(rep)  # --events, --resources, --refusal-p
    prep = sub.add_parser("prepare", help="parse a road file once and cache the compiled graph")
    prep.add_argument("--roads", required=True, type=Path)
    add_format(prep)
    _add_brief(sub.add_parser("brief", help="briefing export: PNG map, offline HTML map or "
                              "PDF (see docs/exports.md)"))
    _live_commands.add_parsers(sub)  # ingest, positions, simulate-feed, users, audit
    _feed_commands.add_parsers(sub)  # serve-feed, devices, tokens
    _planning_commands.add_parsers(sub)  # backfill, criticality, sweep
    _readiness_commands.add_parsers(sub)  # readiness
    for command in sub.choices.values():  # -v/-q also after the command name
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="log each stage")
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="no progress on stderr")
    return parser


def _add_brief(br: argparse.ArgumentParser) -> None:
    add_inputs(br)
    add_format(br)
    br.add_argument("--out", required=True, type=Path, help="output file: .png, .html or .pdf")
    br.add_argument("--title", default="Security coverage briefing", help="briefing title")
    br.add_argument("--redact", choices=("stations", "displace", "none"), default="stations",
                    help="officers aggregated to station counts (default), displaced "
                    "250-600 m at random, or exact positions (control room only)")
    br.add_argument("--width-px", type=whole(16), default=1200, help="PNG width (default 1200)")
    br.add_argument("--height-px", type=whole(16), default=800, help="PNG height (default 800)")
    br.add_argument("--renderer", choices=("auto", "chromium", "matplotlib"), default=None,
                    help="map renderer for PNG/PDF (default auto: headless Chromium, else "
                    "a static matplotlib drawing; env SECCOV_PNG_RENDERER)")
    _readiness_commands.add_report_args(br)  # --events, --resources, --refusal-p
    br.add_argument("--as-of", type=_as_of_day, metavar="DATE",
                    help="readiness as of this date (ISO 8601, or a time with offset as for "
                    "report); default: the newest event's date")


def _as_of_day(text: str) -> date:
    """``brief --as-of``: a date (2026-11-25) or, as ``report`` takes it, a time with offset."""
    if "T" in text.strip():
        return _aware_time(text).date()
    return _readiness_commands.iso_date(text)


def _brief_expected(args: argparse.Namespace, scenario: Coverage,
                    baseline: Coverage) -> ExpectedFigures | None:
    """``brief --events E --resources R``: expected coverage beside the plain figures."""
    if args.events is None and args.resources is None:
        return None
    if args.events is None or args.resources is None:
        msg = "--events and --resources go together (station readiness levels)"
        raise CoverageError(msg)
    from coverage.briefing.brief import expected_figures
    from coverage.data.personnel import read_events, read_resources

    ds = scenario.dataset
    return expected_figures(scenario, read_events(args.events, ds.officers),
                            read_resources(args.resources, ds.stations), baseline=baseline,
                            as_of=args.as_of, refusal_p=args.refusal_p)


def _add_live(rep: argparse.ArgumentParser) -> None:
    """``report --live-db URL [--stale-s S] [--exclude-stale] [--as-of ISO]`` (DATA.md)."""
    from coverage import settings

    rep.add_argument("--live-db", metavar="URL", help="store of live positions: units stand "
                     "at their newest one; adds the 'live' object to the JSON")
    rep.add_argument("--stale-s", type=float, default=settings.stale_after_s(), metavar="S",
                     help="a position older than S seconds is stale (default: SECCOV_STALE_S "
                     f"or {settings.STALE_AFTER_S:g})")
    rep.add_argument("--exclude-stale", action="store_true",
                     help="leave out units whose newest position is stale (default: they "
                     "count at their last position)")
    rep.add_argument("--as-of", type=_aware_time, metavar="ISO",
                     help="'now' for ages, ISO 8601 with offset (default: the clock)")


def _aware_time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        msg = f"{text!r} is not an ISO 8601 time with an offset (e.g. 2026-11-25T08:00:00+05:00)"
        raise argparse.ArgumentTypeError(msg)
    return when


def _cmd_report(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.engine.analysis import analyse
    from coverage.engine.report import report_dict, report_table, unreachable_notes

    inputs = load_inputs(args, stages)
    stages("computing travel times")
    cov = analyse(inputs.dataset, suspended=inputs.suspended, threshold_min=args.threshold_min)
    live = None
    if args.live_db:
        from coverage.ops.positions import latest_positions, live_coverage, live_summary
        from coverage.ops.store import open_store

        if not args.stale_s >= 0:
            msg = f"--stale-s must be a number of seconds >= 0, got {args.stale_s}"
            raise CoverageError(msg)
        with open_store(args.live_db) as db:
            positions = latest_positions(db, stale_after_s=args.stale_s, now=args.as_of)
        view = live_coverage(cov, positions, exclude_stale=args.exclude_stale,
                             stale_after_s=args.stale_s)
        cov, live = view.coverage, live_summary(view)
    stages("done")
    stages.close()
    for note in unreachable_notes(cov):
        print(f"warning: {note}", file=sys.stderr)
    out = report_dict(cov) | ({"live": live} if live is not None else {})
    expected = _readiness_commands.expected_for_report(args, cov, out)
    if args.format == "json":
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(report_table(cov) + (f"\n{expected}" if expected else ""))
    return 0


def _cmd_prepare(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.data.network import open_roads

    net = open_roads(args.roads, progress=stages)
    stages.close()
    if args.format == "json":
        print(json.dumps({"roads": str(args.roads), "nodes": net.n_nodes, "edges": net.n_edges}))
    else:
        print(f"{args.roads.name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges compiled and "
              "cached")
    return 0


def _cmd_brief(args: argparse.Namespace, stages: Stages) -> int:
    from coverage.briefing.brief import build_brief
    from coverage.briefing.export import check_out_path, write_export
    from coverage.engine.analysis import analyse, suspend

    check_out_path(args.out)
    inputs = load_inputs(args, stages)
    stages("computing travel times")
    base = analyse(inputs.dataset, threshold_min=args.threshold_min)
    after = suspend(base, inputs.suspended)
    expected = _brief_expected(args, after, base)
    brief = build_brief(after, baseline=base, title=args.title,
                        redact=args.redact, expected=expected,
                        suspension_source=args.suspend.name if args.suspend else None)
    stages(f"writing {args.out.name}")
    out = write_export(brief, args.out, width_px=args.width_px, height_px=args.height_px,
                       renderer=args.renderer)
    stages("done")
    stages.close()
    image = out.map_image
    if image is not None and image.renderer == "matplotlib":
        print(f"note: {image.description}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps({"path": str(out.path), "bytes": out.size_bytes,
                          "renderer": None if image is None else image.renderer,
                          "map": "offline HTML map" if image is None else image.description,
                          "redaction": brief.redaction_note}
                         | ({} if expected is None else
                            {"objective": expected.after_objective,
                             "expected_objective": expected.after_expected})))
        return 0
    how = f"; {image.description}" if image is not None else "; offline HTML map"
    print(f"wrote {out.path} ({out.size_bytes:,} bytes{how}; {brief.redaction_note})")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Stages], int]] = {
    "report": _cmd_report,
    "prepare": _cmd_prepare,
    "brief": _cmd_brief,
    **_live_commands.COMMANDS,
    **_feed_commands.COMMANDS,
    **_planning_commands.COMMANDS,
    **_readiness_commands.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    stages = Stages(total=6, quiet=args.quiet, verbose=args.verbose)
    error: CoverageError | None = None
    code = EXIT_DATA_ERROR
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        try:
            code = COMMANDS[args.command](args, stages)
        except CoverageError as exc:
            stages.close()
            error = exc
    # Replayed only after catch_warnings has ended: a third-party warning shown inside it
    # would be appended to the very list being replayed (an endless loop).
    _flush(list(caught))
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DATA_ERROR
    return code


def _flush(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        if issubclass(w.category, CoverageWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
