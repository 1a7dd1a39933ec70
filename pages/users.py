"""Users: local accounts and single-sign-on users with their roles (admin only)."""

from __future__ import annotations

import streamlit as st

from coverage.ops import accounts
from ui import auth, feedback, state

session = auth.page_header("Users", "users")
store = state.store()
users = feedback.checked(accounts.list_users, store)
st.dataframe([{"user": u.username, "role": u.role, "pages": ", ".join(accounts.pages_for(u.role)),
               "demo": u.demo, "created": u.created_at, "updated": u.updated_at}
              for u in users], hide_index=True, width="stretch", key="users_table")


def attempt(action, *args, done: str, **kwargs) -> None:
    """Run an accounts change as the signed-in admin; show its error or rerun."""
    try:
        action(store, *args, actor=session.username, **kwargs)
    except accounts.AccountError as exc:
        st.error(feedback.md(exc), icon=":material/error:")
    else:
        st.toast(feedback.md(done))
        st.rerun()


add, change, remove = st.tabs(["Add", "Change role or password", "Remove"])
with add, st.form("user_add", clear_on_submit=True):
    name = st.text_input("User name (or e-mail for single sign-on)", key="ua_name")
    role = st.selectbox("Role", accounts.ROLES, key="ua_role")
    sso = st.checkbox("Single sign-on only (no local password)", key="ua_sso")
    pw1 = st.text_input("Password", type="password", key="ua_pw1",
                        help="At least 12 characters; ignored for single sign-on.")
    pw2 = st.text_input("Password again", type="password", key="ua_pw2")
    if st.form_submit_button("Add user", type="primary"):
        if not sso and pw1 != pw2:
            st.error("The two passwords differ.")
        else:
            attempt(accounts.add_user, name, None if sso else pw1, role, done=f"{name} added")
names = [u.username for u in users]
with change:
    who = st.selectbox("User", names, key="uc_user", index=None)
    new_role = st.selectbox("New role", accounts.ROLES, key="uc_role")
    if st.button("Set role", disabled=who is None, key="uc_set"):
        attempt(accounts.set_role, who, new_role, done=f"{who} is now {new_role}")
    pw = st.text_input("New password", type="password", key="uc_pw")
    if st.button("Set password", disabled=who is None or not pw, key="uc_pwset"):
        attempt(accounts.set_password, who, pw, done=f"password of {who} changed")
with remove:
    gone = st.selectbox("User", names, key="ur_user", index=None)
    sure = st.checkbox("Yes, remove this account", key="ur_sure")
    if st.button("Remove", disabled=gone is None or not sure, key="ur_go"):
        attempt(accounts.remove_user, gone, done=f"{gone} removed")
