"""HTTP feed: live positions from Traccar Client (OsmAnd) and Traccar forwarding, on uvicorn.

Endpoints (``../shared/DATA.md``, "Live positions over HTTP"):

- ``GET|POST /``: the OsmAnd protocol (query string, form body, or the JSON body of
  Traccar Client 9+).
- ``POST /traccar``: Traccar position forwarding (``forward.type=json``).
- ``GET /health``: 200 while the store can be written.

Every position is validated by :func:`coverage.ops.feed.validate` and written by
:meth:`~coverage.ops.store.Store.write_batch`, exactly as file ingest does: newer wins,
duplicates are harmless, every bad request is kept in rejects with its reason. A request
is answered 200 only after its position is committed (group commit: see
:mod:`coverage.ops._groupcommit`), so a crash loses nothing that was acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coverage import settings
from coverage.errors import CoverageError
from coverage.ops import audit
from coverage.ops._groupcommit import GroupWriter
from coverage.ops._trackers import Report, osmand_json, osmand_params, traccar_json
from coverage.ops.devices import read_devices
from coverage.ops.feed import validate
from coverage.ops.store import Position, Reject, Store, now_us
from coverage.ops.tokens import TokenCheck

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_RAW = 4_000
_MAX_TRACKED = 100_000  # devices / addresses remembered by the rate limit and failure count
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class FeedError(CoverageError, ValueError):
    """The feed server cannot start as asked (an unsafe address, a port in use)."""


@dataclass(frozen=True)
class Limits:
    """Request limits: body bytes, per-device rate, token-failure audit, commit wait."""

    max_body_bytes: int = settings.FEED_MAX_BODY_BYTES
    device_rate_per_s: float = settings.FEED_DEVICE_RATE_PER_S
    device_burst: int = settings.FEED_DEVICE_BURST
    token_audit_every: int = settings.FEED_TOKEN_AUDIT_EVERY
    commit_timeout_s: float = settings.FEED_COMMIT_TIMEOUT_S


class Watched(Generic[T]):
    """A file's parsed contents, read again when the file changes (checked once a second).

    A file that turns bad (missing, unreadable, malformed) keeps the last good contents and
    logs why, so a typo made while the server runs does not stop the feed; unless
    ``failed`` is given: then the contents become ``failed`` until the file is good again
    (the tokens file fails closed: no token matches, every position request is 401).
    """

    def __init__(self, path: Path, load: Callable[[Path], T], *,
                 failed: T | None = None) -> None:
        self.path, self._load, self._failed = path, load, failed
        self._stamp = self._stat()
        self.value: T = load(path)
        #: Why the file cannot be used just now (None while it is good).
        self.problem: str | None = None
        self._checked = time.monotonic()

    def _stat(self) -> tuple[int, int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        # ctime and inode too: a chmod or a rename over the file changes no mtime or size
        return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino

    def get(self) -> T:
        """The contents, re-read first if the file changed since the last look."""
        now = time.monotonic()
        if now - self._checked >= 1.0:
            self._checked = now
            stamp = self._stat()
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
        return self.value

    def _reload(self) -> None:
        try:
            if self._stamp is None:
                msg = f"{self.path.name}: file not found at {self.path}"
                raise OSError(msg)
            self.value = self._load(self.path)
        except (CoverageError, OSError, ValueError) as exc:
            self.problem = str(exc)
            if self._failed is None:
                logger.error("%s changed but cannot be read; keeping the previous "
                             "contents: %s", self.path.name, exc)
            else:
                self.value = self._failed
                logger.critical("%s changed and cannot be read: %s; failing closed: every "
                                "request is refused until the file is fixed", self.path.name,
                                exc)
            return
        if self.problem is not None:
            logger.warning("%s is good again; re-read", self.path.name)
        else:
            logger.info("%s re-read", self.path.name)
        self.problem = None


def watch_tokens(path: Path) -> Watched[TokenCheck]:
    """The tokens file, re-read when it changes; failing closed: while it is missing,
    unreadable or malformed no token matches (every position request is 401)."""
    return Watched(path, TokenCheck.from_file, failed=TokenCheck([]))


class RateLimit:
    """A token bucket per key: ``rate_per_s`` sustained, ``burst`` at once."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate, self.burst = rate_per_s, float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Take one from ``key``'s bucket; False when it is empty."""
        t = time.monotonic() if now is None else now
        level, last = self._buckets.pop(key, (self.burst, t))
        level = min(self.burst, level + (t - last) * self.rate)
        ok = level >= 1.0
        self._buckets[key] = (level - 1.0 if ok else level, t)
        if len(self._buckets) > _MAX_TRACKED:
            self._buckets.popitem(last=False)
        return ok


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class FeedApp:
    """The feed's request handling; :attr:`app` is the Starlette application."""

    def __init__(self, writer: GroupWriter, *, devices: Watched[dict[str, str]] | None = None,
                 tokens: Watched[TokenCheck] | TokenCheck | None = None,
                 limits: Limits | None = None) -> None:
        self.writer = writer
        self.devices = devices
        self.tokens = tokens
        self.limits = limits or Limits()
        self.rate = RateLimit(self.limits.device_rate_per_s, self.limits.device_burst)
        self._failures: OrderedDict[str, int] = OrderedDict()
        self._line = 0
        self.app = Starlette(routes=[
            Route("/", self._osmand, methods=["GET", "POST"]),
            Route("/traccar", self._traccar, methods=["POST"]),
            Route("/health", self._health, methods=["GET"]),
        ])

    # --- the endpoints -------------------------------------------------------------------

    async def _osmand(self, request: Request) -> Response:
        return await self._guarded(request, "osmand")

    async def _traccar(self, request: Request) -> Response:
        return await self._guarded(request, "traccar")

    async def _health(self, _request: Request) -> Response:
        try:
            await self._wait(self.writer.call(_check_writable), 5.0)
        except Exception as exc:
            logger.error("health: the store cannot be written: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def _guarded(self, request: Request, kind: str) -> Response:
        try:
            return await self._position(request, kind)
        except Exception:  # never a stack trace in a response; the log has it
            logger.exception("feed: unexpected error")
            return _error(500, "internal error; see the server log")

    # --- one position request ------------------------------------------------------------

    async def _position(self, request: Request, kind: str) -> Response:
        if not self._authorised(request):
            await self._token_failed(request)
            return _error(401, "missing or wrong token; give ?token=... or an "
                          "Authorization: Bearer header", {"WWW-Authenticate": "Bearer"})
        self._line += 1
        line = self._line
        body, too_big = await self._body(request)
        if too_big:
            reason = (f"body is larger than {self.limits.max_body_bytes:,} bytes; send one "
                      "position per request")
            return await self._store_reject(line, reason, _raw_text(request, body), 413)
        report = self._report(request, kind, body)
        key = f"device:{report.device_id}" if report.device_id else (
            f"address:{request.client.host if request.client else '-'}")
        if not self.rate.allow(key):
            wait = max(1, round(1 / self.limits.device_rate_per_s))
            return _error(429, f"more than {self.limits.device_rate_per_s:g} positions/s from "
                          "one device; slow down", {"Retry-After": str(wait)})
        problems = list(report.problems)
        officer = self._officer(report.device_id, problems)
        # no officer: the problem is already listed; check the rest of the record anyway
        fields = {**report.fields, "officer_id": officer or "?"}
        result = validate(fields, line=line, now=now_us(),
                          known=self.writer.known if officer else None,
                          source="simulated" if report.simulated else "feed")
        if isinstance(result, str):
            found = result.split(" | ")
            if problems:  # the payload's own names already said what is missing
                found = [p for p in found if "every position needs" not in p]
            problems.extend(p for p in found if p not in problems)
        elif result.lat == 0 and result.lon == 0:
            problems.append("lat 0 and lon 0: the device has no position fix")
        if problems or not isinstance(result, Position):
            return await self._store_reject(line, " | ".join(problems),
                                            _raw_text(request, body), 400)
        return await self._commit(result, Response(status_code=200))

    def _authorised(self, request: Request) -> bool:
        if self.tokens is None:
            return True
        check = self.tokens.get() if isinstance(self.tokens, Watched) else self.tokens
        if isinstance(self.tokens, Watched) and self.tokens.problem is not None:
            logger.error("feed: %s cannot be read (%s): request refused (401)",
                         self.tokens.path.name, self.tokens.problem)
            return False
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else None
        if presented is None:
            presented = request.query_params.get("token")
        return check.match(presented) is not None

    async def _token_failed(self, request: Request) -> None:
        client = request.client.host if request.client else "-"
        count = self._failures.pop(client, 0) + 1
        self._failures[client] = count
        if len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)
        logger.warning("feed: wrong or missing token from %s (%d so far)", client, count)
        if count % self.limits.token_audit_every == 0:
            detail = {"client": client, "failures": count, "path": request.url.path}
            self.writer.call(lambda store: audit.record(store, "feed_token_failed",
                                                        detail=detail))

    async def _body(self, request: Request) -> tuple[bytes, bool]:
        limit = self.limits.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return b"", True
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return b"".join(chunks)[:_MAX_RAW], True
            chunks.append(chunk)
        return b"".join(chunks), False

    def _report(self, request: Request, kind: str, body: bytes) -> Report:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Report(None, problems=("body is not UTF-8 text; send UTF-8",))
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        is_json = content_type == "application/json" or text.lstrip().startswith(("{", "["))
        if kind == "traccar" or (text.strip() and is_json):
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                return Report(None, problems=(f"body is not valid JSON ({exc.msg} at column "
                                              f"{exc.colno})",))
            return traccar_json(obj) if kind == "traccar" else osmand_json(obj)
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        pairs += parse_qsl(text, keep_blank_values=True)
        params: dict[str, str] = {}
        twice: list[str] = []
        for k, v in pairs:
            if k in params and k not in twice:
                twice.append(k)
            params.setdefault(k, v)
        report = osmand_params(params)
        if twice:  # which one is meant is a guess: refuse, do not pick one
            found = tuple(f"parameter {k} given twice; send each parameter once"
                          for k in twice)
            report = replace(report, problems=found + report.problems)
        return report

    def _officer(self, device: str | None, problems: list[str]) -> str | None:
        if device is None:
            return None
        if self.devices is None:
            return device
        mapping = self.devices.get()
        if device not in mapping:
            problems.append(f"device '{device}' is not in {self.devices.path.name}; add it: "
                            f"python -m coverage devices add {device} --officer ID")
            return None
        return mapping[device]

    async def _store_reject(self, line: int, reason: str, raw: str, status: int) -> Response:
        reject = Reject(self.writer.input_name, line, reason, raw[:_MAX_RAW])
        return await self._commit(reject, _error(status, reason))

    async def _commit(self, record: Position | Reject, answer: Response) -> Response:
        done = self.writer.submit_async(record)
        timer = asyncio.get_running_loop().call_later(self.limits.commit_timeout_s, _expire,
                                                      done)
        try:
            await done
        except Exception as exc:
            logger.error("feed: not committed (%s): answering 503", exc)
            return _error(503, "the store cannot be written just now; retry",
                          {"Retry-After": "5"})
        finally:
            timer.cancel()
        return answer

    @staticmethod
    async def _wait(done: Future[Any], timeout_s: float) -> Any:
        return await asyncio.wait_for(asyncio.wrap_future(done), timeout_s)


