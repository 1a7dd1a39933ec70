"""Live position feed: read CSV, NDJSON or GeoJSON records, validate them, store them.

Every record read ends up in exactly one of three counts: accepted (a new history row),
duplicate (the same officer, timestamp and position is already stored) or rejected (kept
in the rejects table with its reason and line). An older timestamp never replaces a newer
latest position; it is still kept in history. Records are committed in batches, so a
crash loses at most the batch in flight and re-running the same input adds nothing.

    >>> import tempfile
    >>> from datetime import datetime
    >>> from coverage.ops.store import open_store
    >>> t = "2026-11-25T08:00:00+05:00"
    >>> now = to_us(datetime.fromisoformat("2026-11-25T08:05:00+05:00"))   # a fixed clock
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "positions.csv"
    ...     _ = path.write_text("officer_id,lat,lon,timestamp\\n"
    ...                         f"A,34.0,71.5,{t}\\nB,34.001,71.502,{t}\\nD,34.0,191,{t}\\n")
    ...     with open_store(f"sqlite:///{folder}/live.db") as store:
    ...         for _ in range(2):   # the same file again adds nothing
    ...             print(ingest_file(store, path, now=now).summary())
    ...         print(store.rejects()[0].reason)
    positions.csv: 3 read: 2 accepted, 0 duplicates, 1 rejected
    positions.csv: 3 read: 0 accepted, 2 duplicates, 1 rejected
    lon 191 is outside -180..180; give WGS84 decimal degrees
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from coverage import settings
from coverage.data.loaders import STATUSES
from coverage.data.loaders import parse_timestamp as parse_datetime
from coverage.errors import DataError, DataWarning, problems_message
from coverage.ops._tail import IDLE, Idle, Limits, Line, file_lines, stream_lines
from coverage.ops.registry import known_officers
from coverage.ops.store import Position, Reject, Store, now_us, to_us

logger = logging.getLogger(__name__)

FORMATS = ("csv", "ndjson", "geojson")
REQUIRED = ("officer_id", "lat", "lon", "timestamp")
OPTIONAL = ("status", "speed_kph", "heading_deg")
_SUFFIX_FORMAT = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".geojson": "geojson"}
#: A number as a feed writes it: ASCII digits, one optional point, an optional exponent
#: (no ``_`` separators, no other scripts' digits, which Python's float() would accept).
_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not tab or line breaks
_MAX_ID, _MAX_RAW, _MAX_RECORD, _MAX_RECORD_LINES = 128, 4_000, 65_536, 8
_DEGREES = "give WGS84 decimal degrees"


@dataclass(frozen=True)
class RawRecord:
    """One record as read: its first line, its text, and its fields or a reading problem."""

    line: int
    raw: str
    fields: Mapping[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class IngestResult:
    """What an ingest run did; ``read == accepted + duplicates + rejected``."""

    input_name: str
    ingest_id: int
    read: int
    accepted: int
    duplicates: int
    rejected: int
    seconds: float

    @property
    def per_s(self) -> float:
        """Records read per second of wall time."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line for people: the counts that add up to the records read."""
        return (f"{self.input_name}: {self.read:,} read: {self.accepted:,} accepted, "
                f"{self.duplicates:,} duplicates, {self.rejected:,} rejected")


def parse_timestamp(text: str) -> tuple[int | None, str | None]:
    """Return (microseconds since the epoch, None), or (None, problem) for bad text.

    The same parser as officers' ``last_seen`` (:func:`coverage.data.loaders.parse_timestamp`).
    """
    when, problem = parse_datetime(text)
    if when is None:
        return None, problem
    try:
        return to_us(when), None
    except OverflowError:
        return None, f"timestamp '{text}' is not a valid date-time; check the date and time"


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    s = str(value).strip()
    return s or None


