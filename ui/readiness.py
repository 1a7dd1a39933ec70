"""Readiness page helpers: personnel inputs, cached runs, the readiness map and charts.

Station aggregates for every role that opens the page; officer-level records only through
:func:`personnel_records`, which checks the role and audits every view.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import altair as alt
import folium
import geopandas as gpd
import pandas as pd
import scipy.sparse as sp
import streamlit as st

from coverage import settings
from coverage.data.demo import DEMO_PERSONNEL, DEMO_SUSPENSION
from coverage.data.loaders import read_suspension
from coverage.data.personnel import read_events, read_resources
from coverage.engine.analysis import Coverage, suspend
from coverage.engine.metrics import demand
from coverage.ops import accounts, workspace
from coverage.planning.expected import ExpectedCoverage, expected_coverage, reach_matrix
from coverage.planning.readiness import (
    Readiness,
    default_as_of,
    readiness,
    station_events,
    unit_refusal_p,
)
from ui import auth, feedback, maps, state

LEVEL_COLORS = {"ok": "#2da44e", "warning": "#d4a72c", "critical": "#cf222e"}
LEVEL_ORDER = {"critical": 0, "warning": 1, "ok": 2}


@dataclass(frozen=True)
class Personnel:
    """The personnel inputs of the active dataset (events are officer-level records)."""

    events: pd.DataFrame
    resources: pd.DataFrame
    sources: tuple[str, str]


def personnel_files() -> dict[str, Path] | None:
    """Events and resources files for the active dataset: the demo's with the demo district,
    else the active upload's (None when it has none)."""
    if state.data_is_demo():
        return dict(DEMO_PERSONNEL)
    return workspace.active_personnel()


def personnel(files: dict[str, Path]) -> Personnel:
    """Read and validate the personnel files (problems shown with st.error, page stopped)."""
    ds = state.dataset()
    events = feedback.checked(read_events, files["events"], ds.officers)
    resources = feedback.checked(read_resources, files["resources"], ds.stations)
    return Personnel(events, resources, (files["events"].name, files["resources"].name))


def demo_suspension() -> list[str]:
    """The demo's 42-suspension list (the incident), for the toggle on the demo district."""
    return feedback.checked(read_suspension, DEMO_SUSPENSION, state.dataset().officers)


def _files_key() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in state.current_files().items()))


@st.cache_resource(show_spinner="Suspending officers...", max_entries=8)
def _suspended(key: tuple[tuple[str, str], ...], threshold_min: float,
               ids: tuple[str, ...]) -> Coverage:
    del key  # part of the cache key: the active dataset
    return suspend(state.coverage(threshold_min), ids)


@st.cache_resource(show_spinner="Finding which units reach each zone node...", max_entries=8)
def _reach(key: tuple[tuple[str, str], ...], threshold_min: float,
           ids: tuple[str, ...]) -> sp.csr_array:
    cov = _suspended(key, threshold_min, ids)
    return reach_matrix(cov, demand(cov.zones))


def run(p: Personnel, *, as_of: date | None, suspended: list[str], threshold_min: float,
        refusal_p: dict[str, float]) -> tuple[Readiness, Coverage, ExpectedCoverage]:
    """Readiness, the coverage run after ``suspended`` and its expected coverage."""
    ds = state.dataset()
    ids = tuple(suspended)
    r = feedback.checked(readiness, ds.stations, ds.officers, p.events, p.resources,
                         as_of=as_of, suspended=ids)
    key = _files_key()
    cov = state.coverage(threshold_min) if not ids else _suspended(key, threshold_min, ids)
    unit_p = feedback.checked(unit_refusal_p, r, cov.units.station_id, refusal_p=refusal_p)
    ex = feedback.checked(expected_coverage, cov, unit_p, reach=_reach(key, threshold_min, ids))
    return r, cov, ex


