"""App tests: every page runs on the demo district, with one interaction each; sign-in and roles.

AppTest runs the real scripts in this process (no browser; tests/app/test_browser.py drives the
real server). The demo's compiled road graph comes from the default cache filled by
scripts/setup.sh; the store and uploads go to a fresh folder per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from coverage.ops import accounts
from coverage.ops.store import Position, open_store, to_us
from tests.support.tiny import ROOT

APP = str(ROOT / "app.py")


def _fresh_caches() -> None:
    from ui import state

    state.reset_store()


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    monkeypatch.setenv("SECCOV_DEMO", "1")
    monkeypatch.setenv("SECCOV_DEMO_FEED", "0")  # no background feed thread in AppTest
    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECCOV_DB", raising=False)
    monkeypatch.setenv("SECCOV_DEMO_ROLE", "planner")  # the planning pages; admin: test_admin_pages
    # the demo graph compiled by scripts/setup.sh, not a fresh per-test cache
    monkeypatch.delenv("SECCOV_CACHE_DIR")
    monkeypatch.chdir(ROOT)
    _fresh_caches()
    yield
    _fresh_caches()


def _app(role: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if role is not None:
        at.session_state["demo_role"] = role
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _ok(at: AppTest, *, feed_down: bool = False, live: bool = False) -> None:
    """No exception and no error; ``feed_down``: except the live map's red feed banner;
    ``live``: that banner allowed but not required (a feed just starting)."""
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    if feed_down:
        assert [e.startswith("Feed down") for e in errors] == [True], errors
    elif live:
        assert all(e.startswith("Feed down") for e in errors), errors
    else:
        assert not errors, errors


def test_live_map_page(demo_env) -> None:
    at = _app()
    _ok(at, feed_down=True)  # no live position at all: the feed is down (DATA.md)
    figures = _metrics(at)
    assert figures["Available units"] == "310"
    assert figures["Zones with a gap"] == "0"
    assert any("SYNTHETIC DEMO DATA" in w.value for w in at.warning)
    assert any("roster positions" in c.value for c in at.caption)
    at.toggle(key="live_surface").set_value(True).run()
    at.toggle(key="live_areas").set_value(True).run()
    _ok(at, feed_down=True)


def test_live_map_uses_the_stores_positions(demo_env, tmp_path) -> None:
    from ui import state

    now = datetime.now(UTC)
    with open_store(state.store_url()) as s:
        run = s.begin_ingest("test", "csv", "feed")
        s.write_batch(run, [
            Position("KP-0001", 34.0, 71.55, to_us(now), now.isoformat()),
            Position("KP-0003", 34.0, 71.55, to_us(now - timedelta(hours=2)),
                     (now - timedelta(hours=2)).isoformat()),
        ], [])
    at = _app()
    _ok(at)
    caption = " ".join(c.value for c in at.caption)
    assert "2 officers with live positions" in caption
    assert "1 stale" in caption
    assert _metrics(at)["Available units"] == "310"  # the stale one counts where it was
    at.toggle(key="live_exclude_stale").set_value(True).run()
    assert _metrics(at)["Available units"] == "309"  # left out


def test_coverage_page_threshold_changes_the_table(demo_env) -> None:
    at = _app()
    at.switch_page("pages/coverage.py").run()
    _ok(at)
    table = at.dataframe[0].value
    assert len(table) == 25
    assert list(table.columns[:4]) == ["zone_id", "name", "priority", "status"]
    at.slider(key="cov_threshold").set_value(1.0).run()
    _ok(at)
    tight = at.dataframe[0].value
    assert (tight["status"] == "GAP").sum() > (table["status"] == "GAP").sum()
    assert list(tight["status"]) == sorted(tight["status"], key=lambda s: s != "GAP")
    at.selectbox(key="cov_sa_id").set_value("PS-01").run()
    _ok(at)
    assert any("road nodes reached within 1 min" in c.value for c in at.caption)


def test_what_if_page_suspending_changes_the_figures(demo_env) -> None:
    at = _app()
    at.switch_page("pages/what-if.py").run()
    _ok(at)
    assert _metrics(at)["Zones with a gap"] == "0"
    assert {m.delta for m in at.metric} == {"no change"}  # nothing suspended: no +0 arrows
    at.checkbox(key="wi_demo42").check().run()
    _ok(at)
    figures = _metrics(at)
    assert {m.label: m.delta for m in at.metric}["Available units"] == "-42"
    assert figures["Available units"] == "268"
    assert figures["Zones with a gap"] == "6"
    changes = at.dataframe[0].value
    assert (changes["change"] == "newly below target").sum() == 6
    assert list(changes["change"][:6]) == ["newly below target"] * 6
    at.multiselect(key="wi_stations").set_value(["PS-06"]).run()  # 5 on duty not yet listed
    _ok(at)
    assert _metrics(at)["Available units"] == "263"


def test_briefing_page_runs(demo_env) -> None:
    at = _app()
    at.switch_page("pages/briefing.py").run()
    _ok(at)
    at.radio(key="brief_scenario").set_value(at.radio(key="brief_scenario").options[-1]).run()
    _ok(at)
    assert _metrics(at)["Zones with a gap"] == "6"


def test_export_button_makes_a_briefing(demo_env) -> None:
    at = _app()
    at.switch_page("pages/what-if.py").run()
    at.checkbox(key="wi_demo42").check().run()
    at.radio(key="what-if-export-fmt").set_value(".html").run()
    at.button(key="what-if-export-make").click().run()
    _ok(at)
    ready = at.session_state["what-if-export-file"]
    assert ready[0] == ".html"
    page = ready[1].decode("utf-8")
    assert "42 officers suspended" in page
    assert "<script>alert" not in page


def test_viewer_sees_only_the_live_map(demo_env) -> None:
    at = _app("viewer")
    _ok(at, feed_down=True)
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*live-map.py'\]"):
        at.switch_page("pages/what-if.py")  # not registered for a viewer


def test_page_rechecks_the_role(demo_env) -> None:
    from ui import auth

    at = AppTest.from_file(str(ROOT / "pages" / "what-if.py"), default_timeout=60)
    at.session_state[auth.USER_KEY] = auth.Session("someone", "viewer", "password")
    at.run()
    assert any("not allowed" in e.value for e in at.error)
    assert not at.metric


@pytest.fixture
def real_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    monkeypatch.delenv("SECCOV_DEMO", raising=False)
    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECCOV_DB", raising=False)
    monkeypatch.delenv("SECCOV_CACHE_DIR")
    monkeypatch.chdir(ROOT)
    _fresh_caches()
    from ui import state

    with open_store(state.store_url()) as s:
        accounts.add_user(s, "ops-viewer", "correct horse battery", "viewer", actor="test")
        accounts.add_user(s, "ops-planner", "correct horse battery", "planner", actor="test")
    yield "correct horse battery"
    _fresh_caches()


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    return at.button[0].click().run()


def test_login_gate_and_pages_per_role(real_env) -> None:
    at = _app()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert not at.metric  # nothing behind the gate
    _sign_in(at, "ops-planner", "wrong password")
    assert any("Sign-in failed" in e.value for e in at.error)
    at = _sign_in(_app(), "ops-planner", real_env)
    _ok(at, feed_down=True)  # no feed outside demo mode
    assert "Available units" in _metrics(at)
    assert any("SYNTHETIC" in w.value for w in at.warning)  # the demo files, still labelled
    at.switch_page("pages/what-if.py").run()
    _ok(at)
    assert any(t.value.startswith("What-if") for t in at.title)


def test_viewer_login_cannot_open_planner_pages(real_env) -> None:
    at = _sign_in(_app(), "ops-viewer", real_env)
    _ok(at, feed_down=True)
    with pytest.raises(ValueError, match=r"Known pages: \['[^']*live-map.py'\]"):
        at.switch_page("pages/coverage.py")


def test_demo_accounts_do_not_exist_outside_demo_mode(real_env) -> None:
    at = _sign_in(_app(), "demo-admin", "demo-admin")
    assert not at.metric
    assert at.error


def test_single_sign_on_offered_when_configured(real_env) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "c", "client_secret": "s",
                          "server_metadata_url": "https://idp.invalid/.well-known/openid"}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in with your organisation"]
    assert not at.text_input  # no local password form
    assert not at.metric


def test_demo_feed_moves_officers_and_stops_with_a_new_dataset(demo_env, monkeypatch) -> None:
    import threading
    import time

    from ui import state

    monkeypatch.setenv("SECCOV_DEMO_FEED", "1")
    monkeypatch.setenv("SECCOV_REFRESH_S", "1")
    at = _app()
    _ok(at, live=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "SIMULATED" not in " ".join(
            c.value for c in at.caption):
        time.sleep(1)
        at.run()
    assert "positions are SIMULATED" in " ".join(c.value for c in at.caption)
    feeds = [t for t in threading.enumerate() if t.name == "seccov-simulated-feed"]
    assert feeds
    state.clear_data_caches()  # what activating an uploaded dataset does
    for t in feeds:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in feeds)


def test_text_from_files_cannot_become_markdown() -> None:
    import re

    from ui.feedback import md

    hostile = ("![x](http://evil.example/p.png) <img src=x onerror=alert(1)> [a](b) "
               ":smile: :material/home:")
    escaped = md(hostile)
    assert not re.search(r"(?<!\\)[!\[\]()<>:]", escaped)  # each one backslash-escaped
    assert ":\u200bmaterial" in escaped  # no icon shortcode can match
    assert escaped.replace("\\", "").replace("\u200b", "") == hostile  # all still shown
    assert md("Old town\n===\n    indented") == "Old town  \n\\=\\=\\=  \nindented"


def test_messages_quoting_data_are_escaped_on_screen() -> None:
    def page() -> None:
        import warnings

        from coverage.errors import DataError, DataWarning
        from ui import feedback

        def load() -> None:
            warnings.warn("officers.csv: unknown id '![x](http://evil.example/p.png)'",
                          DataWarning, stacklevel=1)
            raise DataError("zones.csv: row 2: name '<img src=x onerror=alert(1)>' too long")

        feedback.checked(load)

    at = AppTest.from_function(page, default_timeout=30).run()
    assert not at.exception
    assert at.warning[0].value == ("officers\\.csv\\:\u200b unknown id '\\!\\[x\\]\\(http"
                                   "\\:\u200b//evil\\.example/p\\.png\\)'")
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in at.error[0].value


def test_live_map_survives_a_store_that_cannot_open(demo_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECCOV_DB", f"sqlite:///{tmp_path}/no/such/folder/live.db")
    at = _app()
    assert not at.exception
    assert _metrics(at)["Available units"] == "310"  # roster positions
    assert any("Live positions unavailable" in w.value and "does not exist" in w.value
               for w in at.warning)


def test_sign_in_shows_an_error_when_the_store_is_down(real_env, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("SECCOV_DB", f"sqlite:///{tmp_path}/no/such/folder/s.db")
    at = _sign_in(_app(), "ops-planner", real_env)
    assert not at.exception
    assert any("does not exist" in e.value for e in at.error)
    assert not at.metric


def test_a_demo_feed_that_died_is_started_again(demo_env, monkeypatch) -> None:
    import time

    from ui import state

    monkeypatch.setenv("SECCOV_DEMO_FEED", "1")
    at = _app()
    _ok(at, live=True)
    running = list(state._demo_feeds().running.values())
    assert len(running) == 1
    running[0].stop.set()  # as if the store had failed under it
    running[0].thread.join(timeout=10)
    assert not running[0].alive
    at.run()
    _ok(at, live=True)
    again = list(state._demo_feeds().running.values())
    assert len(again) == 1
    assert again[0] is not running[0]
    assert again[0].alive
    state.stop_demo_feeds()
    again[0].thread.join(timeout=10)
    time.sleep(0)


def test_demo_session_on_an_uploaded_dataset_does_not_claim_the_demo_district(
        demo_env, monkeypatch) -> None:
    """A demo session with another dataset active says it is a demo session, without
    calling the data the Peshawar demo district (seen with the synthetic province)."""
    from ui import auth

    monkeypatch.setattr(auth, "data_is_demo", lambda: False)
    at = _app()
    banners = [w.value for w in at.warning]
    assert any("DEMO SESSION" in b and "uploaded dataset" in b for b in banners)
    assert not any("Peshawar" in b for b in banners)
