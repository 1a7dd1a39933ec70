"""The real feed server: ``python -m coverage serve-feed`` on a free port, driven over HTTP.

OsmAnd (query, form, JSON) and Traccar forwarding payloads as docs/live-ops.md shows them,
bad records, wrong tokens, concurrent keep-alive clients, and kill -9 mid-stream followed
by a restart; the store is read back each time.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from coverage.cli.main import main
from coverage.ops import audit
from coverage.ops.store import open_store
from coverage.ops.tokens import add_token
from tests.support import pg
from tests.support.tiny import ROOT, write


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coverage", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """``python -m coverage ARGS`` in this process (fast): exit code, stdout, stderr."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def server(db: str, *args: str, env: dict[str, str] | None = None
           ) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A serve-feed process on a free port; yields (base URL, process); SIGTERM at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "coverage", "serve-feed", "--db", db, "--port", "0",
         "--format", "json", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **(env or {})})
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 90)
        assert ready, "serve-feed did not start"
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        started = json.loads(line)
        assert started["event"] == "listening"
        yield started["url"], proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def stopped(proc: subprocess.Popen[str]) -> dict:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return json.loads(out.strip().splitlines()[-1])


def iso(seconds_ago: float = 0.0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat(
        timespec="milliseconds")


def epoch(seconds_ago: float = 0.0) -> int:
    return int(datetime.now(UTC).timestamp() - seconds_ago)


@pytest.fixture
def tokens(tmp_path: Path) -> tuple[Path, str]:
    f = tmp_path / "feed-tokens.csv"
    return f, add_token(f, "traccar-server")


def test_documented_payloads_bad_records_and_wrong_tokens(tmp_path, tokens) -> None:
    tokens_file, token = tokens
    db = f"sqlite:///{tmp_path}/feed.db"
    devices = write(tmp_path / "devices.csv",
                    "device_id,officer_id\n48241179,KP-0001\n868618052108909,KP-0002\n"
                    "PHONE-3,KP-0003\nPHONE-4,KP-0004\n")
    t = epoch(120)
    with server(db, "--tokens", str(tokens_file), "--devices", str(devices)) as (url, proc), \
            httpx.Client(base_url=url, timeout=30) as http:
        # the payloads of docs/live-ops.md
        osmand_query = http.get("/", params={
            "id": "PHONE-3", "lat": "34.0151", "lon": "71.5249", "timestamp": str(t),
            "speed": "12.5", "bearing": "270", "altitude": "350", "accuracy": "8", "batt": "76",
            "token": token})
        osmand_form = http.post("/", params={"token": token}, data={
            "id": "PHONE-4", "lat": "34.0160", "lon": "71.5300", "timestamp":
            datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S"), "speed": "0"})
        osmand_json = http.post("/", headers={"Authorization": f"Bearer {token}"}, json={
            "location": {"timestamp": iso(120), "coords": {
                "latitude": 34.0123, "longitude": 71.5612, "accuracy": 5, "speed": 8.3,
                "heading": 92.5, "altitude": 341}, "is_moving": True, "odometer": 1520,
                "event": "motionchange", "battery": {"level": 0.76, "is_charging": False},
                "activity": {"type": "in_vehicle"}, "extras": {}},
            "device_id": "48241179"})
        traccar = http.post("/traccar", headers={"Authorization": f"Bearer {token}"}, json={
            "position": {"id": 12345, "attributes": {"batteryLevel": 85, "motion": True},
                         "deviceId": 10, "protocol": "osmand", "serverTime": iso(119),
                         "deviceTime": iso(120), "fixTime": iso(120), "outdated": False,
                         "valid": True, "latitude": 34.0089, "longitude": 71.5785,
                         "altitude": 340.0, "speed": 13.5, "course": 180.0, "address": None,
                         "accuracy": 0.0, "network": None},
            "device": {"id": 10, "name": "Mobile 7", "uniqueId": "868618052108909",
                       "status": "online", "lastUpdate": iso(119), "positionId": 12345,
                       "groupId": 2, "phone": None, "model": None, "contact": None,
                       "category": "car", "disabled": False}})
        assert [r.status_code for r in (osmand_query, osmand_form, osmand_json, traccar)] == [
            200, 200, 200, 200]
        # bad records: 400 with the reason
        bad = [http.get("/", params={"id": "PHONE-3", "lat": "95", "lon": "71.5",
                                     "timestamp": str(t), "token": token}),
               http.get("/", params={"id": "UNKNOWN", "lat": "34", "lon": "71.5",
                                     "timestamp": str(t), "token": token}),
               http.post("/traccar", params={"token": token}, content=b'{"position": ',
                         headers={"Content-Type": "application/json"})]
        assert [r.status_code for r in bad] == [400, 400, 400]
        assert "lat 95 is outside -90..90" in bad[0].json()["error"]
        assert "device 'UNKNOWN' is not in devices.csv" in bad[1].json()["error"]
        assert "body is not valid JSON" in bad[2].json()["error"]
        # wrong and missing tokens: 401, nothing stored
        wrong = [http.get("/", params={"id": "PHONE-3", "lat": "34", "lon": "71.5",
                                       "timestamp": str(t), "token": "guess"}),
                 http.post("/traccar", json={}),
                 http.post("/", headers={"Authorization": "Bearer guess"}, json={}),
                 *[http.get("/", params={"token": f"guess{i}"}) for i in range(2)]]
        assert {r.status_code for r in wrong} == {401}
        assert all("Traceback" not in r.text for r in (*bad, *wrong))
        assert http.get("/health").json() == {"status": "ok"}
        done = stopped(proc)
    assert {k: done[k] for k in ("read", "accepted", "duplicates", "rejected")} == {
        "read": 7, "accepted": 4, "duplicates": 0, "rejected": 3}
    with open_store(db) as store:
        latest = {p.officer_id: p for p in store.latest_positions()}
        assert sorted(latest) == ["KP-0001", "KP-0002", "KP-0003", "KP-0004"]
        assert latest["KP-0003"].speed_kph == pytest.approx(12.5 * 1.852)
        assert latest["KP-0003"].heading_deg == 270.0
        assert latest["KP-0001"].speed_kph == pytest.approx(8.3 * 3.6)
        assert (latest["KP-0002"].lat, latest["KP-0002"].heading_deg) == (34.0089, 180.0)
        assert latest["KP-0004"].ts_us == latest["KP-0003"].ts_us == t * 1_000_000
        reasons = [r.reason for r in store.rejects()]
        assert len(reasons) == 3
        assert not any(token in r.raw for r in store.rejects())
        (entry,) = audit.query(store, action="feed_token_failed")
        assert entry.details["failures"] == 5
        (run,) = store.ingests()
        assert run.finished_at is not None


def test_concurrent_keep_alive_clients(tmp_path) -> None:
    db = f"sqlite:///{tmp_path}/conc.db"
    clients, each = 16, 25
    codes: list[int] = []
    lock = threading.Lock()
    with server(db) as (url, proc):

        def run(c: int) -> None:
            got = []
            with httpx.Client(base_url=url, timeout=60) as http:
                for i in range(each):  # officer C<c> moves north, one report a second
                    got.append(http.post("/", json={"device_id": f"C{c}", "location": {
                        "timestamp": iso(each - i), "coords": {
                            "latitude": 34.0 + i / 1000, "longitude": 71.5}}}).status_code)
            with lock:
                codes.extend(got)

        threads = [threading.Thread(target=run, args=(c,)) for c in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        done = stopped(proc)
    assert codes == [200] * (clients * each)
    assert (done["accepted"], done["rejected"]) == (clients * each, 0)
    with open_store(db) as store:
        assert store.count("positions") == clients * each
        latest = store.latest_positions()
        assert len(latest) == clients
        assert {p.lat for p in latest} == {34.0 + (each - 1) / 1000}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_mid_stream_loses_nothing_acknowledged(tmp_path, backend) -> None:
    db = pg.backend_url(backend, tmp_path)
    sent: list[tuple[str, str]] = []
    lats: list[float] = []
    acked: list[tuple[str, str]] = []
    stop = threading.Event()

    def stream(url: str) -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            i = 0
            while not stop.is_set() and i < 5000:
                body = {"device_id": f"K{i % 7}", "location": {
                    "timestamp": iso(5000 - i), "coords": {"latitude": 34 + i / 1e5,
                                                           "longitude": 71.5}}}
                sent.append((body["device_id"], body["location"]["timestamp"]))
                lats.append(34 + i / 1e5)
                try:
                    ok = http.post("/", json=body).status_code == 200
                except httpx.HTTPError:
                    return  # the server is gone
                if ok:
                    acked.append(sent[-1])
                i += 1

    with server(db) as (url, proc):
        feeder = threading.Thread(target=stream, args=(url,))
        feeder.start()
        while len(acked) < 300 and feeder.is_alive():
            feeder.join(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        stop.set()
        feeder.join(30)
    assert len(acked) >= 300
    with open_store(db) as store:
        stored = {(p.officer_id, p.timestamp) for p in store.history()}
        (run,) = store.ingests()
    assert set(acked) <= stored, "an acknowledged position was lost"
    assert run.finished_at is None  # killed, not stopped
    assert run.accepted == len(stored)  # nothing half-written
    # restart on the same store: everything sent again, the committed ones are duplicates
    with server(db) as (url, proc), httpx.Client(base_url=url, timeout=30) as http:
        for (device, stamp), lat in zip(sent, lats, strict=True):
            assert http.post("/", json={"device_id": device, "location": {
                "timestamp": stamp, "coords": {"latitude": lat, "longitude": 71.5}}}
                             ).status_code == 200
        done = stopped(proc)
    assert done["duplicates"] == len(stored)
    assert done["accepted"] == len(sent) - len(stored)
    with open_store(db) as store:
        assert store.count("positions") == len(sent)
        if store.dialect == "sqlite":
            assert store.query("PRAGMA integrity_check") == [("ok",)]


def test_no_token_binds_loopback_only(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SECCOV_FEED_TOKEN", raising=False)
    code, _, err = run_main(capsys, "serve-feed", "--db", f"sqlite:///{tmp_path}/x.db",
                            "--host", "0.0.0.0")
    assert code == 2
    assert "refusing to listen on 0.0.0.0 without a token" in err
    assert "Traceback" not in err
    code, _, err = run_main(capsys, "serve-feed", "--db", f"sqlite:///{tmp_path}/x.db",
                            "--token", "short")
    assert (code, "at least 16 characters" in err) == (2, True)
    with server(f"sqlite:///{tmp_path}/x.db") as (url, proc):
        assert url.startswith("http://127.0.0.1:")
        stopped(proc)


def test_env_token_and_public_host(tmp_path) -> None:
    token = "an-environment-token-0123456789"
    with server(f"sqlite:///{tmp_path}/e.db", "--host", "0.0.0.0",
                env={"SECCOV_FEED_TOKEN": token}) as (url, proc):
        base = url.replace("0.0.0.0", "127.0.0.1")
        with httpx.Client(base_url=base, timeout=30) as http:
            body = {"device_id": "E1", "location": {"timestamp": iso(),
                                                    "coords": {"latitude": 34, "longitude": 71}}}
            assert http.post("/", json=body).status_code == 401
            assert http.post("/", json=body, params={"token": token}).status_code == 200
        assert stopped(proc)["accepted"] == 1


def test_devices_and_tokens_commands(tmp_path, capsys) -> None:
    devices, tokens = str(tmp_path / "devices.csv"), str(tmp_path / "tokens.csv")
    assert run_main(capsys, "devices", "add", "P1", "--officer", "KP-1", "--devices",
                    devices)[0] == 0
    _, out, _ = run_main(capsys, "devices", "add", "P2", "--officer", "KP-2", "--devices",
                         devices, "--format", "json")
    assert json.loads(out) == {"action": "add", "device_id": "P2", "officer_id": "KP-2"}
    _, out, _ = run_main(capsys, "devices", "list", "--devices", devices, "--format", "json")
    assert json.loads(out) == [{"device_id": "P1", "officer_id": "KP-1"},
                               {"device_id": "P2", "officer_id": "KP-2"}]
    _, out, _ = run_main(capsys, "devices", "list", "--devices", devices, "--db",
                         f"sqlite:///{tmp_path}/d.db", "--format", "json")
    assert [(r["device_id"], r["age_s"], r["stale"]) for r in json.loads(out)] == [
        ("P1", None, True), ("P2", None, True)]
    assert run_main(capsys, "devices", "remove", "P1", "--devices", devices)[0] == 0
    code, _, err = run_main(capsys, "devices", "remove", "P1", "--devices", devices)
    assert (code, "no device 'P1'" in err) == (2, True)
    _, out, err = run_main(capsys, "tokens", "add", "phone-1", "--tokens", tokens)
    token = out.strip()
    assert len(token) >= 40
    assert "shown only now" in err
    _, out, _ = run_main(capsys, "tokens", "list", "--tokens", tokens, "--format", "json")
    (row,) = json.loads(out)
    assert row["name"] == "phone-1"
    assert token not in out
    assert run_main(capsys, "tokens", "revoke", "phone-1", "--tokens", tokens)[0] == 0
    assert "(none)" in run_main(capsys, "tokens", "list", "--tokens", tokens)[1]


def test_simulate_feed_via_the_real_endpoint(tmp_path, tiny_inputs) -> None:
    db = f"sqlite:///{tmp_path}/sim.db"
    with server(db) as (url, proc):
        run = cli("simulate-feed", "--via", url + "/", "--roads", str(tiny_inputs["roads"]),
                  "--stations", str(tiny_inputs["stations"]), "--officers",
                  str(tiny_inputs["officers"]), "--seconds", "20", "--interval-s", "10",
                  "--format", "json")
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        done = stopped(proc)
    assert (out["officers"], out["read"], out["accepted"]) == (3, 9, 9)
    assert done["accepted"] == 9
    with open_store(db) as store:
        latest = store.latest_positions()
        assert sorted(p.officer_id for p in latest) == ["A", "B", "D"]
        assert {p.source for p in latest} == {"simulated"}


def test_rate_limit_429_and_the_client_waiting_it_out(tmp_path) -> None:
    from coverage.ops.feedclient import osmand_body, post_positions

    db = f"sqlite:///{tmp_path}/rate.db"
    bodies = [osmand_body("R1", 34.0, 71.5 + i / 1000, iso(60 - i)) for i in range(6)]
    with server(db, "--device-rate-per-s", "5", "--device-burst", "2") as (url, proc):
        with httpx.Client(base_url=url, timeout=30) as http:
            codes = [http.post("/", json=b).status_code for b in bodies[:3]]
        assert codes == [200, 200, 429]
        counts = post_positions(url + "/", bodies, connections=1)
        done = stopped(proc)
    assert (counts.sent, counts.ok, counts.failed) == (6, 6, 0)
    assert (done["accepted"], done["duplicates"]) == (6, 2)


@pytest.mark.parametrize("port", ["65536", "99999", "-1"])
def test_port_out_of_range_is_an_argument_error(tmp_path, capsys, port) -> None:
    with pytest.raises(SystemExit) as stop:
        run_main(capsys, "serve-feed", "--db", f"sqlite:///{tmp_path}/x.db", "--port", port)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --port: must be a whole number from 0 to 65535" in err
    assert "Traceback" not in err


def test_bad_tokens_and_missing_folders_exit_2(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SECCOV_FEED_TOKEN", raising=False)
    bad = tmp_path / "tokens.csv"
    bad.write_bytes(b"name,sha256,created_at\n\xff\xfe\n")
    for argv in (["tokens", "list", "--tokens", str(bad)],
                 ["serve-feed", "--db", f"sqlite:///{tmp_path}/x.db", "--tokens", str(bad)]):
        code, _, err = run_main(capsys, *argv)
        assert code == 2, argv
        assert "error: tokens.csv: is not UTF-8 text" in err
        assert "Traceback" not in err
    missing = tmp_path / "missing_dir"
    for argv, name in ((["tokens", "add", "phone-1", "--tokens", str(missing / "t.csv")],
                        "t.csv"),
                       (["devices", "add", "P1", "--officer", "KP-1", "--devices",
                         str(missing / "d.csv")], "d.csv")):
        code, _, err = run_main(capsys, *argv)
        assert code == 2, argv
        assert f"error: {name}: folder {missing} does not exist; create it first" in err
        assert "Traceback" not in err


@pytest.mark.parametrize(("args", "says"), [
    ((), "token not required"),
    (("--token", "a-long-enough-token-0123456789"), "token required;"),
])
def test_banner_says_whether_a_token_is_required(tmp_path, capsys, monkeypatch, args,
                                                 says) -> None:
    from coverage.ops import httpfeed

    monkeypatch.delenv("SECCOV_FEED_TOKEN", raising=False)

    def fake_serve(store, *, ready, **_kw):
        ready("http://127.0.0.1:5055")
        return httpfeed.FeedRun("http://127.0.0.1:5055", 1, 0, 0, 0, 0)

    monkeypatch.setattr(httpfeed, "serve_feed", fake_serve)
    code, out, _ = run_main(capsys, "serve-feed", "--db", f"sqlite:///{tmp_path}/x.db", *args)
    assert code == 0
    assert says in out
    assert "required required" not in out