def first_as_of(p: Personnel) -> date:
    """The page's default as-of date: the newest event's (as the command line)."""
    return default_as_of(p.events)


def station_table(r: Readiness) -> pd.DataFrame:
    """The station table for the screen: worst level first, reasons as one text."""
    t = r.stations.assign(reasons=["; ".join(x) or "-" for x in r.stations["reasons"]],
                          absence_pct=r.stations["absence_rate_30d"] * 100,
                          suspended_pct=r.stations["suspended_share"] * 100)
    t = t.assign(_o=t["level"].map(LEVEL_ORDER)).sort_values(["_o", "station_id"],
                                                             kind="stable")
    return t[["level", "station_id", "name", "strength", "sanctioned_strength", "on_duty",
              "reserve", "off_duty", "suspended", "suspended_pct", "absence_pct",
              "complaints_90d", "grievances_90d", "refusals_90d", "reasons"]]


def zone_table(ex: ExpectedCoverage) -> pd.DataFrame:
    """Zones with plain and expected covered share in percent, biggest drop first."""
    z = ex.zones.assign(covered_pct=ex.zones["covered_share"] * 100,
                        expected_pct=ex.zones["expected_covered_share"] * 100)
    z = z.assign(drop_pct=z["covered_pct"] - z["expected_pct"])
    z = z.sort_values(["drop_pct", "zone_id"], ascending=[False, True], kind="stable")
    return z[["zone_id", "name", "priority", "covered_pct", "expected_pct", "drop_pct",
              "objective", "expected_objective"]]


def _share_color(share: float) -> str:
    if share >= 0.99:
        return LEVEL_COLORS["ok"]
    return LEVEL_COLORS["warning"] if share >= 0.9 else LEVEL_COLORS["critical"]


def readiness_map(cov: Coverage, r: Readiness, ex: ExpectedCoverage) -> folium.Map:
    """Zones coloured by expected covered share, stations coloured by readiness level."""
    m = maps.base_map(height_px=520)
    zones = cov.dataset.zones[["zone_id", "name", "geometry"]].merge(
        ex.zones[["zone_id", "covered_share", "expected_covered_share"]], on="zone_id")
    zlayer = gpd.GeoDataFrame({
        "zone_id": [html.escape(str(v)) for v in zones["zone_id"]],
        "name": [html.escape(str(v)) for v in zones["name"]],
        "covered": [f"{v:.1%}" for v in zones["covered_share"]],
        "expected": [f"{v:.1%}" for v in zones["expected_covered_share"]],
        "color": [_share_color(v) for v in zones["expected_covered_share"]],
    }, geometry=zones.geometry.to_numpy(), crs="EPSG:4326")
    group = folium.FeatureGroup(name="Expected coverage")
    folium.GeoJson(
        zlayer.__geo_interface__, name="Expected coverage",
        style_function=lambda f: {"color": f["properties"]["color"], "weight": 2.5,
                                  "fillColor": f["properties"]["color"], "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(["zone_id", "name", "covered", "expected"],
                                      aliases=["Zone", "Name", "Covered", "Expected"]),
    ).add_to(group)
    group.add_to(m)
    st_ = cov.dataset.stations[["station_id", "geometry"]].merge(
        r.stations[["station_id", "name", "level", "strength", "on_duty", "suspended"]],
        on="station_id")
    slayer = gpd.GeoDataFrame({
        "station_id": [html.escape(str(v)) for v in st_["station_id"]],
        "name": [html.escape(str(v)) for v in st_["name"]],
        "level": st_["level"].tolist(),
        "officers": [f"{a} ({b} on duty, {c} suspended)" for a, b, c in
                     zip(st_["strength"], st_["on_duty"], st_["suspended"], strict=True)],
        "color": [LEVEL_COLORS[v] for v in st_["level"]],
    }, geometry=st_.geometry.to_numpy(), crs="EPSG:4326")
    group = folium.FeatureGroup(name="Stations by readiness")
    folium.GeoJson(
        slayer.__geo_interface__, name="Stations by readiness",
        marker=folium.CircleMarker(radius=9, fill=True, fill_opacity=1.0),
        style_function=lambda f: {"color": "#24292f", "weight": 2,
                                  "fillColor": f["properties"]["color"]},
        tooltip=folium.GeoJsonTooltip(["station_id", "name", "level", "officers"],
                                      aliases=["Station", "Name", "Readiness", "Officers"]),
    ).add_to(group)
    group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def legend() -> None:
    """What the map's colours mean."""
    dots = " ".join(f'<span style="color:{c}">&#9679;</span> {k}' for k, c in
                    LEVEL_COLORS.items())
    st.markdown(f"Stations by readiness: {dots}. Zones by expected covered share: green "
                ">= 99 %, amber >= 90 %, red below.", unsafe_allow_html=True)


