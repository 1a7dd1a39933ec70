"""Officer clusters: counts by status equal a plain count per cell; rounded coordinates."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage.briefing.unitview import (
    COORD_DIGITS,
    cluster_style,
    clusters_group,
    officer_clusters,
    officers_group,
    officers_layer,
)
from coverage.engine.analysis import analyse


def _rendered(group: folium.FeatureGroup) -> str:
    m = folium.Map()
    group.add_to(m)
    return m.get_root().render()


@pytest.fixture
def cov(dataset):
    return analyse(dataset, threshold_min=10, suspended=["B"])


def many(cov, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` officers (SYNTHETIC): the tiny roster repeated, scattered, some stale."""
    rng = np.random.default_rng(seed)
    base = cov.dataset.officers
    frame = pd.concat([base] * math.ceil(n / len(base)), ignore_index=True).iloc[:n].copy()
    frame["officer_id"] = [f"SIM-{i}" for i in range(n)]
    x = 71.4995 + rng.random(n) * 0.004
    y = 33.9990 + rng.random(n) * 0.003
    frame["stale"] = rng.random(n) < 0.2
    return gpd.GeoDataFrame(frame.drop(columns="geometry"),
                            geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


@pytest.mark.parametrize("cells", [1, 3, 10])
def test_cluster_counts_equal_a_plain_count_per_cell(cov, cells: int) -> None:
    off = many(cov, 500)
    bounds = (71.4995, 33.9990, 71.5035, 34.0020)
    got = officer_clusters(cov, off, bounds=bounds, cells=cells)
    side = 0.004 / cells
    status = np.where(off["officer_id"].isin(cov.suspended), "suspended", off["status"])
    key = list(zip(np.floor((off.geometry.x - 71.4995) / side).astype(int),
                   np.floor((off.geometry.y - 33.9990) / side).astype(int), strict=True))
    expected: dict[tuple[int, int], list[int]] = {}
    for k, s, stale, x, y in zip(key, status, off["stale"], off.geometry.x, off.geometry.y,
                                 strict=True):
        row = expected.setdefault(k, [0, 0, 0, 0, 0, 0, 0.0, 0.0])
        row[0] += 1
        row[1 + ["on_duty", "reserve", "off_duty", "suspended"].index(s)] += 1
        row[5] += bool(stale)
        row[6] += x
        row[7] += y
    assert len(got) == len(expected)
    assert int(got["officers"].sum()) == 500
    gx, gy = got.geometry.x.to_numpy(), got.geometry.y.to_numpy()
    for r in expected.values():
        ex, ey = r[6] / r[0], r[7] / r[0]
        m = got.iloc[int(np.argmin(np.hypot(gx - ex, gy - ey)))]
        assert gx[int(np.argmin(np.hypot(gx - ex, gy - ey)))] == pytest.approx(
            ex, abs=10 ** -COORD_DIGITS)
        assert m.geometry.y == pytest.approx(ey, abs=10 ** -COORD_DIGITS)
        assert [m.officers, m.on_duty, m.reserve, m.off_duty, m.suspended, m.stale] == r[:6]


def test_clusters_of_nobody_are_an_empty_layer(cov) -> None:
    empty = officer_clusters(cov, cov.dataset.officers.iloc[:0])
    assert len(empty) == 0
    assert "rows = []" in _rendered(clusters_group(empty))  # drawn, empty


def test_cluster_style_grows_and_greys_when_mostly_stale() -> None:
    small = cluster_style({"officers": 1, "on_duty": 1, "stale": 0})
    big = cluster_style({"officers": 400, "on_duty": 300, "stale": 0})
    assert small["radius"] < big["radius"] <= 12
    assert cluster_style({"officers": 10, "on_duty": 0, "stale": 0})["color"] != big["color"]
    assert cluster_style({"officers": 10, "on_duty": 9, "stale": 6}).get("dashArray")


def test_a_cluster_of_suspended_officers_is_not_drawn_as_off_duty() -> None:
    from coverage.briefing._style import STATUS_STYLE

    def colour(**counts: int) -> str:
        return cluster_style({"officers": sum(counts.values()), "stale": 0, **counts})["color"]

    assert colour(suspended=5) == STATUS_STYLE["suspended"]["color"]
    assert cluster_style({"officers": 5, "suspended": 5, "stale": 0}).get("dashArray")
    assert colour(suspended=5, off_duty=9) == STATUS_STYLE["suspended"]["color"]
    assert colour(reserve=2, suspended=5) == STATUS_STYLE["reserve"]["color"]
    assert colour(on_duty=1, suspended=5) == STATUS_STYLE["on_duty"]["color"]
    assert colour(off_duty=3) == STATUS_STYLE["off_duty"]["color"]


def test_roads_file_written_once_under_its_hash(tmp_path) -> None:
    from coverage.briefing.roadview import write_roads

    name = write_roads(cov_network(), tmp_path)
    assert write_roads(cov_network(), tmp_path) == name
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left behind


def test_officer_points_are_sent_rounded(cov) -> None:
    off = many(cov, 20)
    page = _rendered(officers_group(officers_layer(cov, off)))
    x = float(off.geometry.x.iloc[0])
    assert f"{x:.12f}"[:14] not in page
    assert str(round(x, COORD_DIGITS)) in page


def test_roads_file_named_by_source_is_not_drawn_again(tmp_path, monkeypatch) -> None:
    """A restarted server finds the roads file of the same road file without drawing the
    roads again; another source, or another drawing version, gets a file of its own."""
    import json

    from coverage.briefing import roadview

    net = cov_network()
    name = roadview.write_roads(net, tmp_path, source="roads.pbf|10|1")
    assert json.loads((tmp_path / name).read_text()) == roadview.roads_feature(net)

    def drawn(_net):
        raise AssertionError("drawn again")

    monkeypatch.setattr(roadview, "roads_feature", drawn)
    assert roadview.write_roads(net, tmp_path, source="roads.pbf|10|1") == name
    with pytest.raises(AssertionError, match="drawn again"):
        roadview.write_roads(net, tmp_path, source="roads.pbf|10|2")  # the file changed
    monkeypatch.setattr(roadview, "ROADS_VERSION", roadview.ROADS_VERSION + 1)
    with pytest.raises(AssertionError, match="drawn again"):
        roadview.write_roads(net, tmp_path, source="roads.pbf|10|1")


def cov_network():
    from coverage.data.examples import example_dataset

    return example_dataset().network
