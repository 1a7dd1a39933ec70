"""Maps, legend and key figures on screen: the app's view of a coverage run."""

from __future__ import annotations

from datetime import datetime

import folium
import streamlit as st

from coverage import settings
from coverage.briefing.brief import extent
from coverage.briefing.mapview import (
    BAND_COLORS,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    STALE_STYLE,
    STATUS_STYLE,
    coverage_map,
)
from coverage.briefing.mapview import base_map as base_map_of
from coverage.engine.analysis import Coverage
from coverage.ops.positions import LiveCoverage
from coverage.planning.whatif import figure_changes
from ui.feedback import md
from ui.state import coverage, static_assets


def base_map(*, height_px: int = 620) -> folium.Map:
    """The active network's main roads (and basemap, ``SECCOV_TILES_URL``), Leaflet local.

    It opens on the sensitive zones (:func:`coverage.briefing.brief.extent`).
    """
    cov = coverage()
    return base_map_of(cov.dataset.network, height_px=height_px, bounds=_opening_view(cov),
                       asset_base_url=static_assets())


def _opening_view(cov: Coverage) -> tuple[float, float, float, float]:
    """Where the app's maps open: the sensitive zones (stations may lie far out)."""
    return extent(cov, pad=0.15, stations=False)


def map_of(cov: Coverage, *, baseline: Coverage | None = None,
           extra: list[folium.FeatureGroup] | None = None) -> folium.Map:
    """The full map of a run (as the exports draw it), Leaflet served by the app."""
    return coverage_map(cov, baseline=baseline, extra=extra, bounds=_opening_view(cov),
                        asset_base_url=static_assets())


def live_caption(view: LiveCoverage) -> None:
    """Where the positions come from, how many are stale, and the refresh time."""
    source = "no live reports yet: roster positions"
    if view.live_reports:
        newest = "-" if view.newest_age_s is None else f"{view.newest_age_s:.0f} s"
        source = (f"{view.live_reports} officers with live positions (newest {newest} old), "
                  f"{view.stale} stale (greyed"
                  f"{', not counted' if view.stale else ''})")
    if view.simulated:
        source += f"; **{view.simulated} positions are SIMULATED** (demo feed)"
    st.caption(f"{source}. Refreshes every {settings.refresh_s():g} s; updated "
               f"{datetime.now().astimezone():%H:%M:%S %Z}.")


def _dot(color: str, *, fill: bool = True, dash: bool = False, size: int = 12) -> str:
    border = "dashed" if dash else "solid"
    background = color if fill else "transparent"
    return (f'<span style="display:inline-block;width:{size}px;height:{size}px;'
            f'border-radius:50%;border:2px {border} {color};background:{background};'
            'vertical-align:middle;margin:0 4px 0 10px"></span>')


def _square(color: str, *, outline: str | None = None, dash: bool = False) -> str:
    border = f"2px {'dashed' if dash else 'solid'} {outline or color}"
    return (f'<span style="display:inline-block;width:14px;height:10px;background:{color};'
            f'opacity:0.8;border:{border};vertical-align:middle;margin:0 4px 0 10px"></span>')


def legend(*, surface_labels: list[str] | None = None, what_if: bool = False) -> None:
    """The map legend (fixed text only; nothing from data files)."""
    parts = [_square(GAP_COLOR) + "zone with a gap", _square(OK_COLOR) + "zone covered"]
    if what_if:
        parts.append(_square(GAP_COLOR, outline=NEW_GAP_COLOR, dash=True)
                     + "newly below target")
    parts.append(_dot("#24292f", fill=False) + "station")
    for s in (*STATUS_STYLE.values(), STALE_STYLE):
        parts.append(_dot(s["color"], fill=s["fill"], dash=bool(s.get("dash")))
                     + str(s["label"]).lower())
    if surface_labels:
        parts += [_square(BAND_COLORS[min(i, len(BAND_COLORS) - 1)]) + label
                  for i, label in enumerate(surface_labels)]
    st.html(f'<div style="font-size:0.85rem;line-height:1.9">{"".join(parts)}</div>')


def show_key_figures(cov: Coverage, *, before: Coverage | None = None) -> None:
    """The strip of key figures; with ``before``, each with its change."""
    changes = figure_changes(before if before is not None else cov, cov)
    cols = st.columns(len(changes))
    for col, f in zip(cols, changes, strict=True):
        value = f"{f.after:,.{1 if f.unit else 0}f}{_unit(f.unit)}" if f.after is not None \
            else ("unreachable" if f.unit == "min" and cov.overall.zones else "-")
        delta = None
        if before is not None and f.delta is not None:
            delta = f"{f.delta:+,.{1 if f.unit else 0}f}{_unit(f.unit)}"
        col.metric(f.label, value, delta=delta,
                   delta_color="inverse" if f.worse_when_higher else "normal",
                   help=_figure_help(f.label, cov))


def _unit(unit: str) -> str:
    return "%" if unit == "%" else (f" {unit}" if unit else "")


def _figure_help(label: str, cov: Coverage) -> str:
    o = cov.overall
    return {
        "Available units": "On-duty officers not suspended (and, live, not stale).",
        "Zones with a gap": f"{o.zones_with_gap} of {o.zones} zones: not every zone node "
                            "reached in time, or too few officers within target.",
        "Zone nodes covered": "Share of all zone road nodes reached within their target.",
        "Officers short": "Sum over zones of officers missing to reach min_officers.",
        "Worst zone p90": f"Highest 90th-percentile response over zones: zone "
                          f"{md(o.worst_zone or '-')}.",
    }.get(label, "")
