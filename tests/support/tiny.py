"""Tiny hand-checkable inputs: paths, great-circle metres written out, hand-checked times."""

from __future__ import annotations

import math
from pathlib import Path

DATA = Path(__file__).parent
ROOT = Path(__file__).resolve().parents[2]
R = 6_371_009.0


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle metres, written out independently of the package."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(math.sqrt(h))


# Hand-checked edge times of tiny.osm (seconds): 1->3 residential 20 km/h, 4->3 service 15 km/h.
T13 = (haversine_m(71.5, 34, 71.501, 34) + haversine_m(71.501, 34, 71.502, 34)) / 20 * 3.6
T43 = haversine_m(71.502, 34, 71.502, 34.001) / 15 * 3.6


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
