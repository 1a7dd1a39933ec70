"""Road view: the network's main roads for the map, inline or as a file the app serves.

Plumbing of :func:`coverage.briefing.mapview.base_map`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from jinja2 import Template
from shapely.geometry import LineString

from coverage.data.network import RoadNetwork

MAIN_ROADS = frozenset({"motorway", "trunk", "primary", "secondary", "motorway_link",
                        "trunk_link", "primary_link", "secondary_link"})


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


class RoadsFromUrl(MacroElement):
    """The main roads fetched from ``url`` (a GeoJSON Feature) and drawn under the layers."""

    _template = Template("""{% macro script(this, kwargs) %}
(function (map) {
  fetch({{ this.url|tojson }}).then(function (r) { return r.json(); }).then(function (g) {
    var pane = map.getPane("seccov-roads") || map.createPane("seccov-roads");
    pane.style.zIndex = 350;
    L.geoJSON(g, {pane: "seccov-roads", interactive: false, renderer: L.canvas({pane:
      "seccov-roads"}), style: {color: "#8c959f", weight: 1.5, opacity: 0.8}}).addTo(map);
  });
})({{ this._parent.get_name() }});
{% endmacro %}""")

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url


#: Bumped when :func:`roads_feature` draws differently, so files named by ``source`` renew.
ROADS_VERSION = 1


def write_roads(net: RoadNetwork, folder: Path, *, source: str | None = None) -> str:
    """Write :func:`roads_feature` of ``net`` to ``folder`` once; return the file's name.

    The name carries a hash of the content (``roads-<hash>.geojson``), so a browser may keep
    it as long as it likes and a new network gets a new name. ``source`` (e.g. the road
    file's path, size and modification time) names the file instead, so a restarted server
    finds it without drawing the roads again (1.3 s at a million nodes).
    """
    if source is not None:
        key = hashlib.sha256(f"{ROADS_VERSION}|{source}".encode()).hexdigest()[:16]
        name = f"roads-s{key}.geojson"
        if (folder / name).is_file():
            return name
        text = json.dumps(roads_feature(net), separators=(",", ":"))
    else:
        text = json.dumps(roads_feature(net), separators=(",", ":"))
        name = f"roads-{hashlib.sha256(text.encode()).hexdigest()[:16]}.geojson"
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".roads-", suffix=".tmp")
        try:  # a name of its own: two sessions writing at once never share a temp file
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return name
