"""The store on SQLite and PostgreSQL: URLs, migrations, batches, ordering, literal ids."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from coverage.ops import registry
from coverage.ops._schema import SCHEMA_VERSION
from coverage.ops.store import Position, Reject, Store, StoreError, from_us, open_store, to_us
from tests.support import pg

SQLISH = "x'); DROP TABLE positions; --"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(pg.backend_url(request.param, tmp_path)) as s:
        yield s


def pos(officer: str, ts_us: int, lat: float = 34.0, lon: float = 71.5) -> Position:
    return Position(officer, lat, lon, ts_us, f"t{ts_us}")


def test_schema_versions_recorded_in_order(store: Store) -> None:
    rows = store.query("SELECT version, description FROM schema_version ORDER BY version")
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
    assert store.schema_version() == SCHEMA_VERSION
    assert store.migrate() == SCHEMA_VERSION  # idempotent
    assert store.count("schema_version") == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    with open_store(url) as s, s.transaction() as tx:
        tx.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (99, "future", 0))
    with pytest.raises(StoreError, match="schema version 99, newer"):
        open_store(url)


def test_sqlite_is_wal_and_relative_urls_work(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///rel.db") as s:
        assert s.query("PRAGMA journal_mode")[0][0] == "wal"
    assert (tmp_path / "rel.db").is_file()


@pytest.mark.parametrize(("url", "match"), [
    ("mysql://u@h/db", "unknown scheme 'mysql'"),
    ("sqlite://", "give a file"),
    ("sqlite:////no/such/folder/x.db", "folder /no/such/folder does not exist"),
])
def test_bad_urls(url: str, match: str) -> None:
    with pytest.raises(StoreError, match=match):
        open_store(url)


def test_postgres_password_is_not_shown_in_errors() -> None:
    port = pg._free_port()  # nothing listens there
    with pytest.raises(StoreError) as err:
        open_store(f"postgresql://user:s3cret-pass@127.0.0.1:{port}/db")
    assert "s3cret-pass" not in str(err.value)
    assert ":***@" in str(err.value)


def test_batch_counts_and_ordering(store: Store) -> None:
    run = store.begin_ingest("feed.csv", "csv", "feed")
    c = store.write_batch(run, [pos("A", 200), pos("A", 200), pos("A", 100, lat=34.1),
                                pos("B", 50)], [Reject("feed.csv", 9, "bad", "raw")])
    assert (c.accepted, c.duplicates, c.rejected) == (3, 1, 1)
    c = store.write_batch(run, [pos("A", 150, lat=34.2), pos("B", 60)], [])
    assert (c.accepted, c.duplicates, c.rejected) == (2, 0, 0)
    latest = {p.officer_id: p for p in store.latest_positions()}
    assert latest["A"].ts_us == 200  # 150 and 100 arrived later but are older
    assert latest["A"].lat == 34.0
    assert latest["B"].ts_us == 60
    assert [p.ts_us for p in store.history(officer_id="A")] == [100, 150, 200]
    assert [p.ts_us for p in store.history(since_us=60)] == [60, 100, 150, 200]
    store.finish_ingest(run)
    (rec,) = store.ingests()
    assert (rec.read, rec.accepted, rec.duplicates, rec.rejected) == (7, 5, 1, 1)
    assert rec.read == rec.accepted + rec.duplicates + rec.rejected
    assert rec.finished_at is not None


def test_same_timestamp_never_replaces_latest(store: Store) -> None:
    run = store.begin_ingest("f", "csv", "feed")
    store.write_batch(run, [pos("A", 100, lat=34.0)], [])
    store.write_batch(run, [pos("A", 100, lat=34.5)], [])  # same time, other place: history
    assert store.latest_positions()[0].lat == 34.0
    assert store.count("positions") == 2


def test_sql_looking_ids_are_stored_literally(store: Store) -> None:
    run = store.begin_ingest(SQLISH, "csv", "feed")
    store.write_batch(run, [pos(SQLISH, 1), pos("A'--", 2)], [Reject(SQLISH, 1, SQLISH, SQLISH)])
    assert {p.officer_id for p in store.latest_positions()} == {SQLISH, "A'--"}
    assert store.history(officer_id=SQLISH)[0].officer_id == SQLISH
    assert store.rejects()[0] == Reject(SQLISH, 1, SQLISH, SQLISH)
    assert store.count("positions") == 2


def test_transaction_is_all_or_nothing(store: Store) -> None:
    run = store.begin_ingest("f", "csv", "feed")

    def half_done() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO latest_positions (officer_id, ts_us, ts_text, lat, lon, "
                       "source, received_us) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ("A", 1, "t", 1.0, 1.0, "f", 1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        half_done()
    assert store.count("latest_positions") == 0
    assert store.ingests()[0].id == run


def test_count_refuses_unknown_tables(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown table"):
        store.count("positions; DROP TABLE users")


def test_database_errors_become_store_errors(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction() as tx:
        tx.execute("INSERT INTO users (username, password_hash, role, created_us, updated_us) "
                   "VALUES (?, ?, ?, ?, ?)", ("a", "h", "superuser", 0, 0))  # role CHECK


def test_datasets_and_known_officers(store: Store, tmp_path: Path) -> None:
    assert registry.known_officers(store) is None
    roster = tmp_path / "officers.csv"
    roster.write_text(f"officer_id,name\nA,a\nB,b\n{SQLISH.replace(',', '')},c\n")
    first = registry.register_officers(store, roster, registered_by="tester")
    again = registry.register_officers(store, roster)
    assert first == again  # same content: same record
    assert first.officers == 3
    assert '"sha256"' in first.files
    name, ids = registry.known_officers(store) or ("", frozenset())
    assert name == "officers officers.csv"
    assert ids == {"A", "B", SQLISH}
    assert len(registry.datasets(store)) == 1


def test_scenarios_are_canonical_json_with_hash(store: Store) -> None:
    a = registry.record_scenario(store, "suspend 42", "planner", {"b": [1, 2], "a": "x"})
    b = registry.record_scenario(store, "same", "other", {"a": "x", "b": [1, 2]})
    assert a.body == '{"a":"x","b":[1,2]}'
    assert a.sha256 == b.sha256
    assert [s.name for s in registry.scenarios(store)] == ["suspend 42", "same"]


def test_postgis_geometry_when_available(tmp_path: Path) -> None:
    with open_store(pg.backend_url("postgresql", tmp_path)) as s:
        note = s.query("SELECT description FROM schema_version WHERE version = 3")[0][0]
        if "unavailable" in note:
            pytest.skip("PostGIS is not installed on this server")
        run = s.begin_ingest("f", "csv", "feed")
        s.write_batch(run, [pos("A", 1, lat=34.01, lon=71.57)], [])
        assert s.query("SELECT ST_AsText(geom) FROM latest_positions") == [("POINT(71.57 34.01)",)]


def test_time_conversions_are_exact() -> None:
    t = from_us(1_795_575_600_123_456)
    assert to_us(t) == 1_795_575_600_123_456
    assert t.isoformat() == "2026-11-25T03:00:00.123456+00:00"


def test_missing_postgres_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "pg_bindir", lambda: None)
    monkeypatch.setattr(pg, "_state", {})
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        pg.server_url()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        pg.server_url()


def test_sqlite_file_is_consistent_after_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/c.db"
    with open_store(url) as s:
        run = s.begin_ingest("f", "csv", "feed")
        s.write_batch(run, [pos(str(i), i) for i in range(100)], [])
    with sqlite3.connect(tmp_path / "c.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM latest_positions").fetchone() == (100,)
    conn.close()


def test_postgresql_connection_is_reopened_after_the_server_drops_it(tmp_path: Path) -> None:
    url = pg.backend_url("postgresql", tmp_path)
    with open_store(url) as s, open_store(url) as admin:
        pid = s.query("SELECT pg_backend_pid()")[0][0]
        admin.query("SELECT pg_terminate_backend(?)", (pid,))
        assert s.query("SELECT 1") == [(1,)]  # a read reconnects and is retried once
        assert s.query("SELECT pg_backend_pid()")[0][0] != pid
        admin.query("SELECT pg_terminate_backend(?)", (s.query("SELECT pg_backend_pid()")[0][0],))
        with pytest.raises(StoreError):  # a write is never retried: it fails once ...
            s.begin_ingest("lost", "csv", "feed")
        run = s.begin_ingest("after", "csv", "feed")  # ... and the next one reconnects
        assert s.write_batch(run, [pos("A", 1)], []).accepted == 1


# --- integrity (issue 15): a damaged SQLite file is refused, not read in silence -----------


def damaged_store(tmp_path: Path) -> tuple[str, Path]:
    """A store with a few thousand positions and three 4 KB pages overwritten."""
    path = tmp_path / "live.db"
    url = f"sqlite:///{path}"
    with open_store(url) as s:
        ingest = s.begin_ingest("f.csv", "csv", "feed")
        s.write_batch(ingest, [pos(f"KP-{i}", 1_000_000 * i) for i in range(3000)], [])
    size = path.stat().st_size
    assert size > 40 * 4096
    with open(path, "r+b") as fh:
        for page in (size // 4096 // 2, size // 4096 // 2 + 3, size // 4096 - 2):
            fh.seek(page * 4096)
            fh.write(bytes(range(256)) * 16)
    return url, path


def test_damaged_sqlite_store_is_refused_at_open(tmp_path: Path) -> None:
    url, _ = damaged_store(tmp_path)
    with pytest.raises(StoreError, match=r"the store file is damaged \(PRAGMA quick_check: "
                                         r".*store check --db URL"):
        open_store(url)


def test_store_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from coverage.cli.main import main

    good = f"sqlite:///{tmp_path}/good.db"
    open_store(good).close()
    assert main(["store", "check", "--db", good, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["ok"], out["problems"], out["check"]) == (True, [], "integrity_check")
    url, _ = damaged_store(tmp_path)
    assert main(["store", "check", "--db", url, "--format", "json"]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["ok"] is False
    assert len(out["problems"]) >= 1
    assert "restore the latest backup" in out["advice"]
    assert "error: " in captured.err
    assert main(["store", "check", "--db", url]) == 2
    assert "problem(s)" in capsys.readouterr().out
    for command in (["positions"], ["users", "list"], ["ingest", "--from", str(tmp_path)]):
        assert main([*command, "--db", url]) == 2
        assert "the store file is damaged" in capsys.readouterr().err
