"""Browser test of the Readiness page: the real server (demo mode) in headless Chromium.

One server, demo role ``planner`` first: station aggregates, the map's stations coloured by
level, no officer-level records on the page or behind a URL. Then the demo role is switched
to ``command`` in the sidebar, which shows the records toggle. Screenshots of both go to
``artifacts/screenshots/``. Debian's Chromium is required (skipped without it, except CI).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

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
TIMEOUT_MS = 90_000
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
# stations (by level) and zones (by expected share) drawn on the readiness map
LAYERS_JS = """() => {
  if (typeof map_div === 'undefined' || !map_div.eachLayer) return null;
  const out = {stations: 0, critical: 0, warning: 0, ok: 0, zones: 0};
  map_div.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p) return;
    if ('level' in p) { out.stations++; out[p.level]++; }
    else if ('expected' in p) out.zones++;
  });
  return out;
}"""
METRICS_JS = """() => Object.fromEntries(
  Array.from(document.querySelectorAll('[data-testid="stMetric"]')).map(m => [
    (m.querySelector('[data-testid="stMetricLabel"]') || m).innerText.trim(),
    (m.querySelector('[data-testid="stMetricValue"]') || m).innerText.trim()]))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Any]]:
    exe = chromium_path()
    if exe is None:
        msg = "no Chromium: install Debian's chromium (scripts/setup.sh --dev)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {msg}")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    srv = start_server(tmp_path_factory.mktemp("readiness-server"), SECCOV_DEMO_ROLE="planner",
                       SECCOV_DEMO_FEED="0")
    pw = sync_playwright().start()
    chromium = launch_chromium(pw, exe)
    try:
        yield srv, chromium
    finally:
        close_quietly(chromium)
        pw.stop()
        srv.stop()


def _layers(page: Any) -> dict[str, int] | None:
    for frame in page.frames:
        if "streamlit_folium" not in frame.url:
            continue
        try:
            counts = frame.evaluate(LAYERS_JS)
        except Exception:  # detached while Streamlit re-renders
            continue
        if counts:
            return dict(counts)
    return None


def _screenshot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = int(page.evaluate(
        "() => Math.max(document.documentElement.scrollHeight,"
        " ...Array.from(document.querySelectorAll('[data-testid=\"stMain\"]'),"
        " e => e.scrollHeight))"))
    page.set_viewport_size({"width": 1500, "height": min(max(height, 1000), 8000)})
    page.wait_for_timeout(600)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1000})


def test_readiness_page_planner_then_command(server) -> None:
    srv, chromium = server
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    left: list[str] = []

    def route(r: Any) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(srv.url + "/readiness", wait_until="domcontentloaded")
        page.locator("h1").first.wait_for()
        page.wait_for_function("() => Array.from(document.querySelectorAll('h1'))"
                               ".some(h => h.innerText.trim() === 'Readiness')")
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('[data-testid=\"stMetricValue\"]'))"
            ".length >= 5")
        figures = dict(page.evaluate(METRICS_JS))
        assert figures["Critical stations"] == "10", figures
        assert figures["Objective"] == "2,300", figures
        page.locator(MAP_IFRAME).first.wait_for()
        counts = None
        for _ in range(300):
            counts = _layers(page)
            if counts and counts["stations"] == 30 and counts["zones"] == 25:
                break
            page.wait_for_timeout(200)
        assert counts == {"stations": 30, "critical": 10, "warning": 11, "ok": 9,
                          "zones": 25}, counts
        page.get_by_text("Weekly trends").first.scroll_into_view_if_needed()
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
        body = page.locator("body").inner_text()
        assert "command and admin roles only" in body
        assert "(audited)" not in body  # no records toggle for a planner
        assert "[synthetic]" not in body  # no event note anywhere on the page
        _screenshot(page, "readiness-planner")

        # the same tab as the demo's command role: the records toggle appears
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="command").click()
        page.get_by_text("(audited)").first.wait_for()
        page.get_by_text("(audited)").first.click()
        page.get_by_text("This view is recorded in the audit log").wait_for()
        _screenshot(page, "readiness-command-records")
        assert not errors, errors
        assert not left, left
    finally:
        close_quietly(context)
