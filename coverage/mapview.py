"""Map view: the folium map of a coverage run (zones by gap, stations, officers, main roads).

The app shows this map and the briefing exports render the same one. Every text taken from
data files is HTML-escaped before it reaches a tooltip or popup.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.elements import JSCSSMixin
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
    officers: gpd.GeoDataFrame | None = None,
    officers_name: str = "Officers",
    bounds: tuple[float, float, float, float] | None = None,
    map_options: dict[str, Any] | None = None,
    asset_base_url: str | None = None,
) -> folium.Map:
    """Return the folium map of ``cov``: main roads, zones by gap, stations, officers.

    ``tiles_url`` (default: the ``SECCOV_TILES_URL`` environment variable) is a basemap
    template such as ``https://tile.example/{z}/{x}/{y}.png``; without one the map has no
    basemap and the drawn road network stands in for it.

    ``officers`` (default: :func:`officers_layer`, every officer at its exact position)
    replaces the officer points, e.g. with a redacted layer from
    :func:`coverage.briefing.officer_points`; it is drawn as layer ``officers_name``. Its
    columns become the tooltip (escaped here), except the style columns ``color`` and
    ``radius``; without ``color`` a ``status`` column picks the colour.

    ``bounds`` (``lon0, lat0, lon1, lat1``; default: the road network's) is the area the
    map opens on. ``map_options`` are extra ``folium.Map`` keywords (Leaflet map options
    in snake case), e.g. ``{"zoom_snap": 0.1, "zoom_animation": False}`` for a snapshot.

    ``asset_base_url`` (e.g. ``/app/static`` in the app) makes the map load Leaflet from that
    address instead of folium's CDNs, and drop the CDN libraries it does not use, so the map
    works offline (see :func:`coverage.assets.install_static`).
    """
    net = cov.dataset.network
    x0, y0, x1, y1 = net.bounds
    url = tiles_url if tiles_url is not None else os.environ.get("SECCOV_TILES_URL")
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=None,
        control_scale=True, height=height_px,
        **(map_options or {}),
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
    if officers is None:
        officers = officers_layer(cov)
        folium.GeoJson(
            officers.__geo_interface__, name="Officers",
            marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.9),
            style_function=lambda f: {
                "color": STATUS_STYLE.get(f["properties"]["status"], {}).get("color", "#000"),
                "fillColor": STATUS_STYLE.get(f["properties"]["status"], {}).get("color",
                                                                                 "#000"),
                "weight": 1,
            },
            tooltip=folium.GeoJsonTooltip(
                ["officer_id", "name", "rank", "station_id", "status", "place"],
                aliases=["Officer", "Name", "Rank", "Station", "Status", "Location"],
            ),
        ).add_to(m)
    else:
        _custom_officers(officers, officers_name).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    if asset_base_url is not None:
        _use_local_assets(m, asset_base_url)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def _point_style(props: dict[str, Any]) -> dict[str, Any]:
    color = props.get("color") or STATUS_STYLE.get(props.get("status", ""), {}).get(
        "color", "#000")
    style: dict[str, Any] = {"color": color, "fillColor": color, "weight": 1}
    if props.get("radius") not in (None, "-"):
        style |= {"radius": props["radius"], "fillOpacity": 0.45, "weight": 2}
    return style


def _custom_officers(points: gpd.GeoDataFrame, name: str) -> folium.GeoJson:
    """The layer of a caller's officer points (e.g. redacted ones), text escaped."""
    fields = [c for c in points.columns if c != points.geometry.name]
    shown = [c for c in fields if c not in {"color", "radius"}]
    layer = _escaped(points, fields)
    return folium.GeoJson(
        layer.__geo_interface__, name=html.escape(name),
        marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.9),
        style_function=lambda f: _point_style(f["properties"]),
        tooltip=folium.GeoJsonTooltip(
            shown, aliases=[c.replace("_", " ").capitalize() for c in shown]
        ) if shown and len(layer) else None,
    )


def _use_local_assets(m: folium.Map, base_url: str) -> None:
    """Point every element of the new map ``m`` at local Leaflet files (see assets)."""
    from branca.element import Element

    from coverage.assets import local_links

    def walk(el: Element) -> Iterator[Element]:
        yield el
        for child in el._children.values():
            yield from walk(child)

    for el in walk(m):
        if isinstance(el, JSCSSMixin):
            el.default_js = local_links(list(el.default_js), base_url=base_url, kind="js")
            el.default_css = local_links(list(el.default_css), base_url=base_url, kind="css")
