"""A small client of the HTTP feed: post OsmAnd JSON positions over keep-alive connections.

Used by ``simulate-feed --via URL`` to drive the real endpoint. Standard library only
(:mod:`http.client`); a few threads, one persistent connection each.

    >>> body = osmand_body("KP-1", 34.0, 71.5, "2026-11-25T08:00:00+05:00", speed_kph=36)
    >>> body["device_id"], body["location"]["coords"]   # 36 km/h is 10 m/s
    ('KP-1', {'latitude': 34.0, 'longitude': 71.5, 'speed': 10.0})
    >>> try:
    ...     check_url("127.0.0.1:5055")   # no scheme: refused before any connection
    ... except CoverageError as exc:
    ...     print(exc)
    --via: '127.0.0.1:5055' is not an http:// or https:// URL (e.g. http://127.0.0.1:5055/)
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from coverage.errors import CoverageError


@dataclass
class PostCounts:
    """Requests sent and how they were answered; ``sent == ok + rejected + failed``."""

    sent: int = 0
    ok: int = 0
    rejected: int = 0
    failed: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, other: PostCounts) -> None:
        """Add ``other``'s counts to these (the first 20 reasons are kept)."""
        self.sent += other.sent
        self.ok += other.ok
        self.rejected += other.rejected
        self.failed += other.failed
        self.reasons = (self.reasons + other.reasons)[:20]


def osmand_body(device_id: str, lat: float, lon: float, timestamp: str, *,
                speed_kph: float | None = None, heading_deg: float | None = None,
                simulated: bool = False) -> dict[str, Any]:
    """The OsmAnd JSON body Traccar Client sends (speed in m/s), for one position."""
    coords: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if speed_kph is not None:
        coords["speed"] = round(speed_kph / 3.6, 3)
    if heading_deg is not None:
        coords["heading"] = heading_deg
    location: dict[str, Any] = {"timestamp": timestamp, "coords": coords}
    if simulated:
        location["extras"] = {"simulated": True}
    return {"device_id": device_id, "location": location}


def check_url(url: str) -> None:
    """Raise CoverageError unless ``url`` is an http:// or https:// URL with a host."""
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # a bad port raises ValueError
    except ValueError:
        ok = False
    if not ok:
        msg = f"--via: '{url}' is not an http:// or https:// URL (e.g. http://127.0.0.1:5055/)"
        raise CoverageError(msg)


class _Connection:
    def __init__(self, url: str, token: str | None) -> None:
        check_url(url)
        parts = urlsplit(url)
        self.parts = parts
        self.path = parts.path or "/"
        self.headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        cls = (http.client.HTTPSConnection if self.parts.scheme == "https"
               else http.client.HTTPConnection)
        return cls(self.parts.hostname or "", self.parts.port, timeout=60)

    def post(self, body: bytes, *, retries_429: int = 30) -> tuple[int, str]:
        """POST once; a 429 (the per-device limit) is waited out as Retry-After says."""
        for _ in range(retries_429):
            status, text, wait_s = self._post(body)
            if status != 429:
                return status, text
            time.sleep(min(max(wait_s, 0.1), 5.0))
        return status, text

    def _post(self, body: bytes) -> tuple[int, str, float]:
        for attempt in (1, 2):  # a kept-alive connection the server closed: reopen once
            if self.conn is None:
                self.conn = self._open()
            try:
                self.conn.request("POST", self.path, body=body, headers=self.headers)
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                try:
                    wait_s = float(resp.getheader("Retry-After") or 1)
                except ValueError:
                    wait_s = 1.0
                return resp.status, text, wait_s
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError  # unreachable

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def post_positions(url: str, bodies: Iterable[dict[str, Any]], *, token: str | None = None,
                   connections: int = 4) -> PostCounts:
    """POST each body to ``url`` (the feed's ``/``); return how they were answered.

    200 is ``ok``, 400 ``rejected`` (kept in the feed's rejects); a 429 (the per-device
    limit) is sent again after the Retry-After wait; anything else (401, 503, a refused
    connection, a 429 that persists) is ``failed``. Raises CoverageError when the server
    cannot be reached at all.
    """
    items = [json.dumps(b).encode() for b in bodies]
    local = threading.local()
    opened: list[_Connection] = []
    lock = threading.Lock()

    def send(chunk: Sequence[bytes]) -> PostCounts:
        if not hasattr(local, "conn"):
            local.conn = _Connection(url, token)
            with lock:
                opened.append(local.conn)
        counts = PostCounts()
        for body in chunk:
            counts.sent += 1
            try:
                status, text = local.conn.post(body)
            except (http.client.HTTPException, OSError) as exc:
                counts.failed += 1
                counts.reasons.append(f"no answer: {exc}")
                continue
            if status == 200:
                counts.ok += 1
            elif status == 400:
                counts.rejected += 1
            else:
                counts.failed += 1
                counts.reasons.append(f"HTTP {status}: {text[:200]}")
        return counts

    total = PostCounts()
    n = max(1, min(connections, len(items)))
    chunks = [items[i::n] for i in range(n)]
    try:
        with ThreadPoolExecutor(n) as pool:
            for counts in pool.map(send, chunks):
                total.add(counts)
    finally:
        for c in opened:
            c.close()
    if total.sent and total.failed == total.sent and total.reasons:
        msg = f"--via {url}: no position was accepted ({total.reasons[0]})"
        raise CoverageError(msg)
    return total


__all__ = ["PostCounts", "check_url", "osmand_body", "post_positions"]
