"""Live positions: the latest report per officer with a staleness flag, merged into officers.

As ``../shared/DATA.md`` ("Live coverage") defines it: a position is stale when it is older
than ``stale_after_s`` (default :data:`coverage.settings.STALE_AFTER_S`). Stale units still
count, at their last position, and are flagged, unless excluded (``exclude_stale``); the
feed is ``down`` when no position is fresh, ``degraded`` when more than half are stale.

    >>> import tempfile
    >>> from coverage.data.examples import example_dataset
    >>> from coverage.engine.analysis import analyse
    >>> from coverage.ops.store import Position, open_store
    >>> cov = analyse(example_dataset(), threshold_min=10)       # roster times: 08:00 +05:00
    >>> at = [datetime.fromisoformat(f"2026-11-25T08:{m}:00+05:00") for m in ("10", "02", "12")]
    >>> reports = [Position("A", 34.0, 71.502, to_us(at[0]), "08:10"),   # A drove to node 3
    ...            Position("D", 34.0, 71.503, to_us(at[1]), "08:02")]   # D, at node 5, silent
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with open_store(f"sqlite:///{folder}/live.db") as store:
    ...         _ = store.write_batch(store.begin_ingest("x", "csv", "feed"), reports, [])
    ...         live = latest_positions(store, now=at[2])            # the clock fixed at 08:12
    >>> live[["officer_id", "age_s", "stale"]]                        # stale: older than 300 s
      officer_id  age_s  stale
    0          A  120.0  False
    1          D  600.0   True
    >>> view = live_coverage(cov, live)
    >>> view.feed.state, view.feed.stale_share        # "degraded" only when more than half
    ('ok', 0.5)
    >>> list(cov.gaps["zone_id"]), list(view.coverage.gaps["zone_id"])   # Z1 needs 2 officers
    (['Z1'], [])
    >>> round(float(view.coverage.table.loc[1, "max_min"]) * 60, 1)   # Z2, 184 m at 20 km/h
    33.2
"""

from __future__ import annotations

import hashlib
import logging
import math
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import settings
from coverage.engine.analysis import Coverage, with_officers
from coverage.errors import DataError, DataWarning
from coverage.ops.store import Store, now_us, to_us

logger = logging.getLogger(__name__)

#: Columns of :func:`latest_positions`, in order.
LIVE_COLUMNS = ("officer_id", "lat", "lon", "timestamp", "stale", "age_s", "status",
                "speed_kph", "heading_deg", "source", "reported")


def latest_positions(store: Store, *, stale_after_s: float = settings.STALE_AFTER_S,
                     now: datetime | None = None) -> pd.DataFrame:
    """Return the newest position of every officer, with its age and a ``stale`` flag.

    Parameters
    ----------
    store
        An open store.
    stale_after_s
        A position older than this many seconds is stale.
    now
        The clock (aware datetime); by default the wall clock.

    Returns
    -------
    pandas.DataFrame
        A new frame, one row per officer by ``officer_id``: ``lat``, ``lon`` (float64),
        ``timestamp`` (datetime64[us, UTC]), ``stale`` (bool), ``age_s`` (float64, negative
        for a report slightly ahead of the clock), ``status`` (str or None), ``speed_kph``,
        ``heading_deg`` (float64, NaN when not reported), ``source`` (``feed`` or
        ``simulated``), ``reported`` (the timestamp text as received, with its offset).
    """
    if not (math.isfinite(stale_after_s) and stale_after_s >= 0):
        msg = (f"stale_after_s must be a finite number of seconds >= 0, got "
               f"{stale_after_s!r}")
        raise DataError(msg)
    clock = to_us(now) if now is not None else now_us()
    rows = store.latest_positions()
    ts = np.array([p.ts_us for p in rows], dtype=np.int64)
    age = (clock - ts) / 1e6
    frame = pd.DataFrame({
        "officer_id": pd.Series([p.officer_id for p in rows], dtype=object),
        "lat": np.array([p.lat for p in rows], dtype=np.float64),
        "lon": np.array([p.lon for p in rows], dtype=np.float64),
        "timestamp": pd.to_datetime(ts, unit="us", utc=True),
        "stale": age > stale_after_s,
        "age_s": age,
        "status": pd.Series([p.status for p in rows], dtype=object),
        "speed_kph": np.array([np.nan if p.speed_kph is None else p.speed_kph for p in rows],
                              dtype=np.float64),
        "heading_deg": np.array([np.nan if p.heading_deg is None else p.heading_deg
                                 for p in rows], dtype=np.float64),
        "source": pd.Series([p.source for p in rows], dtype=object),
        "reported": pd.Series([p.timestamp for p in rows], dtype=object),
    })
    logger.info("live: %d officers, %d stale (older than %g s)", len(frame),
                int(frame["stale"].sum()), stale_after_s)
    return frame


