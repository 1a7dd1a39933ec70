"""Tests for coverage.data.loaders: formats, dtypes, CRS handling, every error and warning."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from coverage import settings
from coverage.data.loaders import read_officers, read_stations, read_suspension, read_zones
from coverage.errors import DataError, DataWarning

SEEN = "2026-11-25T08:00:00+05:00"
OFFICER_HEADER = "officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
STATIONS_CSV = (
    "station_id,name,division,sanctioned_strength,vehicles,lat,lon\n"
    "S1,Saddar,City,40,3,34.0,71.5\n"
    "S2,Hayatabad,,25,,33.98,71.43\n"
)
SQUARE = [[71.50, 34.00], [71.51, 34.00], [71.51, 34.01], [71.50, 34.01], [71.50, 34.00]]
BOWTIE = [[71.50, 34.00], [71.51, 34.01], [71.51, 34.00], [71.50, 34.01], [71.50, 34.00]]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def geojson(path: Path, features: list[tuple[dict[str, Any], dict[str, Any] | None]]) -> Path:
    """Write a FeatureCollection of (properties, geometry) pairs as GeoJSON text."""
    feats = [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]
    return write(path, json.dumps({"type": "FeatureCollection", "features": feats}))


def pt(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def poly(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def officer(oid: str, *, station: str = "S1", status: str = "on_duty", lat: str = "",
            lon: str = "", seen: str = SEEN) -> str:
    return f"{oid},Officer {oid},Constable,{station},{status},{lat},{lon},{seen}\n"


def officers_csv(tmp_path: Path, *rows: str, name: str = "officers.csv") -> Path:
    return write(tmp_path / name, OFFICER_HEADER + "".join(rows))


def quiet_to_file(gdf: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> None:
    """Write with geopandas, silencing the writer's own notes (field-name laundering, no CRS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(path, **kwargs)


def zipped_shapefile(gdf: gpd.GeoDataFrame, folder: Path, name: str) -> Path:
    folder.mkdir()
    quiet_to_file(gdf, folder / f"{name}.shp")
    target = folder.parent / f"{name}.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for part in sorted(folder.iterdir()):
            zf.write(part, part.name)
    return target


@pytest.fixture
def stations(tmp_path: Path) -> gpd.GeoDataFrame:
    return read_stations(write(tmp_path / "stations.csv", STATIONS_CSV))


# --- stations -------------------------------------------------------------------------------


def test_stations_csv_columns_dtypes_and_values(tmp_path: Path) -> None:
    st = read_stations(write(tmp_path / "stations.csv", STATIONS_CSV))
    assert list(st.columns) == ["station_id", "name", "division", "sanctioned_strength",
                                "vehicles", "district", "geometry"]
    assert st["district"].tolist() == [None, None]  # optional, for the district picker
    assert isinstance(st.index, pd.RangeIndex)
    assert st.crs.to_epsg() == 4326
    assert pd.api.types.is_string_dtype(st["station_id"])
    assert pd.api.types.is_string_dtype(st["name"])
    assert st["division"].dtype == object
    assert st["division"].tolist() == ["City", None]
    assert st["sanctioned_strength"].dtype == "Int64"
    assert st["vehicles"].dtype == "Int64"
    assert st["sanctioned_strength"].tolist() == [40, 25]
    assert st["vehicles"].tolist()[0] == 3
    assert st["vehicles"].isna().tolist() == [False, True]
    assert list(st.geometry.geom_type) == ["Point", "Point"]
    assert st.geometry.x.tolist() == [71.5, 71.43]
    assert st.geometry.y.tolist() == [34.0, 33.98]


def test_stations_geojson_numeric_ids_become_text(tmp_path: Path) -> None:
    path = geojson(tmp_path / "stations.geojson", [
        ({"station_id": 1, "name": "One", "vehicles": 2}, pt(71.5, 34.0)),
        ({"station_id": 2, "name": "Two", "vehicles": None}, pt(71.6, 34.1)),
    ])
    st = read_stations(path)
    assert st["station_id"].tolist() == ["1", "2"]
    assert st["vehicles"].dtype == "Int64"
    assert st["vehicles"].isna().tolist() == [False, True]
    assert st["sanctioned_strength"].isna().all()
    assert st["division"].tolist() == [None, None]


def projected_stations() -> gpd.GeoDataFrame:
    src = gpd.GeoDataFrame(
        {"station_id": ["S1", "S2"], "name": ["Saddar", "Hayatabad"],
         "sanctioned_strength": [40, 25]},
        geometry=[Point(71.57, 34.01), Point(71.43, 33.98)], crs="EPSG:4326",
    )
    return src.to_crs("EPSG:32642")


