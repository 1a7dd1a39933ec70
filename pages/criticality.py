"""Criticality: officers whose loss costs most, single points of failure, worst pairs, and the
spread of outcomes over random suspension sets."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage.planning.criticality import criticality
from coverage.planning.desk import outcome_histogram, random_outcomes
from ui import auth, feedback, maps, planning, state

auth.page_header("Criticality", "criticality")
desk = planning.desk_choice("crit_start")
_, cov = state.desk_runs(desk)
top = st.slider("Officers listed", 5, 50, 15, key="crit_top")
pairs_of = st.slider("Worst pairs among the most critical", 2, 20, 8, key="crit_pairs")
crit = feedback.checked(criticality, cov, top_n=int(pairs_of))
if st.session_state.get("crit_last") != (desk, pairs_of):
    st.session_state["crit_last"] = (desk, pairs_of)
    auth.record("scenario_run", page="criticality", step="criticality",
                officers=len(crit.table), suspended=len(cov.suspended))

st.subheader("Officers whose loss costs most")
st.caption(f"Objective {crit.objective:g} with {cov.counts.available} available officers "
           "(the DATA.md objective: weight × zone nodes covered within target).")
st.dataframe(planning.critical_table(crit, int(top)), hide_index=True, width="stretch",
             key="crit_table")

st.subheader("Single points of failure")
st.caption("Officers who alone cover some of a zone's nodes (sole cover), or without whom "
           "a zone falls below its minimum officers (at minimum). Red rings on the map.")
st.dataframe(crit.single_points, hide_index=True, width="stretch", key="crit_single")
maps.legend()
st_folium(maps.map_of(cov, extra=[planning.single_points_layer(crit)]), key="crit-map",
          height=520, use_container_width=True, returned_objects=[])

st.subheader("Worst pairs")
st.caption("extra_lost: the objective lost only when both go (nodes they alone cover "
           "together).")
st.dataframe(crit.pairs, hide_index=True, width="stretch", key="crit_pairs_table")

st.subheader("Random suspension sets")
c1, c2, c3 = st.columns(3)
runs = c1.number_input("Runs", 10, 2000, 200, 10, key="crit_runs")
available = max(1, cov.counts.available)
size = c2.number_input("Officers per set", 1, available, min(42, available), key="crit_size")
seed = c3.number_input("Seed", 0, 10_000, 0, key="crit_seed")
if st.button("Run random suspensions", key="crit_sweep", icon=":material/casino:"):
    bar = st.progress(0.0, text="Suspending random sets...")
    outcomes = []
    for i, outcome in enumerate(feedback.checked(random_outcomes, cov, int(runs), int(size),
                                                 seed=int(seed)), start=1):
        outcomes.append(outcome)
        if i % 10 == 0 or i == runs:
            bar.progress(i / runs, text=f"{i} of {runs} sets")
    planning.set_last_sweep(outcomes)
    auth.record("scenario_run", page="criticality", step="random", runs=int(runs),
                size=int(size), seed=int(seed))
outcomes = planning.last_sweep()
if outcomes:
    hist = outcome_histogram(outcomes)
    st.bar_chart(hist, x="objective", y="runs", x_label="objective (DATA.md)",
                 y_label="random sets")
    st.dataframe(planning.sweep_summary(outcomes), hide_index=True, key="crit_summary")
