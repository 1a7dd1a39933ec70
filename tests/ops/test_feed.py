"""Ingest: every bad-record kind, ordering, duplicates, follow mode, stdin, and crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coverage.cli.main import main
from coverage.errors import DataError, DataWarning
from coverage.ops import registry
from coverage.ops.feed import ingest_file, parse_timestamp
from coverage.ops.store import Store, StoreError, open_store, to_us
from tests.support import pg
from tests.support.tiny import ROOT, write

NOW = to_us(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 08:00 in Peshawar
HEADER = "officer_id,lat,lon,timestamp,status,speed_kph,heading_deg\n"
GOOD = "KP-1,34.0,71.5,2026-11-25T08:00:00+05:00,on_duty,20,90\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return pg.backend_url(request.param, tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/feed.db") as s:
        yield s


def ingest(store: Store, path: Path, **kw):
    return ingest_file(store, path, now=NOW, **kw)


BAD = [
    ("KP-2,,71.5,2026-11-25T08:00:00+05:00,,,", "lat is missing"),
    ("KP-2,34.0,71.5,,,,", "timestamp is missing"),
    (",34.0,71.5,2026-11-25T08:00:00+05:00,,,", "officer_id is missing"),
    ("KP-2,abc,71.5,2026-11-25T08:00:00+05:00,,,", "lat 'abc' is not a number"),
    ("KP-2,34.0,nan,2026-11-25T08:00:00+05:00,,,", "lon 'nan' is not a number"),
    ("KP-2,91,71.5,2026-11-25T08:00:00+05:00,,,", "lat 91 is outside -90..90"),
    ("KP-2,34,181,2026-11-25T08:00:00+05:00,,,", "lon 181 is outside -180..180"),
    ("KP-2,34,71.5,2026-11-25T08:00:00,,,", "has no UTC offset"),
    ("KP-2,34,71.5,25/11/2026 08:00,,,", "is not an ISO 8601 date-time with offset"),
    ("KP-2,34,71.5,2026-02-30T08:00:00+05:00,,,", "is not a valid date-time"),
    ("KP-2,34,71.5,2026-11-25T09:00:00+05:00,,,", "3,600 s ahead of the clock"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,on_strike,,", "status 'on_strike' is not one of"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,-3,", "speed_kph -3 is negative"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,x,", "speed_kph 'x' is not a number"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,,361", "heading_deg 361 is outside 0..360"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,,-1", "heading_deg -1 is outside 0..360"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,,,extra", "has 8 fields but the header has 7"),
]


@pytest.mark.parametrize(("row", "reason"), BAD)
def test_each_bad_record_is_rejected_with_reason_and_line(store, tmp_path, row, reason) -> None:
    f = write(tmp_path / "feed.csv", HEADER + GOOD + row + "\n")
    res = ingest(store, f)
    assert (res.read, res.accepted, res.duplicates, res.rejected) == (2, 1, 0, 1)
    (rej,) = store.rejects()
    assert reason in rej.reason
    assert (rej.line, rej.raw, rej.input_name) == (3, row, "feed.csv")


def test_a_record_with_several_problems_lists_them_all(store, tmp_path) -> None:
    f = write(tmp_path / "f.csv", HEADER + "KP-2,95,200,2026-11-25T08:00,bad,-1,400\n")
    ingest(store, f)
    reason = store.rejects()[0].reason
    for part in ("lat 95", "lon 200", "no UTC offset", "status 'bad'", "speed_kph -1",
                 "heading_deg 400"):
        assert part in reason


def test_edges_of_the_ranges_are_accepted(store, tmp_path) -> None:
    rows = ("A,-90,-180,2026-11-25T08:00:00+05:00,suspended,0,0\n"
            "B,90,180,2026-11-25T03:04:59Z,reserve,0,360\n"  # 299 s ahead: within tolerance
            "C,34,71.5,2026-11-25 08:00:00.123456789+0500,,,\n")
    res = ingest(store, write(tmp_path / "f.csv", HEADER + rows))
    assert (res.accepted, res.rejected) == (3, 0), store.rejects()


def test_unknown_officer_rejected_once_a_roster_is_registered(store, tmp_path) -> None:
    f = write(tmp_path / "f.csv", HEADER + GOOD + GOOD.replace("KP-1", "KP-404"))
    assert ingest(store, f).rejected == 0  # no roster: any id is fine
    registry.register_officers(store, write(tmp_path / "officers.csv", "officer_id\nKP-1\n"))
    f2 = write(tmp_path / "g.csv", HEADER + GOOD.replace("08:00:00", "08:00:01")
               + GOOD.replace("KP-1", "KP-404").replace("08:00:00", "08:00:01"))
    res = ingest(store, f2)
    assert (res.accepted, res.rejected) == (1, 1)
    assert "officer_id 'KP-404' is not in the registered officer list" in store.rejects()[0].reason


def test_ndjson_bad_lines(store, tmp_path) -> None:
    good = {"officer_id": "A", "lat": 34, "lon": 71.5, "timestamp": "2026-11-25T03:00:00Z"}
    lines = [json.dumps(good), '{"officer_id": "B", "lat": 34,', "[1, 2]",
             json.dumps({**good, "lat": True}), json.dumps({**good, "officer_id": {"x": 1}}),
             "", json.dumps({**good, "officer_id": 17, "timestamp": "2026-11-25T02:00:00Z"})]
    f = write(tmp_path / "f.ndjson", "\n".join(lines) + "\n")
    res = ingest(store, f)
    assert (res.read, res.accepted, res.rejected) == (6, 2, 4)
    reasons = {r.line: r.reason for r in store.rejects()}
    assert "is not valid JSON" in reasons[2]
    assert "is a JSON list, not an object" in reasons[3]
    assert "lat 'True' is not a number" in reasons[4]
    assert "officer_id is a JSON dict" in reasons[5]
    assert {p.officer_id for p in store.latest_positions()} == {"A", "17"}


def test_geojson_features(store, tmp_path) -> None:
    def feat(oid: str, geom: dict) -> dict:
        return {"type": "Feature", "geometry": geom,
                "properties": {"officer_id": oid, "timestamp": "2026-11-25T07:59:00+05:00"}}

    doc = {"type": "FeatureCollection", "features": [
        feat("A", {"type": "Point", "coordinates": [71.57, 34.01]}),
        feat("B", {"type": "LineString", "coordinates": [[71.5, 34], [71.6, 34]]}),
        feat("C", {"type": "Point", "coordinates": [200, 34.01]})]}
    res = ingest(store, write(tmp_path / "f.geojson", json.dumps(doc)))
    assert (res.read, res.accepted, res.rejected) == (3, 1, 2)
    (a,) = store.latest_positions()
    assert (a.officer_id, a.lon, a.lat) == ("A", 71.57, 34.01)
    assert [r.line for r in store.rejects()] == [2, 3]  # feature numbers
    with pytest.raises(DataError, match=r"bad.geojson: line 1: not valid JSON"):
        ingest(store, write(tmp_path / "bad.geojson", "{nope"))


def test_older_never_overwrites_newer_but_is_kept(url, tmp_path) -> None:
    newer = "A,34.1,71.5,2026-11-25T07:59:00+05:00,,,\n"
    older = "A,34.2,71.5,2026-11-25T07:58:00+05:00,,,\n"
    with open_store(url) as store:
        ingest(store, write(tmp_path / "1.csv", HEADER + newer + older))
        ingest(store, write(tmp_path / "2.csv", HEADER + "A,34.3,71.5,2026-11-25T02:50:00Z,,,\n"))
        (latest,) = store.latest_positions()
        assert (latest.lat, latest.timestamp) == (34.1, "2026-11-25T07:59:00+05:00")
        assert sorted(p.lat for p in store.history()) == [34.1, 34.2, 34.3]


def test_duplicates_stored_once_and_rerun_adds_nothing(url, tmp_path) -> None:
    same_instant = GOOD.replace("2026-11-25T08:00:00+05:00", "2026-11-25T03:00:00Z")
    f = write(tmp_path / "f.csv", HEADER + GOOD + GOOD + same_instant + "bad\n")
    with open_store(url) as store:
        first = ingest(store, f)
        assert (first.read, first.accepted, first.duplicates, first.rejected) == (4, 1, 2, 1)
        tables = {t: store.count(t) for t in ("positions", "latest_positions", "rejects")}
        second = ingest(store, f)
        assert (second.read, second.accepted, second.duplicates, second.rejected) == (4, 0, 3, 1)
        assert {t: store.count(t) for t in tables} == tables


def test_missing_required_column_is_a_file_error(store, tmp_path) -> None:
    f = write(tmp_path / "f.csv", "officer_id,lat,lon\nA,1,2\n")
    with pytest.raises(DataError, match=r"f.csv: line 1: missing required column\(s\) timestamp"):
        ingest(store, f)


def test_unknown_columns_are_warned_about(store, tmp_path) -> None:
    f = write(tmp_path / "f.csv", "officer_id,lat,lon,timestamp,battery\n"
                                  "A,34,71.5,2026-11-25T08:00:00+05:00,80\n")
    with pytest.warns(DataWarning, match="ignored unknown column.*battery"):
        assert ingest(store, f).accepted == 1


def test_quoted_fields_and_blank_lines(store, tmp_path) -> None:
    f = write(tmp_path / "f.csv", '\ufeff' + HEADER + '\n"KP, ""1""",34,71.5,'
              '2026-11-25T08:00:00+05:00,,,\n\n"open\nquote",34,71.5,2026-11-25T08:00:00+05:00\n'
              '"never closed,34\n')
    res = ingest(store, f)
    assert (res.read, res.accepted, res.rejected) == (3, 2, 1)
    assert {p.officer_id for p in store.latest_positions()} == {'KP, "1"', "open\nquote"}
    (rej,) = store.rejects()
    assert (rej.line, rej.reason) == (7, "has a quoted field that never ends")


