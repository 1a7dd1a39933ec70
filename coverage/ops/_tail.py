"""Line sources for the feed: a file (optionally followed as it grows, like tail -f) or a stream.

Each source yields :class:`Line` items with 1-based physical line numbers, and
:data:`IDLE` whenever no new line has arrived for ``flush_s`` (the caller commits then). A
source ends at end of input (not following), when ``stop`` is set, after ``max_seconds``,
or after ``idle_s`` without input.
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


def _decode(number: int, raw: bytes) -> Line:
    raw = raw.rstrip(b"\r\n")
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
        number, partial = 0, b""
        while not clock.over():
            chunk = fh.readline()
            if chunk:
                partial += chunk
                if partial.endswith(b"\n"):
                    number += 1
                    clock.data()
                    yield _decode(number, partial)
                    partial = b""
                continue
            if not follow:
                if partial:
                    yield _decode(number + 1, partial)
                return
            if clock.idle_due():
                yield IDLE
            if _rotated(path, fh):
                logger.warning("%s was truncated or replaced; reading it from the start",
                               path.name)
                fh.close()
                fh = open(path, "rb")  # noqa: SIM115
                number, partial = 0, b""
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

    def pump() -> None:
        try:
            for raw in iter(stream.readline, b""):
                q.put(raw)
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
