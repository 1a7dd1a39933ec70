"""Map view: folium layers of a coverage run (zones by gap, stations, officers, roads).

The app shows these layers and the briefing exports render the same map
(:func:`coverage_map`). The app's live map draws :func:`base_map` once and sends the layers
that change (zones, officers, surfaces) as feature groups. Every text taken from data files
is HTML-escaped before it reaches a tooltip or popup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template
from shapely.geometry import LineString

from coverage import settings
from coverage.data.network import RoadNetwork
from coverage.engine.analysis import Coverage

#: Okabe-Ito colours (Okabe & Ito 2008): told apart with every common colour-vision
#: deficiency. Gap zones, suspended officers and the response-time surface never share one.
OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7", "black": "#000000",
}
#: Suspended officers: a dark purple, apart from the vermillion gap zones and the grey
#: surface for every common colour-vision deficiency (tests/briefing/test_briefing_grade.py).
SUSPENDED_COLOR = "#7B3294"
#: Officer symbols: colour, circle radius (px), filled or hollow, dashed outline.
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "on_duty": {"color": OKABE_ITO["blue"], "label": "On duty", "radius": 3, "fill": True},
    "reserve": {"color": OKABE_ITO["sky_blue"], "label": "Reserve", "radius": 4,
                "fill": False},
    "suspended": {"color": SUSPENDED_COLOR, "label": "Suspended", "radius": 5,
                  "fill": False, "dash": "2 2"},
    "off_duty": {"color": "#8c8c8c", "label": "Off duty", "radius": 2, "fill": True},
}
#: A position older than the stale age: hollow, dashed, whatever the status.
STALE_STYLE: dict[str, Any] = {"color": "#5a5a5a", "label": "Stale position", "radius": 3,
                               "fill": False, "dash": "2 2"}
GAP_COLOR, OK_COLOR, NEW_GAP_COLOR = (OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"],
                                      OKABE_ITO["black"])
STATION_COLOR = "#24292f"
AREA_COLOR = OKABE_ITO["yellow"]  # a service area
#: Response-time bands, fastest first, then "over" and "unreachable": greys from light to
#: dark, so the coloured zones drawn above the surface always stand out.
BAND_COLORS = ("#f7f7f7", "#e6e6e6", "#d0d0d0", "#b8b8b8", "#9e9e9e", "#7a7a7a")
MAIN_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "motorway_link",
                        "trunk_link", "primary_link", "secondary_link"})
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")


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


def zones_layer(cov: Coverage, *, baseline: Coverage | None = None) -> gpd.GeoDataFrame:
    """Zones with their figures, for the map (text escaped).

    With ``baseline``, ``change`` says whether the zone is ``newly below target`` (a gap in
    ``cov`` but not in ``baseline``), ``gap closed``, or ``-``.
    """
    zones = cov.dataset.zones[["zone_id", "geometry"]].merge(
        cov.table.drop(columns=["at_anchor"]), on="zone_id", how="left"
    )
    zones["covered"] = [f"{s:.0%}" for s in zones["covered_share"]]
    zones["officers"] = [
        f"{a}/{b}" for a, b in zip(zones["officers_within_target"], zones["min_officers"],
                                   strict=True)
    ]
    zones["status"] = np.where(zones["gap"], "GAP", "ok")
    zones["p90"] = [minutes_text(v) for v in zones["p90_min"]]
    change = np.full(len(zones), "-", dtype=object)
    if baseline is not None:
        before = baseline.table.set_index("zone_id")["gap"].reindex(zones["zone_id"])
        was = before.fillna(False).to_numpy(dtype=bool)
        now = zones["gap"].to_numpy(dtype=bool)
        change[now & ~was] = "newly below target"
        change[~now & was] = "gap closed"
    zones["change"] = change
    return _escaped(gpd.GeoDataFrame(zones, geometry="geometry", crs="EPSG:4326"),
                    ["zone_id", "name", "status", "change", "covered", "p90", "officers",
                     "gap"])


def minutes_text(value: object) -> str:
    """Minutes for people: ``0.7 min``, or ``unreachable`` (inf, NaN or missing)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "unreachable"
    return f"{v:.1f} min" if np.isfinite(v) else "unreachable"


