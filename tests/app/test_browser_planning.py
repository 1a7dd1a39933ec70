"""Browser test of the planning desk, in one session as a planner would work: the demo's 42
suspended, a road closure and a temporary zone drawn on the map (Leaflet.draw served by the
app), a plan run and applied, the deployment order downloaded, two saved scenarios compared.

Uses the real server and headless Chromium of tests/app/test_browser.py (every request not
to the app is aborted); screenshots under ``artifacts/screenshots/planning-*.png``.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from coverage.ops import audit
from coverage.ops.store import open_store
from tests.app.test_browser import (  # noqa: F401 - fixtures used by name
    MAP_IFRAME,
    SHOTS,
    Tab,
    _expect_title,
    browser,
    server,
    tab,
)


def _settle(t: Tab, ms: int = 600) -> None:
    """Wait until Streamlit has finished the run a click or a drawing started."""
    t.page.wait_for_timeout(300)
    t.page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    t.page.wait_for_timeout(ms)


def _go(t: Tab, title: str, heading: str) -> None:
    t.page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    t.page.locator("h1", has_text=heading).first.wait_for(timeout=60_000)
    _settle(t)


def _draw_rectangle(t: Tab, frac: tuple[float, float, float, float]) -> None:
    """Draw a rectangle with the map's rectangle tool over a fraction of the map's box."""
    frame = t.map_frame()
    frame.locator("a.leaflet-draw-draw-rectangle").click()
    box: Any = t.page.locator(MAP_IFRAME).first.bounding_box()
    x0, y0 = box["x"] + box["width"] * frac[0], box["y"] + box["height"] * frac[1]
    x1, y1 = box["x"] + box["width"] * frac[2], box["y"] + box["height"] * frac[3]
    t.page.mouse.move(x0, y0)
    t.page.mouse.down()
    t.page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    t.page.mouse.move(x1, y1, steps=5)
    t.page.mouse.up()
    _settle(t, 1200)


def _click(t: Tab, name: str) -> None:
    """Click the button ``name`` once Streamlit shows exactly one (a rerun may briefly keep
    the old one beside the new)."""
    button = t.page.get_by_role("button", name=name)
    deadline = time.monotonic() + 30
    while button.count() != 1 and time.monotonic() < deadline:
        t.page.wait_for_timeout(100)
    button.click()


def _caption_has(t: Tab, text: str) -> None:
    t.page.get_by_text(re.compile(re.escape(text))).first.wait_for(timeout=60_000)


def test_planning_desk_end_to_end(tab: Tab) -> None:  # noqa: F811 - the fixture
    tab.open("/")
    _go(tab, "What-if", "What-if: suspensions")
    _expect_title(tab, "What-if: suspensions")
    tab.page.get_by_text("The demo's 42 suspended officers", exact=True).click()
    tab.wait_metric("Zones with a gap", "6")

    # scenario builder: close an area drawn on the map, then a temporary zone
    _go(tab, "Scenario builder", "Scenario builder")
    tab.wait_metric("Zones with a gap", "6")
    _draw_rectangle(tab, (0.45, 0.45, 0.52, 0.52))
    _click(tab, "Add to the scenario")
    _settle(tab)
    _caption_has(tab, "1 closed area(s)")
    tab.page.get_by_text("add a temporary sensitive zone").click()
    _settle(tab)
    tab.page.get_by_label("Name", exact=True).first.fill("Procession route")
    _draw_rectangle(tab, (0.30, 0.30, 0.40, 0.40))
    _click(tab, "Add to the scenario")
    _settle(tab, 1500)
    _caption_has(tab, "1 temporary zone(s)")
    tab.page.get_by_text("Temporary zones in this scenario").wait_for()
    # its coverage row: the table may draw a moment after the heading
    tab.page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
    assert tab.page.locator('[data-testid="stDataFrame"]').count() >= 1
    tab.screenshot("planning-scenario-builder")
    name = tab.page.locator('input[aria-label="Name"]').last
    name.fill("42 out, closure, procession")
    name.press("Enter")
    _settle(tab)
    _click(tab, "Save")
    _settle(tab)
    tab.page.get_by_text("Saved as #1.").wait_for()

    # plan from the current scenario, apply it, download the order
    _go(tab, "Plan", "Plan: reserves and moves")
    k = tab.page.get_by_label("Reserves to place (K)")
    k.fill("2")
    k.press("Enter")
    _settle(tab)
    t0 = time.perf_counter()
    _click(tab, "Run plan")
    tab.page.get_by_text(re.compile(r"Plan ready in [\d.]+ s")).wait_for(timeout=120_000)
    _settle(tab)
    print(f"\n[browser] plan: click to plan shown {time.perf_counter() - t0:.2f} s; "
          f"figures {tab.metrics()}")
    tab.wait_metric("Officers short", "0", timeout_ms=60_000)
    tab.map_frame()
    tab.screenshot("planning-plan")
    with tab.page.expect_download() as dl:
        _click(tab, "Deployment order (PDF)")
    pdf = SHOTS / "planning-order.pdf"
    dl.value.save_as(str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", str(pdf),
                    str(SHOTS / "planning-order")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "RESTRICTED" in text
    assert "Asia/Karachi" in text
    _settle(tab)
    _click(tab, "Apply plan")
    _settle(tab)
    tab.page.get_by_text("The plan is now the current scenario.").wait_for()

    # save the applied plan too, and compare the two saved scenarios side by side
    _go(tab, "Scenario builder", "Scenario builder")
    tab.wait_metric("Officers short", "0", timeout_ms=60_000)
    name = tab.page.locator('input[aria-label="Name"]').last
    name.fill("with the plan")
    name.press("Enter")
    _settle(tab)
    _click(tab, "Save")
    _settle(tab, 2000)
    tab.page.get_by_text("Saved as #2.").wait_for()
    tab.page.get_by_text("Compare A").wait_for()
    # the builder's map and the two compared ones
    tab.page.locator(MAP_IFRAME).nth(2).wait_for(timeout=120_000)
    _settle(tab, 1500)
    tab.screenshot("planning-compare")

    _go(tab, "Criticality", "Criticality")
    tab.map_frame()
    tab.screenshot("planning-criticality")
    tab.assert_clean()

    # every run, apply, save and export is in the audit log
    data = Path(tab.server.env["SECCOV_DATA_DIR"])
    with open_store(f"sqlite:///{data / 'seccov.db'}") as store:
        entries = [(e.action, e.details) for e in audit.query(store, limit=None)]
    steps = {d.get("step") for a, d in entries if a == "scenario_run"}
    assert {"close", "zone", "plan", "apply"} <= steps, entries
    assert sum(a == "scenario_saved" for a, _ in entries) == 2
    assert any(a == "export" and d.get("format") == "order-pdf" for a, d in entries)
