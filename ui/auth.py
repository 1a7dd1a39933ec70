"""Sign-in, roles and the audit trail: who uses this session, and which pages they may open."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import streamlit as st
from streamlit.errors import StreamlitAPIException

from coverage import settings
from coverage.ops import accounts, audit
from ui.feedback import checked, demo_banner, md
from ui.state import data_is_demo, store

USER_KEY = "seccov_user"
WANTED_KEY = "seccov_wanted_page"

#: Page files per accounts.PAGES name: (section, file, title, icon). The URL is the name with
#: "-" for "_", and each file is named as its URL: a freshly started server serves its first
#: run from the pages/ folder by file name, before app.py has registered the pages.
PAGE_FILES: dict[str, tuple[str, str, str, str]] = {
    "live_map": ("Operations", "pages/live-map.py", "Live map", ":material/map:"),
    "coverage": ("Planning", "pages/coverage.py", "Coverage", ":material/radar:"),
    "what_if": ("Planning", "pages/what-if.py", "What-if", ":material/person_remove:"),
    "briefing": ("Briefing", "pages/briefing.py", "Briefing exports",
                 ":material/picture_as_pdf:"),
    "readiness": ("Planning", "pages/readiness.py", "Readiness", ":material/health_metrics:"),
    "plan": ("Planning", "pages/plan.py", "Plan", ":material/route:"),
    "scenario_builder": ("Planning", "pages/scenario-builder.py", "Scenario builder",
                         ":material/edit_road:"),
    "criticality": ("Planning", "pages/criticality.py", "Criticality",
                    ":material/crisis_alert:"),
    "data": ("Data", "pages/data.py", "Data upload", ":material/upload_file:"),
    "users": ("Admin", "pages/users.py", "Users", ":material/group:"),
    "audit": ("Admin", "pages/audit.py", "Audit log", ":material/policy:"),
}


@dataclass(frozen=True)
class Session:
    """Who is using this browser session, and how they signed in."""

    username: str
    role: str
    how: str  # "demo", "password" or "sso"


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # a missing or malformed secrets.toml: no single sign-on
        return False


def session() -> Session | None:
    """The signed-in session, or None."""
    value = st.session_state.get(USER_KEY)
    return value if isinstance(value, Session) else None


def sign_in() -> Session:
    """Return the session; show the sign-in form and stop the run until someone signs in.

    Demo mode (``SECCOV_DEMO=1``) needs no login: the session runs as a demo user whose role
    can be switched in the sidebar. With an ``[auth]`` section in ``.streamlit/secrets.toml``
    the organisation's OpenID Connect provider signs people in (``st.login``); their e-mail
    must be a user (``users add EMAIL --sso --role ROLE``). Otherwise local accounts.
    """
    if settings.demo_mode():
        default = settings.demo_role()
        role = st.sidebar.selectbox(
            "Demo role", accounts.ROLES, key="demo_role",
            index=accounts.ROLES.index(default if default in accounts.ROLES else "admin"),
            help="Demo session, no login: try what each role may open.")
        st.session_state[USER_KEY] = Session(f"demo-{role}", role, "demo")
        return st.session_state[USER_KEY]
    current = session()
    if current is not None and checked(accounts.role_of, store(),
                                       current.username) == current.role:
        return current
    st.session_state.pop(USER_KEY, None)
    if _oidc_configured():
        return _sign_in_sso()
    return _sign_in_password()


def _gate(form: Callable[[], None]) -> NoReturn:
    """Show only the sign-in form, as the one (hidden) page, then stop the run.

    Registering it with ``st.navigation`` keeps Streamlit from listing the files in
    ``pages/`` on the sign-in screen of a fresh server.
    """
    st.navigation([st.Page(form, title="Sign in", url_path="sign-in", default=True)],
                  position="hidden").run()
    st.stop()


def _sso_form() -> None:
    st.title("Security coverage")
    st.button("Sign in with your organisation", on_click=st.login, type="primary")


def _sign_in_sso() -> Session:
    user = getattr(st, "user", None)
    if user is None or not user.get("is_logged_in"):
        _gate(_sso_form)
    email = str(user.get("email") or "").strip().lower()
    role = checked(accounts.role_of, store(), email) if email else None
    if role is None:
        st.error(f"{md(email) or 'This account'} has no role here; ask an admin to add "
                 "this e-mail on the Users page (single sign-on only, with a role).")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    checked(audit.record, store(), "login", user=email, detail={"via": "sso"})
    st.session_state[USER_KEY] = Session(email, str(role), "sso")
    return st.session_state[USER_KEY]


def _password_form() -> None:
    st.title("Security coverage")
    with st.form("sign-in"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        result = checked(accounts.authenticate, store(), name, password)
        if result.ok and result.user is not None:
            st.session_state[USER_KEY] = Session(result.user.username, result.user.role,
                                                 "password")
            st.rerun()
        st.error(result.message)


def _sign_in_password() -> Session:
    _gate(_password_form)


def sign_out() -> None:
    """Forget the session (audited); with single sign-on, also sign out of the provider."""
    current = session()
    if current is not None:
        checked(audit.record, store(), "logout", user=current.username)
    st.session_state.pop(USER_KEY, None)
    if current is not None and current.how == "sso":
        st.logout()


def navigation_pages(role: str) -> dict[str, list[Any]]:
    """The pages ``role`` may open, by section, for ``st.navigation``; others unregistered."""
    sections: dict[str, list[Any]] = {}
    for name in accounts.pages_for(role):
        section, path, title, icon = PAGE_FILES[name]
        sections.setdefault(section, []).append(
            st.Page(path, title=title, icon=icon, url_path=name.replace("_", "-"),
                    default=name == "live_map"))
    return sections


def resume_wanted_page(role: str) -> None:
    """After sign-in, go on to the page first asked for (see :func:`require`), if allowed."""
    wanted = st.session_state.pop(WANTED_KEY, None)
    if wanted in PAGE_FILES and accounts.can_open(role, wanted):
        st.switch_page(PAGE_FILES[wanted][1])


def require(page: str) -> Session:
    """Re-check that the signed-in role may open ``page``; otherwise say so and stop.

    A page opened before anyone signed in (a fresh server serves ``/data`` from the
    ``pages/`` folder directly, before app.py has run ``st.navigation`` once) goes through
    app.py's sign-in first.
    """
    current = session()
    picked = st.session_state.get("demo_role")
    if (settings.demo_mode() and current is not None and current.how == "demo"
            and picked in accounts.ROLES and picked != current.role):
        # The demo role was switched in a run that reached this page without app.py (a
        # first run served from pages/ by file name): the switch holds here too.
        current = Session(f"demo-{picked}", str(picked), "demo")
        st.session_state[USER_KEY] = current
    if current is None:
        st.session_state[WANTED_KEY] = page
        with contextlib.suppress(StreamlitAPIException):  # app.py not a page: v2 running
            st.switch_page("app.py")
    if current is None or not accounts.can_open(current.role, page):
        st.error("You are not allowed to open this page.", icon=":material/block:")
        st.stop()
        raise AssertionError  # unreachable
    return current


def record(action: str, **detail: Any) -> None:
    """Append an audit entry for the signed-in user."""
    current = session()
    checked(audit.record, store(), action,
            user=None if current is None else current.username, detail=detail)


def page_header(title: str, page: str) -> Session:
    """Title, role check and the demo banner: the first call of every page."""
    current = require(page)
    st.title(title)
    if data_is_demo():
        demo_banner()
    elif settings.demo_mode():
        demo_banner(demo_data=False)
    return current
