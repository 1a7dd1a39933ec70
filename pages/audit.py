"""Audit log: who signed in, ran scenarios, exported, uploaded or changed users (admin only)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import streamlit as st

from coverage.ops import audit
from ui import auth, feedback, state

auth.page_header("Audit log", "audit")
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
user = c1.text_input("User", key="al_user").strip().lower() or None
action = c2.selectbox("Action", ["any", *audit.ACTIONS], key="al_action")
today = datetime.now(UTC).date()
days = c3.date_input("Between (UTC)", (today - timedelta(days=7), today), key="al_days")
limit = c4.number_input("At most", 10, 100_000, 1000, step=100, key="al_limit")
since = until = None
if isinstance(days, tuple) and len(days) == 2:
    since = datetime.combine(days[0], time(), tzinfo=UTC)
    until = datetime.combine(days[1] + timedelta(days=1), time(), tzinfo=UTC)
entries = feedback.checked(audit.query, state.store(), user=user,
                      action=None if action == "any" else action, since=since, until=until,
                      limit=int(limit))
frame = audit.entries_frame(entries)
st.caption(f"{len(frame)} entries, newest first. The log is append-only: the store refuses "
           "to change or delete an entry.")
st.dataframe(frame, hide_index=True, width="stretch", key="al_table")
st.download_button("Download CSV", audit.safe_csv(frame),
                   file_name="audit-log.csv", mime="text/csv", icon=":material/download:")
