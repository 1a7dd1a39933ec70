"""Helpers for tests/app/test_browser.py: the real Streamlit server and headless Chromium.

The server runs ``streamlit run app.py`` on a free local port in demo mode, with its store
and uploads in a temporary folder and the default compiled-graph cache (filled by
scripts/setup.sh, so it starts in seconds). The browser is Debian's ``chromium``
(``SECCOV_CHROMIUM`` may name another); a browser is never downloaded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync")
HEALTH_TIMEOUT_S = 60.0
#: Environment variables the server keeps from ours (everything else SECCOV_* is dropped).
KEEP_SECCOV = frozenset({"SECCOV_CHROMIUM"})


def chromium_path() -> Path | None:
    """The browser to drive: ``SECCOV_CHROMIUM``, else Debian's; None when it is missing."""
    exe = Path(os.environ.get("SECCOV_CHROMIUM") or CHROMIUM)
    return exe if exe.is_file() and os.access(exe, os.X_OK) else None


def free_port() -> int:
    """A TCP port nothing listens on right now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout_s: float = 2.0) -> str | None:
    """The body of ``url``, or None when the server does not answer (yet)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # local URL only
            return resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        exc.close()
        return None
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class Server:
    """A running ``streamlit run app.py`` (see :func:`start_server`)."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self, tail_chars: int = 6000) -> str:
        """The tail of the server's stdout and stderr."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"
        return text[-tail_chars:]

    def stop(self) -> None:
        """Terminate the server; kill it when it has not exited after 10 s."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Our environment without SECCOV_* settings, then demo mode with ``data_dir``.

    SECCOV_CACHE_DIR (set per test by tests/conftest.py) is removed so the server uses the
    default cache where scripts/setup.sh compiled the demo's road graph; SECCOV_DEMO_FEED
    stays unset so the demo's simulated feed moves the officers.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SECCOV_") or k in KEEP_SECCOV}
    env |= {"SECCOV_DEMO": "1", "SECCOV_DATA_DIR": str(data_dir), "SECCOV_REFRESH_S": "2",
            "PYTHONUNBUFFERED": "1"}
    env |= extra
    return env


def start_server(workdir: Path, **extra_env: str) -> Server:
    """Start the app on a free port; return once ``/_stcore/health`` says ok.

    Raises AssertionError (with the server's output) when it is not healthy within 60 s.
    Output goes to ``workdir/server.log``; the store and uploads to ``workdir/data``.
    """
    port = free_port()
    log_path = workdir / "server.log"
    env = server_env(workdir / "data", **extra_env)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
           "--server.port", str(port), "--server.headless", "true",
           "--server.address", "127.0.0.1",
           # no reruns or inotify watches over .venv while others edit the pages
           "--server.fileWatcherType", "none",
           "--browser.gatherUsageStats", "false"]
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, port, log_path, env)
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if (_get(f"{server.url}/_stcore/health") or "").strip() == "ok":
            return server
        time.sleep(0.2)
    code = proc.poll()
    server.stop()
    why = (f"exited with code {code}" if code is not None
           else f"not healthy after {HEALTH_TIMEOUT_S:g} s")
    msg = (f"streamlit server on port {port} {why}\ncommand: {' '.join(cmd)}\n"
           f"--- server output ---\n{server.log()}")
    raise AssertionError(msg)


def launch_chromium(playwright: Any, exe: Path) -> Any:
    """Headless Chromium at ``exe`` (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=str(exe), headless=True,
                                      args=list(CHROMIUM_ARGS))


def is_local(url: str) -> bool:
    """True for the app's own addresses and in-page URLs (data:, blob:, about:)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in ("127.0.0.1", "localhost", "::1")


def close_quietly(*things: Any) -> None:
    """Close Playwright objects, ignoring ones already gone."""
    for thing in things:
        if thing is not None:
            with contextlib.suppress(Exception):
                thing.close()
