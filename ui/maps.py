"""Maps, legend and key figures on screen: the app's view of a coverage run."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import folium
import pandas as pd
import streamlit as st

from coverage import settings
from coverage.briefing.brief import extent, local_now, local_time_text, zone_bounds
from coverage.briefing.brief import gap_list as gap_rows
from coverage.briefing.mapview import (
    BAND_COLORS,
    GAP_COLOR,
    NEW_GAP_COLOR,
    OK_COLOR,
    STALE_STYLE,
    STATUS_STYLE,
    coverage_map,
    view_of,
)
from coverage.briefing.mapview import base_map as base_map_of
from coverage.data.districts import Districts
from coverage.engine.analysis import Coverage
from coverage.ops.devices import device_ages
from coverage.ops.positions import LiveCoverage
from coverage.planning.whatif import figure_changes
from ui.feedback import md
from ui.state import coverage, roads_url, static_assets, store

#: The what-if table's columns: plain labels, shares as percentages, compact widths.
ZONE_CHANGE_COLUMNS: dict[str, Any] = {
    "zone_id": st.column_config.TextColumn("Zone", width=60),
    "name": st.column_config.TextColumn("Name", width=190),
    "priority": st.column_config.NumberColumn("P", format="%d", width=40,
                                              help="Priority, 1 = highest"),
    "change": st.column_config.TextColumn("Change", width=140),
    "covered_before": st.column_config.NumberColumn("Covered before", format="percent",
                                                    width=95),
    "covered_after": st.column_config.NumberColumn("Covered after", format="percent",
                                                   width=95),
    "covered_delta": st.column_config.NumberColumn("Covered change", format="percent",
                                                   width="small"),
    "p90_before": st.column_config.NumberColumn("p90 before (min)", format="%.1f",
                                                width=105),
    "p90_after": st.column_config.NumberColumn("p90 after (min)", format="%.1f",
                                               width=100),
    "p90_delta": st.column_config.NumberColumn("p90 change (min)", format="%+.1f",
                                               width="small"),
    "officers_before": st.column_config.NumberColumn("Officers before", width=100),
    "officers_after": st.column_config.NumberColumn("Officers after", width=95),
    "min_officers": st.column_config.NumberColumn("Officers needed", width=110),
}


#: The coverage table's columns (``coverage.engine.report.zone_view``): plain labels; the
#: covered bar in the covered-zone colour (never red for a covered zone).
ZONE_TABLE_COLUMNS: dict[str, Any] = {
    "zone_id": st.column_config.TextColumn("Zone"),
    "name": st.column_config.TextColumn("Name"),
    "priority": st.column_config.NumberColumn("P", format="%d", help="Priority, 1 = highest"),
    "status": st.column_config.TextColumn("Status"),
    "covered_pct": st.column_config.ProgressColumn("Covered", format="%.0f%%", min_value=0,
                                                   max_value=100, color=OK_COLOR),
    "p50_min": st.column_config.NumberColumn("p50 (min)", format="%.1f"),
    "p90_min": st.column_config.NumberColumn("p90 (min)", format="%.1f"),
    "max_min": st.column_config.NumberColumn("max (min)", format="%.1f"),
    "target_min": st.column_config.NumberColumn("Target (min)", format="%g"),
    "unreachable_nodes": st.column_config.NumberColumn("Unreachable nodes"),
    "officers_within_target": st.column_config.NumberColumn("Officers in target"),
    "min_officers": st.column_config.NumberColumn("Officers needed"),
    "nodes": st.column_config.NumberColumn("Road nodes"),
}
#: The what-if table's columns in order (changes are read from before and after).
ZONE_CHANGE_ORDER = ("zone_id", "name", "priority", "change", "covered_before",
                     "covered_after", "p90_before", "p90_after", "officers_before",
                     "officers_after", "min_officers")


def base_map(*, height_px: int = 620) -> folium.Map:
    """The active network's main roads (and basemap, ``SECCOV_TILES_URL``), Leaflet local.

    It opens on the sensitive zones (:func:`coverage.briefing.brief.extent`). The roads
    are fetched from :func:`ui.state.roads_url`, so this map's script is a few kB and the
    same on every refresh: only the groups drawn on it change.
    """
    cov = coverage()
    return base_map_of(cov.dataset.network, height_px=height_px, bounds=_opening_view(cov),
                       asset_base_url=static_assets(), roads_url=roads_url())


def _opening_view(cov: Coverage) -> tuple[float, float, float, float]:
    """Where the app's maps open: the sensitive zones (stations may lie far out)."""
    return extent(cov, pad=0.15, stations=False)


