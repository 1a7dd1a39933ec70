"""Loaders: read and validate stations, zones, officers and suspension lists (DATA.md)."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.errors
from shapely.geometry import MultiPolygon

from coverage import settings
from coverage.data._files import (
    _TEXT,
    WGS84,
    _geos_problem,
    _open,
    _read_csv,
    _Source,
    _source,
)
from coverage.errors import DataError

logger = logging.getLogger(__name__)

#: Officer statuses allowed by DATA.md, in the order messages list them.
STATUSES: tuple[str, ...] = ("on_duty", "reserve", "off_duty", "suspended")
_ISO = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
_ISO_NAIVE = re.compile(_ISO, re.ASCII)
_ISO_OFFSET = re.compile(_ISO + r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)", re.ASCII)
_DEGREES = "give WGS84 decimal degrees"
_MAX_COUNT = 1_000_000_000  # counts (officers, vehicles, strength) beyond this are typos


def parse_timestamp(text: str, *, name: str = "timestamp") -> tuple[datetime | None, str | None]:
    """Return (aware datetime, None) for ISO 8601 text with a UTC offset, else (None, problem).

    The one parser of date-times for officers' ``last_seen`` and the live feed: ``T`` or a
    space between date and time, seconds optional, a fraction after ``.`` or ``,``, ``Z`` or
    ``+05:00``/``+0500``/``+05``; ASCII digits only.

    >>> parse_timestamp("2026-11-25T08:00:00,5Z")[0].isoformat()
    '2026-11-25T08:00:00.500000+00:00'
    """
    if _ISO_OFFSET.fullmatch(text):
        try:
            return datetime.fromisoformat(text.upper()), None
        except ValueError:
            return None, f"{name} '{text}' is not a valid date-time; check the date and time"
    if _ISO_NAIVE.fullmatch(text):
        return None, f"{name} '{text}' has no UTC offset; add an offset like +05:00 (or Z for UTC)"
    return None, (f"{name} '{text}' is not an ISO 8601 date-time with offset; write it like "
                  "2026-11-25T08:00:00+05:00")


def _columns(src: _Source, df: pd.DataFrame, required: Sequence[str],
             optional: Sequence[str] = ()) -> pd.DataFrame:
    """Missing required columns are a problem, unknown ones a note; returns ``df``."""
    known = (*required, *optional)
    if src.path.suffix.lower() in (".zip", ".shp"):  # Shapefile field names stop at 10 chars
        df = df.rename(columns={c[:10]: c for c in known if c[:10] in df and c not in df})
    missing = [c for c in required if c not in df.columns]
    if missing:
        src.problems.append(f"missing required column(s) {', '.join(missing)}; "
                            f"columns found: {', '.join(map(str, df.columns)) or 'none'}")
    extra = [str(c) for c in df.columns if c not in known]
    if extra:
        src.note(f"ignored unknown column(s) {', '.join(extra)}; expected {', '.join(known)}")
    return df


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df.columns else pd.Series(np.nan, index=df.index, dtype=str)


def _text(src: _Source, df: pd.DataFrame, col: str, *, what: str = "",
          required: bool = True) -> pd.Series:
    s = _col(df, col)
    if required and col in df.columns:
        for i in np.flatnonzero(s.isna()):
            src.add(i, f"{col} is empty; every {what} needs a {col}")
    return s


def _ids(src: _Source, df: pd.DataFrame, col: str, what: str) -> pd.Series:
    s = _text(src, df, col, what=what)
    repeated = (s.duplicated(keep="first") & s.notna()).to_numpy()
    if repeated.any():  # rows are visited in order only when some id repeats
        first: dict[str, int] = {}
        for i, v in enumerate(s):
            if not pd.isna(v) and v in first:
                src.add(i, f"{col} '{v}' duplicates {src.at(first[v])}; ids must be unique")
            elif not pd.isna(v):
                first[v] = i
    return s


def _number(src: _Source, df: pd.DataFrame, col: str, *, fix: str, whole: bool = False,
            ok: Callable[[float], bool] = lambda _v: True) -> pd.Series:
    """Return ``col`` as float64 (NaN when empty); bad values are problems."""
    raw = _col(df, col)
    num = pd.to_numeric(raw, errors="coerce").astype("float64")
    values = num.to_numpy()
    finite = np.isfinite(values)
    suspect = ~finite  # rows that may hold a problem; only those are looked at one by one
    if whole:
        with np.errstate(invalid="ignore"):
            suspect |= (values != np.round(values)) | (np.abs(values) > _MAX_COUNT)
    if finite.any():
        distinct = np.unique(values[finite])  # ok() asked once per distinct value
        refused = distinct[[not ok(float(v)) for v in distinct]]
        suspect |= np.isin(values, refused)
    suspect &= raw.notna().to_numpy()
    for i in np.flatnonzero(suspect).tolist():
        r, v = raw.iloc[i], float(values[i])
        if not np.isfinite(v):
            src.add(i, f"{col} '{r}' is not a number; {fix}")
        elif whole and v != round(v):
            src.add(i, f"{col} '{r}' is not a whole number; {fix}")
        elif whole and abs(v) > _MAX_COUNT:
            src.add(i, f"{col} '{r}' is out of range (at most {_MAX_COUNT:,}); {fix}")
        elif not ok(v):
            src.add(i, f"{col} '{r}' is out of range; {fix}")
    return num


def _range_problem(lat: float, lon: float) -> str | None:
    bad = [f"lat {lat:g} is outside -90..90"] if not -90 <= lat <= 90 else []
    bad += [f"lon {lon:g} is outside -180..180"] if not -180 <= lon <= 180 else []
    swapped = -90 <= lon <= 90 and -180 <= lat <= 180
    hint = "lat and lon look swapped" if swapped else _DEGREES
    return f"{' and '.join(bad)}; {hint}" if bad else None


def _coords(src: _Source, df: pd.DataFrame, geom: gpd.GeoSeries | None, *,
            what: str, empty_ok: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return lon, lat (NaN where empty or bad) from point geometries or lat/lon columns."""
    lon, lat = np.full(len(df), np.nan), np.full(len(df), np.nan)
    if geom is not None:
        for i, g in enumerate(geom):
            if g is None or g.is_empty:
                if not empty_ok:
                    src.add(i, f"geometry is empty; give the {what}'s point")
            elif g.geom_type != "Point":
                src.add(i, f"geometry is a {g.geom_type}, not a Point; give each {what} one point")
            elif problem := _range_problem(g.y, g.x):
                src.add(i, problem)
            else:
                lon[i], lat[i] = g.x, g.y
        return lon, lat
    if "lat" not in df.columns or "lon" not in df.columns:
        return lon, lat
    lat = _number(src, df, "lat", fix=_DEGREES).to_numpy()
    lon = _number(src, df, "lon", fix=_DEGREES).to_numpy()
    lat_empty, lon_empty = df["lat"].isna().to_numpy(), df["lon"].isna().to_numpy()
    with np.errstate(invalid="ignore"):
        outside = (np.isfinite(lat) & np.isfinite(lon)
                   & ((np.abs(lat) > 90) | (np.abs(lon) > 180)))
    suspect = (lat_empty != lon_empty) | outside | ((lat_empty & lon_empty) & (not empty_ok))
    for i in np.flatnonzero(suspect).tolist():  # only rows that may hold a problem
        a, o = bool(lat_empty[i]), bool(lon_empty[i])
        if a != o:
            src.add(i, f"only {'lon' if a else 'lat'} is given; give both lat and lon"
                    + (", or leave both empty for an officer at the station" if empty_ok else ""))
        elif a and not empty_ok:
            src.add(i, f"lat and lon are empty; every {what} needs a position")
        elif np.isfinite(lat[i]) and np.isfinite(lon[i]) and (p := _range_problem(lat[i], lon[i])):
            src.add(i, p)
    bad = ~(np.isfinite(lat) & np.isfinite(lon)) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    return np.where(bad, np.nan, lon), np.where(bad, np.nan, lat)


