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
    at.switch_page("pages/what-if.py").run()
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
    assert not any("Planned under" in m.value for m in at.markdown)  # suspensions only
    at.button(key="plan_apply").click().run()
    _ok(at)
    assert any("current scenario" in s.value for s in at.success)
    # no reserves: on-duty officers move instead, and the plan applies on top of the first
    at.number_input(key="plan_k").set_value(0).run()
    at.button(key="plan_run").click().run()
    _ok(at)
    moves = at.dataframe[0].value
    assert set(moves["kind"]) == {"move"}
    assert (moves["travel_min"] <= 20.0).all()
    # started from the applied plan: the order says the first plan's officers are out
    at.selectbox(key="plan_start").select(
        next(o for o in at.selectbox(key="plan_start").options if o.startswith("Current")))
    at.button(key="plan_run").click().run()
    planned = [m.value for m in at.markdown if "Planned under" in m.value]
    assert planned
    shown = planned[0].replace("\\", "")  # markdown-escaped text from the scenario
    assert f"{len(table)} officer(s) sent to a site" in shown
    assert _metrics(at)["Zones with a gap"] == "0"
    at.button(key="plan_apply").click().run()
    _ok(at)
    steps = [d.get("step") for a, d in _actions()
             if a == "scenario_run" and d.get("page") == "plan"]
    assert "plan" in steps
    assert "apply" in steps


def test_scenario_builder_saves_reopens_and_compares(demo_env) -> None:
    at = _what_if_42(AppTest.from_file(APP, default_timeout=300).run())
    at.switch_page("pages/scenario-builder.py").run()
    _ok(at)
    assert _metrics(at)["Zones with a gap"] == "6"
    # close a named road: the scenario says so
    at.multiselect(key="sb_roads").set_value([at.multiselect(key="sb_roads").options[0]]).run()
    at.button(key="sb_roads_close").click().run()
    _ok(at)
    assert "0 closed road(s)" not in " ".join(c.value for c in at.caption)
    box = at.selectbox(key="sb_start")  # back to the what-if alone
    box.select_index(next(i for i, o in enumerate(box.options) if "last what" in o)).run()
    at.text_input(key="sb_name").set_value("42 out").run()
    at.button(key="sb_save").click().run()
    _ok(at)
    # a second scenario: the same suspensions with every unit 3 minutes late
    at.number_input(key="sb_turnout").set_value(180).run()
    at.button(key="sb_turnout_apply").click().run()
    _ok(at)
    assert "turnout 180 s" in " ".join(c.value for c in at.caption)
    late = _metrics(at)
    assert int(late["Zones with a gap"]) > 6
    at.text_input(key="sb_name").set_value("42 out, 3 min late").run()
    at.button(key="sb_save").click().run()
    _ok(at)
    zones = at.dataframe[-1].value
    assert len(zones) == 25
    assert {"objective_a", "objective_b", "objective_delta"} <= set(zones.columns)
    assert (zones["objective_delta"] <= 0).all()
    assert (zones["objective_delta"] < 0).any()
    # the per-zone objectives, recomputed outside the app
    from coverage.data.dataset import load_dataset
    from coverage.data.demo import DEMO_FILES, DEMO_SUSPENSION
    from coverage.data.loaders import read_suspension
    from coverage.engine.analysis import analyse
    from coverage.engine.metrics import demand, zone_objective
    from coverage.planning.scenario import Scenario, apply_scenario

    ds = load_dataset(**DEMO_FILES)
    base = analyse(ds, suspended=read_suspension(DEMO_SUSPENSION, ds.officers))
    late = apply_scenario(base, Scenario(turnout_s=180))
    by_zone = dict(zip(zones["zone_id"], zip(zones["objective_a"], zones["objective_b"],
                                             strict=True), strict=True))
    for z, a, b in zip(base.zones.zone_id, zone_objective(demand(base.zones), base.times.seconds),
                       zone_objective(demand(late.zones), late.times.seconds), strict=True):
        assert by_zone[z] == (pytest.approx(a), pytest.approx(b))
    saved = [a for a, d in _actions() if a == "scenario_saved"]
    assert len(saved) == 2
    # reopen the first: the suspensions come back with it
    box = at.selectbox(key="sb_reopen")
    box.select_index(len(box.options) - 1).run()
    at.button(key="sb_open").click().run()
    _ok(at)
    assert _metrics(at)["Zones with a gap"] == "6"
    assert "42 suspended" in " ".join(c.value for c in at.caption)


def test_criticality_page_and_random_sets(demo_env) -> None:
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("pages/criticality.py").run()
    _ok(at)
    table = at.dataframe[0].value
    assert len(table) == 15
    assert list(table["objective_lost"]) == sorted(table["objective_lost"], reverse=True)
    at.number_input(key="crit_runs").set_value(20).run()
    at.button(key="crit_sweep").click().run()
    _ok(at)
    summary = at.dataframe[-1].value
    assert set(summary["figure"]) >= {"objective", "zones_with_gap", "officers_short"}
    steps = [d.get("step") for a, d in _actions()
             if a == "scenario_run" and d.get("page") == "criticality"]
    assert "random" in steps