def map_of(cov: Coverage, *, baseline: Coverage | None = None,
           extra: list[folium.FeatureGroup] | None = None) -> folium.Map:
    """The full map of a run (as the exports draw it), Leaflet served by the app."""
    return coverage_map(cov, baseline=baseline, extra=extra, bounds=_opening_view(cov),
                        asset_base_url=static_assets())


def age_text(seconds: float | None) -> str:
    """An age for people: ``45 s``, ``7 min``, ``2.5 h``; ``-`` when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def feed_text(view: LiveCoverage) -> str:
    """The feed-health line: state, newest position's age, share stale, what counts."""
    f = view.feed
    head = {"ok": "Feed ok", "degraded": "Feed degraded", "down": "Feed down"}[f.state]
    if not f.positions:
        return (f"{head}: no live positions: every unit stands at its roster position "
                "(own, else its station).")
    counted = ("left out of coverage (\"Leave out stale positions\" is on)"
               if view.exclude_stale else "still counted, at their last reported position")
    why = {"down": f"no position newer than {age_text(f.stale_after_s)}",
           "degraded": "more than half the positions are stale",
           "ok": "positions are arriving"}[f.state]
    tail = f", {counted}" if f.stale else ""
    return (f"{head}: {why}. Newest position {age_text(f.newest_age_s)} old; "
            f"{f.stale} of {f.positions} positions stale ({f.stale_share:.0%}){tail}.")


def feed_banner(view: LiveCoverage) -> None:
    """Green when the feed is ok, amber when degraded, red when down (DATA.md)."""
    text = feed_text(view)
    if view.feed.state == "down":
        st.error(text, icon=":material/sensors_off:")
    elif view.feed.state == "degraded":
        st.warning(text, icon=":material/network_check:")
    else:
        st.success(text, icon=":material/sensors:")


def live_caption(view: LiveCoverage) -> None:
    """Where the positions come from, how stale ones are drawn, the refresh time."""
    source = "no live reports yet: roster positions"
    if view.live_reports:
        treated = "greyed, left out" if view.exclude_stale else \
            "greyed, counted at their last position"
        source = (f"{view.live_reports} officers with live positions, {view.stale} stale "
                  f"({treated})")
    if view.simulated:
        source += f"; **{view.simulated} positions are SIMULATED** (a simulated feed)"
    if view.off_network:
        source += (f"; {view.off_network} unit(s) more than {settings.SNAP_WARN_M:,.0f} m "
                   f"from a road ({view.off_network_live} at live positions) stand at the "
                   "nearest road node")
    now = local_now()
    st.caption(f"{source}. Refreshes every {settings.refresh_s():g} s; updated "
               f"{now:%H:%M:%S %Z} ({settings.local_tz()}).")


