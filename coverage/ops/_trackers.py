"""Tracker payloads: OsmAnd (query, form, JSON) and Traccar forwarding, to feed records.

Each function turns one request's payload into a :class:`Report`: the device id, and the
fields of a live-position record (``lat``, ``lon``, ``timestamp`` as ISO 8601 text with an
offset, ``speed_kph``, ``heading_deg``) that :func:`coverage.ops.feed.validate` checks like
any other record, plus the problems found while translating (all of them, not the first).
Units are converted here: OsmAnd and Traccar speeds are knots, OsmAnd JSON speeds m/s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

KNOT_KPH = 1.852
MS_KPH = 3.6
_EPOCH = re.compile(r"\d{1,16}(?:\.\d+)?")
_PLAIN = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})")
_SECONDS_BELOW = 2_147_483_647  # as Traccar: a smaller epoch number is seconds, else ms
_DATE_FIRST = re.compile(r"\d{4}-\d{2}-\d{2}")
#: The time forms a tracker may send, as messages name them.
FORMS = ("epoch seconds, epoch milliseconds, ISO 8601 with an offset "
         "(2026-11-25T08:00:00+05:00) or yyyy-MM-dd HH:mm:ss (UTC)")


@dataclass(frozen=True)
class Report:
    """One payload translated: device id, record fields, problems, and a simulated flag."""

    device_id: str | None
    fields: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    simulated: bool = False


def timestamp_text(value: Any, name: str = "timestamp") -> tuple[str | None, str | None]:
    """ISO 8601 text with offset for an epoch (s or ms), ``yyyy-MM-dd HH:mm:ss`` (UTC) or
    ISO text; returns (text, None) or (None, problem). ISO text is passed on unchanged for
    the feed's own check (it refuses text without an offset)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool | dict | list):
        return None, f"{name} is a JSON {type(value).__name__}, not a time"
    text = str(value).strip()
    if isinstance(value, int | float) or _EPOCH.fullmatch(text):
        number = float(value) if isinstance(value, int | float) else float(text)
        if not math.isfinite(number) or number < 0:
            return None, f"{name} '{text}' is not a time; give {FORMS}"
        millis = number >= _SECONDS_BELOW
        try:
            at = datetime.fromtimestamp(number / 1000 if millis else number, UTC)
        except (OverflowError, OSError, ValueError):
            return None, f"{name} '{text}' is not a valid time; give {FORMS}"
        fraction = millis or number != int(number)
        return at.isoformat(timespec="milliseconds" if fraction else "seconds"), None
    plain = _PLAIN.fullmatch(text)
    if plain:
        return f"{plain.group(1)}T{plain.group(2)}Z", None
    if not _DATE_FIRST.match(text):
        shown = text if len(text) <= 40 else text[:40] + "..."
        return None, f"{name} '{shown}' is not a time; give {FORMS}"
    return text, None


def _number(value: Any, name: str, problems: list[str], fix: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool | dict | list):
            raise ValueError
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        problems.append(f"{name} '{value}' is not a number; {fix}")
        return None
    return number


def _identifier(value: Any, name: str, problems: list[str]) -> str | None:
    if isinstance(value, bool | dict | list):
        problems.append(f"{name} is a JSON {type(value).__name__}, not an identifier")
        return None
    if isinstance(value, float) and value == int(value):
        value = int(value)
    text = "" if value is None else str(value).strip()
    return text or None


def _false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() in ("false", "0"))


def osmand_params(params: Mapping[str, str]) -> Report:
    """An OsmAnd request from its query or form parameters (the token already removed)."""
    problems: list[str] = []
    device = _identifier(params.get("id") or params.get("deviceid"), "id", problems)
    if device is None and not problems:
        problems.append("id is missing; give id (or deviceid): the device identifier")
    lat, lon = params.get("lat"), params.get("lon")
    location = params.get("location")
    if (lat is None or lon is None) and location is not None:
        parts = location.split(",")
        if len(parts) == 2:
            lat, lon = parts[0].strip(), parts[1].strip()
        else:
            problems.append(f"location '{location}' is not lat,lon")
    missing = [n for n, v in (("lat", lat), ("lon", lon)) if v is None or not v.strip()]
    if missing and location is None:
        problems.append(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                        "missing; give lat and lon (or location=lat,lon)")
    stamp, problem = timestamp_text(params.get("timestamp"))
    if problem:
        problems.append(problem)
    elif stamp is None:
        problems.append(f"timestamp is missing; give the fix time ({FORMS})")
    fields: dict[str, Any] = {"lat": lat, "lon": lon, "timestamp": stamp}
    knots = _number(params.get("speed"), "speed", problems, "give knots >= 0")
    if knots is not None and knots < 0:
        problems.append(f"speed {params.get('speed')} is negative; give knots >= 0")
    elif knots is not None:
        fields["speed_kph"] = round(knots * KNOT_KPH, 3)
    heading = params.get("bearing", params.get("heading"))
    if heading is not None and heading.strip():
        fields["heading_deg"] = heading
    if _false(params.get("valid")):
        problems.append("valid is false: the device has no GPS fix; not stored as a position")
    return Report(device, fields, tuple(problems))


