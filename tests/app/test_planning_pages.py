"""AppTest of the planning pages (Plan, Scenario builder, Criticality) on the demo district:
each runs, and each main interaction works; runs, applies, saves and exports are audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from coverage.ops import audit
from coverage.ops.store import open_store
from tests.support.tiny import ROOT

APP = str(ROOT / "app.py")


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    from ui import state

    monkeypatch.setenv("SECCOV_DEMO", "1")
    monkeypatch.setenv("SECCOV_DEMO_FEED", "0")
    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECCOV_DB", raising=False)
    monkeypatch.setenv("SECCOV_DEMO_ROLE", "planner")
    monkeypatch.delenv("SECCOV_CACHE_DIR")
    monkeypatch.chdir(ROOT)
    state.reset_store()
    yield
    state.reset_store()


def _ok(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _actions() -> list[tuple[str, dict]]:
    from ui import state

    with open_store(state.store_url()) as s:
        return [(e.action, e.details) for e in audit.query(s, limit=None)]


def _what_if_42(at: AppTest) -> AppTest:
    at.switch_page("pages/what_if.py").run()
    at.checkbox(key="wi_demo42").check().run()
    _ok(at)
    return at


def test_plan_page_runs_applies_and_exports(demo_env) -> None:
    at = _what_if_42(AppTest.from_file(APP, default_timeout=300).run())
    at.switch_page("pages/plan.py").run()
    _ok(at)
    assert "what-if" in at.selectbox(key="plan_start").value
    at.button(key="plan_run").click().run()
    _ok(at)
    figures = _metrics(at)
    assert figures["Zones with a gap"] == "0"
    assert figures["Officers short"] == "0"
    table = at.dataframe[0].value
    assert len(table) >= 1
    assert list(table["order"]) == list(range(1, len(table) + 1))
    at.button(key="plan_apply").click().run()
    _ok(at)
    assert any("current scenario" in s.value for s in at.success)
    steps = [d.get("step") for a, d in _actions() if a == "scenario_run" and d.get("page") == "plan"]
    assert "plan" in steps and "apply" in steps