def _number(fields: Mapping[str, Any], name: str, problems: list[str], *, fix: str,
            lo: float | None = None, hi: float | None = None) -> float | None:
    value = fields.get(name)
    text = _text(value)
    if text is None:
        return None
    try:
        if isinstance(value, bool) or not (isinstance(value, int | float)
                                           or _NUMERIC.fullmatch(text)):
            raise ValueError
        num = float(value) if isinstance(value, int | float) else float(text)
    except (ValueError, OverflowError):
        num = math.nan
    if len(text) > 40:
        text = text[:40] + "..."
    if not math.isfinite(num):
        problems.append(f"{name} '{text}' is not a number; {fix}")
        return None
    if (lo is not None and num < lo) or (hi is not None and num > hi):
        where = ("negative" if hi is None or (name == "speed_kph" and num < 0)
                 else f"outside {lo:g}..{hi:g}")
        problems.append(f"{name} {text} is {where}; {fix}")
        return None
    return num


def validate(fields: Mapping[str, Any], *, line: int, now: int,
             source: str = "feed",
             future_tolerance_s: float = settings.FUTURE_TOLERANCE_S,
             oldest: datetime = settings.FEED_OLDEST_TIMESTAMP,
             known: tuple[str, frozenset[str]] | None = None) -> Position | str:
    """Return a :class:`Position` for a good record, else the reason it is refused.

    ``now`` is the clock in microseconds since the epoch (a timestamp more than
    ``future_tolerance_s`` ahead of it is refused, and so is one before ``oldest``, an
    aware datetime); ``known`` is (dataset name, officer
    ids) when an officer list is registered: other ids are refused.
    """
    problems = [f"{f} is a JSON {type(fields[f]).__name__}, not a single value"
                for f in (*REQUIRED, *OPTIONAL) if isinstance(fields.get(f), dict | list)]
    missing = [f for f in REQUIRED if _text(fields.get(f)) is None]
    if missing:
        problems.append(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                        "missing; every position needs officer_id, lat, lon and timestamp")
    oid = _text(fields.get("officer_id"))
    if oid is not None and len(oid) > _MAX_ID:
        problems.append(f"officer_id is {len(oid)} characters long; at most {_MAX_ID}")
    elif oid is not None and (bad := _CONTROL.search(oid)):
        problems.append(f"officer_id holds a control character (U+{ord(bad.group()):04X}); "
                        "ids are printable text")
    elif oid is not None and known is not None and oid not in known[1]:
        problems.append(f"officer_id '{oid}' is not in the registered officer list "
                        f"('{known[0]}'); fix the id or register the current roster")
    lat = _number(fields, "lat", problems, fix=_DEGREES, lo=-90, hi=90)
    lon = _number(fields, "lon", problems, fix=_DEGREES, lo=-180, hi=180)
    ts_text, ts_us = _text(fields.get("timestamp")), None
    if ts_text is not None:
        ts_us, problem = parse_timestamp(ts_text)
        if problem:
            problems.append(problem)
        elif ts_us is not None and ts_us < to_us(oldest):
            problems.append(f"timestamp '{ts_text}' is before {oldest:%Y-%m-%d}: too old to "
                            "be a real report; check the device clock")
        elif ts_us is not None and ts_us > now + future_tolerance_s * 1e6:
            ahead = (ts_us - now) / 1e6
            problems.append(f"timestamp '{ts_text}' is {ahead:,.0f} s ahead of the clock "
                            f"(more than {future_tolerance_s:g} s); check the device clock")
    status = _text(fields.get("status"))
    if status is not None and status not in STATUSES:
        problems.append(f"status '{status}' is not one of {', '.join(STATUSES)}")
    speed = _number(fields, "speed_kph", problems, lo=0, hi=settings.FEED_MAX_SPEED_KPH,
                    fix=f"give km/h from 0 to {settings.FEED_MAX_SPEED_KPH:g}, or leave it "
                        "empty")
    heading = _number(fields, "heading_deg", problems, lo=0, hi=360,
                      fix="give degrees clockwise from north, or leave it empty")
    if problems:
        return " | ".join(problems)
    if oid is None or lat is None or lon is None or ts_text is None or ts_us is None:
        return "incomplete record"  # unreachable: each missing field is a problem above
    return Position(oid, lat, lon, ts_us, ts_text, status, speed, heading, source, line)


