"""Command line: ``python -m coverage report|prepare|brief ...``.

Bad data ends with ``error: <file>: ...`` on stderr and exit code 2, never a traceback;
warnings about accepted data go to stderr as ``warning: ...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from coverage import _live_commands, _planning_commands, settings
from coverage._argtypes import positive_minutes, whole
from coverage._errors import CoverageError, CoverageWarning

EXIT_DATA_ERROR = 2


class _Stages:
    """Progress on stderr: a tqdm bar on a terminal, plain timestamped lines otherwise."""

    def __init__(self, total: int, *, quiet: bool, verbose: bool = False) -> None:
        # Plain progress lines only when asked (-v): scripts read stderr for `error:`.
        self.quiet = quiet or not (verbose or sys.stderr.isatty())
        self.start = time.perf_counter()
        self.bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, leave=False, unit="step")

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.set_description(message)
            self.bar.update(1)
        else:
            print(f"[{time.perf_counter() - self.start:6.1f}s] {message}", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--roads", required=True, type=Path, help="road file (.osm, .osm.bz2, "
                   ".osm.pbf, .graphml, or lines as .geojson/.gpkg/.zip)")
    p.add_argument("--stations", required=True, type=Path, help="stations (points)")
    p.add_argument("--zones", required=True, type=Path, help="sensitive zones (polygons)")
    p.add_argument("--officers", required=True, type=Path, help="officers (CSV or points)")
    p.add_argument("--suspend", type=Path, help="suspension list (CSV officer_id, or text)")
    p.add_argument("--threshold-min", type=positive_minutes,
                   default=settings.DEFAULT_THRESHOLD_MIN,
                   help="response target in minutes for zones without their own "
                   f"(default {settings.DEFAULT_THRESHOLD_MIN:g})")
    p.add_argument("--no-cache", action="store_true", help="do not use the compiled-graph cache")


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
    _add_inputs(rep)
    rep.add_argument("--format", choices=("table", "json"), default="table")
    prep = sub.add_parser("prepare", help="parse a road file once and cache the compiled graph")
    prep.add_argument("--roads", required=True, type=Path)
    _add_brief(sub.add_parser("brief", help="briefing export: PNG map, offline HTML map or "
                              "PDF (see docs/exports.md)"))
    _live_commands.add_parsers(sub)  # ingest, positions, simulate-feed, users, audit
    _planning_commands.add_parsers(sub)  # backfill, criticality, sweep
    for command in sub.choices.values():  # -v/-q also after the command name
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="log each stage")
        command.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                             help="no progress on stderr")
    return parser


def _add_brief(br: argparse.ArgumentParser) -> None:
    _add_inputs(br)
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


def _cmd_report(args: argparse.Namespace, stages: _Stages) -> int:
    from coverage.analysis import analyse
    from coverage.dataset import load_dataset
    from coverage.loaders import read_suspension
    from coverage.report import report_dict, report_table, unreachable_notes

    ds = load_dataset(args.roads, args.stations, args.zones, args.officers,
                      use_cache=not args.no_cache, progress=stages)
    suspended: list[str] = []
    if args.suspend is not None:
        suspended = read_suspension(args.suspend, ds.officers)
    stages("computing travel times")
    cov = analyse(ds, suspended=suspended, threshold_min=args.threshold_min)
    stages("done")
    stages.close()
    for note in unreachable_notes(cov):
        print(f"warning: {note}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(report_dict(cov), indent=2, allow_nan=False))
    else:
        print(report_table(cov))
    return 0


def _cmd_prepare(args: argparse.Namespace, stages: _Stages) -> int:
    from coverage.network import open_roads

    net = open_roads(args.roads, progress=stages)
    stages.close()
    print(f"{args.roads.name}: {net.n_nodes:,} nodes, {net.n_edges:,} edges compiled and cached")
    return 0


def _cmd_brief(args: argparse.Namespace, stages: _Stages) -> int:
    from coverage.analysis import analyse, suspend
    from coverage.briefing import build_brief
    from coverage.dataset import load_dataset
    from coverage.export import check_out_path, write_export
    from coverage.loaders import read_suspension

    check_out_path(args.out)
    ds = load_dataset(args.roads, args.stations, args.zones, args.officers,
                      use_cache=not args.no_cache, progress=stages)
    ids = read_suspension(args.suspend, ds.officers) if args.suspend is not None else []
    stages("computing travel times")
    base = analyse(ds, threshold_min=args.threshold_min)
    brief = build_brief(suspend(base, ids), baseline=base, title=args.title,
                        redact=args.redact,
                        suspension_source=args.suspend.name if args.suspend else None)
    stages(f"writing {args.out.name}")
    out = write_export(brief, args.out, width_px=args.width_px, height_px=args.height_px,
                       renderer=args.renderer)
    stages("done")
    stages.close()
    image = out.map_image
    if image is not None and image.renderer == "matplotlib":
        print(f"note: {image.description}", file=sys.stderr)
    how = f"; {image.description}" if image is not None else "; offline HTML map"
    print(f"wrote {out.path} ({out.size_bytes:,} bytes{how}; {brief.redaction_note})")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, _Stages], int]] = {
    "report": _cmd_report,
    "prepare": _cmd_prepare,
    "brief": _cmd_brief,
    **_live_commands.COMMANDS,
    **_planning_commands.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    stages = _Stages(total=6, quiet=args.quiet, verbose=args.verbose)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        try:
            code = COMMANDS[args.command](args, stages)
        except CoverageError as exc:
            stages.close()
            _flush(caught)
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_DATA_ERROR
    _flush(caught)
    return code


def _flush(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        if issubclass(w.category, CoverageWarning):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
