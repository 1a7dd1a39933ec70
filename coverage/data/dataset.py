"""Dataset: the road network, stations, zones and officers of one district, loaded together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from coverage.data.loaders import read_officers, read_stations, read_zones
from coverage.data.network import RoadNetwork, check_extent, open_roads

if TYPE_CHECKING:  # the road file reader (networkx, osmnx) loads only on a cache miss
    from coverage.data.roads import Progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Everything one coverage run reads, validated; ``sources`` names the files used."""

    network: RoadNetwork
    stations: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    officers: gpd.GeoDataFrame
    sources: dict[str, str]


def load_dataset(
    roads: str | Path,
    stations: str | Path,
    zones: str | Path,
    officers: str | Path,
    *,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> Dataset:
    """Load and validate the four input files; raises DataError naming the file at fault."""
    say = progress or (lambda _msg: None)
    say("loading stations, zones and officers")
    st = read_stations(stations)
    zn = read_zones(zones)
    off = read_officers(officers, st)
    net = open_roads(roads, use_cache=use_cache, progress=say)
    if len(st):
        check_extent(net, st.geometry.x, st.geometry.y, [str(v) for v in st["station_id"]],
                     what=Path(stations).name)
    own = off.loc[~off["at_station"]]
    if len(own):  # every officer's own position, whatever the status
        check_extent(net, own["lon"], own["lat"], [str(v) for v in own["officer_id"]],
                     what=Path(officers).name)
    logger.info(
        "dataset: %d nodes, %d stations, %d zones, %d officers",
        net.n_nodes, len(st), len(zn), len(off),
    )
    return Dataset(
        network=net, stations=st, zones=zn, officers=off,
        sources={
            "roads": Path(roads).name, "stations": Path(stations).name,
            "zones": Path(zones).name, "officers": Path(officers).name,
        },
    )