def _expire(done: asyncio.Future[None]) -> None:
    """A commit that took too long: answer 503 (the record may still be committed later)."""
    if not done.done():
        done.set_exception(TimeoutError("no commit within the time limit"))


def _check_writable(store: Store) -> None:
    """Take the write lock (SQLite) or check the session may write (PostgreSQL)."""
    with store.transaction() as tx:
        if store.dialect == "postgresql":
            row = tx.one("SHOW transaction_read_only")
            if row is not None and str(row[0]).lower() == "on":
                msg = f"{store.url}: the database is read-only"
                raise CoverageError(msg)
        else:
            tx.one("SELECT 1")


def _raw_text(request: Request, body: bytes) -> str:
    """The request as kept in rejects: method, path, query without the token, and body."""
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    head = f"{request.method} {request.url.path}" + (f"?{query}" if query else "")
    text = body[:_MAX_RAW].decode("utf-8", "replace")
    return f"{head}\n{text}" if text else head


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if not 0 <= port <= 65535:
        msg = f"serve-feed: port {port} is not a TCP port; give 0..65535 (0: a free one)"
        raise FeedError(msg)
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OverflowError as exc:
        msg = f"serve-feed: cannot listen on {host}:{port}: {exc}; give a port 0..65535"
        raise FeedError(msg) from exc
    except OSError as exc:
        msg = f"serve-feed: cannot listen on {host}:{port}: {exc.strerror or exc}"
        raise FeedError(msg) from exc


