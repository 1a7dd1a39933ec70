"""Tests of the Streamlit app (AppTest and the real server in Chromium)."""
