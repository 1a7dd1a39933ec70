"""Static map: the briefing's map drawn with matplotlib, used when no browser can render it.

It shows what the folium map shows (main roads, zones coloured by gap and labelled, stations,
the briefing's redacted officer layer under the zones) with the handling marking, and says it
is a fallback; with ``panel`` the title, local time, key figures and legend stand beside it.
:func:`inset_png` draws the small district overview every export carries.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import shapely

from coverage.briefing._pdf import font_safe
from coverage.briefing.brief import Brief, figure_rows
from coverage.briefing.mapview import (
    AREA_COLOR,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    STATION_COLOR,
    STATUS_STYLE,
    main_roads,
)

#: Width of the static panel beside the map, in CSS px (as the browser panel).
_PANEL_PX = 330

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


def inset_png(brief: Brief, *, size_px: int = 300) -> bytes:
    """The district overview: zones by gap, main roads, and the map's view as a black frame.

    A square PNG of ``size_px``; ``brief.district`` is the area drawn (default: the view).
    """
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path as MplPath

    cov = brief.coverage
    fig = Figure(figsize=(size_px / 100, size_px / 100), dpi=100, facecolor="white")
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    xlim, ylim = _limits(brief.district or brief.extent, 1.0)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    roads = main_roads(cov.dataset.network)
    if len(roads):
        ax.add_collection(LineCollection([np.asarray(g.coords) for g in roads.geometry],
                                         colors="#c4c9cf", linewidths=0.4, zorder=1))
    gap = dict(zip(cov.table["zone_id"].astype(str), cov.table["gap"].astype(bool),
                   strict=True))
    patches, faces = [], []
    for zid, geom in zip(cov.dataset.zones["zone_id"].astype(str), cov.dataset.zones.geometry,
                         strict=True):
        for rings in _rings(geom):
            patches.append(PathPatch(MplPath.make_compound_path(
                *(MplPath(r, closed=True) for r in rings))))
            faces.append(to_rgba(GAP_COLOR if gap.get(zid, False) else OK_COLOR, 0.9))
    if patches:
        ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors=faces,
                                          linewidths=0.8, zorder=2, match_original=False))
    x0, y0, x1, y1 = brief.extent
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor="black",
                           linewidth=1.6, zorder=3))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def static_map_png(
    brief: Brief, *, width_px: int, height_px: int, legend: list[tuple[str, str]],
    scale: int = 1, panel: bool = False,
) -> bytes:
    """Return the map as PNG bytes of exactly ``width_px * scale`` x ``height_px * scale``.

    ``panel`` puts the title, local time, key figures, legend and marking in a column
    beside the map, as the browser-rendered PNG does.
    """
    from matplotlib.collections import LineCollection, PatchCollection
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, PathPatch
    from matplotlib.path import Path as MplPath

    cov = brief.coverage
    net = cov.dataset.network
    dpi = 100 * scale
    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=dpi, facecolor="white")
    panel_w = min(_PANEL_PX / width_px, 0.5) if panel else 0.0
    map_w = 1.0 - panel_w
    ax = fig.add_axes((0.0, 0.0, map_w, 1.0))
    ax.set_axis_off()
    xlim, ylim = _limits(brief.extent, width_px * map_w / height_px)
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
    for zid, name, geom in zip(cov.dataset.zones["zone_id"].astype(str),
                               cov.dataset.zones["name"].astype(str),
                               cov.dataset.zones.geometry, strict=True):
        color = GAP_COLOR if gap.get(zid, False) else OK_COLOR
        for rings in _rings(geom):
            patches.append(PathPatch(MplPath.make_compound_path(
                *(MplPath(r, closed=True) for r in rings))))
            faces.append(to_rgba(color, 0.35))
            newly = was and gap.get(zid, False) and not was.get(zid, False)
            edges.append(to_rgba(NEW_GAP_COLOR if newly else color, 1.0))
        if geom is not None and not geom.is_empty:
            p = geom.representative_point()
            ax.text(p.x, p.y, font_safe(name), fontsize=7, ha="center", va="top",
                    color="#8f2d00" if gap.get(zid, False) else "#1b1f24",
                    weight="bold" if gap.get(zid, False) else "normal", zorder=6,
                    parse_math=False, clip_on=True,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.6,
                          "pad": 0.5})
    if patches:  # zones above the station aggregates (zorder 3), below stations
        ax.add_collection(PatchCollection(patches, facecolors=faces, edgecolors=edges,
                                          linewidths=1.6, zorder=3.5, match_original=False))
    st = cov.dataset.stations
    st = st.loc[~(st.geometry.isna() | st.geometry.is_empty)]
    ax.scatter(st.geometry.x, st.geometry.y, s=36, c="white", edgecolors=STATION_COLOR,
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
    handles = [Patch(facecolor=c, edgecolor="#24292f",
                     label=font_safe(label).replace("$", r"\$"))  # no mathtext
               for c, label in legend]
    mid = map_w / 2
    fig.text(mid, 0.99, font_safe(brief.handling), va="top", parse_math=False, **_MARKING)
    fig.text(mid, 0.01, font_safe(brief.handling), va="bottom", parse_math=False, **_MARKING)
    fig.text(map_w - 0.005, 0.045, "Static rendering (no browser): not the interactive map",
             ha="right", va="bottom", fontsize=7, color="#57606a")
    if not panel:
        ax.legend(handles=handles, loc="lower left", fontsize=7, framealpha=0.9,
                  bbox_to_anchor=(0.005, 0.04))
        fig.text(mid, 0.955, font_safe(brief.title), ha="center", va="top", fontsize=9,
                 parse_math=False)
        _inset(fig, brief, (map_w - 0.17, 0.07, 0.16, 0.16 * width_px / height_px))
    else:
        _panel(fig, brief, handles, left=map_w, width_px=width_px, height_px=height_px)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _inset(fig: Any, brief: Brief, box: tuple[float, float, float, float]) -> None:
    """Place the district inset (:func:`inset_png`) at ``box`` in figure fractions."""
    from PIL import Image

    ax = fig.add_axes(box)
    ax.set_xticks([])
    ax.set_yticks([])
    with Image.open(io.BytesIO(inset_png(brief, size_px=300))) as img:
        ax.imshow(np.asarray(img.convert("RGB")))
    for spine in ax.spines.values():
        spine.set_edgecolor("#57606a")


def _panel(fig: Any, brief: Brief, handles: list[Any], *, left: float, width_px: int,
           height_px: int) -> None:
    """Title, local time, scenario, key figures, legend, inset and marking beside the map."""
    import textwrap

    x = left + 8 / width_px
    y = 1.0 - 8 / height_px
    line = 14 / height_px

    def put(text: str, *, size: float = 8, bold: bool = False, color: str = "#1f2328",
            wrap: int = 52) -> None:
        nonlocal y
        for part in textwrap.wrap(font_safe(text), wrap) or [""]:
            fig.text(x, y, part, va="top", ha="left", fontsize=size, color=color,
                     weight="bold" if bold else "normal", parse_math=False)
            y -= line * size / 8

    put(brief.handling, bold=True, color="#a40e26")
    put(brief.title, size=11, bold=True, wrap=38)
    put(f"Prepared {brief.created_text}", color="#57606a")
    put(brief.scenario)
    y -= line / 2
    put("Key figures (baseline -> scenario)", bold=True)
    for label, before, after in figure_rows(brief.before, brief.after, brief.expected):
        put(f"{label}: {before} -> {after}")
    y -= line / 2
    leg = fig.legend(handles=handles, loc="upper left", fontsize=5.5, frameon=False,
                     bbox_to_anchor=(left, y), title="Legend", title_fontsize=7.5,
                     alignment="left")
    leg.set_in_layout(False)
    side = min(200 / width_px, 0.9 * (1 - left))
    _inset(fig, brief, (left + (1 - left - side) / 2, 30 / height_px, side,
                        side * width_px / height_px))
    fig.text(left + (1 - left) / 2, 12 / height_px, font_safe(brief.handling),
             va="bottom", parse_math=False, **(_MARKING | {"fontsize": 7}))
