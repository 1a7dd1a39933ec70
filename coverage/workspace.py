"""Workspace: the uploaded datasets kept on disk, and which one the app uses.

The active dataset is named by ``active.json`` in :func:`coverage.settings.data_dir`; without
one, callers use their default (the app: the bundled demo district).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from coverage import settings

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = ("roads", "stations", "zones", "officers")


def data_dir() -> Path:
    """The folder holding the store and the datasets (see :func:`settings.data_dir`)."""
    return settings.data_dir()


def active_files(*, default: Mapping[str, Path]) -> dict[str, Path]:
    """Return the active dataset's files by role, or ``default`` when none is active."""
    pointer = data_dir() / "active.json"
    try:
        files = json.loads(pointer.read_text(encoding="utf-8"))["files"]
        paths = {role: Path(files[role]) for role in ROLES}
    except (OSError, ValueError, KeyError, TypeError):
        return dict(default)
    if not all(p.is_file() for p in paths.values()):
        logger.warning("workspace: %s names missing files; using the default", pointer)
        return dict(default)
    return paths
