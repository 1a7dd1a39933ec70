"""Per-district figures equal an independent count and sum to the run's overall figures."""

from __future__ import annotations

import random

import pytest

from coverage.data.districts import districts_of
from coverage.engine.analysis import analyse, suspend
from coverage.engine.rollup import district_figures
from tests.support.planning_cases import random_case
from tests.support.tiny import haversine_m


@pytest.mark.parametrize("seed", range(6))
def test_district_figures_equal_an_independent_count(tmp_path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=10, n_zones=6, n_stations=5)
    rng = random.Random(seed)
    ds = case.ds
    names = {s: rng.choice(["North", "South", "East"]) for s in ds.stations["station_id"]}
    cov = analyse(ds)
    off = sorted(ds.officers.loc[ds.officers["status"] == "on_duty", "officer_id"])
    cov = suspend(cov, rng.sample(off, 2))
    figures = district_figures(cov, districts_of(ds.stations, ds.zones, names))

    # independently: stations by name, zones by brute-force nearest station, officers by
    # their roster row (on duty and not suspended), per-zone figures summed by hand
    st_xy = {s: (g.x, g.y) for s, g in zip(ds.stations["station_id"], ds.stations.geometry,
                                            strict=True)}
    zone_d = {}
    for zid, geom in zip(ds.zones["zone_id"], ds.zones.geometry, strict=True):
        p = geom.representative_point()
        nearest = min(st_xy, key=lambda s: haversine_m(p.x, p.y, *st_xy[s]))
        zone_d[zid] = names[nearest]
    rows = {r["zone_id"]: r for r in cov.table.to_dict("records")}
    for r in figures.to_dict("records"):
        d = r["district"]
        avail = [o for o, s, stat in zip(ds.officers["officer_id"], ds.officers["station_id"],
                                         ds.officers["status"], strict=True)
                 if stat == "on_duty" and o not in cov.suspended and names[s] == d]
        zones = [z for z, n in zone_d.items() if n == d]
        assert r["available"] == len(avail)
        assert r["stations"] == sum(n == d for n in names.values())
        assert r["zones"] == len(zones)
        assert r["zones_with_gap"] == sum(bool(rows[z]["gap"]) for z in zones)
        assert r["officers_short"] == sum(max(0, rows[z]["min_officers"]
                                              - rows[z]["officers_within_target"])
                                          for z in zones)
    assert figures["available"].sum() == len(cov.units)
    assert figures["zones"].sum() == cov.overall.zones
    assert figures["zones_with_gap"].sum() == cov.overall.zones_with_gap
    assert figures["officers_short"].sum() == cov.overall.officers_short


def test_without_districts_one_row_holds_the_overall_figures(dataset) -> None:
    cov = analyse(dataset, threshold_min=10)
    one = district_figures(cov, districts_of(dataset.stations, dataset.zones))
    assert one["district"].tolist() == ["All"]
    row = one.iloc[0]
    assert (row["available"], row["zones"], row["zones_with_gap"], row["officers_short"]) == (
        len(cov.units), cov.overall.zones, cov.overall.zones_with_gap,
        cov.overall.officers_short)
    assert row["covered_share"] == pytest.approx(cov.overall.covered_share)
