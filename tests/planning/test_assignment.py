"""Who goes where: the bounded searches name the same officers and travel times as the
plain rule (nearest free reserve by unbounded road time, ties to the lower id), recomputed
with networkx on random districts, with reserves at stations and at own positions, moves,
kit limits and home stations, and first search limits small enough to need widening."""

from __future__ import annotations

import math
import random
from pathlib import Path

import networkx as nx
import pytest
import shapely

from coverage.engine.analysis import analyse
from coverage.planning import assignment
from coverage.planning.assignment import assign
from coverage.planning.cover import candidate_sites
from tests.support.planning_cases import random_case


def reference(case, pool_ids, pool_node, pool_home, steps, unit_node, kit_left, step_station):
    """(officer, travel seconds) per step, by the plain rule over networkx Dijkstra."""
    back = {}

    def dist(src: int, site: int) -> float:
        if site not in back:
            back[site] = nx.single_source_dijkstra_path_length(case.D.reverse(copy=True), site,
                                                               weight="w")
        return back[site].get(src, math.inf)

    free = list(pool_ids)  # ascending ids
    kit = None if kit_left is None else dict(kit_left)
    out = []
    for rank, (i, site) in enumerate(steps):
        if i >= 0:
            out.append((None, dist(unit_node[i], site)))
            continue
        ok = [r for r in free if (kit is None or kit.get(pool_home[r], 0) > 0)
              and (step_station is None or step_station[rank] in (None, pool_home[r]))]
        best = min(ok, key=lambda r: (dist(pool_node[r], site), r))
        free.remove(best)
        if kit is not None:
            kit[pool_home[best]] -= 1
        out.append((best, dist(pool_node[best], site)))
    return out


@pytest.mark.parametrize("first_limit_s", [0.0, 20.0, 600.0])
@pytest.mark.parametrize("seed", range(8))
def test_assignment_equals_networkx(tmp_path: Path, monkeypatch, seed: int,
                                    first_limit_s: float) -> None:
    monkeypatch.setattr(assignment, "FIRST_LIMIT_S", first_limit_s)
    rng = random.Random(seed)
    # sparse graphs leave some reserves without a road path to some sites
    case = random_case(seed, tmp_path, m=rng.choice([60, 100]), n_stations=4, n_units=4,
                       n_reserves=7)
    cov = analyse(case.ds)
    net = cov.times.network
    sites = candidate_sites(cov, kind="nodes")
    officers = cov.dataset.officers
    pool = officers.loc[officers["status"] == "reserve"].sort_values("officer_id")
    pool = pool.reset_index(drop=True)
    ids = sorted(case.D.nodes)
    node_of = {}
    for r in range(len(pool)):  # about half stand at an own position (a road node)
        oid = str(pool.loc[r, "officer_id"])
        if rng.random() < 0.5:
            v = rng.choice(ids)
            at = int(net.index_of([v])[0])
            pool.loc[r, "geometry"] = shapely.Point(float(net.lon[at]), float(net.lat[at]))
            node_of[oid] = v
        else:
            node_of[oid] = case.stations[str(pool.loc[r, "station_id"])]
    home = dict(zip(pool["officer_id"].astype(str), pool["station_id"].astype(str),
                    strict=True))
    n_moves = rng.randint(0, 2)
    moved_unit = rng.sample(range(len(cov.times.unit_ids)), n_moves)
    n_res = rng.randint(1, len(pool))
    kinds = [-1] * n_res + list(range(n_moves))
    rng.shuffle(kinds)
    pick = [rng.randrange(sites.node.size) for _ in kinds]
    if rng.random() < 0.5:  # several reserves to one site
        pick = [pick[0] if rng.random() < 0.5 else s for s in pick]
    steps = [(i, s, 1.0, 0) for i, s in zip(kinds, pick, strict=True)]
    kit_left = step_station = None
    if seed % 3 == 1:  # kit: each station equips some of its reserves, enough for all steps
        kit_left = dict.fromkeys(home.values(), 0)
        for oid in rng.sample(sorted(home), n_res):
            kit_left[home[oid]] += 1
    elif seed % 3 == 2:  # each reserve step names a home station that has reserves
        homes = iter(rng.sample([home[o] for o in sorted(home)], n_res))
        step_station = [next(homes) if i < 0 and rng.random() < 0.7 else None for i in kinds]
    unit_node = [case.units[cov.times.unit_ids[u]] for u in moved_unit]
    want = reference(case, sorted(home), node_of, home,
                     [(i, int(net.node_id[sites.node[s]])) for i, s, _, _ in steps],
                     unit_node, kit_left, step_station)
    placed, moved = assign(cov, pool, sites, steps, moved_unit,
                           kit_left=None if kit_left is None else dict(kit_left),
                           step_station=step_station)
    got = sorted([*placed, *moved], key=lambda o: o.rank)
    assert [o.rank for o in got] == list(range(1, len(steps) + 1))
    for o, (i, s, _, _), (who, secs) in zip(got, steps, want, strict=True):
        assert o.node_id == int(net.node_id[sites.node[s]])
        if i >= 0:
            assert o.officer_id == cov.times.unit_ids[moved_unit[i]]
            assert o.travel_min == pytest.approx(secs / 60.0)
        else:
            assert o.officer_id == who
            assert o.from_station == home[who]
            if math.isinf(secs):
                assert o.travel_min is None
            else:
                assert o.travel_min == pytest.approx(secs / 60.0)


def test_no_steps_no_orders(tmp_path: Path) -> None:
    case = random_case(0, tmp_path)
    cov = analyse(case.ds)
    assert assign(cov, cov.dataset.officers.iloc[:0], candidate_sites(cov), [], []) == ([], [])
