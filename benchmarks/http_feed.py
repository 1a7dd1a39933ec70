"""HTTP feed throughput: concurrent keep-alive clients posting positions to ``serve-feed``.

Starts a real ``python -m coverage serve-feed`` (token required, default limits) on a free
port, then N clients (asyncio, one persistent HTTP/1.1 connection each, raw sockets so
the load generator stays light) post OsmAnd JSON positions (Traccar Client's format) for
``--devices`` devices as fast as the server answers, for ``--seconds``. Prints one JSON
line: accepted positions/s (200 answers), latency percentiles, and a check that every
acknowledged position is in the store.

    .venv/bin/python benchmarks/http_feed.py                      # SQLite in a temp folder
    .venv/bin/python benchmarks/http_feed.py --postgres           # a throwaway PostgreSQL
    .venv/bin/python benchmarks/http_feed.py --db postgresql://user@host/db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOKEN = "benchmark-token-0123456789abcdef"


def start_server(db: str, devices_rate: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "coverage", "serve-feed", "--db", db, "--port", "0", "--format",
         "json", "--device-rate-per-s", str(devices_rate)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "SECCOV_FEED_TOKEN": TOKEN})
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    if not ready or proc.stdout is None:
        proc.kill()
        raise SystemExit("serve-feed did not start")
    return proc, json.loads(proc.stdout.readline())["url"]


def stop_server(proc: subprocess.Popen[str]) -> dict:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"serve-feed failed: {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


async def client(host: str, port: int, devices: list[str], start: datetime, deadline: float,
                 measure_from: float, latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    step = 0
    try:
        while time.perf_counter() < deadline:
            device = devices[step % len(devices)]
            at = start + timedelta(milliseconds=10 * (step // len(devices)))
            body = json.dumps({"device_id": device, "location": {
                "timestamp": at.isoformat(timespec="milliseconds"),
                "coords": {"latitude": 34.0 + (step % 997) / 1e4, "longitude": 71.5,
                           "speed": 8.3, "heading": 90.0, "accuracy": 5}}}).encode()
            request = (f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer "
                       f"{TOKEN}\r\nContent-Type: application/json\r\nContent-Length: "
                       f"{len(body)}\r\n\r\n").encode() + body
            t0 = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            t1 = time.perf_counter()
            status = int(status_line.split()[1]) if status_line else 0
            if t0 >= measure_from:
                latencies.append(t1 - t0)
                statuses[status] = statuses.get(status, 0) + 1
            step += 1
            if not status_line:
                break
    finally:
        writer.close()


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its threads so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, clients: int, n_devices: int, seconds: float, warmup_s: float,
               pid: int | None = None
               ) -> tuple[list[float], dict[int, int], float, float, float]:
    """Run the clients; return latencies (s), statuses, wall s, server and client CPU s."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    devices = [f"BENCH-{i:05d}" for i in range(n_devices)]
    start = datetime.now(UTC) - timedelta(hours=2)
    t0 = time.perf_counter()
    measure_from, deadline = t0 + warmup_s, t0 + warmup_s + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    cpu: list[float] = []

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        cpu.extend((cpu_s(pid) if pid else 0.0, time.process_time()))
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        cpu.extend((cpu_s(pid) if pid else 0.0, time.process_time()))

    await asyncio.gather(sample_cpu(), *(
        client(host, port, devices[c::clients], start, deadline, measure_from, latencies,
               statuses) for c in range(clients)))
    return (latencies, statuses, time.perf_counter() - measure_from, cpu[2] - cpu[0],
            cpu[3] - cpu[1])


def stored_count(db: str) -> int:
    from coverage.ops.store import open_store

    with open_store(db) as store:
        return store.count("positions")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="store URL (default: SQLite in a temporary folder)")
    ap.add_argument("--postgres", action="store_true",
                    help="start a throwaway PostgreSQL (tests/support/pg.py) and use it")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--devices", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--warmup-s", type=float, default=2.0)
    ap.add_argument("--device-rate-per-s", type=float, default=10.0,
                    help="the server's per-device limit (default: the product default)")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="seccov-httpbench-")
    if args.postgres:
        from tests.support import pg

        db = pg.fresh_database()
    else:
        db = args.db or f"sqlite:///{tmp.name}/feed.db"
    proc, url = start_server(db, args.device_rate_per_s)
    try:
        latencies, statuses, wall, server_cpu, client_cpu = asyncio.run(
            load(url, args.clients, args.devices, args.seconds, args.warmup_s, proc.pid))
    finally:
        summary = stop_server(proc)
    lat_ms = np.array(latencies) * 1000
    server_ms = server_cpu * 1000 / max(1, len(latencies))
    client_ms = client_cpu * 1000 / max(1, len(latencies))
    ok = statuses.get(200, 0)
    stored = stored_count(db)
    per_s = ok / wall
    p99 = float(np.percentile(lat_ms, 99)) if len(lat_ms) else None
    result = {
        "clients": args.clients, "devices": args.devices, "seconds": round(wall, 2),
        "measured_requests": int(sum(statuses.values())), "statuses": statuses,
        "positions_per_s": round(per_s), "p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
        "p99_ms": round(p99, 1) if p99 is not None else None,
        "max_ms": round(float(lat_ms.max()), 1),
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_request": round(server_ms, 3),
        "client_cpu_ms_per_request": round(client_ms, 3),
        # what the two cores would do with nothing else running: the server (one event
        # loop, so at most one core) and the load generator share the machine
        "quiet_machine_estimate_per_s": round(min(1000 / server_ms, 1000 / client_ms,
                                                  2000 / (server_ms + client_ms))),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "server_accepted": summary["accepted"], "server_rejected": summary["rejected"],
        "stored": stored, "stored_equals_accepted": stored == summary["accepted"],
        "target_per_s": 2000, "target_p99_ms": 100,
        "target_met": per_s >= 2000 and p99 is not None and p99 < 100,
        "backend": "postgresql" if db.startswith("postgres") else "sqlite",
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))
    tmp.cleanup()


if __name__ == "__main__":
    main()
