"""Accounts: roles and pages, user management, Argon2 hashes, lockout, demo accounts, CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from coverage import settings
from coverage.cli.main import main
from coverage.ops import accounts, audit
from coverage.ops.accounts import AccountError
from coverage.ops.store import Store, open_store
from tests.support import pg

PW = "correct horse battery"
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Argon2id with small costs so the tests stay fast (the algorithm is the same)."""
    monkeypatch.setattr(settings, "ARGON2_MEMORY_KIB", 1024)
    monkeypatch.setattr(settings, "ARGON2_TIME_COST", 1)
    monkeypatch.setattr(settings, "ARGON2_PARALLELISM", 1)
    monkeypatch.delenv("SECCOV_DEMO", raising=False)
    accounts._hasher.cache_clear()
    accounts._dummy_hash.cache_clear()
    yield
    accounts._hasher.cache_clear()
    accounts._dummy_hash.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(pg.backend_url(request.param, tmp_path)) as s:
        yield s


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/acc.db") as s:
        yield s


def test_pages_per_role() -> None:
    assert accounts.pages_for("viewer") == ("live_map",)
    assert accounts.pages_for("planner") == ("live_map", "coverage", "what_if", "briefing",
                                             "readiness", "plan", "scenario_builder",
                                             "criticality")
    assert accounts.pages_for("command") == accounts.pages_for("planner")
    assert accounts.pages_for("admin") == ("live_map", "coverage", "what_if", "briefing",
                                           "readiness", "plan", "scenario_builder",
                                           "criticality", "data", "users", "audit")
    assert accounts.can_open("planner", "what_if")
    assert not accounts.can_open("planner", "users")
    with pytest.raises(AccountError,
                       match="role 'root' is not one of viewer, planner, command, admin"):
        accounts.pages_for("root")


def test_personnel_records_only_for_command_and_admin(lite: Store) -> None:
    assert [r for r in accounts.ROLES if accounts.can_see_personnel(r)] == ["command", "admin"]
    with pytest.raises(AccountError, match="role 'root'"):
        accounts.can_see_personnel("root")
    # the store accepts the command role (schema migration 4)
    u = accounts.add_user(lite, "chief", PW, "command", actor="admin")
    assert accounts.role_of(lite, "chief") == "command"
    assert accounts.set_role(lite, u.username, "planner", actor="admin").role == "planner"


def test_user_lifecycle(store: Store) -> None:
    u = accounts.add_user(store, "  Alice ", PW, "planner", actor="boss")
    assert (u.username, u.role, u.demo) == ("alice", "planner", False)
    assert [x.username for x in accounts.list_users(store)] == ["alice"]
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user(store, "ALICE", PW, "viewer", actor="boss")
    assert accounts.set_role(store, "alice", "admin", actor="boss").role == "admin"
    accounts.set_password(store, "alice", "another long secret", actor="alice")
    assert not accounts.authenticate(store, "alice", PW).ok
    assert accounts.authenticate(store, "Alice", "another long secret").ok
    accounts.add_user(store, "bob", PW, "admin", actor="boss")
    accounts.remove_user(store, "alice", actor="boss")
    assert accounts.get_user(store, "alice") is None
    actions = [e.action for e in audit.query(store)][::-1]
    assert actions[:3] == ["user_added", "role_changed", "password_changed"]
    assert actions[-2:] == ["user_added", "user_removed"]


@pytest.mark.parametrize(("name", "password", "role", "match"), [
    ("", PW, "viewer", "user name '' is not allowed"),
    ("a b", PW, "viewer", "is not allowed"),
    ("x" * 65, PW, "viewer", "is not allowed"),
    ("carol", "short", "viewer", "at least 12 characters"),
    ("carol", "Carol", "viewer", "at least"),
    ("carolcarolcarol", "carolcarolcarol", "viewer", "must not be the user name"),
    ("carol", PW, "owner", "role 'owner' is not one of"),
])
def test_bad_accounts_are_refused(lite: Store, name, password, role, match) -> None:
    with pytest.raises(AccountError, match=match):
        accounts.add_user(lite, name, password, role, actor=None)
    assert accounts.list_users(lite) == []


