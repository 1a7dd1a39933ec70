"""The export panel adds expected coverage under refusal risk when the active dataset has
personnel events and station resources (the demo district has both)."""

from __future__ import annotations

from datetime import date

from tests.app.test_app import _app, _ok, demo_env  # noqa: F401  (demo_env: a fixture)


def _export(at, *, expected: bool, as_of: str | None = None,
            probs: dict[str, float] | None = None) -> str:
    at.switch_page("pages/what-if.py").run()
    at.checkbox(key="wi_demo42").check().run()
    at.radio(key="what-if-export-fmt").set_value(".html").run()
    box = at.checkbox(key="what-if-export-expected")
    (box.check() if expected else box.uncheck()).run()
    if as_of is not None:
        at.date_input(key="what-if-export-as-of").set_value(date.fromisoformat(as_of)).run()
    for level, p in (probs or {}).items():
        at.number_input(key=f"what-if-export-p-{level}").set_value(p).run()
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


def test_export_uses_the_chosen_date_and_probabilities(demo_env) -> None:  # noqa: F811
    """The panel's as-of date and refusal probabilities reach the export: with every
    probability 0 the expected objective is the plain one (1,862 after the 42)."""
    at = _app()
    page = _export(at, expected=True, as_of="2026-11-01",
                   probs={"ok": 0.0, "warning": 0.0, "critical": 0.0})
    assert "as of 2026-11-01" in page
    assert "1,862.0" in page
    assert "1,857.9" not in page