def test_timestamp_parser() -> None:
    assert parse_timestamp("2026-11-25T08:00:00+05:00") == (NOW, None)
    assert parse_timestamp("2026-11-25t03:00z") == (NOW, None)
    assert parse_timestamp("2026-11-25T08:00:00")[1] is not None


def test_follow_reads_a_growing_file_until_idle(store, tmp_path) -> None:
    f = write(tmp_path / "live.csv", HEADER)

    def writer() -> None:
        with open(f, "a", encoding="utf-8") as fh:
            for i in range(5):
                fh.write(f"W{i},34.0,71.5,2026-11-25T07:5{i}:00+05:00,on_duty,")
                fh.flush()
                time.sleep(0.05)  # the ingester sees half a line and waits for the rest
                fh.write("10,0\n")
                fh.flush()

    t = threading.Thread(target=writer)
    t.start()
    res = ingest_file(store, f, follow=True, idle_s=1.0, max_seconds=30, now=NOW)
    t.join()
    assert (res.read, res.accepted, res.rejected) == (5, 5, 0)
    assert store.count("latest_positions") == 5


def test_follow_stops_at_max_seconds_and_on_stop_event(store, tmp_path) -> None:
    f = write(tmp_path / "live.csv", HEADER + GOOD)
    t0 = time.monotonic()
    assert ingest_file(store, f, follow=True, max_seconds=0.5, now=NOW).accepted == 1
    assert time.monotonic() - t0 < 5
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert ingest_file(store, f, follow=True, stop=stop, now=NOW).duplicates == 1


