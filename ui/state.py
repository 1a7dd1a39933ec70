"""Cached state shared by the pages: the store, the active dataset and its runs, the demo feed.

Resources cached with ``st.cache_resource`` (the road network, coverage runs, the store) are
shared by every session of the process and never mutated. Session keys live here too, behind
named functions (:func:`set_last_what_if`, :func:`last_what_if`, :func:`current_scenario`,
:func:`set_current_scenario`).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from coverage import settings
from coverage.briefing.assets import install_static
from coverage.briefing.layers import NodeGrid, node_grid
from coverage.briefing.mapview import write_roads
from coverage.data.dataset import Dataset, load_dataset
from coverage.data.demo import DEMO_FILES, DEMO_SUSPENSION
from coverage.data.districts import Districts, districts_of
from coverage.engine.analysis import Coverage, analyse
from coverage.errors import CoverageError
from coverage.ops import accounts, workspace
from coverage.ops.positions import LIVE_COLUMNS, LiveCoverage, latest_positions, live_coverage
from coverage.ops.simulate import Background, run_in_background
from coverage.ops.store import Store, open_store
from coverage.planning.desk import Desk, desk_body, desk_coverage, desk_from_body
from coverage.planning.scenario import Scenario
from ui.feedback import checked, md, say

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["DEMO_SUSPENSION"]


def store_url() -> str:
    """The store URL: ``SECCOV_DB``, else a SQLite file in the data folder."""
    url = settings.db_url()
    if url:
        return url
    folder = workspace.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'seccov.db'}"


@st.cache_resource
def _open_store() -> Store:
    s = open_store(store_url())
    if settings.demo_mode():
        accounts.ensure_demo_accounts(s)
    return s


def store() -> Store:
    """The store (shared connection, thread-safe), migrated on first use.

    If it cannot be opened the page shows why (``st.error``) and stops; the next run
    tries again.
    """
    return checked(_open_store)


def reset_store() -> None:
    """Forget the open store (tests; a changed ``SECCOV_DB``)."""
    _open_store.clear()


@st.cache_resource
def static_assets() -> str:
    """Copy Leaflet into ./static once per process; return the URL the map loads it from."""
    install_static(ROOT / "static")
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static" if base else "/app/static"


def current_files() -> dict[str, Path]:
    """The active dataset's files: the last upload that validated, else the demo district."""
    return workspace.active_files(default=dict(DEMO_FILES))


def data_is_demo() -> bool:
    """True when the files in use are the bundled synthetic district."""
    return current_files() == dict(DEMO_FILES)


def _key(files: dict[str, Path]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in files.items()))


@dataclass
class _Loaded:
    """Datasets loaded in this process, by file set (shared by every session)."""

    lock: threading.Lock
    by_key: dict[tuple[tuple[str, str], ...], Dataset]


@st.cache_resource
def _loaded() -> _Loaded:
    return _Loaded(threading.Lock(), {})


def _dataset(key: tuple[tuple[str, str], ...]) -> Dataset:
    """The dataset of ``key``; the first load shows its stages in an ``st.status`` box."""
    loaded = _loaded()
    with loaded.lock:
        if key not in loaded.by_key:
            with st.status("Loading the district: road network, stations, zones, "
                           "officers...", expanded=True) as status:
                loaded.by_key[key] = checked(load_dataset, **dict(key), progress=say)
                status.update(label="District loaded", state="complete", expanded=False)
        return loaded.by_key[key]


def dataset() -> Dataset:
    """The active dataset, loaded once per process (errors and warnings shown)."""
    return _dataset(_key(current_files()))


@st.cache_resource(show_spinner="Computing coverage...", max_entries=16)
def _coverage(key: tuple[tuple[str, str], ...], threshold_min: float) -> Coverage:
    return analyse(_dataset(key), threshold_min=threshold_min)


def coverage(threshold_min: float = settings.DEFAULT_THRESHOLD_MIN) -> Coverage:
    """Coverage of the active dataset (roster positions) at a threshold, cached."""
    dataset()  # loads it with a progress box first, outside the cached function
    return checked(_coverage, _key(current_files()), float(threshold_min))


@st.cache_resource(show_spinner="Laying the map grid...", max_entries=3)
def _grid(key: tuple[tuple[str, str], ...]) -> NodeGrid:
    return node_grid(_dataset(key).network, cell_m=settings.MAP_GRID_M)


def grid() -> NodeGrid:
    """The map grid of the active dataset's road network (see coverage.briefing.layers)."""
    dataset()
    return checked(_grid, _key(current_files()))


@st.cache_resource(max_entries=3)
def _districts(key: tuple[tuple[str, str], ...]) -> Districts:
    ds = _dataset(key)
    return districts_of(ds.stations, ds.zones)


def districts() -> Districts:
    """The active dataset's districts (coverage.data.districts: the stations file's
    ``district`` column, else ``division``, else none)."""
    dataset()
    return checked(_districts, _key(current_files()))


