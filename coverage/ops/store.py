"""Store: the SQLite (embedded) or PostgreSQL database behind the live feed, users and audit.

One :class:`Store` is one connection, opened from a URL and migrated to the current schema
(:mod:`coverage.ops._schema`). Every statement is parameterised: values never become SQL text.
Write with :meth:`Store.transaction`; it commits everything or nothing.

    >>> import tempfile
    >>> at = datetime.fromisoformat("2026-11-25T08:00:00+05:00")
    >>> b = Position("B", 34.001, 71.502, to_us(at), at.isoformat())
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with open_store(f"sqlite:///{folder}/live.db") as store:
    ...         run = store.begin_ingest("example", "csv", "feed")
    ...         print(store.write_batch(run, [b, b], []))   # the same report twice: one row
    ...         print(store.latest_positions()[0].at, store.count("positions"))   # in UTC
    BatchCounts(accepted=1, duplicates=1, rejected=0)
    2026-11-25 03:00:00+00:00 1
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from coverage.errors import CoverageError
from coverage.ops._schema import MIGRATIONS, SCHEMA_VERSION, VERSION_TABLE, Dialect

logger = logging.getLogger(__name__)

Row = tuple[Any, ...]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StoreError(CoverageError, RuntimeError):
    """The store cannot be opened, migrated, read or written; the message names the URL."""


_DAMAGED_FIX = (
    "stop every program writing to it, keep a copy of the file (with its -wal and -shm "
    "files), then restore the latest backup, or salvage what is readable with "
    "'sqlite3 damaged.db .recover | sqlite3 new.db' and point --db at the new file; "
    "'python -m coverage store check --db URL' lists every problem")


@dataclass(frozen=True)
class IntegrityReport:
    """The outcome of :func:`check_integrity`: ``problems`` is empty when the store is sound."""

    url: str
    backend: str
    check: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the check found nothing wrong."""
        return not self.problems

    @property
    def advice(self) -> str:
        """What to do next, in one sentence."""
        if self.ok:
            return "nothing to do"
        return _DAMAGED_FIX


def now_us() -> int:
    """The current time as integer microseconds since 1970-01-01 UTC."""
    return time.time_ns() // 1000


