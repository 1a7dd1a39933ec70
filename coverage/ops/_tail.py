"""Line sources for the feed: a file (optionally followed as it grows, like tail -f) or a stream.

Each source yields :class:`Line` items with 1-based physical line numbers, and
:data:`IDLE` whenever no new line has arrived for ``flush_s`` (the caller commits then). A
source ends at end of input (not following), when ``stop`` is set, after ``max_seconds``,
or after ``idle_s`` without input.

Lines end at LF or CRLF. An input whose first line break is a bare CR (old Mac
spreadsheets) is cut at every CR, LF or CRLF instead; in any other input a bare CR is part
of its line (the CSV reader refuses that one record).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from coverage import settings

logger = logging.getLogger(__name__)


class Line(NamedTuple):
    """One physical line without its line break; ``utf8`` is False if it was not UTF-8."""

    number: int
    text: str
    utf8: bool


class Idle:
    """Marker: no new input for a while (commit what you have)."""


IDLE = Idle()


@dataclass(frozen=True)
class Limits:
    """When a source stops: a stop event, a total time, a quiet time; and how often to look."""

    stop: threading.Event
    max_seconds: float | None = None
    idle_s: float | None = None
    poll_s: float = settings.FOLLOW_POLL_S
    flush_s: float = settings.INGEST_FLUSH_S


_CHUNK = 1 << 16


class _Splitter:
    """Cuts bytes into lines; the first line break decides between LF/CRLF and bare-CR input."""

    def __init__(self) -> None:
        self.pending = b""
        self.cr_only: bool | None = None
        self.skip_lf = False

    def feed(self, data: bytes) -> list[bytes]:
        """Complete lines (without their breaks) in what has arrived so far."""
        buf = self.pending + data
        if self.cr_only is None:
            cr, lf = buf.find(b"\r"), buf.find(b"\n")
            if lf >= 0 and (cr < 0 or lf < cr or lf == cr + 1):
                self.cr_only = False
            elif cr >= 0 and cr + 1 < len(buf):
                self.cr_only = True
            else:
                self.pending = buf
                return []
        if self.cr_only:
            if self.skip_lf and buf.startswith(b"\n"):  # the LF of a CRLF cut in two
                buf = buf[1:]
            self.skip_lf = buf.endswith(b"\r")
            parts = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        else:
            parts = buf.split(b"\n")
            parts[:-1] = [p[:-1] if p.endswith(b"\r") else p for p in parts[:-1]]
        self.pending = parts.pop()
        return parts

    def rest(self) -> bytes:
        """What is left at the end of the input (a last line without a break)."""
        rest, self.pending = self.pending.rstrip(b"\r"), b""
        return rest


def _decode(number: int, raw: bytes) -> Line:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return Line(number, raw.decode("utf-8"), True)
    except UnicodeDecodeError:
        return Line(number, raw.decode("utf-8", "replace"), False)


class _Clock:
    """Tracks the deadline, quiet time and whether an IDLE marker is due."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.start = self.last_data = time.monotonic()
        self.flushed = True

    def data(self) -> None:
        self.last_data, self.flushed = time.monotonic(), False

    def over(self) -> bool:
        now, lim = time.monotonic(), self.limits
        return (lim.stop.is_set()
                or (lim.max_seconds is not None and now - self.start >= lim.max_seconds)
                or (lim.idle_s is not None and now - self.last_data >= lim.idle_s))

    def idle_due(self) -> bool:
        if not self.flushed and time.monotonic() - self.last_data >= self.limits.flush_s:
            self.flushed = True
            return True
        return False


def file_lines(path: Path, *, follow: bool, limits: Limits) -> Iterator[Line | Idle]:
    """Lines of ``path``; with ``follow``, keep reading as the file grows.

    A line is yielded only once its line break has arrived (a writer may be mid-line),
    except the last line of a file that is not followed. If a followed file is truncated or
    replaced (log rotation), reading restarts at its first line.
    """
    clock = _Clock(limits)
    fh = open(path, "rb")  # noqa: SIM115 - reopened on rotation, closed in finally
    try:
        number, split = 0, _Splitter()
        while not clock.over():
            chunk = fh.read(_CHUNK)
            if chunk:
                for raw in split.feed(chunk):
                    number += 1
                    clock.data()
                    yield _decode(number, raw)
                continue
            if not follow:
                if rest := split.rest():
                    yield _decode(number + 1, rest)
                return
            if clock.idle_due():
                yield IDLE
            if _rotated(path, fh):
                logger.warning("%s was truncated or replaced; reading it from the start",
                               path.name)
                fh.close()
                fh = open(path, "rb")  # noqa: SIM115
                number, split = 0, _Splitter()
                continue
            time.sleep(limits.poll_s)
    finally:
        fh.close()


def _rotated(path: Path, fh: BinaryIO) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    here = os.fstat(fh.fileno())
    return now.st_ino != here.st_ino or now.st_size < fh.tell()


def stream_lines(stream: BinaryIO, *, limits: Limits) -> Iterator[Line | Idle]:
    """Lines of a binary stream (standard input) until it ends or a limit is reached.

    A daemon thread does the blocking reads, so a stop request, the deadline and IDLE
    markers are honoured even while the writer is silent.
    """
    q: queue.Queue[bytes | None] = queue.Queue(maxsize=10_000)
    read = getattr(stream, "read1", stream.read)  # read1: whatever has arrived, no waiting

    def pump() -> None:
        split = _Splitter()
        try:
            for chunk in iter(lambda: read(_CHUNK), b""):
                for raw in split.feed(chunk):
                    q.put(raw)
            if rest := split.rest():
                q.put(rest)
        finally:
            q.put(None)

    threading.Thread(target=pump, name="feed-stdin", daemon=True).start()
    clock = _Clock(limits)
    number = 0
    while not clock.over():
        try:
            raw = q.get(timeout=limits.poll_s)
        except queue.Empty:
            if clock.idle_due():
                yield IDLE
            continue
        if raw is None:
            return
        number += 1
        clock.data()
        yield _decode(number, raw)
