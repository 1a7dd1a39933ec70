"""Districts: the stations file's district (else division) column; zones by nearest station."""

from __future__ import annotations

import json
import random

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from coverage.data.districts import (
    UNASSIGNED,
    districts_of,
    natural_key,
)
from tests.support.tiny import haversine_m, write


def _stations(xy: list[tuple[float, float]], division: list[object] | None = None
              ) -> gpd.GeoDataFrame:
    frame = {"station_id": [f"S{i}" for i in range(len(xy))],
             "name": [f"Station {i}" for i in range(len(xy))]}
    if division is not None:
        frame["division"] = division
    return gpd.GeoDataFrame(frame, geometry=[Point(x, y) for x, y in xy], crs="EPSG:4326")


def _zones(boxes: list[tuple[float, float, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"zone_id": [f"Z{i}" for i in range(len(boxes))],
                             "name": [f"Zone {i}" for i in range(len(boxes))]},
                            geometry=[box(*b) for b in boxes], crs="EPSG:4326")


def test_district_column_is_kept_by_the_loader_from_geojson_and_csv(tmp_path) -> None:
    from coverage.data.loaders import read_stations

    feats = [{"type": "Feature", "properties": {"station_id": s, "name": s, "district": d},
              "geometry": {"type": "Point", "coordinates": [71.5, 34.0]}}
             for s, d in (("A", "District 2"), ("B", " "), ("C", None))]
    gj = write(tmp_path / "stations.geojson",
               json.dumps({"type": "FeatureCollection", "features": feats}))
    zn = _zones([(71.49, 33.99, 71.51, 34.01)])
    d = districts_of(read_stations(gj), zn)
    assert d.column == "district"
    assert d.station.to_dict() == {"A": "District 2", "B": UNASSIGNED, "C": UNASSIGNED}
    csv = write(tmp_path / "stations.csv",
                "station_id,name,lat,lon,district\nA,a,34,71.5,North\nB,b,34,71.6,\n")
    assert districts_of(read_stations(csv), zn).station.to_dict() == {"A": "North",
                                                                       "B": UNASSIGNED}
    plain = write(tmp_path / "plain.csv", "station_id,name,lat,lon\nA,a,34,71.5\n")
    assert not districts_of(read_stations(plain), zn).grouped


def test_district_column_wins_over_division_and_division_over_nothing() -> None:
    st = _stations([(71.50, 34.0), (71.60, 34.0)], division=["City", "Rural"])
    zn = _zones([(71.49, 33.99, 71.51, 34.01), (71.59, 33.99, 71.61, 34.01)])
    by_district = districts_of(st, zn, {"S0": "District 10", "S1": "District 9"})
    assert by_district.column == "district"
    assert by_district.names == ("District 9", "District 10")  # natural order
    assert by_district.zone.to_dict() == {"Z0": "District 10", "Z1": "District 9"}
    by_division = districts_of(st, zn)
    assert (by_division.column, by_division.names) == ("division", ("City", "Rural"))
    assert list(by_division.of_stations(["S1", "S0", "nobody"])) == ["Rural", "City",
                                                                     UNASSIGNED]
    none = districts_of(_stations([(71.5, 34.0)], division=[None]), zn)
    assert not none.grouped
    assert none.column is None
    assert none.names == ()
    assert not districts_of(_stations([(71.5, 34.0)]), zn).grouped


def test_a_station_without_a_division_is_unassigned() -> None:
    st = _stations([(71.50, 34.0), (71.60, 34.0)], division=["City", None])
    d = districts_of(st, _zones([(71.59, 33.99, 71.61, 34.01)]))
    assert d.names == ("City", UNASSIGNED)
    assert d.zone.to_dict() == {"Z0": UNASSIGNED}


@pytest.mark.parametrize("seed", range(5))
def test_zone_takes_the_district_of_the_nearest_station_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    xy = [(71.4 + rng.random() * 0.4, 33.8 + rng.random() * 0.4) for _ in range(12)]
    names = [f"D{rng.randrange(4)}" for _ in xy]
    boxes = []
    for _ in range(20):
        x, y = 71.4 + rng.random() * 0.4, 33.8 + rng.random() * 0.4
        boxes.append((x, y, x + rng.random() * 0.05, y + rng.random() * 0.05))
    zn = _zones(boxes)
    d = districts_of(_stations(xy), zn, {f"S{i}": n for i, n in enumerate(names)})
    for zid, geom in zip(zn["zone_id"], zn.geometry, strict=True):
        p = geom.representative_point()
        metres = [haversine_m(p.x, p.y, x, y) for x, y in xy]
        assert d.zone[zid] == names[metres.index(min(metres))]


def test_natural_key_orders_numbers_as_numbers() -> None:
    names = ["District 10", "District 2", "district 1", "Rural"]
    assert sorted(names, key=natural_key) == ["district 1", "District 2", "District 10",
                                              "Rural"]


def test_demo_stations_group_by_division() -> None:
    from coverage.data.demo import DEMO_FILES
    from coverage.data.loaders import read_stations, read_zones

    st, zn = read_stations(DEMO_FILES["stations"]), read_zones(DEMO_FILES["zones"])
    d = districts_of(st, zn)
    assert d.column == "division"
    assert set(d.names) == set(st["division"].dropna())
    assert pd.Series(d.zone).isin(d.names).all()
