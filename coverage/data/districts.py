"""Districts: stations grouped by their ``district`` (else ``division``) column; officers and
zones follow their station.

DATA.md has no district column, so the grouping is defined here:

- a station's district is the stations file's optional ``district`` column when the file
  has one, else its optional ``division`` column (the demo district's City, Cantonment,
  Saddar, Rural ...), else there is no grouping: one area, and the app hides its picker.
  A station with an empty cell in that column is in :data:`UNASSIGNED`;
- an officer is in their roster station's district;
- a zone is in the district of the station nearest (great circle) its representative point
  (shapely ``representative_point()``, as the zone's anchor); on a tie the station first in
  the file wins.

    >>> from coverage.data.examples import example_dataset
    >>> ds = example_dataset()
    >>> d = districts_of(ds.stations, ds.zones, {"S1": "North", "S2": "South"})
    >>> d.column, d.names, d.zone.to_dict()
    ('district', ('North', 'South'), {'Z1': 'South', 'Z2': 'North'})
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.data.network import great_circle_m

logger = logging.getLogger(__name__)

#: The district of a station whose district (or division) cell is empty.
UNASSIGNED = "Unassigned"


def _name(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return UNASSIGNED
    text = str(value).strip()
    return text or UNASSIGNED


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``District 2`` before ``District 10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p.casefold())
                 for p in re.split(r"(\d+)", name) if p)


@dataclass(frozen=True, eq=False)
class Districts:
    """The district of every station and zone; ``column`` says where it came from.

    ``column`` is ``"district"``, ``"division"`` or None (no grouping: every station and
    zone in the one area :attr:`names` ``== ()``). ``station`` and ``zone`` map ids (str)
    to district names; ``names`` are the districts with a station, naturally sorted.
    """

    column: str | None
    names: tuple[str, ...]
    station: pd.Series
    zone: pd.Series

    @property
    def grouped(self) -> bool:
        """True when there are districts to pick from (a column, and at least one name)."""
        return self.column is not None and len(self.names) > 0

    def of_stations(self, station_ids: object) -> np.ndarray:
        """District of each station id (an array of str; unknown ids: :data:`UNASSIGNED`)."""
        ids = pd.Series(np.asarray(station_ids, dtype=object)).astype(str)
        return ids.map(self.station).fillna(UNASSIGNED).to_numpy(dtype=object)

    def zone_ids(self, name: str) -> list[str]:
        """The ids of the zones in district ``name`` (in the zones file's order)."""
        return [str(z) for z in self.zone.index[(self.zone == name).to_numpy()]]

    def of_zones(self, zone_ids: object) -> np.ndarray:
        """District of each zone id (an array of str)."""
        ids = pd.Series(np.asarray(zone_ids, dtype=object)).astype(str)
        return ids.map(self.zone).fillna(UNASSIGNED).to_numpy(dtype=object)


def districts_of(stations: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                 district: Mapping[str, str] | None = None) -> Districts:
    """Return the districts of ``stations`` and ``zones`` (see the module docstring).

    ``district`` (station id -> name) overrides the frame's ``district`` column (kept by
    :func:`coverage.data.loaders.read_stations`); without either, the frame's ``division``
    column is used when any station has one, else there is no grouping.
    """
    sid = stations["station_id"].astype(str).to_numpy(dtype=object)
    zid = zones["zone_id"].astype(str).to_numpy(dtype=object)
    column: str | None = None
    if district is not None:
        column, names = "district", [_name(district.get(s)) for s in sid]
    elif "district" in stations and stations["district"].notna().any():
        column, names = "district", [_name(v) for v in stations["district"]]
    elif "division" in stations and stations["division"].notna().any():
        column, names = "division", [_name(v) for v in stations["division"]]
    if column is None or not len(sid):
        return Districts(None, (), pd.Series(dtype=object), pd.Series(
            np.full(len(zid), UNASSIGNED, dtype=object), index=zid, dtype=object))
    station = pd.Series(names, index=sid, dtype=object)
    zone = pd.Series(np.asarray(names, dtype=object)[_nearest_station(stations, zones)],
                     index=zid, dtype=object)
    ordered = tuple(sorted(set(names), key=natural_key))
    logger.info("districts: %d by %s, %d stations, %d zones", len(ordered), column,
                len(sid), len(zid))
    return Districts(column, ordered, station, zone)


def _nearest_station(stations: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """Index of the station nearest each zone's representative point (first on a tie)."""
    if not len(zones):
        return np.empty(0, dtype=np.int64)
    points = zones.geometry.representative_point()
    sx, sy = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    out = np.empty(len(zones), dtype=np.int64)
    for i, (x, y) in enumerate(zip(points.x.to_numpy(), points.y.to_numpy(), strict=True)):
        out[i] = int(np.argmin(great_circle_m(x, y, sx, sy)))  # argmin: the first on a tie
    return out
