"""Live map layers at any scale: a district picked, or the whole area clustered.

The app's live map and coverage map draw :func:`map_layers` over a base map that never
changes (:func:`coverage.briefing.mapview.base_map` with ``roads_url``), so a refresh sends
only these groups. With more than ``points_limit`` officers in view the officers go as
clusters (:func:`coverage.briefing.unitview.officer_clusters`) and each district gets one
label with its figures (:func:`district_labels_group`); with a district picked, only its
zones are labelled and its officers go one by one (as clusters too when it alone has more
than ``points_limit``). The cluster grid is laid on the road network's extent (or the
picked district's), not on where the officers happen to be, so cells stay put from one
refresh to the next (it widens only for an officer outside that extent). Text from data
files is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from coverage.briefing.mapview import (
    officers_group,
    officers_layer,
    stations_group,
    zone_labels_group,
    zones_group,
)
from coverage.briefing.unitview import POINTS_LIMIT, clusters_group, officer_clusters
from coverage.data.districts import Districts
from coverage.engine.analysis import Coverage

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True, eq=False)
class MapLayers:
    """The groups to draw, bottom first, and what they hold.

    ``points`` officers were drawn one by one, ``clusters`` cells drawn instead of points
    (0 when not clustered); ``bounds`` is the picked district's extent (None: whole area).
    """

    groups: list[folium.FeatureGroup]
    points: int
    clusters: int
    bounds: Bounds | None


def district_officers(officers: gpd.GeoDataFrame, districts: Districts,
                      district: str | None) -> gpd.GeoDataFrame:
    """The officers of ``district`` (by roster station); every officer when None."""
    if district is None:
        return officers
    keep = districts.of_stations(officers["station_id"]) == district
    return officers.loc[keep].reset_index(drop=True)


def district_zone_ids(cov: Coverage, districts: Districts, district: str | None) -> list[str]:
    """The zone ids of ``district`` (every zone when None), in the dataset's order."""
    ids = cov.dataset.zones["zone_id"].astype(str).to_numpy(dtype=object)
    if district is None:
        return list(ids)
    return list(ids[districts.of_zones(ids) == district])


def district_bounds(cov: Coverage, districts: Districts, district: str
                    ) -> Bounds | None:
    """``lon0, lat0, lon1, lat1`` around ``district``'s stations and zones (None: nothing)."""
    st = cov.dataset.stations
    st = st.loc[districts.of_stations(st["station_id"]) == district]
    zn = cov.dataset.zones
    zn = zn.loc[districts.of_zones(zn["zone_id"]) == district]
    parts = [b for b in (st.total_bounds if len(st) else None,
                         zn.total_bounds if len(zn) else None) if b is not None]
    if not parts:
        return None
    b = np.vstack(parts)
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()),
            float(b[:, 3].max()))


def district_labels_group(cov: Coverage, districts: Districts, figures: pd.DataFrame, *,
                          name: str = "Districts") -> folium.FeatureGroup:
    """One label per district at its stations' centre: name, available units, zones with a
    gap of its zones (``District 7 / 372 avail. · 2/9 gaps``).

    ``figures`` is :func:`coverage.engine.rollup.district_figures` of ``cov``.
    """
    group = folium.FeatureGroup(name=html.escape(name))
    st = cov.dataset.stations
    where = pd.DataFrame({"d": districts.of_stations(st["station_id"]),
                          "x": st.geometry.x.to_numpy(), "y": st.geometry.y.to_numpy()}
                         ).groupby("d")[["x", "y"]].mean()
    for row in figures.to_dict("records"):
        name = str(row["district"])
        if name not in where.index:
            continue
        x, y = (float(v) for v in where.loc[name, ["x", "y"]].to_numpy())
        gap = int(row["zones_with_gap"])
        color = "#8f2d00" if gap else "#1b1f24"
        text = (f"<b>{html.escape(name)}</b><br>{int(row['available']):,} avail. &middot; "
                f"{gap}/{int(row['zones'])} gaps")
        folium.Marker(
            [round(y, 5), round(x, 5)], icon=folium.DivIcon(
                html=(f'<div class="seccov-district-label" style="font:11px sans-serif;'
                      f"color:{color};text-align:center;white-space:nowrap;"
                      "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff;"
                      f'pointer-events:none">{text}</div>'),
                icon_size=(120, 28), icon_anchor=(60, 14), class_name="seccov-label"),
            interactive=False,
        ).add_to(group)
    return group