def _polygonal(g: Any) -> Any:
    """Return the polygonal part of a ``make_valid`` result, or None when it has none."""
    parts = shapely.get_parts(shapely.get_parts(g))  # collection members, then their parts
    polys = [p for p in parts if p.geom_type == "Polygon" and not p.is_empty]
    return (polys[0] if len(polys) == 1 else MultiPolygon(polys)) if polys else None


def _polygons(src: _Source, geoms: Sequence[Any], ids: pd.Series,
              wkt: Sequence[str | None] | None) -> list[Any]:
    """Check zone geometries; repair invalid ones with ``shapely.make_valid`` (noted)."""
    out: list[Any] = list(geoms)
    repaired: list[str] = []
    for i, g in enumerate(geoms):
        text = wkt[i] if wkt is not None else None
        if g is None and text is not None:
            src.add(i, _wkt_problem(text))
        elif g is None or g.is_empty:
            src.add(i, "geometry is empty; draw the zone's polygon")
        elif g.geom_type not in ("Polygon", "MultiPolygon"):
            src.add(i, f"geometry is a {g.geom_type}, not a Polygon or MultiPolygon; "
                       "draw each zone as an area")
        elif not np.isfinite(shapely.get_coordinates(g)).all():
            src.add(i, "geometry has a coordinate that is not a number (NaN or infinite); "
                       "fix the zone's outline")
        elif problem := _range_problem(g.bounds[1], g.bounds[0]) or _range_problem(
                g.bounds[3], g.bounds[2]):
            src.add(i, problem)
        elif not g.is_valid:
            try:
                out[i] = _polygonal(shapely.make_valid(g))
            except shapely.errors.GEOSException as exc:
                src.add(i, f"polygon is invalid and cannot be repaired ({exc}); redraw it")
                continue
            if out[i] is None:
                src.add(i, "polygon is invalid and has no area left after repair; redraw it")
            else:
                repaired.append(f"{src.at(i)} (zone {ids.iloc[i]}: {shapely.is_valid_reason(g)})")
    if repaired:
        src.note(f"repaired invalid (e.g. self-intersecting) polygon(s) with shapely.make_valid "
                 f"at {', '.join(repaired)}; check their outlines")
    return out


