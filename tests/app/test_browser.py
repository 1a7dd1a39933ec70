"""Browser tests: the real server (``streamlit run app.py``, demo mode) in headless Chromium.

Each page is opened in a fresh tab that may only reach the app's own server (every other
request is aborted and listed), must raise no JavaScript error, and is saved as a full-page
screenshot under ``artifacts/screenshots/`` (CI keeps that folder). The maps are Leaflet
drawing on a canvas, so the tests count the map's layers inside the map's iframe.

Debian's ``chromium`` (``SECCOV_CHROMIUM``) is required: without it the module is skipped,
except on CI (``CI=true``) where that is a failure. Run with ``-s`` to see the timings.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from coverage.ops import audit
from coverage.ops.store import open_store
from tests.support.browser import (
    ROOT,
    Server,
    chromium_path,
    close_quietly,
    is_local,
    launch_chromium,
    start_server,
)

SHOTS = ROOT / "artifacts" / "screenshots"
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
LOAD_TIMEOUT_MS = 60_000
ZONES = 25  # the demo district
ROSTER = 500
MIN_OFFICERS_DRAWN = 300
#: Streamlit's client probes the page path for a base URL first: 404s that mean nothing.
_PROBE = re.compile(r"/[^/]+/_stcore/(health|host-config)$")

# Counts the map's drawn layers by their GeoJSON properties (zones carry zone_id, ...).
LAYERS_JS = """() => {
  if (typeof map_div === 'undefined' || !map_div.eachLayer) return null;
  const out = {zones: 0, gaps: 0, newGaps: 0, officers: 0, suspended: 0, stations: 0};
  map_div.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p) return;
    if ('zone_id' in p) {
      out.zones++;
      if (p.gap === true) out.gaps++;
      if (p.change === 'newly below target') out.newGaps++;
    } else if ('officer_id' in p) {
      out.officers++;
      if (p.status === 'suspended') out.suspended++;
    } else if ('station_id' in p) out.stations++;
  });
  return out;
}"""
# Share of sampled canvas pixels that are not transparent (Leaflet's prefer_canvas renderer).
CANVAS_JS = """() => {
  let best = 0;
  for (const c of document.querySelectorAll('.leaflet-container canvas')) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let seen = 0, inked = 0;
    for (let i = 3; i < d.length; i += 4 * 7) { seen++; if (d[i] > 0) inked++; }
    best = Math.max(best, inked / seen);
  }
  return best;
}"""
OFFICER_POSITIONS_JS = """() => {
  const o = {};
  map_div.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (p && 'officer_id' in p && l.getLatLng) {
      const q = l.getLatLng(); o[p.officer_id] = [q.lat, q.lng];
    }
  });
  return o;
}"""
METRICS_JS = """() => Object.fromEntries(
  Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(m => [
    (m.querySelector('[data-testid="stMetricLabel"]') || m).innerText.trim(),
    (m.querySelector('[data-testid="stMetricValue"]') || m).innerText.trim()]))"""
METRIC_IS_JS = """([label, value]) => {
  const m = Array.from(document.querySelectorAll('[data-testid="stMetric"]')).find(m =>
    (m.querySelector('[data-testid="stMetricLabel"]') || {}).innerText?.trim() === label);
  return !!m && m.querySelector('[data-testid="stMetricValue"]').innerText.trim() === value;
}"""


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; skipped when missing, except on CI where that fails."""
    exe = chromium_path()
    if exe is None:
        where = os.environ.get("SECCOV_CHROMIUM") or "/usr/bin/chromium"
        msg = (f"no Chromium at {where}: install Debian's chromium (scripts/setup.sh --dev) "
               "or set SECCOV_CHROMIUM")
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {msg}")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        chromium = launch_chromium(pw, exe)
        try:
            yield chromium
        finally:
            close_quietly(chromium)
    finally:
        pw.stop()


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The app in demo mode on a free port, as the demo's admin (every page), one per module."""
    srv = start_server(tmp_path_factory.mktemp("browser-server"), SECCOV_DEMO_ROLE="admin")
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class Tab:
    """A fresh browser tab on the app, offline except for the app's own server."""

    page: Any
    server: Server
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str) -> float:
        """Go to ``path`` and wait for the page title (h1); return the seconds it took."""
        t0 = time.perf_counter()
        self.page.goto(self.server.url + path, wait_until="domcontentloaded")
        self.page.locator("h1").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        return time.perf_counter() - t0

    def report(self) -> str:
        """Everything odd the tab saw, for assertion messages."""
        return (f"\npage errors: {self.errors}\naborted (not local): {self.aborted}"
                f"\nfailed responses: {self.failed}\nconsole errors: {self.console[-15:]}"
                f"\n--- server output (tail) ---\n{self.server.log(3000)}")

    def title(self) -> str:
        return str(self.page.locator("h1").first.inner_text()).strip()

    def metrics(self) -> dict[str, str]:
        return dict(self.page.evaluate(METRICS_JS))

    def wait_metric(self, label: str, value: str, timeout_ms: int = 30_000) -> None:
        try:
            self.page.wait_for_function(METRIC_IS_JS, arg=[label, value], timeout=timeout_ms,
                                        polling=50)
        except Exception as exc:
            msg = (f"metric {label!r} never became {value!r}: figures {self.metrics()}"
                   f"{self.report()}")
            raise AssertionError(msg) from exc

    def _frame_with_map(self) -> Any:
        for frame in self.page.frames:
            if "streamlit_folium" not in frame.url:
                continue
            try:
                if frame.evaluate("() => typeof map_div !== 'undefined'"):
                    return frame
            except PlaywrightError:  # detached while Streamlit re-renders the component
                continue
        return None

    def map_frame(self) -> Any:
        """The frame of the (only) st_folium map, once its Leaflet map exists."""
        self.page.locator(MAP_IFRAME).first.wait_for(timeout=LOAD_TIMEOUT_MS)
        deadline = time.monotonic() + LOAD_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            frame = self._frame_with_map()
            if frame is not None:
                return frame
            self.page.wait_for_timeout(100)
        msg = f"no Leaflet map (map_div) in the st_folium iframe{self.report()}"
        raise AssertionError(msg)

    def wait_layers(self, ok: str, timeout_ms: int = LOAD_TIMEOUT_MS) -> dict[str, int]:
        """Wait until the map's layer counts satisfy the JS expression ``ok`` (on ``c``).

        The frame is looked up again on every poll: a re-rendered map may be a new iframe.
        """
        self.page.locator(MAP_IFRAME).first.wait_for(timeout=LOAD_TIMEOUT_MS)
        deadline = time.monotonic() + timeout_ms / 1000
        counts = None
        while time.monotonic() < deadline:
            frame = self._frame_with_map()
            try:
                counts = None if frame is None else frame.evaluate(LAYERS_JS)
                if counts and frame.evaluate(f"(c) => {ok}", counts):
                    return dict(counts)
            except PlaywrightError:
                counts = None
            self.page.wait_for_timeout(100)
        msg = f"map layers never satisfied {ok}: last counts {counts}{self.report()}"
        raise AssertionError(msg)

    def canvas_ink(self) -> float:
        return float(self.map_frame().evaluate(CANVAS_JS))

    def screenshot(self, name: str) -> Path:
        """A full-page PNG: the viewport is stretched to Streamlit's scrolling main area."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        size = self.page.viewport_size
        height = int(self.page.evaluate(
            "() => Math.max(document.documentElement.scrollHeight,"
            " ...Array.from(document.querySelectorAll('[data-testid=\"stMain\"]'),"
            " e => e.scrollHeight))"))
        self.page.set_viewport_size({"width": size["width"],
                                     "height": min(max(height, size["height"]), 8000)})
        try:
            self.page.wait_for_timeout(400)  # let Leaflet and the tables re-lay out
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(size)
        return path

    def assert_clean(self) -> None:
        """No JavaScript error, nothing fetched from outside, no failed app request."""
        assert not self.errors, f"JavaScript errors in the page{self.report()}"
        assert not self.aborted, f"the page tried to leave the app's server{self.report()}"
        assert not self.failed, f"requests to the app failed{self.report()}"


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    t = Tab(page, server)

    def route(r: Any) -> None:
        url = r.request.url
        if is_local(url):
            r.continue_()
        else:
            t.aborted.append(url)
            r.abort()

    def response(resp: Any) -> None:
        if resp.status >= 400 and not _PROBE.search(resp.url.split("?")[0]):
            t.failed.append(f"{resp.status} {resp.url}")

    page.route("**/*", route)
    page.on("pageerror", lambda e: t.errors.append(str(e)))
    page.on("console", lambda m: t.console.append(m.text) if m.type == "error" else None)
    page.on("response", response)
    page.on("request", lambda r: t.requests.append(r.url))
    try:
        yield t
    finally:
        close_quietly(context)


def _expect_title(t: Tab, expected: str) -> None:
    assert t.title() == expected, f"title {t.title()!r}, expected {expected!r}{t.report()}"
    exc = t.page.locator('[data-testid="stException"]')
    assert exc.count() == 0, f"the page shows a traceback: {exc.all_inner_texts()}{t.report()}"


# --- pages --------------------------------------------------------------------------------

def test_live_map_draws_and_refreshes_without_remounting(tab: Tab) -> None:
    """Zones and officers on the canvas; the fragment refreshes, moves officers, no remount."""
    t0 = time.perf_counter()
    tab.open("/")  # the default page lives at "/" (its url path is ignored by st.navigation)
    _expect_title(tab, "Live map")
    tab.wait_metric("Zones with a gap", "0")
    counts = tab.wait_layers(f"c.zones === {ZONES} && c.officers >= {MIN_OFFICERS_DRAWN}")
    drawn_s = time.perf_counter() - t0
    print(f"\n[browser] live map: page load to map drawn {drawn_s:.2f} s; layers {counts}")
    assert counts["stations"] > 0, counts
    assert counts["officers"] <= ROSTER, counts
    assert tab.canvas_ink() > 0.001, "the map canvas is blank"
    figures = tab.metrics()
    assert figures["Available units"] == "310", figures
    tab.screenshot("live-map")

    frame = tab.map_frame()
    frame.evaluate("() => { window.__marker = 1; window.__map = map_div; }")
    caption = tab.page.get_by_text(re.compile(r"updated \d\d:\d\d:\d\d"))
    before = caption.inner_text()
    positions = frame.evaluate(OFFICER_POSITIONS_JS)
    tab.page.wait_for_timeout(4_500)  # two refresh periods (SECCOV_REFRESH_S=2) and a bit
    after = caption.inner_text()
    stamp = re.compile(r"updated (\d\d:\d\d:\d\d)")
    was, now = stamp.search(before), stamp.search(after)
    assert was, before
    assert now, after
    assert now[1] != was[1], \
        f"the live fragment did not refresh: {before!r} -> {after!r}{tab.report()}"
    frames = [f for f in tab.page.frames if "streamlit_folium" in f.url]
    assert len(frames) == 1, [f.url for f in frames]
    kept = frames[0].evaluate(
        "() => [window.__marker === 1, typeof map_div !== 'undefined' && window.__map === map_div]")
    assert kept == [True, True], f"the map was remounted on refresh (flicker): {kept}"
    again = tab.wait_layers(f"c.zones === {ZONES} && c.officers >= {MIN_OFFICERS_DRAWN}")
    assert again["zones"] == ZONES, f"zones duplicated or lost on refresh: {counts} -> {again}"
    assert again["officers"] == counts["officers"], \
        f"officers duplicated or lost on refresh: {counts} -> {again}"
    moved = frames[0].evaluate(OFFICER_POSITIONS_JS)
    n_moved = sum(1 for k, v in positions.items() if moved.get(k) != v)
    print(f"[browser] live map: {n_moved} officers moved over two refreshes")
    assert n_moved > 0, "no officer moved: the demo feed or the refresh is not reaching the map"
    tab.assert_clean()


def test_coverage_page_table_and_map(tab: Tab) -> None:
    t0 = time.perf_counter()
    tab.open("/coverage")
    _expect_title(tab, "Coverage")
    tab.wait_metric("Available units", "310")
    table = tab.page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    assert table.is_visible()
    counts = tab.wait_layers(f"c.zones === {ZONES} && c.officers >= {MIN_OFFICERS_DRAWN}")
    print(f"\n[browser] coverage: page load to map drawn {time.perf_counter() - t0:.2f} s; "
          f"layers {counts}")
    figures = tab.metrics()
    assert figures["Zones with a gap"] == "0", figures
    assert counts["gaps"] == 0, counts
    assert tab.canvas_ink() > 0.001, "the map canvas is blank"
    tab.screenshot("coverage")
    tab.assert_clean()


def test_what_if_suspending_the_demo_42_changes_figures_and_map(tab: Tab) -> None:
    t0 = time.perf_counter()
    tab.open("/what-if")
    _expect_title(tab, "What-if: suspensions")
    tab.wait_metric("Available units", "310")
    tab.wait_metric("Zones with a gap", "0")
    counts = tab.wait_layers(f"c.zones === {ZONES} && c.officers >= {MIN_OFFICERS_DRAWN}")
    print(f"\n[browser] what-if: page load to map drawn {time.perf_counter() - t0:.2f} s")
    assert counts["suspended"] == 0, counts
    tab.screenshot("what-if")

    t1 = time.perf_counter()
    tab.page.get_by_text("The demo's 42 suspended officers", exact=True).click()
    tab.wait_metric("Zones with a gap", "6")
    tab.wait_metric("Available units", "268")
    took_s = time.perf_counter() - t1
    caption = tab.page.get_by_text(re.compile(r"What-if computed in \d+ ms")).inner_text()
    server_ms = re.search(r"computed in (\d+) ms", caption)
    print(f"[browser] what-if: click to changed figures {took_s * 1000:.0f} ms in the browser "
          f"(server: {server_ms[1] if server_ms else '?'} ms); figures {tab.metrics()}")
    assert tab.page.get_by_text("42 officer(s) suspended").is_visible()
    after = tab.wait_layers("c.suspended === 42 && c.gaps === 6", timeout_ms=30_000)
    print(f"[browser] what-if: click to map redrawn {time.perf_counter() - t1:.2f} s; "
          f"layers {after}")
    assert after["zones"] == ZONES, after
    assert after["newGaps"] == 6, after
    tab.screenshot("what-if-after")
    tab.assert_clean()


def test_briefing_page_shows_the_scenario_figures(tab: Tab) -> None:
    tab.open("/briefing")
    _expect_title(tab, "Briefing exports")
    tab.wait_metric("Available units", "310")
    tab.page.get_by_text("Scenario").first.wait_for()
    tab.screenshot("briefing")
    tab.assert_clean()


def test_map_draws_offline_with_the_apps_leaflet(tab: Tab) -> None:
    """Nothing but the app's server is reachable; Leaflet comes from /app/static."""
    tab.open("/")
    tab.wait_layers(f"c.zones === {ZONES} && c.officers >= {MIN_OFFICERS_DRAWN}")
    assert tab.canvas_ink() > 0.001, f"the map canvas is blank offline{tab.report()}"
    assert tab.map_frame().evaluate("() => typeof L !== 'undefined' && L.version")
    leaflet = [u for u in tab.requests if u.split("?")[0].endswith("/app/static/leaflet.js")]
    assert leaflet, f"Leaflet was not loaded from the app's /app/static: {tab.requests}"
    assert not tab.aborted, f"requests that needed the internet: {tab.aborted}"
    tab.assert_clean()