def trend_chart(trends: pd.DataFrame, station_id: str) -> alt.LayerChart | alt.VConcatChart:
    """Weekly absence rate (line) and weekly complaints, grievances and refusals (bars)."""
    t = trends.loc[trends["station_id"] == station_id].copy()
    t["week_end"] = pd.to_datetime(t["week_end"])
    t["absence_pct"] = t["absence_rate"] * 100
    line = alt.Chart(t).mark_line(point=True, color=LEVEL_COLORS["warning"]).encode(
        x=alt.X("week_end:T", title="week ending"),
        y=alt.Y("absence_pct:Q", title="absence (% of officer-days)"),
        tooltip=[alt.Tooltip("week_end:T", title="week ending"),
                 alt.Tooltip("absence_days:Q", title="absence days"),
                 alt.Tooltip("absence_pct:Q", title="absence %", format=".1f")],
    ).properties(height=170)
    long = t.melt(id_vars=["week_end"], value_vars=["complaints", "grievances", "refusals"],
                  var_name="kind", value_name="events")
    bars = alt.Chart(long).mark_bar().encode(
        x=alt.X("week_end:T", title="week ending"),
        y=alt.Y("events:Q", title="events", stack=True),
        color=alt.Color("kind:N", scale=alt.Scale(
            domain=["complaints", "grievances", "refusals"],
            range=["#8250df", LEVEL_COLORS["warning"], LEVEL_COLORS["critical"]])),
        tooltip=["week_end:T", "kind:N", "events:Q"],
    ).properties(height=170)
    return alt.vconcat(line, bars)


def personnel_records(role: str, r: Readiness, p: Personnel, station_id: str) -> None:
    """Officer-level events of one station, for command and admin only; every view audited.

    Any other role gets a refusal and nothing of the records (the check is here as well as
    in the page, so no other path shows them).
    """
    if not accounts.can_see_personnel(role):
        st.error("Officer-level personnel records are for the command and admin roles.",
                 icon=":material/block:")
        return
    rows = station_events(state.dataset().officers, p.events, station_id, as_of=r.as_of,
                          days=settings.EVENTS_WINDOW_DAYS)
    auth.record("personnel_viewed", station_id=station_id, as_of=r.as_of.isoformat(),
                records=len(rows))
    st.caption(f"{len(rows)} record(s) of station {feedback.md(station_id)}, "
               f"{settings.EVENTS_WINDOW_DAYS} days to {r.as_of.isoformat()}. This view is "
               "recorded in the audit log.")
    st.dataframe(rows, hide_index=True, width="stretch", key="rd_personnel_table",
                 column_config={"note": st.column_config.TextColumn("note (as written)")})


def level_counts(r: Readiness) -> dict[str, int]:
    """Stations per level."""
    counts = r.stations["level"].value_counts()
    return {k: int(counts.get(k, 0)) for k in settings.READINESS_LEVELS}


def chart(obj: Any) -> None:
    """Draw an Altair chart across the page."""
    st.altair_chart(obj, width="stretch")
