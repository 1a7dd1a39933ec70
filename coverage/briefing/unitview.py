"""Unit view: officers and stations on the map, one by one or in clusters at province zoom.

A live map of a whole province must not send 20,000 markers on every refresh: above
:data:`POINTS_LIMIT` officers in view, :func:`officer_clusters` counts them by status on a
square grid of the view and :func:`clusters_group` draws one canvas circle per cell (sized
by count, the tooltip counting each status and the stale positions). Below the limit, and
for one district picked, each officer is a point (:func:`officers_group`). Every text
taken from data files is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from coverage.briefing._style import STALE_STYLE, STATION_COLOR, STATUS_STYLE, escaped
from coverage.engine.analysis import Coverage


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
    return escaped(off, ["officer_id", "name", "rank", "station_id", "status", "place",
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


def stations_group(stations: gpd.GeoDataFrame, officers: gpd.GeoDataFrame | None = None,
                   *, radius: int = 7) -> folium.FeatureGroup:
    """Police stations: white circles with a dark ring; the tooltip names the station.

    With ``officers`` (after the suspension list) the tooltip also counts the station's
    officers and those on duty. Draw it above the officers, so hovering a station shows
    the station rather than an officer standing there.
    """
    layer = escaped(stations, ["station_id", "name"])
    fields, aliases = ["station_id", "name"], ["Station", "Name"]
    if officers is not None:
        c = station_counts(stations, officers)
        layer["officers"] = [f"{n} ({k} on duty)" for n, k in
                             zip(c["officers"], c["on_duty"], strict=True)]
        fields.append("officers")
        aliases.append("Officers")
    group = folium.FeatureGroup(name="Stations")
    folium.GeoJson(
        layer.to_geo_dict(show_bbox=False), name="Stations",
        marker=folium.CircleMarker(radius=radius, fill=True, fill_opacity=1.0),
        style_function=lambda _f: {"color": STATION_COLOR, "fillColor": "#ffffff",
                                   "weight": 3 if radius >= 5 else 1.5},
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
        rounded(officers).to_geo_dict(show_bbox=False), name=html.escape(name),
        marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.9),
        style_function=lambda f: officer_style(f["properties"]),
        tooltip=folium.GeoJsonTooltip(fields, aliases=[aliases[f] for f in fields])
        if len(officers) else None,
    ).add_to(group)
    return group



#: Above this many officers in view the live map sends clusters, not points (issue 16:
#: 20,000 officers as points were 8.6 MB a refresh). The demo district stays below it.
POINTS_LIMIT = 2000
#: Grid cells across the longer side of the clustered area.
CLUSTER_CELLS = 32
#: Decimal places of the coordinates sent to the browser (5: about 1 m).
COORD_DIGITS = 5
_COUNTED = ("on_duty", "reserve", "off_duty", "suspended")


def officer_clusters(cov: Coverage, officers: gpd.GeoDataFrame | None = None, *,
                     bounds: tuple[float, float, float, float] | None = None,
                     cells: int = CLUSTER_CELLS) -> gpd.GeoDataFrame:
    """Return officers counted on a square grid: one row per non-empty cell.

    ``officers`` (default: the dataset's; e.g. live positions merged in) take their status
    under ``cov``'s suspension list. The grid has ``cells`` cells across the longer side of
    ``bounds`` (``lon0, lat0, lon1, lat1``; default: the officers' extent); officers outside
    it fall in cells beyond its edge. Columns ``officers``, ``on_duty``, ``reserve``,
    ``off_duty``, ``suspended``, ``stale`` (counts) and the Point ``geometry`` at the mean
    position of the cell's officers, rounded to :data:`COORD_DIGITS` decimals; a new frame.
    """
    from coverage.engine.units import apply_suspension

    source = cov.dataset.officers if officers is None else officers
    columns = ["officers", *_COUNTED, "stale"]
    if not len(source):
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    off = apply_suspension(source, cov.suspended)
    x, y = off.geometry.x.to_numpy(), off.geometry.y.to_numpy()
    x0, y0, x1, y1 = bounds if bounds is not None else (x.min(), y.min(), x.max(), y.max())
    side = max(x1 - x0, y1 - y0, 1e-9) / max(int(cells), 1)
    status = off["status"].astype(str).to_numpy()
    frame = pd.DataFrame({
        "ix": np.floor((x - x0) / side).astype(np.int64),
        "iy": np.floor((y - y0) / side).astype(np.int64), "x": x, "y": y, "officers": 1,
        **{s: (status == s).astype(np.int64) for s in _COUNTED},
        "stale": (off["stale"].to_numpy(dtype=bool) if "stale" in off
                  else np.zeros(len(off), dtype=bool)).astype(np.int64),
    })
    g = frame.groupby(["ix", "iy"], sort=True).agg(
        x=("x", "mean"), y=("y", "mean"), **{c: (c, "sum") for c in columns})
    return gpd.GeoDataFrame(
        {c: g[c].to_numpy(dtype=np.int64) for c in columns},
        geometry=gpd.points_from_xy(np.round(g["x"].to_numpy(), COORD_DIGITS),
                                    np.round(g["y"].to_numpy(), COORD_DIGITS)),
        crs="EPSG:4326")


def cluster_style(props: dict[str, Any]) -> dict[str, Any]:
    """A cluster's circle: area grows with its officers; coloured by the first status it
    holds of on duty, reserve, suspended, off duty (a cluster of suspended officers is not
    drawn as off duty); dashed grey when most of its positions are stale."""
    n = int(props.get("officers", 0))
    radius = int(min(12, 3 + round(1.2 * np.sqrt(max(n, 0)))))
    if 2 * int(props.get("stale", 0)) > n:
        s = STALE_STYLE
    else:
        held = [k for k in ("on_duty", "reserve", "suspended") if int(props.get(k, 0))]
        s = STATUS_STYLE[held[0] if held else "off_duty"]
    style: dict[str, Any] = {"color": s["color"], "fillColor": s["color"], "radius": radius,
                             "weight": 1.5, "fillOpacity": 0.35}
    if s.get("dash"):
        style["dashArray"] = s["dash"]
    return style


class _Clusters(MacroElement):
    """Cluster circles drawn from one compact array (about 50 bytes a cluster, no GeoJSON):
    each row ``lat, lon, officers, on_duty, reserve, off_duty, suspended, stale, radius,
    style``; ``styles`` holds the few distinct styles once."""

    _template = Template("""{% macro script(this, kwargs) %}
(function (group) {
  var styles = {{ this.styles|tojson }}, rows = {{ this.rows|tojson }};
  rows.forEach(function (c) {
    var s = Object.assign({radius: c[8]}, styles[c[9]]);
    L.circleMarker([c[0], c[1]], s).bindTooltip(
      "<b>" + c[2] + " officers</b><br>On duty " + c[3] + "<br>Reserve " + c[4] +
      "<br>Off duty " + c[5] + "<br>Suspended " + c[6] + "<br>Stale positions " + c[7],
      {sticky: true}).addTo(group);
  });
})({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, rows: list[list[float | int]], styles: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows
        self.styles = styles


def clusters_group(clusters: gpd.GeoDataFrame, *, name: str = "Officers (clustered)"
                   ) -> folium.FeatureGroup:
    """Clusters from :func:`officer_clusters` as canvas circles, counts in the tooltip.

    Only numbers reach the browser (no text from data files).
    """
    fields = ["officers", *_COUNTED, "stale"]
    styles: list[dict[str, Any]] = []
    rows: list[list[float | int]] = []
    counts = clusters[fields].to_numpy(dtype=np.int64) if len(clusters) else np.empty((0, 6))
    for (x, y), c in zip(zip(clusters.geometry.x, clusters.geometry.y, strict=True), counts,
                         strict=True):
        style = cluster_style(dict(zip(fields, c.tolist(), strict=True)))
        radius = style.pop("radius")
        if style not in styles:
            styles.append(style)
        rows.append([round(float(y), COORD_DIGITS), round(float(x), COORD_DIGITS),
                     *(int(v) for v in c), int(radius), styles.index(style)])
    group = folium.FeatureGroup(name=html.escape(name))
    _Clusters(rows, styles).add_to(group)
    return group


def rounded(gdf: gpd.GeoDataFrame, digits: int = COORD_DIGITS) -> gpd.GeoDataFrame:
    """Return a new frame with point coordinates rounded to ``digits`` decimals."""
    if not len(gdf):
        return gdf
    xs = np.round(gdf.geometry.x.to_numpy(), digits)
    ys = np.round(gdf.geometry.y.to_numpy(), digits)
    return gdf.set_geometry(gpd.GeoSeries(gpd.points_from_xy(xs, ys), index=gdf.index,
                                          crs=gdf.crs))
