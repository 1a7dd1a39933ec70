"""The sites that can add something: the same sites and counts as asking every site."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverage.engine.analysis import analyse
from coverage.engine.metrics import within_target
from coverage.planning.cover import Sites, candidate_sites, coverage_matrix, useful_sites
from coverage.planning.objective import demand, shortfall
from tests.support.planning_cases import random_case


@pytest.mark.parametrize("seed", range(8))
def test_useful_sites_equal_asking_every_site(tmp_path: Path, seed: int) -> None:
    case = random_case(seed, tmp_path, n_units=2, n_zones=5)
    cov = analyse(case.ds, suspended=["U0"] if seed % 2 else [])
    dem = demand(cov.zones)
    within = cov.table["officers_within_target"].to_numpy(dtype=np.int64)
    short = shortfall(cov.zones, within)
    net = cov.times.network
    rng = np.random.default_rng(seed)
    some = np.sort(rng.choice(net.n_nodes, size=net.n_nodes // 2, replace=False))
    checked_short = 0
    for sites in (candidate_sites(cov, kind="nodes"), candidate_sites(cov),
                  Sites(node=some, label=(), kind="nodes")):
        for turnout_s in (0.0, 20.0):
            delay = np.full(sites.node.size, turnout_s) if turnout_s else None
            cover, _ = coverage_matrix(cov, dem, sites, turnout_s=turnout_s)
            every = within_target(cov.zones, cov.reach_s, sites.node, delay)
            want = np.flatnonzero((np.diff(cover.indptr) > 0) | every[short > 0].any(axis=0))
            got, counts = useful_sites(cov, sites, cover, short, delay_s=delay)
            assert np.array_equal(got, want)
            assert np.array_equal(counts, every[:, want])
            checked_short += int((short > 0).any() and every[short > 0].any())
    assert seed % 2 == 0 or checked_short  # short zones' anchors in reach were exercised
