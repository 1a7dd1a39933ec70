"""Accounts: local users with Argon2id password hashes, roles, pages per role, login lockout.

Roles, each including the one before: ``viewer`` (live map), ``planner`` (+ coverage,
what-if, briefings, readiness as station aggregates), ``command`` (+ personnel records:
officer-level events), ``admin`` (+ data, users, audit). There is no default password: only
with ``SECCOV_DEMO=1`` can :func:`ensure_demo_accounts` create the ``demo-*`` accounts, and
those cannot log in when demo mode is off. Every change and every login is audited.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from coverage import settings
from coverage.errors import CoverageError
from coverage.ops import audit
from coverage.ops.store import Store, from_us, now_us, to_us

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("viewer", "planner", "command", "admin")
PAGES: tuple[str, ...] = ("live_map", "coverage", "what_if", "briefing", "readiness", "plan",
                          "scenario_builder", "criticality", "data", "users", "audit")
_ROLE_PAGES = {"viewer": PAGES[:1], "planner": PAGES[:8], "command": PAGES[:8],
               "admin": PAGES}
#: Roles allowed to see personnel records (officer-level events and readiness); every view
#: is audited. Other roles see station aggregates only.
PERSONNEL_ROLES: frozenset[str] = frozenset({"command", "admin"})
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
_MAX_PASSWORD = 1024
_NO_PASSWORD = "!sso"  # not a hash: nothing verifies against it

#: The demo accounts (user name = password), created only with SECCOV_DEMO=1.
DEMO_ACCOUNTS: tuple[tuple[str, str], ...] = (
    ("demo-viewer", "viewer"), ("demo-planner", "planner"), ("demo-command", "command"),
    ("demo-admin", "admin"))


class AccountError(CoverageError, ValueError):
    """A user name, role or password is not acceptable, or the user does not exist."""


@dataclass(frozen=True)
class User:
    """A local account (never its password hash)."""

    username: str
    role: str
    demo: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AuthResult:
    """The outcome of :func:`authenticate`; show :attr:`message`, which names no cause."""

    ok: bool
    user: User | None
    reason: Literal["ok", "invalid", "locked"]
    locked_until: datetime | None = None

    @property
    def message(self) -> str:
        """Text for the login form: the same for a wrong name, password or a lockout."""
        if self.ok:
            return "Signed in."
        return "Sign-in failed: wrong user name or password, or too many attempts; try later."


def demo_mode() -> bool:
    """True when ``SECCOV_DEMO`` is 1/true/yes: the synthetic demo district."""
    return settings.demo_mode()


def pages_for(role: str) -> tuple[str, ...]:
    """Page keys the role may open, in menu order; raises AccountError for unknown roles."""
    _check_role(role)
    return _ROLE_PAGES[role]


def can_open(role: str, page: str) -> bool:
    """True when ``role`` may open ``page`` (a key of :data:`PAGES`)."""
    return page in pages_for(role)


def can_see_personnel(role: str) -> bool:
    """True when ``role`` may see personnel records (officer-level events): command, admin."""
    _check_role(role)
    return role in PERSONNEL_ROLES


def _check_role(role: str) -> None:
    if role not in ROLES:
        msg = f"role '{role}' is not one of {', '.join(ROLES)}"
        raise AccountError(msg)


def _username(name: str) -> str:
    norm = name.strip().lower()
    if not _USERNAME.fullmatch(norm):
        msg = (f"user name '{name}' is not allowed; use 1-64 letters, digits, '.', '_', '@' "
               "or '-', starting with a letter or digit")
        raise AccountError(msg)
    return norm


def _check_password(username: str, password: str, *, demo: bool = False) -> None:
    if demo:
        return
    if len(password) < settings.PASSWORD_MIN_LENGTH:
        msg = f"password: use at least {settings.PASSWORD_MIN_LENGTH} characters"
        raise AccountError(msg)
    if len(password) > _MAX_PASSWORD:
        msg = f"password: use at most {_MAX_PASSWORD} characters"
        raise AccountError(msg)
    if password.strip().lower() == username:
        msg = "password: must not be the user name"
        raise AccountError(msg)


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=settings.ARGON2_TIME_COST,
                          memory_cost=settings.ARGON2_MEMORY_KIB,
                          parallelism=settings.ARGON2_PARALLELISM)


@cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    return _hasher().hash(os.urandom(16).hex())


def _user(row: tuple[Any, ...]) -> User:
    return User(str(row[0]), str(row[1]), bool(row[2]), from_us(row[3]), from_us(row[4]))


_USER_COLS = "username, role, demo, created_us, updated_us"


def get_user(store: Store, username: str) -> User | None:
    """The account called ``username``, or None."""
    rows = store.query(f"SELECT {_USER_COLS} FROM users WHERE username = ?",
                       (username.strip().lower(),))
    return _user(rows[0]) if rows else None


def role_of(store: Store, username: str) -> str | None:
    """The role of ``username`` (e.g. an ``st.user.email``), or None if it has no account."""
    user = get_user(store, username)
    return None if user is None else user.role


def list_users(store: Store) -> list[User]:
    """Every account, by user name."""
    return [_user(r) for r in store.query(f"SELECT {_USER_COLS} FROM users ORDER BY username")]


def add_user(store: Store, username: str, password: str | None, role: str, *,
             actor: str | None, demo: bool = False) -> User:
    """Create an account; raises AccountError if the name is taken or anything is invalid.

    ``password=None`` makes a single-sign-on account (e.g. the e-mail an OpenID Connect
    provider vouches for, via ``st.login``): it has a role but no local password, so
    :func:`authenticate` never accepts it.
    """
    name = _username(username)
    _check_role(role)
    if password is not None:
        _check_password(name, password, demo=demo)
    digest = _hasher().hash(password) if password is not None else _NO_PASSWORD
    t = now_us()
    with store.transaction() as tx:
        if tx.one("SELECT 1 FROM users WHERE username = ?", (name,)):
            msg = f"user '{name}' already exists; use passwd or set-role to change it"
            raise AccountError(msg)
        tx.execute("INSERT INTO users (username, password_hash, role, demo, created_us, "
                   "updated_us) VALUES (?, ?, ?, ?, ?, ?)", (name, digest, role, int(demo), t, t))
    audit.record(store, "user_added", user=actor, detail={"username": name, "role": role,
                                                           "demo": demo})
    return User(name, role, demo, from_us(t), from_us(t))


def _existing(store: Store, username: str) -> User:
    user = get_user(store, username)
    if user is None:
        msg = f"user '{username}' does not exist; see: python -m coverage users list"
        raise AccountError(msg)
    return user


def _admins_left(store: Store, without: str) -> int:
    rows = store.query("SELECT COUNT(*) FROM users WHERE role = 'admin' AND username <> ?",
                       (without,))
    return int(rows[0][0])


def remove_user(store: Store, username: str, *, actor: str | None) -> None:
    """Delete an account; the last admin cannot be removed."""
    user = _existing(store, username)
    if user.role == "admin" and _admins_left(store, user.username) == 0:
        msg = f"user '{user.username}' is the last admin; add another admin first"
        raise AccountError(msg)
    with store.transaction() as tx:
        tx.execute("DELETE FROM users WHERE username = ?", (user.username,))
        tx.execute("DELETE FROM login_failures WHERE username = ?", (user.username,))
    audit.record(store, "user_removed", user=actor, detail={"username": user.username})


def set_role(store: Store, username: str, role: str, *, actor: str | None) -> User:
    """Change an account's role; the last admin cannot be demoted."""
    _check_role(role)
    user = _existing(store, username)
    if user.role == "admin" and role != "admin" and _admins_left(store, user.username) == 0:
        msg = f"user '{user.username}' is the last admin; add another admin first"
        raise AccountError(msg)
    with store.transaction() as tx:
        tx.execute("UPDATE users SET role = ?, updated_us = ? WHERE username = ?",
                   (role, now_us(), user.username))
    audit.record(store, "role_changed", user=actor,
                 detail={"username": user.username, "from": user.role, "to": role})
    return _existing(store, user.username)


