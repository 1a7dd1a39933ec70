"""Shared fixtures: tiny hand-checkable inputs (helpers in tests/support/tiny.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tiny import DATA, write


@pytest.fixture
def tiny_osm() -> Path:
    return DATA / "tiny.osm"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own compiled-graph cache folder."""
    monkeypatch.setenv("SECCOV_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Put ``sys.modules['__main__']`` back after each test.

    AppTest runs app.py in this process as ``__main__``; left there, process pools started
    later (forkserver) would re-run the app in every worker and break.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def tiny_inputs(tmp_path: Path) -> dict[str, Path]:
    """Stations, zones, officers and a suspension list on tiny.osm.

    Nodes after simplification: 1 (71.500, 34.000), 3 (71.502, 34.000), 5 (71.503, 34.000),
    4 (71.502, 34.001). Edges: 1<->3 residential 20 km/h, 3->5 primary 30 mph, 4->3 service
    15 km/h (drawn 3->4 with oneway=-1).
    """
    stations = write(
        tmp_path / "stations.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"station_id": "S1", "name": "Station One"},'
        ' "geometry": {"type": "Point", "coordinates": [71.5, 34.0]}},'
        '{"type": "Feature", "properties": {"station_id": "S2", "name": "Station Two"},'
        ' "geometry": {"type": "Point", "coordinates": [71.503, 34.0]}}]}',
    )
    zones = write(
        tmp_path / "zones.geojson",
        '{"type": "FeatureCollection", "features": ['
        '{"type": "Feature", "properties": {"zone_id": "Z1", "name": "East <script>",'
        ' "priority": 1, "target_min": 0.5, "min_officers": 2},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[71.5015, 33.9995],'
        ' [71.5033, 33.9995], [71.5033, 34.0013], [71.5015, 34.0013], [71.5015, 33.9995]]]}},'
        '{"type": "Feature", "properties": {"zone_id": "Z2", "name": "West",'
        ' "priority": null, "target_min": null, "min_officers": null},'
        ' "geometry": {"type": "Polygon", "coordinates": [[[71.4995, 33.9995],'
        ' [71.5005, 33.9995], [71.5005, 34.0005], [71.4995, 34.0005], [71.4995, 33.9995]]]}}'
        "]}",
    )
    officers = write(
        tmp_path / "officers.csv",
        "officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
        "A,Officer A,Constable,S1,on_duty,,,2026-11-25T08:00:00+05:00\n"
        "B,Officer B,ASI,S1,on_duty,34.001,71.502,2026-11-25T08:00:00+05:00\n"
        "C,Officer C,Constable,S2,reserve,,,2026-11-25T08:00:00+05:00\n"
        "D,Officer D,SI,S2,on_duty,,,2026-11-25T08:00:00+05:00\n"
        "E,Officer E,Constable,S2,off_duty,,,2026-11-25T08:00:00+05:00\n",
    )
    suspend = write(tmp_path / "suspend.csv", "officer_id\nB\n")
    return {"roads": DATA / "tiny.osm", "stations": stations, "zones": zones,
            "officers": officers, "suspend": suspend}


@pytest.fixture
def dataset(tiny_inputs: dict[str, Path]):
    """The tiny district loaded as a Dataset."""
    from coverage.data.dataset import load_dataset

    p = tiny_inputs
    return load_dataset(p["roads"], p["stations"], p["zones"], p["officers"])