def _wkt_problem(text: str) -> str:
    try:
        shapely.from_wkt(text)
    except shapely.errors.GEOSException as exc:
        if "closed" in str(exc):
            return f"geometry '{text[:40]}...': {_geos_problem(str(exc))}"
    return (f"geometry '{text[:40]}' is not valid WKT; write it like "
            "POLYGON ((lon lat, lon lat, ...))")


def _timestamps(src: _Source, df: pd.DataFrame, col: str) -> pd.Series:
    """Return ``col`` as datetime64[ns, UTC]; empty is NaT, naive or non-ISO is a problem."""
    raw = _col(df, col)
    out: list[datetime | None] = []
    lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    seen: dict[str, tuple[datetime | None, str | None]] = {}  # each distinct text parsed once
    for i, r in enumerate(raw):
        if pd.isna(r):
            when, problem = None, None
        elif (text := str(r)) in seen:
            when, problem = seen[text]
        else:
            when, problem = parse_timestamp(text, name=col)
            if when is not None and not lo < when < hi:
                when, problem = None, f"{col} '{r}' is outside the years 1677..2262; check the date"
            seen[text] = (when, problem)
        if problem:
            src.add(i, problem)
        out.append(when)
    return pd.to_datetime(pd.Series(out, index=raw.index, dtype=object), utc=True).astype(
        "datetime64[ns, UTC]")


