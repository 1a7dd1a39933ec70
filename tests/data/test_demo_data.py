"""Contract checks (DATA.md) for the bundled synthetic Peshawar demo district."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
from scipy.spatial import cKDTree

from coverage.data.demo import DEMO_DIR as DEMO

FILES = ("roads.osm.pbf", "stations.geojson", "zones.geojson", "officers.csv",
         "suspended_42.csv")
BBOX = (71.37, 33.66, 71.86, 34.23)
OFFICER_COLUMNS = ["officer_id", "name", "rank", "station_id", "status", "lat", "lon",
                   "last_seen"]
REF_TIME = datetime.fromisoformat("2026-11-25T08:00:00+05:00")
M_PER_DEG_LAT = 110_950.0
M_PER_DEG_LON = 111_320.0 * np.cos(np.radians(34.0))


def in_bbox(lon: np.ndarray, lat: np.ndarray) -> bool:
    """True when every point lies inside the district bounding box."""
    return bool(np.all((lon >= BBOX[0]) & (lon <= BBOX[2]) & (lat >= BBOX[1]) & (lat <= BBOX[3])))


def metres(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Local equirectangular metres, good to well under 1 % across the district."""
    return np.column_stack([np.asarray(lon) * M_PER_DEG_LON, np.asarray(lat) * M_PER_DEG_LAT])


@pytest.fixture(scope="module")
def roads() -> dict[str, object]:
    """Nodes and ways of the PBF, in file order."""
    ids, lon, lat, ways, kinds = [], [], [], [], []
    for obj in osmium.FileProcessor(str(DEMO / "roads.osm.pbf")):
        if obj.is_node():
            kinds.append("n")
            ids.append(obj.id)
            lon.append(obj.location.lon)
            lat.append(obj.location.lat)
        elif obj.is_way():
            kinds.append("w")
            ways.append((obj.id, [n.ref for n in obj.nodes], dict(obj.tags)))
        else:
            kinds.append("r")
    return {"ids": np.array(ids), "lon": np.array(lon), "lat": np.array(lat), "ways": ways,
            "kinds": "".join(kinds)}


@pytest.fixture(scope="module")
def drive_xy(roads: dict) -> np.ndarray:
    """Metric positions of the nodes used by drivable ways."""
    used = {n for _, refs, tags in roads["ways"] if tags.get("highway") != "footway"
            for n in refs}
    mask = np.isin(roads["ids"], np.fromiter(used, dtype=np.int64))
    return metres(roads["lon"][mask], roads["lat"][mask])


@pytest.fixture(scope="module")
def stations() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO / "stations.geojson")


@pytest.fixture(scope="module")
def zones() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO / "zones.geojson")


