"""Removals proportional to the removed areas: equal to a full run and to networkx."""

from __future__ import annotations

import random

import numpy as np
import pytest

from coverage.engine.traveltime import removal, travel_times, without_units
from tests.engine.test_reach import geo_grid
from tests.engine.test_traveltime import random_network, reference


@pytest.mark.parametrize("seed", range(12))
def test_removal_touches_only_the_removed_areas(seed: int) -> None:
    net, D = geo_grid(seed, side=14) if seed % 2 else random_network(seed)
    rng = random.Random(seed)
    nodes = [rng.randrange(net.n_nodes) for _ in range(10)]
    nodes[3] = nodes[2]  # two units on one node
    ids = [f"u{k}" for k in range(len(nodes))]
    delays = [rng.choice([0.0, 0.0, 30.0, 90.0]) for _ in nodes] if seed % 3 else None
    tt = travel_times(net, ids, nodes, delay_s=delays)
    gone = [*rng.sample(ids, 1 + seed % 4), "nobody"]
    change = removal(tt, gone)
    out = {ids.index(g) for g in gone if g in ids}
    assert change.removed.tolist() == sorted(out)
    want_area = np.flatnonzero(np.isin(tt.nearest, sorted(out)))
    np.testing.assert_array_equal(change.nodes, want_area)
    kept = [k for k in range(len(ids)) if k not in out]
    full = travel_times(net, [ids[k] for k in kept], [nodes[k] for k in kept],
                        delay_s=None if delays is None else [delays[k] for k in kept])
    np.testing.assert_array_equal(change.seconds, full.seconds[change.nodes])
    after = without_units(tt, gone)
    np.testing.assert_array_equal(after.seconds, full.seconds)
    if delays is None:
        np.testing.assert_allclose(after.seconds, reference(net, D, [nodes[k] for k in kept]))
    # the nearest unit differs from the full run's only on ties
    got = np.array([tt.unit_ids[u] if u >= 0 else "" for u in change.nearest])
    want = np.array([full.unit_ids[u] if u >= 0 else "" for u in full.nearest[change.nodes]])
    differ = got != want
    if differ.any():
        own = {uid: k for k, uid in enumerate(full.unit_ids)}
        for x in np.flatnonzero(differ):
            assert got[x] in own  # a kept unit, just as fast
    np.testing.assert_array_equal(after.nearest >= 0, full.nearest >= 0)


def test_removing_nothing_or_strangers_changes_nothing() -> None:
    net, _ = random_network(1)
    tt = travel_times(net, ["a", "b"], [0, 5])
    assert without_units(tt, []) is tt
    assert without_units(tt, ["zz"]) is tt
    assert removal(tt, ["zz"]).nodes.size == 0
    everyone = without_units(tt, ["a", "b"])
    assert np.isinf(everyone.seconds).all()
    assert everyone.unreachable == net.n_nodes
