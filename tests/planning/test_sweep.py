"""Sweeps: outcomes equal full runs, and local processes, Dask and in-process agree."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from coverage.cli.main import main
from coverage.engine.analysis import analyse
from coverage.engine.metrics import demand, within_target
from coverage.engine.traveltime import without_units
from coverage.errors import DataError
from coverage.planning.criticality import criticality
from coverage.planning.sweep import evaluate, random_suspensions, run_sweep, sweep, sweep_model
from tests.support.planning_cases import random_case, reference_objective


@pytest.fixture
def case(tmp_path: Path):
    return random_case(5, tmp_path, n_units=8)


def test_outcome_equals_full_run(case) -> None:
    cov = analyse(case.ds)
    model = sweep_model(cov)
    rng = random.Random(1)
    for _ in range(6):
        removed = rng.sample(sorted(case.units), rng.randint(0, 8))
        out = evaluate(model, removed)
        full = analyse(case.ds, suspended=removed)
        rest = [v for o, v in case.units.items() if o not in removed]
        assert out.objective == pytest.approx(reference_objective(case, rest))
        assert (out.zones_with_gap, out.officers_short) == (
            full.overall.zones_with_gap, full.overall.officers_short)
        assert out.covered_share == pytest.approx(full.overall.covered_share)


def test_executors_agree(case) -> None:
    from distributed import LocalCluster

    model = sweep_model(analyse(case.ds))
    jobs = [(o,) for o in sorted(case.units)] + random_suspensions(model, 12, 3, seed=4)
    inline = run_sweep(model, jobs, workers=0)
    assert run_sweep(model, jobs, workers=2, batch=3) == inline
    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        assert run_sweep(model, jobs, dask=cluster.scheduler_address, batch=4) == inline
    assert [o.removed for o in inline] == jobs


def test_sweep_matches_criticality(case) -> None:
    cov = analyse(case.ds)
    sw = sweep(cov, runs=5, size=3, seed=2, workers=0)
    crit = criticality(cov).table.set_index("officer_id")["objective_lost"]
    got = sw.criticality.set_index("officer_id")["objective_lost"]
    assert got.sort_index().tolist() == pytest.approx(crit.sort_index().tolist())
    assert sw.baseline.objective_lost == 0.0
    assert len(sw.random) == 5
    assert all(len(r.split(",")) == 3 for r in sw.random["removed"])


def test_random_suspensions_are_seeded(case) -> None:
    model = sweep_model(analyse(case.ds))
    a = random_suspensions(model, 20, 4, seed=7)
    assert a == random_suspensions(model, 20, 4, seed=7)
    assert a != random_suspensions(model, 20, 4, seed=8)
    assert all(len(set(s)) == 4 and list(s) == sorted(s) for s in a)
    with pytest.raises(DataError, match=r"size in 0\.\.8"):
        random_suspensions(model, 1, 9)


def test_cli_json(tiny_inputs, capsys) -> None:
    p = tiny_inputs
    assert main(["-q", "sweep", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
                 "--zones", str(p["zones"]), "--officers", str(p["officers"]),
                 "--random-suspensions", "4", "--size", "2", "--workers", "0",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["baseline"]["objective"] == 12
    assert out["officers"] == 3
    assert out["criticality"][0] == {"officer_id": "B", "objective": 6, "objective_lost": 6,
                                     "covered_share": 0.5, "zones_with_gap": 1,
                                     "officers_short": 2}
    assert out["random"]["runs"] == 4
    assert set(out["random"]["objective"]) == {"min", "p5", "p25", "p50", "p75", "p95", "max",
                                               "mean"}
    assert len(out["outcomes"]) == 4


def whole_network_outcome(cov, removed: list[str]) -> tuple:
    """The old evaluation: a removal over the whole network, every demand item re-read."""
    d = demand(cov.zones)
    tt = cov.times
    after = without_units(tt, removed)
    hit = after.seconds[d.node] / 60.0 <= d.target_min
    before = tt.seconds[d.node] / 60.0 <= d.target_min
    counts = within_target(cov.zones, cov.reach_s, tt.unit_nodes, tt.delay_s)
    drop = np.isin(np.asarray(tt.unit_ids, dtype=object), np.asarray(removed, dtype=object))
    within = counts.sum(axis=1) - counts[:, drop].sum(axis=1)
    need = np.asarray(cov.zones.min_officers, dtype=np.int64)
    missing = np.bincount(d.zone[~hit], minlength=len(within))
    value = float(d.weight[hit].sum())
    return (value, float(d.weight[before].sum()) - value,
            float(hit.mean()) if hit.size else 0.0,
            int(((missing > 0) | (within < need)).sum()), int(np.maximum(need - within, 0).sum()))


@pytest.mark.parametrize("seed", range(6))
def test_area_evaluation_equals_whole_network_evaluation(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=8)
    cov = analyse(case.ds)
    model = sweep_model(cov)
    assert model.times.network.lon.size == 0  # the slim model carries no geometry
    rng = random.Random(seed)
    for k in range(10):
        removed = rng.sample(sorted(case.units), k % 9)
        out = evaluate(model, removed)
        assert (out.objective, out.objective_lost, out.covered_share, out.zones_with_gap,
                out.officers_short) == whole_network_outcome(cov, removed)


def test_random_sets_only(case) -> None:
    cov = analyse(case.ds)
    both = sweep(cov, runs=4, size=2, seed=3, workers=0)
    only = sweep(cov, runs=4, size=2, seed=3, workers=0, singles=False)
    assert only.criticality.empty
    assert only.random.equals(both.random)
    assert only.baseline == both.baseline
