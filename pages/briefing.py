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
last = state.last_what_if()
choices = {"none": "No suspensions (current deployment)"}
if last is not None:
    choices["last"] = (f"The last what-if ({len(last.suspended)} officers, "
                       f"{last.threshold_min:g} min)")
if state.data_is_demo():
    choices["demo"] = f"The demo's 42 suspended officers ({state.DEMO_SUSPENSION.name})"
pick = st.radio("Scenario", list(choices), format_func=choices.__getitem__, key="brief_scenario")

threshold = (last.threshold_min if pick == "last" and last is not None
             else settings.DEFAULT_THRESHOLD_MIN)
before = state.coverage(threshold)
source = None
ids: list[str] = []
if pick == "last" and last is not None:
    ids = list(last.suspended)
elif pick == "demo":
    ids = feedback.checked(read_suspension, state.DEMO_SUSPENSION, before.dataset.officers)
    source = state.DEMO_SUSPENSION.name
after = suspend(before, ids)
st.info(scenario_text(len(ids), threshold, source), icon=":material/description:")
maps.show_key_figures(after, before=before)
export_panel.export_panel(after, baseline=before, suspension_source=source, key="briefing-export")
