"""Scenario builder: close roads or areas, turnout delays, move a reserve, a temporary zone;
save scenarios (suspensions included), reopen them and compare two side by side."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage.engine.report import compare
from coverage.ops import registry
from coverage.planning import desk as desks
from ui import auth, feedback, maps, planning, state

user = auth.page_header("Scenario builder", "scenario_builder")
desk = planning.desk_choice("sb_start")
before, after = state.desk_runs(desk)
st.caption(f"Editing: {feedback.md(desk.scenario.name)}. {planning.describe(desk)}")

with st.container(border=True):
    mode = st.radio("Draw on the map to", list(planning.DRAW_MODES), horizontal=True,
                    key="sb_mode", format_func=planning.DRAW_MODES.get)
    zone = planning.zone_fields(mode, key="sb_zone")
    reserve = planning.reserve_field(mode, before, key="sb_reserve")
    draw_map = maps.map_of(after, baseline=before, extra=[planning.closures_layer(desk)])
    planning.draw_control(line=mode == "close", point=mode == "reserve").add_to(draw_map)
    drawn = st_folium(draw_map, key=f"sb-map-{planning.draw_round()}", height=520,
                      use_container_width=True, returned_objects=["all_drawings"])
    c1, c2 = st.columns([1, 3])
    add = c1.button("Add to the scenario", type="primary", key="sb_add",
                    icon=":material/add_location_alt:")
    c2.caption("Polygons or rectangles close every road they touch (or outline the "
               "temporary zone); a line closes the roads it crosses; a marker places the "
               "reserve.")
if add:
    changed = feedback.checked(planning.add_drawings, desk, mode,
                               (drawn or {}).get("all_drawings"), zone=zone, reserve=reserve)
    planning.make_current(changed, "sb_start")
    planning.next_draw_round()
    auth.record("scenario_run", page="scenario_builder", step=mode)
    st.rerun()

with st.expander("Close roads by name", icon=":material/block:"):
    roads = st.multiselect("Roads", desks.road_names(before), key="sb_roads",
                           placeholder="Type a road name")
    if st.button("Close these roads", key="sb_roads_close", disabled=not roads):
        planning.make_current(desks.close_named_roads(desk, before, roads), "sb_start")
        auth.record("scenario_run", page="scenario_builder", step="close_roads",
                    roads=len(roads))
        st.rerun()

with st.expander("Turnout delay", icon=":material/timer:"):
    c1, c2, c3, c4 = st.columns(4)
    every = c1.number_input("Every unit (s)", 0, 1800, int(desk.scenario.turnout_s), 10,
                            key="sb_turnout")
    stations = c2.multiselect("Stations with their own delay",
                              sorted(before.dataset.stations["station_id"].astype(str)),
                              key="sb_turnout_stations")
    units = c3.multiselect("Officers with their own delay", list(before.units.officer_id),
                           key="sb_turnout_units")
    own = c4.number_input("Their delay (s)", 0, 1800, 120, 10, key="sb_turnout_own")
    if st.button("Apply the delays", key="sb_turnout_apply"):
        planning.make_current(planning.with_station_delays(desk, before, float(every),
                                                           stations, float(own), units),
                              "sb_start")
        auth.record("scenario_run", page="scenario_builder", step="turnout")
        st.rerun()

st.subheader("Before → after")
maps.show_key_figures(after, before=before)
if desk.zones:
    st.caption("Temporary zones in this scenario:")
    st.dataframe(planning.temporary_zone_rows(after, desk), hide_index=True, key="sb_temp")

st.subheader("Save, reopen, compare")
c1, c2 = st.columns([3, 1])
name = c1.text_input("Name", value=desk.scenario.name, max_chars=120, key="sb_name")
if c2.button("Save", key="sb_save", icon=":material/save:"):
    rec = feedback.checked(registry.record_scenario, state.store(), name, user.username,
                           desks.desk_body(planning.named(desk, name, user.username)))
    auth.record("scenario_saved", page="scenario_builder", scenario_id=rec.id,
                sha256=rec.sha256, suspended=len(desk.scenario.remove))
    st.success(f"Saved as #{rec.id}.", icon=":material/check_circle:")
saved = planning.saved_desks()
if len(saved) >= 1:
    pick = st.selectbox("Reopen a saved scenario", list(saved), key="sb_reopen")
    if st.button("Open", key="sb_open"):
        planning.make_current(saved[str(pick)], "sb_start")
        st.rerun()
if len(saved) >= 2:
    names = list(saved)
    c1, c2 = st.columns(2)
    a = c1.selectbox("Compare A", names, index=1, key="sb_cmp_a")
    b = c2.selectbox("with B", names, index=0, key="sb_cmp_b")
    desk_a, desk_b = desks.comparable(saved[str(a)], saved[str(b)])
    (_, run_a), (_, run_b) = state.desk_runs(desk_a), state.desk_runs(desk_b)
    if st.session_state.get("sb_compared") != (a, b):
        st.session_state["sb_compared"] = (a, b)
        auth.record("scenario_run", page="scenario_builder", step="compare")
    st.dataframe(planning.figures_table({"A": run_a, "B": run_b}), key="sb_cmp_fig")
    st.dataframe(feedback.checked(compare, run_a, run_b), hide_index=True, key="sb_cmp_zones")
    m1, m2 = st.columns(2)
    with m1:
        st_folium(maps.map_of(run_a), key="sb-cmp-a", height=420, use_container_width=True,
                  returned_objects=[])
    with m2:
        st_folium(maps.map_of(run_b), key="sb-cmp-b", height=420, use_container_width=True,
                  returned_objects=[])
