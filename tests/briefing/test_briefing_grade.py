"""Briefing-grade exports and a map that reads at a glance (issue 12).

The PNG carries title, local time, key figures, legend and marking beside the map; static
outputs have no controls; the view frames the zones with a gap; zones are labelled and drawn
above station aggregates; the palette keeps gap zones, suspended officers and the
response-time surface apart for every common colour-vision deficiency.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from coverage import analyse, load_dataset, suspend
from coverage.briefing.brief import build_brief, local_time_text
from coverage.briefing.export import PANEL_PX, export_html, map_page, pdf_map, render_map
from coverage.briefing.mapview import (
    BAND_COLORS,
    GAP_COLOR,
    OK_COLOR,
    STATUS_STYLE,
    coverage_map,
    minutes_text,
    station_counts,
    view_of,
    zones_layer,
)
from coverage.settings import HANDLING_MARKING
from tests.briefing.test_export import chromium_or_skip

CREATED = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 08:00 in Karachi
CONTROLS = (".leaflet-control-zoom", ".leaflet-control-layers",
            ".leaflet-control-attribution", "button", "input", "select")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SECCOV_TILES_URL", "SECCOV_PNG_RENDERER", "SECCOV_CHROMIUM", "SECCOV_TZ"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def brief(tiny_inputs):
    p = tiny_inputs
    base = analyse(load_dataset(p["roads"], p["stations"], p["zones"], p["officers"]))
    return build_brief(suspend(base, ["B"]), baseline=base, title="Night <i>shift</i>",
                       suspension_source="suspend.csv", created=CREATED)


def _roster(p) -> list[dict[str, str]]:
    with open(p["officers"], newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- times -----------------------------------------------------------------------------------

def test_times_are_local_with_the_zone_named(brief, monkeypatch) -> None:
    assert brief.created_text == "25 Nov 2026 08:00 PKT (Asia/Karachi, UTC+05:00)"
    assert brief.created_iso == "2026-11-25T08:00:00+05:00"
    monkeypatch.setenv("SECCOV_TZ", "Europe/London")
    assert local_time_text(CREATED) == "25 Nov 2026 03:00 GMT (Europe/London, UTC+00:00)"
    other = datetime(2026, 11, 25, 9, 30, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert local_time_text(other, seconds=True) == (
        "25 Nov 2026 14:30:05 GMT (Europe/London, UTC+00:00)")
    with pytest.raises(ValueError, match="timezone-aware"):
        local_time_text(datetime(2026, 11, 25, 8, 0))


# --- what the map shows ---------------------------------------------------------------------

def test_zone_tooltip_minutes_are_rounded(brief) -> None:
    layer = zones_layer(brief.coverage)
    expected = {}
    for zid, v in zip(brief.coverage.table["zone_id"], brief.coverage.table["p90_min"],
                      strict=True):
        expected[zid] = "unreachable" if v is None or not math.isfinite(v) \
            else f"{round(v * 10) / 10:.1f} min"
    assert dict(zip(layer["zone_id"], layer["p90"], strict=True)) == expected
    assert "p90_min" not in layer.columns
    assert [minutes_text(x) for x in (0.6597844833496209, float("inf"), None, "x")] == [
        "0.7 min", "unreachable", "unreachable", "unreachable"]


def test_station_tooltip_counts_the_stations_officers(brief, tiny_inputs) -> None:
    rows = _roster(tiny_inputs)
    counts = station_counts(brief.coverage.dataset.stations, brief.coverage.dataset.officers)
    for sid in ("S1", "S2"):
        mine = [r for r in rows if r["station_id"] == sid]
        got = counts.set_index("station_id").loc[sid]
        assert got["officers"] == len(mine)
        assert got["on_duty"] == sum(r["status"] == "on_duty" for r in mine)


def test_zones_labelled_above_station_aggregates_and_stations_on_top(brief) -> None:
    page = coverage_map(brief.coverage, officers=brief.officers,
                        officers_name=brief.officers_name).get_root().render()
    assert page.count("seccov-zone-label seccov-") == 2  # one label per zone
    # the label is escaped text (then JSON-encoded by folium)
    assert "\\u003eEast \\u0026lt;script\\u0026gt;\\u003c/div" in page
    assert "East <script>" not in page
    # Leaflet draws canvas layers in the order they are added: aggregates, zones, stations
    aggregates = page.index('"on_duty"')
    zones = page.index('"zone_id"')
    stations = page.rindex('"Station One"')
    assert aggregates < zones < stations


def test_live_layers_put_stations_above_officers(brief) -> None:
    page = coverage_map(brief.coverage).get_root().render()
    assert page.index('"officer_id"') < page.rindex('"Station One"')


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_lab(rgb: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])
    xyz = (m @ np.clip(rgb, 0, 1)) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
_CVD = {
    "none": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _lab(color: str, vision: str) -> np.ndarray:
    rgb = np.array([int(color.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)])
    return _linear_to_lab(_CVD[vision] @ _srgb_to_linear(rgb))


@pytest.mark.parametrize("vision", list(_CVD))
def test_gap_zones_suspended_officers_and_surface_never_look_alike(vision) -> None:
    groups = {"gap zone": [GAP_COLOR], "suspended": [STATUS_STYLE["suspended"]["color"]],
              "surface": list(BAND_COLORS), "covered zone": [OK_COLOR]}
    for (a, ca), (b, cb) in itertools.combinations(groups.items(), 2):
        if {a, b} == {"covered zone", "surface"}:
            continue  # covered zones are outlined above the surface; checked below
        for x, y in itertools.product(ca, cb):
            assert x.lower() != y.lower(), (a, b)
            delta_e = float(np.linalg.norm(_lab(x, vision) - _lab(y, vision)))
            assert delta_e > 20, f"{a} {x} and {b} {y} look alike for {vision}: {delta_e:.1f}"
    for band in BAND_COLORS:  # the surface is grey: no hue at all
        lab = _lab(band, "none")
        assert abs(lab[1]) < 1
        assert abs(lab[2]) < 1
    assert float(np.linalg.norm(_lab(OK_COLOR, "none") - _lab(BAND_COLORS[2], "none"))) > 20


def _merc(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


@pytest.mark.parametrize(("bounds", "size"), [
    ((71.55, 34.00, 71.56, 34.01), (600, 500)), ((71.37, 33.66, 71.86, 34.23), (900, 620)),
    ((71.5700, 34.0100, 71.5712, 34.0104), (300, 300)),
])
def test_view_of_fits_the_bounds_at_the_largest_zoom(bounds, size) -> None:
    (lat, lon), zoom = view_of(bounds, width_px=size[0], height_px=size[1])
    x0, y0, x1, y1 = bounds
    assert (lat, lon) == pytest.approx(((y0 + y1) / 2, (x0 + x1) / 2))

    def pixels(z: int) -> tuple[float, float]:
        world = 256 * 2 ** z
        return ((x1 - x0) / 360 * world, (_merc(y1) - _merc(y0)) / (2 * math.pi) * world)

    w, h = pixels(zoom)
    assert w <= size[0]
    assert h <= size[1]
    if zoom < 17:
        w2, h2 = pixels(zoom + 1)
        assert w2 > size[0] or h2 > size[1]


# --- static outputs: rendered in the browser -------------------------------------------------

def _open(page_html: str, width: int, height: int):
    """Yield a Playwright page showing ``page_html`` once the map reports it is drawn."""
    from playwright.sync_api import sync_playwright

    tmp = tempfile.TemporaryDirectory()
    path = Path(tmp.name) / "map.html"
    path.write_text(page_html, encoding="utf-8")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                 args=["--no-sandbox", "--disable-gpu"])
    tab = browser.new_page(viewport={"width": width, "height": height})
    tab.goto(path.as_uri())
    tab.wait_for_function("window.seccovReady === true", timeout=30_000)
    return tab, (browser, pw, tmp)


def _close(handles) -> None:
    browser, pw, tmp = handles
    browser.close()
    pw.stop()
    tmp.cleanup()


def test_png_source_page_carries_title_figures_legend_and_no_controls(brief,
                                                                     tiny_inputs) -> None:
    chromium_or_skip()
    tab, handles = _open(map_page(brief, height_px=600, snapshot=True, panel=True), 1000, 600)
    try:
        panel = tab.inner_text(".seccov-panel")
        assert "Night <i>shift</i>" in panel  # the title, as text
        assert "25 Nov 2026 08:00 PKT (Asia/Karachi, UTC+05:00)" in panel
        assert panel.count(HANDLING_MARKING) == 2
        # figures checked against the roster: 3 on duty (A, B, D), B suspended
        rows = _roster(tiny_inputs)
        on_duty = sum(r["status"] == "on_duty" for r in rows)
        assert f"Available units\t{on_duty}\t{on_duty - 1}" in panel
        n_zones = len(json.loads(tiny_inputs["zones"].read_text())["features"])
        gaps = int(brief.coverage.table["gap"].sum())
        assert f"of {n_zones}" in panel
        assert f"{gaps} of {n_zones}" in panel
        for label in ("Zone with a gap", "Zone covered within its target", "Police station"):
            assert label in panel
        assert tab.locator(".seccov-panel img.seccov-inset").count() == 1
        for sel in CONTROLS:
            assert tab.locator(sel).count() == 0, sel
        # the panel stands beside the map, not over it
        m = tab.locator(".folium-map").bounding_box()
        p = tab.locator(".seccov-panel").bounding_box()
        assert m["x"] + m["width"] <= p["x"] + 0.5
        assert p["width"] == pytest.approx(PANEL_PX, abs=1)
        # the view frames the zone with a gap: its polygon fills much of the map
        assert tab.locator(".seccov-zone-label").count() == n_zones
    finally:
        _close(handles)


@pytest.mark.parametrize("height", [600, 330])
def test_panel_keeps_both_markings_in_view_when_short_of_room(brief, height) -> None:
    """A tall panel shrinks its inset; the bottom marking never leaves a static image."""
    chromium_or_skip()
    tab, handles = _open(map_page(brief, height_px=height, snapshot=True, panel=True), 1000,
                         height)
    try:
        markings = tab.locator(".seccov-panel > div", has_text=HANDLING_MARKING)
        assert markings.count() == 2
        for i in range(2):
            box = markings.nth(i).bounding_box()
            assert box is not None
            assert box["y"] >= 0
            assert box["y"] + box["height"] <= height + 0.5
        inset = tab.locator(".seccov-panel img.seccov-inset").bounding_box()
        last = markings.nth(1).bounding_box()
        assert inset is not None
        assert last is not None
        # the inset stays above the marking, or is left out when there is no room for it
        assert inset["y"] + inset["height"] <= last["y"] + 0.5 or inset["y"] >= height
    finally:
        _close(handles)


def test_pdf_map_page_has_no_controls_and_an_inset(brief) -> None:
    chromium_or_skip()
    tab, handles = _open(map_page(brief, height_px=780, snapshot=True, panel=False), 900, 780)
    try:
        for sel in CONTROLS:
            assert tab.locator(sel).count() == 0, sel
        assert tab.locator(".leaflet-container img.seccov-inset").count() == 1
        assert tab.locator(".seccov-panel").count() == 0
    finally:
        _close(handles)


def test_html_export_keeps_controls_and_puts_the_panel_beside_the_map(brief) -> None:
    chromium_or_skip()
    tab, handles = _open(export_html(brief).decode("utf-8"), 1200, 700)
    try:
        assert tab.locator(".leaflet-control-zoom").count() == 1  # interactive: kept
        m = tab.locator(".folium-map").bounding_box()
        p = tab.locator(".seccov-panel").bounding_box()
        assert m["x"] + m["width"] <= p["x"] + 0.5
        assert m["width"] == pytest.approx(1200 - PANEL_PX, abs=1)
        assert m["height"] == pytest.approx(700, abs=1)
    finally:
        _close(handles)


def test_png_size_and_stamps(brief) -> None:
    chromium_or_skip()
    image = render_map(brief, width_px=1100, height_px=700, renderer="chromium")
    with Image.open(io.BytesIO(image.png)) as img:
        assert img.size == (1100, 700)
        assert img.text["Title"] == "Night <i>shift</i>"
        assert img.text["Creation Time"] == "2026-11-25T08:00:00+05:00"
        assert img.text["Disclaimer"] == HANDLING_MARKING
        # the panel beside the map is white with dark text: many white pixels on the right
        right = np.asarray(img.convert("RGB"))[:, -PANEL_PX + 5:]
        assert (right == 255).all(axis=2).mean() > 0.5
    pdf_image = pdf_map(brief, renderer="chromium")
    assert (pdf_image.width_px, pdf_image.height_px) == (1800, 1560)


def test_static_fallback_png_has_the_panel_and_the_size(brief) -> None:
    image = render_map(brief, width_px=1000, height_px=600, renderer="matplotlib")
    with Image.open(io.BytesIO(image.png)) as img:
        assert img.size == (1000, 600)
        pixels = np.asarray(img.convert("RGB"))
    # the panel's marking (dark red text) is drawn right of the map, top and bottom
    red = (pixels[..., 0] > 140) & (pixels[..., 1] < 60) & (pixels[..., 2] < 70)
    assert red[:40, -PANEL_PX:].any()
    assert red[-40:, -PANEL_PX:].any()


def test_district_view_labels_only_the_gap_zones(brief) -> None:
    chromium_or_skip()
    from coverage.briefing.assets import offline_html
    from coverage.briefing.mapview import LABEL_ALL_ZOOM

    page = offline_html(coverage_map(brief.coverage).get_root().render())
    tab, handles = _open(page.replace("</body>", "<script>window.seccovReady = true;"
                                      "</script></body>"), 900, 600)
    try:
        gap = int(brief.coverage.table["gap"].sum())
        n = len(brief.coverage.table)
        assert 0 < gap < n

        def shown() -> int:
            return int(tab.evaluate("() => Array.from(document.querySelectorAll("
                                    "'.seccov-zone-label')).filter(e => "
                                    "getComputedStyle(e).display !== 'none').length"))

        name = tab.evaluate("() => Object.keys(window).find(k => k.startsWith('map_'))")
        tab.evaluate(f"() => window['{name}'].setZoom({LABEL_ALL_ZOOM - 2}, "
                     "{animate: false})")
        assert shown() == gap
        tab.evaluate(f"() => window['{name}'].setZoom({LABEL_ALL_ZOOM + 1}, "
                     "{animate: false})")
        assert shown() == n
    finally:
        _close(handles)