def merge_live(officers: gpd.GeoDataFrame, live: pd.DataFrame, *,
               exclude_stale: bool = False) -> gpd.GeoDataFrame:
    """Return a new officers frame with positions replaced by fresher live ones.

    An officer's ``lat``, ``lon``, ``geometry`` and ``last_seen`` are replaced by the live
    report when it is newer than ``last_seen`` (or ``last_seen`` is empty); such an officer
    is no longer ``at_station``. Status is not changed. Live reports of officer ids not in
    ``officers`` are ignored (logged).

    Parameters
    ----------
    officers
        The frame from :func:`coverage.data.loaders.read_officers` (not modified).
    live
        The frame from :func:`latest_positions`.
    exclude_stale
        Leave out officers whose newest live report is stale. By default they stay, at
        their last reported position (flagged ``stale``): a stopped feed must not look like
        lost coverage. Officers that never reported keep their roster position either way.

    Returns
    -------
    geopandas.GeoDataFrame
        The officers with three more columns: ``position_source`` (``roster``, ``feed`` or
        ``simulated``), ``stale`` (bool; True only for a stale live position) and
        ``live_age_s`` (float64, NaN for roster positions).
    """
    out = officers.copy()
    out["position_source"] = "roster"
    out["stale"] = False
    out["live_age_s"] = np.nan
    if len(live) == 0 or len(out) == 0:
        return out
    latest = live.drop_duplicates("officer_id", keep="last").set_index("officer_id")
    # plain object arrays and a hash lookup: Series.isin on Arrow strings loops in Python
    ids = pd.Index(out["officer_id"].astype(str).to_numpy(dtype=object))
    known = pd.Index(latest.index.astype(str).to_numpy(dtype=object))
    unknown = len(known.difference(ids))
    if unknown:
        logger.info("live: %d reports for officer ids not in the roster were ignored", unknown)
    where = known.get_indexer(ids)
    has = np.flatnonzero(where >= 0)
    if not len(has):
        return out
    rows = latest.iloc[where[has]]
    live_ts = _naive_utc(rows["timestamp"])
    seen = _naive_utc(out["last_seen"].iloc[has])
    fresher = np.isnat(seen) | (live_ts > seen)
    pick, rows = has[fresher], rows.loc[fresher]
    for col, values in (("lat", rows["lat"]), ("lon", rows["lon"]),
                        ("position_source", rows["source"]), ("stale", rows["stale"]),
                        ("live_age_s", rows["age_s"])):
        column = out[col].to_numpy(copy=True)
        column[pick] = values.to_numpy()
        out[col] = column
    last_seen = _naive_utc(out["last_seen"])
    last_seen[pick] = live_ts[fresher]
    out["last_seen"] = pd.to_datetime(last_seen).tz_localize("UTC")
    at_station = out["at_station"].to_numpy(dtype=bool, copy=True)
    at_station[pick] = False
    out["at_station"] = at_station
    geometry = np.asarray(out.geometry.array, dtype=object).copy()
    geometry[pick] = gpd.points_from_xy(rows["lon"].to_numpy(), rows["lat"].to_numpy())
    out = out.set_geometry(gpd.GeoSeries(list(geometry), index=out.index, crs=out.crs))
    if exclude_stale:
        out = out.loc[~out["stale"].to_numpy(dtype=bool)].reset_index(drop=True)
    return out


def _naive_utc(values: pd.Series) -> np.ndarray:
    """Datetimes as naive UTC ``datetime64[ns]`` (NaT kept), for plain numpy comparisons."""
    return np.array(pd.to_datetime(values, utc=True).dt.tz_localize(None)
                      .to_numpy(dtype="datetime64[ns]"))


#: Feed states, best first (DATA.md "Live coverage").
FEED_STATES: Final[tuple[str, ...]] = ("ok", "degraded", "down")


@dataclass(frozen=True)
class FeedHealth:
    """The feed's state as DATA.md defines it, from the officers with a live position.

    ``state`` is ``down`` when no live position is younger than ``stale_after_s`` (or there
    is none), ``degraded`` when more than half of them are stale, else ``ok``.
    """

    state: str
    positions: int
    stale: int
    newest_age_s: float | None
    stale_after_s: float

    @property
    def stale_share(self) -> float:
        """Share of the officers with a live position whose position is stale (0 if none)."""
        return self.stale / self.positions if self.positions else 0.0


def feed_health(positions: int, stale: int, newest_age_s: float | None, *,
                stale_after_s: float = settings.STALE_AFTER_S) -> FeedHealth:
    """Return the feed's state from its counts (see :class:`FeedHealth`)."""
    if positions == 0 or stale >= positions:
        state = "down"
    elif 2 * stale > positions:
        state = "degraded"
    else:
        state = "ok"
    return FeedHealth(state, positions, stale, newest_age_s, stale_after_s)


