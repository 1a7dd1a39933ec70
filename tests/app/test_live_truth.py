"""The live map tells the truth at a glance (issue 12), in the real server and Chromium.

A feed that stops turns the banner red ("Feed down") while available units and coverage stay
as they were (stale units count at their last position); the ranked list of gap zones beside
the map zooms the map to the zone picked. The server runs with the demo's own simulated feed
off: the tests are the feed (``simulate-feed`` in a process of its own, or positions written
to the store), so they can stop it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coverage.data.demo import DEMO_FILES
from coverage.ops.store import Position, open_store, to_us
from tests.app.test_app import _app, _metrics, demo_env  # noqa: F401
from tests.app.test_browser import SHOTS, Tab, _expect_title, browser  # noqa: F401
from tests.support.browser import ROOT, Server, close_quietly, is_local, start_server

STALE_S = 6  # SECCOV_STALE_S of the server: the feed is "down" 6 s after it stops


@pytest.fixture(scope="module")
def server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # noqa: F811
    srv = start_server(tmp_path_factory.mktemp("live-truth"), SECCOV_DEMO_ROLE="admin",
                       SECCOV_DEMO_FEED="0", SECCOV_STALE_S=str(STALE_S))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def tab(browser: Any, server: Server) -> Iterator[Tab]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    t = Tab(page, server)

    def route(r: Any) -> None:
        if is_local(r.request.url):
            r.continue_()
        else:
            t.aborted.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda e: t.errors.append(str(e)))
    try:
        yield t
    finally:
        close_quietly(context)


def _open_live_map(tab: Tab) -> None:
    """Open the live map; the first page of a fresh server may take long on a busy machine."""
    tab.page.goto(tab.server.url + "/", wait_until="domcontentloaded")
    tab.page.locator("h1").first.wait_for(timeout=180_000)
    _expect_title(tab, "Live map")


def _db(server: Server) -> str:
    folder = Path(server.env["SECCOV_DATA_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder}/seccov.db"


def _banner(tab: Tab) -> str:
    alerts = tab.page.locator('[data-testid="stAlert"]').filter(has_text="Feed ")
    return alerts.first.inner_text() if alerts.count() else ""


def _wait_banner(tab: Tab, word: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = _banner(tab)
        if text.startswith(f"Feed {word}") or f"\nFeed {word}" in text or \
                f"Feed {word}:" in text:
            return text
        tab.page.wait_for_timeout(250)
    msg = f"the banner never said 'Feed {word}': {text!r}{tab.report()}"
    raise AssertionError(msg)


def _is_red(tab: Tab) -> bool:
    """The banner is Streamlit's error alert (red)."""
    alert = tab.page.locator('[data-testid="stAlert"]').filter(has_text="Feed down").first
    return alert.locator('[data-testid="stAlertContentError"]').count() == 1


def _figures(tab: Tab) -> dict[str, str]:
    m = tab.metrics()
    return {k: m[k] for k in ("Available units", "Zones with a gap", "Zone nodes covered")}


