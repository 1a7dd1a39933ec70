"""Expected coverage under refusal risk in the briefing exports (issue 13).

The tiny district (tests/conftest.py): S1 with A and B on duty, S2 with reserve C, D on duty
and E off duty; B is suspended in the scenario. Hand-made events give S1 three refusals in 90
days (critical: p 0.3); S2 is ok (p 0.02).
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from coverage import analyse, load_dataset, suspend
from coverage.briefing.brief import build_brief, expected_figures, figure_rows, top_gaps
from coverage.briefing.export import export_html, export_pdf, map_page
from coverage.data.personnel import read_events, read_resources
from coverage.planning.expected import expected_coverage
from coverage.planning.readiness import readiness, unit_refusal_p
from tests.support.tiny import write

WHEN = datetime(2026, 11, 25, 8, 0, tzinfo=timezone(timedelta(hours=5)))
NOTE = "<b>no vest</b> secret-note"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SECCOV_TILES_URL", "SECCOV_PNG_RENDERER", "SECCOV_CHROMIUM"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def files(tiny_inputs: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    events = write(tmp_path / "events.csv",
                   "officer_id,date,kind,days,note\n"
                   f"A,2026-11-25,refusal,,\"{NOTE}\"\n"
                   "A,2026-11-01,refusal,,\n"
                   "B,2026-10-01,refusal,,\n"
                   "E,2026-11-20,absence,2,\n")
    resources = write(tmp_path / "resources.csv",
                      "station_id,item,on_hand,per_officer\nS1,vest,2,\nS2,vest,2,\n")
    return {**tiny_inputs, "events": events, "resources": resources}


@pytest.fixture
def runs(files):
    p = files
    ds = load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
    base = analyse(ds)
    return base, suspend(base, ["B"])


def personnel(files, ds):
    return read_events(files["events"], ds.officers), read_resources(files["resources"],
                                                                     ds.stations)


def independent(cov, events, resources):
    """expected_coverage straight from the planning layer, as the report computes it."""
    ds = cov.dataset
    r = readiness(ds.stations, ds.officers, events, resources, suspended=cov.suspended)
    return expected_coverage(cov, unit_refusal_p(r, cov.units.station_id))


def make(files, runs, **kw):
    base, after = runs
    events, resources = personnel(files, after.dataset)
    ex = expected_figures(after, events, resources, baseline=base, **kw)
    brief = build_brief(after, baseline=base, expected=ex, created=WHEN, seed=1,
                        suspension_source="suspend.csv")
    return brief, ex, events, resources


def test_figures_equal_expected_coverage_computed_independently(files, runs) -> None:
    base, after = runs
    brief, ex, events, resources = make(files, runs)
    assert brief.expected is ex
    want_after = independent(after, events, resources)
    want_base = independent(base, events, resources)
    assert ex.after_objective == want_after.objective
    assert ex.after_expected == pytest.approx(want_after.expected_objective, abs=1e-12)
    assert ex.before_objective == want_base.objective
    assert ex.before_expected == pytest.approx(want_base.expected_objective, abs=1e-12)
    share = dict(zip(want_after.zones["zone_id"], want_after.zones["expected_covered_share"],
                     strict=True))
    assert dict(ex.zone_share) == pytest.approx(share)
    # by hand: Z2's node 1 is reached only by A (S1, critical, p 0.3) once B is suspended,
    # and by A and B before
    assert ex.zone_share["Z2"] == pytest.approx(0.7)
    assert want_base.zones.set_index("zone_id").loc["Z2", "expected_covered_share"] == (
        pytest.approx(1 - 0.3 * 0.3))
    assert ex.as_of.isoformat() == "2026-11-25"
    assert dict(ex.refusal_p) == {"ok": 0.02, "warning": 0.1, "critical": 0.3}
    # the key figures carry both objectives, baseline and scenario
    rows = figure_rows(brief.before, brief.after, brief.expected)
    assert rows[:5] == figure_rows(brief.before, brief.after)
    assert rows[5] == ("Objective", f"{want_base.objective:,.0f}",
                       f"{want_after.objective:,.0f}")
    assert rows[6] == ("Expected objective (refusal risk)",
                       f"{want_base.expected_objective:,.1f}",
                       f"{want_after.expected_objective:,.1f}")
    # every listed gap zone carries its expected share
    g = brief.top_gaps
    assert len(g) >= 1
    assert list(g["expected"]) == [f"{share[z]:.1%}" for z in g["zone_id"]]


def test_refusal_p_and_as_of_are_passed_through(files, runs) -> None:
    base, after = runs
    events, resources = personnel(files, after.dataset)
    zero = expected_figures(after, events, resources, baseline=base, refusal_p={
        "ok": 0.0, "warning": 0.0, "critical": 0.0})
    assert zero.after_expected == zero.after_objective  # p = 0: the plain figures exactly
    assert zero.before_expected == zero.before_objective
    early = expected_figures(after, events, resources, baseline=base,
                             as_of=datetime(2026, 10, 31).date())
    assert early.as_of.isoformat() == "2026-10-31"
    assert "as of 2026-10-31" in early.note


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_pdf_carries_the_expected_figures(files, runs) -> None:
    brief, ex, _, _ = make(files, runs)
    text = pdf_text(export_pdf(brief, renderer="matplotlib"))
    assert (f"Expected objective (refusal risk) {ex.before_expected:,.1f} "
            f"{ex.after_expected:,.1f}") in text
    assert f"Objective {ex.before_objective:,.0f} {ex.after_objective:,.0f}" in text
    assert "Zone Name Priority Target Covered Expected p90 Officers" in text
    assert "as of 2026-11-25" in text
    for z in brief.top_gaps["zone_id"]:
        assert f"{ex.zone_share[z]:.1%}" in text
    # station aggregates only: no note, no officer name
    assert "secret-note" not in text
    assert "Officer A" not in text


def panel_data(page: str) -> dict:
    """The JSON the panel is built from (``_Overlay``'s data, rendered with tojson)."""
    m = re.search(r"\}\)\([^,]+, (\{\"created\".*?\})\);\n", page, re.S)
    assert m, "panel data not found"
    return json.loads(m.group(1))


def test_html_panel_carries_the_expected_figures(files, runs) -> None:
    brief, ex, _, _ = make(files, runs)
    page = export_html(brief).decode("utf-8")
    d = panel_data(page)
    assert ["Expected objective (refusal risk)", f"{ex.before_expected:,.1f}",
            f"{ex.after_expected:,.1f}"] in d["rows"]
    assert d["gaps"][0] == ["Zone", "P", "Covered", "Expected", "Officers"]
    listed = [row[3] for row in d["gaps"][1:]]
    assert listed == [f"{ex.zone_share[z]:.1%}" for z in brief.top_gaps["zone_id"]]
    assert d["expectedNote"] == ex.note
    assert "secret-note" not in page
    assert "Officer A" not in page  # officers are station counts


def test_without_events_the_exports_are_unchanged(files, runs) -> None:
    base, after = runs
    brief = build_brief(after, baseline=base, created=WHEN, seed=1,
                        suspension_source="suspend.csv")
    assert brief.expected is None
    assert list(brief.top_gaps.columns) == list(top_gaps(after).columns) == [
        "zone_id", "name", "priority", "target", "covered", "p90", "officers"]
    assert brief.top_gaps.equals(top_gaps(after, n=10))
    d = panel_data(map_page(brief, panel=True))
    assert d["gaps"][0] == ["Zone", "P", "Covered", "Officers"]
    assert [r[0] for r in d["rows"][1:]] == [r[0] for r in figure_rows(brief.before,
                                                                       brief.after)]
    assert len(d["rows"]) == 6
    assert "expectedNote" not in d
    text = pdf_text(export_pdf(brief, renderer="matplotlib"))
    assert "Expected" not in text
    assert "Objective" not in text
    assert "Covered: share of the zone's road nodes" in text