def officers_layer(cov: Coverage, officers: gpd.GeoDataFrame | None = None
                   ) -> gpd.GeoDataFrame:
    """Officers with their status under the run's suspension list (text escaped).

    ``officers`` (default: the dataset's) may carry the live columns of
    :func:`coverage.ops.positions.merge_live` (``stale``, ``live_age_s``, ``position_source``);
    ``seen`` then says how old each live position is and ``stale`` marks old ones.
    """
    from coverage.engine.units import apply_suspension

    source = cov.dataset.officers if officers is None else officers
    off = apply_suspension(source, cov.suspended)
    stale = (off["stale"].to_numpy(dtype=bool) if "stale" in off
             else np.zeros(len(off), dtype=bool))
    age = (off["live_age_s"].to_numpy(dtype=np.float64) if "live_age_s" in off
           else np.full(len(off), np.nan))
    origin = (off["position_source"].astype(str).to_numpy() if "position_source" in off
              else np.full(len(off), "roster", dtype=object))
    off = off.assign(
        place=np.where(off["at_station"], "at station", "own position"),
        seen=[_age_text(a, o) for a, o in zip(age, origin, strict=True)],
        stale=stale,
    )
    return _escaped(off, ["officer_id", "name", "rank", "station_id", "status", "place",
                          "seen", "stale"])


def _age_text(age_s: float, origin: str) -> str:
    if not np.isfinite(age_s):
        return "roster position"
    label = "simulated feed" if origin == "simulated" else "feed"
    if age_s < 90:
        return f"{max(age_s, 0):.0f} s ago ({label})"
    if age_s < 5400:
        return f"{age_s / 60:.0f} min ago ({label})"
    return f"{age_s / 3600:.1f} h ago ({label})"


def main_roads(net: RoadNetwork, *, classes: frozenset[str] = MAIN_ROADS) -> gpd.GeoDataFrame:
    """The network's main roads as lines, one per edge pair, drawn when tiles cannot load."""
    keep = np.flatnonzero(np.isin(net.highway, list(classes)) & (net.edge_u < net.edge_v))
    lines = [LineString(net.edge_coords(int(k))) for k in keep]
    return gpd.GeoDataFrame({"highway": net.highway[keep]}, geometry=lines, crs="EPSG:4326")


def roads_feature(net: RoadNetwork, *, precision_deg: float = 1e-5) -> dict[str, Any]:
    """The main roads as one GeoJSON MultiLineString feature, coordinates to ~1 m.

    One feature instead of one per road keeps the map page small and quick to build.
    """
    lines = main_roads(net).geometry.to_numpy()
    multi = shapely.set_precision(shapely.multilinestrings(lines), precision_deg)
    return {"type": "Feature", "properties": {"layer": "main roads"},
            "geometry": json.loads(shapely.to_geojson(multi))}


def base_map(
    net: RoadNetwork,
    *,
    tiles_url: str | None = None,
    attribution: str = "",
    height_px: int = 640,
    bounds: tuple[float, float, float, float] | None = None,
    map_options: dict[str, Any] | None = None,
    asset_base_url: str | None = None,
) -> folium.Map:
    """Return a map of ``net``'s main roads (and the basemap, if any), fitted to ``bounds``.

    ``tiles_url`` (default: the ``SECCOV_TILES_URL`` environment variable) is a basemap
    template such as ``https://tile.example/{z}/{x}/{y}.png``; without one the map has no
    basemap and the drawn road network stands in for it. The roads are always drawn, so
    the map stays readable when tiles cannot load. ``bounds`` (``lon0, lat0, lon1, lat1``;
    default: the network's) is the area the map opens on. ``map_options`` are extra
    ``folium.Map`` keywords. ``asset_base_url`` (e.g. ``/app/static`` in the app) makes the
    map load Leaflet from that address instead of folium's CDNs (see
    :func:`coverage.briefing.assets.install_static`); call :func:`use_local_assets` again after
    adding layers that bring their own libraries.
    """
    x0, y0, x1, y1 = net.bounds
    url = tiles_url if tiles_url is not None else settings.tiles_url()
    options = {"prefer_canvas": True} | (map_options or {})
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=None,
        control_scale=True, height=height_px, **options,
    )
    if url:
        folium.TileLayer(url, attr=attribution or "basemap", name="Basemap").add_to(m)
    folium.GeoJson(
        roads_feature(net), name="Main roads",
        style_function=lambda _f: {"color": "#8c959f", "weight": 1.5, "opacity": 0.8},
    ).add_to(m)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
    m.fit_bounds([[y0, x0], [y1, x1]])
    _LabelZoom().add_to(m)
    if asset_base_url is not None:
        use_local_assets(m, asset_base_url)
    return m


