"""Admin pages in AppTest: data upload, users and the audit log (demo mode, admin role)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.tiny import ROOT


@pytest.fixture
def admin_app(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[AppTest]:
    from ui import state

    monkeypatch.setenv("SECCOV_DEMO", "1")
    monkeypatch.setenv("SECCOV_DEMO_FEED", "0")
    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECCOV_DB", raising=False)
    monkeypatch.delenv("SECCOV_DEMO_ROLE", raising=False)  # admin
    monkeypatch.delenv("SECCOV_CACHE_DIR")
    monkeypatch.chdir(ROOT)
    state.reset_store()
    yield AppTest.from_file(str(ROOT / "app.py"), default_timeout=180).run()
    state.reset_store()


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(str(ROOT / "pages" / name)).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_data_page_shows_the_active_dataset(admin_app) -> None:
    at = _page(admin_app, "data.py")
    assert at.title[0].value == "Data upload"
    assert any("roads\\.osm\\.pbf" in m.value for m in at.markdown)  # escaped, shown plain
    assert [b.label for b in at.button] == ["Validate"]
    assert at.button[0].disabled  # nothing uploaded yet


def test_users_page_adds_a_user_and_the_audit_log_shows_it(admin_app) -> None:
    at = _page(admin_app, "users.py")
    assert set(at.dataframe[0].value["user"]) == {"demo-viewer", "demo-planner", "demo-command",
                                                  "demo-admin"}
    at.text_input(key="ua_name").input("night-ops")
    at.text_input(key="ua_pw1").input("a long password 1")
    at.text_input(key="ua_pw2").input("a long password 2")
    at.button[0].click().run()
    assert any("differ" in e.value for e in at.error)
    at.text_input(key="ua_name").input("night-ops")  # the form clears on submit
    at.text_input(key="ua_pw1").input("a long password 1")
    at.text_input(key="ua_pw2").input("a long password 1")
    at.button[0].click().run()
    assert "night-ops" in set(at.dataframe[0].value["user"])
    at.text_input(key="ua_name").input("short-pw")
    at.text_input(key="ua_pw1").input("short")
    at.text_input(key="ua_pw2").input("short")
    at.button[0].click().run()
    assert any("12" in e.value for e in at.error)  # the password rule, not a traceback
    at = _page(at, "audit.py")
    log = at.dataframe[0].value
    assert ("demo-admin", "user_added") in set(zip(log["user"], log["action"], strict=True))
    at.selectbox(key="al_action").set_value("login").run()
    assert not at.exception
    assert set(at.dataframe[0].value["action"]) <= {"login"}


def test_planner_has_no_admin_pages(admin_app) -> None:
    at = admin_app
    at.sidebar.selectbox(key="demo_role").set_value("planner").run()
    # AppTest starts every run from the pages/ folder, whose files are now named as their
    # URLs, so switch_page finds data.py; the page itself must refuse the planner.
    at.switch_page(str(ROOT / "pages" / "data.py")).run()
    assert [e.value for e in at.error] == ["You are not allowed to open this page."]
    assert not at.title


def test_admin_page_rechecks_the_role(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from ui import auth, state

    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(ROOT)
    state.reset_store()
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=60)
    at.session_state[auth.USER_KEY] = auth.Session("someone", "viewer", "password")
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["You are not allowed to open this page."]
    assert not at.title  # stopped before the page drew anything
    state.reset_store()
