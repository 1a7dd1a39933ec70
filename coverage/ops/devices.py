"""Devices of the HTTP feed: the devices file (``device_id``, ``officer_id``) and report ages.

A tracker (a phone running Traccar Client, a vehicle unit forwarded by Traccar) reports
under its own device id; the devices file says which officer carries it. Without a devices
file the device id is the officer id. :func:`device_ages` gives each device's last report
age for the live map.

    >>> import tempfile
    >>> from datetime import timedelta
    >>> from coverage.ops.store import Position, open_store
    >>> at = datetime.fromisoformat("2026-11-25T08:00:00+05:00")   # B's one report
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "devices.csv"
    ...     _ = path.write_text("device_id,officer_id\\nKP-2,D\\nKP-1,B\\n")
    ...     with open_store(f"sqlite:///{folder}/live.db") as store:
    ...         _ = store.write_batch(store.begin_ingest("x", "csv", "feed"),
    ...                               [Position("B", 34.001, 71.502, to_us(at), "08:00")], [])
    ...         ages = device_ages(store, read_devices(path), now=at + timedelta(minutes=2))
    >>> ages[["device_id", "officer_id", "age_s", "stale"]]   # stale: older than 300 s or none
      device_id officer_id  age_s  stale
    0      KP-1          B  120.0  False
    1      KP-2          D    NaN   True
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from coverage import settings
from coverage.errors import DataError, problems_message
from coverage.ops.store import Store, now_us, to_us

COLUMNS = ("device_id", "officer_id")
MAX_ID = 128

#: Columns of :func:`device_ages`, in order.
AGE_COLUMNS = ("device_id", "officer_id", "last_report", "age_s", "stale", "source")


def parse_devices(text: str, name: str = "devices.csv") -> dict[str, str]:
    """Return device id -> officer id from the text of a devices CSV.

    Raises DataError listing every problem (file, row, field): a missing column, an empty
    or over-long id, a device id given twice.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    header = [h.strip() for h in rows[0]] if rows else []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        msg = problems_message(name, [f"line 1: missing column(s) {', '.join(missing)}; the "
                                      "header must be device_id,officer_id"])
        raise DataError(msg)
    at = {c: header.index(c) for c in COLUMNS}
    devices: dict[str, str] = {}
    first: dict[str, int] = {}
    problems: list[str] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {c: (row[i].strip() if i < len(row) else "") for c, i in at.items()}
        bad = False
        for col, value in values.items():
            if not value:
                problems.append(f"row {number}: {col} is empty; give both device_id and "
                                "officer_id")
                bad = True
            elif len(value) > MAX_ID:
                problems.append(f"row {number}: {col} is {len(value)} characters long; at "
                                f"most {MAX_ID}")
                bad = True
        device = values["device_id"]
        if not bad and device in devices:
            problems.append(f"row {number}: device_id '{device}' appears again (first on row "
                            f"{first[device]}); a device carries one officer")
            bad = True
        if not bad:
            devices[device], first[device] = values["officer_id"], number
    if problems:
        raise DataError(problems_message(name, problems))
    return devices


def read_devices(path: str | Path) -> dict[str, str]:
    """Return device id -> officer id from a devices CSV (``device_id``, ``officer_id``)."""
    p = Path(path)
    return parse_devices(read_text_file(p), p.name)


def read_text_file(path: Path, *, missing_hint: str = "") -> str:
    """The UTF-8 text of a small settings file; DataError naming it when missing or unreadable."""
    if not path.is_file():
        msg = f"{path.name}: file not found at {path}{missing_hint}"
        raise DataError(msg)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{path.name}: is not UTF-8 text ({exc.reason}); save it as UTF-8"
        raise DataError(msg) from exc
    except OSError as exc:
        msg = f"{path.name}: cannot be read at {path}: {exc.strerror or exc}"
        raise DataError(msg) from exc


def write_devices(path: str | Path, devices: Mapping[str, str]) -> None:
    """Write ``devices`` (device id -> officer id) to ``path`` atomically, sorted by device."""
    p = Path(path)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(sorted(devices.items()))
    replace_file(p, buf.getvalue())


def replace_file(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``.

    Raises DataError when the folder does not exist or cannot be written.
    """
    folder = path.parent
    if not folder.is_dir():
        msg = (f"{path.name}: folder {folder} does not exist; create it first (mkdir -p "
               f"{folder})")
        raise DataError(msg)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        msg = f"{path.name}: cannot write in folder {folder}: {exc.strerror or exc}"
        raise DataError(msg) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def set_device(path: str | Path, device_id: str, officer_id: str) -> dict[str, str]:
    """Add a device (or move it to another officer) in the devices file; return the mapping.

    The file is created when missing.
    """
    p = Path(path)
    devices = read_devices(p) if p.exists() else {}
    checked = parse_devices(f"device_id,officer_id\n{_csv_row(device_id, officer_id)}",
                            p.name)
    devices.update(checked)
    write_devices(p, devices)
    return devices


def remove_device(path: str | Path, device_id: str) -> dict[str, str]:
    """Remove a device from the devices file; return the mapping left."""
    p = Path(path)
    devices = read_devices(p)
    if device_id not in devices:
        msg = f"{p.name}: no device '{device_id}'; see: python -m coverage devices list"
        raise DataError(msg)
    del devices[device_id]
    write_devices(p, devices)
    return devices


def _csv_row(*values: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def device_ages(store: Store, devices: Mapping[str, str] | None = None, *,
                stale_after_s: float = settings.STALE_AFTER_S,
                now: datetime | None = None) -> pd.DataFrame:
    """Return each device's last report and its age, for the live map.

    Parameters
    ----------
    store
        An open store.
    devices
        Device id -> officer id (:func:`read_devices`). None: every officer with a live
        position is its own device (the feed without a devices file).
    stale_after_s
        A report older than this (or none at all) is ``stale``.
    now
        The clock (aware datetime); by default the wall clock.

    Returns
    -------
    pandas.DataFrame
        A new frame, one row per device sorted by ``device_id``: ``officer_id``,
        ``last_report`` (datetime64[us, UTC] of the newest position stored for the officer
        the device carries; NaT if none), ``age_s`` (float64 seconds, NaN if none),
        ``stale`` (bool), ``source`` (``feed``, ``simulated`` or None).
    """
    clock = to_us(now) if now is not None else now_us()
    latest = {p.officer_id: p for p in store.latest_positions()}
    pairs = sorted(devices.items()) if devices is not None else [(o, o) for o in sorted(latest)]
    ts = [latest[o].ts_us if o in latest else None for _, o in pairs]
    age = np.array([np.nan if t is None else (clock - t) / 1e6 for t in ts], dtype=np.float64)
    return pd.DataFrame({
        "device_id": pd.Series([d for d, _ in pairs], dtype=object),
        "officer_id": pd.Series([o for _, o in pairs], dtype=object),
        "last_report": pd.to_datetime(pd.Series(ts, dtype="Int64"), unit="us",
                                      utc=True),
        "age_s": age,
        "stale": ~(age <= stale_after_s),
        "source": pd.Series([latest[o].source if o in latest else None for _, o in pairs],
                            dtype=object),
    })


__all__ = ["AGE_COLUMNS", "COLUMNS", "device_ages", "parse_devices", "read_devices",
           "remove_device", "replace_file", "set_device", "write_devices"]
