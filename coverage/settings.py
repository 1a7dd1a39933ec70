"""Typed, documented defaults; every function takes these as overridable keyword defaults."""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Final

#: Radius of the sphere used for great-circle lengths, in metres (as in DATA.md and osmnx).
EARTH_RADIUS_M: Final[float] = 6_371_009.0

#: Default response target for a run, in minutes (DATA.md: "Default run threshold: 10 minutes").
DEFAULT_THRESHOLD_MIN: Final[float] = 10.0

#: Officers required within a zone's target when the zone file does not say.
DEFAULT_MIN_OFFICERS: Final[int] = 1

#: Demand weight per zone priority for the backfill objective; a zone without priority counts 3.
PRIORITY_WEIGHTS: Final = MappingProxyType({1: 3, 2: 2, 3: 1})
UNPRIORITISED_WEIGHT: Final[int] = 3

#: Default free-flow speed per OSM ``highway`` class, km/h, used where ``maxspeed`` is absent
#: or unreadable.  Values are urban Pakistani road speeds for a responding police vehicle:
#: Peshawar's arterials carry mixed traffic, so they sit well below their posted limits.
DEFAULT_SPEEDS_KPH: Final = MappingProxyType(
    {
        "motorway": 90.0,
        "trunk": 60.0,
        "primary": 45.0,
        "secondary": 35.0,
        "tertiary": 30.0,
        "unclassified": 25.0,
        "residential": 20.0,
        "living_street": 10.0,
        "service": 15.0,
        "road": 25.0,
        "track": 15.0,
        "motorway_link": 45.0,
        "trunk_link": 35.0,
        "primary_link": 30.0,
        "secondary_link": 25.0,
        "tertiary_link": 20.0,
    }
)

#: Speed for a road whose class is missing or not in :data:`DEFAULT_SPEEDS_KPH`, km/h.
FALLBACK_SPEED_KPH: Final[float] = 25.0

#: ``highway`` classes that vehicles cannot use; such ways are not part of the road graph.
NON_DRIVABLE_HIGHWAYS: Final = frozenset(
    {
        "footway", "path", "cycleway", "steps", "pedestrian", "bridleway", "corridor",
        "proposed", "construction", "abandoned", "platform", "raceway", "bus_guideway",
        "elevator", "escalator", "via_ferrata", "busway", "disused", "razed", "sidewalk",
        "crossing", "traffic_island",
    }
)

#: A unit or zone anchor snapped farther than this from its road node is warned about.
SNAP_WARN_M: Final[float] = 500.0

#: A live position older than this is stale: shown greyed and left out of coverage by default.
STALE_AFTER_S: Final[float] = 300.0

#: A point this far outside the road network's bounding box (in degrees) is "outside".
EXTENT_MARGIN_DEG: Final[float] = 0.05

#: Plausible ranges: values outside them are typos, refused with the row (zones) or ignored
#: with a warning (a road's ``maxspeed`` falls back to its class default).
MAX_PLAUSIBLE_SPEED_KPH: Final[float] = 300.0
TARGET_MIN_RANGE: Final[tuple[float, float]] = (0.1, 1440.0)
MAX_MIN_OFFICERS: Final[int] = 1_000
#: A live position's ``speed_kph`` above this is refused (no police vehicle goes faster).
FEED_MAX_SPEED_KPH: Final[float] = 400.0

#: Version of the compiled-graph cache format; bump when the layout or speed rules change.
CACHE_FORMAT: Final[int] = 3