def _zone_style(props: dict[str, Any]) -> dict[str, Any]:
    if props.get("change") == "newly below target":
        return {"color": NEW_GAP_COLOR, "fillColor": GAP_COLOR, "fillOpacity": 0.5,
                "weight": 4, "dashArray": "8 5"}
    color = GAP_COLOR if props.get("gap") is True else OK_COLOR
    return {"color": color, "fillColor": color, "fillOpacity": 0.35, "weight": 2.5}


def zones_group(cov: Coverage, *, baseline: Coverage | None = None,
                name: str = "Sensitive zones") -> folium.FeatureGroup:
    """Zones coloured by gap; with ``baseline``, zones newly below target outlined black."""
    zones = zones_layer(cov, baseline=baseline)
    fields = ["zone_id", "name", "status", "covered", "p90", "officers"]
    aliases = ["Zone", "Name", "Status", "Covered", "p90", "Officers in target"]
    if baseline is not None:
        fields.insert(3, "change")
        aliases.insert(3, "Change")
    group = folium.FeatureGroup(name=html.escape(name))
    folium.GeoJson(
        zones.__geo_interface__, name=html.escape(name),
        style_function=lambda f: _zone_style(f["properties"]),
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
    ).add_to(group)
    return group


#: Below this zoom only the gap zones keep their labels (the rest would overlap).
LABEL_ALL_ZOOM = 14