@pytest.fixture(scope="module")
def officers() -> list[dict[str, str]]:
    with (DEMO / "officers.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == OFFICER_COLUMNS
        return list(reader)


def test_files_exist() -> None:
    for name in FILES:
        assert (DEMO / name).is_file(), name
        assert (DEMO / name).stat().st_size > 0, name
    assert (DEMO / "roads.osm.pbf").stat().st_size < 6_000_000


def test_pbf_layout(roads: dict) -> None:
    kinds = roads["kinds"]
    assert "r" not in kinds
    assert kinds == "n" * kinds.count("n") + "w" * kinds.count("w")  # nodes before ways
    ids = roads["ids"]
    assert ids.min() > 0
    assert np.all(np.diff(ids) > 0)
    way_ids = np.array([w for w, _, _ in roads["ways"]])
    assert way_ids.min() > 0
    assert np.all(np.diff(way_ids) > 0)
    known = set(ids.tolist())
    assert all(len(refs) >= 2 and set(refs) <= known for _, refs, _ in roads["ways"])
    assert in_bbox(roads["lon"], roads["lat"])
    assert len(ids) >= 55_000


def test_pbf_tags(roads: dict) -> None:
    tags = [t for _, _, t in roads["ways"]]
    highways = {t.get("highway") for t in tags}
    assert None not in highways
    assert {"trunk", "primary", "secondary", "tertiary", "residential", "living_street",
            "unclassified", "track", "footway"} <= highways
    names = {t.get("name") for t in tags}
    assert {"GT Road", "Ring Road", "Jamrud Road", "Kohat Road", "Charsadda Road",
            "University Road", "Khyber Road"} <= names
    oneway = [t.get("oneway") for t in tags]
    assert oneway.count("yes") > 100
    assert oneway.count("-1") > 10
    maxspeed = {t.get("maxspeed") for t in tags}
    assert {"20", "40", "60", "30 mph"} <= maxspeed
    rounds = [t for t in tags if t.get("junction") == "roundabout"]
    assert rounds
    assert all("oneway" not in t for t in rounds)
    assert sum(t.get("highway") == "footway" for t in tags) >= 3


def test_stations(stations: gpd.GeoDataFrame, drive_xy: np.ndarray) -> None:
    assert stations.crs.to_epsg() == 4326
    assert {"station_id", "name", "division", "sanctioned_strength", "vehicles"} <= set(
        stations.columns)
    assert 25 <= len(stations) <= 35
    assert stations["station_id"].is_unique
    assert stations["station_id"].str.len().min() > 0
    assert stations["name"].str.startswith("Police Station ").all()
    assert set(stations["division"]) <= {"City", "Cantonment", "Saddar", "Rural", "Suburban"}
    for col in ("sanctioned_strength", "vehicles"):
        assert stations[col].dtype.kind == "i"
        assert (stations[col] > 0).all()
    assert (stations.geom_type == "Point").all()
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    assert in_bbox(lon, lat)
    dist, _ = cKDTree(drive_xy).query(metres(lon, lat))
    assert dist.max() <= 30.0


def test_zones(zones: gpd.GeoDataFrame, drive_xy: np.ndarray) -> None:
    assert zones.crs.to_epsg() == 4326
    assert {"zone_id", "name", "priority", "target_min", "min_officers"} <= set(zones.columns)
    assert 20 <= len(zones) <= 30
    assert zones["zone_id"].is_unique
    assert zones["name"].str.len().min() > 0
    assert set(zones.geom_type) <= {"Polygon", "MultiPolygon"}
    assert (zones.geom_type == "MultiPolygon").sum() >= 1
    assert zones.is_valid.all()
    x0, y0, x1, y1 = zones.total_bounds
    assert in_bbox(np.array([x0, x1]), np.array([y0, y1]))
    prio, target, mino = zones["priority"], zones["target_min"], zones["min_officers"]
    assert prio.dropna().isin([1, 2, 3]).all()
    assert 1 <= prio.isna().sum() <= 3
    assert target.dropna().between(5, 10).all()
    assert 1 <= target.isna().sum() <= 3
    assert mino.dropna().isin([1, 2, 3, 4]).all()
    assert 1 <= mino.isna().sum() <= 3
    assert target[prio == 1].dropna().between(5, 7).all()
    span = zones.to_crs(32642).bounds
    across = np.maximum(span.maxx - span.minx, span.maxy - span.miny)
    assert across.between(150, 2500).all()
    for geom in zones.geometry:
        xy = shapely.transform(geom, lambda c: metres(c[:, 0], c[:, 1]))
        assert shapely.contains_xy(xy, drive_xy[:, 0], drive_xy[:, 1]).sum() >= 5


def test_officers(officers: list[dict[str, str]], stations: gpd.GeoDataFrame,
                  drive_xy: np.ndarray) -> None:
    ids = [o["officer_id"] for o in officers]
    assert 450 <= len(ids) <= 550
    assert len(set(ids)) == len(ids)
    assert all(o["name"].strip() and o["rank"].strip() for o in officers)
    assert {o["rank"] for o in officers} == {"Constable", "Head Constable", "ASI", "SI",
                                              "Inspector"}
    assert {o["station_id"] for o in officers} <= set(stations["station_id"])
    status = [o["status"] for o in officers]
    assert set(status) <= {"on_duty", "reserve", "off_duty"}
    for name, share in (("on_duty", 0.62), ("reserve", 0.18), ("off_duty", 0.20)):
        assert abs(status.count(name) / len(status) - share) < 0.03
    placed = [o for o in officers if o["lat"] or o["lon"]]
    assert all(o["lat"] and o["lon"] for o in placed)  # both or neither
    assert all(o["status"] == "on_duty" for o in placed)
    assert 0 < len(placed) < status.count("on_duty")  # some on-duty officers are at the station
    assert all(len(o["lat"].split(".")[1]) == 6 == len(o["lon"].split(".")[1]) for o in placed)
    lon = np.array([float(o["lon"]) for o in placed])
    lat = np.array([float(o["lat"]) for o in placed])
    assert in_bbox(lon, lat)
    dist, _ = cKDTree(drive_xy).query(metres(lon, lat))
    assert dist.max() <= 25.0
    ages = []
    for o in officers:
        seen = datetime.fromisoformat(o["last_seen"])
        assert seen.utcoffset() == timedelta(hours=5)
        ages.append((REF_TIME - seen).total_seconds())
    assert min(ages) >= 0
    assert max(ages) <= 15 * 60
    assert sum(a > 600 for a in ages) >= 3  # a few stale ones


def test_suspension_list(officers: list[dict[str, str]]) -> None:
    lines = (DEMO / "suspended_42.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "officer_id"
    ids = lines[1:]
    assert len(ids) == 42
    assert len(set(ids)) == 42
    status = {o["officer_id"]: o["status"] for o in officers}
    assert all(status.get(i) == "on_duty" for i in ids)
