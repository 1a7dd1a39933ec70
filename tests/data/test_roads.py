"""Road graph building: OSM XML/bz2/PBF, GraphML and line files, speeds and one-ways."""

from __future__ import annotations

import bz2
from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest

from coverage.data.roads import edge_speed_kph, load_graph, oneway_direction, parse_maxspeed
from coverage.errors import DataError, DataWarning
from tests.support.tiny import haversine_m, write

LEN_1_3 = haversine_m(71.500, 34.0, 71.501, 34.0) + haversine_m(71.501, 34.0, 71.502, 34.0)
LEN_3_5 = haversine_m(71.502, 34.0, 71.503, 34.0)
LEN_3_4 = haversine_m(71.502, 34.0, 71.502, 34.001)


def edge(G: nx.MultiDiGraph, u: int, v: int) -> dict:
    data = G.get_edge_data(u, v)
    assert data is not None, f"no edge {u}->{v}"
    assert len(data) == 1
    return next(iter(data.values()))


def check_tiny(G: nx.MultiDiGraph) -> None:
    # node 2 is interstitial (merged away); node 6 only touches a footway (not a road)
    assert sorted(G.nodes) == [1, 3, 4, 5]
    assert sorted((u, v) for u, v, _ in G.edges) == [(1, 3), (3, 1), (3, 5), (4, 3)]
    e13 = edge(G, 1, 3)
    assert e13["length"] == pytest.approx(LEN_1_3, rel=1e-9)
    assert e13["travel_time"] == pytest.approx(LEN_1_3 / 20.0 * 3.6, rel=1e-9)
    # maxspeed "50;30 mph": the lowest value counts, mph converted
    e35 = edge(G, 3, 5)
    assert e35["travel_time"] == pytest.approx(LEN_3_5 / (30 * 1.609344) * 3.6, rel=1e-9)
    # oneway=-1 on a way drawn 3->4: only 4->3 is allowed; service default 15 km/h
    assert edge(G, 4, 3)["travel_time"] == pytest.approx(LEN_3_4 / 15.0 * 3.6, rel=1e-9)
    assert G.nodes[4]["x"] == pytest.approx(71.502)
    assert G.nodes[4]["y"] == pytest.approx(34.001)


def test_osm_xml(tiny_osm: Path) -> None:
    check_tiny(load_graph(tiny_osm))


def test_osm_bz2(tiny_osm: Path, tmp_path: Path) -> None:
    target = tmp_path / "tiny.osm.bz2"
    target.write_bytes(bz2.compress(tiny_osm.read_bytes()))
    check_tiny(load_graph(target))


def test_osm_pbf(tiny_osm: Path, tmp_path: Path) -> None:
    import osmium

    target = tmp_path / "tiny.osm.pbf"
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(tiny_osm)):
            writer.add(obj)
    check_tiny(load_graph(target))


def test_graphml_roundtrip(tiny_osm: Path, tmp_path: Path) -> None:
    target = tmp_path / "tiny.graphml"
    ox.save_graphml(load_graph(tiny_osm), target)
    check_tiny(load_graph(target))


def test_graphml_projected_is_reprojected(tiny_osm: Path, tmp_path: Path) -> None:
    G = load_graph(tiny_osm)
    target = tmp_path / "utm.graphml"
    ox.save_graphml(ox.projection.project_graph(G, to_crs="EPSG:32642"), target)
    check_tiny(load_graph(target))


def test_line_file_nodes_at_shared_vertices(tmp_path: Path) -> None:
    # A T-junction: the second line ends on an interior vertex of the first.
    target = write(
        tmp_path / "lines.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"highway": "primary", "maxspeed": "36",'
        ' "oneway": null}, "geometry": {"type": "LineString", "coordinates":'
        " [[71.500, 34.0], [71.501, 34.0], [71.502, 34.0], [71.503, 34.0]]}},"
        '{"type": "Feature", "properties": {"highway": "residential", "maxspeed": null,'
        ' "oneway": "yes"}, "geometry": {"type": "LineString", "coordinates":'
        " [[71.502, 34.001], [71.502, 34.0]]}}]}",
    )
    G = load_graph(target)
    # junction at (71.502, 34.0) is kept, (71.501, 34.0) merged away: 4 nodes
    assert len(G) == 4
    xy = {(round(d["x"], 6), round(d["y"], 6)): n for n, d in G.nodes(data=True)}
    a, j, b, c = (xy[(71.5, 34.0)], xy[(71.502, 34.0)], xy[(71.503, 34.0)],
                  xy[(71.502, 34.001)])
    assert edge(G, a, j)["travel_time"] == pytest.approx(LEN_1_3 / 36 * 3.6, rel=1e-9)
    assert G.has_edge(j, a)
    assert G.has_edge(j, b)
    assert G.has_edge(b, j)
    assert G.has_edge(c, j)
    assert not G.has_edge(j, c)


