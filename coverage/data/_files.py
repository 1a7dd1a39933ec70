"""Input files as text frames: CSV and spatial files read, every problem kept by row.

Plumbing behind :mod:`coverage.data.loaders`: a :class:`_Source` labels records (1-based
row, plus the file line in a CSV) and collects problems and notes; :func:`_open` reads a
CSV (every column as text) or a spatial file (GeoJSON, GeoPackage by layer, zipped
Shapefile; geometry in EPSG:4326).
"""

from __future__ import annotations

import csv
import logging
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.errors
from pyproj.exceptions import CRSError

from coverage.errors import DataError, DataWarning, problems_message

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
_SPATIAL = (".geojson", ".json", ".gpkg", ".zip", ".shp")
_TEXT = (".txt", ".lst", "")
#: The layer a multi-layer GeoPackage is read from, by role: names tried in order.
_LAYER_NAMES = {"stations": ("stations", "station"), "zones": ("zones", "zone"),
                "officers": ("officers", "officer")}
_LAYER_GEOMETRY = {"stations": "Point", "zones": "Polygon", "officers": "Point"}


@dataclass
class _Source:
    """One input file: how to label its rows, and the problems and notes found in it."""

    path: Path
    csv: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # file line where each CSV record starts

    def at(self, i: int | np.integer) -> str:
        """Label of record ``i`` (0-based): 1-based row, plus the file line for a CSV."""
        if not self.csv:
            return f"row {i + 1}"
        return f"row {i + 1} (line {self.lines[i] if i < len(self.lines) else i + 2})"

    def add(self, i: int | np.integer, msg: str) -> None:
        self.problems.append(f"{self.at(i)}: {msg}")

    def note(self, msg: str) -> None:
        self.notes.append(f"{self.path.name}: {msg}")

    def fail(self, msg: str) -> NoReturn:
        raise DataError(problems_message(self.path.name, [msg]))

    def check(self) -> None:
        """Raise one DataError listing every problem found, if any."""
        if self.problems:
            raise DataError(problems_message(self.path.name, self.problems))

    def emit(self, what: str, n: int) -> None:
        """Warn each note (stacklevel 3: the public loader's caller) and log the count."""
        for msg in self.notes:
            warnings.warn(msg, DataWarning, stacklevel=3)
        logger.info("%s: %d read from %s", what, n, self.path.name)


def _source(path: str | Path, suffixes: Sequence[str], fix: str) -> _Source:
    p = Path(path)
    src = _Source(p, csv=p.suffix.lower() == ".csv")
    if p.suffix.lower() not in suffixes:
        src.fail(f"unknown file type '{p.suffix}'; {fix}")
    if not p.is_file():
        src.fail(f"file not found at {p}" if not p.exists() else f"{p} is not a file")
    return src


def _as_text(s: pd.Series) -> pd.Series:
    """Return ``s`` as stripped strings; empty cells are missing (NaN)."""
    if pd.api.types.is_float_dtype(s):
        vals = s.dropna()
        if (len(vals) and np.isfinite(vals).all() and (vals % 1 == 0).all()
                and float(np.abs(vals).max()) < 2**53):
            s = s.astype("Int64")  # integer ids stored with nulls come back as floats
    out = s.astype(str).str.strip()
    return out.mask(out == "")


def _read_csv(src: _Source) -> pd.DataFrame:
    """Read a CSV, every column as text; a record with more fields than the header is a problem."""
    try:  # a first pass with the csv module finds each record's line and its field count
        with open(src.path, newline="", encoding="utf-8-sig") as fh:
            reader, wide = csv.reader(fh), []
            header = next(reader, [])
            _check_csv_header(src, header)
            last = reader.line_num
            for rec in reader:
                start, last = last + 1, reader.line_num
                if rec:
                    src.lines.append(start)
                    if len(rec) > len(header):
                        wide.append((len(src.lines) - 1, len(rec)))
        trim: dict[str, Any] = {"engine": "python", "on_bad_lines": lambda f: f[:len(header)]}
        with warnings.catch_warnings():  # wide records are reported below, not by pandas
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(src.path, dtype=str, keep_default_na=False, na_values=[""],
                             encoding="utf-8-sig", index_col=False, **(trim if wide else {}))
    except DataError:
        raise
    except pd.errors.EmptyDataError:
        src.fail("the file is empty: it holds no header and no records")
    except (pd.errors.ParserError, csv.Error, UnicodeDecodeError, OSError, ValueError) as exc:
        src.fail(f"not a readable CSV file ({exc}); save it as UTF-8 comma-separated text")
    if len(src.lines) != len(df):
        src.lines.clear()  # the two passes disagree: fall back to one line per record
    for i, n in wide:
        src.add(i, f"has {n} fields but the header has {len(header)}; quote values with commas")
    return pd.DataFrame({str(c).strip(): _as_text(df[c]) for c in df.columns}, index=df.index)