@pytest.mark.parametrize(("path", "title"), [("/data", r"Data"), ("/users", r"Users"),
                                             ("/audit", r"Audit")])
def test_admin_pages_open(tab: Tab, path: str, title: str) -> None:
    tab.open(path)
    assert re.search(title, tab.title()), f"title {tab.title()!r} on {path}{tab.report()}"
    exc = tab.page.locator('[data-testid="stException"]')
    assert exc.count() == 0, f"{path} shows a traceback: {exc.all_inner_texts()}{tab.report()}"
    tab.page.wait_for_timeout(500)  # let the page finish its first run
    tab.screenshot(path.strip("/"))
    tab.assert_clean()


def test_data_upload_lists_every_problem_and_keeps_the_dataset(tab: Tab, tmp_path: Path) -> None:
    officers = (ROOT / "geodata" / "peshawar" / "officers.csv").read_text(encoding="utf-8")
    lines = officers.splitlines()
    lines[3] = lines[3].replace("on_duty", "on_strike").replace("reserve", "on_strike")
    broken = tmp_path / "officers.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tab.open("/data")
    uploads = tab.page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploads.nth(3).set_input_files(str(broken))
    tab.page.get_by_role("button", name="Validate").click()
    tab.page.get_by_text("1 problem(s): the active dataset is unchanged").wait_for(
        timeout=LOAD_TIMEOUT_MS)
    tab.page.locator('[data-testid="stDataFrame"]').wait_for(timeout=LOAD_TIMEOUT_MS)
    tab.screenshot("data-refused")
    data = Path(tab.server.env["SECCOV_DATA_DIR"])
    assert not (data / "active.json").exists()
    with open_store(f"sqlite:///{data / 'seccov.db'}") as store:  # the refusal is audited
        refused = [json.loads(e.detail) for e in audit.query(store, action="upload")]
    assert {"outcome": "refused", "errors": 1, "files": {"officers": "officers.csv"}} in refused
    tab.assert_clean()
