"""Shared UI helpers: settings, sign-in and roles, cached loaders, map layers, error display.

Pages call these and the ``coverage`` package; nothing here computes a figure. Resources
cached with ``st.cache_resource`` (the road network, coverage runs, the store) are shared by
every session of the process and never mutated.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from coverage import accounts, audit, settings, workspace
from coverage._errors import CoverageError, DataWarning
from coverage.analysis import Coverage, analyse
from coverage.assets import install_static
from coverage.briefing import DEFAULT_TITLE, Brief, build_brief, extent
from coverage.dataset import Dataset, load_dataset
from coverage.export import export_html, export_pdf, pdf_map, render_map
from coverage.layers import NodeGrid, node_grid
from coverage.live import LIVE_COLUMNS, LiveCoverage, latest_positions, live_coverage
from coverage.mapview import (
    BAND_COLORS,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    STALE_STYLE,
    STATUS_STYLE,
    coverage_map,
)
from coverage.mapview import (
    base_map as base_map_of,
)
from coverage.simulate import Background, run_in_background
from coverage.store import Store, open_store

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "geodata" / "peshawar"
DEMO_FILES = {
    "roads": DEMO_DIR / "roads.osm.pbf",
    "stations": DEMO_DIR / "stations.geojson",
    "zones": DEMO_DIR / "zones.geojson",
    "officers": DEMO_DIR / "officers.csv",
}
DEMO_SUSPENSION = DEMO_DIR / "suspended_42.csv"
USER_KEY = "seccov_user"
WANTED_KEY = "seccov_wanted_page"

#: Page files per accounts.PAGES name: (section, file, title, icon, url path).
PAGE_FILES: dict[str, tuple[str, str, str, str]] = {
    "live_map": ("Operations", "pages/live_map.py", "Live map", ":material/map:"),
    "coverage": ("Planning", "pages/zone_coverage.py", "Coverage", ":material/radar:"),
    "what_if": ("Planning", "pages/what_if.py", "What-if", ":material/person_remove:"),
    "briefing": ("Briefing", "pages/briefing.py", "Briefing exports",
                 ":material/picture_as_pdf:"),
    "data": ("Data", "pages/data.py", "Data upload", ":material/upload_file:"),
    "users": ("Admin", "pages/users.py", "Users", ":material/group:"),
    "audit": ("Admin", "pages/audit_log.py", "Audit log", ":material/policy:"),
}


# --- settings ---------------------------------------------------------------------------

def demo_mode() -> bool:
    """True when ``SECCOV_DEMO=1``: the synthetic demo district, clearly labelled."""
    return accounts.demo_mode()


def _env_float(name: str, default: float, low: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= low else default


def refresh_s() -> float:
    """Seconds between live-map refreshes (``SECCOV_REFRESH_S``, default 5, at least 1)."""
    return _env_float("SECCOV_REFRESH_S", 5.0, 1.0)


def stale_after_s() -> float:
    """Age after which a live position is stale (``SECCOV_STALE_S``, default settings)."""
    return _env_float("SECCOV_STALE_S", settings.STALE_AFTER_S, 1.0)


def store_url() -> str:
    """The store URL: ``SECCOV_DB``, else a SQLite file in the data folder."""
    url = os.environ.get("SECCOV_DB", "").strip()
    if url:
        return url
    folder = workspace.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'seccov.db'}"


@st.cache_resource
def _open_store() -> Store:
    s = open_store(store_url())
    if demo_mode():
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


# --- errors -----------------------------------------------------------------------------

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-=.!|<>~$:])")


def md(text: object) -> str:
    """``text`` with Markdown and HTML characters escaped, for any Streamlit text element.

    Text from data files (ids, names) and messages quoting them must never become links,
    images, icons, headings or code on screen. Each line keeps its words (runs of spaces
    become one); lines are joined with hard line breaks; a zero-width space after every
    colon keeps ``:icon:`` shortcodes from matching.
    """
    lines = (" ".join(line.split()) for line in str(text).splitlines())
    escaped = (_MARKDOWN.sub(r"\\\1", line).replace(":", ":\u200b") for line in lines)
    return "  \n".join(line for line in escaped if line)


def checked(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn``; show data warnings with ``st.warning`` and errors with ``st.error``.

    A :class:`coverage.CoverageError` (bad data, bad input) stops the page after showing
    the engine's message: never a traceback.
    """
    failure: CoverageError | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            result = fn(*args, **kwargs)
        except CoverageError as exc:
            failure = exc
    for w in caught:
        if issubclass(w.category, DataWarning):
            st.warning(md(w.message), icon=":material/warning:")
    if failure is not None:
        st.error(md(failure), icon=":material/error:")
        st.stop()
    return result