def test_stations_gpkg_in_utm_comes_back_in_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "stations.gpkg"
    quiet_to_file(projected_stations(), path)
    st = read_stations(path)
    assert st.crs.to_epsg() == 4326
    np.testing.assert_allclose(st.geometry.x, [71.57, 71.43], atol=1e-6)
    np.testing.assert_allclose(st.geometry.y, [34.01, 33.98], atol=1e-6)


def test_stations_geojson_declaring_utm_crs_is_reprojected(tmp_path: Path) -> None:
    utm = projected_stations()
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32642"}},
        "features": [
            {"type": "Feature", "properties": {"station_id": sid, "name": "X"},
             "geometry": {"type": "Point", "coordinates": [p.x, p.y]}}
            for sid, p in zip(utm["station_id"], utm.geometry, strict=True)
        ],
    }
    st = read_stations(write(tmp_path / "stations.geojson", json.dumps(doc)))
    assert st.crs.to_epsg() == 4326
    np.testing.assert_allclose(st.geometry.x, [71.57, 71.43], atol=1e-6)
    np.testing.assert_allclose(st.geometry.y, [34.01, 33.98], atol=1e-6)


def test_stations_zipped_shapefile_with_truncated_field_names(tmp_path: Path) -> None:
    path = zipped_shapefile(projected_stations(), tmp_path / "shp", "stations")
    st = read_stations(path)
    assert st["station_id"].tolist() == ["S1", "S2"]
    assert st["sanctioned_strength"].tolist() == [40, 25]  # stored as "sanctioned"
    np.testing.assert_allclose(st.geometry.x, [71.57, 71.43], atol=1e-6)
    np.testing.assert_allclose(st.geometry.y, [34.01, 33.98], atol=1e-6)


def test_stations_missing_column_names_it_and_lists_found(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv", "station_id,lat,lon\nS1,34,71.5\n")
    with pytest.raises(DataError, match=r"stations\.csv: missing required column\(s\) name; "
                                        r"columns found: station_id, lat, lon"):
        read_stations(path)


def test_stations_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv",
                 "station_id,name,lat,lon\nS1,A,34,71.5\nS2,B,34,71.6\nS1,C,34,71.7\n")
    with pytest.raises(DataError, match=r"stations\.csv: row 3 \(line 4\): station_id 'S1' "
                                        r"duplicates row 1 \(line 2\)"):
        read_stations(path)


def test_stations_collects_every_problem_in_one_error(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv",
                 "station_id,name,vehicles,lat,lon\n"
                 ",Empty id,1,34,71.5\n"
                 "S2,Bad lat,1,north,71.5\n"
                 "S3,Bad lon,1,34,200\n"
                 "S4,Only lat,1,34,\n"
                 "S5,Negative,-2,34,71.5\n"
                 "S6,Fine,0,34,71.5\n")
    with pytest.raises(DataError) as info:
        read_stations(path)
    lines = str(info.value).splitlines()
    assert lines == [
        "stations.csv: row 1 (line 2): station_id is empty; every station needs a station_id",
        "stations.csv: row 5 (line 6): vehicles '-2' is out of range; give a whole number >= 0, "
        "or leave it empty",
        "stations.csv: row 2 (line 3): lat 'north' is not a number; give WGS84 decimal degrees",
        "stations.csv: row 3 (line 4): lon 200 is outside -180..180; give WGS84 decimal degrees",
        "stations.csv: row 4 (line 5): only lat is given; give both lat and lon",
    ]


def test_csv_rows_name_their_real_file_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv",
                 'station_id,name,lat,lon\nS1,"Two\nlines",34,71.5\n\nS2,B,34,71.5,extra\n'
                 "S1,C,34,71.5\n")
    with pytest.raises(DataError) as info:
        read_stations(path)
    assert str(info.value).splitlines() == [
        "stations.csv: row 2 (line 5): has 5 fields but the header has 4; quote values with "
        "commas",
        "stations.csv: row 3 (line 6): station_id 'S1' duplicates row 1 (line 2); "
        "ids must be unique",
    ]


