"""Criticality: hand-checked on the tiny district and equal to brute-force removals."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import pytest

from coverage.data.dataset import load_dataset
from coverage.engine.analysis import analyse
from coverage.engine.metrics import covered, demand
from coverage.engine.traveltime import without_units
from coverage.planning.criticality import (
    TABLE_COLUMNS,
    criticality,
    criticality_dict,
    criticality_layer,
)
from tests.support.planning_cases import random_case, reference_objective
from tests.support.tiny import haversine_m

T13 = (haversine_m(71.5, 34, 71.501, 34) + haversine_m(71.501, 34, 71.502, 34)) / 20 * 3.6
T43 = haversine_m(71.502, 34, 71.502, 34.001) / 15 * 3.6
T35 = haversine_m(71.502, 34, 71.503, 34) / (30 * 1.609344) * 3.6


@pytest.fixture
def crit(tiny_inputs: dict[str, Path]):
    p = tiny_inputs
    return criticality(analyse(load_dataset(p["roads"], p["stations"], p["zones"],
                                            p["officers"])))


def test_tiny_by_hand(crit) -> None:
    assert T43 + T35 > 30  # so nobody but D reaches node 5 within Z1's 0.5 min
    assert crit.objective == 12.0  # Z1: nodes 3, 4, 5 x 3; Z2: node 1 x 3
    t = crit.table.set_index("officer_id")
    assert list(crit.table["officer_id"]) == ["B", "D", "A"]
    assert list(crit.table.columns) == list(TABLE_COLUMNS)
    # B alone covers nodes 3 (A needs 33.2 s) and 4 (nobody else gets there)
    assert (t.loc["B", "objective_lost"], t.loc["B", "nodes_lost"]) == (6.0, 2)
    assert t.loc["B", "zones_lost"] == "Z1"
    assert t.loc["B", "officers_short_added"] == 1  # Z1 already short: 1 of 2
    assert (t.loc["D", "objective_lost"], t.loc["D", "nodes_lost"]) == (3.0, 1)
    assert t.loc["A", "objective_lost"] == 0.0  # B reaches node 1 in T43 + T13 < 10 min
    assert t.loc["A", "objective_served"] == 3.0
    sole = crit.single_points
    assert sole[["zone_id", "officer_id", "kind", "nodes"]].values.tolist() == [
        ["Z1", "B", "sole_cover", 2], ["Z1", "D", "sole_cover", 1]]
    pairs = crit.pairs[["officer_a", "officer_b", "objective_lost", "extra_lost",
                        "officers_short_added"]].values.tolist()
    assert pairs == [["B", "A", 9.0, 3.0, 2], ["B", "D", 9.0, 0.0, 1], ["D", "A", 3.0, 0.0, 0]]


def test_layer_and_dict(crit) -> None:
    layer = criticality_layer(crit)
    assert isinstance(layer, gpd.GeoDataFrame)
    assert layer.crs == "EPSG:4326"
    b = layer.set_index("officer_id").loc["B"]
    assert (b.geometry.x, b.geometry.y) == (71.502, 34.001)
    record = criticality_dict(crit, top=2)
    assert [o["officer_id"] for o in record["officers"]] == ["B", "D"]
    assert record["objective"] == 12


@pytest.mark.parametrize("seed", range(6))
def test_equals_brute_force(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=6)
    cov = analyse(case.ds)
    crit = criticality(cov, top_n=4)
    units = case.units
    base = reference_objective(case, list(units.values()))
    assert crit.objective == pytest.approx(base)
    for row in crit.table.itertuples():
        rest = [v for o, v in units.items() if o != row.officer_id]
        assert row.objective_lost == pytest.approx(base - reference_objective(case, rest))
        full = analyse(case.ds, suspended=[row.officer_id])
        assert row.officers_short_added == full.overall.officers_short - cov.overall.officers_short
    for row in crit.pairs.itertuples():
        rest = [v for o, v in units.items() if o not in (row.officer_a, row.officer_b)]
        assert row.objective_lost == pytest.approx(base - reference_objective(case, rest))
    top = crit.table["officer_id"].head(4).tolist()
    assert len(crit.pairs) == len(list(itertools.combinations(top, 2)))
    losses = crit.table["objective_lost"].tolist()
    assert losses == sorted(losses, reverse=True)


@pytest.mark.parametrize("seed", range(6))
def test_area_removals_equal_whole_network_removals(tmp_path: Path, seed: int) -> None:
    """The fast path (removal over the officer's area) gives exactly the old figures."""
    case = random_case(seed, tmp_path, n_units=8)
    cov = analyse(case.ds)
    crit = criticality(cov, top_n=4)
    dem = demand(cov.zones)
    tt = cov.times
    hit = covered(dem, tt.seconds)
    for row in crit.table.itertuples():
        gone = hit & ~covered(dem, without_units(tt, [row.officer_id]).seconds)
        assert row.objective_lost == float(dem.weight[gone].sum())
        assert row.nodes_lost == int(gone.sum())
    for row in crit.pairs.itertuples():
        gone = hit & ~covered(dem, without_units(tt, [row.officer_a, row.officer_b]).seconds)
        assert row.objective_lost == float(dem.weight[gone].sum())