# --- sign-in and roles ------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    """Who is using this browser session, and how they signed in."""

    username: str
    role: str
    how: str  # "demo", "password" or "sso"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # a missing or malformed secrets.toml: no single sign-on
        return False


def session() -> Session | None:
    """The signed-in session, or None."""
    value = st.session_state.get(USER_KEY)
    return value if isinstance(value, Session) else None


def sign_in() -> Session:
    """Return the session; show the sign-in form and stop the run until someone signs in.

    Demo mode (``SECCOV_DEMO=1``) needs no login: the session runs as a demo user whose role
    can be switched in the sidebar. With an ``[auth]`` section in ``.streamlit/secrets.toml``
    the organisation's OpenID Connect provider signs people in (``st.login``); their e-mail
    must be a user (``users add EMAIL --sso --role ROLE``). Otherwise local accounts.
    """
    if demo_mode():
        default = os.environ.get("SECCOV_DEMO_ROLE", "admin").strip().lower()
        role = st.sidebar.selectbox(
            "Demo role", accounts.ROLES, key="demo_role",
            index=accounts.ROLES.index(default) if default in accounts.ROLES else 2,
            help="Demo session, no login: try what each role may open.")
        st.session_state[USER_KEY] = Session(f"demo-{role}", role, "demo")
        return st.session_state[USER_KEY]
    current = session()
    if current is not None and checked(accounts.role_of, store(),
                                       current.username) == current.role:
        return current
    st.session_state.pop(USER_KEY, None)
    if _oidc_configured():
        return _sign_in_sso()
    return _sign_in_password()


def _gate(form: Callable[[], None]) -> None:
    """Show only the sign-in form, as the one (hidden) page, then stop the run.

    Registering it with ``st.navigation`` keeps Streamlit from listing the files in
    ``pages/`` on the sign-in screen of a fresh server.
    """
    st.navigation([st.Page(form, title="Sign in", url_path="sign-in", default=True)],
                  position="hidden").run()
    st.stop()


def _sso_form() -> None:
    st.title("Security coverage")
    st.button("Sign in with your organisation", on_click=st.login, type="primary")