def read_stations(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a stations file: a CSV with ``lat``/``lon``, or points.

    Parameters
    ----------
    path
        Columns ``station_id, name``; optional ``division, sanctioned_strength, vehicles``
        and ``district`` (the district a station belongs to, for the district picker: see
        :mod:`coverage.data.districts`; not in DATA.md, an extension).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: ``station_id``, ``name`` (str), ``division`` and ``district`` (object,
        str or None), ``sanctioned_strength``, ``vehicles`` (Int64), Point ``geometry`` in
        EPSG:4326.
        Raises DataError listing every problem in the file, by row and column.
    """
    src, df, geom = _open(path, "stations")
    df = _columns(src, df, ("station_id", "name", *(("lat", "lon") if src.csv else ())),
                  ("division", "sanctioned_strength", "vehicles", "district"))
    sid = _ids(src, df, "station_id", "station")
    name = _text(src, df, "name", what="station")
    division = _text(src, df, "division", required=False)
    district = _text(src, df, "district", required=False)
    counts = [_number(src, df, col, whole=True, ok=lambda v: v >= 0,
                      fix="give a whole number >= 0, or leave it empty")
              for col in ("sanctioned_strength", "vehicles")]
    lon, lat = _coords(src, df, geom, what="station", empty_ok=False)
    src.check()
    out = gpd.GeoDataFrame(
        {"station_id": sid.astype(str), "name": name.astype(str),
         "division": pd.Series([None if pd.isna(v) else v for v in division], dtype=object),
         "sanctioned_strength": counts[0].astype("Int64"), "vehicles": counts[1].astype("Int64"),
         "district": pd.Series([None if pd.isna(v) else v for v in district], dtype=object)},
        geometry=gpd.points_from_xy(lon, lat), crs=WGS84,
    )
    src.emit("stations", len(out))
    return out


def read_zones(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a zones file: polygons, or a CSV with a WKT ``geometry`` column.

    Parameters
    ----------
    path
        Columns ``zone_id, name``; optional ``priority`` (1 highest .. 3), ``target_min``
        (minutes > 0) and ``min_officers`` (whole number >= 0).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: ``zone_id``, ``name`` (str), ``priority`` (Int64, nullable),
        ``target_min`` (float64, NaN = the run's threshold), ``min_officers`` (Int64, empty
        = ``settings.DEFAULT_MIN_OFFICERS``), Polygon/MultiPolygon ``geometry`` in EPSG:4326.
        Invalid polygons are repaired with ``shapely.make_valid`` and warned about. Raises
        DataError listing every problem in the file, by row and column.
    """
    src, df, geom = _open(path, "zones")
    df = _columns(src, df, ("zone_id", "name", *(("geometry",) if src.csv else ())),
                  ("priority", "target_min", "min_officers"))
    zid = _ids(src, df, "zone_id", "zone")
    name = _text(src, df, "name", what="zone")
    priority = _number(src, df, "priority", whole=True, ok=lambda v: v in (1, 2, 3),
                       fix="use 1, 2 or 3 (1 = highest), or leave it empty")
    lo, hi = settings.TARGET_MIN_RANGE
    target = _number(src, df, "target_min", ok=lambda v: lo <= v <= hi,
                     fix=f"give minutes from {lo:g} to {hi:g}, or leave it empty for the "
                         "run's threshold")
    min_off = _number(src, df, "min_officers", whole=True,
                      ok=lambda v: 0 <= v <= settings.MAX_MIN_OFFICERS,
                      fix=f"give a whole number from 0 to {settings.MAX_MIN_OFFICERS:,}, or "
                          f"leave it empty for the default ({settings.DEFAULT_MIN_OFFICERS})")
    if geom is None:
        wkt = [None if pd.isna(w) else str(w) for w in _col(df, "geometry")]
        with warnings.catch_warnings():  # NaN coordinates: reported per row by _polygons
            warnings.simplefilter("ignore", RuntimeWarning)
            shapes = list(shapely.from_wkt(np.array(wkt, dtype=object), on_invalid="ignore"))
        polys = _polygons(src, shapes, zid, wkt)
    else:
        polys = _polygons(src, list(geom), zid, None)
    src.check()
    out = gpd.GeoDataFrame(
        {"zone_id": zid.astype(str), "name": name.astype(str),
         "priority": priority.astype("Int64"), "target_min": target,
         "min_officers": min_off.astype("Int64").fillna(settings.DEFAULT_MIN_OFFICERS)},
        geometry=gpd.GeoSeries(polys), crs=WGS84,
    )
    src.emit("zones", len(out))
    return out


def read_officers(path: str | Path, stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Read and validate an officers file (CSV with lat/lon, or points) against ``stations``.

    Parameters
    ----------
    path
        Columns ``officer_id, name, rank, station_id, status, last_seen`` and, in a CSV,
        ``lat, lon`` (both empty: at the station). In a point file the geometry is the
        position; an empty or null geometry means "at the station".
    stations
        The frame from :func:`read_stations` (not modified).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: ``officer_id, name, rank, station_id, status`` (str), ``lat, lon``
        (float64, NaN at the station), ``last_seen`` (datetime64[ns, UTC], NaT if empty),
        ``at_station`` (bool), Point ``geometry`` (own position, else the station's) in
        EPSG:4326. An officer whose station_id names no station is kept if it has a position,
        else dropped; both are warned about. Raises DataError listing every problem.
    """
    if not isinstance(stations, gpd.GeoDataFrame) or "station_id" not in stations.columns:
        msg = "stations: pass the GeoDataFrame returned by read_stations"
        raise DataError(msg)
    src, df, geom = _open(path, "officers")
    df = _columns(src, df, ("officer_id", "name", "rank", "station_id", "status",
                            *(("lat", "lon") if src.csv else ()), "last_seen"))
    oid = _ids(src, df, "officer_id", "officer")
    name, rank, sid, status = (_text(src, df, c, what="officer")
                               for c in ("name", "rank", "station_id", "status"))
    for i in np.flatnonzero(status.notna() & ~status.isin(STATUSES)):
        src.add(i, f"status '{status.iloc[i]}' is not one of {', '.join(STATUSES)}")
    lon, lat = _coords(src, df, geom, what="officer", empty_ok=True)
    seen = _timestamps(src, df, "last_seen")
    src.check()

    st = stations.to_crs(WGS84) if stations.crs is not None else stations
    home = dict(zip(st["station_id"].astype(str), st.geometry, strict=True))
    at_station, known = np.isnan(lat), sid.isin(list(home)).to_numpy()
    own = np.asarray(gpd.points_from_xy(lon, lat), dtype=object)
    codes, names = pd.factorize(sid)  # -1 (at_home: None) where sid is empty
    at_home = np.array([home.get(s) for s in names] + [None], dtype=object)
    out = gpd.GeoDataFrame(
        {"officer_id": oid.astype(str), "name": name.astype(str), "rank": rank.astype(str),
         "station_id": sid.astype(str), "status": status.astype(str),
         "lat": lat, "lon": lon, "last_seen": seen, "at_station": at_station},
        geometry=list(np.where(at_station, at_home[codes], own)),
        crs=WGS84,
    )
    for mask, fate in (
        (~known & ~at_station, "kept at the officer's own position; fix the station_id"),
        (~known & at_station, "these officers have no position of their own, cannot be located "
                              "and were dropped; fix the station_id or give lat/lon"),
    ):
        if mask.any():
            rows = ", ".join(f"{src.at(i)} (officer {oid.iloc[i]}, station_id '{sid.iloc[i]}')"
                             for i in np.flatnonzero(mask))
            src.note(f"station_id names no station at {rows}; {fate}")
    ref = st.geometry[~(st.geometry.isna() | st.geometry.is_empty)]
    if len(ref) and (np.abs(ref.x) > np.abs(ref.y)).all():  # stations: |lon| > |lat|
        swapped = np.flatnonzero(np.abs(np.nan_to_num(lat)) > np.abs(np.nan_to_num(lon)))
        if len(swapped):
            src.note("lat and lon look swapped (every station has |lon| > |lat|) at "
                     + ", ".join(f"{src.at(i)} (lat {lat[i]:g}, lon {lon[i]:g})" for i in swapped)
                     + "; the positions were kept as given; check the columns")
    out = out.loc[known | ~at_station].reset_index(drop=True)
    src.emit("officers", len(out))
    return out


def read_suspension(path: str | Path, officers: gpd.GeoDataFrame | None = None) -> list[str]:
    """Read a suspension list: a CSV with ``officer_id``, or a text file of one id per line.

    Parameters
    ----------
    path
        ``.csv``, or ``.txt``/``.lst``/no suffix (blank and ``#`` lines are ignored).
    officers
        If given, ids matching no ``officer_id`` in it are warned about and dropped.

    Returns
    -------
    list of str
        The ids in file order, each once (repeats are warned about); ``[]`` for an empty
        list. Raises DataError if the file is unreadable or a CSV lacks ``officer_id``.
    """
    src = _source(path, (".csv", *_TEXT), "use .csv, or .txt with one officer_id per line")
    try:
        text = src.path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        src.fail(f"cannot be read as UTF-8 text ({exc})")
    found: list[tuple[str, str]] = []  # (id, where)
    if src.csv and text.strip():
        df = _columns(src, _read_csv(src), ("officer_id",))
        ids = _text(src, df, "officer_id", what="listed officer")
        found = [(v, src.at(i)) for i, v in enumerate(ids) if not pd.isna(v)]
    elif not src.csv:
        lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
        found = [(v, f"line {n}") for n, v in lines if v and not v.startswith("#")]
    src.check()
    first: dict[str, str] = {}
    repeats = [f"'{v}' at {where} (first at {first[v]})" for v, where in found
               if first.setdefault(v, where) != where]
    if repeats:
        src.note(f"officer_id listed more than once, repeats ignored: {', '.join(repeats)}")
    result = list(first)
    if officers is not None:
        valid = set(officers["officer_id"].astype(str))
        unknown = [v for v in result if v not in valid]
        if unknown:
            src.note(f"{len(unknown)} officer_id(s) match no officer and are ignored: "
                     + ", ".join(f"'{v}' ({first[v]})" for v in unknown))
            result = [v for v in result if v in valid]
    src.emit("suspension list", len(result))
    return result