def _open_quote(text: str) -> bool:
    """True when ``text`` ends inside a quoted field, reading quotes as the csv module does."""
    if '"' not in text:
        return False
    state = "start"  # start of a field, unquoted, quoted, quote seen inside a quoted field
    for ch in text:
        if state == "quoted":
            state = "quote" if ch == '"' else "quoted"
        elif state == "quote" and ch == '"':
            state = "quoted"  # a doubled quote stands for one quote
        elif ch == '"' and state == "start":
            state = "quoted"
        else:
            state = "start" if ch in ",\n" else "unquoted"
    return state == "quoted"


def _csv_row(text: str, header: list[str], line: int) -> RawRecord:
    """One complete CSV record: its fields, or the reason it cannot be read."""
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        problem = ("has a carriage return (CR) inside a value; end each record with one "
                   "line break" if "new-line" in str(exc) else
                   f"cannot be read as CSV ({exc}); check its quotes")
        return RawRecord(line, text, problem=problem)
    row = rows[0] if rows else []
    if len(rows) > 1:
        return RawRecord(line, text, problem="has a carriage return (CR) inside a value; end "
                                             "each record with one line break")
    if len(row) > len(header):
        return RawRecord(line, text, problem=f"has {len(row)} fields but the header has "
                                             f"{len(header)}; quote values with commas")
    return RawRecord(line, text, fields=dict(zip(header, row, strict=False)))


def _csv_header(item: Line, name: str) -> list[str]:
    text = item.text
    if "\x00" in text or not item.utf8:
        msg = problems_message(name, [f"line {item.number}: the header is not UTF-8 text; save "
                                      "the feed as UTF-8 CSV"])
        raise DataError(msg)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        msg = problems_message(name, [f"line {item.number}: the header cannot be read as CSV "
                                      f"({exc}); write one line of column names"])
        raise DataError(msg) from exc
    header = [h.strip() for h in rows[0]] if rows else []
    _check_header(header, name, item.number)
    return header


def _csv_records(lines: Iterable[Line | Idle], name: str) -> Iterator[RawRecord | Idle]:
    """Records of a CSV feed; every record read is yielded once, a broken one as a problem.

    A quoted field may run on over at most ``_MAX_RECORD_LINES`` lines. A quote that is
    still open after that (or at the end of the input, or when the writer falls silent)
    was a stray one: its first line is one broken record and the lines after it are read
    again as records of their own.
    """
    header: list[str] | None = None
    buf: list[Line] = []

    def settle(final: bool) -> Iterator[RawRecord]:
        """Yield what ``buf`` holds once it is complete (or ``final``: must be settled)."""
        nonlocal buf
        while buf:
            text = "\n".join(li.text for li in buf)
            if not _open_quote(text):
                yield _csv_row(text, header or [], buf[0].number)
                buf = []
                return
            if not final and len(buf) < _MAX_RECORD_LINES and len(text) < _MAX_RECORD:
                return  # a quoted field runs on to the next line
            first, rest = buf[0], buf[1:]
            buf = []
            yield RawRecord(first.number, first.text,
                            problem="has a quoted field that never ends")
            for li in rest:  # the lines a stray quote swallowed are records again
                yield from take(li, final=final)

    def take(item: Line, *, final: bool = False) -> Iterator[RawRecord]:
        if not buf and not item.text.strip():
            return
        if not item.utf8:
            yield from settle(True)
            yield RawRecord(item.number, item.text,
                            problem="is not UTF-8 text; save the feed as UTF-8")
            return
        buf.append(item)
        yield from settle(final)

    for item in lines:
        if isinstance(item, Idle):
            yield from settle(True)  # the writer stopped inside a quote: a broken record
            yield item
            continue
        if header is None:
            if item.text.strip():
                header = _csv_header(item, name)
            continue
        yield from take(item)
    yield from settle(True)