def _check_csv_header(src: _Source, header: list[str]) -> None:
    """A semicolon-separated file, or a column named twice, fails before its records."""
    if header and sum(h.count(";") for h in header) >= len(header):
        src.fail("this file uses ';' to separate values (and probably ',' as the decimal "
                 "mark); save it comma-separated with '.' decimals (e.g. CSV UTF-8, "
                 "comma-delimited)")
    names = [h.strip() for h in header]
    for name in dict.fromkeys(n for n in names if names.count(n) > 1):
        where = " and ".join(str(i + 1) for i, n in enumerate(names) if n == name)
        src.problems.append(f"column '{name}' appears more than once (columns {where}); "
                            "keep one, a second value would be lost")


def _layer(src: _Source, role: str) -> str | None:
    """The layer of a multi-layer GeoPackage to read for ``role`` (said in a note)."""
    if src.path.suffix.lower() != ".gpkg" or role not in _LAYER_NAMES:
        return None
    try:
        layers = [(str(n), str(g)) for n, g in pyogrio.list_layers(src.path)]
    except Exception:  # unreadable: gpd.read_file reports it
        return None
    if len(layers) <= 1:
        return None
    names = [n for n, _ in layers]
    listed = f"the GeoPackage has {len(layers)} layers ({', '.join(names)})"
    for want in _LAYER_NAMES[role]:
        for name in names:
            if name.lower() == want:
                src.note(f"{listed}; read layer '{name}' (its name matches)")
                return name
    kind = _LAYER_GEOMETRY[role]
    fits = [n for n, g in layers if kind in g]
    if len(fits) == 1:
        src.note(f"{listed}; read layer '{fits[0]}', the only one of {kind} geometry")
        return fits[0]
    return src.fail(f"{listed} and none is named '{role}'; name the {role} layer '{role}' or "
                    "save a GeoPackage with one layer")


def _bad_rings(src: _Source, layer: str | None) -> None:
    """Name the rows whose polygon rings are not closed (GEOS says so without a row)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wkbs = pyogrio.raw.read(src.path, layer=layer, force_2d=True)[2]
    except Exception:  # the caller reports the original error
        return
    for i, wkb in enumerate(wkbs):
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as exc:
            src.add(i, _geos_problem(str(exc)))
    src.check()


def _geos_problem(text: str) -> str:
    if "closed" in text:
        return ("a polygon ring is not closed: its last point must repeat its first; "
                "close each ring")
    return f"geometry cannot be read ({text})"


def _read_spatial(src: _Source, role: str = "") -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Read a spatial file: its attributes as text and its geometry in EPSG:4326."""
    if src.path.suffix.lower() == ".zip" and not zipfile.is_zipfile(src.path):
        src.fail("not a valid zip archive; zip the Shapefile's .shp, .shx, .dbf and .prj")
    layer = _layer(src, role)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            gdf = gpd.read_file(src.path, engine="pyogrio", datetime_as_string=True,
                                force_2d=True, layer=layer)
        except Exception as exc:
            if "LinearRing" in str(exc):
                _bad_rings(src, layer)
            src.fail(f"cannot be read as a spatial file ({exc}); check that it is complete "
                     "and in the format its suffix says")
    for w in caught:
        src.note(f"the file reader reported: {w.message}")
    if not isinstance(gdf, gpd.GeoDataFrame):
        src.fail("the file has no geometry column")
    geom = gdf.geometry
    attrs = pd.DataFrame({c: _as_text(gdf[c]) for c in gdf.columns if c != geom.name},
                         index=gdf.index)
    if geom.crs is None:
        minx, miny, maxx, maxy = geom.total_bounds
        if np.isfinite(minx) and not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            src.fail(f"the file declares no CRS and its coordinates (x {minx:g}..{maxx:g}, "
                     f"y {miny:g}..{maxy:g}) are not degrees; save it with its CRS "
                     "(e.g. EPSG:32642) or in WGS84 longitude/latitude")
        src.note("the file declares no CRS; its coordinates look like degrees, so WGS84 "
                 "(EPSG:4326) is assumed")
        geom = geom.set_crs(WGS84)
    try:
        geom = geom.to_crs(WGS84)
    except (CRSError, ValueError, RuntimeError) as exc:
        src.fail(f"cannot reproject from {geom.crs} to WGS84 ({exc})")
    return attrs, geom.reset_index(drop=True)


def _open(path: str | Path, role: str) -> tuple[_Source, pd.DataFrame, gpd.GeoSeries | None]:
    """Read a tabular or spatial file (``role``: stations, zones or officers); the geometry
    is None for a CSV."""
    src = _source(path, (".csv", *_SPATIAL),
                  "use .csv, .geojson, .json, .gpkg, .shp or a zipped Shapefile (.zip)")
    df, geom = (_read_csv(src), None) if src.csv else _read_spatial(src, role)
    if len(df) == 0:
        src.fail("the file is empty: it holds no records")
    return src, df, geom
