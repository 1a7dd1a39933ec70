"""Shared input flags, progress stages and the one loader every data command uses."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coverage import settings
from coverage.cli.argtypes import positive_minutes
from coverage.data.dataset import Dataset


class Stages:
    """Progress on stderr: a tqdm bar on a terminal, plain timestamped lines otherwise."""

    def __init__(self, total: int, *, quiet: bool, verbose: bool = False) -> None:
        # Plain progress lines only when asked (-v): scripts read stderr for `error:`.
        self.quiet = quiet or not (verbose or sys.stderr.isatty())
        self.start = time.perf_counter()
        self.bar: Any = None
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


def add_inputs(p: argparse.ArgumentParser) -> None:
    """Add the data flags (``--roads --stations --zones --officers --suspend ...``) to ``p``."""
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


def add_format(p: argparse.ArgumentParser) -> None:
    """Add the one output flag every command has: ``--format table|json``."""
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="output: an aligned table for people (default) or JSON")


@dataclass(frozen=True)
class Inputs:
    """The loaded data of a command: the dataset and the checked suspension list."""

    dataset: Dataset
    suspended: list[str]


def load_inputs(args: argparse.Namespace, stages: Stages) -> Inputs:
    """Load the files named by :func:`add_inputs` flags; raises DataError naming file and row."""
    from coverage.data.dataset import load_dataset
    from coverage.data.loaders import read_suspension

    ds = load_dataset(args.roads, args.stations, args.zones, args.officers,
                      use_cache=not args.no_cache, progress=stages)
    ids = read_suspension(args.suspend, ds.officers) if args.suspend is not None else []
    return Inputs(dataset=ds, suspended=ids)
