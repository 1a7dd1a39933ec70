"""HTTP feed in-process: tracker payloads, tokens, devices, limits (Starlette's TestClient).

The real server (a ``serve-feed`` process, kill -9, concurrent clients) is tested in
tests/cli/test_serve_feed.py.
"""

from __future__ import annotations

import contextlib
import json
import math
import stat
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from coverage.errors import DataError
from coverage.ops import audit, registry
from coverage.ops._groupcommit import GroupWriter
from coverage.ops._trackers import FORMS, osmand_json, osmand_params, timestamp_text, traccar_json
from coverage.ops.devices import (
    device_ages,
    parse_devices,
    read_devices,
    remove_device,
    set_device,
)
from coverage.ops.feed import validate
from coverage.ops.httpfeed import (
    FeedApp,
    FeedError,
    Limits,
    RateLimit,
    Watched,
    bind,
    is_loopback,
    watch_tokens,
)
from coverage.ops.store import Store, open_store, to_us
from coverage.ops.tokens import TokenCheck, add_token, read_tokens, revoke_token
from tests.support.tiny import write

with warnings.catch_warnings():  # Starlette 1.x prefers httpx2 here; httpx (locked) works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "s3cret-token-for-tests-0123456789"


def now_iso(seconds_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat(
        timespec="milliseconds")


def epoch(seconds_ago: float = 0) -> int:
    return int(datetime.now(UTC).timestamp() - seconds_ago)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path}/feed.db") as s:
        yield s


def make_client(store: Store, **kw) -> tuple[TestClient, GroupWriter]:
    writer = GroupWriter(store, "serve-feed test")
    feed = FeedApp(writer, **kw)
    return TestClient(feed.app, raise_server_exceptions=False), writer


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    c, writer = make_client(store, tokens=TokenCheck.single(TOKEN))
    with c:
        yield c
    writer.close()


def auth(**params) -> dict:
    return {"token": TOKEN, **params}


# --- payload translation -----------------------------------------------------------------

def test_timestamp_forms() -> None:
    assert timestamp_text("1764300000") == ("2025-11-28T03:20:00+00:00", None)
    assert timestamp_text(1764300000123) == ("2025-11-28T03:20:00.123+00:00", None)
    assert timestamp_text("1764300000.5") == ("2025-11-28T03:20:00.500+00:00", None)
    assert timestamp_text("2026-11-25 08:00:00") == ("2026-11-25T08:00:00Z", None)
    assert timestamp_text("2026-11-25T08:00:00+05:00") == ("2026-11-25T08:00:00+05:00", None)
    assert timestamp_text(None) == (None, None)
    assert timestamp_text(True)[1] == "timestamp is a JSON bool, not a time"
    assert "is not a valid time" in (timestamp_text("9" * 16)[1] or "")


def test_osmand_params_units_location_and_problems() -> None:
    r = osmand_params({"deviceid": "P1", "location": "34.5,71.25", "timestamp": "1764300000",
                       "speed": "10", "bearing": "90", "batt": "80"})
    assert (r.device_id, r.problems) == ("P1", ())
    assert r.fields == {"lat": "34.5", "lon": "71.25", "timestamp": "2025-11-28T03:20:00+00:00",
                        "speed_kph": 18.52, "heading_deg": "90"}
    r = osmand_params({"lat": "1", "speed": "fast", "valid": "false"})
    assert r.device_id is None
    assert r.problems == (
        "id is missing; give id (or deviceid): the device identifier",
        "lon is missing; give lat and lon (or location=lat,lon)",
        f"timestamp is missing; give the fix time ({FORMS})",
        "speed 'fast' is not a number; give knots >= 0",
        "valid is false: the device has no GPS fix; not stored as a position")