def test_single_sign_on_accounts_have_no_password(lite: Store, capsys) -> None:
    u = accounts.add_user(lite, "Ops.Lead@Police.example", None, "planner", actor="admin")
    assert u.username == "ops.lead@police.example"
    assert accounts.role_of(lite, "OPS.LEAD@police.example") == "planner"
    assert accounts.role_of(lite, "stranger@police.example") is None
    assert not accounts.authenticate(lite, u.username, "!sso").ok
    assert not accounts.authenticate(lite, u.username, "").ok
    db = lite.url
    assert main(["users", "add", "duty@police.example", "--role", "viewer", "--sso",
                 "--db", db]) == 0
    assert "single sign-on" in capsys.readouterr().out


def test_last_admin_stays(lite: Store) -> None:
    accounts.add_user(lite, "root1", PW, "admin", actor=None)
    with pytest.raises(AccountError, match="last admin"):
        accounts.remove_user(lite, "root1", actor=None)
    with pytest.raises(AccountError, match="last admin"):
        accounts.set_role(lite, "root1", "viewer", actor=None)
    with pytest.raises(AccountError, match="does not exist"):
        accounts.remove_user(lite, "nobody", actor=None)


def test_hash_is_argon2id_and_never_the_password(lite: Store) -> None:
    accounts.add_user(lite, "dora", PW, "viewer", actor=None)
    (digest,) = lite.query("SELECT password_hash FROM users")[0]
    assert digest.startswith("$argon2id$")
    assert PW not in digest
    assert PW not in json.dumps([e.detail for e in audit.query(lite)])


def test_lockout_after_repeated_failures(store: Store) -> None:
    accounts.add_user(store, "eve", PW, "viewer", actor=None)
    for i in range(2):
        r = accounts.authenticate(store, "eve", "wrong", now=T0 + timedelta(seconds=i),
                                  max_failures=3, lockout_min=10)
        assert (r.ok, r.reason) == (False, "invalid")
    r = accounts.authenticate(store, "eve", "wrong", now=T0 + timedelta(seconds=2),
                              max_failures=3, lockout_min=10)
    assert (r.reason, r.locked_until) == ("locked", T0 + timedelta(seconds=2, minutes=10))
    r = accounts.authenticate(store, "eve", PW, now=T0 + timedelta(minutes=5), max_failures=3)
    assert (r.ok, r.reason) == (False, "locked")  # the right password does not help
    assert r.message == accounts.AuthResult(False, None, "invalid").message  # no hint
    r = accounts.authenticate(store, "eve", PW, now=T0 + timedelta(minutes=11), max_failures=3)
    assert r.ok
    assert r.user is not None
    assert r.user.username == "eve"
    actions = [e.action for e in audit.query(store, user="eve")][::-1]
    assert actions == ["login_failed"] * 3 + ["login_locked", "login"]


def test_success_resets_the_failure_count(lite: Store) -> None:
    accounts.add_user(lite, "finn", PW, "viewer", actor=None)
    for _ in range(2):
        accounts.authenticate(lite, "finn", "wrong", max_failures=3)
    assert accounts.authenticate(lite, "finn", PW, max_failures=3).ok
    for _ in range(2):
        assert accounts.authenticate(lite, "finn", "wrong", max_failures=3).reason == "invalid"