def _sign_in_sso() -> Session:
    user = getattr(st, "user", None)
    if user is None or not user.get("is_logged_in"):
        _gate(_sso_form)
    email = str(user.get("email") or "").strip().lower()
    role = checked(accounts.role_of, store(), email) if email else None
    if role is None:
        st.error(f"{md(email) or 'This account'} has no role here; ask an admin to run "
                 "`python -m coverage users add EMAIL --sso --role viewer`.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    checked(audit.record, store(), "login", user=email, detail={"via": "sso"})
    st.session_state[USER_KEY] = Session(email, str(role), "sso")
    return st.session_state[USER_KEY]


def _password_form() -> None:
    st.title("Security coverage")
    with st.form("sign-in"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        result = checked(accounts.authenticate, store(), name, password)
        if result.ok and result.user is not None:
            st.session_state[USER_KEY] = Session(result.user.username, result.user.role,
                                                 "password")
            st.rerun()
        st.error(result.message)


def _sign_in_password() -> Session:
    _gate(_password_form)
    raise AssertionError  # unreachable: st.stop() raises


def sign_out() -> None:
    """Forget the session (audited); with single sign-on, also sign out of the provider."""
    current = session()
    if current is not None:
        checked(audit.record, store(), "logout", user=current.username)
    st.session_state.pop(USER_KEY, None)
    if current is not None and current.how == "sso":
        st.logout()


def navigation_pages(role: str) -> dict[str, list[Any]]:
    """The pages ``role`` may open, by section, for ``st.navigation``; others unregistered."""
    sections: dict[str, list[Any]] = {}
    for name in accounts.pages_for(role):
        section, path, title, icon = PAGE_FILES[name]
        sections.setdefault(section, []).append(
            st.Page(path, title=title, icon=icon, url_path=name.replace("_", "-"),
                    default=name == "live_map"))
    return sections


def resume_wanted_page(role: str) -> None:
    """After sign-in, go on to the page first asked for (see :func:`require`), if allowed."""
    wanted = st.session_state.pop(WANTED_KEY, None)
    if wanted in PAGE_FILES and accounts.can_open(role, wanted):
        st.switch_page(PAGE_FILES[wanted][1])


def require(page: str) -> Session:
    """Re-check that the signed-in role may open ``page``; otherwise say so and stop.

    A page opened before anyone signed in (a fresh server serves ``/data`` from the
    ``pages/`` folder directly, before app.py has run ``st.navigation`` once) goes through
    app.py's sign-in first.
    """
    current = session()
    if current is None:
        st.session_state[WANTED_KEY] = page
        with contextlib.suppress(StreamlitAPIException):  # app.py not a page: v2 running
            st.switch_page("app.py")
    if current is None or not accounts.can_open(current.role, page):
        st.error("You are not allowed to open this page.", icon=":material/block:")
        st.stop()
        raise AssertionError  # unreachable
    return current


def record(action: str, **detail: Any) -> None:
    """Append an audit entry for the signed-in user."""
    current = session()
    checked(audit.record, store(), action,
            user=None if current is None else current.username, detail=detail)


def page_header(title: str, page: str) -> Session:
    """Title, role check and the demo banner: the first call of every page."""
    current = require(page)
    st.title(title)
    if demo_mode() or data_is_demo():
        demo_banner()
    return current


def demo_banner() -> None:
    """Say plainly that the data on screen is synthetic."""
    st.warning(
        "SYNTHETIC DEMO DATA: the Peshawar demo district's roads, stations, officers and "
        "positions are simulated (see geodata/README.md). Not a real deployment.",
        icon=":material/science:",
    )


# --- data -------------------------------------------------------------------------------

def current_files() -> dict[str, Path]:
    """The active dataset's files: the last upload that validated, else the demo district."""
    return workspace.active_files(default=DEMO_FILES)


def data_is_demo() -> bool:
    """True when the files in use are the bundled synthetic district."""
    return current_files() == DEMO_FILES


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


def say(message: str) -> None:
    """A progress line in the current ``st.status`` box (escaped: it may quote file names)."""
    st.write(md(message))


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
    """The map grid of the active dataset's road network (see coverage.layers)."""
    dataset()
    return checked(_grid, _key(current_files()))


def clear_data_caches() -> None:
    """Drop cached datasets and runs and stop demo feeds (a new dataset is active)."""
    stop_demo_feeds()
    for fn in (_loaded, _coverage, _grid):
        fn.clear()


# --- live positions ---------------------------------------------------------------------

def demo_feed_enabled() -> bool:
    """In demo mode the app moves the demo officers itself unless ``SECCOV_DEMO_FEED=0``."""
    return demo_mode() and os.environ.get("SECCOV_DEMO_FEED", "1").strip() != "0"


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
                                                   interval_s=refresh_s())


def stop_demo_feeds() -> None:
    """Stop every simulated demo feed of this process (a real dataset became active)."""
    feeds = _demo_feeds()
    with feeds.lock:
        for feed in feeds.running.values():
            feed.stop.set()
        feeds.running.clear()


def live(*, include_stale: bool = False,
         threshold_min: float = settings.DEFAULT_THRESHOLD_MIN) -> LiveCoverage:
    """Coverage with the store's latest positions merged in (fresh read on every call)."""
    base = coverage(threshold_min)
    try:
        db = _open_store()
        if demo_feed_enabled() and data_is_demo():
            _demo_feed(_key(current_files()))
        positions = latest_positions(db, stale_after_s=stale_after_s())
    except CoverageError as exc:  # the store is down: keep the map, on roster positions
        st.warning(f"Live positions unavailable, showing roster positions: {md(exc)}",
                   icon=":material/cloud_off:")
        positions = pd.DataFrame({c: [] for c in LIVE_COLUMNS})
    return checked(live_coverage, base, positions, include_stale=include_stale)


# --- maps -------------------------------------------------------------------------------

def base_map(*, height_px: int = 620) -> folium.Map:
    """The active network's main roads (and basemap, ``SECCOV_TILES_URL``), Leaflet local.

    It opens on the sensitive zones (:func:`coverage.briefing.extent`).
    """
    cov = coverage()
    return base_map_of(cov.dataset.network, height_px=height_px, bounds=_opening_view(cov),
                       asset_base_url=static_assets())


def _opening_view(cov: Coverage) -> tuple[float, float, float, float]:
    """Where the app's maps open: the sensitive zones (stations may lie far out)."""
    return extent(cov, pad=0.15, stations=False)


def map_of(cov: Coverage, *, baseline: Coverage | None = None,
           extra: list[folium.FeatureGroup] | None = None) -> folium.Map:
    """The full map of a run (as the exports draw it), Leaflet served by the app."""
    return coverage_map(cov, baseline=baseline, extra=extra, bounds=_opening_view(cov),
                        asset_base_url=static_assets())


def live_caption(view: LiveCoverage) -> None:
    """Where the positions come from, how many are stale, and the refresh time."""
    source = "no live reports yet: roster positions"
    if view.live_reports:
        newest = "-" if view.newest_age_s is None else f"{view.newest_age_s:.0f} s"
        source = (f"{view.live_reports} officers with live positions (newest {newest} old), "
                  f"{view.stale} stale (greyed"
                  f"{', not counted' if view.stale else ''})")
    if view.simulated:
        source += f"; **{view.simulated} positions are SIMULATED** (demo feed)"
    st.caption(f"{source}. Refreshes every {refresh_s():g} s; updated "
               f"{datetime.now().astimezone():%H:%M:%S %Z}.")


# --- exports ------------------------------------------------------------------------------

_EXPORT_MIME = {".pdf": "application/pdf", ".png": "image/png", ".html": "text/html"}
_REDACTIONS = {"stations": "Officers as station counts (default, leaves the control room)",
               "displace": "Officer positions displaced 300-800 m",
               "none": "Exact officer positions (control room only)"}


def export_panel(scenario: Coverage, *, baseline: Coverage | None = None,
                 suspension_source: str | None = None, key: str,
                 areas: tuple[tuple[str, gpd.GeoDataFrame], ...] = ()) -> None:
    """Format, redaction and title pickers, then a download button for the briefing export.

    The export shows the same map and figures as the page (``coverage.export``): the
    scenario's map with zones newly below target outlined, and ``areas`` (e.g. a service
    area); making one is audited.
    """
    with st.expander("Export a briefing (PDF, PNG or HTML)", icon=":material/download:"):
        c1, c2 = st.columns(2)
        fmt = c1.radio("Format", list(_EXPORT_MIME), horizontal=True, key=f"{key}-fmt",
                       format_func=lambda s: s[1:].upper())
        redact = c2.selectbox("Officers", list(_REDACTIONS), key=f"{key}-redact",
                              format_func=_REDACTIONS.__getitem__)
        title = st.text_input("Title", value=DEFAULT_TITLE, max_chars=120, key=f"{key}-title")
        if st.button("Prepare export", key=f"{key}-make", icon=":material/build:"):
            with st.status(f"Preparing the {fmt[1:].upper()} briefing...",
                           expanded=True) as status:
                st.write("Building the briefing (figures, gaps, redaction)...")
                brief = checked(build_brief, scenario, baseline=baseline, title=title,
                                redact=redact, suspension_source=suspension_source,
                                areas=areas)
                st.write("Rendering the map..." if fmt != ".html" else "Writing the page...")
                data, how = checked(_EXPORTERS[fmt], brief)
                st.write(how)
                status.update(label=f"{fmt[1:].upper()} ready ({len(data) / 1024:,.0f} KiB)",
                              state="complete")
            st.session_state[f"{key}-file"] = (fmt, data, brief.created)
            record("export", format=fmt[1:], redact=redact, page=key,
                   suspended=len(scenario.suspended), bytes=len(data))
        ready = st.session_state.get(f"{key}-file")
        if ready:
            fmt_ready, data, created = ready
            st.download_button(
                f"Download {fmt_ready[1:].upper()}", data=data, mime=_EXPORT_MIME[fmt_ready],
                file_name=f"briefing-{created:%Y%m%d-%H%M%S}{fmt_ready}", key=f"{key}-dl",
                icon=":material/download:", type="primary")


def _png(brief: Brief) -> tuple[bytes, str]:
    image = render_map(brief)
    return image.png, image.description


def _pdf(brief: Brief) -> tuple[bytes, str]:
    image = pdf_map(brief)
    return export_pdf(brief, map_image=image), image.description


_EXPORTERS: dict[str, Callable[[Brief], tuple[bytes, str]]] = {
    ".pdf": _pdf, ".png": _png,
    ".html": lambda b: (export_html(b), "standalone page, Leaflet inlined: opens offline")}


# --- display ------------------------------------------------------------------------------

def _dot(color: str, *, fill: bool = True, dash: bool = False, size: int = 12) -> str:
    border = "dashed" if dash else "solid"
    background = color if fill else "transparent"
    return (f'<span style="display:inline-block;width:{size}px;height:{size}px;'
            f'border-radius:50%;border:2px {border} {color};background:{background};'
            'vertical-align:middle;margin:0 4px 0 10px"></span>')


def _square(color: str, *, outline: str | None = None, dash: bool = False) -> str:
    border = f"2px {'dashed' if dash else 'solid'} {outline or color}"
    return (f'<span style="display:inline-block;width:14px;height:10px;background:{color};'
            f'opacity:0.8;border:{border};vertical-align:middle;margin:0 4px 0 10px"></span>')


def legend(*, surface_labels: list[str] | None = None, what_if: bool = False) -> None:
    """The map legend (fixed text only; nothing from data files)."""
    parts = [_square(GAP_COLOR) + "zone with a gap", _square(OK_COLOR) + "zone covered"]
    if what_if:
        parts.append(_square(GAP_COLOR, outline=NEW_GAP_COLOR, dash=True)
                     + "newly below target")
    parts.append(_dot("#24292f", fill=False) + "station")
    for s in (*STATUS_STYLE.values(), STALE_STYLE):
        parts.append(_dot(s["color"], fill=s["fill"], dash=bool(s.get("dash")))
                     + str(s["label"]).lower())
    if surface_labels:
        parts += [_square(BAND_COLORS[min(i, len(BAND_COLORS) - 1)]) + label
                  for i, label in enumerate(surface_labels)]
    st.html(f'<div style="font-size:0.85rem;line-height:1.9">{"".join(parts)}</div>')


def key_figures(cov: Coverage, *, before: Coverage | None = None) -> None:
    """The strip of key figures; with ``before``, each with its change."""
    from coverage.whatif import figure_changes

    changes = figure_changes(before if before is not None else cov, cov)
    cols = st.columns(len(changes))
    for col, f in zip(cols, changes, strict=True):
        value = f"{f.after:,.{1 if f.unit else 0}f}{_unit(f.unit)}" if f.after is not None \
            else ("unreachable" if f.unit == "min" and cov.overall.zones else "-")
        delta = None
        if before is not None and f.delta is not None:
            delta = f"{f.delta:+,.{1 if f.unit else 0}f}{_unit(f.unit)}"
        col.metric(f.label, value, delta=delta,
                   delta_color="inverse" if f.worse_when_higher else "normal",
                   help=_figure_help(f.label, cov))


def _unit(unit: str) -> str:
    return "%" if unit == "%" else (f" {unit}" if unit else "")


def _figure_help(label: str, cov: Coverage) -> str:
    o = cov.overall
    return {
        "Available units": "On-duty officers not suspended (and, live, not stale).",
        "Zones with a gap": f"{o.zones_with_gap} of {o.zones} zones: not every zone node "
                            "reached in time, or too few officers within target.",
        "Zone nodes covered": "Share of all zone road nodes reached within their target.",
        "Officers short": "Sum over zones of officers missing to reach min_officers.",
        "Worst zone p90": f"Highest 90th-percentile response over zones: zone "
                          f"{md(o.worst_zone or '-')}.",
    }.get(label, "")
