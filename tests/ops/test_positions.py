"""Live positions: staleness, merging into officers, coverage on live data, the simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest

from coverage.cli.main import main
from coverage.data.dataset import Dataset
from coverage.data.network import RoadNetwork, compile_graph
from coverage.engine.analysis import analyse
from coverage.errors import DataError
from coverage.ops.positions import LIVE_COLUMNS, latest_positions, merge_live
from coverage.ops.simulate import _roads, simulate_feed, simulate_records
from coverage.ops.store import Position, Store, open_store, to_us
from tests.support.tiny import haversine_m

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # tiny officers were last seen at 03:00 UTC


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/live.db") as s:
        yield s


def put(store: Store, *rows: tuple[str, float, float, datetime]) -> None:
    run = store.begin_ingest("test", "csv", "feed")
    store.write_batch(run, [Position(o, lat, lon, to_us(t), t.isoformat())
                            for o, lat, lon, t in rows], [])


def test_stale_flag_from_age(store: Store) -> None:
    put(store, ("A", 34.0, 71.5, NOW - timedelta(seconds=10)),
        ("B", 34.0, 71.5, NOW - timedelta(seconds=400)),
        ("C", 34.0, 71.5, NOW + timedelta(seconds=5)))
    live = latest_positions(store, now=NOW)
    assert tuple(live.columns) == LIVE_COLUMNS
    assert live["officer_id"].tolist() == ["A", "B", "C"]
    assert live["stale"].tolist() == [False, True, False]
    assert live["age_s"].tolist() == [10.0, 400.0, -5.0]
    assert not latest_positions(store, now=NOW, stale_after_s=500)["stale"].any()
    assert latest_positions(store, now=NOW, stale_after_s=0)["stale"].tolist() == [
        True, True, False]
    assert str(live["timestamp"].dt.tz) == "UTC"


def test_empty_store_and_bad_age(store: Store) -> None:
    live = latest_positions(store)
    assert len(live) == 0
    assert tuple(live.columns) == LIVE_COLUMNS
    for bad in (-1, float("nan"), float("inf"), np.float64("nan")):
        with pytest.raises(DataError, match="stale_after_s must be a finite number of "
                                            "seconds >= 0"):
            latest_positions(store, stale_after_s=bad)


def test_merge_live_replaces_only_with_fresher(store: Store, dataset: Dataset) -> None:
    officers = dataset.officers
    before = officers.copy()
    put(store, ("A", 34.0, 71.503, NOW + timedelta(seconds=30)),   # fresh, newer than roster
        ("D", 34.001, 71.502, NOW - timedelta(seconds=60)),         # older than the roster
        ("B", 34.0, 71.5, NOW + timedelta(seconds=1)),              # newer, but stale below
        ("ZZ", 34.0, 71.5, NOW))                                    # not in the roster
    live = latest_positions(store, now=NOW + timedelta(seconds=600), stale_after_s=590)
    merged = merge_live(officers, live)
    assert before.equals(officers)  # input not modified
    row = merged.set_index("officer_id")
    assert (row.loc["A", "lat"], row.loc["A", "lon"]) == (34.0, 71.503)
    assert (row.loc["A", "geometry"].x, row.loc["A", "geometry"].y) == (71.503, 34.0)
    assert row.loc["A", "position_source"] == "feed"
    assert not row.loc["A", "at_station"]
    assert row.loc["A", "last_seen"] == NOW + timedelta(seconds=30)
    assert row.loc["D", "position_source"] == "roster"  # the roster is newer
    assert bool(row.loc["B", "stale"])
    assert np.isnan(row.loc["C", "live_age_s"])
    assert "ZZ" not in row.index
    fresh_only = merge_live(officers, live, exclude_stale=True)
    assert "B" not in set(fresh_only["officer_id"])
    assert len(fresh_only) == len(officers) - 1
    assert list(merged.columns)[: len(officers.columns)] == list(officers.columns)


def test_coverage_uses_live_positions(store: Store, dataset: Dataset) -> None:
    put(store, ("A", 34.0, 71.503, NOW + timedelta(seconds=200)),
        ("B", 34.001, 71.502, NOW + timedelta(seconds=1)))
    live = latest_positions(store, now=NOW + timedelta(seconds=400))  # B is stale (399 s)
    cov = analyse(replace(dataset, officers=merge_live(dataset.officers, live,
                                                       exclude_stale=True)))
    assert cov.counts.available == 2  # A and D; B's whereabouts are stale
    placed = dict(zip(cov.units.officer_id, dataset.network.node_id[cov.units.node],
                      strict=True))
    assert placed == {"A": 5, "D": 5}
    with_stale = analyse(replace(dataset, officers=merge_live(dataset.officers, live)))
    assert with_stale.counts.available == 3


def grid(n: int = 8, spacing_deg: float = 0.002, kph: float = 30.0) -> RoadNetwork:
    G = nx.MultiDiGraph()
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j, x=71.5 + j * spacing_deg, y=34.0 + i * spacing_deg)
    for i in range(n):
        for j in range(n):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + j + dj
                    length = haversine_m(G.nodes[a]["x"], G.nodes[a]["y"],
                                         G.nodes[b]["x"], G.nodes[b]["y"])
                    speed = 200.0 if (i, j) == (0, 0) else kph  # one too-fast edge
                    for u, v in ((a, b), (b, a)):
                        G.add_edge(u, v, length=length, travel_time=length / speed * 3.6)
    return compile_graph(G, source="grid")


def squad(net: RoadNetwork) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"officer_id": ["P1", "P2", "P3", "P4"], "station_id": ["S"] * 4,
         "status": ["on_duty", "on_duty", "on_duty", "off_duty"]},
        geometry=gpd.points_from_xy(net.lon[[0, 20, 63, 5]], net.lat[[0, 20, 63, 5]]),
        crs="EPSG:4326")


def test_simulator_is_deterministic_bounded_and_on_the_roads() -> None:
    net = grid()
    start = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)

    def run(seed: int) -> list:
        return [r.fields for r in simulate_records(net, squad(net), seconds=600, interval_s=5,
                                                   seed=seed, start=start, dwell_s=10)]

    a = run(7)
    assert a == run(7)
    assert a != run(8)
    assert len(a) == 3 * 121  # on-duty officers only, one report per step
    assert {r["officer_id"] for r in a} == {"P1", "P2", "P3"}
    speeds = np.array([r["speed_kph"] for r in a])
    assert ((speeds == 0) | ((speeds >= 10) & (speeds <= 60))).all()
    assert (speeds > 0).mean() > 0.5
    lat, lon = np.array([r["lat"] for r in a]), np.array([r["lon"] for r in a])
    assert (lat >= 34.0 - 1e-6).all()
    assert (lat <= 34.014 + 1e-6).all()
    assert (lon >= 71.5 - 1e-6).all()
    assert (lon <= 71.514 + 1e-6).all()
    on_a_road = np.isclose((lat - 34.0) / 0.002 % 1, 0, atol=1e-3) | np.isclose(
        (lon - 71.5) / 0.002 % 1, 0, atol=1e-3) | np.isclose((lat - 34.0) / 0.002 % 1, 1,
                                                             atol=1e-3) | np.isclose(
        (lon - 71.5) / 0.002 % 1, 1, atol=1e-3)
    assert on_a_road.all()
    assert all(0 <= r["heading_deg"] < 360 for r in a)
    assert a[-1]["timestamp"] == "2026-11-25T03:10:00.000+00:00"


def test_simulated_speeds_are_clamped() -> None:
    net = grid()
    roads = _roads(net, 10.0, 60.0)
    kph = net.length_m / roads.sim_s * 3.6
    assert kph.max() == pytest.approx(60.0)
    assert kph.min() == pytest.approx(30.0)


def test_simulate_feed_writes_labelled_positions_once(store: Store) -> None:
    net = grid()
    start = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    res = simulate_feed(store, net, squad(net), seconds=60, interval_s=10, seed=3, start=start)
    assert (res.officers, res.steps, res.ingest.accepted, res.ingest.rejected) == (3, 7, 21, 0)
    assert res.end == start + timedelta(seconds=60)
    assert {p.source for p in store.history()} == {"simulated"}
    live = latest_positions(store)
    assert set(live["source"]) == {"simulated"}
    again = simulate_feed(store, net, squad(net), seconds=60, interval_s=10, seed=3, start=start)
    assert (again.ingest.accepted, again.ingest.duplicates) == (0, 21)


def test_simulate_feed_default_start_ends_now(store: Store) -> None:
    net = grid()
    res = simulate_feed(store, net, squad(net), seconds=30, interval_s=10, seed=1)
    live = latest_positions(store)
    assert not live["stale"].any()
    assert abs((res.end - datetime.now(UTC)).total_seconds()) < 30


def test_simulate_feed_cli_on_tiny_district(tiny_inputs, tmp_path, capsys) -> None:
    p = tiny_inputs
    db = f"sqlite:///{tmp_path}/sim.db"
    args = ["-q", "simulate-feed", "--db", db, "--roads", str(p["roads"]), "--stations",
            str(p["stations"]), "--officers", str(p["officers"]), "--seconds", "60",
            "--interval-s", "10", "--seed", "1", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("officers", "steps", "read", "accepted", "rejected")} == {
        "officers": 3, "steps": 7, "read": 21, "accepted": 21, "rejected": 0}
    assert main(["positions", "--db", db, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["officer_id"] for r in rows] == ["A", "B", "D"]
    assert {r["source"] for r in rows} == {"simulated"}


def test_live_coverage_counts_stale_units_at_their_last_position(store: Store,
                                                                 dataset: Dataset) -> None:
    from coverage.ops.positions import live_coverage

    put(store, ("A", 34.0, 71.503, NOW + timedelta(seconds=200)),
        ("B", 34.001, 71.502, NOW + timedelta(seconds=1)))
    live = latest_positions(store, now=NOW + timedelta(seconds=400))  # B is stale (399 s)
    base = analyse(dataset)
    view = live_coverage(base, live)
    assert len(view.officers) == 5  # everyone drawn, B flagged
    assert dict(zip(view.officers["officer_id"], view.officers["stale"], strict=True))["B"]
    assert (view.live_reports, view.stale, view.simulated) == (2, 1, 0)
    assert view.newest_age_s == pytest.approx(200.0)
    # stale B counts, at its last (live) position: as a fresh run with B moved there
    moved = dataset.officers.copy()
    for oid, lon, lat in (("A", 71.503, 34.0), ("B", 71.502, 34.001)):
        moved.loc[moved["officer_id"] == oid, "geometry"] = gpd.points_from_xy([lon], [lat])
    expected = analyse(replace(dataset, officers=moved))
    assert view.coverage.counts.available == 3 == expected.counts.available
    assert view.coverage.table.equals(expected.table)
    excluded = live_coverage(base, live, exclude_stale=True).coverage
    assert excluded.counts.available == 2  # A and D
    assert sorted(excluded.units.officer_id) == ["A", "D"]


def test_a_stopped_feed_keeps_coverage_and_says_down(store: Store, dataset: Dataset) -> None:
    from coverage.ops.positions import live_coverage

    later = NOW + timedelta(seconds=1)  # newer than the roster's last_seen
    put(store, ("A", 34.0, 71.503, later), ("B", 34.001, 71.502, later),
        ("D", 34.0, 71.503, later))
    base = analyse(dataset)
    fresh = live_coverage(base, latest_positions(store, now=NOW + timedelta(seconds=10)))
    stopped = live_coverage(base, latest_positions(store, now=NOW + timedelta(hours=2)))
    assert (fresh.feed.state, stopped.feed.state) == ("ok", "down")
    assert stopped.feed.stale == 3
    assert stopped.feed.stale_share == 1.0
    assert stopped.feed.newest_age_s == pytest.approx(7199.0)
    assert stopped.coverage.counts == fresh.coverage.counts
    assert stopped.coverage.table.equals(fresh.coverage.table)
    assert stopped.coverage.overall == fresh.coverage.overall


@pytest.mark.parametrize(("ages", "state"), [
    ((), "down"), ((10,), "ok"), ((400,), "down"), ((10, 400), "ok"),
    ((10, 400, 500), "degraded"), ((10, 20, 400), "ok"), ((301, 302), "down"),
    ((300, 301), "ok"),  # 300 s is not older than 300 s
])
def test_feed_state_as_data_md_defines_it(store: Store, dataset: Dataset,
                                          ages: tuple[int, ...], state: str) -> None:
    from coverage.ops.positions import live_coverage

    now = NOW + timedelta(hours=1)  # every report newer than the roster's last_seen
    put(store, *((oid, 34.0, 71.5, now - timedelta(seconds=a))
                 for oid, a in zip("ABD", ages, strict=False)))
    view = live_coverage(analyse(dataset), latest_positions(store, now=now),
                         stale_after_s=300)
    stale = sum(a > 300 for a in ages)
    assert (view.feed.positions, view.feed.stale) == (len(ages), stale)
    assert view.feed.state == state
    assert view.feed.stale_after_s == 300
    assert view.feed.newest_age_s == (min(ages) if ages else None)


def test_gaps_caused_only_by_staleness_are_told_apart(store: Store, dataset: Dataset) -> None:
    from coverage.ops.positions import live_coverage

    base = analyse(dataset, threshold_min=0.1)
    # Z2 (west, node 1) is reached in time only by B, whose position is stale; A moved east
    now = NOW + timedelta(hours=1)
    put(store, ("B", 34.0, 71.5, now - timedelta(seconds=900)),
        ("A", 34.0, 71.503, now - timedelta(seconds=5)))
    live = latest_positions(store, now=now)
    counted = live_coverage(base, live)
    excluded = live_coverage(base, live, exclude_stale=True)
    gaps_with = set(counted.coverage.gaps["zone_id"])
    gaps_without = set(excluded.coverage.gaps["zone_id"])
    assert gaps_without - gaps_with == {"Z2"}  # the case is not empty
    expected = [z for z in excluded.coverage.gaps["zone_id"] if z not in gaps_with]
    assert list(counted.stale_only_gaps) == expected == list(excluded.stale_only_gaps)


def test_units_far_off_the_roads_are_counted_not_warned(store: Store, dataset: Dataset,
                                                        recwarn: pytest.WarningsRecorder
                                                        ) -> None:
    from coverage.ops.positions import live_coverage

    put(store, ("A", 34.05, 71.5, NOW + timedelta(seconds=1)))  # ~5.5 km north of the roads
    view = live_coverage(analyse(dataset), latest_positions(store, now=NOW))
    assert (view.off_network, view.off_network_live) == (1, 1)
    assert not [w for w in recwarn if "snapped" in str(w.message)]
    dist = haversine_m(71.5, 34.05, 71.502, 34.001)  # node 4, the nearest
    assert dist > 500


def test_report_live_db_adds_the_live_object(tmp_path: Path, tiny_inputs: dict[str, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path}/feed.db"
    with open_store(db) as s:
        put(s, ("A", 34.0, 71.503, NOW + timedelta(seconds=3500)),
            ("B", 34.001, 71.502, NOW + timedelta(seconds=2900)))
    args = ["report", *(x for r in ("roads", "stations", "zones", "officers")
                        for x in (f"--{r}", str(tiny_inputs[r]))), "--format", "json",
            "--live-db", db, "--as-of", "2026-11-25T09:00:00+05:00"]  # NOW + 1 h
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["live"] == {"positions": 2, "stale": 1, "newest_age_s": 100.0, "feed": "ok"}
    assert out["units"]["available"] == 3  # stale B counts
    assert main([*args, "--exclude-stale"]) == 0
    assert json.loads(capsys.readouterr().out)["units"]["available"] == 2
    assert main([*args, "--stale-s", "50"]) == 0
    assert json.loads(capsys.readouterr().out)["live"] == {
        "positions": 2, "stale": 2, "newest_age_s": 100.0, "feed": "down"}
    assert main([*args[:-6], "--format", "json"]) == 0
    assert "live" not in json.loads(capsys.readouterr().out)
    with pytest.raises(SystemExit, match="2"):
        main([*args[:-1], "2026-11-25T08:00:00"])  # no offset
    assert "--as-of" in capsys.readouterr().err


def test_with_officers_equals_a_fresh_run(dataset: Dataset) -> None:
    from coverage.engine.analysis import with_officers

    moved = dataset.officers.copy()
    moved.loc[moved["officer_id"] == "A", "geometry"] = gpd.points_from_xy([71.502], [34.001])
    moved.loc[moved["officer_id"] == "A", "at_station"] = False
    for threshold, suspended in ((1.0, ()), (0.5, ("D",))):
        base = analyse(dataset, threshold_min=threshold, suspended=suspended)
        fast = with_officers(base, moved)
        full = analyse(replace(dataset, officers=moved), threshold_min=threshold,
                       suspended=suspended)
        assert fast.table.equals(full.table)
        assert fast.counts == full.counts
        assert np.array_equal(fast.times.seconds, full.times.seconds)


def test_a_view_with_nothing_moved_reuses_the_run_and_ages_anew(store: Store,
                                                                 dataset: Dataset) -> None:
    from coverage.engine.report import report_dict
    from coverage.ops.positions import live_coverage

    cov = analyse(dataset, threshold_min=10)
    put(store, ("A", 34.0, 71.503, NOW + timedelta(seconds=200)),
        ("B", 34.001, 71.502, NOW + timedelta(seconds=1)))
    first = live_coverage(cov, latest_positions(store, now=NOW + timedelta(seconds=250)))
    later = latest_positions(store, now=NOW + timedelta(seconds=280))  # nothing new, older
    again = live_coverage(cov, later, previous=first)
    assert again.coverage is first.coverage  # no new road search
    assert again.feed.newest_age_s == 80.0  # ages and feed health are new
    fresh = live_coverage(cov, later)
    assert report_dict(again.coverage) == report_dict(fresh.coverage)
    assert again.feed == fresh.feed
    # B turns stale (older than 300 s): the run is made again
    stale = live_coverage(cov, latest_positions(store, now=NOW + timedelta(seconds=320)),
                          previous=again)
    assert stale.coverage is not first.coverage
    assert stale.stale == 1
    # A moves: made again; another base run or exclude_stale: made again too
    put(store, ("A", 34.0, 71.5, NOW + timedelta(seconds=300)))
    moved = live_coverage(cov, latest_positions(store, now=NOW + timedelta(seconds=310)),
                          previous=again)
    assert moved.coverage is not again.coverage
    assert report_dict(moved.coverage) == report_dict(live_coverage(
        cov, latest_positions(store, now=NOW + timedelta(seconds=310))).coverage)
    other = live_coverage(analyse(dataset, threshold_min=10), later, previous=again)
    assert other.coverage is not again.coverage
    assert live_coverage(cov, later, previous=again,
                         exclude_stale=True).coverage is not again.coverage