@st.cache_resource(max_entries=3)
def _roads_url(key: tuple[tuple[str, str], ...]) -> str | None:
    try:
        roads = Path(dict(key)["roads"])
        stat = roads.stat()
        name = write_roads(_dataset(key).network, ROOT / "static" / "roads",
                           source=f"{roads.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
    except OSError as exc:  # a read-only or full app folder: the map carries its roads
        logging.getLogger(__name__).warning("roads file not written (%s): the map carries "
                                            "the roads itself", exc)
        return None
    return f"{static_assets()}/roads/{name}"


def roads_url() -> str | None:
    """Where the browser fetches the active network's main roads (written once, served
    from ./static/roads), so the map's script stays small; None when the file cannot be
    written (the map then carries the roads itself)."""
    dataset()
    return checked(_roads_url, _key(current_files()))


def clear_data_caches() -> None:
    """Drop cached datasets and runs and stop demo feeds (a new dataset is active)."""
    stop_demo_feeds()
    for fn in (_loaded, _coverage, _grid, _districts, _roads_url, _last_views):
        fn.clear()


@dataclass
class _Feeds:
    """The demo feeds of this process, by dataset."""

    lock: threading.Lock
    running: dict[tuple[tuple[str, str], ...], Background]


@st.cache_resource
def _demo_feeds() -> _Feeds:
    return _Feeds(threading.Lock(), {})


def _demo_feed(key: tuple[tuple[str, str], ...]) -> None:
    """Keep the demo's simulated feed running (restarted if it ended, e.g. a store error)."""
    ds = _dataset(key)
    feeds = _demo_feeds()
    with feeds.lock:
        if _key(current_files()) != key:  # a real dataset was activated meanwhile
            return
        feed = feeds.running.get(key)
        if feed is None or not feed.alive:
            feeds.running[key] = run_in_background(_open_store(), ds.network, ds.officers,
                                                   interval_s=settings.refresh_s())


def stop_demo_feeds() -> None:
    """Stop every simulated demo feed of this process (a real dataset became active)."""
    feeds = _demo_feeds()
    with feeds.lock:
        for feed in feeds.running.values():
            feed.stop.set()
        feeds.running.clear()


def live(*, exclude_stale: bool = False,
         threshold_min: float = settings.DEFAULT_THRESHOLD_MIN) -> LiveCoverage:
    """Coverage with the store's latest positions merged in (fresh read on every call).

    Stale units count at their last position unless ``exclude_stale`` (DATA.md).
    """
    base = coverage(threshold_min)
    try:
        db = _open_store()
        if settings.demo_feed_enabled() and data_is_demo():
            _demo_feed(_key(current_files()))
        positions = latest_positions(db, stale_after_s=settings.stale_after_s())
    except CoverageError as exc:  # the store is down: keep the map, on roster positions
        st.warning(f"Live positions unavailable, showing roster positions: {md(exc)}",
                   icon=":material/cloud_off:")
        positions = pd.DataFrame({c: [] for c in LIVE_COLUMNS})
    last = _last_views()
    slot = (_key(current_files()), float(threshold_min), bool(exclude_stale))
    with last.lock:
        previous = last.by_key.get(slot)
    view = checked(live_coverage, base, positions, exclude_stale=exclude_stale,
                   stale_after_s=settings.stale_after_s(), previous=previous)
    with last.lock:
        last.by_key[slot] = view
    return view


@dataclass
class _Views:
    """The last live view per dataset, threshold and stale choice (shared by sessions):
    a refresh where nothing moved reuses its run (coverage.ops.positions.live_coverage)."""

    lock: threading.Lock
    by_key: dict[tuple[tuple[tuple[str, str], ...], float, bool], LiveCoverage]


@st.cache_resource
def _last_views() -> _Views:
    return _Views(threading.Lock(), {})


# --- the last what-if (read by the briefing page) -------------------------------------------

_LAST_WHAT_IF_KEY = "seccov_last_what_if"


@dataclass(frozen=True)
class WhatIf:
    """The what-if last shown on the What-if page: its threshold and suspended officers."""

    threshold_min: float
    suspended: tuple[str, ...]


def set_last_what_if(threshold_min: float, suspended: list[str] | tuple[str, ...]) -> None:
    """Remember the what-if on screen (no suspensions: forget it)."""
    if suspended:
        st.session_state[_LAST_WHAT_IF_KEY] = WhatIf(float(threshold_min), tuple(suspended))
    else:
        st.session_state.pop(_LAST_WHAT_IF_KEY, None)


def last_what_if() -> WhatIf | None:
    """The what-if last shown in this browser session, or None."""
    value = st.session_state.get(_LAST_WHAT_IF_KEY)
    return value if isinstance(value, WhatIf) else None


# --- the planning desk's current scenario (plan, scenario builder, criticality) ------------

_CURRENT_SCENARIO_KEY = "seccov_current_scenario"


def set_current_scenario(desk: Desk | None) -> None:
    """Make ``desk`` the current scenario of this browser session (None: forget it)."""
    if desk is None:
        st.session_state.pop(_CURRENT_SCENARIO_KEY, None)
    else:
        st.session_state[_CURRENT_SCENARIO_KEY] = desk


def current_scenario() -> Desk | None:
    """The scenario applied last in this session (a plan, the scenario builder), or None."""
    value = st.session_state.get(_CURRENT_SCENARIO_KEY)
    return value if isinstance(value, Desk) else None


def what_if_desk() -> Desk | None:
    """The last what-if as a desk (its suspensions in ``remove``), or None."""
    last = last_what_if()
    if last is None:
        return None
    return Desk(Scenario(name="what-if", remove=last.suspended),
                threshold_min=last.threshold_min, label="the last what-if")


@st.cache_resource(show_spinner="Running the scenario...", max_entries=16)
def _desk_runs(key: tuple[tuple[str, str], ...], body: str) -> tuple[Coverage, Coverage]:
    return desk_coverage(_dataset(key), desk_from_body(body))


def desk_runs(desk: Desk) -> tuple[Coverage, Coverage]:
    """(before, after) of ``desk`` on the active dataset, cached (errors shown)."""
    dataset()
    body = json.dumps(desk_body(desk), sort_keys=True)
    return checked(_desk_runs, _key(current_files()), body)
