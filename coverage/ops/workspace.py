"""Workspace: the uploaded datasets kept on disk, and which one the app uses.

An upload is staged in a private temporary folder, validated as a whole (every problem in
every file listed with file, row and field) and only then activated: its files are copied to
``datasets/<content hash>/`` under :func:`coverage.settings.data_dir` and ``active.json``
is replaced atomically. Until then the active dataset is untouched; without
``active.json`` callers use their default (the app: the bundled demo district).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from unittest import mock
    >>> from coverage.data.examples import example_files
    >>> from coverage.ops.store import open_store
    >>> folder = tempfile.TemporaryDirectory()
    >>> active = example_files(folder.name)       # the tiny district stands for the active files
    >>> roster = active["officers"].read_bytes()
    >>> staged = stage({"officers": ("officers.csv", roster.replace(b"reserve", b"resting"))},
    ...                base=active)               # officer C (row 3) gets an unknown status
    >>> check = validate(staged.files)
    >>> staged.cleanup()
    >>> check.ok
    False
    >>> check.problems[["severity", "file", "row", "field"]]
      severity          file  row   field
    0    error  officers.csv    3  status
    >>> staged = stage({"officers": ("officers.csv", roster.replace(b"off_duty", b"on_duty"))},
    ...                base=active)               # officer E comes on duty
    >>> check = validate(staged.files)
    >>> with mock.patch("coverage.settings.data_dir", return_value=Path(folder.name)):
    ...     with open_store(f"sqlite:///{folder.name}/live.db") as store:
    ...         kept = activate(store, staged.files, name="night shift", user="ops")
    ...         print(check.ok, active_files(default={}) == kept, store.count("audit_log"))
    True True 2
    >>> staged.cleanup()
    >>> folder.cleanup()
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage import settings
from coverage.data.dataset import Dataset, load_dataset
from coverage.data.loaders import read_officers, read_stations, read_zones
from coverage.data.personnel import read_events, read_resources
from coverage.data.roads import OSM_SUFFIXES
from coverage.data.uploads import UploadError, check_size, extract_zip, safe_name
from coverage.errors import CoverageError, DataWarning
from coverage.ops import audit
from coverage.ops.registry import file_meta, register_dataset
from coverage.ops.store import Store

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("roads", "stations", "zones", "officers")
#: Optional files, uploaded together: personnel events and station resources (readiness,
#: docs/readiness.md). They are not part of the coverage dataset.
PERSONNEL: tuple[str, ...] = ("events", "resources")
#: Columns DATA.md names per file, used to find the field a problem is about.
FIELDS: dict[str, tuple[str, ...]] = {
    "stations": ("station_id", "name", "lat", "lon", "geometry"),
    "zones": ("zone_id", "name", "priority", "target_min", "min_officers", "geometry"),
    "officers": ("officer_id", "name", "rank", "station_id", "status", "lat", "lon",
                 "last_seen"),
    "roads": ("highway", "maxspeed", "oneway", "geometry"),
    "events": ("officer_id", "date", "kind", "days", "note"),
    "resources": ("station_id", "item", "on_hand", "per_officer"),
}
PROBLEM_COLUMNS = ("severity", "file", "row", "field", "message")
_ROW = re.compile(r"^(?:(?P<file>[^:\n]+?): )?(?:row (?P<row>\d+)(?: \(line \d+\))?: )?")


def data_dir() -> Path:
    """The folder holding the store and the datasets (see :func:`settings.data_dir`)."""
    return settings.data_dir()


def active_files(*, default: Mapping[str, Path]) -> dict[str, Path]:
    """Return the active dataset's files by role, or ``default`` when none is active."""
    pointer = data_dir() / "active.json"
    try:
        files = json.loads(pointer.read_text(encoding="utf-8"))["files"]
        paths = {role: Path(files[role]) for role in ROLES}
    except (OSError, ValueError, KeyError, TypeError):
        return dict(default)
    if not all(p.is_file() for p in paths.values()):
        logger.warning("workspace: %s names missing files; using the default", pointer)
        return dict(default)
    return paths


def active_personnel() -> dict[str, Path] | None:
    """The active upload's personnel events and resources files, or None (no upload is
    active, it has none, or they are missing)."""
    try:
        files = json.loads((data_dir() / "active.json").read_text(encoding="utf-8"))["files"]
        paths = {role: Path(files[role]) for role in PERSONNEL}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return paths if all(p.is_file() for p in paths.values()) else None