def cache_dir() -> Path:
    """Return the folder for compiled road graphs (``SECCOV_CACHE_DIR``, else ~/.cache/seccov)."""
    env = os.environ.get("SECCOV_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "seccov"


def data_dir() -> Path:
    """Return the folder for the app's store and uploaded datasets.

    ``SECCOV_DATA_DIR``, else ``$XDG_DATA_HOME/seccov``, else ``~/.local/share/seccov``.
    """
    env = os.environ.get("SECCOV_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "seccov"


#: Side of the square cells (metres) the map's response-time surface, areas of
#: responsibility and service areas are drawn on (see coverage/layers.py).
MAP_GRID_M: Final[float] = 300.0


# --- Live feed, store, accounts and uploads (docs/live-ops.md) ---------------------------

#: A position whose timestamp lies more than this ahead of the ingesting machine's clock is
#: rejected ("timestamp in the future"); a little allowance covers device clock drift.
FUTURE_TOLERANCE_S: Final[float] = 300.0

#: A position whose timestamp is older than this is rejected: no tracker of this system
#: reported then, so it is a device with a reset clock or a typo (the feed and file ingest).
FEED_OLDEST_TIMESTAMP: Final[datetime] = datetime(2000, 1, 1, tzinfo=UTC)

#: Records committed per ingest transaction; a crash loses at most the batch in flight.
INGEST_BATCH: Final[int] = 2_000

#: ...from standard input, which cannot be read again after a crash: smaller batches, so a
#: kill loses at most this many records (stdin ingest is at-most-once for its last batch).
INGEST_STDIN_BATCH: Final[int] = 50

#: In ``--follow`` mode, a partial batch is committed after this many seconds without input.
INGEST_FLUSH_S: Final[float] = 0.5

#: How often ``--follow`` looks for new lines in a growing file, in seconds.
FOLLOW_POLL_S: Final[float] = 0.1

#: Simulated officers move no slower and no faster than this along the roads, km/h.
SIM_MIN_SPEED_KPH: Final[float] = 10.0
SIM_MAX_SPEED_KPH: Final[float] = 60.0

#: Consecutive failed logins for one user name that lock it, and for how long (minutes).
LOGIN_MAX_FAILURES: Final[int] = 5
LOGIN_LOCKOUT_MIN: Final[float] = 15.0

#: Shortest password accepted for a local account (demo accounts are exempt, demo mode only).
PASSWORD_MIN_LENGTH: Final[int] = 12

#: Argon2id cost of password hashes (argon2-cffi's RFC 9106 "low memory" profile).
ARGON2_TIME_COST: Final[int] = 3
ARGON2_MEMORY_KIB: Final[int] = 65_536
ARGON2_PARALLELISM: Final[int] = 4

#: Uploads: largest single file (an upload, or one member of a zip), in bytes.
UPLOAD_MAX_FILE_BYTES: Final[int] = 200 * 1024 * 1024
#: Uploads: a zip may hold at most this many members and unpack to at most this many bytes.
UPLOAD_MAX_MEMBERS: Final[int] = 200
UPLOAD_MAX_TOTAL_BYTES: Final[int] = 1024 * 1024 * 1024
#: Uploads: a member (or the whole zip) expanding more than this many times is a zip bomb.
UPLOAD_MAX_RATIO: Final[float] = 100.0
#: ...but only for members larger than this, so a small repetitive file is not refused.
UPLOAD_RATIO_MIN_BYTES: Final[int] = 1024 * 1024

#: HTTP feed (``serve-feed``, docs/live-ops.md): the port Traccar Client expects (OsmAnd).
FEED_PORT: Final[int] = 5055
#: HTTP feed: the largest request body accepted (one position per request), in bytes.
FEED_MAX_BODY_BYTES: Final[int] = 65_536
#: HTTP feed: positions per second one device may send (token bucket), and the burst it may
#: send at once (Traccar Client uploading its offline buffer); beyond that: 429.
FEED_DEVICE_RATE_PER_S: Final[float] = 10.0
FEED_DEVICE_BURST: Final[int] = 100
#: HTTP feed: every this many wrong or missing tokens from one address, an audit entry.
FEED_TOKEN_AUDIT_EVERY: Final[int] = 5
#: HTTP feed: a request waits at most this long for its commit, then gets 503 (retry).
FEED_COMMIT_TIMEOUT_S: Final[float] = 30.0

#: Handling marking printed at the top and bottom of every briefing export (PDF pages, the
#: PNG map and the HTML map; see docs/exports.md). Set it to your force's own classification
#: line; exports never leave it out.
HANDLING_MARKING: Final[str] = "RESTRICTED — POLICE OPERATIONAL USE ONLY"


# --- Readiness and refusal risk (../shared/DATA.md "Readiness") ---------------------------

#: Readiness windows in days, ending on the as-of date inclusive (as_of - 29 .. as_of).
ABSENCE_WINDOW_DAYS: Final[int] = 30
EVENTS_WINDOW_DAYS: Final[int] = 90

#: Plausible calendar years (inclusive) of personnel event dates and of an as-of date; a
#: date outside is a typo and is refused with its file, row and field (or its option).
PLAUSIBLE_YEARS: Final[tuple[int, int]] = (1900, 2200)

#: A station is ``critical`` when any of these is reached (``kit_on_hand_share``: an item's
#: on_hand below this share of what is needed).
READINESS_CRITICAL: Final = MappingProxyType({
    "refusals_90d": 3, "absence_rate_30d": 0.20, "suspended_share": 0.25,
    "kit_on_hand_share": 0.5,
})

#: ...else ``warning`` when any of these is reached, or an item is short.
READINESS_WARNING: Final = MappingProxyType({
    "refusals_90d": 1, "grievances_90d": 3, "complaints_90d": 3, "absence_rate_30d": 0.10,
    "suspended_share": 0.10,
})

#: Readiness levels, best first.
READINESS_LEVELS: Final[tuple[str, ...]] = ("ok", "warning", "critical")

#: Probability that an available unit fails to answer, by its station's readiness level.
REFUSAL_P: Final = MappingProxyType({"ok": 0.02, "warning": 0.10, "critical": 0.30})

#: Weeks shown in the readiness trends (7-day weeks ending on the as-of date).
TREND_WEEKS: Final[int] = 13


# --- The environment (SECCOV_*): read here and nowhere else ------------------------------

#: Local time zone for times printed on screen, in orders and in briefings.
LOCAL_TZ: Final[str] = "Asia/Karachi"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_float(name: str, default: float, low: float) -> float:
    """A number from the environment; a missing, unreadable or too-small value gives ``default``."""
    try:
        value = float(_env(name) or default)
    except ValueError:
        return default
    return value if math.isfinite(value) and value >= low else default


def demo_mode() -> bool:
    """True when ``SECCOV_DEMO`` is 1/true/yes: the synthetic demo district, clearly labelled."""
    return _env("SECCOV_DEMO").lower() in {"1", "true", "yes"}


def demo_role() -> str:
    """Role of the demo session (``SECCOV_DEMO_ROLE``, default ``admin``)."""
    return _env("SECCOV_DEMO_ROLE", "admin").lower() or "admin"


def demo_feed_enabled() -> bool:
    """Whether demo mode runs the simulated feed (``SECCOV_DEMO_FEED``, default on)."""
    return demo_mode() and _env("SECCOV_DEMO_FEED", "1") != "0"


def refresh_s() -> float:
    """Seconds between live-map refreshes (``SECCOV_REFRESH_S``, default 5, at least 1)."""
    return _env_float("SECCOV_REFRESH_S", 5.0, 1.0)


def stale_after_s() -> float:
    """Age after which a live position is stale (``SECCOV_STALE_S``, default STALE_AFTER_S)."""
    return _env_float("SECCOV_STALE_S", STALE_AFTER_S, 1.0)


def db_url() -> str | None:
    """The store URL from ``SECCOV_DB``, or None when unset."""
    return _env("SECCOV_DB") or None


def tiles_url() -> str:
    """Basemap tile template (``SECCOV_TILES_URL``); empty: no basemap, roads from the graph."""
    return _env("SECCOV_TILES_URL")


def chromium_path(default: str) -> str:
    """The browser for PNG exports (``SECCOV_CHROMIUM``, else ``default``)."""
    return _env("SECCOV_CHROMIUM") or default


def png_renderer() -> str:
    """PNG renderer choice (``SECCOV_PNG_RENDERER``: auto, chromium or matplotlib)."""
    return _env("SECCOV_PNG_RENDERER", "auto") or "auto"


def feed_token() -> str | None:
    """The HTTP feed's shared token from ``SECCOV_FEED_TOKEN`` (kept off the command line)."""
    return _env("SECCOV_FEED_TOKEN") or None


def local_tz() -> str:
    """Time zone for local times (``SECCOV_TZ``, default Asia/Karachi)."""
    return _env("SECCOV_TZ") or LOCAL_TZ
