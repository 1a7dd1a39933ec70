"""Group commit for the HTTP feed: one writer thread, one transaction per group of requests.

Requests hand their validated position (or reject) to :meth:`GroupWriter.submit` and wait on
the returned future; the writer thread takes everything queued, commits it with one
:meth:`~coverage.ops.store.Store.write_batch` (the same writes as file ingest), and only
then resolves the futures. So a request is answered 200 only once its position is
committed, and while one group commits the next one gathers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from coverage import settings
from coverage.ops.registry import known_officers
from coverage.ops.store import Position, Reject, Store

logger = logging.getLogger(__name__)

#: How often the writer re-reads the registered roster (seconds).
ROSTER_REFRESH_S = 30.0


@dataclass(frozen=True)
class _Write:
    record: Position | Reject
    done: Future[None] | asyncio.Future[None]
    loop: asyncio.AbstractEventLoop | None = None


@dataclass(frozen=True)
class _Call:
    fn: Callable[[Store], Any]
    done: Future[Any]


_STOP = object()


def _settle(done: Future[None] | asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # an asyncio future whose request gave up waiting
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _settle_all(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for done in futures:
        _settle(done, error)


class GroupWriter:
    """The feed's single writer: owns ``store`` and one ingest run (``ingest_id``)."""

    def __init__(self, store: Store, input_name: str, *,
                 max_group: int = settings.INGEST_BATCH) -> None:
        self.store = store
        self.input_name = input_name
        self.max_group = max_group
        self.ingest_id = store.begin_ingest(input_name, "http", "feed")
        self.known = known_officers(store)
        self._known_at = time.monotonic()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="seccov-feed-writer",
                                        daemon=True)
        self._thread.start()

    def submit(self, record: Position | Reject) -> Future[None]:
        """Queue one record; the future completes once it is committed (or fails)."""
        done: Future[None] = Future()
        self._queue.put(_Write(record, done))
        return done

    def submit_async(self, record: Position | Reject) -> asyncio.Future[None]:
        """As :meth:`submit`, for a coroutine: an asyncio future of the running loop.

        The writer resolves all the futures of one loop in a group with a single wake-up
        of that loop, not one per request.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put(_Write(record, done, loop))
        return done

    def call(self, fn: Callable[[Store], Any]) -> Future[Any]:
        """Run ``fn(store)`` on the writer thread, between groups; return its future."""
        done: Future[Any] = Future()
        self._queue.put(_Call(fn, done))
        return done

    def close(self, timeout_s: float = 60.0) -> None:
        """Commit what is queued, mark the ingest run finished and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout_s)
        try:
            self.store.finish_ingest(self.ingest_id)
        except Exception:  # the store went away: nothing left to record it in
            logger.exception("%s: could not mark the ingest run finished", self.input_name)

    def _run(self) -> None:
        stop = False
        while not stop:
            items = [self._queue.get()]
            while len(items) < self.max_group:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in items:
                stop = True
                items = [i for i in items if i is not _STOP]
            try:
                self._commit([i for i in items if isinstance(i, _Write)])
                for item in items:
                    if isinstance(item, _Call):
                        self._call(item)
                if time.monotonic() - self._known_at > ROSTER_REFRESH_S:
                    self._refresh_roster()
            except Exception:  # the writer must outlive any one group; requests time out
                logger.exception("%s: writer error", self.input_name)

    def _commit(self, writes: list[_Write]) -> None:
        if not writes:
            return
        positions = [w.record for w in writes if isinstance(w.record, Position)]
        rejects = [w.record for w in writes if isinstance(w.record, Reject)]
        error: Exception | None = None
        try:
            self.store.write_batch(self.ingest_id, positions, rejects)
        except Exception as exc:  # every waiting request must hear of it, not hang
            logger.error("%s: a group of %d could not be committed: %s", self.input_name,
                         len(writes), exc)
            error = exc
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for w in writes:
            if w.loop is not None and isinstance(w.done, asyncio.Future):
                by_loop.setdefault(w.loop, []).append(w.done)
            elif isinstance(w.done, Future):
                _settle(w.done, error)
        for loop, futures in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle_all, futures, error)

    def _call(self, item: _Call) -> None:
        try:
            item.done.set_result(item.fn(self.store))
        except Exception as exc:
            item.done.set_exception(exc)

    def _refresh_roster(self) -> None:
        self._known_at = time.monotonic()
        try:
            self.known = known_officers(self.store)
        except Exception as exc:
            logger.warning("%s: could not re-read the roster: %s", self.input_name, exc)
