"""Personnel: read and validate personnel events and station resources (DATA.md).

Personnel events are officer-level records (absences, complaints, grievances, refusals...):
the frame :func:`read_events` returns must be shown only to roles allowed to see personnel
records. Notes are untrusted free text, kept as given and never interpreted.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import settings
from coverage.data._files import _read_csv, _source
from coverage.data.loaders import _columns, _number, _text
from coverage.errors import DataError

#: Event kinds allowed by DATA.md, in the order messages list them.
EVENT_KINDS: tuple[str, ...] = (
    "absence", "sick_leave", "complaint", "grievance", "refusal", "commendation",
)
#: Kinds that may carry ``days`` (the others are single occurrences).
DAY_KINDS: tuple[str, ...] = ("absence", "sick_leave")
EVENT_COLUMNS: tuple[str, ...] = ("officer_id", "date", "kind", "days", "note")
RESOURCE_COLUMNS: tuple[str, ...] = ("station_id", "item", "on_hand", "per_officer")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CSV_ONLY = "save it as a .csv file"


def _frame_of(what: str, frame: object, column: str, loader: str) -> None:
    if not isinstance(frame, pd.DataFrame) or column not in frame.columns:
        msg = f"{what}: pass the GeoDataFrame returned by {loader}"
        raise DataError(msg)


def read_events(path: str | Path, officers: gpd.GeoDataFrame) -> pd.DataFrame:
    """Read and validate a personnel events CSV against the loaded ``officers``.

    Parameters
    ----------
    path
        Columns ``officer_id, date, kind``; optional ``days`` (whole number >= 1, only for
        ``absence`` and ``sick_leave``; default 1) and ``note`` (free text, untrusted).
        A date outside :data:`coverage.settings.PLAUSIBLE_YEARS` is refused.
    officers
        The frame from :func:`coverage.data.loaders.read_officers` (not modified); every
        ``officer_id`` must name one of its officers.

    Returns
    -------
    pandas.DataFrame
        A new frame, one row per event in file order: ``officer_id``, ``kind`` (str),
        ``date`` (``datetime.date``), ``days`` (int64), ``note`` (str, empty when absent).
        A header with no records is a valid file with no events. Raises DataError
        listing every problem in the file, by row and column.

    Examples
    --------
    A CSV like ``officer_id,date,kind,days,note`` / ``KP-0001,2026-11-20,absence,2,``.
    """
    _frame_of("officers", officers, "officer_id", "read_officers")
    src = _source(path, (".csv",), _CSV_ONLY)
    df = _columns(src, _read_csv(src), ("officer_id", "date", "kind"), ("days", "note"))
    oid = _text(src, df, "officer_id", what="event")
    kind = _text(src, df, "kind", what="event")
    raw_date = _text(src, df, "date", what="event")
    known = set(officers["officer_id"].astype(str))
    for i in np.flatnonzero(oid.notna() & ~oid.isin(known)):
        src.add(i, f"officer_id '{oid.iloc[i]}' names no officer in the officers file; "
                   "fix the id or add the officer")
    for i in np.flatnonzero(kind.notna() & ~kind.isin(EVENT_KINDS)):
        src.add(i, f"kind '{kind.iloc[i]}' is not one of {', '.join(EVENT_KINDS)}")
    dates: list[date | None] = []
    first_year, last_year = settings.PLAUSIBLE_YEARS
    for row, r in enumerate(raw_date):
        when = None
        if not pd.isna(r):
            try:
                when = date.fromisoformat(r) if _DATE.fullmatch(r) else None
            except ValueError:
                src.add(row, f"date '{r}' is not a valid calendar date; check the day and month")
            else:
                if when is None:
                    src.add(row, f"date '{r}' is not an ISO 8601 date; write it like 2026-11-25")
                elif not first_year <= when.year <= last_year:
                    src.add(row, f"date '{r}' is outside the years {first_year}..{last_year}; "
                                 "check the year")
                    when = None
        dates.append(when)
    days = _number(src, df, "days", whole=True, ok=lambda v: v >= 1,
                   fix="give a whole number of days >= 1, or leave it empty for 1")
    given = days.notna().to_numpy()
    for i in np.flatnonzero(given & kind.notna().to_numpy() & ~kind.isin(DAY_KINDS).to_numpy()):
        src.add(i, f"days is given for a '{kind.iloc[i]}' event; only "
                   f"{' and '.join(DAY_KINDS)} events count days: leave it empty")
    src.check()
    note = df["note"] if "note" in df.columns else pd.Series("", index=df.index)
    out = pd.DataFrame({
        "officer_id": oid.astype(str).to_numpy(),
        "kind": kind.astype(str).to_numpy(),
        "date": pd.Series(dates, dtype=object).to_numpy(),
        "days": days.fillna(1).astype("int64").to_numpy(),
        "note": note.fillna("").astype(str).to_numpy(),
    })
    src.emit("personnel events", len(out))
    return out


def read_resources(path: str | Path, stations: gpd.GeoDataFrame) -> pd.DataFrame:
    """Read and validate a station resources CSV against the loaded ``stations``.

    Parameters
    ----------
    path
        Columns ``station_id, item, on_hand`` (whole number >= 0); optional ``per_officer``
        (whole number >= 1, default 1: how many officers one item serves). One row per
        (station, item): a repeated pair is an error.
    stations
        The frame from :func:`coverage.data.loaders.read_stations` (not modified); every
        ``station_id`` must name one of its stations.

    Returns
    -------
    pandas.DataFrame
        A new frame in file order: ``station_id``, ``item`` (str), ``on_hand``,
        ``per_officer`` (int64); a header alone gives no items. Raises DataError listing
        every problem in the file.
    """
    _frame_of("stations", stations, "station_id", "read_stations")
    src = _source(path, (".csv",), _CSV_ONLY)
    df = _columns(src, _read_csv(src), ("station_id", "item", "on_hand"), ("per_officer",))
    sid = _text(src, df, "station_id", what="resource row")
    item = _text(src, df, "item", what="resource row")
    known = set(stations["station_id"].astype(str))
    for i in np.flatnonzero(sid.notna() & ~sid.isin(known)):
        src.add(i, f"station_id '{sid.iloc[i]}' names no station in the stations file")
    first: dict[tuple[str, str], int] = {}
    for row, (s, t) in enumerate(zip(sid, item, strict=True)):
        if pd.isna(s) or pd.isna(t):
            continue
        if (s, t) in first:
            src.add(row, f"station_id '{s}' and item '{t}' repeat {src.at(first[(s, t)])}; "
                         "give one row per station and item")
        else:
            first[(s, t)] = row
    on_hand = _number(src, df, "on_hand", whole=True, ok=lambda v: v >= 0,
                      fix="give a whole number >= 0")
    if "on_hand" in df.columns:
        for i in np.flatnonzero(df["on_hand"].isna().to_numpy()):
            src.add(i, "on_hand is empty; give the number of items at the station (0 if none)")
    per = _number(src, df, "per_officer", whole=True, ok=lambda v: v >= 1,
                  fix="give a whole number >= 1 (officers one item serves), or leave it "
                      "empty for 1")
    src.check()
    out = pd.DataFrame({
        "station_id": sid.astype(str).to_numpy(),
        "item": item.astype(str).to_numpy(),
        "on_hand": on_hand.astype("int64").to_numpy(),
        "per_officer": per.fillna(1).astype("int64").to_numpy(),
    })
    src.emit("station resources", len(out))
    return out