@dataclass(frozen=True)
class FeedRun:
    """What a server run stored: its ingest run's counts (as committed)."""

    url: str
    ingest_id: int
    read: int
    accepted: int
    duplicates: int
    rejected: int

    def summary(self) -> str:
        """One line for people."""
        return (f"{self.url}: {self.read:,} requests with a record: {self.accepted:,} "
                f"accepted, {self.duplicates:,} duplicates, {self.rejected:,} rejected")


def serve_feed(store: Store, *, host: str = "127.0.0.1", port: int = settings.FEED_PORT,
               devices_path: Path | None = None, token: str | None = None,
               tokens_path: Path | None = None, limits: Limits | None = None,
               ready: Callable[[str], None] | None = None) -> FeedRun:
    """Serve the feed on ``host``:``port`` until SIGINT/SIGTERM; return what was stored.

    Without ``token`` or ``tokens_path`` only a loopback ``host`` is allowed (FeedError
    otherwise). ``ready`` is called with the URL once the socket listens.
    """
    import signal

    import uvicorn

    if token is None and tokens_path is None and not is_loopback(host):
        msg = (f"serve-feed: refusing to listen on {host} without a token: anyone on the "
               "network could write positions; give --token or --tokens FILE, or use "
               "--host 127.0.0.1")
        raise FeedError(msg)
    tokens: Watched[TokenCheck] | TokenCheck | None = None
    if tokens_path is not None:
        tokens = watch_tokens(tokens_path)
    elif token is not None:
        tokens = TokenCheck.single(token)
    devices = Watched(devices_path, read_devices) if devices_path is not None else None
    sock = bind(host, port)
    bound = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{bound}"
    writer = GroupWriter(store, f"serve-feed {url}")
    feed = FeedApp(writer, devices=devices, tokens=tokens, limits=limits)
    config = uvicorn.Config(feed.app, log_config=None, access_log=False, server_header=False,
                            proxy_headers=False, lifespan="off", timeout_keep_alive=30,
                            limit_concurrency=4096, log_level="warning")
    server = uvicorn.Server(config)
    # A signal before uvicorn installs its own handlers stops it too; and uvicorn re-raises
    # the signal that stopped it once it is done, which these handlers absorb so that this
    # function returns and reports.

    def stop(*_: object) -> None:
        server.should_exit = True

    quiet = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)
             if threading.current_thread() is threading.main_thread()}
    try:
        if ready is not None:
            ready(url)
        server.run(sockets=[sock])
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
        sock.close()
        writer.close()
    (run,) = [r for r in store.ingests() if r.id == writer.ingest_id]
    return FeedRun(url, run.id, run.read, run.accepted, run.duplicates, run.rejected)


__all__ = ["FeedApp", "FeedError", "FeedRun", "Limits", "RateLimit", "Watched", "bind",
           "is_loopback", "serve_feed", "watch_tokens"]