def test_csv_wide_first_row_is_not_taken_as_an_index(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv", "station_id,name,lat,lon\nS1,A,34,71.5,x,y\n")
    with pytest.raises(DataError, match=r"^stations\.csv: row 1 \(line 2\): has 6 fields but "
                                        r"the header has 4; quote values with commas$"):
        read_stations(path)


def test_stations_out_of_range_hints_at_swapped_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv", "station_id,name,lat,lon\nS1,A,171.5,34.0\n")
    with pytest.raises(DataError, match=r"row 1 \(line 2\): lat 171\.5 is outside -90\.\.90; "
                                        r"lat and lon look swapped"):
        read_stations(path)


def test_stations_wrong_and_empty_geometry_are_errors(tmp_path: Path) -> None:
    path = geojson(tmp_path / "stations.geojson", [
        ({"station_id": "S1", "name": "A"}, pt(71.5, 34.0)),
        ({"station_id": "S2", "name": "B"}, {"type": "LineString",
                                             "coordinates": [[71.5, 34.0], [71.6, 34.1]]}),
        ({"station_id": "S3", "name": "C"}, None),
    ])
    with pytest.raises(DataError) as info:
        read_stations(path)
    assert str(info.value).splitlines() == [
        "stations.geojson: row 2: geometry is a LineString, not a Point; "
        "give each station one point",
        "stations.geojson: row 3: geometry is empty; give the station's point",
    ]


def test_stations_extra_columns_are_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv",
                 "station_id,name,lat,lon,phone,notes\nS1,A,34,71.5,1,x\n")
    with pytest.warns(DataWarning,
                      match=r"stations\.csv: ignored unknown column\(s\) phone, notes"):
        st = read_stations(path)
    assert list(st.columns)[-1] == "geometry"
    assert "phone" not in st.columns


def test_warning_points_at_the_caller(tmp_path: Path) -> None:
    path = write(tmp_path / "stations.csv", "station_id,name,lat,lon,phone\nS1,A,34,71.5,1\n")
    with pytest.warns(DataWarning) as record:
        read_stations(path)
    assert record[0].filename == __file__


# --- file-level errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("stations.csv", b"", r"stations\.csv: the file is empty"),
        ("stations.csv", b"station_id,name,lat,lon\n", r"stations\.csv: the file is empty: it "
                                                       r"holds no records"),
        ("stations.csv", b"\xff\xfe\x00\x81binary\x00", r"stations\.csv: not a readable CSV"),
        ("stations.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Fea',
         r"stations\.geojson: cannot be read as a spatial file"),
        ("stations.geojson", b'{"type": "FeatureCollection", "features": []}',
         r"stations\.geojson: the file is empty: it holds no records"),
        ("stations.zip", b"PK\x03\x04not really a zip", r"stations\.zip: not a valid zip"),
        ("stations.gpkg", b"not a geopackage", r"stations\.gpkg: cannot be read"),
    ],
)
def test_unreadable_files_raise_data_error(tmp_path: Path, name: str, content: bytes,
                                           pattern: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern):
        read_stations(path)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"stations\.csv: file not found at "):
        read_stations(tmp_path / "stations.csv")
    with pytest.raises(DataError, match=r"stations\.xlsx: unknown file type '\.xlsx'"):
        read_stations(write(tmp_path / "stations.xlsx", "x"))
    with pytest.raises(DataError, match=r"zones\.kml: unknown file type"):
        read_zones(write(tmp_path / "zones.kml", "x"))


def test_no_crs_with_metric_coordinates_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "stations.gpkg"
    quiet_to_file(projected_stations().set_crs(None, allow_override=True), path)
    with pytest.raises(DataError, match=r"stations\.gpkg: the file declares no CRS and its "
                                        r"coordinates .* are not degrees"):
        read_stations(path)


def test_no_crs_with_degree_coordinates_is_assumed_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "stations.gpkg"
    gdf = gpd.GeoDataFrame({"station_id": ["S1"], "name": ["A"]}, geometry=[Point(71.5, 34.0)])
    quiet_to_file(gdf, path)
    with pytest.warns(DataWarning, match=r"stations\.gpkg: the file declares no CRS; .* WGS84"):
        st = read_stations(path)
    assert st.crs.to_epsg() == 4326
    assert (st.geometry.x[0], st.geometry.y[0]) == (71.5, 34.0)


# --- zones ----------------------------------------------------------------------------------