def cluster_bounds(cov: Coverage, districts: Districts, district: str | None,
                   officers: gpd.GeoDataFrame) -> Bounds:
    """Where the cluster grid lies: the picked district's extent, else the network's,
    widened to take in any officer outside it (so the grid keeps its cells across)."""
    fixed: Bounds | None = None
    if district is not None:
        fixed = district_bounds(cov, districts, district)
    net = cov.dataset.network
    if fixed is None and net.n_nodes:
        fixed = (float(net.lon.min()), float(net.lat.min()), float(net.lon.max()),
                 float(net.lat.max()))
    if not len(officers):
        return fixed if fixed is not None else (0.0, 0.0, 1.0, 1.0)
    x0, y0, x1, y1 = (float(v) for v in officers.total_bounds)
    if fixed is None:
        return (x0, y0, x1, y1)
    return (min(fixed[0], x0), min(fixed[1], y0), max(fixed[2], x1), max(fixed[3], y1))


def map_layers(cov: Coverage, districts: Districts, *,
               officers: gpd.GeoDataFrame | None = None, district: str | None = None,
               figures: pd.DataFrame | None = None, points_limit: int = POINTS_LIMIT,
               under: list[folium.FeatureGroup] | None = None) -> MapLayers:
    """Return the layers of ``cov`` for the app's maps, bottom first.

    ``under`` (surfaces, areas), zones by gap, zone labels, officers (``officers``:
    default the dataset's; the live map passes the merged live positions), district labels
    and stations. ``district`` limits the officers and zone labels to that district. Above
    ``points_limit`` officers in view they are sent as clusters, with no zone labels (the
    gap list names the gap zones; they would cover the map at province zoom), smaller
    station rings and, given ``figures``, one label per district.
    """
    source = cov.dataset.officers if officers is None else officers
    shown = district_officers(source, districts, district)
    groups = [*(under or []), zones_group(cov)]
    clustered = len(shown) > points_limit
    if district is not None:
        groups.append(zone_labels_group(cov, zone_ids=district_zone_ids(cov, districts,
                                                                          district)))
    elif not clustered:
        groups.append(zone_labels_group(cov))
    clusters = 0
    if clustered:
        cells = officer_clusters(cov, shown,
                                 bounds=cluster_bounds(cov, districts, district, shown))
        clusters = len(cells)
        groups.append(clusters_group(cells))
        if figures is not None and district is None and districts.grouped:
            groups.append(district_labels_group(cov, districts, figures))
    else:
        groups.append(officers_group(officers_layer(cov, shown)))
    groups.append(stations_group(cov.dataset.stations, source,
                                 radius=3 if clustered and district is None else 7))
    bounds = district_bounds(cov, districts, district) if district is not None else None
    return MapLayers(groups, 0 if clustered else len(shown), clusters, bounds)


class _ViewOnce(MacroElement):
    """Move the map to a view once per distinct request (``key``), without animation.

    st_folium's ``center``/``zoom`` were seen not to move a 20,000-officer map in Chromium
    (its animated ``setView`` was lost while the layers were swapped); this runs with the
    layers and only when the requested view changes, so a user's own pan is kept on the
    refreshes after it.
    """

    _template = Template("""{% macro script(this, kwargs) %}
(function (map) {
  var key = {{ this.key|tojson }};
  if (window.__seccovView !== key) {
    window.__seccovView = key;
    var go = function () {
      if (window.__seccovView === key) {
        map.setView({{ this.center|tojson }}, {{ this.zoom }}, {animate: false});
      }
    };
    go(); map.whenReady(go); setTimeout(go, 400);  // again after a new map fits itself
  }
})({{ this._parent._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, center: tuple[float, float], zoom: int) -> None:
        super().__init__()
        self.center = [round(float(center[0]), 6), round(float(center[1]), 6)]
        self.zoom = int(zoom)
        self.key = f"{self.center[0]},{self.center[1]},{self.zoom}"


def view_group(center: tuple[float, float], zoom: int, *, name: str = "View"
               ) -> folium.FeatureGroup:
    """An empty group that moves the map to ``center`` (lat, lon) and ``zoom`` once: when
    this view is new to the browser tab (a district or zone picked), not on refreshes."""
    group = folium.FeatureGroup(name=html.escape(name), control=False)
    _ViewOnce(center, zoom).add_to(group)
    return group