class _LabelZoom(MacroElement):
    """Below :data:`LABEL_ALL_ZOOM`, hide the labels of zones without a gap (CSS class)."""

    _template = Template("""{% macro script(this, kwargs) %}
(function (map) {
  if (!document.getElementById("seccov-label-css")) {
    var css = document.createElement("style"); css.id = "seccov-label-css";
    css.textContent = ".seccov-far .seccov-zone-label.seccov-ok { display: none; }";
    document.head.appendChild(css);
  }
  function fit() {
    map.getContainer().classList.toggle("seccov-far", map.getZoom() < {{ this.zoom }});
  }
  map.on("zoomend", fit); map.whenReady(fit);
})({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, zoom: int = LABEL_ALL_ZOOM) -> None:
        super().__init__()
        self.zoom = int(zoom)


def zone_labels_group(cov: Coverage, *, name: str = "Zone labels") -> folium.FeatureGroup:
    """Zone names at each zone's representative point (escaped); gap zones in bold.

    Maps from :func:`base_map` show only the gap zones' labels below zoom
    :data:`LABEL_ALL_ZOOM` (district view), every label closer in.
    """
    zones = cov.dataset.zones
    gap = dict(zip(cov.table["zone_id"].astype(str), cov.table["gap"].astype(bool),
                   strict=True))
    group = folium.FeatureGroup(name=html.escape(name))
    for zid, label, geom in zip(zones["zone_id"].astype(str), zones["name"].astype(str),
                                zones.geometry, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = geom.representative_point()
        weight = "700" if gap.get(zid) else "400"
        color = "#8f2d00" if gap.get(zid) else "#1b1f24"
        kind = "seccov-gap" if gap.get(zid) else "seccov-ok"
        folium.Marker(
            [p.y, p.x], icon=folium.DivIcon(
                html=(f'<div class="seccov-zone-label {kind}" '
                      f'style="font:{weight} 11px sans-serif;'
                      f"color:{color};text-align:center;white-space:nowrap;"
                      "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;"
                      f'pointer-events:none">{html.escape(label)}</div>'),
                icon_size=(160, 14), icon_anchor=(80, -6), class_name="seccov-label"),
            interactive=False,
        ).add_to(group)
    return group


def station_counts(stations: gpd.GeoDataFrame, officers: gpd.GeoDataFrame
                   ) -> pd.DataFrame:
    """Officers per station of the roster: ``station_id``, ``officers``, ``on_duty``."""
    sid = officers["station_id"].astype(str)
    on = (officers["status"].astype(str) == "on_duty").astype(np.int64)
    counts = pd.DataFrame({"station_id": sid, "on": on}).groupby("station_id")["on"].agg(
        ["size", "sum"])
    ids = stations["station_id"].astype(str)
    return pd.DataFrame({
        "station_id": ids.to_numpy(),
        "officers": counts["size"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
        "on_duty": counts["sum"].reindex(ids, fill_value=0).to_numpy(dtype=np.int64),
    })


def stations_group(stations: gpd.GeoDataFrame, officers: gpd.GeoDataFrame | None = None
                   ) -> folium.FeatureGroup:
    """Police stations: white circles with a dark ring; the tooltip names the station.

    With ``officers`` (after the suspension list) the tooltip also counts the station's
    officers and those on duty. Draw it above the officers, so hovering a station shows
    the station rather than an officer standing there.
    """
    layer = _escaped(stations, ["station_id", "name"])
    fields, aliases = ["station_id", "name"], ["Station", "Name"]
    if officers is not None:
        c = station_counts(stations, officers)
        layer["officers"] = [f"{n} ({k} on duty)" for n, k in
                             zip(c["officers"], c["on_duty"], strict=True)]
        fields.append("officers")
        aliases.append("Officers")
    group = folium.FeatureGroup(name="Stations")
    folium.GeoJson(
        layer.__geo_interface__, name="Stations",
        marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=1.0),
        style_function=lambda _f: {"color": STATION_COLOR, "fillColor": "#ffffff",
                                   "weight": 3},
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases) if len(layer) else None,
    ).add_to(group)
    return group


def officer_style(props: dict[str, Any]) -> dict[str, Any]:
    """Leaflet style of one officer point: status symbol, or greyed when stale."""
    s = STALE_STYLE if props.get("stale") is True else STATUS_STYLE.get(
        str(props.get("status")), {"color": "#000", "radius": 4, "fill": True})
    style: dict[str, Any] = {"color": s["color"], "radius": s["radius"], "weight": 1.5,
                             "fillColor": s["color"],
                             "fillOpacity": 0.9 if s["fill"] else 0.0}
    if s.get("dash"):
        style["dashArray"] = s["dash"]
    return style


def officers_group(officers: gpd.GeoDataFrame, *, name: str = "Officers"
                   ) -> folium.FeatureGroup:
    """Officers from :func:`officers_layer` as one GeoJson layer (canvas circle markers)."""
    fields = ["officer_id", "name", "rank", "station_id", "status", "place", "seen"]
    fields = [f for f in fields if f in officers]
    aliases = {"officer_id": "Officer", "name": "Name", "rank": "Rank",
               "station_id": "Station", "status": "Status", "place": "Location",
               "seen": "Position"}
    group = folium.FeatureGroup(name=html.escape(name))
    folium.GeoJson(
        officers.__geo_interface__, name=html.escape(name),
        marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.9),
        style_function=lambda f: officer_style(f["properties"]),
        tooltip=folium.GeoJsonTooltip(fields, aliases=[aliases[f] for f in fields])
        if len(officers) else None,
    ).add_to(group)
    return group


def surface_group(surface: gpd.GeoDataFrame, *, name: str = "Response time"
                  ) -> folium.FeatureGroup:
    """The response-time surface of :func:`coverage.briefing.layers.response_surface`."""
    layer = _escaped(surface, ["band", "label", "cells"])
    group = folium.FeatureGroup(name=html.escape(name))
    folium.GeoJson(
        layer.__geo_interface__, name=html.escape(name),
        style_function=lambda f: {
            "color": BAND_COLORS[min(int(f["properties"]["band"]), len(BAND_COLORS) - 1)],
            "fillColor": BAND_COLORS[min(int(f["properties"]["band"]),
                                         len(BAND_COLORS) - 1)],
            "weight": 0, "fillOpacity": 0.45},
        tooltip=folium.GeoJsonTooltip(["label"], aliases=["Response time"])
        if len(layer) else None,
    ).add_to(group)
    return group


def areas_group(areas: gpd.GeoDataFrame, *, name: str = "Areas of responsibility"
                ) -> folium.FeatureGroup:
    """Areas of responsibility (:func:`coverage.briefing.layers.responsibility_areas`), outlined."""
    layer = _escaped(areas.assign(median=[f"{v:.1f}" for v in areas["median_min"]]),
                     ["unit", "units", "median"])
    layer["shade"] = np.arange(len(layer)) % len(_PALETTE)
    group = folium.FeatureGroup(name=html.escape(name))
    folium.GeoJson(
        layer.__geo_interface__, name=html.escape(name),
        style_function=lambda f: {"color": "#57606a", "weight": 1,
                                  "fillColor": _PALETTE[int(f["properties"]["shade"])],
                                  "fillOpacity": 0.18},
        tooltip=folium.GeoJsonTooltip(["units", "median"],
                                      aliases=["Nearest unit(s)", "Median minutes"])
        if len(layer) else None,
    ).add_to(group)
    return group


def service_area_group(area: gpd.GeoDataFrame, *, label: str,
                       name: str = "Service area") -> folium.FeatureGroup:
    """One unit's service area (:func:`~coverage.briefing.layers.service_area`), label escaped."""
    layer = gpd.GeoDataFrame({"label": [html.escape(label)] * len(area)},
                             geometry=area.geometry.to_numpy(), crs=area.crs)
    group = folium.FeatureGroup(name=html.escape(name))
    folium.GeoJson(
        layer.__geo_interface__, name=html.escape(name),
        style_function=lambda _f: {"color": "#0969da", "weight": 2, "fillColor": AREA_COLOR,
                                   "fillOpacity": 0.3},
        tooltip=folium.GeoJsonTooltip(["label"], aliases=["Service area"])
        if len(layer) else None,
    ).add_to(group)
    return group


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
    baseline: Coverage | None = None,
    extra: list[folium.FeatureGroup] | None = None,
    controls: bool = True,
) -> folium.Map:
    """Return the folium map of ``cov``: main roads, zones by gap, stations, officers.

    See :func:`base_map` for ``tiles_url``, ``bounds``, ``map_options`` and
    ``asset_base_url``. ``officers`` (default: :func:`officers_layer`, every officer at its
    exact position) replaces the officer points, e.g. with a redacted layer from
    :func:`coverage.briefing.brief.officer_points`; it is drawn as layer ``officers_name``. Its
    columns become the tooltip (escaped here), except the style columns ``color`` and
    ``radius``; without ``color`` a ``status`` column picks the colour. ``baseline`` marks
    zones newly below target (see :func:`zones_group`); ``extra`` layers are drawn under the
    zones. Zones are labelled; stations are drawn above the officers. Caller's officer
    points (redacted station aggregates) are drawn under the zones, so gap zones stay
    visible. ``controls=False`` (static images) leaves out the zoom buttons, the layer
    switcher and, without a basemap, the attribution.
    """
    if not controls:
        map_options = {"zoom_control": False} | (
            {} if (tiles_url if tiles_url is not None else settings.tiles_url())
            else {"attribution_control": False}) | (map_options or {})
    m = base_map(cov.dataset.network, tiles_url=tiles_url, attribution=attribution,
                 height_px=height_px, bounds=bounds, map_options=map_options)
    for group in extra or []:
        group.add_to(m)
    if officers is not None:
        group = folium.FeatureGroup(name=html.escape(officers_name))
        _custom_officers(officers, officers_name).add_to(group)
        group.add_to(m)
    zones_group(cov, baseline=baseline).add_to(m)
    zone_labels_group(cov).add_to(m)
    if officers is None:
        officers_group(officers_layer(cov), name=officers_name).add_to(m)
    stations_group(cov.dataset.stations).add_to(m)
    if controls:
        folium.LayerControl(collapsed=True).add_to(m)
    if asset_base_url is not None:
        use_local_assets(m, asset_base_url)
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


