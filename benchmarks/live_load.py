"""Live load test (not a unit test): readers polling live positions while the feed writes.

On this machine only (loopback): a real ``python -m coverage ingest --from - --format ndjson``
process reads ``--rate`` positions per second from a pipe (with a share of exact repeats
and of bad records), while ``--sessions`` threads, each with its own store connection,
read the latest positions every ``--read-every-s`` seconds, as dashboard sessions would.
Bounded: it stops itself after ``--seconds`` (plus at most 60 s to drain). Prints one JSON
line; ``sent == accepted + duplicates + rejected`` must hold.

    .venv/bin/python benchmarks/live_load.py --seconds 30        # quick run
    .venv/bin/python benchmarks/live_load.py                     # 300 s
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from coverage.ops.positions import latest_positions
from coverage.ops.store import open_store

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Writer(threading.Thread):
    """Feeds the ingest process at a steady rate; counts what it sent, by kind."""

    def __init__(self, pipe, *, rate: float, seconds: float, officers: int, dup_share: float,
                 bad_share: float, seed: int) -> None:
        super().__init__(name="writer", daemon=True)
        self.pipe, self.rate, self.seconds = pipe, rate, seconds
        self.officers, self.dup_share, self.bad_share = officers, dup_share, bad_share
        self.rng = random.Random(seed)
        self.sent = self.repeats = self.bad = 0
        self.error: str | None = None

    def record(self, i: int) -> str:
        oid = f"KP-{i % self.officers:04d}"
        lat = 34.0 + self.rng.uniform(-0.1, 0.1)
        lon = 71.55 + self.rng.uniform(-0.1, 0.1)
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        return json.dumps({"officer_id": oid, "lat": round(lat, 6), "lon": round(lon, 6),
                           "timestamp": ts, "status": "on_duty",
                           "speed_kph": round(self.rng.uniform(10, 60), 1),
                           "heading_deg": round(self.rng.uniform(0, 359), 1)})

    def run(self) -> None:
        t0, last = time.monotonic(), ""
        try:
            while (elapsed := time.monotonic() - t0) < self.seconds:
                due = int(self.rate * elapsed) - self.sent
                lines = []
                for _ in range(max(due, 0)):
                    u = self.rng.random()
                    if last and u < self.dup_share:
                        lines.append(last)
                        self.repeats += 1
                    elif u < self.dup_share + self.bad_share:
                        lines.append('{"officer_id": "KP-0001", "lat": "north", "lon": 71.5}')
                        self.bad += 1
                    else:
                        last = self.record(self.sent)
                        lines.append(last)
                    self.sent += 1
                if lines:
                    self.pipe.write(("\n".join(lines) + "\n").encode())
                    self.pipe.flush()
                time.sleep(0.01)
        except OSError as exc:  # the ingester died: reported as an error
            self.error = str(exc)  # (the pipe is closed by Popen.communicate)


class Session(threading.Thread):
    """One dashboard session: read the latest positions every few seconds, time each read."""

    def __init__(self, url: str, *, every_s: float, until: float, offset_s: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every_s, self.until, self.offset_s = url, every_s, until, offset_s
        self.latency_ms: list[float] = []
        self.freshness_s: list[float] = []
        self.rows = 0
        self.errors: list[str] = []

    def run(self) -> None:
        time.sleep(self.offset_s)
        try:
            store = open_store(self.url, migrate=False)
        except Exception as exc:  # a load test counts every failure
            self.errors.append(repr(exc))
            return
        with store:
            while time.monotonic() < self.until:
                t = time.perf_counter()
                try:
                    live = latest_positions(store)
                except Exception as exc:  # counted, never fatal
                    self.errors.append(repr(exc))
                else:
                    self.latency_ms.append((time.perf_counter() - t) * 1000)
                    self.rows = len(live)
                    if len(live):
                        self.freshness_s.append(float(live["age_s"].min()))
                time.sleep(max(0.0, self.every_s - (time.perf_counter() - t)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--rate", type=float, default=1000.0, help="positions per second")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--read-every-s", type=float, default=2.0)
    ap.add_argument("--officers", type=int, default=500)
    ap.add_argument("--dup-share", type=float, default=0.01)
    ap.add_argument("--bad-share", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--db", help="store URL (default: a new SQLite file); PostgreSQL must be "
                    "on this machine (127.0.0.1, localhost or ::1)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="seccov-load-") as tmp:
        url = args.db or f"sqlite:///{tmp}/live.db"
        parts = urlsplit(url)
        if parts.scheme.startswith("postgres") and parts.hostname not in LOOPBACK:
            sys.exit(f"live_load: refusing a non-loopback store host {parts.hostname!r}")
        open_store(url).close()  # create and migrate before the readers start
        return run(args, url)


def run(args: argparse.Namespace, url: str) -> int:
    ingest = subprocess.Popen(
        [sys.executable, "-m", "coverage", "-q", "ingest", "--db", url, "--from", "-",
         "--format", "ndjson", "--json", "--max-seconds", str(args.seconds + 60)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(3.0)  # let the ingester import its libraries before the clock starts
    t0 = time.monotonic()
    writer = Writer(ingest.stdin, rate=args.rate, seconds=args.seconds, officers=args.officers,
                    dup_share=args.dup_share, bad_share=args.bad_share, seed=args.seed)
    sessions = [Session(url, every_s=args.read_every_s, until=t0 + args.seconds,
                        offset_s=i * args.read_every_s / args.sessions)
                for i in range(args.sessions)]
    writer.start()
    for s in sessions:
        s.start()
    writer.join(args.seconds + 30)
    for s in sessions:
        s.join(30)
    try:
        out, err = ingest.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        ingest.kill()
        out, err = ingest.communicate()
    wall = time.monotonic() - t0
    counts = json.loads(out) if ingest.returncode == 0 and out.strip() else {}
    lat = np.array([x for s in sessions for x in s.latency_ms]) if sessions else np.empty(0)
    fresh = np.array([x for s in sessions for x in s.freshness_s])
    errors = [e for s in sessions for e in s.errors]
    if writer.error:
        errors.append(f"writer: {writer.error}")
    if ingest.returncode != 0:
        errors.append(f"ingest exit {ingest.returncode}: {err.decode()[-500:]}")
    with open_store(url, migrate=False) as store:
        stored = store.count("positions")
        rejects = store.count("rejects")
    accepted = counts.get("accepted", 0)
    duplicates = counts.get("duplicates", 0)
    rejected = counts.get("rejected", 0)
    result = {
        "seconds": args.seconds, "sessions": args.sessions, "rate_target": args.rate,
        "sent": writer.sent, "sent_per_s": round(writer.sent / args.seconds, 1),
        "stored": stored, "accepted": accepted, "duplicates": duplicates, "rejected": rejected,
        "add_up": writer.sent == accepted + duplicates + rejected and stored == accepted,
        "sent_repeats": writer.repeats, "sent_bad": writer.bad, "rejects_table": rejects,
        "errors": len(errors), "reads": int(lat.size),
        "read_p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "read_p95_ms": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
        "read_max_ms": round(float(lat.max()), 1) if lat.size else None,
        "freshness_p95_s": round(float(np.percentile(fresh, 95)), 2) if fresh.size else None,
        "officers_seen": max((s.rows for s in sessions), default=0),
        "ingest_per_s": counts.get("per_s"), "wall_s": round(wall, 1),
        "backend": urlsplit(url).scheme, "error_samples": errors[:3],
    }
    print(json.dumps(result))
    return 0 if result["add_up"] and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
