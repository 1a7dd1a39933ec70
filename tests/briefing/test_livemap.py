"""Live map layers: clusters above the limit (no officer sent), a district's points, bytes."""

from __future__ import annotations

import folium
import pytest
from streamlit_folium import _get_feature_group_string, _get_map_string

from coverage.briefing.livemap import district_bounds, map_layers
from coverage.briefing.mapview import base_map
from coverage.data.districts import districts_of
from coverage.engine.analysis import analyse
from coverage.engine.rollup import district_figures
from tests.briefing.test_unitview import many

NAMES = {"S1": "North <b>", "S2": "South"}


@pytest.fixture
def cov(dataset):
    return analyse(dataset, threshold_min=10)


@pytest.fixture
def districts(cov):
    return districts_of(cov.dataset.stations, cov.dataset.zones, NAMES)


def sent(cov, groups: list[folium.FeatureGroup], *, roads_url: str | None = "/r.geojson"
         ) -> str:
    """What st_folium sends: the base map's script, then each group's (as the page)."""
    m = base_map(cov.dataset.network, roads_url=roads_url)
    return _get_map_string(m) + "".join(_get_feature_group_string(g, m, i)
                                        for i, g in enumerate(groups))


def test_above_the_limit_no_officer_is_sent(cov, districts) -> None:
    off = many(cov, 3000)
    figures = district_figures(cov, districts)
    layers = map_layers(cov, districts, officers=off, figures=figures, points_limit=2000)
    assert layers.points == 0
    assert 0 < layers.clusters <= 32 * 32
    script = sent(cov, layers.groups)
    assert "SIM-" not in script  # no officer id, no individual marker
    assert "Stale positions" in script  # the clusters' tooltip
    assert "North &lt;b&gt;" in script or "North \\u0026lt;b\\u0026gt;" in script
    assert "North <b>" not in script
    assert len(script.encode()) < 150_000


def test_payload_is_bounded_by_the_grid_not_the_officers(cov, districts) -> None:
    """At most 32 x 32 clusters of about 50 bytes, however many officers."""
    sizes = []
    for n in (3000, 60000):
        layers = map_layers(cov, districts, officers=many(cov, n), points_limit=2000)
        sizes.append(len(sent(cov, layers.groups).encode()))
    assert sizes[1] < 200_000
    assert sizes[1] - sizes[0] < 60 * 32 * 32


def test_a_picked_district_sends_its_officers_only(cov, districts) -> None:
    off = many(cov, 3000)
    layers = map_layers(cov, districts, officers=off, district="South", points_limit=5000)
    south = int((off["station_id"] == "S2").sum())
    assert layers.points == south
    assert layers.clusters == 0
    script = sent(cov, layers.groups)
    north_ids = off.loc[off["station_id"] == "S1", "officer_id"]
    assert not any(f'"{i}"' in script for i in north_ids.iloc[:50])
    assert f'"{off.loc[off["station_id"] == "S2", "officer_id"].iloc[0]}"' in script
    assert layers.bounds == district_bounds(cov, districts, "South")
    x0, y0, x1, y1 = layers.bounds
    assert x0 <= 71.503 <= x1
    assert y0 <= 34.0 <= y1


def test_small_datasets_keep_every_officer_as_a_point(cov, districts) -> None:
    layers = map_layers(cov, districts)
    assert layers.points == len(cov.dataset.officers)
    assert layers.clusters == 0
    assert "Officers" in sent(cov, layers.groups)


def _labels(layers) -> list[str]:
    """The zone label texts of a map_layers result (its second group)."""
    group = layers.groups[1]
    return [m.icon.options["html"].split(">", 1)[1].rsplit("<", 1)[0]
            for m in group._children.values()]


def test_labels_follow_the_district_picked(cov, districts) -> None:
    # Z1 (East <script>) lies nearest S2 (South), Z2 (West) nearest S1 (North)
    assert _labels(map_layers(cov, districts, district="South")) == ["East &lt;script&gt;"]
    assert _labels(map_layers(cov, districts, district="North <b>")) == ["West"]
    assert sorted(_labels(map_layers(cov, districts))) == ["East &lt;script&gt;", "West"]
    clustered = map_layers(cov, districts, officers=many(cov, 50), points_limit=10)
    assert "Zone labels" not in [g.layer_name for g in clustered.groups]
    south = map_layers(cov, districts, officers=many(cov, 50), points_limit=10,
                       district="South")
    assert south.clusters > 0
    assert _labels(south) == ["East &lt;script&gt;"]  # a district keeps its labels


def test_base_map_with_a_roads_url_is_small_and_the_same_every_time(cov) -> None:
    inline = _get_map_string(base_map(cov.dataset.network))
    a = _get_map_string(base_map(cov.dataset.network, roads_url="/app/static/r.geojson"))
    b = _get_map_string(base_map(cov.dataset.network, roads_url="/app/static/r.geojson"))
    assert a == b
    assert "/app/static/r.geojson" in a
    assert "MultiLineString" in inline
    assert "MultiLineString" not in a


def test_view_group_moves_the_map_once_per_requested_view(cov) -> None:
    from coverage.briefing.livemap import view_group

    one = sent(cov, [view_group((34.0, 71.5), 13)])
    assert "map.setView([34.0, 71.5], 13, {animate: false});" in one
    assert 'var key = "34.0,71.5,13";' in one
    assert "if (window.__seccovView !== key)" in one
    assert "})(map_div);" in one.split("__seccovView", 1)[1]  # the map, not the group
    assert 'var key = "34.0,71.5,14";' in sent(cov, [view_group((34.0, 71.5), 14)])


def test_cluster_cells_stay_put_when_an_outlying_officer_moves(cov, districts) -> None:
    """The grid lies on the network's extent, not the officers': moving the easternmost
    officer (inside the network's extent) changes no other officer's cell. On the
    officers' own extent, as before, the same move shifts the cells."""
    import geopandas as gpd
    import numpy as np

    from coverage.briefing.livemap import cluster_bounds
    from coverage.briefing.unitview import officer_clusters

    net = cov.dataset.network
    rng = np.random.default_rng(3)
    off = many(cov, 3000)
    x = net.lon.min() + (0.2 + 0.6 * rng.random(len(off))) * np.ptp(net.lon)
    y = net.lat.min() + (0.2 + 0.6 * rng.random(len(off))) * np.ptp(net.lat)
    off = off.set_geometry(gpd.points_from_xy(x, y, crs="EPSG:4326"))
    east = int(np.argmax(x))
    x2 = x.copy()
    x2[east] -= 0.1 * np.ptp(net.lon)  # still inside the network's extent
    moved = off.set_geometry(gpd.points_from_xy(x2, y, crs="EPSG:4326"))
    others = np.arange(len(off)) != east

    def cells(frame, bounds=None):
        return officer_clusters(cov, frame.iloc[np.flatnonzero(others)], bounds=bounds)

    grid, grid2 = (cluster_bounds(cov, districts, None, f) for f in (off, moved))
    assert grid == grid2
    assert cells(off, grid).equals(cells(moved, grid2))
    own = [tuple(f.total_bounds) for f in (off, moved)]
    assert not cells(off, own[0]).equals(cells(moved, own[1]))
    layers = map_layers(cov, districts, officers=moved, points_limit=2000)
    assert layers.clusters == len(officer_clusters(cov, moved, bounds=grid2))