def test_osmand_json_speed_in_m_per_s_and_unknown_heading() -> None:
    r = osmand_json({"device_id": 48241179, "location": {
        "timestamp": "2026-11-25T03:00:00.000Z", "is_moving": True,
        "coords": {"latitude": 34.0, "longitude": 71.5, "speed": 10, "heading": -1,
                   "accuracy": 5, "altitude": 300}, "battery": {"level": 0.5}}})
    assert (r.device_id, r.problems, r.simulated) == ("48241179", (), False)
    assert r.fields == {"lat": 34.0, "lon": 71.5, "timestamp": "2026-11-25T03:00:00.000Z",
                        "speed_kph": 36.0}
    r = osmand_json({"device_id": "X", "location": [{}]})
    assert r.problems == ("location is a JSON list; send one location object per request",)
    assert osmand_json({"device_id": "X", "location": {
        "timestamp": "2026-11-25T03:00:00Z", "coords": {"latitude": 1, "longitude": 2},
        "extras": {"simulated": True}}}).simulated


def test_traccar_json_knots_and_device_unique_id() -> None:
    r = traccar_json({"position": {"id": 7, "deviceId": 3, "protocol": "osmand",
                                   "fixTime": "2026-11-25T03:00:00.000+00:00", "valid": True,
                                   "latitude": 34.0, "longitude": 71.5, "speed": 10.0,
                                   "course": 45.0, "attributes": {"batteryLevel": 80}},
                      "device": {"id": 3, "name": "Car 1", "uniqueId": "868618052108909"}})
    assert (r.device_id, r.problems) == ("868618052108909", ())
    assert r.fields["speed_kph"] == 18.52
    assert r.fields["heading_deg"] == 45.0
    r = traccar_json({"position": {"valid": False, "latitude": 1, "longitude": 2,
                                   "fixTime": 1764300000000}, "device": {"name": "x"}})
    assert r.problems == (
        "device.uniqueId is missing; Traccar forwarding sends the device with its uniqueId",
        "position.valid is false: the device has no GPS fix; not stored as a position")


# --- the application ---------------------------------------------------------------------

def test_osmand_query_form_json_and_traccar_are_stored(client, store) -> None:
    t = epoch(60)
    assert client.get("/", params=auth(id="Q", lat="34.01", lon="71.51", timestamp=str(t),
                                       speed="10", bearing="90")).status_code == 200
    r = client.post("/", params={"token": TOKEN}, data={
        "id": "F", "lat": "34.02", "lon": "71.52", "timestamp": datetime.fromtimestamp(
            t, UTC).strftime("%Y-%m-%d %H:%M:%S")})
    assert r.status_code == 200
    r = client.post("/", headers={"Authorization": f"Bearer {TOKEN}"}, json={
        "device_id": "J", "location": {"timestamp": now_iso(60), "coords": {
            "latitude": 34.03, "longitude": 71.53, "speed": 5, "heading": 180}}})
    assert r.status_code == 200
    r = client.post("/traccar", params={"token": TOKEN}, json={
        "position": {"fixTime": now_iso(60), "latitude": 34.04, "longitude": 71.54,
                     "speed": 2, "course": 270, "valid": True},
        "device": {"uniqueId": "T", "name": "Car"}})
    assert (r.status_code, r.content) == (200, b"")
    latest = {p.officer_id: p for p in store.latest_positions()}
    assert sorted(latest) == ["F", "J", "Q", "T"]
    assert (latest["Q"].lat, latest["Q"].lon, latest["Q"].speed_kph,
            latest["Q"].heading_deg) == (34.01, 71.51, 18.52, 90.0)
    assert latest["Q"].ts_us == t * 1_000_000 == latest["F"].ts_us
    assert latest["J"].speed_kph == 18.0
    assert latest["T"].speed_kph == pytest.approx(3.704)
    assert {p.source for p in latest.values()} == {"feed"}
    assert store.count("rejects") == 0


