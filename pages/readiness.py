"""Readiness: station levels and reasons, kit shortages, trends, expected coverage."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage import settings
from coverage.ops import accounts
from coverage.planning.readiness import shortages, weekly_trends
from ui import auth, feedback, state
from ui import readiness as rd

user = auth.page_header("Readiness", "readiness")
files = rd.personnel_files()
if files is None:
    st.info("This dataset has no personnel events and station resources yet; an admin "
            "uploads both on the Data page (docs/readiness.md).", icon=":material/info:")
    st.stop()
p = rd.personnel(files)

c1, c2, c3 = st.columns([1, 1, 2])
as_of = c1.date_input("As of", value=rd.first_as_of(p), key="rd_as_of",
                      help="Last day of the 30- and 90-day windows.")
threshold = c2.number_input("Response threshold (min)", 1.0, 60.0,
                            float(settings.DEFAULT_THRESHOLD_MIN), 0.5, key="rd_threshold")
suspended: list[str] = []
if state.data_is_demo() and c3.toggle("Apply the demo's 42 suspensions (the incident)",
                                      key="rd_suspend"):
    suspended = rd.demo_suspension()
with st.expander("Refusal probability per unit, by its station's level"):
    cols = st.columns(3)
    probs = {level: cols[i].number_input(level, 0.0, 1.0, float(settings.REFUSAL_P[level]),
                                         0.01, key=f"rd_p_{level}")
             for i, level in enumerate(settings.READINESS_LEVELS)}

r, cov, ex = rd.run(p, as_of=as_of, suspended=suspended, threshold_min=threshold,
                    refusal_p=probs)
counts = rd.level_counts(r)
m1, m2, m3, m4, m5 = st.columns(5)
m1.metric("Critical stations", counts["critical"])
m2.metric("Warning stations", counts["warning"])
m3.metric("OK stations", counts["ok"])
m4.metric("Objective", f"{ex.objective:,.0f}", help="Weighted zone nodes covered in time.")
m5.metric("Expected objective", f"{ex.expected_objective:,.1f}",
          delta=(f"{ex.expected_objective - ex.objective:,.1f}"
                 if ex.expected_objective < ex.objective - 0.05 else None),
          help="The same, when each unit may refuse with its station's probability.")

st.subheader("Stations, worst first")
st.dataframe(rd.station_table(r), hide_index=True, width="stretch", key="rd_stations",
             column_config={
                 "suspended_pct": st.column_config.NumberColumn("suspended %", format="%.0f"),
                 "absence_pct": st.column_config.NumberColumn("absence 30d %", format="%.1f"),
                 "reasons": st.column_config.TextColumn("reasons", width="large")})

left, right = st.columns([3, 2])
with left:
    st.subheader("Map: readiness and expected coverage")
    rd.legend()
    st_folium(rd.readiness_map(cov, r, ex), key="readiness-map", height=520,
              use_container_width=True, returned_objects=[])
with right:
    st.subheader("Kit shortages")
    short = shortages(r)
    if len(short):
        st.dataframe(short, hide_index=True, width="stretch", key="rd_kit")
    else:
        st.caption("No station is short of any item.")
    st.subheader("Expected coverage per zone")
    st.dataframe(rd.zone_table(ex), hide_index=True, width="stretch", key="rd_zones",
                 column_config={c: st.column_config.NumberColumn(c.replace("_pct", " %"),
                                                                 format="%.1f")
                                for c in ("covered_pct", "expected_pct", "drop_pct")})

st.subheader("Weekly trends")
ds = state.dataset()
station = st.selectbox("Station", r.stations["station_id"].tolist(), key="rd_station",
                       format_func=lambda s: f"{s} ({r.level_of()[s]})")
trends = feedback.checked(weekly_trends, ds.stations, ds.officers, p.events, as_of=r.as_of)
rd.chart(rd.trend_chart(trends, station))

st.subheader("Officer-level records")
if accounts.can_see_personnel(user.role):
    if st.toggle(f"Show the personnel records of {feedback.md(station)} (audited)",
                 key="rd_show_records"):
        rd.personnel_records(user.role, r, p, station)
else:
    st.caption("Officer-level personnel records are shown to the command and admin roles "
               "only; this page shows station aggregates.")