def set_password(store: Store, username: str, password: str, *, actor: str | None) -> None:
    """Replace an account's password and clear its failed logins (a demo stays demo-only)."""
    user = _existing(store, username)
    _check_password(user.username, password)
    digest = _hasher().hash(password)
    with store.transaction() as tx:
        tx.execute("UPDATE users SET password_hash = ?, updated_us = ? "
                   "WHERE username = ?", (digest, now_us(), user.username))
        tx.execute("DELETE FROM login_failures WHERE username = ?", (user.username,))
    audit.record(store, "password_changed", user=actor, detail={"username": user.username})


def authenticate(store: Store, username: str, password: str, *, now: datetime | None = None,
                 max_failures: int = settings.LOGIN_MAX_FAILURES,
                 lockout_min: float = settings.LOGIN_LOCKOUT_MIN) -> AuthResult:
    """Check a login; lock the name for ``lockout_min`` after ``max_failures`` failures.

    Each attempt is counted in one atomic statement *before* the slow password hash (and
    uncounted only by success), so however many attempts run at once, at most
    ``max_failures`` of them are ever checked against the password before the name locks.
    Unknown names are verified against a dummy hash and counted and locked like real
    ones, so neither the time taken nor a lockout reveals whether a name exists. Demo
    accounts are refused unless demo mode is on. Every attempt is audited.
    """
    t = to_us(now) if now is not None else now_us()
    dummy = _dummy_hash()  # made on the first call whoever logs in, so timing stays even
    name = username.strip().lower()[:64]
    lock_us = t + int(timedelta(minutes=lockout_min) / timedelta(microseconds=1))
    attempt, locked_until = _count_attempt(store, name, t, max_failures, lock_us)
    if locked_until is not None:
        audit.record(store, "login_locked", user=name, at=from_us(t),
                     detail={"locked_until": from_us(locked_until).isoformat()})
        return AuthResult(False, None, "locked", from_us(locked_until))
    rows = store.query("SELECT password_hash, demo FROM users WHERE username = ?", (name,))
    usable = bool(rows) and rows[0][0] != _NO_PASSWORD and (not rows[0][1] or demo_mode())
    digest = str(rows[0][0]) if usable else dummy
    try:
        good = _hasher().verify(digest, password[:_MAX_PASSWORD]) and usable
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        good = False
    if not good:
        return _failed(store, name, t, attempt, max_failures, lock_us, lockout_min)
    with store.transaction() as tx:
        tx.execute("DELETE FROM login_failures WHERE username = ?", (name,))
        if _hasher().check_needs_rehash(digest):
            tx.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                       (_hasher().hash(password), name))
    audit.record(store, "login", user=name, at=from_us(t))
    user = get_user(store, name)
    return AuthResult(True, user, "ok")


