"""Command line for the HTTP feed: ``serve-feed``, ``devices`` and ``tokens``.

:func:`add_parsers` adds the subcommands to ``python -m coverage``; :data:`COMMANDS` maps
each to its handler. Bad input ends as ``error: ...`` with exit code 2 (via cli.main).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from coverage import settings
from coverage.cli.argtypes import positive_number, whole
from coverage.cli.inputs import add_format
from coverage.errors import CoverageError


def _db(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument("--db", default=settings.db_url() if required else None,
                   help="store URL: sqlite:///path.db or postgresql://user:pass@host/db"
                   + (" (default: $SECCOV_DB)" if required else ""))


def add_parsers(sub: Any) -> None:
    """Add ``serve-feed``, ``devices`` and ``tokens``."""
    srv = sub.add_parser("serve-feed", help="receive live positions over HTTP (Traccar Client "
                         "/ OsmAnd, Traccar forwarding)")
    _db(srv)
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                     "127.0.0.1; 0.0.0.0 for every interface needs a token)")
    srv.add_argument("--port", type=whole(0, 65535), default=settings.FEED_PORT,
                     help=f"port (default {settings.FEED_PORT}, Traccar Client's; 0: a free "
                     "one, printed at start)")
    srv.add_argument("--devices", type=Path, help="devices CSV (device_id, officer_id); "
                     "without it the device id is the officer id")
    srv.add_argument("--officers", type=Path, help="register this roster first; then "
                     "positions of other officer ids are rejected")
    tok = srv.add_mutually_exclusive_group()
    tok.add_argument("--token", help="one shared token (visible in the process list; prefer "
                     "--tokens or SECCOV_FEED_TOKEN)")
    tok.add_argument("--tokens", type=Path, help="tokens file made by `tokens add` "
                     "(re-read when it changes)")
    srv.add_argument("--max-body-bytes", type=whole(256), default=settings.FEED_MAX_BODY_BYTES)
    srv.add_argument("--device-rate-per-s", type=positive_number,
                     default=settings.FEED_DEVICE_RATE_PER_S,
                     help="positions per second per device before 429 "
                     f"(default {settings.FEED_DEVICE_RATE_PER_S:g})")
    srv.add_argument("--device-burst", type=whole(1), default=settings.FEED_DEVICE_BURST,
                     help=f"positions one device may send at once (default "
                     f"{settings.FEED_DEVICE_BURST})")
    add_format(srv)

    dev = sub.add_parser("devices", help="the HTTP feed's devices file: which officer "
                         "carries which tracker")
    act = dev.add_subparsers(dest="devices_command", required=True)
    p = act.add_parser("add", help="add a device, or move it to another officer")
    p.add_argument("device_id")
    p.add_argument("--officer", required=True, help="officer_id of who carries it")
    p.add_argument("--devices", type=Path, required=True, help="devices CSV (created if missing)")
    add_format(p)
    p = act.add_parser("remove", help="remove a device")
    p.add_argument("device_id")
    p.add_argument("--devices", type=Path, required=True)
    add_format(p)
    p = act.add_parser("list", help="devices, with each one's last report age given --db")
    p.add_argument("--devices", type=Path, help="devices CSV (without it: every officer with "
                   "a position is its own device)")
    _db(p, required=False)
    p.add_argument("--stale-after-s", type=positive_number, default=settings.STALE_AFTER_S)
    add_format(p)

    tks = sub.add_parser("tokens", help="the HTTP feed's tokens file (only hashes are kept)")
    act = tks.add_subparsers(dest="tokens_command", required=True)
    for name, helptext in (("add", "make a new token; it is printed once"),
                           ("revoke", "remove a token"), ("list", "list token names")):
        p = act.add_parser(name, help=helptext)
        if name != "list":
            p.add_argument("name", help="who uses it, e.g. traccar-server or phone-kp-17")
        p.add_argument("--tokens", type=Path, required=True, help="tokens file")
        add_format(p)


def _rows_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    from coverage.cli.live import table

    return table(rows, columns) if rows else "(none)"


def _cmd_serve(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops.httpfeed import Limits, is_loopback, serve_feed
    from coverage.ops.registry import register_officers
    from coverage.ops.store import open_store

    if not args.db:
        msg = "--db: give the store URL (sqlite:///path.db or postgresql://...) or set SECCOV_DB"
        raise CoverageError(msg)
    token = args.token
    if token is not None:
        print("warning: --token is visible in the process list and shell history; prefer "
              "--tokens FILE or SECCOV_FEED_TOKEN", file=sys.stderr)
    elif args.tokens is None:
        token = settings.feed_token()
    guarded = token is not None or args.tokens is not None
    if not guarded and is_loopback(args.host):
        print(f"note: no token: listening on {args.host} only, so only this machine can post "
              "positions; give --tokens FILE (or --token) to accept trackers from the network",
              file=sys.stderr)
    as_json = args.format == "json"
    with open_store(args.db) as store:
        if args.officers is not None:
            ds = register_officers(store, args.officers)
            print(f"{args.officers.name}: {ds.officers:,} officer ids registered",
                  file=sys.stderr)

        def ready(url: str) -> None:
            facts = {"url": url, "token": guarded, "store": store.url,
                     "devices": str(args.devices) if args.devices else None}
            if as_json:
                print(json.dumps({"event": "listening", **facts}), flush=True)
            else:
                print(f"serve-feed: listening on {url} (token {'' if guarded else 'not '}"
                      f"required; devices: {args.devices or 'device id = officer id'}; store "
                      f"{store.url}); Ctrl-C stops", flush=True)

        limits = Limits(max_body_bytes=args.max_body_bytes,
                        device_rate_per_s=args.device_rate_per_s, device_burst=args.device_burst)
        run = serve_feed(store, host=args.host, port=args.port, devices_path=args.devices,
                         token=token, tokens_path=args.tokens, limits=limits, ready=ready)
    if as_json:
        print(json.dumps({"event": "stopped", "url": run.url, "ingest_id": run.ingest_id,
                          "read": run.read, "accepted": run.accepted,
                          "duplicates": run.duplicates, "rejected": run.rejected}))
    else:
        print(run.summary())
    return 0


def _cmd_devices(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops import devices as dv

    cmd = args.devices_command
    as_json = args.format == "json"
    if cmd == "add":
        dv.set_device(args.devices, args.device_id, args.officer)
        print(json.dumps({"action": "add", "device_id": args.device_id,
                          "officer_id": args.officer}) if as_json else
              f"device '{args.device_id}' -> officer '{args.officer}' in {args.devices.name}")
        return 0
    if cmd == "remove":
        dv.remove_device(args.devices, args.device_id)
        print(json.dumps({"action": "remove", "device_id": args.device_id}) if as_json else
              f"device '{args.device_id}' removed from {args.devices.name}")
        return 0
    mapping = dv.read_devices(args.devices) if args.devices is not None else None
    if args.db:
        from coverage.ops.store import open_store

        with open_store(args.db) as store:
            ages = dv.device_ages(store, mapping, stale_after_s=args.stale_after_s)
        rows = [{"device_id": r["device_id"], "officer_id": r["officer_id"],
                 "last_report": _iso(r["last_report"]),
                 "age_s": None if math.isnan(r["age_s"]) else round(float(r["age_s"]), 1),
                 "stale": bool(r["stale"]), "source": r["source"]}
                for r in ages.to_dict("records")]
        cols = ["device_id", "officer_id", "last_report", "age_s", "stale", "source"]
    elif mapping is not None:
        rows = [{"device_id": d, "officer_id": o} for d, o in sorted(mapping.items())]
        cols = ["device_id", "officer_id"]
    else:
        msg = "devices list: give --devices FILE, --db URL, or both"
        raise CoverageError(msg)
    print(json.dumps(rows, indent=1) if as_json else _rows_table(rows, cols))
    return 0


def _iso(value: Any) -> str | None:
    import pandas as pd

    return None if pd.isna(value) else str(value.isoformat())


def _cmd_tokens(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops import tokens as tk

    cmd = args.tokens_command
    as_json = args.format == "json"
    if cmd == "add":
        token = tk.add_token(args.tokens, args.name)
        if as_json:
            print(json.dumps({"action": "add", "name": args.name, "token": token}))
        else:
            print(token)
            print(f"token '{args.name}' added to {args.tokens.name}; it is shown only now "
                  "(the file keeps its SHA-256)", file=sys.stderr)
        return 0
    if cmd == "revoke":
        tk.revoke_token(args.tokens, args.name)
        print(json.dumps({"action": "revoke", "name": args.name}) if as_json else
              f"token '{args.name}' revoked (a running serve-feed notices within a second)")
        return 0
    rows = [{"name": r.name, "created_at": r.created_at, "sha256": r.sha256[:12]}
            for r in tk.read_tokens(args.tokens)]
    print(json.dumps(rows, indent=1) if as_json else
          _rows_table(rows, ["name", "created_at", "sha256"]))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "serve-feed": _cmd_serve,
    "devices": _cmd_devices,
    "tokens": _cmd_tokens,
}
