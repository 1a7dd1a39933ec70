"""Ingest benchmark: parse, validate and store N positions from a file into a fresh store.

Prints one JSON line. The target is at least 5,000 positions/s into SQLite.

    .venv/bin/python benchmarks/ingest.py                      # 200,000 CSV records, SQLite
    .venv/bin/python benchmarks/ingest.py --format ndjson --records 100000
    .venv/bin/python benchmarks/ingest.py --db postgresql://user@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coverage.ops.feed import ingest_file
from coverage.ops.store import open_store

TARGET_PER_S = 5_000


def write_feed(path: Path, n: int, officers: int, fmt: str) -> None:
    """``n`` valid positions of ``officers`` officers, one per second each, ending now."""
    start = datetime.now(UTC) - timedelta(seconds=n // officers + 1)
    with open(path, "w", encoding="utf-8") as fh:
        if fmt == "csv":
            fh.write("officer_id,lat,lon,timestamp,status,speed_kph,heading_deg\n")
        for i in range(n):
            oid, step = f"KP-{i % officers:04d}", i // officers
            lat, lon = 33.9 + (i % 997) * 1e-4, 71.5 + (i % 991) * 1e-4
            ts = (start + timedelta(seconds=step)).isoformat(timespec="seconds")
            if fmt == "csv":
                fh.write(f"{oid},{lat:.6f},{lon:.6f},{ts},on_duty,{i % 60},{i % 360}\n")
            else:
                fh.write(json.dumps({"officer_id": oid, "lat": round(lat, 6),
                                     "lon": round(lon, 6), "timestamp": ts, "status": "on_duty",
                                     "speed_kph": i % 60, "heading_deg": i % 360}) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--officers", type=int, default=500)
    ap.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--db", help="store URL (default: a new SQLite file in a temp folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="seccov-bench-") as tmp:
        feed = Path(tmp) / f"feed.{args.format}"
        t = time.perf_counter()
        write_feed(feed, args.records, args.officers, args.format)
        gen_s = time.perf_counter() - t
        url = args.db or f"sqlite:///{tmp}/bench.db"
        opts = {"batch_size": args.batch_size} if args.batch_size else {}
        with open_store(url) as store:
            backend = store.dialect
            res = ingest_file(store, feed, **opts)
            again = ingest_file(store, feed, **opts)  # every record a duplicate
            stored = store.count("positions")
    ok = res.read == res.accepted + res.duplicates + res.rejected == args.records
    out = {
        "records": args.records, "positions_per_s": round(res.per_s), "seconds": round(
            res.seconds, 3), "accepted": res.accepted, "duplicates": res.duplicates,
        "rejected": res.rejected, "stored": stored, "rerun_per_s": round(again.per_s),
        "rerun_duplicates": again.duplicates, "counts_add_up": ok,
        "target_per_s": TARGET_PER_S, "target_met": res.per_s >= TARGET_PER_S,
        "backend": backend, "format": args.format, "officers": args.officers,
        "generate_s": round(gen_s, 2), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }
    print(json.dumps(out))
    return 0 if ok and stored == args.records else 1


if __name__ == "__main__":
    sys.exit(main())