def test_follow_rejects_geojson(store, tmp_path) -> None:
    with pytest.raises(DataError, match="--follow needs a line format"):
        ingest_file(store, write(tmp_path / "f.geojson", "{}"), follow=True)


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coverage", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def recent(i: int = 0) -> str:
    return datetime.now(UTC).replace(microsecond=i).isoformat()


def test_stdin_ndjson_and_json_summary(tmp_path) -> None:
    lines = [json.dumps({"officer_id": f"S{i}", "lat": 34, "lon": 71.5, "timestamp": recent()})
             for i in range(3)] + ["{broken"]
    run = run_cli("ingest", "--db", f"sqlite:///{tmp_path}/s.db", "--from", "-",
                  "--input-format", "ndjson", "--format", "json", stdin="\n".join(lines) + "\n")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert {k: out[k] for k in ("input", "read", "accepted", "duplicates", "rejected")} == {
        "input": "stdin", "read": 4, "accepted": 3, "duplicates": 0, "rejected": 1}


def test_cli_positions_and_rejects_contract(tmp_path, capsys) -> None:
    db = f"sqlite:///{tmp_path}/p.db"
    f = write(tmp_path / "f.csv", HEADER + f"A,34,71.5,{recent()},on_duty,,\n"
              "B,34,71.5,2020-01-01T00:00:00Z,,,\nC,x,71.5,2026-11-25T08:00:00+05:00,,,\n")
    assert main(["ingest", "--db", db, "--from", str(f)]) == 0
    assert "3 read: 2 accepted, 0 duplicates, 1 rejected" in capsys.readouterr().out
    assert main(["positions", "--db", db, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r)[:5] for r in rows] == [["officer_id", "lat", "lon", "timestamp", "stale"]] * 2
    assert [(r["officer_id"], r["stale"]) for r in rows] == [("A", False), ("B", True)]
    assert main(["positions", "--db", db, "--format", "json", "--stale-after-s", "1e10"]) == 0
    assert not any(r["stale"] for r in json.loads(capsys.readouterr().out))
    assert main(["positions", "--db", db, "--rejects", "--format", "json"]) == 0
    (rej,) = json.loads(capsys.readouterr().out)
    assert list(rej)[:3] == ["line", "reason", "raw"]
    assert rej["line"] == 4
    assert main(["positions", "--db", db, "--rejects"]) == 0
    assert "lat 'x' is not a number" in capsys.readouterr().out