def use_local_assets(m: folium.Map, base_url: str) -> None:
    """Point every element of the new map ``m`` at local Leaflet files (see assets)."""
    from branca.element import Element

    from coverage.briefing.assets import local_links

    def walk(el: Element) -> Iterator[Element]:
        yield el
        for child in el._children.values():
            yield from walk(child)

    for el in walk(m):
        if isinstance(el, JSCSSMixin):
            el.default_js = local_links(list(el.default_js), base_url=base_url, kind="js")
            el.default_css = local_links(list(el.default_css), base_url=base_url, kind="css")


def view_of(bounds: tuple[float, float, float, float], *, width_px: int, height_px: int,
            max_zoom: int = 17) -> tuple[tuple[float, float], int]:
    """Return ``(lat, lon)`` centre and the largest whole Leaflet zoom showing ``bounds``.

    ``bounds`` is ``lon0, lat0, lon1, lat1``; the map is ``width_px`` x ``height_px`` CSS
    pixels. At zoom z the world is 256 x 2**z pixels wide in Web Mercator.
    """
    x0, y0, x1, y1 = bounds

    def merc_y(lat: float) -> float:
        s = np.sin(np.radians(np.clip(lat, -85.0511, 85.0511)))
        return float(0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi))  # 0..1, north at 0

    dx = max((x1 - x0) / 360.0, 1e-12)
    dy = max(abs(merc_y(y0) - merc_y(y1)), 1e-12)
    zoom = int(np.floor(min(np.log2(width_px / (256 * dx)), np.log2(height_px / (256 * dy)))))
    return ((y0 + y1) / 2, (x0 + x1) / 2), max(0, min(zoom, max_zoom))