@dataclass(frozen=True)
class Staged:
    """Uploaded files saved in ``folder`` plus the current files for the other roles."""

    folder: Path
    files: dict[str, Path]
    uploaded: tuple[str, ...]

    def cleanup(self) -> None:
        """Delete the staging folder (the current files it points to are not touched)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def stage(uploads: Mapping[str, tuple[str, bytes]], *, base: Mapping[str, Path]) -> Staged:
    """Save uploaded files (role -> (file name, bytes)) into a new private folder.

    Roles not uploaded keep ``base``'s file. Names are reduced to plain file names; sizes
    are checked; a ``.zip`` (zipped shapefile) is checked for ``..`` paths, links, bombs
    and oversize members before it is kept (the loaders read it in place). Raises
    UploadError (a DataError) naming the file; nothing is kept then.
    """
    unknown = sorted(set(uploads) - {*ROLES, *PERSONNEL})
    if unknown:
        msg = (f"unknown upload role(s) {', '.join(unknown)}; use "
               f"{', '.join((*ROLES, *PERSONNEL))}")
        raise CoverageError(msg)
    folder = Path(tempfile.mkdtemp(prefix="seccov-stage-"))
    try:
        files = {role: Path(base[role]) for role in (*ROLES, *PERSONNEL) if role in base}
        for role, (name, data) in uploads.items():
            check_size(name, len(data))
            target = folder / role
            target.mkdir()
            path = target / safe_name(name)
            path.write_bytes(data)
            files[role] = _from_zip(role, path) if path.suffix.lower() == ".zip" else path
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    missing = [r for r in ROLES if r not in files]
    if missing:
        shutil.rmtree(folder, ignore_errors=True)
        msg = f"no file for {', '.join(missing)}: upload one"
        raise CoverageError(msg)
    return Staged(folder, files, tuple(uploads))


_TABLES = (".csv", ".geojson", ".json", ".gpkg")
#: What a zipped upload may hold for each role, besides a Shapefile.
ZIP_MEMBERS: dict[str, tuple[str, ...]] = {
    "roads": (*OSM_SUFFIXES, ".graphml", ".geojson", ".json", ".gpkg"),
    "stations": _TABLES, "zones": _TABLES, "officers": _TABLES,
    "events": (".csv",), "resources": (".csv",)}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # a repacked zip: same content, same bytes


def _from_zip(role: str, saved: Path) -> Path:
    """Check and unpack an uploaded zip; return the file the loaders should read.

    The archive is checked first (``..`` paths, links, bombs, sizes: UploadError). One
    Shapefile is kept zipped, repacked flat under a plain name (GDAL reads a zipped
    Shapefile only at the root); otherwise the archive must hold exactly one file of a
    type ``role`` accepts (e.g. a zipped officers.csv), which is used under a plain name.
    """
    unpacked = extract_zip(saved, name=saved.name, dest=saved.parent)
    members = [p for p in unpacked.paths
               if "__MACOSX" not in p.parts and not p.name.startswith(".")]
    shapefiles = [p for p in members if p.suffix.lower() == ".shp"]
    if len(shapefiles) == 1:  # repacked flat, with plain names (GDAL reads the root only)
        shp = shapefiles[0]
        parts = sorted(p for p in shp.parent.iterdir()
                       if p.is_file() and p.stem.lower() == shp.stem.lower())
        stem = Path(safe_name(shp.name)).stem
        flat = saved.with_name(saved.name + ".part")
        with zipfile.ZipFile(flat, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for p in parts:
                out.writestr(zipfile.ZipInfo(stem + p.suffix.lower(), date_time=_FIXED_TIME),
                             p.read_bytes())
        flat.replace(saved)
        unpacked.cleanup()
        return saved
    found = shapefiles or [p for p in members if p.name.lower().endswith(ZIP_MEMBERS[role])]
    if len(found) != 1:
        names = ", ".join(p.relative_to(unpacked.root).as_posix() for p in members)
        unpacked.cleanup()
        what = "Shapefiles" if shapefiles else f"{role} files"
        msg = (f"{saved.name}: holds {len(found)} {what} ({names or 'no files'}); zip exactly "
               f"one {role} file ({', '.join(ZIP_MEMBERS[role])}) or one Shapefile")
        raise UploadError(msg)
    saved.unlink()
    plain = saved.with_name(safe_name(found[0].name))  # member names are untrusted text
    found[0].replace(plain)
    unpacked.cleanup()
    return plain


@dataclass(frozen=True)
class Validation:
    """The outcome of :func:`validate`: ok when no error; problems one row per line."""

    ok: bool
    problems: pd.DataFrame
    dataset: Dataset | None


def _rows(severity: str, text: str, role: str, fallback: str) -> list[dict[str, object]]:
    """One problem row per line of an engine message, with file, row and field found."""
    out: list[dict[str, object]] = []
    for line in (t for t in text.splitlines() if t.strip()):
        m = _ROW.match(line)
        assert m is not None  # the pattern matches the empty prefix at least
        rest = line[m.end():]
        field = next((f for f in sorted(FIELDS[role], key=len, reverse=True)
                      if re.search(rf"\b{re.escape(f)}\b", rest)), "")
        out.append({"severity": severity, "file": m.group("file") or fallback,
                    "row": int(m.group("row")) if m.group("row") else None,
                    "field": field, "message": line})
    return out


def _check(role: str, path: Path, fn: Callable[[], object],
           rows: list[dict[str, object]]) -> object | None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            result = fn()
        except CoverageError as exc:
            rows += _rows("error", str(exc), role, path.name)
            result = None
    for w in caught:
        if issubclass(w.category, DataWarning):
            rows += _rows("warning", str(w.message), role, path.name)
    return result


def validate(files: Mapping[str, Path], *,
             progress: Callable[[str], None] | None = None) -> Validation:
    """Validate a dataset's four files (and optional events and resources, checked against
    its officers and stations); list every problem in every file.

    Stations, zones and officers are each read even when another fails, so one report
    shows them all (officers are checked against the stations when those read, else against
    no station: their station ids are then not cross-checked). Only when all three read is
    the road network opened and the whole dataset loaded (extent checks included).
    """
    say = progress or (lambda _msg: None)
    rows: list[dict[str, object]] = []
    say("reading stations, zones and officers")
    st = _check("stations", files["stations"], lambda: read_stations(files["stations"]), rows)
    _check("zones", files["zones"], lambda: read_zones(files["zones"]), rows)
    known = st if isinstance(st, gpd.GeoDataFrame) else None
    officer_rows: list[dict[str, object]] = []
    off = _check("officers", files["officers"], lambda: read_officers(
        files["officers"], known if known is not None else _no_stations()), officer_rows)
    if known is None:  # the stations did not read: their ids cannot be checked
        officer_rows = [r for r in officer_rows
                        if not (r["severity"] == "warning" and "station" in str(r["message"]))]
    rows += officer_rows
    extra = _personnel(files, known, off if isinstance(off, gpd.GeoDataFrame) else None)
    ds = None
    if not any(r["severity"] == "error" for r in (*rows, *extra)):
        rows.clear()  # the full load repeats the readers' warnings
        ds = _check("roads", files["roads"], lambda: load_dataset(
            files["roads"], files["stations"], files["zones"], files["officers"],
            progress=say), rows)
    rows += extra
    frame = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype({"row": "Int64"})
    ok = isinstance(ds, Dataset) and not (frame["severity"] == "error").any()
    logger.info("validate: %s, %d errors, %d warnings", "ok" if ok else "refused",
                int((frame["severity"] == "error").sum()),
                int((frame["severity"] == "warning").sum()))
    return Validation(ok, frame, ds if isinstance(ds, Dataset) else None)


def _personnel(files: Mapping[str, Path], stations: gpd.GeoDataFrame | None,
               officers: gpd.GeoDataFrame | None) -> list[dict[str, object]]:
    """Problems of the optional events and resources files (both or neither)."""
    rows: list[dict[str, object]] = []
    given = [r for r in PERSONNEL if r in files]
    if not given:
        return rows
    for role in PERSONNEL:
        if role not in files:
            rows.append({"severity": "error", "file": role, "row": None, "field": "",
                         "message": f"no {role} file: readiness needs events and resources "
                                    "together; upload both"})
    if "events" in files and officers is not None:
        _check("events", files["events"], lambda: read_events(files["events"], officers),
               rows)
    if "resources" in files and stations is not None:
        _check("resources", files["resources"],
               lambda: read_resources(files["resources"], stations), rows)
    return rows


def _no_stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"station_id": pd.Series([], dtype=object)},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"))


def activate(store: Store, files: Mapping[str, Path], *, name: str,
             user: str | None) -> dict[str, Path]:
    """Make ``files`` (already validated) the active dataset; return the kept copies.

    The roster is read again with the loaders (officer ids as the feed will see them);
    a DataError here means the files changed since they were validated.

    The files are copied to ``datasets/<first 16 hex of their content hash>/<role>/`` (the
    same content lands in the same folder), then ``active.json`` is replaced atomically,
    the dataset registered in the store and the upload audited. If anything fails before
    the replacement, the active dataset stays as it was.
    """
    roles = (*ROLES, *(r for r in PERSONNEL if r in files))
    metas = {role: file_meta(files[role]) for role in roles}
    digest = hashlib.sha256(json.dumps(metas, sort_keys=True).encode()).hexdigest()[:16]
    home = data_dir() / "datasets" / digest
    kept: dict[str, Path] = {}
    for role in roles:
        target = home / role / Path(files[role]).name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            shutil.copyfile(files[role], part)
            part.replace(target)
        kept[role] = target.resolve()
    with warnings.catch_warnings():  # validated already: its caveats were shown then
        warnings.simplefilter("ignore", DataWarning)
        roster = read_officers(kept["officers"], read_stations(kept["stations"]))
    ids = [str(v) for v in roster["officer_id"]]
    pointer = data_dir() / "active.json"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    body = {"name": name, "activated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "activated_by": user, "files": {r: str(p) for r, p in kept.items()}}
    tmp = pointer.with_name("active.json.part")
    tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
    record = register_dataset(store, name, kept, ids, registered_by=user)
    tmp.replace(pointer)
    audit.record(store, "upload", user=user, detail={"dataset": name, "files": metas})
    audit.record(store, "dataset_registered", user=user,
                 detail={"dataset": name, "id": record.id, "officers": len(ids)})
    logger.info("workspace: dataset '%s' active (%s)", name, home)
    return kept