def test_cli_errors_exit_2(tmp_path) -> None:
    run = run_cli("ingest", "--db", f"sqlite:///{tmp_path}/e.db", "--from",
                  str(write(tmp_path / "f.csv", "a,b\n1,2\n")))
    assert run.returncode == 2
    assert "error: f.csv: line 1: missing required column(s)" in run.stderr
    assert "Traceback" not in run.stderr
    run = run_cli("positions", "--db", "nosuch://x")
    assert (run.returncode, "Traceback" in run.stderr) == (2, False)


def test_sigterm_stops_follow_cleanly(tmp_path) -> None:
    f = write(tmp_path / "live.csv", HEADER)
    db = tmp_path / "t.db"
    proc = subprocess.Popen([sys.executable, "-m", "coverage", "ingest", "--db",
                             f"sqlite:///{db}", "--from", str(f), "--follow", "--max-seconds",
                             "60"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        with open(f, "a", encoding="utf-8") as fh:
            fh.write(f"A,34,71.5,{recent()},,,\n")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _rows(db, "latest_positions"):
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "1 read: 1 accepted" in out


def _rows(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            value = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        conn.close()
        return int(value)
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _count(url: str, table: str) -> int:
    try:
        with open_store(url, migrate=False) as s:
            return s.count(table)
    except StoreError:  # tables not created yet
        return 0


@pytest.mark.slow
def test_sigkill_mid_ingest_loses_nothing_committed(url, tmp_path) -> None:
    n = 60_000
    base = to_us(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    f = tmp_path / "big.csv"
    with open(f, "w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(n):
            fh.write(f"K{i % 500},34.{i % 997:03d},71.5,"
                     f"{datetime.fromtimestamp((base + i * 1000) / 1e6, UTC).isoformat()},,,\n")
    cmd = [sys.executable, "-m", "coverage", "ingest", "--db", url, "--from", str(f),
           "--batch-size", "300"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _count(url, "positions") < 3000:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with open_store(url) as store:
        committed = store.count("positions")
        assert 0 < committed < n, "the ingester finished before it could be killed"
        (run,) = store.ingests()
        assert run.finished_at is None
        # nothing half-written: the run's counters cover exactly the rows stored
        assert run.accepted == committed == run.read
        assert store.count("latest_positions") == 500
        again = ingest_file(store, f, now=NOW)
        assert again.read == n
        assert again.read == again.accepted + again.duplicates + again.rejected
        assert (again.duplicates, again.rejected) == (committed, 0)
        assert store.count("positions") == n
        if store.dialect == "sqlite":
            assert store.query("PRAGMA integrity_check") == [("ok",)]


# --- hardening (issue 15): every record counted once, broken ones are one reject each --------


def row(oid: str, minute: int = 0) -> str:
    return f"{oid},34.0,71.5,2026-11-25T07:{minute:02d}:00+05:00,on_duty,20,90"


@pytest.mark.parametrize(("text", "reason"), [
    ("KP-2,3_4.0,71.5,2026-11-25T08:00:00+05:00,,,", "lat '3_4.0' is not a number"),
    ("KP-2,\u0663\u0664,71.5,2026-11-25T08:00:00+05:00,,,", "is not a number"),
    ("KP-2,34,71.5,\u0662\u0660\u0662\u0666-11-25T08:00:00+05:00,,,", "is not an ISO 8601"),
    ("KP\x002,34,71.5,2026-11-25T08:00:00+05:00,,,", "officer_id holds a control character"),
    ("KP-2,34,71.5,2026-11-25T08:00:00+05:00,,1e308,", "speed_kph 1e308 is outside 0..400"),
])
def test_numbers_ids_and_times_a_device_would_not_send(store, tmp_path, text, reason) -> None:
    f = write(tmp_path / "feed.csv", HEADER + GOOD + text + "\n")
    res = ingest(store, f)
    assert (res.read, res.accepted, res.rejected) == (2, 1, 1)
    assert reason in store.rejects()[0].reason


def test_bare_cr_inside_a_record_is_one_reject_and_a_rerun_works(store, tmp_path) -> None:
    f = tmp_path / "feed.csv"
    f.write_bytes((HEADER + row("A") + "\n" + "KP-2,34.0\r,71.5,2026-11-25T08:00:00+05:00,,,\n"
                   + row("B") + "\n").encode())
    res = ingest(store, f)
    assert (res.read, res.accepted, res.duplicates, res.rejected) == (3, 2, 0, 1)
    (rej,) = store.rejects()
    assert (rej.line, "carriage return" in rej.reason) == (3, True)
    again = ingest(store, f)  # a restart reads the same file to its end
    assert (again.read, again.accepted, again.duplicates, again.rejected) == (3, 0, 2, 1)


@pytest.mark.parametrize("follow", [False, True])
def test_cr_only_line_endings(store, tmp_path, follow: bool) -> None:
    f = tmp_path / "feed.csv"
    f.write_bytes((HEADER.rstrip("\n") + "\r" + "\r".join(row(f"C{i}", i) for i in range(3))
                   + "\r").encode())
    res = ingest(store, f, follow=follow, idle_s=0.5, max_seconds=20)
    assert (res.read, res.accepted, res.rejected) == (3, 3, 0)


@pytest.mark.parametrize("follow", [False, True])
def test_stray_quote_is_one_reject_and_the_records_after_it_are_read(store, tmp_path,
                                                                    follow: bool) -> None:
    rows = [row(f"Q{i}", i % 60) for i in range(399)]
    f = write(tmp_path / "feed.csv", HEADER + 'KP-"9,34.0,71.5,2026-11-25T08:00:00+05:00,,,\n'
              + '"KP-9,34.0,71.5,2026-11-25T08:00:00+05:00,,,\n' + "\n".join(rows) + "\n")
    res = ingest(store, f, follow=follow, idle_s=0.5, max_seconds=20)
    assert (res.read, res.accepted, res.rejected) == (401, 400, 1)  # KP-"9: a literal quote
    (rej,) = store.rejects()
    assert (rej.line, rej.reason) == (3, "has a quoted field that never ends")
    assert rej.raw == '"KP-9,34.0,71.5,2026-11-25T08:00:00+05:00,,,'


def test_quoted_line_break_still_spans_lines_next_to_a_stray_quote(store, tmp_path) -> None:
    f = write(tmp_path / "feed.csv", HEADER + '"multi\nline",34,71.5,2026-11-25T08:00:00+05:00'
              ',,,\n"stray,34,71.5,2026-11-25T08:00:00+05:00,,,\n' + GOOD)
    res = ingest(store, f)
    assert (res.read, res.accepted, res.rejected) == (3, 2, 1)
    assert {p.officer_id for p in store.latest_positions()} == {"multi\nline", "KP-1"}


def test_stdin_with_bare_cr_and_cr_only_input(tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    rows = [f"S{i},34,71.5,{recent(i)},on_duty,," for i in range(3)]
    mixed = HEADER + rows[0] + "\nS9,34\r,71.5," + recent() + ",,,\n" + rows[1] + "\n"
    run = run_cli("ingest", "--db", db, "--from", "-", "--format", "json", stdin=mixed)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert (out["read"], out["accepted"], out["rejected"]) == (3, 2, 1)
    cr_only = subprocess.run(
        [sys.executable, "-m", "coverage", "ingest", "--db", db, "--from", "-", "--format",
         "json"], cwd=ROOT, input=(HEADER.rstrip("\n") + "\r" + "\r".join(rows)).encode(),
        capture_output=True, timeout=120, check=False)
    assert cr_only.returncode == 0, cr_only.stderr
    out = json.loads(cr_only.stdout)
    assert (out["read"], out["accepted"], out["duplicates"]) == (3, 1, 2)


def test_stdin_commits_small_batches(store, monkeypatch) -> None:
    import io

    rows = "".join(row(f"B{i}", i % 60).replace("KP", "B") + "\n" for i in range(120))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO((HEADER + rows).encode())))
    sizes: list[int] = []
    write_batch = store.write_batch

    def spy(ingest_id, positions, rejects):
        sizes.append(len(positions) + len(rejects))
        return write_batch(ingest_id, positions, rejects)

    monkeypatch.setattr(store, "write_batch", spy)
    res = ingest_file(store, "-", now=NOW)
    assert (res.read, sum(sizes)) == (120, 120)
    assert max(sizes) <= 50  # a kill loses at most one small batch of a stream


def test_ingest_help_says_stdin_is_at_most_once(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert "at-most-once" in capsys.readouterr().out


@pytest.mark.parametrize(("header", "message"), [
    (HEADER.rstrip("\n") + ",status\n", r"column\(s\) named more than once: 'status' "
                                        r"\(columns 5 and 8\)"),
    (HEADER.replace(",", ";"), "this file uses ';' to separate values"),
])
def test_repeated_column_or_semicolons_refuse_the_feed(store, tmp_path, header, message) -> None:
    with pytest.raises(DataError, match=rf"f\.csv: line 1: {message}"):
        ingest(store, write(tmp_path / "f.csv", header + GOOD))