def osmand_json(body: Any) -> Report:
    """An OsmAnd JSON body (Traccar Client 9+): ``{"device_id", "location": {...}}``."""
    if not isinstance(body, dict):
        return Report(None, problems=(f"body is a JSON {type(body).__name__}, not an object "
                                      "with device_id and location",))
    problems: list[str] = []
    device = _identifier(body.get("device_id"), "device_id", problems)
    if device is None and not problems:
        problems.append("device_id is missing; give the device identifier")
    loc = body.get("location")
    if not isinstance(loc, dict):
        what = "missing" if loc is None else f"a JSON {type(loc).__name__}"
        problems.append(f"location is {what}; send one location object per request")
        return Report(device, problems=tuple(problems))
    coords = loc.get("coords")
    coords = coords if isinstance(coords, dict) else {}
    if "latitude" not in coords or "longitude" not in coords:
        problems.append("location.coords needs latitude and longitude")
    stamp, problem = timestamp_text(loc.get("timestamp"), "location.timestamp")
    if problem:
        problems.append(problem)
    elif stamp is None:
        problems.append("location.timestamp is missing; give the fix time in ISO 8601")
    fields: dict[str, Any] = {"lat": coords.get("latitude"), "lon": coords.get("longitude"),
                              "timestamp": stamp}
    speed = _number(coords.get("speed"), "location.coords.speed", problems, "give m/s")
    if speed is not None and speed >= 0:  # -1: not known (the location SDK's convention)
        fields["speed_kph"] = round(speed * MS_KPH, 3)
    heading = _number(coords.get("heading"), "location.coords.heading", problems,
                      "give degrees")
    if heading is not None and heading >= 0:
        fields["heading_deg"] = heading
    extras = loc.get("extras")
    simulated = isinstance(extras, dict) and extras.get("simulated") is True
    return Report(device, fields, tuple(problems), simulated)


def traccar_json(body: Any) -> Report:
    """Traccar position forwarding (``forward.type=json``): ``{"position", "device"}``."""
    if not isinstance(body, dict):
        return Report(None, problems=(f"body is a JSON {type(body).__name__}, not an object "
                                      "with position and device",))
    problems: list[str] = []
    device = body.get("device")
    pos = body.get("position")
    unique = _identifier(device.get("uniqueId"), "device.uniqueId", problems) if isinstance(
        device, dict) else None
    if unique is None and not problems:
        problems.append("device.uniqueId is missing; Traccar forwarding sends the device "
                        "with its uniqueId")
    if not isinstance(pos, dict):
        problems.append("position is missing; Traccar forwarding sends {position, device}")
        return Report(unique, problems=tuple(problems))
    if "latitude" not in pos or "longitude" not in pos:
        problems.append("position needs latitude and longitude")
    stamp, problem = timestamp_text(pos.get("fixTime"), "position.fixTime")
    if problem:
        problems.append(problem)
    elif stamp is None:
        problems.append("position.fixTime is missing")
    fields: dict[str, Any] = {"lat": pos.get("latitude"), "lon": pos.get("longitude"),
                              "timestamp": stamp}
    knots = _number(pos.get("speed"), "position.speed", problems, "give knots")
    if knots is not None and knots < 0:
        problems.append(f"position.speed {knots:g} is negative; give knots >= 0")
    elif knots is not None:
        fields["speed_kph"] = round(knots * KNOT_KPH, 3)
    if pos.get("course") is not None:
        fields["heading_deg"] = pos.get("course")
    if _false(pos.get("valid")):
        problems.append("position.valid is false: the device has no GPS fix; not stored as "
                        "a position")
    return Report(unique, fields, tuple(problems))


__all__ = ["FORMS", "Report", "osmand_json", "osmand_params", "timestamp_text", "traccar_json"]