def test_bad_requests_are_400_with_reason_and_kept_in_rejects(client, store) -> None:
    r = client.get("/", params=auth(id="B", lat="91", lon="x", timestamp="abc"))
    assert r.status_code == 400
    assert r.json()["error"] == (
        f"timestamp 'abc' is not a time; give {FORMS} | lat 91 is outside -90..90; give "
        "WGS84 decimal degrees | lon 'x' is not a number; give WGS84 decimal degrees")
    cases = [
        (client.get("/", params=auth(lat="34", lon="71", timestamp=str(epoch()))),
         "id is missing"),
        (client.post("/", params=auth(), content=b"{not json",
                     headers={"Content-Type": "application/json"}), "body is not valid JSON"),
        (client.post("/traccar", params=auth(), content=b"[1, 2]"), "body is a JSON list"),
        (client.get("/", params=auth(id="B", lat="0", lon="0", timestamp=str(epoch()))),
         "lat 0 and lon 0: the device has no position fix"),
        (client.get("/", params=auth(id="B", lat="34", lon="71",
                                     timestamp="2026-11-25T08:00:00")), "has no UTC offset"),
        (client.get("/", params=auth(id="B", lat="34", lon="71", timestamp=str(epoch(-3600)))),
         "ahead of the clock"),
        (client.post("/", params=auth(), content=b"\xff\xfe",
                     headers={"Content-Type": "application/x-www-form-urlencoded"}),
         "body is not UTF-8"),
    ]
    for resp, reason in cases:
        assert resp.status_code == 400, resp.text
        assert reason in resp.json()["error"]
    rejects = store.rejects()
    assert len(rejects) == 1 + len(cases)
    assert [r.line for r in rejects] == list(range(1, len(rejects) + 1))
    assert rejects[0].raw == "GET /?id=B&lat=91&lon=x&timestamp=abc"  # the token left out
    assert not any(TOKEN in r.raw for r in rejects)
    assert store.count("positions") == 0
    (run,) = store.ingests()
    assert (run.read, run.accepted, run.rejected) == (len(rejects), 0, len(rejects))


def test_missing_or_wrong_token_is_401_stores_nothing_and_is_audited(client, store) -> None:
    good = {"id": "K", "lat": "34", "lon": "71.5", "timestamp": str(epoch())}
    for i in range(5):
        r = client.get("/", params={**good, "token": f"wrong{i}"} if i else good)
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"
        assert "Traceback" not in r.text
    r = client.post("/traccar", headers={"Authorization": "Bearer nope"}, json={})
    assert r.status_code == 401
    assert client.get("/health").status_code == 200  # the writer has run the audit call
    assert (store.count("positions"), store.count("rejects")) == (0, 0)
    (entry,) = audit.query(store, action="feed_token_failed")
    assert entry.details == {"client": "testclient", "failures": 5, "path": "/"}
    assert client.get("/", params=auth(**good)).status_code == 200


def test_newer_wins_duplicates_harmless(client, store) -> None:
    new, old = epoch(10), epoch(100)
    for t, lat in ((new, "34.1"), (old, "34.0"), (new, "34.1")):
        assert client.get("/", params=auth(id="N", lat=lat, lon="71.5",
                                           timestamp=str(t))).status_code == 200
    (latest,) = store.latest_positions()
    assert (latest.lat, latest.ts_us) == (34.1, new * 1_000_000)
    assert store.count("positions") == 2
    (run,) = store.ingests()
    assert (run.read, run.accepted, run.duplicates) == (3, 2, 1)


def test_body_limit_rate_limit_and_health(store) -> None:
    c, writer = make_client(store, limits=Limits(max_body_bytes=300, device_rate_per_s=0.001,
                                                 device_burst=2))
    with c:
        r = c.post("/", json={"device_id": "L", "pad": "x" * 400})
        assert r.status_code == 413
        assert "larger than 300 bytes" in r.json()["error"]
        codes = [c.get("/", params={"id": "R", "lat": "34", "lon": "71",
                                    "timestamp": str(epoch(i))}).status_code for i in range(3)]
        assert codes == [200, 200, 429]
        assert c.get("/health").json() == {"status": "ok"}
        assert c.put("/").status_code == 405
        assert c.get("/nowhere").status_code == 404
    writer.close()
    assert store.count("positions") == 2
    assert [r.reason.split(";")[0] for r in store.rejects()] == ["body is larger than 300 bytes"]


