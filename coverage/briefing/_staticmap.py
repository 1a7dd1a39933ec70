"""Static map: the briefing's map drawn with matplotlib, used when no browser can render it.

It shows what the folium map shows (main roads, zones coloured by gap, stations, the
briefing's redacted officer layer) with the handling marking, and says it is a fallback.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import shapely

from coverage.briefing._pdf import font_safe
from coverage.briefing.brief import Brief
from coverage.briefing.mapview import (
    AREA_COLOR,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    STATUS_STYLE,
    main_roads,
)

_MARKING: dict[str, Any] = {"ha": "center", "color": "#a40e26", "weight": "bold", "fontsize": 10,
            "bbox": {"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 2}}


def _rings(geom: shapely.Geometry) -> list[list[np.ndarray]]:
    """Each polygon of ``geom`` as [exterior, *holes] coordinate arrays."""
    polys = getattr(geom, "geoms", [geom])
    return [[np.asarray(p.exterior.coords), *(np.asarray(r.coords) for r in p.interiors)]
            for p in polys if p.geom_type == "Polygon" and not p.is_empty]


def _limits(bounds: tuple[float, float, float, float],
            ratio: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits around ``bounds`` (plus 3 %) whose shape is ``ratio`` (width / height)
    on the ground, so a degree of longitude is drawn ``cos(latitude)`` as wide as one of
    latitude and the map is not stretched."""
    x0, y0, x1, y1 = bounds
    k = math.cos(math.radians((y0 + y1) / 2))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w = max((x1 - x0) * k, 1e-4) * 1.03 / 2  # ground-proportional units
    half_h = max(y1 - y0, 1e-4) * 1.03 / 2
    if half_w / half_h < ratio:
        half_w = half_h * ratio
    else:
        half_h = half_w / ratio
    return (cx - half_w / k, cx + half_w / k), (cy - half_h, cy + half_h)


def static_map_png(
    brief: Brief, *, width_px: int, height_px: int, legend: list[tuple[str, str]],
    scale: int = 1,
) -> bytes:
    """Return the map as PNG bytes of exactly ``width_px * scale`` x ``height_px * scale``."""
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    cov = brief.coverage
    net = cov.dataset.network
    dpi = 100 * scale
    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=dpi, facecolor="white")
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    xlim, ylim = _limits(brief.extent, width_px / height_px)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)

    roads = main_roads(net)
    if len(roads):
        ax.add_collection(LineCollection(
            [np.asarray(g.coords) for g in roads.geometry], colors="#8c959f",
            linewidths=0.8, zorder=1))
    area_patches = [PathPatch(MplPath.make_compound_path(
        *(MplPath(r, closed=True) for r in rings)))
        for _, area in brief.areas for g in area.geometry for rings in _rings(g)]
    if area_patches:
        ax.add_collection(PatchCollection(area_patches, facecolors=to_rgba(AREA_COLOR, 0.3),
                                          edgecolors="#0969da", linewidths=1.2, zorder=1.5,
                                          match_original=False))
    gap = dict(zip(cov.table["zone_id"].astype(str), cov.table["gap"].astype(bool),
                   strict=True))
    was = (dict(zip(brief.baseline.table["zone_id"].astype(str),
                    brief.baseline.table["gap"].astype(bool), strict=True))
           if brief.baseline is not None and brief.marks_new_gaps else {})
    patches, faces, edges = [], [], []
    for zid, geom in zip(cov.dataset.zones["zone_id"].astype(str), cov.dataset.zones.geometry,
                         strict=True):
        color = GAP_COLOR if gap.get(zid, False) else OK_COLOR
        for rings in _rings(geom):
            patches.append(PathPatch(MplPath.make_compound_path(
                *(MplPath(r, closed=True) for r in rings))))
            faces.append(to_rgba(color, 0.35))
            newly = was and gap.get(zid, False) and not was.get(zid, False)
            edges.append(to_rgba(NEW_GAP_COLOR if newly else color, 1.0))
        if gap.get(zid, False) and geom is not None and not geom.is_empty:
            p = geom.representative_point()
            ax.text(p.x, p.y, font_safe(zid), fontsize=7, ha="center", va="center",
                    color="#24292f", zorder=5, parse_math=False)
    if patches:
        ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors=edges,
                                          linewidths=1.2, zorder=2, match_original=False))
    st = cov.dataset.stations
    st = st.loc[~(st.geometry.isna() | st.geometry.is_empty)]
    ax.scatter(st.geometry.x, st.geometry.y, s=36, c="white", edgecolors="#24292f",
               linewidths=1.5, zorder=4)
    off = brief.officers
    if len(off):
        if "radius" in off.columns:
            ax.scatter(off.geometry.x, off.geometry.y, s=(off["radius"].to_numpy() * 1.5) ** 2,
                       c=[to_rgba(c, 0.45) for c in off["color"]],
                       edgecolors=list(off["color"]), linewidths=1.0, zorder=3)
        else:
            colors = [STATUS_STYLE.get(s, {}).get("color", "#000000") for s in off["status"]]
            ax.scatter(off.geometry.x, off.geometry.y, s=9, c=colors, zorder=3)
    ax.legend(handles=[Patch(facecolor=c, edgecolor="#24292f",
                             label=font_safe(label).replace("$", r"\$"))  # no mathtext
                       for c, label in legend],
              loc="lower left", fontsize=7, framealpha=0.9, bbox_to_anchor=(0.005, 0.04))
    fig.text(0.5, 0.99, font_safe(brief.handling), va="top", parse_math=False, **_MARKING)
    fig.text(0.5, 0.955, font_safe(brief.title), ha="center", va="top", fontsize=9,
             parse_math=False)
    fig.text(0.5, 0.01, font_safe(brief.handling), va="bottom", parse_math=False, **_MARKING)
    fig.text(0.995, 0.01, "Static rendering (no browser): not the interactive map",
             ha="right", va="bottom", fontsize=7, color="#57606a")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