def test_zones_geojson_dtypes_and_defaults(tmp_path: Path) -> None:
    path = geojson(tmp_path / "zones.geojson", [
        ({"zone_id": "Z1", "name": "Bazaar", "priority": 1, "target_min": 5.5,
          "min_officers": 2}, poly(SQUARE)),
        ({"zone_id": "Z2", "name": "Ring", "priority": None, "target_min": None,
          "min_officers": None}, {"type": "MultiPolygon", "coordinates": [[SQUARE]]}),
    ])
    zn = read_zones(path)
    assert list(zn.columns) == ["zone_id", "name", "priority", "target_min", "min_officers",
                                "geometry"]
    assert isinstance(zn.index, pd.RangeIndex)
    assert zn.crs.to_epsg() == 4326
    assert pd.api.types.is_string_dtype(zn["zone_id"])
    assert zn["priority"].dtype == "Int64"
    assert zn["priority"].isna().tolist() == [False, True]
    assert zn["target_min"].dtype == np.float64
    assert zn["target_min"][0] == 5.5
    assert np.isnan(zn["target_min"][1])
    assert zn["min_officers"].dtype == "Int64"
    assert zn["min_officers"].tolist() == [2, settings.DEFAULT_MIN_OFFICERS]
    assert list(zn.geometry.geom_type) == ["Polygon", "MultiPolygon"]


def test_zones_csv_with_wkt_and_missing_optional_columns(tmp_path: Path) -> None:
    wkt = Polygon(SQUARE).wkt
    path = write(tmp_path / "zones.csv", f'zone_id,name,geometry\nZ1,Bazaar,"{wkt}"\n')
    zn = read_zones(path)
    assert zn["zone_id"].tolist() == ["Z1"]
    assert zn["priority"].isna().all()
    assert zn["min_officers"].tolist() == [settings.DEFAULT_MIN_OFFICERS]
    assert zn.geometry[0].equals(Polygon(SQUARE))


def test_zones_csv_bad_wkt_and_wrong_types(tmp_path: Path) -> None:
    good = Polygon(SQUARE).wkt
    path = write(
        tmp_path / "zones.csv",
        "zone_id,name,priority,target_min,min_officers,geometry\n"
        f'Z1,A,4,5,1,"{good}"\n'
        f'Z2,B,high,0,-1,"{good}"\n'
        f'Z3,C,2,soon,1.5,"{good}"\n'
        'Z4,D,,,,"POLYGON ((71.5 34, 71.6"\n'
        'Z5,E,,,,"POINT (71.5 34)"\n'
        "Z6,F,,,,\n",
    )
    with pytest.raises(DataError) as info:
        read_zones(path)
    msg = str(info.value)
    for expected in [
        "zones.csv: row 1 (line 2): priority '4' is out of range; use 1, 2 or 3",
        "zones.csv: row 2 (line 3): priority 'high' is not a number",
        "zones.csv: row 2 (line 3): target_min '0' is out of range; give minutes from 0.1 to 1440",
        "zones.csv: row 3 (line 4): target_min 'soon' is not a number",
        "zones.csv: row 2 (line 3): min_officers '-1' is out of range",
        "zones.csv: row 3 (line 4): min_officers '1.5' is not a whole number",
        "zones.csv: row 4 (line 5): geometry 'POLYGON ((71.5 34, 71.6' is not valid WKT",
        "zones.csv: row 5 (line 6): geometry is a Point, not a Polygon or MultiPolygon",
        "zones.csv: row 6 (line 7): geometry is empty; draw the zone's polygon",
    ]:
        assert expected in msg
    assert len(msg.splitlines()) == 9


def test_zones_self_intersecting_polygon_is_repaired_with_warning(tmp_path: Path) -> None:
    path = geojson(tmp_path / "zones.geojson", [
        ({"zone_id": "Z1", "name": "Fine"}, poly(SQUARE)),
        ({"zone_id": "Z2", "name": "Bowtie"}, poly(BOWTIE)),
    ])
    with pytest.warns(DataWarning, match=r"zones\.geojson: repaired invalid .* at row 2 "
                                         r"\(zone Z2: Self-intersection"):
        zn = read_zones(path)
    assert zn.geometry.is_valid.all()
    assert isinstance(zn.geometry[1], MultiPolygon)
    assert zn.geometry[1].area == pytest.approx(Polygon(SQUARE).area / 2)


def test_zones_missing_columns_and_duplicates(tmp_path: Path) -> None:
    path = geojson(tmp_path / "zones.geojson", [
        ({"zone_id": "Z1"}, poly(SQUARE)),
        ({"zone_id": "Z1"}, poly(SQUARE)),
    ])
    with pytest.raises(DataError) as info:
        read_zones(path)
    assert str(info.value).splitlines() == [
        "zones.geojson: missing required column(s) name; columns found: zone_id",
        "zones.geojson: row 2: zone_id 'Z1' duplicates row 1; ids must be unique",
    ]


