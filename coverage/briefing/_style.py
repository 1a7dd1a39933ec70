"""Map style: the colours and symbols every map shares, and escaping text from data files.

Plumbing behind :mod:`coverage.briefing.mapview` and :mod:`coverage.briefing.unitview`.
"""

from __future__ import annotations

import html
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

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
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")


def escape_value(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if value is pd.NA:
        return "-"
    return value


def escaped(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Return a new frame with ``columns`` (escaped, JSON-safe) and the geometry."""
    return gpd.GeoDataFrame(
        {c: [escape_value(v.item() if hasattr(v, "item") else v) for v in gdf[c]] for c in columns},
        geometry=gdf.geometry.to_numpy(), crs=gdf.crs,
    )

