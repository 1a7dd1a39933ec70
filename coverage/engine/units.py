"""Units: which officers are available and at which road node each one stands."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from coverage import settings
from coverage.data.network import FloatArray, IntArray, RoadNetwork
from coverage.errors import DataWarning

STATUSES = ("on_duty", "reserve", "off_duty", "suspended")


@dataclass(frozen=True)
class UnitCounts:
    """Officers per status after the suspension list, and how many are available."""

    on_duty: int
    reserve: int
    off_duty: int
    suspended: int
    available: int


@dataclass(frozen=True, eq=False)
class PlacedUnits:
    """Available units snapped to the road network.

    ``node[i]`` is the nearest road node to unit ``officer_id[i]``'s location (its own position,
    else its station's) and ``snap_m[i]`` the great-circle distance to it.
    """

    officer_id: tuple[str, ...]
    station_id: tuple[str, ...]
    node: IntArray
    snap_m: FloatArray

    def __len__(self) -> int:
        return len(self.officer_id)


def apply_suspension(officers: gpd.GeoDataFrame, suspended: Iterable[str]) -> gpd.GeoDataFrame:
    """Return a new officers frame in which every listed officer has status ``suspended``."""
    ids = set(suspended)
    out = officers.copy()
    if ids:
        out.loc[out["officer_id"].isin(ids), "status"] = "suspended"
    return out


def unit_counts(officers: gpd.GeoDataFrame) -> UnitCounts:
    """Count officers per status; available units are the ``on_duty`` ones (DATA.md)."""
    counts = officers["status"].value_counts()
    get = {s: int(counts.get(s, 0)) for s in STATUSES}
    return UnitCounts(**get, available=get["on_duty"])


def suspended_counts(officers: gpd.GeoDataFrame, suspended: Iterable[str]) -> UnitCounts:
    """Return ``unit_counts(apply_suspension(officers, suspended))`` without copying the frame."""
    status = officers["status"].to_numpy(dtype=object).copy()
    ids = set(suspended)
    if ids:
        status[officers["officer_id"].isin(ids).to_numpy()] = "suspended"
    values, counts = np.unique(status.astype(str), return_counts=True) if status.size else (
        np.empty(0, dtype=str), np.empty(0, dtype=np.int64))
    found = dict(zip(values.tolist(), counts.tolist(), strict=True))
    get = {s: int(found.get(s, 0)) for s in STATUSES}
    return UnitCounts(**get, available=get["on_duty"])


def available_officers(officers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the officers who count as available units: status ``on_duty``."""
    return officers.loc[officers["status"] == "on_duty"].reset_index(drop=True)


def place_units(
    net: RoadNetwork,
    units: gpd.GeoDataFrame,
    *,
    what: str = "officers",
    warn_m: float = settings.SNAP_WARN_M,
) -> PlacedUnits:
    """Snap each unit's location to its nearest road node; warn about units far off the roads.

    ``units`` needs ``officer_id``, ``station_id`` and a point ``geometry`` in EPSG:4326
    (the officer's own position, or the station's).
    """
    ids = [str(v) for v in units["officer_id"]]
    lon = units.geometry.x.to_numpy(dtype=np.float64) if len(units) else np.empty(0)
    lat = units.geometry.y.to_numpy(dtype=np.float64) if len(units) else np.empty(0)
    node, dist = net.nearest_nodes(lon, lat)
    if len(units):
        far = dist > warn_m
        if far.any():
            listed = ", ".join(f"{ids[i]} ({dist[i]:,.0f} m)" for i in np.flatnonzero(far)[:10])
            warnings.warn(
                f"{what}: {int(far.sum())} unit(s) stand more than {warn_m:,.0f} m from the "
                f"nearest road node and were snapped to it: {listed}",
                DataWarning,
                stacklevel=2,
            )
    return PlacedUnits(
        officer_id=tuple(ids),
        station_id=tuple(str(v) for v in units["station_id"]) if len(units) else (),
        node=node,
        snap_m=dist,
    )
