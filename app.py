"""Streamlit entry point: page config, the demo banner and the page registry."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Security coverage", page_icon=":police_car:", layout="wide")

pages = {
    "Operations": [
        st.Page("pages/live_map.py", title="Live map", icon=":material/map:", default=True),
    ],
}
st.navigation(pages).run()
