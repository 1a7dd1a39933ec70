"""What-if: suspend officers (picked, whole stations, an uploaded list, the demo's 42)."""

from __future__ import annotations

import time

import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.data.loaders import read_suspension
from coverage.engine.analysis import suspend
from coverage.planning import whatif
from ui import auth, export_panel, feedback, maps, state

auth.page_header("What-if: suspensions", "what_if")
threshold = st.slider("Default target for zones without their own (minutes)", 1.0, 60.0,
                      float(settings.DEFAULT_THRESHOLD_MIN), 0.5, key="wi_threshold",
                      help="Zones with their own target_min keep it.")
before = state.coverage(threshold)
officers = before.dataset.officers

with st.container(border=True):
    labels = whatif.officer_choices(officers)
    picked = st.multiselect("Officers (type to search id, name or station)", list(labels),
                            format_func=labels.__getitem__, key="wi_officers",
                            select_all=False, filter_mode="contains",
                            help="Pick officers one by one; whole stations below.")
    stations = st.multiselect("Whole stations", officers["station_id"].astype(str).unique(),
                              key="wi_stations")
    c1, c2 = st.columns([2, 1])
    upload = c1.file_uploader("Suspension list (CSV with officer_id, or one id per line)",
                              type=["csv", "txt", "lst"], key="wi_upload")
    demo_42 = state.data_is_demo() and c2.checkbox(
        "The demo's 42 suspended officers", key="wi_demo42",
        help=f"{state.DEMO_SUSPENSION.name}: the synthetic list shipped with the demo.")

listed = feedback.checked(whatif.read_uploaded_list, upload.name, upload.getvalue(), officers) \
    if upload is not None else []
demo_ids = feedback.checked(read_suspension, state.DEMO_SUSPENSION, officers) if demo_42 else []
ids = whatif.combine(picked, whatif.station_officers(officers, stations), listed, demo_ids)

t0 = time.perf_counter()
after = suspend(before, ids)
changes = whatif.zone_changes(before, after)
took_ms = (time.perf_counter() - t0) * 1000
last = state.last_what_if()
if ids and (last is None or (last.threshold_min, last.suspended) != (threshold, tuple(ids))):
    state.set_last_what_if(threshold, ids)
    auth.record("scenario_run", page="what_if", suspended=len(ids), threshold_min=threshold,
               zones_with_gap=after.overall.zones_with_gap)

st.subheader(f"{len(ids)} officer(s) suspended: before → after")
maps.show_key_figures(after, before=before)
st.caption(f"What-if computed in {took_ms:.0f} ms (incremental: only the area the "
           "suspended units served is searched again).")

st.subheader("Zones, most harmed first")
st.dataframe(changes, hide_index=True, width="stretch", key="wi_table",
             column_config=maps.ZONE_CHANGE_COLUMNS, column_order=maps.ZONE_CHANGE_ORDER)

view = st.segmented_control("Map", ["After", "Before"], default="After", key="wi_map")
maps.legend(what_if=True)
shown = before if view == "Before" else after
st_folium(maps.map_of(shown, baseline=None if view == "Before" else before),
          key="what-if-map", height=560, use_container_width=True, returned_objects=[])
st.caption("The export compares before and after and draws the after map, as above.")
export_panel.export_panel(after, baseline=before, key="what-if-export",
                 suspension_source=upload.name if upload is not None else None)
