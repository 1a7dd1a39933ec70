"""The Readiness page in AppTest: figures on the demo, and the personnel-records boundary.

Planners see station aggregates only: no officer-level records by page, toggle or URL;
command and admin may open them, and every view is in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from coverage.ops import audit
from coverage.ops.store import open_store
from tests.support.tiny import ROOT

PAGE = str(ROOT / "pages" / "readiness.py")


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[None]:
    from ui import state

    monkeypatch.setenv("SECCOV_DEMO", "1")
    monkeypatch.setenv("SECCOV_DEMO_FEED", "0")
    monkeypatch.setenv("SECCOV_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SECCOV_DB", raising=False)
    monkeypatch.delenv("SECCOV_DEMO_ROLE", raising=False)
    monkeypatch.delenv("SECCOV_CACHE_DIR")  # the demo graph compiled by scripts/setup.sh
    monkeypatch.chdir(ROOT)
    state.reset_store()
    yield
    state.reset_store()


def _open(role: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.session_state["demo_role"] = role
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _table(at: AppTest, column: str):
    """The one dataframe on screen with ``column`` (stations: reasons, kit: short, zones:
    expected_pct, personnel records: note), or None."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) <= 1
    return found[0] if found else None


def _viewed(tmp_path) -> list[audit.AuditEntry]:
    from ui import state

    with open_store(state.store_url()) as s:
        return audit.query(s, action="personnel_viewed")


def test_planner_sees_station_aggregates_and_the_incident(demo_env, tmp_path) -> None:
    at = _open("planner")
    assert at.title[0].value == "Readiness"
    figures = _metrics(at)
    # the demo as of the incident day, before the suspensions (geodata/README.md)
    assert (figures["Critical stations"], figures["Warning stations"],
            figures["OK stations"]) == ("10", "11", "9")
    assert figures["Objective"] == "2,300"
    stations = _table(at, "reasons")
    assert list(stations["level"][:3]) == ["critical"] * 3
    assert "refusals_90d 6 >= 3" in stations.set_index("station_id").loc["PS-01", "reasons"]
    assert len(_table(at, "short")) > 0
    # the incident's suspension list: expected coverage falls below the plain figure
    at.toggle(key="rd_suspend").set_value(True).run()
    assert not at.exception, at.exception
    figures = _metrics(at)
    assert figures["Objective"] == "1,862"
    assert figures["Expected objective"] == "1,857.9"
    zones = _table(at, "expected_pct")
    assert zones.iloc[0]["zone_id"] == "Z-08"  # the biggest drop: 100 % -> 97.9 %
    # no officer-level record anywhere for a planner
    assert not [t for t in at.toggle if t.key == "rd_show_records"]
    assert _table(at, "note") is None
    assert any("command and admin roles only" in c.value for c in at.caption)
    assert _viewed(tmp_path) == []


def test_command_opens_personnel_records_and_each_view_is_audited(demo_env, tmp_path) -> None:
    at = _open("command")
    at.selectbox(key="rd_station").set_value("PS-01").run()
    at.toggle(key="rd_show_records").set_value(True).run()
    assert not at.exception, at.exception
    rows = _table(at, "note")
    assert set(rows["kind"]) >= {"refusal", "grievance"}
    assert (rows["kind"] == "refusal").sum() == 6  # PS-01's refusals in 90 days
    assert rows["note"].str.startswith("[synthetic]").all()
    views = _viewed(tmp_path)
    assert len(views) == 1
    assert views[0].user == "demo-command"
    assert views[0].details == {"station_id": "PS-01", "as_of": "2026-11-25",
                                "records": len(rows)}
    at.selectbox(key="rd_station").set_value("PS-02").run()
    # newest first
    assert [v.details["station_id"] for v in _viewed(tmp_path)] == ["PS-02", "PS-01"]


def test_planner_cannot_reach_records_by_url_or_by_calling_the_helper(demo_env) -> None:
    from ui import auth

    # the page opened directly (its URL) by a planner: aggregates, no records toggle
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.session_state[auth.USER_KEY] = auth.Session("pat", "planner", "password")
    at.run()
    assert not at.exception, at.exception
    assert not [t for t in at.toggle if t.key == "rd_show_records"]
    # forcing the toggle's state changes nothing: the page checks the role, not the widget
    at.session_state["rd_show_records"] = True
    at.run()
    assert _table(at, "note") is None
    # a viewer may not open the page at all
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[auth.USER_KEY] = auth.Session("vic", "viewer", "password")
    at.run()
    assert any("not allowed" in e.value for e in at.error)
    assert not at.metric


def test_viewer_has_no_readiness_page(demo_env) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["demo_role"] = "viewer"
    at.run()
    with pytest.raises(ValueError, match="Known pages"):
        at.switch_page(PAGE)


def test_an_uploaded_dataset_brings_its_own_personnel_files(demo_env, tiny_inputs,
                                                            tmp_path) -> None:
    """Without events and resources the page says so; with them it shows their stations."""
    from coverage.ops import workspace
    from ui import state

    base = {r: tiny_inputs[r] for r in ("roads", "stations", "zones", "officers")}
    with open_store(state.store_url()) as s:
        staged = workspace.stage({}, base=base)
        workspace.activate(s, staged.files, name="tiny", user="test")
        staged.cleanup()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["demo_role"] = "planner"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert any("no personnel events and station resources" in i.value for i in at.info)
    assert not at.metric
    events = tmp_path / "ev.csv"
    events.write_text("officer_id,date,kind\nA,2026-11-20,refusal\nB,2026-11-21,refusal\n"
                      "A,2026-11-22,refusal\n")
    resources = tmp_path / "rs.csv"
    resources.write_text("station_id,item,on_hand\nS1,vest,2\nS2,vest,2\n")
    with open_store(state.store_url()) as s:
        staged = workspace.stage({"events": ("events.csv", events.read_bytes()),
                                  "resources": ("resources.csv", resources.read_bytes())},
                                 base=base)
        assert workspace.validate(staged.files).ok
        workspace.activate(s, staged.files, name="tiny with personnel", user="test")
        staged.cleanup()
    state.clear_data_caches()
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    figures = _metrics(at)
    assert (figures["Critical stations"], figures["OK stations"]) == ("1", "1")
    stations = _table(at, "reasons")
    assert stations["station_id"].tolist() == ["S1", "S2"]
    assert stations.iloc[0]["reasons"] == "critical: refusals_90d 3 >= 3"
