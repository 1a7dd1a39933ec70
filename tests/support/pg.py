"""A throwaway PostgreSQL cluster for the store tests: Debian's initdb/pg_ctl on loopback.

The cluster is started on first use (one per test session) in a temporary folder, owned by
the ``postgres`` system user when the tests run as root (PostgreSQL refuses to run as root),
listening on 127.0.0.1 only with ``trust`` authentication, and stopped at exit. Each call to
:func:`fresh_database` creates a new empty database and returns its URL.

Without PostgreSQL binaries the tests that need them are skipped, except in CI
(``CI=true``), where a missing server is a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

_counter = itertools.count(1)
_state: dict[str, object] = {}
USER = "seccov"


def pg_bindir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``: Debian's newest, else the PATH's, else None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], *, as_postgres: bool) -> subprocess.CompletedProcess[str]:
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _start() -> str:
    bindir = pg_bindir()
    if bindir is None:
        _missing("no initdb found (apt-get install postgresql)")
        raise AssertionError  # unreachable
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="seccov-pg-"))
    data = root / "data"
    if as_postgres:
        shutil.chown(root, user="postgres", group="postgres")
    init = _run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                 "-E", "UTF8", "--no-sync"], as_postgres=as_postgres)
    if init.returncode != 0:
        _missing(f"initdb failed: {init.stderr.strip()[-500:]}")
    port = _free_port()
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                  str(root / "log"), "-w", "-t", "60", "start"], as_postgres=as_postgres)
    if start.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        _missing(f"pg_ctl start failed: {start.stderr.strip()} {log[-500:]}")

    def stop() -> None:
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
             as_postgres=as_postgres)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql://{USER}@127.0.0.1:{port}"


def server_url() -> str:
    """URL of the session's cluster (without a database), starting it on first use."""
    if "url" not in _state:
        _state["url"] = _start()
    return str(_state["url"])


def fresh_database() -> str:
    """Create an empty database on the session's cluster; return its ``postgresql://`` URL."""
    import psycopg

    base = server_url()
    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # name is generated above, not user input
    return f"{base}/{name}"


def backend_url(backend: str, tmp_path: Path) -> str:
    """A fresh store URL for ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return fresh_database()