@dataclass(frozen=True, eq=False)
class LiveCoverage:
    """Coverage with live positions: the run, every officer drawn, and the feed's state.

    ``officers`` holds every officer (stale ones flagged ``stale``, at their last position);
    ``coverage`` counts stale units too unless they were excluded. ``stale_only_gaps`` are
    the zones whose gap depends on stale positions alone: a gap when stale units are left
    out, none when they count (ids in ``coverage.gaps`` order). ``off_network`` counts the
    available units standing more than ``settings.SNAP_WARN_M`` from a road node, and
    ``off_network_live`` those of them placed by a live position. ``base`` is the run the
    positions were merged into and ``placement`` a digest of what the run depends on (each
    officer's id, status, position and stale flag): :func:`live_coverage` reuses the run of
    a previous view with the same two.
    """

    coverage: Coverage
    officers: gpd.GeoDataFrame
    feed: FeedHealth
    simulated: int
    exclude_stale: bool = False
    stale_only_gaps: tuple[str, ...] = ()
    off_network: int = 0
    off_network_live: int = 0
    base: Coverage | None = None
    placement: str = ""

    @property
    def live_reports(self) -> int:
        """Officers of the roster standing at a live position."""
        return self.feed.positions

    @property
    def stale(self) -> int:
        """Officers whose live position is stale."""
        return self.feed.stale

    @property
    def newest_age_s(self) -> float | None:
        """Age of the newest live position in seconds (None without any)."""
        return self.feed.newest_age_s


def placement_digest(officers: gpd.GeoDataFrame) -> str:
    """A digest of what a coverage run of ``officers`` depends on: ids, status, position,
    stale flag (merged live officers, :func:`merge_live`)."""
    h = hashlib.blake2b(digest_size=16)
    for col in ("officer_id", "status"):
        h.update("\x1f".join(map(str, officers[col].to_numpy(dtype=object))).encode())
        h.update(b"\x1e")
    h.update(np.ascontiguousarray(officers.geometry.x.to_numpy(dtype=np.float64)).tobytes())
    h.update(np.ascontiguousarray(officers.geometry.y.to_numpy(dtype=np.float64)).tobytes())
    h.update(officers["stale"].to_numpy(dtype=bool).tobytes())
    return h.hexdigest()


def live_coverage(cov: Coverage, live: pd.DataFrame, *, exclude_stale: bool = False,
                  stale_after_s: float = settings.STALE_AFTER_S,
                  previous: LiveCoverage | None = None) -> LiveCoverage:
    """Return ``cov`` re-run with the live positions in ``live`` merged into its officers.

    Stale units count at their last position unless ``exclude_stale``; officers with no
    live report keep their roster position. ``stale_after_s`` is the age ``live`` was
    flagged with (:func:`latest_positions`), quoted in the feed's health. Warnings about
    units far off the roads are not raised here: they are counted in ``off_network``.
    ``previous`` (the last view of the same ``cov``): when no officer's id, status,
    position or stale flag changed since, its run is reused (no road search) and only the
    ages and the feed's health are new; the figures are the same as a fresh run's.
    """
    every = merge_live(cov.dataset.officers, live)
    stale = every["stale"].to_numpy(dtype=bool)
    digest = placement_digest(every)
    if (previous is not None and previous.base is cov and previous.placement == digest
            and previous.exclude_stale == exclude_stale):
        return _with_new_ages(previous, every, stale_after_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        counted = with_officers(cov, every)
        fresh = with_officers(cov, every.loc[~stale].reset_index(drop=True)) \
            if stale.any() else counted
    run = fresh if exclude_stale else counted
    held = set(fresh.table.loc[fresh.table["gap"], "zone_id"].astype(str)) - set(
        counted.table.loc[counted.table["gap"], "zone_id"].astype(str))
    order = [str(z) for z in fresh.gaps["zone_id"]]
    source = dict(zip(every["officer_id"].astype(str),
                      every["position_source"].astype(str), strict=True))
    far = np.flatnonzero(np.asarray(run.units.snap_m) > settings.SNAP_WARN_M)
    return LiveCoverage(
        coverage=run, officers=every, feed=_feed_of(every, stale_after_s),
        simulated=int((every["position_source"].astype(str) == "simulated").sum()),
        exclude_stale=exclude_stale,
        stale_only_gaps=tuple(z for z in order if z in held),
        off_network=len(far),
        off_network_live=sum(source.get(run.units.officer_id[i]) != "roster" for i in far),
        base=cov, placement=digest,
    )


def _feed_of(every: gpd.GeoDataFrame, stale_after_s: float) -> FeedHealth:
    from_feed = every["position_source"].astype(str).to_numpy() != "roster"
    ages = every["live_age_s"].to_numpy(dtype=np.float64)[from_feed]
    newest = float(np.nanmin(ages)) if ages.size and np.isfinite(ages).any() else None
    return feed_health(int(from_feed.sum()), int(every["stale"].to_numpy(dtype=bool).sum()),
                       newest, stale_after_s=stale_after_s)


def _with_new_ages(previous: LiveCoverage, every: gpd.GeoDataFrame,
                   stale_after_s: float) -> LiveCoverage:
    """``previous`` with the officers' ages and the feed's health of ``every``."""
    return replace(previous, officers=every, feed=_feed_of(every, stale_after_s),
                   simulated=int((every["position_source"].astype(str) == "simulated").sum()))


def live_summary(view: LiveCoverage) -> dict[str, object]:
    """The ``live`` object of ``report --live-db`` JSON (DATA.md "Live coverage")."""
    age = view.feed.newest_age_s
    return {"positions": view.feed.positions, "stale": view.feed.stale,
            "newest_age_s": None if age is None else round(age, 3), "feed": view.feed.state}
