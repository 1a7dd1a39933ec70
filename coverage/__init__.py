"""Security coverage of sensitive zones over a road network, for police control rooms.

The import name is ``coverage`` (not coverage.py). Typical use::

    from coverage import load_dataset, analyse, report_dict
    ds = load_dataset("roads.osm.pbf", "stations.geojson", "zones.geojson", "officers.csv")
    cov = analyse(ds, suspended=["KP-0001"], threshold_min=10)
    report_dict(cov)["zones"]
"""

from __future__ import annotations

from coverage.data.dataset import Dataset, load_dataset
from coverage.data.network import RoadNetwork, open_roads
from coverage.engine.analysis import Coverage, analyse, suspend
from coverage.engine.report import report_dict, report_table
from coverage.engine.traveltime import TravelTimes, travel_times, with_units, without_units
from coverage.errors import CoverageError, CoverageWarning, DataError, DataWarning, GraphError

__all__ = [
    "Coverage",
    "CoverageError",
    "CoverageWarning",
    "DataError",
    "DataWarning",
    "Dataset",
    "GraphError",
    "RoadNetwork",
    "TravelTimes",
    "analyse",
    "load_dataset",
    "open_roads",
    "report_dict",
    "report_table",
    "suspend",
    "travel_times",
    "with_units",
    "without_units",
]
__version__ = "0.1.0"
