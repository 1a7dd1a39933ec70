"""Streamlit helpers of the app: sign-in, cached state, feedback, maps and the export panel.

Nothing in ``coverage`` imports this package; pages and ``app.py`` do.
"""