def test_zones_line_geometry_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "zones.gpkg"
    gdf = gpd.GeoDataFrame({"zone_id": ["Z1"], "name": ["A"]},
                           geometry=[LineString([(71.5, 34.0), (71.6, 34.1)])], crs=4326)
    quiet_to_file(gdf, path)
    with pytest.raises(DataError, match=r"zones\.gpkg: row 1: geometry is a LineString"):
        read_zones(path)


def test_zones_zipped_shapefile_in_utm(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"zone_id": ["Z1"], "name": ["A"], "min_officers": [3]},
                           geometry=[Polygon(SQUARE)], crs=4326).to_crs(32642)
    zn = read_zones(zipped_shapefile(gdf, tmp_path / "shp", "zones"))
    assert zn["min_officers"].tolist() == [3]  # stored as "min_office"
    np.testing.assert_allclose(zn.total_bounds, [71.50, 34.00, 71.51, 34.01], atol=1e-6)


# --- officers -------------------------------------------------------------------------------


def test_officers_csv_dtypes_and_at_station(tmp_path: Path,
                                            stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(
        tmp_path,
        officer("A"),
        officer("B", station="S2", status="reserve", lat="34.005", lon="71.505"),
        officer("C", station="S2", status="off_duty", seen=""),
    )
    before = stations.copy()
    off = read_officers(path, stations)
    pd.testing.assert_frame_equal(pd.DataFrame(stations), pd.DataFrame(before))
    assert list(off.columns) == ["officer_id", "name", "rank", "station_id", "status", "lat",
                                 "lon", "last_seen", "at_station", "geometry"]
    assert isinstance(off.index, pd.RangeIndex)
    assert off.crs.to_epsg() == 4326
    for col in ("officer_id", "name", "rank", "station_id", "status"):
        assert pd.api.types.is_string_dtype(off[col]), col
    assert off["lat"].dtype == np.float64
    assert off["lon"].dtype == np.float64
    assert isinstance(off["last_seen"].dtype, pd.DatetimeTZDtype)
    assert str(off["last_seen"].dt.tz) == "UTC"
    assert off["last_seen"][0] == pd.Timestamp("2026-11-25T03:00:00Z")
    assert pd.isna(off["last_seen"][2])
    assert off["at_station"].dtype == bool
    assert off["at_station"].tolist() == [True, False, True]
    assert np.isnan(off["lat"][0])
    assert np.isnan(off["lon"][2])
    assert off["status"].tolist() == ["on_duty", "reserve", "off_duty"]
    assert off.geometry[0].equals(Point(71.5, 34.0))    # station S1
    assert off.geometry[1].equals(Point(71.505, 34.005))  # own position
    assert off.geometry[2].equals(Point(71.43, 33.98))  # station S2


def test_officers_unknown_status_row_seven(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    rows = [officer(str(i)) for i in range(1, 7)] + [officer("7", status="on_strike")]
    path = officers_csv(tmp_path, *rows)
    with pytest.raises(DataError, match=r"^officers\.csv: row 7 \(line 8\): status 'on_strike' "
                                        r"is not one of on_duty, reserve, off_duty, suspended$"):
        read_officers(path, stations)


def test_officers_two_bad_rows_in_one_error(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(
        tmp_path,
        officer("A", status="busy"),
        officer("B"),
        officer("C", lat="34.0"),
        officer("A"),
    )
    with pytest.raises(DataError) as info:
        read_officers(path, stations)
    assert str(info.value).splitlines() == [
        "officers.csv: row 4 (line 5): officer_id 'A' duplicates row 1 (line 2); "
        "ids must be unique",
        "officers.csv: row 1 (line 2): status 'busy' is not one of on_duty, reserve, "
        "off_duty, suspended",
        "officers.csv: row 3 (line 4): only lat is given; give both lat and lon, or leave both "
        "empty for an officer at the station",
    ]


@pytest.mark.parametrize(
    ("seen", "pattern"),
    [
        ("2026-11-25T08:00:00", r"last_seen '2026-11-25T08:00:00' has no UTC offset; add an "
                                r"offset like \+05:00"),
        ("25/11/2026 08:00", r"last_seen '25/11/2026 08:00' is not an ISO 8601 date-time"),
        ("2026-13-45T08:00:00+05:00", r"last_seen '2026-13-45T08:00:00\+05:00' is not a valid "
                                      r"date-time"),
    ],
)
def test_officers_bad_last_seen(tmp_path: Path, stations: gpd.GeoDataFrame, seen: str,
                                pattern: str) -> None:
    path = officers_csv(tmp_path, officer("A"), officer("B", seen=seen))
    with pytest.raises(DataError, match=r"officers\.csv: row 2 \(line 3\): " + pattern):
        read_officers(path, stations)


def test_officers_accepts_z_and_compact_offsets(tmp_path: Path,
                                                stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(tmp_path, officer("A", seen="2026-11-25T08:00:00Z"),
                        officer("B", seen="2026-11-25 08:00+0500"))
    off = read_officers(path, stations)
    assert off["last_seen"].tolist() == [pd.Timestamp("2026-11-25T08:00:00Z"),
                                         pd.Timestamp("2026-11-25T03:00:00Z")]


def test_officers_missing_columns(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    path = write(tmp_path / "officers.csv", "officer_id,name,status\nA,Officer A,on_duty\n")
    with pytest.raises(DataError, match=r"officers\.csv: missing required column\(s\) rank, "
                                        r"station_id, lat, lon, last_seen; columns found: "
                                        r"officer_id, name, status"):
        read_officers(path, stations)


def test_officers_zero_rows_is_an_empty_file_error(tmp_path: Path,
                                                   stations: gpd.GeoDataFrame) -> None:
    with pytest.raises(DataError, match=r"officers\.csv: the file is empty"):
        read_officers(officers_csv(tmp_path), stations)


def test_officers_out_of_range_and_non_numeric(tmp_path: Path,
                                               stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(tmp_path, officer("A", lat="95", lon="171.5"),
                        officer("B", lat="34", lon="east"))
    with pytest.raises(DataError) as info:
        read_officers(path, stations)
    assert str(info.value).splitlines() == [
        "officers.csv: row 2 (line 3): lon 'east' is not a number; give WGS84 decimal degrees",
        "officers.csv: row 1 (line 2): lat 95 is outside -90..90; give WGS84 decimal degrees",
    ]


def test_officers_unknown_station_with_position_is_kept(tmp_path: Path,
                                                        stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(tmp_path, officer("A"),
                        officer("B", station="S9", lat="34.0", lon="71.55"))
    with pytest.warns(DataWarning, match=r"officers\.csv: station_id names no station at row 2 "
                                         r"\(line 3\) \(officer B, station_id 'S9'\); kept"):
        off = read_officers(path, stations)
    assert off["officer_id"].tolist() == ["A", "B"]
    assert off.geometry[1].equals(Point(71.55, 34.0))


def test_officers_unknown_station_without_position_is_dropped(
    tmp_path: Path, stations: gpd.GeoDataFrame
) -> None:
    path = officers_csv(tmp_path, officer("A"), officer("B", station="S9"), officer("C"))
    with pytest.warns(DataWarning, match=r"officers\.csv: station_id names no station at row 2 "
                                         r"\(line 3\) \(officer B, station_id 'S9'\);.*dropped"):
        off = read_officers(path, stations)
    assert off["officer_id"].tolist() == ["A", "C"]
    assert isinstance(off.index, pd.RangeIndex)


def test_officers_swapped_coordinates_warning(tmp_path: Path,
                                              stations: gpd.GeoDataFrame) -> None:
    path = officers_csv(tmp_path, officer("A", lat="34.0", lon="71.5"),
                        officer("B", lat="71.5", lon="34.0"))
    with pytest.warns(DataWarning, match=r"officers\.csv: lat and lon look swapped .* at row 2 "
                                         r"\(line 3\) \(lat 71\.5, lon 34\)"):
        off = read_officers(path, stations)
    assert len(off) == 2


def test_officers_geojson_null_geometry_means_at_station(tmp_path: Path,
                                                         stations: gpd.GeoDataFrame) -> None:
    props = {"name": "X", "rank": "ASI", "station_id": "S2", "status": "on_duty",
             "last_seen": SEEN}
    path = geojson(tmp_path / "officers.geojson", [
        ({"officer_id": "A", **props}, pt(71.44, 33.99)),
        ({"officer_id": "B", **props}, None),
    ])
    off = read_officers(path, stations)
    assert off["at_station"].tolist() == [False, True]
    assert off["lon"][0] == 71.44
    assert np.isnan(off["lat"][1])
    assert off.geometry[1].equals(Point(71.43, 33.98))
    assert off["last_seen"].tolist() == [pd.Timestamp("2026-11-25T03:00:00Z")] * 2


def test_officers_gpkg_in_utm(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    gdf = gpd.GeoDataFrame(
        {"officer_id": ["A"], "name": ["X"], "rank": ["SI"], "station_id": ["S1"],
         "status": ["reserve"], "last_seen": [SEEN]},
        geometry=[Point(71.52, 34.02)], crs=4326,
    ).to_crs(32642)
    path = tmp_path / "officers.gpkg"
    quiet_to_file(gdf, path)
    off = read_officers(path, stations)
    assert off["lon"][0] == pytest.approx(71.52, abs=1e-6)
    assert off["lat"][0] == pytest.approx(34.02, abs=1e-6)
    assert not off["at_station"][0]


def test_officers_point_file_wrong_geometry(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    props = {"officer_id": "A", "name": "X", "rank": "ASI", "station_id": "S1",
             "status": "on_duty", "last_seen": SEEN}
    path = geojson(tmp_path / "officers.geojson", [(props, poly(SQUARE))])
    with pytest.raises(DataError, match=r"officers\.geojson: row 1: geometry is a Polygon, "
                                        r"not a Point"):
        read_officers(path, stations)


# --- suspension lists -----------------------------------------------------------------------


@pytest.fixture
def officers(tmp_path: Path, stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    path = officers_csv(tmp_path, officer("A"), officer("B"), officer("C"))
    return read_officers(path, stations)


def test_suspension_csv(tmp_path: Path, officers: gpd.GeoDataFrame) -> None:
    path = write(tmp_path / "suspend.csv", "officer_id\nC\nA\n")
    assert read_suspension(path, officers) == ["C", "A"]
    assert read_suspension(path) == ["C", "A"]


def test_suspension_text_skips_blanks_and_comments(tmp_path: Path) -> None:
    path = write(tmp_path / "suspend.txt", "# suspended today\nB\n\n  A  \n#C\n")
    assert read_suspension(path) == ["B", "A"]


def test_suspension_duplicates_are_warned_and_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "suspend.txt", "A\nB\nA\n")
    with pytest.warns(DataWarning, match=r"suspend\.txt: officer_id listed more than once, "
                                         r"repeats ignored: 'A' at line 3 \(first at line 1\)"):
        assert read_suspension(path) == ["A", "B"]


def test_suspension_unknown_ids_are_named_and_dropped(tmp_path: Path,
                                                      officers: gpd.GeoDataFrame) -> None:
    path = write(tmp_path / "suspend.csv", "officer_id\nA\nX9\nB\nY7\n")
    with pytest.warns(DataWarning, match=r"suspend\.csv: 2 officer_id\(s\) match no officer and "
                                         r"are ignored: 'X9' \(row 2 \(line 3\)\), "
                                         r"'Y7' \(row 4 \(line 5\)\)"):
        assert read_suspension(path, officers) == ["A", "B"]


@pytest.mark.parametrize(("name", "text"), [("suspend.txt", ""), ("suspend.txt", "# none\n\n"),
                                            ("suspend.csv", "officer_id\n"),
                                            ("suspend.csv", "")])
def test_suspension_empty_lists_give_empty_result(tmp_path: Path, name: str, text: str) -> None:
    assert read_suspension(write(tmp_path / name, text)) == []


def test_suspension_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"suspend\.csv: missing required column\(s\) officer_id; "
                                        r"columns found: id"):
        read_suspension(write(tmp_path / "suspend.csv", "id\nA\n"))
    with pytest.raises(DataError, match=r"suspend\.csv: row 2 \(line 3\): officer_id is empty"):
        read_suspension(write(tmp_path / "suspend.csv", "officer_id,reason\nA,x\n,y\n"))
    with pytest.raises(DataError, match=r"missing\.txt: file not found"):
        read_suspension(tmp_path / "missing.txt")
    with pytest.raises(DataError, match=r"suspend\.xlsx: unknown file type"):
        read_suspension(write(tmp_path / "suspend.xlsx", "A\n"))
    bad = tmp_path / "suspend.txt"
    bad.write_bytes(b"\xff\xfe\x81\x00")
    with pytest.raises(DataError, match=r"suspend\.txt: cannot be read as UTF-8 text"):
        read_suspension(bad)


# --- hardening (issue 15) -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["geojson", "wkt"])
def test_zone_with_nan_coordinate_names_the_row(tmp_path: Path, form: str) -> None:
    if form == "geojson":
        path = write(tmp_path / "zones.geojson",
                     '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                     '"properties": {"zone_id": "Z1", "name": "N"}, "geometry": {"type": '
                     '"Polygon", "coordinates": [[[71.50, 34.0], [NaN, 34.0], [71.51, 34.01],'
                     ' [71.50, 34.0]]]}}]}')
    else:
        path = write(tmp_path / "zones.csv", 'zone_id,name,geometry\nZ1,N,"POLYGON ((71.50 '
                     '34.0, nan 34.0, 71.51 34.01, 71.50 34.0))"\n')
    with pytest.raises(DataError, match=r"zones\.\w+: row 1.*not a number \(NaN or infinite\)"):
        read_zones(path)


def test_unclosed_ring_names_the_row(tmp_path: Path) -> None:
    ring = [[71.50, 34.00], [71.51, 34.00], [71.51, 34.01], [71.50, 34.01]]  # not closed
    path = geojson(tmp_path / "zones.geojson", [
        ({"zone_id": "Z1", "name": "A"}, {"type": "Polygon", "coordinates": [SQUARE]}),
        ({"zone_id": "Z2", "name": "B"}, {"type": "Polygon", "coordinates": [ring]})])
    with pytest.raises(DataError, match=r"zones\.geojson: row 2: a polygon ring is not closed"):
        read_zones(path)
    wkt = write(tmp_path / "zones.csv", 'zone_id,name,geometry\nZ1,N,"POLYGON ((71.50 34.0, '
                '71.51 34.0, 71.51 34.01, 71.50 34.01))"\n')
    with pytest.raises(DataError, match=r"row 1 \(line 2\): geometry .*ring is not closed"):
        read_zones(wkt)


@pytest.mark.parametrize(("column", "value"), [
    ("target_min", "1e-300"), ("target_min", "1e300"), ("min_officers", "999999999")])
def test_zone_figures_beyond_plausible_ranges_are_refused(tmp_path: Path, column: str,
                                                          value: str) -> None:
    wkt = "POLYGON ((71.5 34, 71.51 34, 71.51 34.01, 71.5 34))"
    path = write(tmp_path / "zones.csv",
                 f'zone_id,name,geometry,{column}\nZ1,N,"{wkt}",{value}\n')
    with pytest.raises(DataError, match=rf"row 1 \(line 2\): {column} '{value}' is out of range"):
        read_zones(path)


def test_repeated_column_is_refused_naming_both(tmp_path: Path,
                                                stations: gpd.GeoDataFrame) -> None:
    path = write(tmp_path / "officers.csv", OFFICER_HEADER.rstrip("\n") + ",status\n"
                 + officer("A").rstrip("\n") + ",off_duty\n")
    with pytest.raises(DataError, match=r"column 'status' appears more than once "
                                        r"\(columns 5 and 9\)"):
        read_officers(path, stations)


def test_semicolon_csv_is_said_plainly(tmp_path: Path, stations: gpd.GeoDataFrame) -> None:
    path = write(tmp_path / "officers.csv", OFFICER_HEADER.replace(",", ";")
                 + "A;Officer A;Constable;S1;on_duty;34,0;71,5;" + SEEN + "\n")
    with pytest.raises(DataError) as err:
        read_officers(path, stations)
    assert "this file uses ';' to separate values" in str(err.value)
    assert "fields" not in str(err.value)
    assert str(err.value).count("\n") == 0


def test_decimal_comma_time_is_accepted_as_in_the_feed(tmp_path: Path,
                                                       stations: gpd.GeoDataFrame) -> None:
    from coverage.ops.feed import parse_timestamp as feed_parse

    seen = "2026-11-25T08:00:00,5Z"
    off = read_officers(officers_csv(tmp_path, officer("A", seen=f'"{seen}"')), stations)
    assert off["last_seen"].iloc[0] == pd.Timestamp("2026-11-25T08:00:00.5Z")
    assert feed_parse(seen)[0] == off["last_seen"].iloc[0].value // 1000


def test_gpkg_with_several_layers_reads_the_named_one(tmp_path: Path) -> None:
    path = tmp_path / "district.gpkg"
    pts = gpd.GeoDataFrame({"station_id": ["X"], "name": ["x"]}, geometry=[Point(71.5, 34)],
                           crs="EPSG:4326")
    zones = gpd.GeoDataFrame({"zone_id": ["Z1"], "name": ["z"]},
                             geometry=[Polygon(SQUARE)], crs="EPSG:4326")
    quiet_to_file(pts, path, layer="stations")
    quiet_to_file(zones, path, layer="zones")
    with pytest.warns(DataWarning, match=r"2 layers \(stations, zones\); read layer 'zones'"):
        out = read_zones(path)
    assert list(out["zone_id"]) == ["Z1"]
    other = tmp_path / "other.gpkg"
    quiet_to_file(pts, other, layer="a")
    quiet_to_file(pts, other, layer="b")
    with pytest.raises(DataError, match=r"2 layers \(a, b\) and none is named 'stations'"):
        read_stations(other)
