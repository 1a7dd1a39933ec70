"""Command line for the live feed, store, accounts and audit (``ingest``, ``positions``, ...).

:func:`add_parsers` adds the subcommands to ``python -m coverage``; :data:`COMMANDS` maps
each to its handler. Bad input ends as ``error: ...`` with exit code 2 (via cli.main).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from coverage import settings
from coverage.cli.argtypes import positive_number, whole
from coverage.cli.inputs import add_format
from coverage.data.demo import DEMO_FILES
from coverage.errors import CoverageError


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=settings.db_url(),
                   help="store URL: sqlite:///path.db or postgresql://user:pass@host/db "
                   "(default: $SECCOV_DB)")


def _fmt(p: argparse.ArgumentParser) -> None:
    add_format(p)


INPUT_FORMATS = ("csv", "ndjson", "geojson")


def _json_alias(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true",
                   help="deprecated: same as --format json (prints a warning)")


def _output_format(args: argparse.Namespace) -> str:
    """``table`` or ``json``; ``--json`` and ``ingest --format csv|ndjson|geojson`` still work,
    with a warning on stderr that says what to write instead."""
    if getattr(args, "json", False):
        print("warning: --json is deprecated; use --format json", file=sys.stderr)
        return "json"
    return str(args.format)


def add_parsers(sub: Any) -> None:
    """Add ``ingest``, ``positions``, ``simulate-feed``, ``users`` and ``audit``."""
    ing = sub.add_parser("ingest", help="store live positions from a file or stdin")
    _db(ing)
    ing.add_argument("--from", dest="source", required=True,
                     help="file, or - for stdin. A file can be re-read after a crash (what "
                     "was stored counts as duplicates); stdin cannot: it is at-most-once, a "
                     "kill loses the batch in flight (at most "
                     f"{settings.INGEST_STDIN_BATCH} records or {settings.INGEST_FLUSH_S:g} s)")
    ing.add_argument("--input-format", choices=INPUT_FORMATS,
                     help="input format (default: from the suffix; stdin: csv)")
    ing.add_argument("--format", choices=("table", "json", *INPUT_FORMATS), default="table",
                     metavar="{table,json}", help="output: a summary line (default) or JSON; "
                     "csv/ndjson/geojson here is the old spelling of --input-format")
    ing.add_argument("--follow", action="store_true", help="keep reading as the file grows")
    ing.add_argument("--max-seconds", type=float, help="stop after this many seconds")
    ing.add_argument("--idle-s", type=float, help="stop after this long without new input")
    ing.add_argument("--officers", type=Path, help="register this roster first; then unknown "
                     "officer ids are rejected")
    ing.add_argument("--batch-size", type=whole(1), default=None,
                     help=f"records per commit (default {settings.INGEST_BATCH:,}; stdin "
                     f"{settings.INGEST_STDIN_BATCH})")
    _json_alias(ing)

    pos = sub.add_parser("positions", help="latest position per officer, or the rejects")
    _db(pos)
    pos.add_argument("--rejects", action="store_true", help="list rejected records instead")
    pos.add_argument("--stale-after-s", type=positive_number, default=settings.STALE_AFTER_S,
                     help=f"a position older than this is stale (default "
                     f"{settings.STALE_AFTER_S:g} s)")
    pos.add_argument("--limit", type=whole(0), help="at most this many rejects")
    _fmt(pos)

    sim = sub.add_parser("simulate-feed", help="SIMULATED positions of on-duty officers")
    _db(sim)
    sim.add_argument("--roads", type=Path, default=DEMO_FILES["roads"])
    sim.add_argument("--stations", type=Path, default=DEMO_FILES["stations"])
    sim.add_argument("--officers", type=Path, default=DEMO_FILES["officers"])
    sim.add_argument("--seconds", type=float, default=600.0, help="simulated duration")
    sim.add_argument("--interval-s", type=float, default=10.0, help="seconds between reports")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--start", help="first report's time, ISO 8601 with offset "
                     "(default: --seconds before now)")
    sim.add_argument("--realtime", action="store_true", help="pace reports with the clock")
    sim.add_argument("--via", metavar="URL", help="POST the reports to a running serve-feed "
                     "at URL (e.g. http://127.0.0.1:5055/) instead of writing to --db")
    sim.add_argument("--token", help="the serve-feed token for --via (default: "
                     "$SECCOV_FEED_TOKEN)")
    _fmt(sim)
    _json_alias(sim)

    users = sub.add_parser("users", help="local accounts and roles")
    act = users.add_subparsers(dest="users_command", required=True)
    for name, helptext in (("add", "create an account"), ("remove", "delete an account"),
                           ("list", "list accounts"), ("set-role", "change a role"),
                           ("passwd", "change a password"),
                           ("demo", "create the demo-* accounts (SECCOV_DEMO=1 only)")):
        p = act.add_parser(name, help=helptext)
        _db(p)
        p.add_argument("--actor", help="who is making the change, for the audit log")
        if name in ("add", "remove", "set-role", "passwd"):
            p.add_argument("username")
        if name in ("add", "set-role"):
            p.add_argument("--role", required=True,
                           choices=("viewer", "planner", "command", "admin"))
        if name == "add":
            p.add_argument("--sso", action="store_true", help="no local password: the user "
                           "signs in through the organisation's OpenID Connect provider")
        if name in ("add", "passwd"):
            p.add_argument("--password-stdin", action="store_true",
                           help="read the password from the first line of stdin")
            p.add_argument("--password", help="the password itself (visible in shell history; "
                           "prefer --password-stdin or the prompt)")
        _fmt(p)

    sto = sub.add_parser("store", help="look after the store: check it for damage")
    sto_act = sto.add_subparsers(dest="store_command", required=True)
    chk = sto_act.add_parser("check", help="check the store file for damage (SQLite "
                             "integrity_check) and say what to do; exit 2 if damaged")
    _db(chk)
    _fmt(chk)

    aud = sub.add_parser("audit", help="query the audit log")
    _db(aud)
    aud.add_argument("--user")
    aud.add_argument("--action")
    aud.add_argument("--since", help="ISO 8601 with offset (inclusive)")
    aud.add_argument("--until", help="ISO 8601 with offset (exclusive)")
    aud.add_argument("--limit", type=whole(0), default=1000)
    _fmt(aud)


def _open(args: argparse.Namespace) -> Any:
    from coverage.ops.store import open_store

    if not args.db:
        msg = "--db: give the store URL (sqlite:///path.db or postgresql://...) or set SECCOV_DB"
        raise CoverageError(msg)
    return open_store(args.db)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (a clean stop), restoring the old handlers after."""
    stop = threading.Event()
    old: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: no handlers
            old[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _time(text: str | None, what: str) -> datetime | None:
    from coverage.ops.feed import parse_timestamp
    from coverage.ops.store import from_us

    if text is None:
        return None
    us, problem = parse_timestamp(text)
    if problem or us is None:
        msg = f"{what}: {problem}"
        raise CoverageError(msg)
    return from_us(us)


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return str(args.actor)
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid{os.getuid()}"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Aligned text columns; floats with 6 decimals, None as '-'."""
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        return f"{v:.6f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(b[i]) for b in body)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)) for b in body]
    return "\n".join(line.rstrip() for line in lines)


def _cmd_ingest(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops.feed import ingest_file
    from coverage.ops.registry import register_officers

    if args.format in INPUT_FORMATS:
        print(f"warning: ingest --format {args.format} is deprecated; use --input-format "
              f"{args.format} (--format is the output: table or json)", file=sys.stderr)
        args.input_format, args.format = args.input_format or args.format, "table"
    out = _output_format(args)
    with _open(args) as store, _stop_on_signals() as stop:
        if args.officers is not None:
            ds = register_officers(store, args.officers, registered_by=_actor_or_none())
            print(f"{args.officers.name}: {ds.officers:,} officer ids registered",
                  file=sys.stderr)
        batch = {} if args.batch_size is None else {"batch_size": args.batch_size}
        result = ingest_file(store, args.source, fmt=args.input_format, follow=args.follow,
                             max_seconds=args.max_seconds, idle_s=args.idle_s, stop=stop,
                             **batch)
    if out == "json":
        print(json.dumps({"input": result.input_name, "ingest_id": result.ingest_id,
                          "read": result.read, "accepted": result.accepted,
                          "duplicates": result.duplicates, "rejected": result.rejected,
                          "seconds": round(result.seconds, 3), "per_s": round(result.per_s)}))
    else:
        print(result.summary())
        if result.rejected:
            print("see the reasons: python -m coverage positions --db URL --rejects",
                  file=sys.stderr)
    return 0


def _actor_or_none() -> str | None:
    with contextlib.suppress(KeyError, OSError):
        return f"cli:{getpass.getuser()}"
    return None


def _cmd_positions(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops.positions import latest_positions

    with _open(args) as store:
        if args.rejects:
            rows = [{"line": r.line, "reason": r.reason, "raw": r.raw, "input": r.input_name}
                    for r in store.rejects(limit=args.limit)]
            cols = ["line", "reason", "raw", "input"]
        else:
            live = latest_positions(store, stale_after_s=args.stale_after_s)
            rows = [{"officer_id": r["officer_id"], "lat": r["lat"], "lon": r["lon"],
                     "timestamp": r["reported"], "stale": bool(r["stale"]),
                     "age_s": round(r["age_s"], 1), "status": r["status"],
                     "speed_kph": _num(r["speed_kph"]), "heading_deg": _num(r["heading_deg"]),
                     "source": r["source"]} for r in live.to_dict("records")]
            cols = ["officer_id", "lat", "lon", "timestamp", "stale", "age_s", "source"]
    if args.format == "json":
        print(json.dumps(rows, indent=1, allow_nan=False))
    else:
        print(table(rows, cols) if rows else "(none)")
    return 0


def _num(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _cmd_simulate(args: argparse.Namespace, stages: Any) -> int:
    from coverage.data.loaders import read_officers, read_stations
    from coverage.data.network import open_roads
    from coverage.ops.simulate import simulate_feed

    if not (args.interval_s > 0 and args.seconds >= 0):
        msg = (f"simulate-feed: --interval-s must be > 0 and --seconds >= 0, got "
               f"{args.interval_s} and {args.seconds}")
        raise CoverageError(msg)
    start = _time(args.start, "--start")
    out = _output_format(args)
    if args.via:
        from coverage.ops.feedclient import check_url

        check_url(args.via)
    officers = read_officers(args.officers, read_stations(args.stations))
    net = open_roads(args.roads, progress=stages)
    stages.close()
    if args.via:
        from coverage.ops.simulate import post_feed

        with _stop_on_signals() as stop:
            res = post_feed(args.via, net, officers, token=args.token or settings.feed_token(),
                            seconds=args.seconds, interval_s=args.interval_s, seed=args.seed,
                            start=start, realtime=args.realtime, stop=stop)
        if res.failed:
            print(f"warning: {res.failed:,} reports were not accepted by {args.via} (see the "
                  "log with -v)", file=sys.stderr)
    else:
        with _open(args) as store, _stop_on_signals() as stop:
            res = simulate_feed(store, net, officers, seconds=args.seconds,
                                interval_s=args.interval_s, seed=args.seed, start=start,
                                realtime=args.realtime, stop=stop)
    if out == "json":
        print(json.dumps({"officers": res.officers, "steps": res.steps,
                          "start": res.start.isoformat(), "end": res.end.isoformat(),
                          "read": res.ingest.read, "accepted": res.ingest.accepted,
                          "duplicates": res.ingest.duplicates, "rejected": res.ingest.rejected}))
    else:
        print(f"SIMULATED: {res.officers} on-duty officers, {res.steps} reports each, "
              f"{res.start.isoformat()} .. {res.end.isoformat()}")
        print(res.ingest.summary())
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password is not None:
        print("warning: --password leaves the password in shell history and the process "
              "list; prefer --password-stdin or the prompt", file=sys.stderr)
        return str(args.password)
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            msg = "--password-stdin: stdin held no password"
            raise CoverageError(msg)
        return line
    if not sys.stdin.isatty():
        msg = "no password given: pipe it with --password-stdin, or run in a terminal"
        raise CoverageError(msg)
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        msg = "the two passwords differ; nothing was changed"
        raise CoverageError(msg)
    return first


def _cmd_users(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops import accounts

    cmd = args.users_command
    sso = cmd == "add" and args.sso
    password = _password(args) if cmd in ("add", "passwd") and not sso else None
    as_json = args.format == "json"

    def done(text: str, **record: Any) -> None:
        print(json.dumps({"action": cmd, **record}) if as_json else text)

    with _open(args) as store:
        if cmd == "add":
            u = accounts.add_user(store, args.username, password, args.role, actor=_actor(args))
            done(f"user '{u.username}' added as {u.role}"
                 + (" (single sign-on, no local password)" if sso else ""),
                 username=u.username, role=u.role, sso=bool(sso))
        elif cmd == "remove":
            accounts.remove_user(store, args.username, actor=_actor(args))
            done(f"user '{args.username}' removed", username=args.username)
        elif cmd == "set-role":
            u = accounts.set_role(store, args.username, args.role, actor=_actor(args))
            done(f"user '{u.username}' is now {u.role}", username=u.username, role=u.role)
        elif cmd == "passwd":
            accounts.set_password(store, args.username, password or "", actor=_actor(args))
            done(f"password of '{args.username}' changed", username=args.username)
        elif cmd == "demo":
            made = accounts.ensure_demo_accounts(store)
            done(f"demo accounts created: {', '.join(u.username for u in made) or 'none'} "
                 "(password = user name; SECCOV_DEMO=1 only)",
                 created=[u.username for u in made])
        else:
            rows: list[dict[str, Any]] = [{"username": u.username, "role": u.role, "demo": u.demo,
                     "pages": list(accounts.pages_for(u.role)),
                     "created_at": u.created_at.isoformat(timespec="seconds")}
                    for u in accounts.list_users(store)]
            shown = [r | {"pages": ",".join(r["pages"])} for r in rows]
            print(json.dumps(rows, indent=1) if args.format == "json" else
                  table(shown, ["username", "role", "demo", "pages", "created_at"])
                  if rows else "(no users)")
    return 0


def _cmd_audit(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops import audit

    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    with _open(args) as store:
        entries = audit.query(store, user=args.user, action=args.action, since=since,
                              until=until, limit=args.limit)
    rows = [{"id": e.id, "at": e.at.isoformat(), "user": e.user, "action": e.action,
             "detail": e.details} for e in entries]
    if args.format == "json":
        print(json.dumps(rows, indent=1))
    else:
        flat = [{**r, "detail": json.dumps(r["detail"], sort_keys=True)} for r in rows]
        print(table(flat, ["id", "at", "user", "action", "detail"]) if rows else "(none)")
    return 0


def _cmd_store(args: argparse.Namespace, _stages: Any) -> int:
    from coverage.ops.store import check_integrity, open_store

    if not args.db:
        msg = "--db: give the store URL (sqlite:///path.db or postgresql://...) or set SECCOV_DB"
        raise CoverageError(msg)
    with open_store(args.db, migrate=False, check=False) as store:
        report = check_integrity(store, full=True)
    if args.format == "json":
        print(json.dumps({"store": report.url, "backend": report.backend,
                          "check": report.check, "ok": report.ok,
                          "problems": list(report.problems), "advice": report.advice}))
    else:
        print(f"{report.url}: {report.backend} {report.check}: "
              + ("ok" if report.ok else f"{len(report.problems)} problem(s)"))
        for problem in report.problems:
            print(f"  {problem}")
    if not report.ok:
        print(f"error: {report.url} is damaged; {report.advice}", file=sys.stderr)
        return 2
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Any], int]] = {
    "ingest": _cmd_ingest,
    "positions": _cmd_positions,
    "simulate-feed": _cmd_simulate,
    "users": _cmd_users,
    "audit": _cmd_audit,
    "store": _cmd_store,
}