def test_health_is_503_and_positions_503_when_the_store_cannot_be_written(tmp_path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/gone.db")
    c, writer = make_client(store)
    with c:
        store.close()
        assert c.get("/health").status_code == 503
        r = c.get("/", params={"id": "G", "lat": "34", "lon": "71", "timestamp": str(epoch())})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "5"
        assert "Traceback" not in r.text
        assert "gone.db" not in r.text
    writer.close()  # cannot mark the run finished (logged), and does not hang


def test_devices_file_maps_devices_and_refuses_unknown_ones(store, tmp_path) -> None:
    devices = write(tmp_path / "devices.csv", "device_id,officer_id\nPHONE-1,KP-1\n")
    registry.register_dataset(store, "roster", {}, ["KP-1", "KP-2"])
    watched = Watched(devices, read_devices)
    c, writer = make_client(store, devices=watched)
    with c:
        ok = c.get("/", params={"id": "PHONE-1", "lat": "34", "lon": "71",
                                "timestamp": str(epoch())})
        assert ok.status_code == 200
        r = c.get("/", params={"id": "PHONE-9", "lat": "34", "lon": "71",
                               "timestamp": str(epoch())})
        assert r.status_code == 400
        assert r.json()["error"].startswith("device 'PHONE-9' is not in devices.csv")
        write(devices, "device_id,officer_id\nPHONE-1,KP-1\nPHONE-9,KP-404\n")
        watched._checked = -math.inf
        r = c.get("/", params={"id": "PHONE-9", "lat": "34", "lon": "71",
                               "timestamp": str(epoch())})
        assert r.status_code == 400
        assert "officer_id 'KP-404' is not in the registered officer list" in r.json()["error"]
    writer.close()
    assert [p.officer_id for p in store.latest_positions()] == ["KP-1"]


def test_unknown_officer_rejected_once_a_roster_is_registered(store) -> None:
    registry.register_dataset(store, "roster", {}, ["KP-1"])
    c, writer = make_client(store)
    with c:
        r = c.get("/", params={"id": "KP-404", "lat": "34", "lon": "71",
                               "timestamp": str(epoch())})
        assert r.status_code == 400
        assert "officer_id 'KP-404' is not in the registered officer list" in r.json()["error"]
    writer.close()


def test_simulated_flag_marks_the_source(store) -> None:
    c, writer = make_client(store)
    with c:
        assert c.post("/", json={"device_id": "S", "location": {
            "timestamp": now_iso(), "coords": {"latitude": 34, "longitude": 71.5},
            "extras": {"simulated": True}}}).status_code == 200
    writer.close()
    assert [p.source for p in store.latest_positions()] == ["simulated"]


# --- helpers: rate limit, watched files, loopback ----------------------------------------

def test_rate_limit_refills_over_time() -> None:
    rl = RateLimit(2.0, 3)
    assert [rl.allow("d", now=0.0) for _ in range(4)] == [True, True, True, False]
    assert rl.allow("d", now=0.5)  # one token back after half a second at 2/s
    assert not rl.allow("d", now=0.5)
    assert rl.allow("other", now=0.5)


def test_watched_file_is_reread_and_a_bad_edit_keeps_the_old_contents(tmp_path) -> None:
    f = write(tmp_path / "d.csv", "device_id,officer_id\nA,1\n")
    w = Watched(f, read_devices)
    assert w.get() == {"A": "1"}
    write(f, "device_id,officer_id\nA,1\nB,2\n")
    w._checked = -math.inf
    assert w.get() == {"A": "1", "B": "2"}
    write(f, "device_id\nbroken\n")
    w._checked = -math.inf
    assert w.get() == {"A": "1", "B": "2"}


def test_a_tokens_file_that_turns_bad_fails_closed(store, tmp_path, caplog) -> None:
    f = tmp_path / "tokens.csv"
    token = add_token(f, "phone-1")
    good = f.read_bytes()
    tokens = watch_tokens(f)
    c, writer = make_client(store, tokens=tokens)
    fix = {"id": "K", "lat": "34", "lon": "71.5", "token": token}

    def post() -> int:
        tokens._checked = -math.inf  # as if a second had passed
        return c.get("/", params={**fix, "timestamp": str(epoch())}).status_code

    with c, contextlib.closing(writer):
        assert post() == 200
        f.unlink()  # deleted while the server runs: no token is valid any more
        assert post() == 401
        assert "tokens.csv changed and cannot be read" in caplog.text
        assert "failing closed" in caplog.text
        assert any(r.levelname == "CRITICAL" for r in caplog.records)
        f.write_bytes(good)
        assert post() == 200
        f.write_text("name,sha256\nbroken\n")  # malformed
        assert post() == 401
        f.write_bytes(b"name,sha256,created_at\n\xff\xfe\n")  # not UTF-8
        assert post() == 401
        f.write_bytes(good)
        assert post() == 200
    assert store.count("positions") == 1  # the same position: duplicates after the first


def test_repeated_parameters_are_refused(client, store) -> None:
    fix = {"id": "R", "lon": "71.5", "timestamp": str(epoch())}
    r = client.get("/?" + urlencode([*auth(**fix).items(), ("lat", "34"), ("lat", "35")]))
    assert r.status_code == 400
    assert r.json()["error"].startswith("parameter lat given twice; send each parameter once")
    r = client.post("/", params=auth(lat="34", **fix), content=b"lat=35",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert "parameter lat given twice" in r.json()["error"]
    r = client.post("/", params=auth(), content=b"id=R&id=S&lat=34&lon=71.5&timestamp="
                    + str(epoch()).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "parameter id given twice" in r.json()["error"]
    assert store.count("positions") == 0
    assert client.get("/", params=auth(lat="34", **fix)).status_code == 200


def test_implausibly_old_and_unreadable_timestamps(client, store) -> None:
    fix = {"id": "O", "lat": "34", "lon": "71.5"}
    for stamp in ("0001-01-01T00:00:00Z", "0", "946684799", "1999-12-31 23:59:59"):
        r = client.get("/", params=auth(timestamp=stamp, **fix))
        assert r.status_code == 400, stamp
        assert "is before 2000-01-01: too old to be a real report" in r.json()["error"]
    for stamp in ("1e20", "yesterday", "-5"):
        r = client.get("/", params=auth(timestamp=stamp, **fix))
        assert r.status_code == 400
        assert r.json()["error"] == f"timestamp '{stamp}' is not a time; give {FORMS}"
    assert "epoch milliseconds" in FORMS
    assert "yyyy-MM-dd HH:mm:ss (UTC)" in FORMS
    assert store.count("positions") == 0
    assert client.get("/", params=auth(timestamp="946684800", **fix)).status_code == 200


def test_file_ingest_validation_refuses_old_timestamps_too() -> None:
    now = to_us(datetime(2026, 11, 25, tzinfo=UTC))
    rec = {"officer_id": "A", "lat": "34", "lon": "71.5"}
    bad = validate({**rec, "timestamp": "1999-12-31T23:59:59Z"}, line=1, now=now)
    assert bad == ("timestamp '1999-12-31T23:59:59Z' is before 2000-01-01: too old to be a "
                   "real report; check the device clock")
    assert not isinstance(validate({**rec, "timestamp": "2000-01-01T00:00:00Z"}, line=1,
                                   now=now), str)


def test_bind_refuses_ports_out_of_range() -> None:
    for port in (65536, 99999, -1, 2**70):
        with pytest.raises(FeedError, match=r"give .*0\.\.65535"):
            bind("127.0.0.1", port)


def test_loopback() -> None:
    assert [is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost",
                                     "0.0.0.0", "10.0.0.5", "::")] == [
        True, True, True, True, False, False, False]


# --- tokens and devices files ------------------------------------------------------------

def test_tokens_file_keeps_hashes_only(tmp_path) -> None:
    f = tmp_path / "tokens.csv"
    token = add_token(f, "traccar-server")
    other = add_token(f, "phone-17")
    assert len(token) >= 40
    assert token != other
    text = f.read_text()
    assert token not in text
    assert other not in text
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    check = TokenCheck.from_file(f)
    assert (check.match(token), check.match(other)) == ("traccar-server", "phone-17")
    assert check.match(token + "x") is None
    assert check.match("") is None
    assert check.match(None) is None
    with pytest.raises(DataError, match="exists"):
        add_token(f, "phone-17")
    revoke_token(f, "phone-17")
    assert [r.name for r in read_tokens(f)] == ["traccar-server"]
    assert TokenCheck.from_file(f).match(other) is None
    with pytest.raises(DataError, match="no token called 'phone-17'"):
        revoke_token(f, "phone-17")
    with pytest.raises(DataError, match="at least 16 characters"):
        TokenCheck.single("short")


def test_files_not_utf8_or_in_a_missing_folder_are_data_errors(tmp_path) -> None:
    t = write(tmp_path / "tokens.csv", "")
    t.write_bytes(b"name,sha256,created_at\nph\xf6ne,ab,x\n")
    with pytest.raises(DataError, match=r"^tokens.csv: is not UTF-8 text .*save it as UTF-8"):
        read_tokens(t)
    with pytest.raises(DataError, match=r"tokens\.csv: is not UTF-8"):
        TokenCheck.from_file(t)
    missing = tmp_path / "no_such_dir"
    with pytest.raises(DataError, match=f"t.csv: folder {missing} does not exist; create it "
                                        "first"):
        add_token(missing / "t.csv", "phone-1")
    with pytest.raises(DataError, match=f"d.csv: folder {missing} does not exist; create it "
                                        "first"):
        set_device(missing / "d.csv", "P1", "KP-1")
    assert not missing.exists()


def test_devices_file_problems_listed_with_rows(tmp_path) -> None:
    with pytest.raises(DataError) as err:
        parse_devices("device_id,officer_id\nA,1\n,2\nA,3\nB,\n" + "C," + "x" * 129 + "\n")
    assert str(err.value).splitlines() == [
        "devices.csv: row 3: device_id is empty; give both device_id and officer_id",
        "devices.csv: row 4: device_id 'A' appears again (first on row 2); a device carries "
        "one officer",
        "devices.csv: row 5: officer_id is empty; give both device_id and officer_id",
        "devices.csv: row 6: officer_id is 129 characters long; at most 128"]
    with pytest.raises(DataError, match="missing column"):
        parse_devices("device,officer\n")
    f = tmp_path / "devices.csv"
    set_device(f, "P2", "KP-2")
    set_device(f, "P1", "KP-1")
    set_device(f, "P2", "KP-3")  # moved to another officer
    assert read_devices(f) == {"P1": "KP-1", "P2": "KP-3"}
    assert f.read_text() == "device_id,officer_id\nP1,KP-1\nP2,KP-3\n"
    assert remove_device(f, "P1") == {"P2": "KP-3"}
    with pytest.raises(DataError, match="no device 'P1'"):
        remove_device(f, "P1")


def test_device_ages(store) -> None:
    from coverage.ops.store import Position

    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    ingest = store.begin_ingest("t", "http", "feed")
    store.write_batch(ingest, [
        Position("KP-1", 34, 71.5, to_us(now) - 30_000_000, "a"),
        Position("KP-2", 34, 71.5, to_us(now) - 900_000_000, "b", source="simulated")], [])
    ages = device_ages(store, {"P1": "KP-1", "P2": "KP-2", "P3": "KP-3"}, now=now,
                       stale_after_s=300)
    assert list(ages.columns) == ["device_id", "officer_id", "last_report", "age_s", "stale",
                                  "source"]
    assert ages["device_id"].tolist() == ["P1", "P2", "P3"]
    assert ages["age_s"].tolist()[:2] == [30.0, 900.0]
    assert math.isnan(ages["age_s"][2])
    assert ages["stale"].tolist() == [False, True, True]
    assert ages["source"].tolist() == ["feed", "simulated", None]
    assert str(ages["last_report"].dtype).endswith(", UTC]")
    assert ages["last_report"][0] == now - timedelta(seconds=30)
    own = device_ages(store, now=now)
    assert own["device_id"].tolist() == own["officer_id"].tolist() == ["KP-1", "KP-2"]
    assert json.loads(own.to_json(date_format="iso"))  # plain values for a map tooltip