def _check_header(header: list[str], name: str, line: int) -> None:
    if header and sum(h.count(";") for h in header) >= len(header):
        msg = problems_message(name, [f"line {line}: this file uses ';' to separate values; "
                                      "write the feed comma-separated with '.' decimals"])
        raise DataError(msg)
    twice = [c for c in dict.fromkeys(header) if header.count(c) > 1]
    if twice:
        where = "; ".join(f"'{c}' (columns " + " and ".join(
            str(i + 1) for i, h in enumerate(header) if h == c) + ")" for c in twice)
        msg = problems_message(name, [f"line {line}: column(s) named more than once: {where}; "
                                      "keep one, a second value would be lost"])
        raise DataError(msg)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        msg = problems_message(name, [f"line {line}: missing required column(s) "
                                      f"{', '.join(missing)}; columns found: "
                                      f"{', '.join(header) or 'none'}"])
        raise DataError(msg)
    extra = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
    if extra:
        warnings.warn(f"{name}: ignored unknown column(s) {', '.join(extra)}; expected "
                      f"{', '.join((*REQUIRED, *OPTIONAL))}", DataWarning, stacklevel=3)


def _json_fields(obj: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """Fields of a JSON object, or of a GeoJSON Point Feature (lon/lat from geometry)."""
    if not isinstance(obj, dict):
        return None, (f"is a JSON {type(obj).__name__}, not an object; write one object "
                      "per record")
    if obj.get("type") != "Feature":
        return obj, None
    props = obj.get("properties")
    fields = dict(props) if isinstance(props, dict) else {}
    geom = obj.get("geometry")
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if not isinstance(geom, dict) or geom.get("type") != "Point" or not isinstance(
            coords, list) or len(coords) < 2:
        kind = geom.get("type") if isinstance(geom, dict) else "missing"
        return None, f"geometry is {kind}, not a Point; give each position one point"
    fields["lon"], fields["lat"] = coords[0], coords[1]
    return fields, None


def _ndjson_records(lines: Iterable[Line | Idle]) -> Iterator[RawRecord | Idle]:
    for item in lines:
        if isinstance(item, Idle):
            yield item
            continue
        text = item.text.strip()
        if not text:
            continue
        if not item.utf8:
            yield RawRecord(item.number, text, problem="is not UTF-8 text; save it as UTF-8")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RawRecord(item.number, text, problem=f"is not valid JSON ({exc.msg} at "
                                                       f"column {exc.colno}); write one JSON "
                                                       "object per line")
            continue
        fields, problem = _json_fields(obj)
        yield RawRecord(item.number, text, fields=fields, problem=problem)


def _geojson_records(text: str, name: str) -> Iterator[RawRecord]:
    """Features of a GeoJSON document; a record's ``line`` is its feature number."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = problems_message(name, [f"line {exc.lineno}: not valid JSON ({exc.msg}); "
                                      "save it as a GeoJSON FeatureCollection"])
        raise DataError(msg) from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection" and isinstance(
            doc.get("features"), list):
        features = doc["features"]
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        msg = problems_message(name, ["not a GeoJSON FeatureCollection of Point features"])
        raise DataError(msg)
    for i, feat in enumerate(features, start=1):
        fields, problem = _json_fields(feat)
        yield RawRecord(i, json.dumps(feat, ensure_ascii=False), fields=fields, problem=problem)


def read_records(lines: Iterable[Line | Idle], fmt: str, name: str
                 ) -> Iterator[RawRecord | Idle]:
    """Records of ``lines`` in format ``fmt`` (``csv``, ``ndjson`` or ``geojson``)."""
    if fmt == "csv":
        return _csv_records(lines, name)
    if fmt == "ndjson":
        return _ndjson_records(lines)
    if fmt == "geojson":
        text = "\n".join(li.text for li in lines if isinstance(li, Line))
        return _geojson_records(text, name)
    msg = f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"
    raise DataError(msg)


def ingest_records(store: Store, records: Iterable[RawRecord | Idle], *, input_name: str,
                   fmt: str, source: str = "feed", batch_size: int = settings.INGEST_BATCH,
                   flush_s: float = settings.INGEST_FLUSH_S, now: int | None = None,
                   future_tolerance_s: float = settings.FUTURE_TOLERANCE_S,
                   check_officers: bool = True) -> IngestResult:
    """Validate and store ``records`` in batches; return the counts.

    A batch is committed when it holds ``batch_size`` records, when ``flush_s`` has passed
    since the last commit, at an :data:`IDLE` marker, and at the end. ``now`` fixes the
    clock (microseconds since the epoch) for the future-timestamp check; by default the
    wall clock is read.
    """
    t0 = time.perf_counter()
    known = known_officers(store) if check_officers else None
    ingest_id = store.begin_ingest(input_name, fmt, source)
    positions: list[Position] = []
    rejects: list[Reject] = []
    read = accepted = duplicates = rejected = 0
    last = time.monotonic()

    def commit() -> None:
        nonlocal accepted, duplicates, rejected, last
        counts = store.write_batch(ingest_id, positions, rejects)
        accepted, duplicates = accepted + counts.accepted, duplicates + counts.duplicates
        rejected += counts.rejected
        positions.clear()
        rejects.clear()
        last = time.monotonic()

    for rec in records:
        if isinstance(rec, Idle):
            if positions or rejects:
                commit()
            continue
        read += 1
        result = rec.problem or validate(
            rec.fields or {}, line=rec.line, source=source, known=known,
            now=now if now is not None else now_us(), future_tolerance_s=future_tolerance_s)
        if isinstance(result, Position):
            positions.append(result)
        else:
            rejects.append(Reject(input_name, rec.line, result, rec.raw[:_MAX_RAW]))
        if len(positions) + len(rejects) >= batch_size or time.monotonic() - last >= flush_s:
            commit()
    if positions or rejects:
        commit()
    store.finish_ingest(ingest_id)
    done = IngestResult(input_name, ingest_id, read, accepted, duplicates, rejected,
                        time.perf_counter() - t0)
    logger.info("%s", done.summary())
    return done


def guess_format(path: str | Path) -> str:
    """Format from the file suffix: .csv, .ndjson/.jsonl, .geojson; standard input is CSV."""
    if str(path) == "-":
        return "csv"
    fmt = _SUFFIX_FORMAT.get(Path(path).suffix.lower())
    if fmt is None:
        msg = (f"{Path(path).name}: cannot tell the format from the suffix; pass --format "
               f"{'|'.join(FORMATS)}")
        raise DataError(msg)
    return fmt


def ingest_file(store: Store, path: str | Path, *, fmt: str | None = None,
                follow: bool = False, max_seconds: float | None = None,
                idle_s: float | None = None, stop: threading.Event | None = None,
                source: str = "feed", **options: Any) -> IngestResult:
    """Ingest a file (``"-"``: standard input) of positions; see :func:`ingest_records`.

    With ``follow`` the file is read as it grows until ``stop`` is set, ``max_seconds``
    pass, or nothing new arrives for ``idle_s``. Raises DataError for a file that cannot
    be read at all (missing, no header columns, not GeoJSON).

    Standard input cannot be read again after a crash, so it is committed in batches of
    ``settings.INGEST_STDIN_BATCH`` (unless ``batch_size`` says otherwise): a kill loses at
    most that batch (at-most-once); a file re-read after a crash loses nothing.
    """
    fmt = fmt or guess_format(path)
    if fmt not in FORMATS:
        msg = f"--format: '{fmt}' is not one of {', '.join(FORMATS)}"
        raise DataError(msg)
    if follow and fmt == "geojson":
        msg = "--follow needs a line format: csv or ndjson (one record per line)"
        raise DataError(msg)
    limits = Limits(stop=stop or threading.Event(), max_seconds=max_seconds, idle_s=idle_s)
    name = "stdin" if str(path) == "-" else Path(path).name
    if str(path) == "-":
        options.setdefault("batch_size", settings.INGEST_STDIN_BATCH)
        lines: Iterable[Line | Idle] = stream_lines(sys.stdin.buffer, limits=limits)
    else:
        p = Path(path)
        if not p.is_file():
            msg = f"{p.name}: file not found at {p}" if not p.exists() else f"{p} is not a file"
            raise DataError(msg)
        lines = file_lines(p, follow=follow, limits=limits)
    return ingest_records(store, read_records(lines, fmt, name), input_name=name, fmt=fmt,
                          source=source, **options)


__all__ = ["FORMATS", "IDLE", "IngestResult", "RawRecord", "guess_format", "ingest_file",
           "ingest_records", "parse_timestamp", "read_records", "validate"]
