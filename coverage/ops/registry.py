"""Registry: datasets (file names, sizes, SHA-256, officer list) and saved scenarios in the store.

The newest registered dataset with officers is the roster the feed checks officer ids
against (:func:`known_officers`); without one, any officer id is accepted.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from coverage.errors import DataError
from coverage.ops.store import Store, from_us, now_us


@dataclass(frozen=True)
class DatasetRecord:
    """A registered dataset: its files' names, sizes and SHA-256 (JSON) and officer count."""

    id: int
    name: str
    registered_at: datetime
    registered_by: str | None
    files: str
    content_sha256: str
    officers: int


@dataclass(frozen=True)
class ScenarioRecord:
    """A saved scenario: canonical JSON ``body`` (sorted keys) and its SHA-256."""

    id: int
    name: str
    author: str
    created_at: datetime
    sha256: str
    body: str


def file_meta(path: str | Path) -> dict[str, Any]:
    """``name``, ``bytes`` and ``sha256`` of a file."""
    p = Path(path)
    digest = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"name": p.name, "bytes": p.stat().st_size, "sha256": digest.hexdigest()}


def register_dataset(store: Store, name: str, files: Mapping[str, str | Path],
                     officer_ids: Iterable[str], *,
                     registered_by: str | None = None) -> DatasetRecord:
    """Record a dataset's files (role -> path) and its officer ids; return the record.

    Registering the same content (same files and ids) again returns the existing record.
    """
    meta = {role: file_meta(p) for role, p in sorted(files.items())}
    ids = sorted(set(map(str, officer_ids)))
    digest = hashlib.sha256(json.dumps([meta, ids], sort_keys=True).encode()).hexdigest()
    with store.transaction() as tx:
        row = tx.one("SELECT id FROM datasets WHERE content_sha256 = ?", (digest,))
        if row is None:
            row = tx.one("INSERT INTO datasets (name, registered_us, registered_by, files, "
                         "content_sha256, officers) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                         (name, now_us(), registered_by, json.dumps(meta, sort_keys=True),
                          digest, len(ids)))
            assert row is not None
            tx.executemany("INSERT INTO dataset_officers (dataset_id, officer_id) VALUES (?, ?)",
                           [(row[0], i) for i in ids])
    return next(d for d in datasets(store) if d.id == int(row[0]))


def datasets(store: Store) -> list[DatasetRecord]:
    """Registered datasets, oldest first."""
    rows = store.query("SELECT id, name, registered_us, registered_by, files, content_sha256, "
                       "officers FROM datasets ORDER BY id")
    return [DatasetRecord(int(r[0]), r[1], from_us(r[2]), r[3], r[4], r[5], int(r[6]))
            for r in rows]


def known_officers(store: Store) -> tuple[str, frozenset[str]] | None:
    """(dataset name, officer ids) of the newest dataset with officers, or None."""
    rows = store.query("SELECT id, name FROM datasets WHERE officers > 0 ORDER BY id DESC LIMIT 1")
    if not rows:
        return None
    ids = store.query("SELECT officer_id FROM dataset_officers WHERE dataset_id = ?",
                      (rows[0][0],))
    return str(rows[0][1]), frozenset(str(r[0]) for r in ids)


def register_officers(store: Store, path: str | Path, *,
                      registered_by: str | None = None) -> DatasetRecord:
    """Register the roster in ``path`` (CSV, or a spatial file, with ``officer_id``).

    From then on the feed refuses positions of other officer ids.
    """
    p = Path(path)
    if not p.is_file():
        msg = f"{p.name}: file not found at {p}"
        raise DataError(msg)
    if p.suffix.lower() == ".csv":
        with open(p, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        ids = [(r.get("officer_id") or "").strip() for r in rows]
    else:
        import geopandas as gpd

        frame = gpd.read_file(p)
        ids = [str(v) for v in frame["officer_id"].dropna()] if "officer_id" in frame else []
    ids = [i for i in ids if i]
    if not ids:
        msg = f"{p.name}: no officer_id column with values; give the roster (officers.csv)"
        raise DataError(msg)
    return register_dataset(store, f"officers {p.name}", {"officers": p}, ids,
                            registered_by=registered_by)


def record_scenario(store: Store, name: str, author: str,
                    body: Mapping[str, Any]) -> ScenarioRecord:
    """Record a scenario in the store as canonical JSON with its SHA-256; return the record.

    Scenario *files* are read and written by :mod:`coverage.planning.scenario_io`.
    """
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    t = now_us()
    with store.transaction() as tx:
        row = tx.one("INSERT INTO scenarios (name, author, created_us, sha256, body) "
                     "VALUES (?, ?, ?, ?, ?) RETURNING id", (name, author, t, digest, text))
    assert row is not None
    return ScenarioRecord(int(row[0]), name, author, from_us(t), digest, text)


def scenarios(store: Store) -> list[ScenarioRecord]:
    """Saved scenarios, oldest first."""
    rows = store.query("SELECT id, name, author, created_us, sha256, body FROM scenarios "
                       "ORDER BY id")
    return [ScenarioRecord(int(r[0]), r[1], r[2], from_us(r[3]), r[4], r[5]) for r in rows]
