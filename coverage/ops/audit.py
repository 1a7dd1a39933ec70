"""Audit log: an append-only record of logins, scenarios, exports, uploads and user changes.

There is no update or delete function, and the store itself refuses them (a trigger on
SQLite and PostgreSQL). Details are stored as JSON text.

    >>> import tempfile
    >>> from datetime import UTC
    >>> from coverage.ops.store import StoreError, open_store
    >>> day = datetime(2026, 11, 25, 3, tzinfo=UTC)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with open_store(f"sqlite:///{folder}/live.db") as store:
    ...         _ = record(store, "export", user="planner1", detail={"file": "gaps.csv"}, at=day)
    ...         _ = record(store, "login", user="ops", at=day)
    ...         found = query(store, action="export", since=datetime(2026, 11, 1, tzinfo=UTC))
    ...         try:
    ...             with store.transaction() as tx:
    ...                 tx.execute("DELETE FROM audit_log")
    ...         except StoreError as exc:
    ...             print(str(exc).split(": ", 1)[1], store.count("audit_log"))
    audit_log is append-only 2
    >>> [(e.at.isoformat(), e.user, e.details) for e in found]   # the login is filtered out
    [('2026-11-25T03:00:00+00:00', 'planner1', {'file': 'gaps.csv'})]
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from coverage.data.csvsafe import safe_cell
from coverage.errors import CoverageError
from coverage.ops.store import Store, from_us, now_us, to_us

logger = logging.getLogger(__name__)

#: Actions the log records; the admin page filters on these.
ACTIONS: tuple[str, ...] = (
    "login", "login_failed", "login_locked", "logout",
    "scenario_run", "scenario_saved", "export", "upload", "dataset_registered",
    "user_added", "user_removed", "role_changed", "password_changed",
    "feed_token_failed", "personnel_viewed",
)


class AuditError(CoverageError, ValueError):
    """An audit entry or filter is malformed."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit record; ``detail`` is a JSON object as text."""

    id: int
    at: datetime
    user: str | None
    action: str
    detail: str

    @property
    def details(self) -> dict[str, Any]:
        """``detail`` parsed (a new dict)."""
        value = json.loads(self.detail)
        return value if isinstance(value, dict) else {"value": value}


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        msg = f"action '{action}' is not one of {', '.join(ACTIONS)}"
        raise AuditError(msg)


def record(store: Store, action: str, *, user: str | None = None,
           detail: Mapping[str, Any] | None = None, at: datetime | None = None) -> AuditEntry:
    """Append one entry; return it as stored.

    Parameters
    ----------
    store
        An open store.
    action
        One of :data:`ACTIONS`.
    user
        Who did it (None for the system).
    detail
        JSON-serialisable facts: file names and hashes, scenario names, counts. Never
        passwords.
    at
        When (aware datetime); by default now.
    """
    _check_action(action)
    text = json.dumps(dict(detail or {}), sort_keys=True, default=str, allow_nan=False)
    t = to_us(at) if at is not None else now_us()
    with store.transaction() as tx:
        row = tx.one("INSERT INTO audit_log (at_us, username, action, detail) VALUES (?, ?, ?, ?)"
                     " RETURNING id", (t, user, action, text))
    assert row is not None
    logger.info("audit: %s by %s", action, user or "system")
    return AuditEntry(int(row[0]), from_us(t), user, action, text)


def query(store: Store, *, user: str | None = None, action: str | None = None,
          since: datetime | None = None, until: datetime | None = None,
          limit: int | None = 1000) -> list[AuditEntry]:
    """Return entries matching every given filter, newest first.

    ``since`` is inclusive and ``until`` exclusive (aware datetimes); ``limit`` caps the
    number returned (None: all).
    """
    if action is not None:
        _check_action(action)
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            msg = f"{name}: give a date-time with a UTC offset, got {value.isoformat()}"
            raise AuditError(msg)
    sql = "SELECT id, at_us, username, action, detail FROM audit_log WHERE 1 = 1"
    params: list[Any] = []
    filters: tuple[tuple[str, Any], ...] = (
        ("username = ?", user), ("action = ?", action),
        ("at_us >= ?", None if since is None else to_us(since)),
        ("at_us < ?", None if until is None else to_us(until)))
    for clause, value in filters:
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    sql += " ORDER BY at_us DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [AuditEntry(int(r[0]), from_us(r[1]), r[2], r[3], r[4])
            for r in store.query(sql, params)]


#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV Injection").
def safe_csv(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as UTF-8 CSV (RFC 4180: CRLF, line breaks inside quotes) with every
    text cell and column name passed through :func:`safe_cell`: for downloads of
    user-supplied text. Missing values are empty cells."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(["" if v is None or v is pd.NaT or (isinstance(v, float) and v != v)
                         else safe_cell(v) for v in row])
    return buf.getvalue().encode("utf-8")


def entries_frame(entries: list[AuditEntry]) -> pd.DataFrame:
    """Return entries as a new frame (``id``, ``at``, ``user``, ``action``, ``detail``)."""
    return pd.DataFrame(
        {"id": [e.id for e in entries],
         "at": pd.to_datetime([e.at for e in entries], utc=True),
         "user": pd.Series([e.user for e in entries], dtype=object),
         "action": pd.Series([e.action for e in entries], dtype=object),
         "detail": pd.Series([e.detail for e in entries], dtype=object)})
