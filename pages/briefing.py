"""Briefing exports: the current scenario as a PDF briefing, a PNG snapshot or offline HTML."""

from __future__ import annotations

import streamlit as st

from coverage import settings
from coverage.briefing.brief import scenario_text
from coverage.data.loaders import read_suspension
from coverage.engine.analysis import suspend
from ui import auth, export_panel, feedback, maps, state

auth.page_header("Briefing exports", "briefing")
st.markdown(
    "Exports show the same map and figures as the dashboard, open without internet and "
    f"carry the handling marking *{settings.HANDLING_MARKING}*. Officers are aggregated to "
    "station counts unless you choose otherwise.")
last = st.session_state.get("wi_last")
choices = ["No suspensions (current deployment)"]
if last:
    choices.append(f"The last what-if ({len(last[1])} officers, {last[0]:g} min)")
if state.data_is_demo():
    choices.append(f"The demo's 42 suspended officers ({state.DEMO_SUSPENSION.name})")
pick = st.radio("Scenario", choices, key="brief_scenario")

threshold = last[0] if last and pick.startswith("The last") else settings.DEFAULT_THRESHOLD_MIN
before = state.coverage(threshold)
source = None
if pick.startswith("The last") and last:
    ids = list(last[1])
elif pick.startswith("The demo"):
    ids = feedback.checked(read_suspension, state.DEMO_SUSPENSION, before.dataset.officers)
    source = state.DEMO_SUSPENSION.name
else:
    ids = []
after = suspend(before, ids)
st.info(scenario_text(len(ids), threshold, source), icon=":material/description:")
maps.show_key_figures(after, before=before)
export_panel.export_panel(after, baseline=before, suspension_source=source, key="briefing-export")