def _count_attempt(store: Store, name: str, t: int, max_failures: int,
                   lock_us: int) -> tuple[int, int | None]:
    """Count one attempt atomically; return (its number, None) or (0, locked until).

    One upsert adds the attempt (an expired lock starts the count again) and returns the
    new count; both backends run it under the row's lock, so concurrent attempts get
    distinct numbers. An attempt past ``max_failures`` locks the name at once.
    """
    with store.transaction() as tx:
        row = tx.one(
            "INSERT INTO login_failures (username, failures, locked_until_us, last_failure_us) "
            "VALUES (?, 1, NULL, ?) ON CONFLICT (username) DO UPDATE SET "
            "failures = CASE WHEN login_failures.locked_until_us IS NULL "
            "THEN login_failures.failures + 1 "
            "WHEN login_failures.locked_until_us <= excluded.last_failure_us THEN 1 "
            "ELSE login_failures.failures END, "
            "locked_until_us = CASE WHEN login_failures.locked_until_us <= "
            "excluded.last_failure_us THEN NULL ELSE login_failures.locked_until_us END, "
            "last_failure_us = excluded.last_failure_us "
            "RETURNING failures, locked_until_us", (name, t))
        attempt, until = (int(row[0]), row[1]) if row else (1, None)
        if until is not None and int(until) > t:
            return 0, int(until)
        if attempt > max_failures:
            tx.execute("UPDATE login_failures SET locked_until_us = ? WHERE username = ?",
                       (lock_us, name))
            return 0, lock_us
    return attempt, None


def _failed(store: Store, name: str, t: int, attempt: int, max_failures: int,
            lock_us: int, lockout_min: float) -> AuthResult:
    """A wrong password (already counted): lock the name at the last allowed attempt."""
    until = None
    if attempt >= max_failures:
        until = lock_us
        with store.transaction() as tx:
            tx.execute("UPDATE login_failures SET locked_until_us = ? WHERE username = ? AND "
                       "(locked_until_us IS NULL OR locked_until_us < ?)", (until, name, until))
    audit.record(store, "login_failed", user=name, at=from_us(t),
                 detail={"failures": attempt, "locked": until is not None})
    if until is not None:
        logger.warning("login: '%s' locked for %g min after %d failures", name, lockout_min,
                       attempt)
        return AuthResult(False, None, "locked", from_us(until))
    return AuthResult(False, None, "invalid")


def ensure_demo_accounts(store: Store) -> list[User]:
    """With ``SECCOV_DEMO=1``, create the missing ``demo-*`` accounts (password = name).

    Raises AccountError outside demo mode: a real deployment has no default password.
    """
    if not demo_mode():
        msg = "demo accounts are only created with SECCOV_DEMO=1 (the synthetic demo)"
        raise AccountError(msg)
    made = []
    for name, role in DEMO_ACCOUNTS:
        if get_user(store, name) is None:
            made.append(add_user(store, name, name, role, actor="demo-setup", demo=True))
    return made
