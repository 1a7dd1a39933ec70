"""The planning desk: saved with its suspensions and temporary zones and reopened; a temporary
zone's coverage against networkx; drawings read; closures; random outcomes and histogram."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pytest
import shapely

from coverage.engine.analysis import analyse
from coverage.errors import DataError
from coverage.planning.desk import (
    Desk,
    TemporaryZone,
    add_closures,
    add_zone,
    apply_plan,
    close_named_roads,
    comparable,
    deploy_reserve,
    desk_body,
    desk_coverage,
    desk_from_body,
    drawn_area,
    drawn_shapes,
    outcome_histogram,
    random_outcomes,
    road_names,
    with_delays,
)
from coverage.planning.scenario import Scenario, apply_scenario
from tests.support.planning_cases import random_case


def _box_around(case, nodes: list[int], r: float = 0.0003) -> str:
    xy = {int(i): (float(x), float(y)) for i, x, y in zip(
        case.ds.network.node_id, case.ds.network.lon, case.ds.network.lat, strict=True)}
    return shapely.union_all([shapely.box(xy[v][0] - r, xy[v][1] - r, xy[v][0] + r,
                                          xy[v][1] + r) for v in nodes]).wkt


def test_body_round_trip_keeps_suspensions_and_zones() -> None:
    zone = TemporaryZone("TMP-1", "Procession", "POLYGON ((71 34, 71.1 34, 71.1 34.1, 71 34))",
                         priority=1, target_min=5.0, min_officers=2)
    desk = Desk(Scenario(name="Friday", remove=("U1", "U0"), turnout_s=30,
                         closed_roads=((2, 1),)), threshold_min=8.0, zones=(zone,),
                label="x")
    again = desk_from_body(json.dumps(desk_body(desk)))
    assert again == desk
    assert again.scenario.remove == ("U0", "U1")
    tampered = desk_body(desk) | {"sha256": "0" * 64}
    with pytest.raises(DataError, match="sha256 does not match"):
        desk_from_body(json.dumps(tampered))
    with pytest.raises(DataError, match="not valid JSON"):
        desk_from_body("{")
    with pytest.raises(DataError, match="wkt: draw the zone as a polygon"):
        TemporaryZone("T", "t", "POINT (71 34)")


def test_temporary_zone_coverage_against_networkx(tmp_path: Path) -> None:
    case = random_case(4, tmp_path)
    ids = sorted(case.D.nodes)[:4]
    zone = TemporaryZone("TMP", "Event", _box_around(case, ids), priority=1, target_min=1.0,
                         min_officers=1)
    desk = add_zone(Desk(Scenario(remove=("U0",)), threshold_min=10.0), zone)
    before, after = desk_coverage(case.ds, desk)
    assert before is after  # nothing but suspensions and zones
    row = after.table.set_index("zone_id").loc["TMP"]
    units = [case.units[u] for u in case.units if u != "U0"]
    dist = nx.multi_source_dijkstra_path_length(case.D, set(units), weight="w")
    covered = sum(1 for v in ids if dist.get(v, math.inf) <= 60.0)
    assert row["nodes"] == len(ids)
    assert row["covered_share"] == pytest.approx(covered / len(ids))
    assert after.suspended == ("U0",)
    with pytest.raises(DataError, match="already used"):
        desk_coverage(case.ds, add_zone(desk, TemporaryZone("Z0", "dup", zone.wkt)))


def test_scenario_edits_equal_apply_scenario(tmp_path: Path) -> None:
    case = random_case(6, tmp_path, n_reserves=2)
    desk = Desk(Scenario(remove=("U0",)), threshold_min=10.0)
    base = analyse(case.ds, suspended=["U0"])
    area = _box_around(case, [sorted(case.D.nodes)[5]])
    net = case.ds.network
    changed = with_delays(deploy_reserve(add_closures(desk, [area], [[
        (float(net.lon[0]), float(net.lat[0])), (float(net.lon[1]), float(net.lat[1]))]]),
        "R0", float(net.lon[3]), float(net.lat[3])), 20.0, ["U1"], 45.0)
    s = changed.scenario
    assert s.closed_areas
    assert s.turnout_s == 20.0
    assert dict(s.unit_turnout_s) == {"U1": 45.0}
    assert [d.officer_id for d in s.deploy] == ["R0"]
    assert len(s.closed_areas) == 2  # the area and the strip along the line
    strip = shapely.from_wkt(s.closed_areas[1])
    assert strip.contains(shapely.Point(float(net.lon[0]), float(net.lat[0])))
    _, after = desk_coverage(case.ds, changed)
    direct = apply_scenario(base, Scenario(closed_areas=s.closed_areas,
                                           closed_roads=s.closed_roads,
                                           deploy=s.deploy, turnout_s=20.0,
                                           unit_turnout_s=s.unit_turnout_s))
    assert list(after.times.seconds) == list(direct.times.seconds)


def test_close_named_roads(tiny_inputs) -> None:
    from coverage.data.dataset import load_dataset

    p = tiny_inputs
    ds = load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
    cov = analyse(ds)
    names = road_names(cov)
    assert names == sorted(names)
    assert "" not in names
    net = ds.network
    name = names[0]
    expected = {tuple(sorted((int(net.node_id[u]), int(net.node_id[v]))))
                for u, v, n in zip(net.edge_u, net.edge_v, net.name, strict=True) if n == name}
    desk = close_named_roads(Desk(Scenario()), cov, [name])
    assert set(desk.scenario.closed_roads) == expected
    desk_coverage(ds, desk)  # every pair names a real road


def test_apply_plan_twice_keeps_one_site_per_officer() -> None:
    from coverage.planning.scenario import Deployment

    desk = Desk(Scenario(remove=("U0",), deploy=(Deployment("R0", node_id=1),),
                         unit_turnout_s=(("R0", 5.0),)))
    plan = Scenario(deploy=(Deployment("R0", node_id=7), Deployment("U2", node_id=3)),
                    unit_turnout_s=(("U2", 9.0),))
    out = apply_plan(desk, plan, label="p")
    assert {d.officer_id: d.node_id for d in out.scenario.deploy} == {"R0": 7, "U2": 3}
    assert dict(out.scenario.unit_turnout_s) == {"R0": 5.0, "U2": 9.0}
    assert out.scenario.remove == ("U0",)
    assert apply_plan(out, plan, label="again").scenario.deploy == out.scenario.deploy


def test_drawn_shapes_and_comparable() -> None:
    features = [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [
            [[71, 34], [71.1, 34], [71.1, 34.1], [71, 34]]]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [71.2, 34.2]}},
        {"type": "Feature", "geometry": {"type": "LineString",
                                         "coordinates": [[71, 34], [71.3, 34.3]]}},
        {"type": "Feature", "geometry": None}, {"nonsense": 1},
    ]
    polygons, points, lines = drawn_shapes(features)
    assert len(polygons) == 1
    assert points == [(71.2, 34.2)]
    assert lines == [((71.0, 34.0), (71.3, 34.3))]
    assert drawn_shapes(None) == ([], [], [])
    area = drawn_area(features)
    assert area.equals(shapely.Polygon([(71, 34), (71.1, 34), (71.1, 34.1)]))
    assert drawn_area([features[1]]) is None
    z1 = TemporaryZone("A", "a", polygons[0])
    z2 = TemporaryZone("B", "b", polygons[0])
    a, b = comparable(Desk(Scenario(), zones=(z1,)), Desk(Scenario(), zones=(z2,)))
    assert [z.zone_id for z in a.zones] == [z.zone_id for z in b.zones] == ["A", "B"]


def test_random_outcomes_equal_full_runs(tmp_path: Path) -> None:
    case = random_case(2, tmp_path, n_units=6)
    cov = analyse(case.ds)
    outcomes = list(random_outcomes(cov, 12, 2, seed=1))
    assert len(outcomes) == 12
    for o in outcomes[:4]:
        full = analyse(case.ds, suspended=list(o.removed))
        assert o.zones_with_gap == full.overall.zones_with_gap
        assert o.officers_short == full.overall.officers_short
    hist = outcome_histogram(outcomes, bins=5)
    assert hist["runs"].sum() == 12
    assert outcome_histogram([]).empty