def test_unknown_users_behave_like_known_ones(lite: Store, monkeypatch) -> None:
    accounts.add_user(lite, "gina", PW, "viewer", actor=None)
    calls: list[str] = []
    real_verify = PasswordHasher.verify

    def spy(self: PasswordHasher, digest: str, password: str) -> bool:
        calls.append(digest)
        return real_verify(self, digest, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    accounts.authenticate(lite, "gina", "wrong")
    accounts.authenticate(lite, "ghost", "wrong")
    assert len(calls) == 2  # a hash is verified for the unknown name too
    assert calls[1] == accounts._dummy_hash()
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        accounts.authenticate(lite, "ghost", "wrong")
    assert accounts.authenticate(lite, "ghost", "wrong").reason == "locked"


def test_demo_accounts_only_in_demo_mode(lite: Store, monkeypatch) -> None:
    with pytest.raises(AccountError, match="SECCOV_DEMO=1"):
        accounts.ensure_demo_accounts(lite)
    monkeypatch.setenv("SECCOV_DEMO", "1")
    made = accounts.ensure_demo_accounts(lite)
    assert [(u.username, u.role, u.demo) for u in made] == [
        ("demo-viewer", "viewer", True), ("demo-planner", "planner", True),
        ("demo-command", "command", True), ("demo-admin", "admin", True)]
    assert accounts.ensure_demo_accounts(lite) == []
    assert accounts.authenticate(lite, "demo-admin", "demo-admin").ok
    monkeypatch.setenv("SECCOV_DEMO", "0")
    assert not accounts.authenticate(lite, "demo-admin", "demo-admin").ok


def test_cli_users(tmp_path: Path, capsys, monkeypatch) -> None:
    db = f"sqlite:///{tmp_path}/u.db"
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["users", "add", "hana", "--role", "admin", "--db", db,
                 "--password-stdin"]) == 0
    assert "user 'hana' added as admin" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert main(["users", "add", "ivan", "--role", "viewer", "--db", db,
                 "--password-stdin", "--actor", "hana"]) == 0
    assert main(["users", "set-role", "ivan", "--role", "planner", "--db", db]) == 0
    assert main(["users", "passwd", "ivan", "--db", db, "--password", "yet another secret"]) == 0
    captured = capsys.readouterr()
    assert "--password leaves the password in shell history" in captured.err
    assert main(["users", "list", "--db", db, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["username"], r["role"]) for r in rows] == [("hana", "admin"), ("ivan", "planner")]
    assert rows[1]["pages"] == ["live_map", "coverage", "what_if", "briefing", "readiness",
                                "plan", "scenario_builder", "criticality"]
    assert main(["users", "remove", "ivan", "--db", db]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["users", "add", "jo", "--role", "viewer", "--db", db]) == 2
    assert "no password given" in capsys.readouterr().err
    assert main(["users", "demo", "--db", db]) == 2
    with open_store(db) as s:
        assert audit.query(s, action="user_added")[0].user == "hana"
        assert audit.query(s, action="user_added")[1].user.startswith("cli:")


@pytest.mark.parametrize("shared", [True, False])
def test_lockout_holds_under_concurrent_attempts(store: Store, monkeypatch, tmp_path: Path,
                                                 shared: bool) -> None:
    """30 simultaneous wrong passwords: at most 5 reach the hash, then even the right one
    is locked out (issue 15: 25 of 30 used to be checked against a limit of 5)."""
    import threading
    import time

    if not shared and store.dialect != "sqlite":
        pytest.skip("one connection per session: the SQLite case is enough")
    accounts.add_user(store, "kim", PW, "viewer", actor=None)
    checked: list[str] = []
    real_verify = PasswordHasher.verify

    def slow_verify(self: PasswordHasher, digest: str, password: str) -> bool:
        checked.append(password)
        time.sleep(0.05)  # the real hash takes this long or longer: the race window
        return real_verify(self, digest, password)

    monkeypatch.setattr(PasswordHasher, "verify", slow_verify)
    results: list[accounts.AuthResult] = []
    start = threading.Barrier(30)

    def attempt(i: int) -> None:
        own = store if shared else open_store(store.url)
        try:
            start.wait()
            results.append(accounts.authenticate(own, "kim", f"wrong-{i}", max_failures=5))
        finally:
            if own is not store:
                own.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 30
    assert len(checked) <= 5
    assert sum(r.reason == "invalid" for r in results) <= 4
    assert all(r.reason in ("invalid", "locked") for r in results)
    after = accounts.authenticate(store, "kim", PW, max_failures=5)
    assert (after.ok, after.reason) == (False, "locked")
    assert len(checked) <= 5  # a locked name is not checked at all