def test_line_file_in_projected_crs(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    gdf = gpd.GeoDataFrame(
        {"highway": ["residential"]},
        geometry=[LineString([(71.500, 34.0), (71.502, 34.0)])], crs="EPSG:4326",
    ).to_crs("EPSG:32642")
    target = tmp_path / "roads.gpkg"
    gdf.to_file(target)
    G = load_graph(target)
    assert len(G) == 2
    lengths = [d["length"] for _, _, d in G.edges(data=True)]
    assert lengths == pytest.approx([haversine_m(71.5, 34.0, 71.502, 34.0)] * 2, rel=1e-6)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0), ("30 mph", 30 * 1.609344), ("60;40", 40.0), ("50 km/h", 50.0),
        (["60", "30"], 30.0), ("['60', '45']", 45.0), (45, 45.0), ("signals", None),
        ("none", None), ("", None), (None, None), ("0", None), ("PK:urban", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    result = parse_maxspeed(value)
    assert result == (pytest.approx(expected) if expected is not None else None)


def test_speed_defaults_and_overrides() -> None:
    assert edge_speed_kph("residential", None) == 20.0
    assert edge_speed_kph("no_such_class", None) == 25.0
    assert edge_speed_kph(["primary", "residential"], None) == 20.0
    assert edge_speed_kph("residential", None, speeds_kph={"residential": 12.0}) == 12.0
    assert edge_speed_kph("residential", "40") == 40.0


@pytest.mark.parametrize(
    ("oneway", "junction", "expected"),
    [
        ("yes", None, 1), ("true", None, 1), ("1", None, 1), ("-1", None, -1),
        ("no", None, 0), ("reverse", None, 0), (None, None, 0), ("F", None, 0),
        (None, "roundabout", 1), ("no", "roundabout", 0), ("YES", None, 1), (True, None, 1),
    ],
)
def test_oneway_direction(oneway: object, junction: object, expected: int) -> None:
    assert oneway_direction(oneway, junction) == expected


def test_roundabout_is_one_way(tmp_path: Path) -> None:
    # ring 1->2->3->1 drawn, with exits at 1 (to 4) and 3 (to 5): only the drawn direction
    target = write(
        tmp_path / "ring.osm",
        '<osm version="0.6"><node id="1" lat="34" lon="71.5"/><node id="2" lat="34.001"'
        ' lon="71.501"/><node id="3" lat="34" lon="71.502"/><node id="4" lat="33.99"'
        ' lon="71.5"/><node id="5" lat="33.99" lon="71.502"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>'
        '<tag k="highway" v="tertiary"/><tag k="junction" v="roundabout"/></way>'
        '<way id="2"><nd ref="4"/><nd ref="1"/><tag k="highway" v="tertiary"/></way>'
        '<way id="3"><nd ref="3"/><nd ref="5"/><tag k="highway" v="tertiary"/></way></osm>',
    )
    G = load_graph(target)
    via_2 = haversine_m(71.5, 34, 71.501, 34.001) + haversine_m(71.501, 34.001, 71.502, 34)
    direct = haversine_m(71.502, 34, 71.5, 34)
    assert edge(G, 1, 3)["length"] == pytest.approx(via_2)
    assert edge(G, 3, 1)["length"] == pytest.approx(direct)


def test_dead_end_and_junction_nodes_are_kept(tmp_path: Path) -> None:
    target = write(
        tmp_path / "star.osm",
        '<osm version="0.6"><node id="1" lat="34" lon="71.5"/><node id="2" lat="34"'
        ' lon="71.501"/><node id="3" lat="34" lon="71.502"/><node id="4" lat="34.001"'
        ' lon="71.502"/><node id="5" lat="34" lon="71.503"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="5"/>'
        '<tag k="highway" v="residential"/></way>'
        '<way id="2"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/></way></osm>',
    )
    assert sorted(load_graph(target).nodes) == [1, 3, 4, 5]


def test_truncated_xml_names_the_file(tiny_osm: Path, tmp_path: Path) -> None:
    target = tmp_path / "cut.osm"
    target.write_text(tiny_osm.read_text()[:400])
    with pytest.raises(DataError, match=r"cut\.osm"):
        load_graph(target)


def test_no_roads_is_an_error(tmp_path: Path) -> None:
    target = write(
        tmp_path / "paths.osm",
        '<osm version="0.6"><node id="1" lat="34" lon="71.5"/><node id="2" lat="34"'
        ' lon="71.501"/><way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway"'
        ' v="footway"/></way></osm>',
    )
    with pytest.raises(DataError, match=r"paths\.osm: no drivable roads"):
        load_graph(target)


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"roads\.txt: unknown road file type"):
        load_graph(write(tmp_path / "roads.txt", "x"))
    with pytest.raises(DataError, match=r"nowhere\.osm: road file not found"):
        load_graph(tmp_path / "nowhere.osm")


