"""The export panel adds expected coverage under refusal risk when the active dataset has
personnel events and station resources (the demo district has both)."""

from __future__ import annotations

from tests.app.test_app import _app, _ok, demo_env  # noqa: F401  (demo_env: a fixture)


def _export(at, *, expected: bool) -> str:
    at.switch_page("pages/what-if.py").run()
    at.checkbox(key="wi_demo42").check().run()
    at.radio(key="what-if-export-fmt").set_value(".html").run()
    box = at.checkbox(key="what-if-export-expected")
    (box.check() if expected else box.uncheck()).run()
    at.button(key="what-if-export-make").click().run()
    _ok(at)
    fmt, data, _ = at.session_state["what-if-export-file"]
    assert fmt == ".html"
    return data.decode("utf-8")


def test_export_panel_adds_the_expected_figures(demo_env) -> None:  # noqa: F811
    at = _app()
    page = _export(at, expected=True)
    # docs/readiness.md: after suspended_42.csv, 1,857.9 of 1,862 (as of 2026-11-25)
    assert "Expected objective (refusal risk)" in page
    assert "1,857.9" in page
    assert "as of 2026-11-25" in page
    assert "[synthetic]" not in page  # no personnel note leaves in an export
    plain = _export(at, expected=False)
    assert "Expected objective" not in plain
    assert '"expectedNote"' not in plain
