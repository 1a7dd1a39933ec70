"""Map view: folium layers of a coverage run (zones by gap, stations, officers, roads).

The app shows these layers and the briefing exports render the same map
(:func:`coverage_map`). The app's maps draw :func:`base_map` (roads fetched from a file the
app serves) and send the layers that change (zones, officers, surfaces) as feature groups,
composed by :mod:`coverage.briefing.livemap`. Colours live in ``_style``, officers and
stations (points and clusters) in :mod:`~coverage.briefing.unitview`, the roads in
:mod:`~coverage.briefing.roadview`; their names are importable from here too. Every text
taken from data files is HTML-escaped before it reaches a tooltip or popup.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterator
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from coverage import settings
from coverage.briefing._style import (
    _PALETTE,
    AREA_COLOR,
    BAND_COLORS,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    OKABE_ITO,
    STALE_STYLE,
    STATION_COLOR,
    STATUS_STYLE,
    SUSPENDED_COLOR,
    escaped,
)
from coverage.briefing.roadview import (
    MAIN_ROADS,
    RoadsFromUrl,
    main_roads,
    roads_feature,
    write_roads,
)
from coverage.briefing.unitview import (
    officer_style,
    officers_group,
    officers_layer,
    station_counts,
    stations_group,
)
from coverage.data.network import RoadNetwork
from coverage.engine.analysis import Coverage

#: Names other modules import from here (the colours and unit layers live in _style and
#: unitview since the split; this module stays the one place to import map pieces from).
__all__ = [
    "AREA_COLOR", "BAND_COLORS", "GAP_COLOR", "LABEL_ALL_ZOOM", "MAIN_ROADS", "NEW_GAP_COLOR",
    "OKABE_ITO", "OK_COLOR", "STALE_STYLE", "STATION_COLOR", "STATUS_STYLE", "SUSPENDED_COLOR",
    "areas_group", "base_map", "coverage_map", "main_roads", "minutes_text", "officer_style",
    "officers_group", "officers_layer", "roads_feature", "service_area_group",
    "station_counts", "stations_group", "surface_group", "use_local_assets", "view_of",
    "write_roads",
    "zone_labels_group", "zones_group", "zones_layer",
]

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
    return escaped(gpd.GeoDataFrame(zones, geometry="geometry", crs="EPSG:4326"),
                    ["zone_id", "name", "status", "change", "covered", "p90", "officers",
                     "gap"])


def minutes_text(value: object) -> str:
    """Minutes for people: ``0.7 min``, or ``unreachable`` (inf, NaN or missing)."""
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "unreachable"
    return f"{v:.1f} min" if np.isfinite(v) else "unreachable"



def base_map(
    net: RoadNetwork,
    *,
    tiles_url: str | None = None,
    attribution: str = "",
    height_px: int = 640,
    bounds: tuple[float, float, float, float] | None = None,
    map_options: dict[str, Any] | None = None,
    asset_base_url: str | None = None,
    roads_url: str | None = None,
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
    adding layers that bring their own libraries. ``roads_url`` (the app: a file of
    :func:`roads_feature` it serves, see :func:`write_roads`) makes the browser fetch the
    roads once instead of the page carrying them: the map's script stays a few kB however
    large the network, so sending it again on a refresh costs nothing.
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
    if roads_url is None:
        folium.GeoJson(
            roads_feature(net), name="Main roads",
            style_function=lambda _f: {"color": "#8c959f", "weight": 1.5, "opacity": 0.8},
        ).add_to(m)
    else:
        RoadsFromUrl(roads_url).add_to(m)
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


def zone_labels_group(cov: Coverage, *, name: str = "Zone labels",
                      zone_ids: Collection[str] | None = None,
                      gaps_only: bool = False) -> folium.FeatureGroup:
    """Zone names at each zone's representative point (escaped); gap zones in bold.

    Maps from :func:`base_map` show only the gap zones' labels below zoom
    :data:`LABEL_ALL_ZOOM` (district view), every label closer in. ``zone_ids`` limits the
    labels to those zones (a district picked); ``gaps_only`` sends only the gap zones'
    labels (a province view, where the others would be hidden anyway).
    """
    zones = cov.dataset.zones
    gap = dict(zip(cov.table["zone_id"].astype(str), cov.table["gap"].astype(bool),
                   strict=True))
    wanted = None if zone_ids is None else {str(z) for z in zone_ids}
    group = folium.FeatureGroup(name=html.escape(name))
    for zid, label, geom in zip(zones["zone_id"].astype(str), zones["name"].astype(str),
                                zones.geometry, strict=True):
        if geom is None or geom.is_empty or (wanted is not None and zid not in wanted) or (
                gaps_only and not gap.get(zid)):
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



def surface_group(surface: gpd.GeoDataFrame, *, name: str = "Response time"
                  ) -> folium.FeatureGroup:
    """The response-time surface of :func:`coverage.briefing.layers.response_surface`."""
    layer = escaped(surface, ["band", "label", "cells"])
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
    layer = escaped(areas.assign(median=[f"{v:.1f}" for v in areas["median_min"]]),
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
    layer = escaped(points, fields)
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