def test_broken_line_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"bad\.geojson: cannot read road lines"):
        load_graph(write(tmp_path / "bad.geojson", '{"type": "FeatureCollection", "feat'))


def test_line_file_with_points_names_the_row(tmp_path: Path) -> None:
    target = write(
        tmp_path / "mixed.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {}, "geometry": {"type": "LineString",'
        ' "coordinates": [[71.5, 34.0], [71.501, 34.0]]}},'
        '{"type": "Feature", "properties": {}, "geometry": {"type": "Point",'
        ' "coordinates": [71.5, 34.0]}}]}',
    )
    with pytest.raises(DataError, match=r"mixed\.geojson: row 2: geometry is a Point"):
        load_graph(target)


def test_zipped_shapefile_lines(tmp_path: Path) -> None:
    import zipfile

    import geopandas as gpd
    from shapely.geometry import LineString

    gdf = gpd.GeoDataFrame(
        {"highway": ["primary"], "maxspeed": ["30 mph"], "oneway": ["yes"]},
        geometry=[LineString([(71.500, 34.0), (71.502, 34.0)])], crs="EPSG:4326",
    )
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf.to_file(folder / "roads.shp")
    target = tmp_path / "roads.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    G = load_graph(target)
    assert [(G.nodes[u]["x"], G.nodes[v]["x"]) for u, v in G.edges()] == [(71.5, 71.502)]
    (data,) = [d for _, _, d in G.edges(data=True)]
    length = haversine_m(71.5, 34.0, 71.502, 34.0)
    assert data["travel_time"] == pytest.approx(length / (30 * 1.609344) * 3.6, rel=1e-9)


def test_node_without_location_splits_the_way(tmp_path: Path) -> None:
    # node 2 is out of range: 1 and 3 must not be joined by a straight shortcut
    target = write(
        tmp_path / "bad_node.osm",
        '<osm version="0.6"><node id="1" lat="34" lon="71.5"/><node id="2" lat="95"'
        ' lon="71.501"/><node id="3" lat="34" lon="71.502"/><node id="4" lat="34.001"'
        ' lon="71.502"/><way id="7"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/>'
        '<tag k="highway" v="residential"/></way></osm>',
    )
    with pytest.warns(DataWarning, match=r"bad_node\.osm: 1 way node.*split there: way id\(s\) 7"):
        G = load_graph(target)
    assert 1 not in G  # its only neighbour was the broken node: nothing joins it to 3
    assert G.has_edge(3, 4)


def test_non_numeric_osm_coordinate_is_a_data_error(tmp_path: Path) -> None:
    target = write(tmp_path / "abc.osm", '<osm version="0.6"><node id="1" lat="abc" lon="71.5"/>'
                   '<node id="2" lat="34" lon="71.6"/><way id="1"><nd ref="1"/><nd ref="2"/>'
                   '<tag k="highway" v="primary"/></way></osm>')
    with pytest.raises(DataError, match=r"abc\.osm"):
        load_graph(target)


def test_graphml_in_metres_without_crs_is_refused(tiny_osm: Path, tmp_path: Path) -> None:
    G = ox.projection.project_graph(load_graph(tiny_osm), to_crs="EPSG:32642")
    G.graph.pop("crs")
    target = tmp_path / "metres.graphml"
    ox.save_graphml(G, target)
    with pytest.raises(DataError, match=r"metres\.graphml: node\(s\).*declare its CRS"):
        load_graph(target)


def test_implausible_maxspeed_is_ignored_with_a_warning(tmp_path: Path) -> None:
    target = write(
        tmp_path / "lines.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"highway": "residential", "maxspeed": "999999999"}, "geometry": {"type": '
        '"LineString", "coordinates": [[71.500, 34.0], [71.502, 34.0]]}}]}',
    )
    assert parse_maxspeed("999999999") is None
    with pytest.warns(DataWarning, match=r"maxspeed beyond 300 km/h ignored at '999999999'"):
        G = load_graph(target)
    assert {d["speed_kph"] for _, _, d in G.edges(data=True)} == {20.0}


def test_graphml_from_another_tool_is_explained(tmp_path: Path) -> None:
    target = write(
        tmp_path / "other.graphml",
        '<?xml version="1.0" encoding="utf-8"?><graphml xmlns="http://graphml.graphdrawing.org'
        '/xmlns"><key id="d0" for="node" attr.name="x" attr.type="string"/><key id="d1" '
        'for="node" attr.name="y" attr.type="string"/><graph edgedefault="directed">'
        '<node id="n0"><data key="d0">71.5</data><data key="d1">34</data></node>'
        '<node id="n1"><data key="d0">71.6</data><data key="d1">34</data></node>'
        '<edge source="n0" target="n1"/></graph></graphml>',
    )
    with pytest.raises(DataError) as err:
        load_graph(target)
    assert "other.graphml: cannot read GraphML: the value 'n0' should be a whole number" in str(
        err.value)
    assert "invalid literal" not in str(err.value)