def gap_list(view: LiveCoverage, *, key: str, zoom_key: str,
             district: tuple[str, list[str]] | None = None) -> None:
    """The zones with a gap, ranked; selecting a row zooms the map to the zone.

    ``district`` (name, its zone ids) limits the list to a picked district's zones. The
    zone picked is kept under ``zoom_key`` (by id, so a re-ranked list never moves the map
    to another zone).
    """
    table = gap_rows(view.coverage, stale_only=view.stale_only_gaps)
    if district is None:
        st.markdown(f"**Zones with a gap: {len(table)}**")
    else:
        everywhere = len(table)
        table = district_rows(table, district[1])
        st.markdown(f"**Zones with a gap in {md(district[0])}: {len(table)}** "
                    f"({everywhere} in all)")
    if not len(table):
        st.caption("Every zone is covered within its target.")
        st.session_state.pop(zoom_key, None)
    ids = list(table["zone_id"])
    st.session_state[f"{key}-ids"] = ids

    def picked() -> None:
        rows = st.session_state[key].selection.rows
        shown = st.session_state.get(f"{key}-ids", [])
        st.session_state[zoom_key] = shown[rows[0]] if rows and rows[0] < len(shown) \
            else None

    if len(table):
        st.dataframe(
            table.drop(columns=["zone_id"]), hide_index=True, width="stretch", key=key,
            on_select=picked, selection_mode="single-row", height=min(38 + 35 * len(table), 560),
            column_config={
                "name": st.column_config.TextColumn("Zone"),
                "priority": st.column_config.NumberColumn("P", format="%d", width="small",
                                                          help="1 = highest"),
                "covered_pct": st.column_config.NumberColumn("Covered", format="%.0f%%",
                                                             width="small"),
                "short": st.column_config.NumberColumn("Short", format="%d", width="small",
                                                       help="Officers short of the zone's "
                                                       "min_officers within target"),
                "stale_only": st.column_config.CheckboxColumn(
                    "Stale only", width="small",
                    help="A gap only because stale positions are left out"),
            })
        st.caption("Select a zone to zoom the map to it.")
    held = [] if view.exclude_stale else list(view.stale_only_gaps)
    if held:
        more = f" and {len(held) - 8} more" if len(held) > 8 else ""
        st.caption(f"Covered only thanks to stale positions (a gap if they were left out): "
                   f"{len(held)} zone(s), {md(', '.join(held[:8]))}{more}.")


def zoom_to(cov: Coverage, zone_id: str | None, *, width_px: int = 700,
            height_px: int = 620) -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom showing ``zone_id`` (None, None: leave the map as the user has it)."""
    bounds = zone_bounds(cov, zone_id) if zone_id else None
    if bounds is None:
        return None, None
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) * 0.3, (y1 - y0) * 0.3
    return view_of((x0 - dx, y0 - dy, x1 + dx, y1 + dy), width_px=width_px,
                   height_px=height_px)


#: Rows of the device table sent on each refresh: the oldest reports, the ones to chase
#: (20,000 devices were 1.4 MB a refresh).
DEVICE_ROWS = 500


def device_table(stale_after_s: float, *, limit: int = DEVICE_ROWS) -> pd.DataFrame:
    """Each device's last report, oldest first, times in local time (the HTTP feed's).

    Only the ``limit`` oldest; ``df.attrs["devices"]`` is how many devices there are.
    """
    ages = device_ages(store(), stale_after_s=stale_after_s)
    total = len(ages)
    ages = ages.sort_values("age_s", ascending=False, na_position="first", kind="stable")
    ages = ages.iloc[:limit]
    return pd.DataFrame({
        "device": ages["device_id"].astype(str).to_numpy(),
        "officer": ages["officer_id"].astype(str).to_numpy(),
        "last report": [local_time_text(t.to_pydatetime(), seconds=True) if pd.notna(t)
                        else "never" for t in ages["last_report"]],
        "age": [age_text(a) for a in ages["age_s"]],
        "stale": ages["stale"].to_numpy(dtype=bool),
        "source": ages["source"].fillna("-").astype(str).to_numpy(),
    }).pipe(_counted, total)


def _counted(frame: pd.DataFrame, total: int) -> pd.DataFrame:
    frame.attrs["devices"] = total
    return frame


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
        digits = 1 if f.unit else 0
        unchanged = f.delta is not None and round(f.delta, digits) == 0
        if before is not None and f.delta is not None:
            delta = "no change" if unchanged else f"{f.delta:+,.{digits}f}{_unit(f.unit)}"
        col.metric(f.label, value, delta=delta,
                   delta_color="off" if unchanged else
                   ("inverse" if f.worse_when_higher else "normal"),
                   delta_arrow="off" if unchanged else "auto",
                   help=_figure_help(f.label, cov))


def _unit(unit: str) -> str:
    return "%" if unit == "%" else (f" {unit}" if unit else "")


def _figure_help(label: str, cov: Coverage) -> str:
    o = cov.overall
    return {
        "Available units": "On-duty officers not suspended. Live: stale units count at "
                           "their last position unless left out.",
        "Zones with a gap": f"{o.zones_with_gap} of {o.zones} zones: not every zone node "
                            "reached in time, or too few officers within target.",
        "Zone nodes covered": "Share of all zone road nodes reached within their target.",
        "Officers short": "Sum over zones of officers missing to reach min_officers.",
        "Worst zone p90": f"Highest 90th-percentile response over zones: zone "
                          f"{md(o.worst_zone or '-')}.",
    }.get(label, "")


#: The district picker's first choice: no district, the whole dataset.
WHOLE_AREA = "Whole province/area"


def district_picker(districts: Districts, *, key: str, on_change: Callable[[], None] | None = None
                    ) -> str | None:
    """A selectbox of the districts (hidden without a grouping); None: the whole area."""
    if not districts.grouped:
        return None
    label = {"district": "District", "division": "Division"}.get(districts.column or "",
                                                                 "District")
    picked = st.selectbox(label, [WHOLE_AREA, *districts.names], key=key,
                          on_change=on_change,
                          help="Zooms the map to the district and shows its officers one by "
                               "one and its zones' labels. Districts come from the stations "
                               f"file's '{districts.column}' column; a zone belongs to the "
                               "district of the station nearest it.")
    return None if picked in (None, WHOLE_AREA) else str(picked)


def district_view(bounds: tuple[float, float, float, float] | None, *, width_px: int = 700,
                  height_px: int = 620) -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom showing a district's ``bounds`` (None: leave the map as it is)."""
    if bounds is None:
        return None, None
    x0, y0, x1, y1 = bounds
    dx, dy = max((x1 - x0) * 0.1, 0.002), max((y1 - y0) * 0.1, 0.002)
    return view_of((x0 - dx, y0 - dy, x1 + dx, y1 + dy), width_px=width_px,
                   height_px=height_px)


