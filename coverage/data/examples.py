"""A tiny district you can check by hand, for docstring examples and first experiments.

Five road nodes along 34.000 N (ids 1, 3, 5 at 71.500, 71.502, 71.503 E; 4 just north of 3):
a residential street 1 <-> 3 (20 km/h), a one-way primary road 3 -> 5 (30 mph) and a service
road drawn 3 -> 4 but one-way in reverse (``oneway=-1``), so 4 -> 3 only; a footway that
does not count. Two stations, two zones, five officers (A..E), as in the test suite.

Examples
--------
>>> ds = example_dataset()
>>> ds.network.n_nodes, len(ds.stations), len(ds.zones), len(ds.officers)
(4, 2, 2, 5)
>>> sorted(ds.officers.loc[ds.officers["status"] == "on_duty", "officer_id"])
['A', 'B', 'D']
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from coverage.data.dataset import Dataset, load_dataset

_ROADS = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="coverage.data.examples">
  <node id="1" lat="34.000" lon="71.500"/>
  <node id="2" lat="34.000" lon="71.501"/>
  <node id="3" lat="34.000" lon="71.502"/>
  <node id="4" lat="34.001" lon="71.502"/>
  <node id="5" lat="34.000" lon="71.503"/>
  <node id="6" lat="33.999" lon="71.501"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="maxspeed" v="20"/></way>
  <way id="11"><nd ref="3"/><nd ref="5"/>
    <tag k="highway" v="primary"/><tag k="maxspeed" v="30 mph"/><tag k="oneway" v="yes"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="service"/><tag k="maxspeed" v="15"/><tag k="oneway" v="-1"/></way>
  <way id="13"><nd ref="2"/><nd ref="6"/><tag k="highway" v="footway"/></way>
</osm>
"""

_STATIONS = """{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"station_id": "S1", "name": "Station One"},
  "geometry": {"type": "Point", "coordinates": [71.5, 34.0]}},
 {"type": "Feature", "properties": {"station_id": "S2", "name": "Station Two"},
  "geometry": {"type": "Point", "coordinates": [71.503, 34.0]}}]}
"""

_ZONES = """{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"zone_id": "Z1", "name": "East", "priority": 1,
  "target_min": 0.5, "min_officers": 2},
  "geometry": {"type": "Polygon", "coordinates": [[[71.5015, 33.9995], [71.5033, 33.9995],
   [71.5033, 34.0013], [71.5015, 34.0013], [71.5015, 33.9995]]]}},
 {"type": "Feature", "properties": {"zone_id": "Z2", "name": "West"},
  "geometry": {"type": "Polygon", "coordinates": [[[71.4995, 33.9995], [71.5005, 33.9995],
   [71.5005, 34.0005], [71.4995, 34.0005], [71.4995, 33.9995]]]}}]}
"""

_OFFICERS = """officer_id,name,rank,station_id,status,lat,lon,last_seen
A,Officer A,Constable,S1,on_duty,,,2026-11-25T08:00:00+05:00
B,Officer B,ASI,S1,on_duty,34.001,71.502,2026-11-25T08:00:00+05:00
C,Officer C,Constable,S2,reserve,,,2026-11-25T08:00:00+05:00
D,Officer D,SI,S2,on_duty,,,2026-11-25T08:00:00+05:00
E,Officer E,Constable,S2,off_duty,,,2026-11-25T08:00:00+05:00
"""


def example_files(folder: str | Path) -> dict[str, Path]:
    """Write the tiny district's four files into ``folder``; return them by role."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = {"roads": out / "roads.osm", "stations": out / "stations.geojson",
             "zones": out / "zones.geojson", "officers": out / "officers.csv"}
    for role, text in zip(files, (_ROADS, _STATIONS, _ZONES, _OFFICERS), strict=True):
        files[role].write_text(text, encoding="utf-8")
    return files


def example_dataset() -> Dataset:
    """Load the tiny district (written to a temporary folder, no cache); a new Dataset."""
    with tempfile.TemporaryDirectory(prefix="seccov-example-") as folder:
        f = example_files(folder)
        return load_dataset(f["roads"], f["stations"], f["zones"], f["officers"], use_cache=False)
