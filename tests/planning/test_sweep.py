"""Sweeps: outcomes equal full runs, and local processes, Dask and in-process agree."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from coverage.cli.main import main
from coverage.engine.analysis import analyse
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