def picked_view(bounds: tuple[float, float, float, float] | None, *, key: str,
                height_px: int = 620) -> tuple[tuple[float, float] | None, int | None]:
    """Centre and zoom for the district picker: a district's ``bounds``; back on the whole
    area after a district was picked in this session, the opening view; else None, None
    (the map keeps the view it fitted itself)."""
    if bounds is not None:
        st.session_state[key] = True
        return district_view(bounds, height_px=height_px)
    if st.session_state.get(key):
        return view_of(_opening_view(coverage()), width_px=700, height_px=height_px)
    return None, None


def district_table(figures: pd.DataFrame, *, picked: str | None, key: str,
                   label: str = "District") -> None:
    """Per-district figures (coverage.engine.rollup), the picked district first."""
    if picked is not None:
        order = (figures["district"] != picked).to_numpy().argsort(kind="stable")
        figures = figures.iloc[order]
    shown = figures.assign(covered_pct=[  # text: a district with no zones says so
        "no zones" if pd.isna(v) else f"{100 * v:.0f}%" for v in figures["covered_share"]]
    ).drop(columns=["covered_share"])
    st.dataframe(
        shown, hide_index=True, width="stretch", key=key,
        height=min(38 + 35 * len(shown), 420),
        column_config={
            "district": st.column_config.TextColumn(label),
            "stations": st.column_config.NumberColumn("Stations", format="%d"),
            "available": st.column_config.NumberColumn(
                "Available", format="%d", help="Available units (on duty, not suspended) "
                "of the district's stations, wherever they stand"),
            "zones": st.column_config.NumberColumn("Zones", format="%d"),
            "zones_with_gap": st.column_config.NumberColumn(
                "Zones with a gap", format="%d",
                help="Not every zone node reached in time, or too few officers within "
                     "target (live positions on the live map)"),
            "officers_short": st.column_config.NumberColumn(
                "Officers short", format="%d",
                help="Sum over the district's zones of officers missing to reach "
                     "min_officers"),
            "covered_pct": st.column_config.TextColumn(
                "Zone nodes covered", help="Share of the district's zone road nodes reached "
                "within their target"),
        })


def district_rows(table: pd.DataFrame, zone_ids: list[str]) -> pd.DataFrame:
    """The rows of a zone table whose ``zone_id`` is in ``zone_ids`` (order kept)."""
    keep = table["zone_id"].astype(str).isin(set(zone_ids)).to_numpy()
    return table if keep.all() else table.loc[keep].reset_index(drop=True)
