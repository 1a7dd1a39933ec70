"""Briefing: key figures before/after, scenario text, top gaps and officer redaction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from coverage import analyse, load_dataset, report_dict, suspend
from coverage.briefing.brief import (
    DISPLACE_MAX_M,
    DISPLACE_MIN_M,
    build_brief,
    displace,
    extent,
    figure_rows,
    officer_points,
    scenario_text,
)
from tests.support.tiny import haversine_m, write

PKT = timezone(timedelta(hours=5))
B_OWN = (71.502, 34.001)  # officer B's own position in tiny_inputs


@pytest.fixture
def runs(tiny_inputs):
    p = tiny_inputs
    ds = load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
    base = analyse(ds)
    return base, suspend(base, ["B"])


def test_key_figures_match_the_report(runs) -> None:
    base, scen = runs
    brief = build_brief(scen, baseline=base, suspension_source="suspend.csv",
                        created=datetime(2026, 11, 25, 8, 0, tzinfo=PKT))
    for run, k in ((base, brief.before), (scen, brief.after)):
        rep = report_dict(run)
        assert k.available_units == rep["units"]["available"]
        assert k.zones_with_gap == rep["overall"]["zones_with_gap"]
        assert k.covered_share == pytest.approx(rep["overall"]["covered_share"])
        assert k.worst_zone == rep["overall"]["worst_zone"]
    assert (brief.before.available_units, brief.after.available_units) == (3, 2)
    assert brief.created_iso == "2026-11-25T08:00:00+05:00"
    assert brief.scenario.startswith("1 officer suspended (list: suspend.csv); threshold 10 min")
    assert brief.sources["suspension list"] == "suspend.csv"
    assert brief.sources["roads"] == "tiny.osm"


def test_figure_rows_text(runs) -> None:
    base, scen = runs
    brief = build_brief(scen, baseline=base)
    rows = {r[0]: r[1:] for r in figure_rows(brief.before, brief.after)}
    assert rows["Available units"] == ("3", "2")
    assert rows["Zones with a gap"] == ("1 of 2", "1 of 2")
    assert rows["Zone nodes covered"][1] == f"{scen.overall.covered_share:.1%}"
    assert rows["Worst zone p90"][1] == "unreachable (Z1)"


def test_scenario_text() -> None:
    assert scenario_text(42, 10, "suspended_42.csv").startswith(
        "42 officers suspended (list: suspended_42.csv); threshold 10 min")
    assert scenario_text(0, 7.5).startswith("No officers suspended; threshold 7.5 min")


def test_top_gaps_follow_gap_order(runs) -> None:
    _, scen = runs
    gaps = build_brief(scen).top_gaps
    assert list(gaps["zone_id"]) == [str(z) for z in scen.gaps["zone_id"]]
    assert gaps.loc[0, "name"] == "East <script>"  # plain text here; writers escape it
    assert gaps.loc[0, "officers"] == "0 / 2"
    assert gaps.loc[0, "p90"] == "unreachable"


def test_baseline_is_computed_when_not_given(runs) -> None:
    base, scen = runs
    brief = build_brief(scen)
    assert brief.before == build_brief(base).after


def test_stations_mode_counts_officers_at_stations(runs) -> None:
    _, scen = runs
    pts = officer_points(scen, redact="stations")
    assert list(pts["station_id"]) == ["S1", "S2"]
    assert list(pts["on_duty"]) == [1, 1]  # A (B suspended); D
    assert list(pts["suspended"]) == [1, 0]
    assert list(pts["reserve"]) == [0, 1]
    assert int(pts["officers"].sum()) == 5
    st = scen.dataset.stations.set_index("station_id").geometry
    assert all(p.equals(st[s]) for s, p in zip(pts["station_id"], pts.geometry, strict=True))
    assert not {"lat", "lon", "officer_id", "name"} & set(pts.columns)


def test_displace_moves_every_point_within_the_documented_band() -> None:
    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(71.4, 71.8, 300), rng.uniform(33.7, 34.2, 300)
    x, y = displace(lon, lat, seed=7)
    d = np.array([haversine_m(a, b, c, e) for a, b, c, e in zip(lon, lat, x, y, strict=True)])
    assert d.min() >= DISPLACE_MIN_M * 0.999
    assert d.max() <= DISPLACE_MAX_M * 1.001
    again = displace(lon, lat, seed=7)
    assert np.array_equal(x, again[0])
    assert not np.array_equal(x, displace(lon, lat, seed=8)[0])


def test_displace_mode_never_keeps_an_exact_position(runs) -> None:
    _, scen = runs
    true = scen.dataset.officers.set_index("officer_id").geometry
    pts = officer_points(scen, redact="displace", seed=3)
    assert len(pts) == 5
    for oid, p in zip(pts["officer_id"], pts.geometry, strict=True):
        d = haversine_m(true[oid].x, true[oid].y, p.x, p.y)
        assert DISPLACE_MIN_M * 0.999 <= d <= DISPLACE_MAX_M * 1.001
    assert set(pts["place"]) == {"displaced 250-600 m"}
    assert not {"lat", "lon"} & set(pts.columns)


def test_none_mode_is_exact(runs) -> None:
    _, scen = runs
    pts = officer_points(scen, redact="none").set_index("officer_id")
    assert (pts.geometry["B"].x, pts.geometry["B"].y) == B_OWN
    assert pts.loc["B", "status"] == "suspended"


def test_bad_arguments(runs) -> None:
    _, scen = runs
    with pytest.raises(ValueError, match="redact must be one of"):
        officer_points(scen, redact="blur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        build_brief(scen, created=datetime(2026, 1, 1))


def test_extent_ignores_officers(tiny_inputs, runs, tmp_path) -> None:
    p = tiny_inputs
    north = write(tmp_path / "north.csv",
                  "officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
                  "A,Officer A,Constable,S1,on_duty,34.004,71.5025,2026-11-25T08:00:00+05:00\n")
    cov = analyse(load_dataset(p["roads"], p["stations"], p["zones"], north))
    box = extent(cov)
    assert box == extent(runs[0])
    assert box[3] < 34.004  # the officer north of every zone and station is outside
    brief = build_brief(cov)
    assert brief.district == extent(cov, pad=0.02)
    assert brief.district[3] < 34.004
    # the view frames the zones with a gap (here Z1 alone), padded a quarter (>= 0.002 deg)
    z1 = cov.dataset.zones.loc[cov.dataset.zones["zone_id"] == "Z1"].total_bounds
    assert list(cov.gaps["zone_id"]) == ["Z1"]
    dx, dy = max((z1[2] - z1[0]) * 0.25, 0.002), max((z1[3] - z1[1]) * 0.25, 0.002)
    assert brief.extent == pytest.approx((z1[0] - dx, z1[1] - dy, z1[2] + dx, z1[3] + dy))