def to_us(dt: datetime) -> int:
    """Return an aware datetime as integer microseconds since the epoch (exact)."""
    return (dt - _EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """Return microseconds since the epoch as an aware UTC datetime (exact)."""
    return _EPOCH + timedelta(microseconds=int(us))


@dataclass(frozen=True)
class Position:
    """One validated position report; ``timestamp`` is the text as received (with offset)."""

    officer_id: str
    lat: float
    lon: float
    ts_us: int
    timestamp: str
    status: str | None = None
    speed_kph: float | None = None
    heading_deg: float | None = None
    source: str = "feed"
    line: int | None = None

    @property
    def at(self) -> datetime:
        """The timestamp as an aware UTC datetime."""
        return from_us(self.ts_us)


@dataclass(frozen=True)
class Reject:
    """A record that was refused: where it came from, why, and its text as read."""

    input_name: str
    line: int
    reason: str
    raw: str


@dataclass(frozen=True)
class BatchCounts:
    """What one committed batch did: new history rows, repeats ignored, records refused."""

    accepted: int
    duplicates: int
    rejected: int


@dataclass(frozen=True)
class IngestRecord:
    """One ingest run as stored; its counts cover the batches committed so far."""

    id: int
    input_name: str
    format: str
    source: str
    started_at: datetime
    finished_at: datetime | None
    read: int
    accepted: int
    duplicates: int
    rejected: int


class Tx:
    """Statements inside one transaction (from :meth:`Store.transaction`)."""

    def __init__(self, cursor: Any, dialect: Dialect) -> None:
        self._cur = cursor
        self._dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self._dialect == "postgresql" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement with ``?`` placeholders; return the rows it changed."""
        if params:
            self._cur.execute(self._sql(sql), tuple(params))
        else:
            self._cur.execute(sql)
        return int(self._cur.rowcount)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement per row; return the rows changed in total."""
        rows = [tuple(r) for r in rows]
        if not rows:
            return 0
        self._cur.executemany(self._sql(sql), rows)
        return int(self._cur.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a query; return its first row, or None."""
        self._cur.execute(self._sql(sql), tuple(params))
        row = self._cur.fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query; return every row."""
        self._cur.execute(self._sql(sql), tuple(params))
        return [tuple(r) for r in self._cur.fetchall()]


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


class Store:
    """A connection to the store at ``url``; safe to share between threads (one at a time).

    Use :func:`open_store` to open one; close it with :meth:`close` or a ``with`` block.
    """

    def __init__(self, url: str) -> None:
        self.url = _redact(url)
        self._dsn = url
        self._lock = threading.RLock()
        scheme = urlsplit(url).scheme
        try:
            if scheme == "sqlite":
                self.dialect: Dialect = "sqlite"
                self._conn: Any = self._connect_sqlite(url)
            elif scheme in ("postgresql", "postgres"):
                self.dialect = "postgresql"
                self._conn = self._connect_postgresql(url)
            else:
                msg = (f"store URL {self.url!r}: unknown scheme {scheme!r}; use "
                       "sqlite:///path/to.db or postgresql://user:pass@host/db")
                raise StoreError(msg)
        except (sqlite3.Error, OSError) as exc:
            fix = f" {_DAMAGED_FIX}" if isinstance(exc, sqlite3.DatabaseError) and (
                "malformed" in str(exc) or "not a database" in str(exc)) else ""
            msg = f"{self.url}: cannot open the store: {exc}.{fix}"
            raise StoreError(msg) from exc

    def _connect_sqlite(self, url: str) -> sqlite3.Connection:
        path = unquote(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else ""
        if not path:
            msg = f"store URL {self.url!r}: give a file, e.g. sqlite:///live.db (relative) or " \
                  "sqlite:////var/lib/seccov/live.db (absolute)"
            raise StoreError(msg)
        if path != ":memory:" and not Path(path).parent.is_dir():
            msg = f"{self.url}: folder {Path(path).parent} does not exist; create it first"
            raise StoreError(msg)
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _connect_postgresql(self, url: str) -> Any:
        import psycopg

        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            msg = f"{self.url}: cannot connect: {str(exc).strip()}"
            raise StoreError(msg) from exc

    def _errors(self) -> tuple[type[BaseException], ...]:
        if self.dialect == "sqlite":
            return (sqlite3.Error,)
        import psycopg

        return (psycopg.Error,)

    def _revive(self) -> None:
        """Reconnect a PostgreSQL connection the server closed (restart, idle timeout).

        The statement that met the closed connection failed with StoreError; the next
        one reconnects here. SQLite files need no reconnection.
        """
        if self.dialect == "postgresql" and self._conn.closed:
            logger.warning("%s: connection closed; reconnecting", self.url)
            self._conn = self._connect_postgresql(self._dsn)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Run statements in one transaction: all are committed, or none on an exception.

        On SQLite the write lock is taken at the start (``BEGIN IMMEDIATE``), so concurrent
        writers queue instead of failing half-way.
        """
        with self._lock:
            self._revive()
            try:
                if self.dialect == "sqlite":
                    cur = self._conn.cursor()
                    cur.execute("BEGIN IMMEDIATE")
                    try:
                        yield Tx(cur, self.dialect)
                    except BaseException:
                        cur.execute("ROLLBACK")
                        raise
                    cur.execute("COMMIT")
                else:
                    with self._conn.transaction(), self._conn.cursor() as cur:
                        yield Tx(cur, self.dialect)
            except self._errors() as exc:
                msg = f"{self.url}: {str(exc).strip()}"
                raise StoreError(msg) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one read-only query (``?`` placeholders) on a consistent snapshot.

        A read that meets a PostgreSQL connection the server dropped is retried once on a
        new connection (reads change nothing, so this is safe; writes are not retried).
        """
        with self._lock:
            for attempt in (1, 2):
                self._revive()
                try:
                    cur = self._conn.cursor()
                    try:
                        return Tx(cur, self.dialect).all(sql, params)
                    finally:
                        cur.close()
                except self._errors() as exc:
                    if attempt == 1 and self.dialect == "postgresql" and self._conn.closed:
                        continue
                    msg = f"{self.url}: {str(exc).strip()}"
                    raise StoreError(msg) from exc
            raise AssertionError  # unreachable: the second attempt returns or raises

    def migrate(self) -> int:
        """Apply the pending migrations in order, in one transaction; return the version."""
        with self.transaction() as tx:

            def run(sql: str) -> None:
                tx.execute(sql)

            tx.execute(VERSION_TABLE)
            if self.dialect == "postgresql":
                tx.execute("LOCK TABLE schema_version IN EXCLUSIVE MODE")
            row = tx.one("SELECT MAX(version) FROM schema_version")
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                msg = (f"{self.url}: the store has schema version {current}, newer than this "
                       f"program's {SCHEMA_VERSION}; upgrade the program")
                raise StoreError(msg)
            for m in MIGRATIONS:
                if m.version > current:
                    note = m.apply(run, self.dialect)
                    tx.execute("INSERT INTO schema_version (version, description, applied_us) "
                               "VALUES (?, ?, ?)", (m.version, f"{m.description}: {note}",
                                                    now_us()))
                    logger.info("%s: schema migrated to version %d (%s)", self.url,
                                m.version, note)
        return max(current, SCHEMA_VERSION)

    def schema_version(self) -> int:
        """The highest migration applied to this store."""
        return int(self.query("SELECT MAX(version) FROM schema_version")[0][0] or 0)

    # --- positions ---------------------------------------------------------------------

    def begin_ingest(self, input_name: str, fmt: str, source: str) -> int:
        """Record the start of an ingest run; return its id."""
        t = now_us()
        with self.transaction() as tx:
            row = tx.one("INSERT INTO ingests (input_name, format, source, started_us, "
                         "updated_us) VALUES (?, ?, ?, ?, ?) RETURNING id",
                         (input_name, fmt, source, t, t))
        assert row is not None
        return int(row[0])

    def write_batch(self, ingest_id: int, positions: Sequence[Position],
                    rejects: Sequence[Reject]) -> BatchCounts:
        """Commit one batch: history (repeats ignored), newer latest positions, rejects.

        An older timestamp never replaces a newer latest position, but is kept in history.
        Everything in the batch, and the run's counters, commit together or not at all.
        """
        t = now_us()
        newest: dict[str, Position] = {}
        for p in positions:
            if p.officer_id not in newest or p.ts_us > newest[p.officer_id].ts_us:
                newest[p.officer_id] = p
        with self.transaction() as tx:
            accepted = tx.executemany(
                "INSERT INTO positions (officer_id, ts_us, ts_text, lat, lon, status, speed_kph,"
                " heading_deg, source, received_us, ingest_id, line) VALUES (?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?) ON CONFLICT (officer_id, ts_us, lat, lon) DO NOTHING",
                [(p.officer_id, p.ts_us, p.timestamp, p.lat, p.lon, p.status, p.speed_kph,
                  p.heading_deg, p.source, t, ingest_id, p.line) for p in positions])
            tx.executemany(
                "INSERT INTO latest_positions (officer_id, ts_us, ts_text, lat, lon, status, "
                "speed_kph, heading_deg, source, received_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?) ON CONFLICT (officer_id) DO UPDATE SET ts_us = excluded.ts_us, "
                "ts_text = excluded.ts_text, lat = excluded.lat, lon = excluded.lon, "
                "status = excluded.status, speed_kph = excluded.speed_kph, "
                "heading_deg = excluded.heading_deg, source = excluded.source, "
                "received_us = excluded.received_us "
                "WHERE excluded.ts_us > latest_positions.ts_us",
                [(p.officer_id, p.ts_us, p.timestamp, p.lat, p.lon, p.status, p.speed_kph,
                  p.heading_deg, p.source, t) for p in newest.values()])
            tx.executemany(
                "INSERT INTO rejects (input_name, line, reason, raw, raw_sha256, received_us, "
                "ingest_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (input_name, line, raw_sha256) DO NOTHING",
                [(r.input_name, r.line, r.reason, r.raw,
                  hashlib.sha256(r.raw.encode("utf-8", "replace")).hexdigest(), t, ingest_id)
                 for r in rejects])
            counts = BatchCounts(accepted, len(positions) - accepted, len(rejects))
            tx.execute("UPDATE ingests SET records_read = records_read + ?, accepted = accepted"
                       " + ?, duplicates = duplicates + ?, rejected = rejected + ?, "
                       "updated_us = ? WHERE id = ?",
                       (len(positions) + len(rejects), counts.accepted, counts.duplicates,
                        counts.rejected, t, ingest_id))
        return counts

    def finish_ingest(self, ingest_id: int) -> None:
        """Mark an ingest run finished."""
        with self.transaction() as tx:
            tx.execute("UPDATE ingests SET finished_us = ? WHERE id = ?", (now_us(), ingest_id))

    def ingests(self) -> list[IngestRecord]:
        """Every ingest run, oldest first."""
        rows = self.query("SELECT id, input_name, format, source, started_us, finished_us, "
                          "records_read, accepted, duplicates, rejected FROM ingests ORDER BY id")
        return [IngestRecord(int(r[0]), r[1], r[2], r[3], from_us(r[4]),
                             None if r[5] is None else from_us(r[5]), *map(int, r[6:]))
                for r in rows]

    _POSITION = "officer_id, lat, lon, ts_us, ts_text, status, speed_kph, heading_deg, source"

    def latest_positions(self) -> list[Position]:
        """The newest position of every officer, by officer_id."""
        rows = self.query(f"SELECT {self._POSITION} FROM latest_positions ORDER BY officer_id")
        return [Position(*r) for r in rows]

    def history(self, *, officer_id: str | None = None, since_us: int | None = None,
                limit: int | None = None) -> list[Position]:
        """Stored positions, oldest first; optionally one officer's, or newer than a time."""
        sql = f"SELECT {self._POSITION}, line FROM positions WHERE 1 = 1"
        params: list[Any] = []
        if officer_id is not None:
            sql, params = sql + " AND officer_id = ?", [*params, officer_id]
        if since_us is not None:
            sql, params = sql + " AND ts_us >= ?", [*params, since_us]
        sql += " ORDER BY ts_us, id"
        if limit is not None:
            sql, params = sql + " LIMIT ?", [*params, int(limit)]
        return [Position(*r) for r in self.query(sql, params)]

    def rejects(self, *, limit: int | None = None) -> list[Reject]:
        """Refused records, in the order they were stored."""
        sql = "SELECT input_name, line, reason, raw FROM rejects ORDER BY id"
        params: list[Any] = []
        if limit is not None:
            sql, params = sql + " LIMIT ?", [int(limit)]
        return [Reject(r[0], int(r[1]), r[2], r[3]) for r in self.query(sql, params)]

    def count(self, table: str) -> int:
        """Rows in one of the store's tables (names are checked, never interpolated freely)."""
        if table not in _TABLES:
            msg = f"unknown table {table!r}; one of {', '.join(_TABLES)}"
            raise StoreError(msg)
        return int(self.query(f"SELECT COUNT(*) FROM {table}")[0][0])


_TABLES = ("datasets", "dataset_officers", "ingests", "positions", "latest_positions",
           "rejects", "scenarios", "users", "login_failures", "audit_log", "schema_version")


def check_integrity(store: Store, *, full: bool = True) -> IntegrityReport:
    """Check a store's file for damage: SQLite's ``integrity_check`` (``quick_check``
    unless ``full``), at most 100 problems; a PostgreSQL server checks its own pages, so
    there only the schema tables are read."""
    check = "integrity_check" if full else "quick_check"
    if store.dialect != "sqlite":
        try:
            store.schema_version()
            for table in _TABLES:
                store.count(table)
        except StoreError as exc:
            return IntegrityReport(store.url, store.dialect, "tables readable", (str(exc),))
        return IntegrityReport(store.url, store.dialect, "tables readable", ())
    try:
        rows = store.query(f"PRAGMA {check}(100)")
    except StoreError as exc:
        return IntegrityReport(store.url, "sqlite", check, (str(exc),))
    found = tuple(str(r[0]) for r in rows if str(r[0]) != "ok")
    return IntegrityReport(store.url, "sqlite", check, found)


def _refuse_damaged(store: Store) -> None:
    report = check_integrity(store, full=False)
    if not report.ok:
        store.close()
        first = report.problems[0]
        more = f" and {len(report.problems) - 1} more" if len(report.problems) > 1 else ""
        msg = (f"{store.url}: the store file is damaged (PRAGMA quick_check: {first}{more}); "
               f"nothing was read or written. {_DAMAGED_FIX}")
        raise StoreError(msg)


def open_store(url: str, *, migrate: bool = True, check: bool = True) -> Store:
    """Open the store at ``url`` and bring its schema up to date.

    Parameters
    ----------
    url
        ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (SQLite in WAL mode,
        created if missing), or ``postgresql://user:pass@host:port/db``.
    migrate
        Apply pending migrations (the default). Raises StoreError if the store's schema is
        newer than this program's.
    check
        Run SQLite's ``quick_check`` first (the default) and refuse a damaged file with a
        StoreError that says what to do; :func:`check_integrity` gives the full list.
    """
    store = Store(url)
    if check and store.dialect == "sqlite":
        _refuse_damaged(store)
    if migrate:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
