"""Streamlit entry point: page config, the sign-in gate and the pages the role may open."""

from __future__ import annotations

import streamlit as st

from ui import auth, feedback

st.set_page_config(page_title="Security coverage", page_icon=":police_car:", layout="wide")

user = auth.sign_in()
with st.sidebar:
    if user.how == "demo":
        st.caption("Demo session (SECCOV_DEMO=1): no login, synthetic data.")
    else:
        st.caption(f"Signed in as **{feedback.md(user.username)}** ({user.role})")
        st.button("Sign out", on_click=auth.sign_out)
page = st.navigation(auth.navigation_pages(user.role))
auth.resume_wanted_page(user.role)
page.run()
