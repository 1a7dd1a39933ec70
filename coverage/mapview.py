"""Map view: the folium map of a coverage run (zones by gap, stations, officers, main roads).

The app shows this map and the briefing exports render the same one. Every text taken from
data files is HTML-escaped before it reaches a tooltip or popup.
"""

from __future__ import annotations

import html
import os
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from coverage.analysis import Coverage
from coverage.network import RoadNetwork

STATUS_STYLE: dict[str, dict[str, Any]] = {
    "on_duty": {"color": "#1f6feb", "label": "On duty"},
    "reserve": {"color": "#8250df", "label": "Reserve"},
    "suspended": {"color": "#cf222e", "label": "Suspended"},
    "off_duty": {"color": "#6e7781", "label": "Off duty"},
}
GAP_COLOR, OK_COLOR = "#d1242f", "#2da44e"
MAIN_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "motorway_link",
                        "trunk_link", "primary_link", "secondary_link"})


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if value is pd.NA:
        return "-"
    return value


def _escaped(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Return a new frame with ``columns`` (escaped, JSON-safe) and the geometry."""
    return gpd.GeoDataFrame(
        {c: [_escape(v.item() if hasattr(v, "item") else v) for v in gdf[c]] for c in columns},
        geometry=gdf.geometry.to_numpy(), crs=gdf.crs,
    )


def zones_layer(cov: Coverage) -> gpd.GeoDataFrame:
    """Zones with their figures, for the map (text escaped)."""
    zones = cov.dataset.zones[["zone_id", "geometry"]].merge(
        cov.table.drop(columns=["at_anchor"]), on="zone_id", how="left"
    )
    zones["covered"] = [f"{s:.0%}" for s in zones["covered_share"]]
    zones["officers"] = [
        f"{a}/{b}" for a, b in zip(zones["officers_within_target"], zones["min_officers"],
                                   strict=True)
    ]
    zones["status"] = np.where(zones["gap"], "GAP", "ok")
    return _escaped(gpd.GeoDataFrame(zones, geometry="geometry", crs="EPSG:4326"),
                    ["zone_id", "name", "status", "covered", "p90_min", "officers", "gap"])


def officers_layer(cov: Coverage) -> gpd.GeoDataFrame:
    """Officers with their status under the run's suspension list (text escaped)."""
    from coverage.units import apply_suspension

    off = apply_suspension(cov.dataset.officers, cov.suspended)
    off = off.assign(place=np.where(off["at_station"], "at station", "own position"))
    return _escaped(off, ["officer_id", "name", "rank", "station_id", "status", "place"])


def main_roads(net: RoadNetwork, *, classes: frozenset[str] = MAIN_ROADS) -> gpd.GeoDataFrame:
    """The network's main roads as lines, one per edge pair, drawn when tiles cannot load."""
    keep = np.flatnonzero(np.isin(net.highway, list(classes)) & (net.edge_u < net.edge_v))
    lines = [LineString(net.edge_coords(int(k))) for k in keep]
    return gpd.GeoDataFrame({"highway": net.highway[keep]}, geometry=lines, crs="EPSG:4326")


def coverage_map(
    cov: Coverage,
    *,
    tiles_url: str | None = None,
    attribution: str = "",
    height_px: int = 640,
) -> folium.Map:
    """Return the folium map of ``cov``: main roads, zones by gap, stations, officers.

    ``tiles_url`` (default: the ``SECCOV_TILES_URL`` environment variable) is a basemap
    template such as ``https://tile.example/{z}/{x}/{y}.png``; without one the map has no
    basemap and the drawn road network stands in for it.
    """
    net = cov.dataset.network
    x0, y0, x1, y1 = net.bounds
    url = tiles_url if tiles_url is not None else os.environ.get("SECCOV_TILES_URL")
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=None,
        control_scale=True, height=height_px,
    )
    if url:
        folium.TileLayer(url, attr=attribution or "basemap", name="Basemap").add_to(m)
    roads = main_roads(net)
    folium.GeoJson(
        roads.__geo_interface__, name="Main roads",
        style_function=lambda _f: {"color": "#8c959f", "weight": 1.5, "opacity": 0.8},
    ).add_to(m)
    zones = zones_layer(cov)
    folium.GeoJson(
        zones.__geo_interface__, name="Sensitive zones",
        style_function=lambda f: {
            "color": GAP_COLOR if f["properties"]["gap"] else OK_COLOR,
            "fillOpacity": 0.35, "weight": 2,
        },
        tooltip=folium.GeoJsonTooltip(
            ["zone_id", "name", "status", "covered", "p90_min", "officers"],
            aliases=["Zone", "Name", "Status", "Covered", "p90 (min)", "Officers in target"],
        ),
    ).add_to(m)
    stations = _escaped(cov.dataset.stations, ["station_id", "name"])
    folium.GeoJson(
        stations.__geo_interface__, name="Stations",
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=1.0),
        style_function=lambda _f: {"color": "#24292f", "fillColor": "#ffffff", "weight": 3},
        tooltip=folium.GeoJsonTooltip(["station_id", "name"], aliases=["Station", "Name"]),
    ).add_to(m)
    officers = officers_layer(cov)
    folium.GeoJson(
        officers.__geo_interface__, name="Officers",
        marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.9),
        style_function=lambda f: {
            "color": STATUS_STYLE.get(f["properties"]["status"], {}).get("color", "#000"),
            "fillColor": STATUS_STYLE.get(f["properties"]["status"], {}).get("color", "#000"),
            "weight": 1,
        },
        tooltip=folium.GeoJsonTooltip(
            ["officer_id", "name", "rank", "station_id", "status", "place"],
            aliases=["Officer", "Name", "Rank", "Station", "Status", "Location"],
        ),
    ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m