def test_a_stopped_feed_turns_the_banner_red_and_keeps_the_force(tab: Tab,
                                                                 server: Server) -> None:
    _open_live_map(tab)
    _wait_banner(tab, "down", 180)  # no feed yet: roster positions
    f = DEMO_FILES
    feed = subprocess.Popen(  # the demo's simulated feed, as a process we can stop
        [sys.executable, "-m", "coverage", "simulate-feed", "--db", _db(server),
         "--roads", str(f["roads"]), "--stations", str(f["stations"]),
         "--officers", str(f["officers"]), "--realtime", "--seconds", "900",
         "--interval-s", "1", "-q"],
        cwd=ROOT, env=server.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        ok = _wait_banner(tab, "ok", 120)
        assert feed.poll() is None, f"simulate-feed ended with code {feed.returncode}"
        assert "0 of 310 positions stale" in ok, ok
        tab.wait_metric("Available units", "310")
        tab.screenshot("live-feed-ok")
    finally:
        feed.terminate()
        feed.wait(timeout=20)
    stopped_at = time.monotonic()
    tab.page.wait_for_timeout(3_000)  # the last reports read by a refresh (every 2 s)
    before = _figures(tab)
    down = _wait_banner(tab, "down", STALE_S + 20)
    assert time.monotonic() - stopped_at >= STALE_S - 1
    assert f"no position newer than {STALE_S} s" in down, down
    assert "310 of 310 positions stale (100%)" in down, down
    assert "still counted, at their last reported position" in down, down
    assert _is_red(tab), "the 'down' banner is not the red error alert"
    tab.page.wait_for_timeout(2_500)  # one more refresh while down
    after = _figures(tab)
    assert after == before, f"a stopped feed changed the figures: {before} -> {after}"
    assert after["Available units"] == "310"
    caption = tab.page.get_by_text("greyed, counted at their last position")
    assert caption.count() == 1
    tab.screenshot("live-feed-down")
    assert not tab.errors, tab.report()
    assert not tab.aborted, tab.report()


def test_clicking_a_gap_zone_zooms_the_map_to_it(tab: Tab, server: Server) -> None:
    """Fresh positions gather the on-duty officers in one corner: gaps appear, ranked."""
    import geopandas as gpd
    import pandas as pd

    officers = pd.read_csv(DEMO_FILES["officers"], dtype=str)
    zones = gpd.read_file(DEMO_FILES["zones"])
    on_duty = officers.loc[officers["status"] == "on_duty", "officer_id"].tolist()
    x0, y0, _, _ = zones.total_bounds
    now = datetime.now(UTC)
    with open_store(_db(server)) as store:
        run = store.begin_ingest("test", "csv", "feed")
        store.write_batch(run, [Position(o, float(y0), float(x0), to_us(now), now.isoformat())
                                for o in on_duty], [])
    _open_live_map(tab)
    # fresh or (on a slow machine) stale, the gathered positions count: gaps appear
    _wait_banner(tab, "", 120)
    gaps = tab.page.locator('[data-testid="stDataFrame"]').first
    gaps.wait_for(timeout=60_000)
    frame = tab.map_frame()
    zoom0 = frame.evaluate("() => map_div.getZoom()")
    heading = tab.page.get_by_text("Zones with a gap:").first.inner_text()
    n = int(heading.split(":")[1].strip().rstrip("*"))
    assert n > 0, heading
    # the first row is the most urgent zone (Coverage.gaps order); select it
    from coverage import analyse, load_dataset
    from coverage.ops.positions import latest_positions, live_coverage

    with open_store(_db(server)) as store:
        live = latest_positions(store, stale_after_s=3600)
    cov = live_coverage(analyse(load_dataset(**DEMO_FILES)), live).coverage
    first = str(cov.gaps["zone_id"].iloc[0])
    zone = zones.loc[zones["zone_id"].astype(str) == first]
    zx0, zy0, zx1, zy1 = zone.total_bounds
    box = gaps.bounding_box()
    tab.page.mouse.click(box["x"] + 12, box["y"] + 35 + 17)  # the first row's selector
    deadline = time.monotonic() + 20
    view = None
    while time.monotonic() < deadline:
        frame = tab.map_frame()
        view = frame.evaluate("() => [map_div.getZoom(), map_div.getCenter().lat,"
                              " map_div.getCenter().lng]")
        if view[0] > zoom0 and zy0 <= view[1] <= zy1 and zx0 <= view[2] <= zx1:
            break
        tab.page.wait_for_timeout(250)
    assert view is not None
    assert view[0] > zoom0, f"the map did not zoom in: {zoom0} -> {view}{tab.report()}"
    assert zy0 <= view[1] <= zy1, (view, zone.total_bounds)
    assert zx0 <= view[2] <= zx1, (view, zone.total_bounds)
    bounds = frame.evaluate("() => { const b = map_div.getBounds();"
                            " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    assert bounds[0] <= zx0, (bounds, zone.total_bounds)
    assert bounds[2] >= zx1, (bounds, zone.total_bounds)
    assert bounds[1] <= zy0, (bounds, zone.total_bounds)
    assert bounds[3] >= zy1, (bounds, zone.total_bounds)
    tab.screenshot("live-gap-zoomed")
    assert (SHOTS / "live-gap-zoomed.png").is_file()
    assert not tab.errors, tab.report()


# --- AppTest: the live map and the smaller defects of issue 12 ------------------------------

def _write(store_url: str, rows: list[tuple[str, float, float, float]]) -> None:
    """Positions ``(officer_id, lat, lon, age_s)`` reported ``age_s`` before now."""
    from datetime import timedelta

    now = datetime.now(UTC)
    with open_store(store_url) as s:
        run = s.begin_ingest("test", "csv", "feed")
        s.write_batch(run, [Position(o, lat, lon, to_us(now - timedelta(seconds=a)),
                                     (now - timedelta(seconds=a)).isoformat())
                            for o, lat, lon, a in rows], [])


def _captions(at: Any) -> str:
    return " ".join(c.value for c in at.caption)


def test_feed_banner_colour_follows_the_feed_state(demo_env) -> None:  # noqa: F811
    from ui import state

    at = _app()
    assert [e.value[:9] for e in at.error] == ["Feed down"]  # no live position at all
    _write(state.store_url(), [("KP-0001", 34.0, 71.55, 5), ("KP-0003", 34.0, 71.55, 9000)])
    at.run()
    assert not at.error
    assert [s.value[:7] for s in at.success] == ["Feed ok"]  # 1 of 2 stale: not more than half
    _write(state.store_url(), [("KP-0005", 34.0, 71.55, 9000)])
    at.run()
    degraded = [w.value for w in at.warning if w.value.startswith("Feed degraded")]
    assert degraded, [w.value for w in at.warning]
    assert "2 of 3 positions stale (67%)" in degraded[0]


def test_stale_caption_says_what_the_toggle_does(demo_env) -> None:  # noqa: F811
    from ui import state

    _write(state.store_url(), [("KP-0001", 34.0, 71.55, 5), ("KP-0003", 34.0, 71.55, 9000)])
    at = _app()
    assert "1 stale (greyed, counted at their last position)" in _captions(at)
    assert "not counted" not in _captions(at)
    assert _metrics(at)["Available units"] == "310"
    at.toggle(key="live_exclude_stale").set_value(True).run()
    assert "1 stale (greyed, left out)" in _captions(at)
    assert _metrics(at)["Available units"] == "309"


def test_far_off_feed_positions_are_counted_in_the_caption_not_warned(demo_env) -> None:  # noqa: F811
    from ui import state

    _write(state.store_url(), [("KP-0001", 33.0, 70.5, 5)])  # ~140 km off the network
    at = _app()
    for _ in range(3):  # refreshes do not pile up warnings
        at.run()
        assert not [w.value for w in at.warning if "snapped" in w.value or "m from" in w.value]
        assert "1 unit(s) more than 500 m from a road (1 at live positions)" in _captions(at)


def test_gap_list_ranks_the_gaps_beside_the_map(demo_env) -> None:  # noqa: F811
    import geopandas as gpd
    import pandas as pd

    from coverage import analyse, load_dataset
    from ui import state

    officers = pd.read_csv(DEMO_FILES["officers"], dtype=str)
    x0, y0, _, _ = gpd.read_file(DEMO_FILES["zones"]).total_bounds
    on_duty = officers.loc[officers["status"] == "on_duty", "officer_id"]
    _write(state.store_url(), [(o, float(y0), float(x0), 5) for o in on_duty])
    at = _app()
    table = next(d.value for d in at.dataframe if "covered_pct" in d.value.columns)
    ds = load_dataset(**DEMO_FILES)
    moved = ds.officers.copy()
    moved.loc[moved["status"] == "on_duty", "geometry"] = gpd.points_from_xy(
        [x0] * len(on_duty), [y0] * len(on_duty))
    moved.loc[moved["status"] == "on_duty", "at_station"] = False
    from dataclasses import replace

    cov = analyse(replace(ds, officers=moved))
    gaps = cov.table.loc[cov.table["gap"]]
    assert len(table) == len(gaps) > 0
    assert set(table["name"]) == set(gaps["name"])
    for _, row in gaps.iterrows():
        shown = table.loc[table["name"] == row["name"]].iloc[0]
        assert shown["covered_pct"] == pytest.approx(row["covered_share"] * 100)
        assert shown["short"] == max(0, int(row["min_officers"])
                                     - int(row["officers_within_target"]))
    assert list(table["name"]) == list(cov.gaps["name"])  # most urgent first


def test_what_if_table_picker_and_slider(demo_env) -> None:  # noqa: F811
    import json

    at = _app()
    at.switch_page("pages/what-if.py").run()
    assert not at.exception
    picker = at.multiselect(key="wi_officers")
    assert picker.proto.select_all == 0  # no "Select N matches" on Enter
    assert at.slider(key="wi_threshold").label.startswith(
        "Default target for zones without their own")
    config = json.loads(next(d for d in at.dataframe
                             if "covered_before" in d.value.columns).proto.columns)
    for column, label in (("covered_before", "Covered before"), ("p90_after", "p90 after (min)"),
                          ("min_officers", "Officers needed")):
        assert config[column]["label"] == label
    assert config["covered_after"]["type_config"]["format"] == "percent"
    from ui.maps import ZONE_CHANGE_COLUMNS, ZONE_CHANGE_ORDER

    widths = [ZONE_CHANGE_COLUMNS[c]["width"] for c in ZONE_CHANGE_ORDER]
    assert sum(widths) <= 1150  # the wide layout's main column: nothing cut off
    assert set(ZONE_CHANGE_ORDER) <= set(next(
        d for d in at.dataframe if "covered_before" in d.value.columns).value.columns)


def test_coverage_bars_are_not_red_and_slider_says_default(demo_env) -> None:  # noqa: F811
    import json

    from coverage.briefing.mapview import OK_COLOR

    at = _app()
    at.switch_page("pages/coverage.py").run()
    assert not at.exception
    assert at.slider(key="cov_threshold").label.startswith("Default target for zones")
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["covered_pct"]["type_config"]["color"] == OK_COLOR


def test_upload_problems_name_file_level_rows_and_the_active_dataset(demo_env, tmp_path) -> None:  # noqa: F811
    import pandas as pd

    from coverage.ops import workspace
    from ui import feedback, state

    problems = pd.DataFrame({"severity": ["error", "error"], "file": ["a.zip", "o.csv"],
                             "row": pd.array([None, 7], dtype="Int64"), "field": ["", "status"],
                             "message": ["bad zip", "bad status"]})
    assert list(feedback.problems_view(problems)["row"]) == ["file", "7"]
    assert list(problems["row"].isna()) == [True, False]  # input not modified
    with open_store(state.store_url()) as s:
        workspace.activate(s, dict(DEMO_FILES), name="Night <b>roster</b>", user="t")
    at = _app("admin")
    at.switch_page("pages/data.py").run()
    assert not at.exception
    line = next(m.value for m in at.markdown if "Active dataset" in m.value)
    assert "Night \\<b\\>roster\\</b\\>" in line, line  # named, and escaped
    assert "python -m" not in " ".join(m.value for m in at.markdown)
    assert "python -m" not in _captions(at)


def test_export_panel_states_the_real_displacement(demo_env) -> None:  # noqa: F811
    from coverage.briefing.brief import DISPLACE_MAX_M, DISPLACE_MIN_M

    at = _app()
    at.switch_page("pages/coverage.py").run()
    options = at.selectbox(key="coverage-export-redact").options
    assert f"Officer positions displaced {DISPLACE_MIN_M:g}-{DISPLACE_MAX_M:g} m" in options
    assert "250-600 m" in " ".join(options)


def test_each_devices_last_report_oldest_first_in_local_time(demo_env) -> None:  # noqa: F811
    from ui import state

    _write(state.store_url(), [("KP-0001", 34.0, 71.55, 30), ("KP-0003", 34.0, 71.55, 7200)])
    at = _app()
    table = next(d.value for d in at.dataframe if "device" in d.value.columns)
    assert list(table["device"]) == ["KP-0003", "KP-0001"]  # oldest first
    assert table["age"].iloc[0] == "2.0 h"
    assert table["age"].iloc[1].endswith(" s")  # 30 s and the time the app took to start
    assert 30 <= int(table["age"].iloc[1].split()[0]) < 90
    assert list(table["stale"]) == [True, False]
    assert all("PKT (Asia/Karachi, UTC+05:00)" in t for t in table["last report"])
