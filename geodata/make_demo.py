"""Generate the bundled SYNTHETIC Peshawar demo district (roads, stations, zones, officers)."""

from __future__ import annotations

import argparse
import csv
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from osmium.osm import mutable
from pyproj import Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import Delaunay, cKDTree
from shapely import affinity
from shapely.geometry import LineString, MultiPoint, MultiPolygon, Point, Polygon, box, mapping

SEED = 20261125
REF_TIME = datetime(2026, 11, 25, 8, 0, 0, tzinfo=timezone(timedelta(hours=5)))
BBOX = (71.37, 33.66, 71.86, 34.23)  # lon/lat, OCHA administrative boundaries (DATA.md)
OLD_CITY = (71.572, 34.008)  # origin (0, 0) of the local metric layout (UTM 42N, shifted)
STUB_M = 1.0  # free line ends overshoot by this much, so that crossings get noded
TRIM_M = 4.0  # dangling overshoots shorter than this are cut after noding

Net = dict[str, Any]  # {"x": [...], "y": [...], "key": {cm-position: id}, "ways": [...]}
Item = tuple[np.ndarray, dict[str, str], str]  # skeleton line: coordinates, tags, region

# Grid style per region: lattice spacing range (m), jitter (share of spacing), share of
# segments deleted, share of streets made one-way, own random rotation per face, name prefix.
STYLES: dict[str, dict[str, Any]] = {
    "old_city": {"s": (40, 50), "jit": 0.16, "dele": 0.06, "ow": 0.55, "own": True, "pre": "Gali"},
    "cantonment": {"s": (110, 110), "jit": 0.05, "dele": 0.03, "ow": 0.04, "own": False,
                   "pre": "Street"},
    "hayatabad": {"s": (60, 60), "jit": 0.06, "dele": 0.05, "ow": 0.02, "own": False,
                  "pre": "Street"},
    "suburb": {"s": (64, 64), "jit": 0.08, "dele": 0.05, "ow": 0.03, "own": False, "pre": "Street"},
    "inner": {"s": (54, 66), "jit": 0.12, "dele": 0.04, "ow": 0.06, "own": True, "pre": "Street"},
    "village": {"s": (52, 62), "jit": 0.2, "dele": 0.06, "ow": 0.0, "own": True, "pre": "Lane"},
}
# Planned grids outside the ring: label, centre (m), size (m), rotation (deg), sector size (m).
PLANNED = {"hayatabad": ("Hayatabad", -13200, -3300, 5200, 4800, -8, 900),
           "regi": ("Regi Model Town", -12600, 2700, 3000, 2400, 5, 800),
           "suburb_s": ("Badaber Town", -1200, -10600, 5200, 3600, 18, 800),
           "suburb_e": ("Chamkani Town", 9300, -300, 6000, 4200, -6, 800),
           "suburb_n": ("Sardar Garhi", 2400, 8800, 3600, 3000, 28, 800)}
# Arterials: name, highway, maxspeed, waypoints (lon, lat); "@Road" starts at that road's end,
# ("@Road", lon, lat) at the vertex of that road nearest to (lon, lat).
ARTERIALS: list[tuple[str, str, str | None, list[Any]]] = [
    ("GT Road", "trunk", None, [(71.858, 34.003), (71.80, 34.006), (71.74, 34.010),
     (71.68, 34.011), (71.635, 34.0125), (71.60, 34.0185), (71.578, 34.0205), (71.562, 34.018)]),
    ("Khyber Road", "primary", "50", ["@GT Road", (71.552, 34.0105), (71.541, 34.0045),
     (71.530, 34.0015)]),
    ("Jamrud Road", "trunk", None, ["@Khyber Road", (71.51, 34.003), (71.49, 34.0045),
     (71.47, 34.004), (71.45, 33.999), (71.43, 33.993), (71.41, 33.987), (71.372, 33.979)]),
    ("University Road", "primary", None, [("@Khyber Road", 71.548, 34.0075), (71.545, 33.999),
     (71.53, 33.9975), (71.51, 33.998), (71.495, 34.0), (71.475, 34.0005),
     ("@Jamrud Road", 71.462, 34.002)]),
    ("Charsadda Road", "primary", None, [("@GT Road", 71.585, 34.0195), (71.584, 34.035),
     (71.588, 34.06), (71.60, 34.10), (71.618, 34.15), (71.635, 34.20), (71.64, 34.228)]),
    ("Kohat Road", "primary", None, [("@Circular Road", 71.574, 33.998), (71.566, 33.985),
     (71.555, 33.96), (71.545, 33.93), (71.53, 33.89), (71.51, 33.84), (71.49, 33.78),
     (71.47, 33.72), (71.458, 33.662)]),
    ("Warsak Road", "primary", None, [("@Khyber Road", 71.552, 34.0105), (71.538, 34.03),
     (71.52, 34.055), (71.50, 34.09), (71.48, 34.13), (71.465, 34.17)]),
    ("Bara Road", "secondary", None, [("@Kohat Road", 71.557, 33.965), (71.53, 33.955),
     (71.50, 33.945), (71.46, 33.93), (71.42, 33.915), (71.385, 33.905)]),
    ("Dalazak Road", "secondary", None, [("@GT Road", 71.610, 34.016), (71.625, 34.04),
     (71.65, 34.07), (71.69, 34.10), (71.74, 34.13)]),
    ("Nasir Bagh Road", "secondary", None, [("@Jamrud Road", 71.47, 34.004), (71.465, 34.03),
     (71.46, 34.06)]),
]
ROUNDABOUTS = ["GT Road", "Charsadda Road", "Kohat Road", "Jamrud Road", "Warsak Road"]  # x Ring
LINK_NAMES = ["Canal Road", "Gulbahar Road", "Arbab Road", "Tehkal Road", "Phandu Road",
              "Pajjagi Road", "Bhana Mari Road", "Lala Zar Road", "Sufaid Dheri Road",
              "Sethi Town Road", "Faqirabad Road", "Gulberg Road"]
BAZAARS = ["Qissa Khwani Bazaar", "Karimpura Bazaar", "Meena Bazaar", "Andar Shehr Bazaar",
           "Kochi Bazaar", "Peepal Mandi", "Ghanta Ghar Road", "Mochi Lara", "Kalan Bazaar",
           "Sabzi Mandi Road", "Asamai Gate Road", "Ganj Bazaar", "Rampura Bazaar"]
CANTT_ROADS = ["Mall Road", "Saddar Road", "Sunehri Masjid Road", "Fort Road", "Sir Syed Road",
               "Hospital Road", "Stadium Road", "Shami Road", "Jail Road", "Park Road"]
VILLAGES = [("Mathra", 71.495, 34.078), ("Daudzai", 71.620, 34.140), ("Khazana", 71.600, 34.072),
            ("Mashogagar", 71.500, 33.890), ("Sarband", 71.462, 33.940)]
VILLAGE_NAMES = ["Shahi Bala", "Pakha Ghulam", "Sheikh Muhammadi", "Adezai", "Budhni", "Nahaqi",
                 "Surizai", "Masma", "Garhi Chandan", "Kaga Wala", "Wadpaga", "Achini",
                 "Kafur Dheri", "Musazai", "Larama"]
# Stations: name, division, approximate real position (lon, lat).
STATIONS: list[tuple[str, str, float, float]] = [
    ("Kotwali", "City", 71.5712, 34.0082), ("Khan Raziq Shaheed", "City", 71.5640, 34.0045),
    ("Shah Qabool Aulia", "City", 71.5680, 34.0120), ("Yakatoot", "City", 71.5810, 34.0128),
    ("Lahori", "City", 71.5850, 34.0050), ("Hashtnagri", "City", 71.5935, 34.0150),
    ("Gulbahar", "City", 71.5890, 34.0260), ("Faqirabad", "City", 71.5720, 34.0300),
    ("Agha Mir Jani Shah", "City", 71.5905, 33.9960), ("Pahari Pura", "City", 71.5850, 33.9860),
    ("Cantt", "Cantonment", 71.5440, 34.0010), ("West Cantt", "Cantonment", 71.5290, 33.9960),
    ("Gulberg", "Cantonment", 71.5480, 33.9870), ("Tehkal", "Cantonment", 71.5160, 34.0030),
    ("Inqilab", "Cantonment", 71.5400, 33.9800),
    ("University Town", "Suburban", 71.5000, 33.9990), ("Town", "Suburban", 71.5100, 34.0080),
    ("Campus", "Suburban", 71.4870, 34.0040), ("Hayatabad", "Suburban", 71.4450, 33.9860),
    ("Tatara", "Suburban", 71.4220, 33.9700), ("Pishtakhara", "Saddar", 71.5150, 33.9700),
    ("Bhana Mari", "Saddar", 71.5560, 33.9820), ("Badaber", "Saddar", 71.5450, 33.9380),
    ("Sarband", "Saddar", 71.4620, 33.9400), ("Mashogagar", "Saddar", 71.5000, 33.8900),
    ("Mathra", "Rural", 71.4950, 34.0780), ("Chamkani", "Rural", 71.6400, 34.0080),
    ("Daudzai", "Rural", 71.6200, 34.1400), ("Regi", "Rural", 71.4350, 34.0400),
    ("Khazana", "Rural", 71.6000, 34.0720),
]
# Per division: officers per station, sanctioned strength lo/hi, vehicles lo/hi, beat radius m.
DIVISION = {"City": (10, 110, 180, 4, 8, 4500), "Cantonment": (20, 90, 150, 3, 7, 3500),
            "Suburban": (20, 80, 140, 3, 6, 3500), "Saddar": (20, 70, 120, 2, 5, 4500),
            "Rural": (20, 50, 100, 2, 4, 5000)}
# Zones: name, lon, lat, width m, height m, rotation deg, priority, target_min, min_officers,
# area (guard posts are drawn from the matching division), extra parts (lon, lat, w, h, rot).
ZONES: list[tuple[Any, ...]] = [
    ("Qissa Khwani Bazaar", 71.5668, 34.0078, 480, 170, 12, 1, 5.0, 4, "old", []),
    ("Chowk Yadgar", 71.5745, 34.0092, 260, 240, 0, 1, 5.0, 4, "old", []),
    ("Bala Hisar Fort", 71.5662, 34.0127, 420, 330, -10, 1, 6.0, 3, "old", []),
    ("Namak Mandi", 71.5620, 34.0062, 300, 260, 20, 2, 7.0, 2, "old", []),
    ("All Saints Church Kohati Gate", 71.5735, 34.0030, 220, 200, 0, 1, 5.0, 3, "old", []),
    ("Mahabat Khan Mosque", 71.5700, 34.0102, 210, 200, 15, 1, 6.0, 3, "old", []),
    ("Lady Reading Hospital", 71.5768, 34.0135, 380, 260, -5, 1, 6.0, 4, "old", []),
    ("Gurdwara Bhai Joga Singh", 71.5795, 34.0060, 200, 180, 30, 1, 6.0, 3, "old", []),
    ("Peshawar High Court", 71.5395, 34.0030, 330, 260, 5, 1, 6.0, 2, "cantt", []),
    ("Governor House", 71.5355, 34.0012, 360, 300, 0, 1, 5.0, 4, "cantt", []),
    ("Civil Secretariat", 71.5445, 34.0045, 320, 240, 10, 1, 6.0, 2, "cantt", []),
    ("Police Lines", 71.5500, 33.9985, 420, 300, 0, 2, 8.0, 2, "cantt", []),
    ("Peshawar Press Club", 71.5430, 33.9962, 240, 220, 0, 2, 7.0, 1, "cantt", []),
    ("Peshawar Railway Station", 71.5378, 33.9985, 360, 170, 75, 2, 8.0, 2, "cantt",
     [(71.5325, 33.9968, 300, 150, 75)]),
    ("Sunehri Masjid", 71.5410, 33.9932, 200, 180, 0, 2, 7.0, 1, "cantt", []),
    ("Bacha Khan International Airport", 71.5146, 33.9939, 520, 1450, 8, 1, 7.0, 4, "cantt", []),
    ("University of Peshawar", 71.4850, 34.0060, 1100, 700, 5, 2, 8.0, 2, "west",
     [(71.4740, 34.0085, 500, 400, 0)]),
    ("Board Bazaar", 71.4650, 34.0025, 420, 220, 5, 2, 8.0, None, "west", []),
    ("Hayatabad Phase 3 Market", 71.4470, 33.9880, 300, 260, -8, 3, 10.0, 1, "west", []),
    ("Karkhano Market", 71.4170, 33.9820, 650, 380, -12, 2, 9.0, 2, "west", []),
    ("Hayatabad Medical Complex", 71.4330, 33.9950, 360, 300, -8, 1, None, 2, "west", []),
    ("Arbab Niaz Cricket Stadium", 71.5780, 34.0250, 420, 360, 0, 3, None, 1, "north", []),
    ("Haji Camp Bus Terminal", 71.6000, 34.0160, 360, 250, 10, None, 9.0, 2, "east", []),
    ("Qayyum Sports Complex", 71.5260, 33.9990, 380, 300, 0, None, 8.0, 1, "cantt", []),
    ("Kohat Adda", 71.5700, 33.9920, 300, 260, -20, 2, 8.0, None, "south", []),
]
GUARD_AREA = {"City": "old", "Cantonment": "cantt", "Suburban": "west"}
GUARD_SHARE = {"City": 0.5, "Cantonment": 0.35, "Suburban": 0.3}  # of positioned on-duty
STATUS_TOTALS = {"on_duty": 310, "reserve": 90, "off_duty": 100}
RANKS = {"Inspector": 30, "SI": 40, "ASI": 55, "Head Constable": 85, "Constable": 290}
GIVEN = ["Muhammad", "Ahmad", "Ali", "Imran", "Asif", "Bilal", "Fazal", "Gul", "Hamid", "Ijaz",
         "Irfan", "Jamal", "Kamran", "Khalid", "Naveed", "Noor", "Rahim", "Sajid", "Shahid",
         "Tariq", "Usman", "Waqar", "Yasir", "Zahid", "Zubair", "Saeed", "Faisal", "Amjad",
         "Arshad", "Nasir", "Sher", "Haroon", "Rizwan", "Adnan", "Junaid", "Sohail", "Fawad",
         "Ihsan", "Inamullah", "Shakeel", "Akbar", "Anwar", "Hazrat", "Iqbal", "Javed", "Mumtaz",
         "Niaz", "Qaiser", "Riaz", "Sami", "Tahir", "Wajid", "Siraj", "Habib"]
GIVEN_F = ["Ayesha", "Fatima", "Sana", "Nazia", "Rukhsana", "Shazia", "Samina", "Bushra"]
FAMILY = ["Khan", "Afridi", "Yousafzai", "Khattak", "Mohmand", "Shinwari", "Orakzai", "Bangash",
          "Durrani", "Kakar", "Marwat", "Jadoon", "Swati", "Tanoli", "Qureshi", "Shah", "Gilani",
          "Awan", "Mughal", "Hussain", "Wazir", "Safi", "Mahsud"]


# --------------------------------------------------------------------------- geometry helpers
@lru_cache(maxsize=1)
def _transformers() -> tuple[Transformer, Transformer, tuple[float, float]]:
    fwd = Transformer.from_crs("EPSG:4326", "EPSG:32642", always_xy=True)
    inv = Transformer.from_crs("EPSG:32642", "EPSG:4326", always_xy=True)
    return fwd, inv, fwd.transform(*OLD_CITY)


def to_xy(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat degrees to local metres (UTM 42N shifted so the old city is 0, 0)."""
    fwd, _, (ox, oy) = _transformers()
    x, y = fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x) - ox, np.asarray(y) - oy


def to_lonlat(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`to_xy`."""
    _, inv, (ox, oy) = _transformers()
    lon, lat = inv.transform(np.asarray(x, float) + ox, np.asarray(y, float) + oy)
    return np.asarray(lon), np.asarray(lat)


def pt(lon: float, lat: float) -> np.ndarray:
    """Return one lon/lat position in local metres."""
    return np.array([float(v) for v in to_xy(lon, lat)])


def wiggle(points: Any, step: float, amp: float, rng: np.random.Generator) -> np.ndarray:
    """Densify a polyline every ``step`` m and bend it sideways; both ends stay exactly put."""
    line = LineString(points)
    dist = np.linspace(0.0, line.length, max(int(line.length / step), 1) + 1)
    p = shapely.get_coordinates(shapely.line_interpolate_point(line, dist))
    tang = np.gradient(p, axis=0)
    tang /= np.hypot(tang[:, 0], tang[:, 1])[:, None]
    s = dist / line.length
    k, ph = rng.uniform(1.0, 4.0, 2), rng.uniform(0.0, 2 * np.pi, 2)
    off = amp * np.sin(np.pi * s) * (0.6 * np.sin(2 * np.pi * k[0] * s + ph[0])
                                     + 0.4 * np.sin(2 * np.pi * k[1] * s + ph[1]))
    out = p + np.column_stack([-tang[:, 1], tang[:, 0]]) * off[:, None]
    out[0], out[-1] = np.asarray(points, float)[0], np.asarray(points, float)[-1]
    return out


def blob(cx: float, cy: float, rx: float, ry: float, rot: float, rng: np.random.Generator,
         wobble: float = 0.06, n: int = 48) -> Polygon:
    """Return an irregular ellipse; star-shaped around its centre, hence always valid."""
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    ph = rng.uniform(0.0, 2 * np.pi, 3)
    r = 1 + wobble * (np.sin(2 * t + ph[0]) + 0.6 * np.sin(3 * t + ph[1])
                      + 0.3 * np.sin(5 * t + ph[2]))
    poly = Polygon(np.column_stack([rx * r * np.cos(t), ry * r * np.sin(t)]))
    return affinity.translate(affinity.rotate(poly, rot, origin=(0, 0)), cx, cy)


def rect(cx: float, cy: float, w: float, h: float, rot: float) -> Polygon:
    """Return a ``w`` x ``h`` rectangle centred on (cx, cy), rotated ``rot`` degrees."""
    return affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), rot)


def largest(geom: Any) -> Polygon:
    """Return the largest polygon part of ``geom``."""
    return max((g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"),
               key=lambda g: g.area)


def line_parts(geom: Any, min_len: float) -> list[np.ndarray]:
    """Return the coordinates of every line part of ``geom`` longer than ``min_len``."""
    return [np.asarray(g.coords) for g in shapely.get_parts(geom)
            if g.geom_type == "LineString" and g.length > min_len]


def extend_ends(c: np.ndarray, d: float = STUB_M) -> np.ndarray:
    """Prolong both ends of an open polyline by ``d`` metres with new end vertices."""
    if np.allclose(c[0], c[-1]):
        return c
    v0, v1 = c[0] - c[1], c[-1] - c[-2]
    return np.vstack([c[0] + v0 / np.hypot(*v0) * d, c, c[-1] + v1 / np.hypot(*v1) * d])


# --------------------------------------------------------------------------- layout
def layout_regions(rng: np.random.Generator) -> tuple[dict[str, Any], Polygon, Polygon]:
    """Lay out the urban regions, the ring-road polygon and the district polygon (metres)."""
    e = np.linspace(0.0, 1.0, 50)
    lon = BBOX[0] + (BBOX[2] - BBOX[0]) * np.r_[e, np.ones(50), e[::-1], np.zeros(50)]
    lat = BBOX[1] + (BBOX[3] - BBOX[1]) * np.r_[np.zeros(50), e, np.ones(50), e[::-1]]
    district = Polygon(np.column_stack(to_xy(lon, lat)))
    ring = blob(-2500, -800, 8200, 7000, 0, rng, wobble=0.025, n=240)
    old = blob(0, 0, 1750, 1150, 8, rng, wobble=0.05, n=64)
    cantt = largest(rect(-3700, -1300, 3800, 3600, 4).difference(old.buffer(350))
                    .intersection(ring.buffer(-300)))
    regions: dict[str, Any] = {"old_city": (old, 8.0), "cantonment": (cantt, 4.0)}
    inside = district.buffer(-400)
    taken = old.union(cantt).union(ring.buffer(250))
    for name, (_, cx, cy, w, h, rot, _) in PLANNED.items():
        poly = largest(rect(cx, cy, w, h, rot).intersection(inside).difference(taken))
        regions[name] = (poly, float(rot))
        taken = taken.union(poly.buffer(250))
    regions["inner"] = (ring.difference(old).difference(cantt), 0.0)
    spots = [(n, *pt(lo, la)) for n, lo, la in VILLAGES]
    guard, blocked = inside.buffer(-800), taken.buffer(700)
    x0, y0, x1, y1 = guard.bounds
    while len(spots) < len(VILLAGES) + len(VILLAGE_NAMES):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        far = min(np.hypot(x - sx, y - sy) for _, sx, sy in spots) > 3500
        if far and guard.contains(Point(x, y)) and not blocked.contains(Point(x, y)):
            spots.append((VILLAGE_NAMES[len(spots) - len(VILLAGES)], x, y))
    for name, x, y in spots:
        r = rng.uniform(380, 650)
        poly = blob(x, y, r, r * rng.uniform(0.7, 1.0), rng.uniform(0, 180), rng, 0.08, 24)
        poly = poly.difference(taken)
        if poly.area > 0.25 * np.pi * r * r:
            regions[f"village:{name}"] = (largest(poly), 0.0)
            taken = taken.union(poly.buffer(300))
    return regions, ring, district


def region_style(region: str) -> dict[str, Any]:
    """Return the grid style of a region key ("village:Mathra", "suburb_s", ...)."""
    base = region.split(":", 1)[0]
    return STYLES["suburb" if base in PLANNED and base != "hayatabad" else base]


def voronoi_edges(poly: Polygon, spacing: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Return the borders between Voronoi cells of jittered seeds, clipped to ``poly``."""
    x0, y0, x1, y1 = poly.bounds
    gx, gy = np.meshgrid(np.arange(x0, x1 + spacing, spacing), np.arange(y0, y1 + spacing,
                                                                          spacing))
    seeds = np.column_stack([gx.ravel(), gy.ravel()])
    seeds += rng.uniform(-0.35, 0.35, seeds.shape) * spacing
    seeds = seeds[shapely.contains_xy(poly, seeds[:, 0], seeds[:, 1])]
    edges = shapely.voronoi_polygons(MultiPoint(seeds), only_edges=True,
                                     extend_to=poly.envelope.buffer(spacing))
    return line_parts(shapely.intersection(edges, poly), 20.0)


def sector_lines(poly: Polygon, rot: float, size: float) -> list[np.ndarray]:
    """Return straight sector roads every ``size`` m, aligned with the region's rotation."""
    c = poly.centroid
    x0, y0, x1, y1 = affinity.rotate(poly, -rot, origin=c).bounds
    xs = np.arange(c.x + size / 2 - size * np.ceil((c.x - x0) / size), x1, size)
    ys = np.arange(c.y + size / 2 - size * np.ceil((c.y - y0) / size), y1, size)
    lines = [LineString([(x, y0 - 10), (x, y1 + 10)]) for x in xs]
    lines += [LineString([(x0 - 10, y), (x1 + 10, y)]) for y in ys]
    return [p for ln in lines for p in line_parts(
        affinity.rotate(ln, rot, origin=c).intersection(poly), 100.0)]


def arterial_lines(rng: np.random.Generator, circular: np.ndarray) -> dict[str, np.ndarray]:
    """Build the arterial polylines in metres; "@Road" waypoints snap onto an earlier road."""
    done = {"Circular Road": circular}
    for name, _, _, waypoints in ARTERIALS:
        pts = []
        for wp in waypoints:
            if isinstance(wp, str):
                pts.append(done[wp[1:]][-1])
            elif isinstance(wp[0], str):
                ref = done[wp[0][1:]]
                pts.append(ref[np.argmin(np.hypot(*(ref - pt(wp[1], wp[2])).T))])
            else:
                pts.append(pt(*wp))
        done[name] = wiggle(np.array(pts), 90.0, 25.0, rng)
    return done


def rural_lines(rng: np.random.Generator, urban: Any, district: Polygon,
                anchors: np.ndarray) -> list[np.ndarray]:
    """Sparse rural roads: an MST plus 30 % of the other Delaunay edges, and farm tracks."""
    inner, blocked = district.buffer(-600), urban.buffer(500)
    x0, y0, x1, y1 = inner.bounds
    pts: list[np.ndarray] = []
    while len(pts) < 420:
        p = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        ok = inner.contains(Point(p)) and not blocked.contains(Point(p))
        if ok and (not pts or np.min(np.hypot(*(np.array(pts) - p).T)) >= 1400):
            pts.append(p)
    allp = np.vstack([np.array(pts), anchors])  # anchors lie on urban outlines: shared nodes
    tri = Delaunay(allp).simplices
    e = np.unique(np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1),
                  axis=0)
    length = np.hypot(*(allp[e[:, 0]] - allp[e[:, 1]]).T)
    segs = shapely.linestrings(np.stack([allp[e[:, 0]], allp[e[:, 1]]], axis=1))
    ok = (length < 6000) & ~shapely.intersects(segs, urban.buffer(-30))
    e, length = e[ok], length[ok]
    n = len(allp)
    mst = csgraph.minimum_spanning_tree(sparse.coo_matrix((length, (e[:, 0], e[:, 1])),
                                                          shape=(n, n)).tocsr()).tocoo()
    tree = set(zip(mst.row.tolist(), mst.col.tolist(), strict=True))
    out = [wiggle(allp[[a, b]], 120.0, 0.04 * d, rng)
           for (a, b), d in zip(e.tolist(), length.tolist(), strict=True)
           if (a, b) in tree or (b, a) in tree or rng.random() < 0.3]
    for _ in range(60):
        a = int(rng.integers(len(pts)))
        ang, d = rng.uniform(0, 2 * np.pi), rng.uniform(300, 900)
        end = allp[a] + d * np.array([np.cos(ang), np.sin(ang)])
        if inner.contains(Point(end)) and not blocked.contains(Point(end)):
            out.append(wiggle(np.vstack([allp[a], end]), 100.0, 25.0, rng))
    return out


def skeleton(rng: np.random.Generator, regions: dict[str, Any], ring: Polygon,
             district: Polygon) -> list[Item]:
    """Return the main roads: arterials, ring, outlines, sector roads, links and rural roads."""
    circular = np.asarray(shapely.segmentize(regions["old_city"][0].exterior, 60).coords)
    ringc = np.asarray(shapely.segmentize(ring.exterior, 150).coords)
    items: list[Item] = [
        (circular, {"highway": "secondary", "maxspeed": "30", "name": "Circular Road"},
         "old_city"),
        (ringc, {"highway": "trunk", "maxspeed": "60", "name": "Ring Road"}, "ring")]
    arts = arterial_lines(rng, circular)
    for name, hw, ms, _ in ARTERIALS:
        items.append((arts[name], {"highway": hw, "name": name} | ({"maxspeed": ms} if ms else {}),
                      "arterial"))
    anchors, n = [ringc[::10][:-1]], 0
    for reg, (poly, rot) in regions.items():
        base, _, place = reg.partition(":")
        outline = np.asarray(shapely.segmentize(poly.exterior, 100).coords)
        if base in ("old_city", "inner"):
            for c in voronoi_edges(poly, 300.0 if base == "old_city" else 760.0, rng):
                n += 1
                if base == "old_city":
                    tags = {"highway": "tertiary", "maxspeed": "20",
                            "name": BAZAARS[n % len(BAZAARS)]}
                elif rng.random() < 0.22:
                    tags = {"highway": "secondary", "name": LINK_NAMES[n % len(LINK_NAMES)]}
                else:
                    tags = {"highway": "tertiary", "name": f"Link Road {n}"}
                items.append((c, tags, reg))
        elif base == "cantonment":
            items.append((outline, {"highway": "secondary", "name": "Cantt Boundary Road"}, reg))
        elif base == "village":
            items.append((outline, {"highway": "unclassified", "name": f"{place} Road"}, reg))
            anchors.append(outline[:: max(len(outline) // 3, 1)][:3])
            c = poly.centroid
            main = affinity.rotate(LineString([(c.x - 2000, c.y), (c.x + 2000, c.y)]),
                                   rng.uniform(0, 180), origin=c).intersection(poly)
            items += [(m, {"highway": "unclassified", "name": f"{place} Bazaar"}, reg)
                      for m in line_parts(main, 50.0)]
        else:
            label, size = PLANNED[base][0], PLANNED[base][6]
            hw = "secondary" if base == "hayatabad" else "tertiary"
            items.append((outline, {"highway": hw, "name": f"{label} Road"}, reg))
            anchors.append(outline[::15][:-1])
            for i, c in enumerate(sector_lines(poly, rot, size)):
                name = f"Phase {i % 7 + 1} Road" if base == "hayatabad" else f"Sector Road {i + 1}"
                items.append((c, {"highway": hw, "name": name}, reg))
    urban = shapely.union_all([p for p, _ in regions.values()] + [ring])
    for c in rural_lines(rng, urban, district, np.vstack(anchors)):
        if rng.random() < 0.3:
            items.append((c, {"highway": "track"}, "rural"))
        else:
            n += 1
            items.append((c, {"highway": "unclassified", "name": f"Village Road {n}"}, "rural"))
    items = [(c if reg == "rural" else extend_ends(c), tags, reg) for c, tags, reg in items]
    return carve_roundabouts(items, rng)


def carve_roundabouts(items: list[Item], rng: np.random.Generator) -> list[Item]:
    """Turn the ring road's crossings with arterials into clockwise roundabouts (keep left)."""
    lines = {t.get("name"): LineString(c) for c, t, r in items if r in ("ring", "arterial")}
    for k, road in enumerate(ROUNDABOUTS, start=1):
        centre = shapely.get_coordinates(lines["Ring Road"].intersection(lines[road]))[0]
        rad = float(rng.uniform(30, 42))
        cut = Point(centre).buffer(rad - 2.5, quad_segs=16)
        new: list[Item] = []
        for c, tags, reg in items:
            line = LineString(c)
            if line.intersects(cut):
                new += [(p, tags, reg) for p in line_parts(line.difference(cut), 5.0)]
            else:
                new.append((c, tags, reg))
        ang = -np.linspace(0, 2 * np.pi, 17)
        circle = centre + rad * np.column_stack([np.cos(ang), np.sin(ang)])
        circle[-1] = circle[0]
        new.append((circle, {"highway": "trunk", "junction": "roundabout",
                             "name": f"Ring Road Chowk {k}"}, "roundabout"))
        items = new
    return items


# --------------------------------------------------------------------------- network
def node(net: Net, x: float, y: float) -> int:
    """Return the id of the node at (x, y), creating it; positions are shared to 1 cm."""
    key = (round(x * 100.0), round(y * 100.0))
    nid = net["key"].get(key)
    if nid is None:
        nid = net["key"][key] = len(net["x"])
        net["x"].append(float(x))
        net["y"].append(float(y))
    return nid


def add_way(net: Net, ids: list[int], tags: dict[str, str], region: str,
            kind: str = "road") -> None:
    """Append a way (consecutive repeats removed); ways of fewer than two nodes are dropped."""
    ids = [n for i, n in enumerate(ids) if i == 0 or n != ids[i - 1]]
    if len(ids) >= 2:
        net["ways"].append({"nodes": ids, "tags": dict(tags), "region": region, "kind": kind})


def grid_tags(region: str, line_idx: int, rng: np.random.Generator,
              state: dict[str, int]) -> dict[str, str]:
    """Return the tags of one grid street in ``region``."""
    base, _, place = region.partition(":")
    state["n"] = n = state.get("n", 0) + 1
    if base == "old_city":
        if rng.random() < 0.45:
            return {"highway": "living_street", "name": f"Gali {n}"}
        return {"highway": "residential", "name": f"Gali {n}"} | (
            {"maxspeed": "20"} if rng.random() < 0.45 else {})
    if base == "cantonment":
        tags = ({"highway": "secondary", "name": CANTT_ROADS[(line_idx // 4) % 10]}
                if line_idx % 4 == 0 else {"highway": "tertiary", "name": f"Street {n}"})
        if state.get("mph", 0) < 4 and rng.random() < 0.05:
            tags["maxspeed"] = "30 mph"
            state["mph"] = state.get("mph", 0) + 1
        elif rng.random() < 0.3:
            tags["maxspeed"] = "40"
        return tags
    if base == "village":
        hw = "unclassified" if rng.random() < 0.3 else "residential"
        return {"highway": hw, "name": f"{place} Lane {n % 40 + 1}"}
    return {"highway": "residential", "name": f"Street {n % 120 + 1}"}


def grid_face(net: Net, face: Polygon, region: str, rot: float, origin: tuple[float, float],
              rng: np.random.Generator, state: dict[str, int], diagonals: list[Any]) -> None:
    """Fill one face of the skeleton with a jittered, partly broken street lattice.

    Each run of streets ends a little past the face boundary (a skeleton road), so that the
    crossing becomes a junction when the network is noded.

    Parameters
    ----------
    net
        Network to add nodes and ways to.
    face
        Polygon enclosed by skeleton roads.
    region
        Region key owning the face; selects the style in ``STYLES``.
    rot, origin
        Lattice rotation (degrees) and origin, shared by a planned region's faces; ignored
        for styles whose faces get their own rotation.
    rng
        Random generator.
    state
        Street-name counters of the region.
    diagonals
        Collects block diagonals (node, node, region) as footpath candidates.
    """
    style = region_style(region)
    s = float(rng.uniform(*style["s"])) if style["own"] else float(style["s"][0])
    if style["own"]:
        rot, origin = float(rng.uniform(0, 90)), (face.centroid.x, face.centroid.y)
    cos, sin = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    rel = np.asarray(face.exterior.coords) - origin
    u, v = rel[:, 0] * cos + rel[:, 1] * sin, -rel[:, 0] * sin + rel[:, 1] * cos
    ii, jj = np.meshgrid(np.arange(np.floor(u.min() / s) - 1, np.ceil(u.max() / s) + 2),
                         np.arange(np.floor(v.min() / s) - 1, np.ceil(v.max() / s) + 2))
    jit = style["jit"] * s
    uu = ii * s + rng.normal(0, jit, ii.shape).clip(-0.3 * s, 0.3 * s)
    vv = jj * s + rng.normal(0, jit, jj.shape).clip(-0.3 * s, 0.3 * s)
    gx, gy = origin[0] + uu * cos - vv * sin, origin[1] + uu * sin + vv * cos
    inside = shapely.contains_xy(face.buffer(-0.28 * s), gx, gy)
    ids = np.full(gx.shape, -1)
    for j, i in zip(*np.nonzero(inside), strict=True):
        ids[j, i] = node(net, gx[j, i], gy[j, i])
    ends: list[tuple[int, int, float, float, float, float]] = []
    for ins, nid, px, py, idx in ((inside, ids, gx, gy, jj), (inside.T, ids.T, gx.T, gy.T, ii.T)):
        keep = ins[:, :-1] & ins[:, 1:] & (rng.random(ins[:, 1:].shape) >= style["dele"])
        last = ins.shape[1] - 1
        for r in range(ins.shape[0]):
            c = 0
            while c < last:
                if not keep[r, c]:
                    c += 1
                    continue
                a = c
                while c < last and keep[r, c]:
                    c += 1
                w = len(net["ways"])
                add_way(net, nid[r, a:c + 1].tolist(), grid_tags(region, int(idx[r, 0]), rng,
                                                                 state), region)
                if a > 0 and not ins[r, a - 1] and rng.random() < 0.92:
                    ends.append((w, 0, px[r, a], py[r, a], px[r, a - 1], py[r, a - 1]))
                if c < last and not ins[r, c + 1] and rng.random() < 0.92:
                    ends.append((w, 1, px[r, c], py[r, c], px[r, c + 1], py[r, c + 1]))
    if region in ("old_city", "hayatabad"):
        for j, i in zip(*np.nonzero(inside[:-1, :-1] & inside[1:, 1:]), strict=True):
            diagonals.append((ids[j, i], ids[j + 1, i + 1], region))
    extend_to_boundary(net, ends, face.boundary, s)


def extend_to_boundary(net: Net, ends: list[Any], boundary: Any, s: float) -> None:
    """Prolong run ends towards the next lattice point until ``STUB_M`` past the boundary."""
    if not ends:
        return
    e = np.array([row[2:] for row in ends], float)
    d = e[:, 2:] - e[:, :2]
    d /= np.hypot(d[:, 0], d[:, 1])[:, None]
    rays = shapely.linestrings(np.stack([e[:, :2], e[:, :2] + 3 * s * d], axis=1))
    coords, idx = shapely.get_coordinates(shapely.intersection(rays, boundary),
                                          return_index=True)
    gap = np.hypot(*(coords - e[idx, :2]).T)
    for k in np.unique(idx):
        hit = coords[idx == k][np.argmin(gap[idx == k])]
        way, at_end = ends[k][0], ends[k][1]
        tip = node(net, *(hit + d[k] * STUB_M))
        nodes = net["ways"][way]["nodes"]
        nodes.insert(len(nodes) if at_end else 0, tip)


def segments(net: Net) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return arrays (a, b, way index, position in way) of all road segments."""
    parts = []
    for wi, way in enumerate(net["ways"]):
        if way["kind"] == "road":
            n = np.asarray(way["nodes"])
            parts.append((n[:-1], n[1:], np.full(len(n) - 1, wi), np.arange(len(n) - 1)))
    a, b, w, p = (np.concatenate(col) for col in zip(*parts, strict=True))
    return a, b, w, p


def node_crossings(net: Net) -> None:
    """Insert a shared node wherever two road segments cross."""
    a, b, w, p = segments(net)
    xy = np.column_stack([net["x"], net["y"]])
    segs = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    i, j = shapely.STRtree(segs).query(segs, predicate="crosses")
    i, j = i[i < j], j[i < j]
    hits = shapely.intersection(segs[i], segs[j])
    ok = shapely.get_type_id(hits) == 0  # single points only
    i, j, at = i[ok], j[ok], shapely.get_coordinates(hits[ok])
    new = np.array([node(net, x, y) for x, y in at], dtype=np.int64)
    seg, at, nid = np.r_[i, j], np.vstack([at, at]), np.r_[new, new]
    t = np.hypot(*(at - xy[a[seg]]).T) / np.hypot(*(xy[b[seg]] - xy[a[seg]]).T)
    inserts: dict[int, dict[int, list[int]]] = {}
    for k in np.lexsort((t, seg)).tolist():
        inserts.setdefault(int(w[seg[k]]), {}).setdefault(int(p[seg[k]]), []).append(
            int(nid[k]))
    for wi, by_pos in inserts.items():
        out: list[int] = []
        for k, n in enumerate(net["ways"][wi]["nodes"]):
            out += [n, *by_pos.get(k, [])]
        net["ways"][wi]["nodes"] = [n for k, n in enumerate(out) if k == 0 or n != out[k - 1]]


def trim_stubs(net: Net) -> None:
    """Cut the dangling overshoots (shorter than ``TRIM_M``) that noding left behind."""
    a, b, _, _ = segments(net)
    deg = np.bincount(np.r_[a, b], minlength=len(net["x"]))
    x, y = net["x"], net["y"]
    for way in net["ways"]:
        nodes = way["nodes"]
        if way["kind"] != "road" or nodes[0] == nodes[-1]:
            continue
        for end, nxt in ((0, 1), (-1, -2)):
            u, v = nodes[end], nodes[nxt]
            if deg[u] == 1 and np.hypot(x[u] - x[v], y[u] - y[v]) < TRIM_M:
                deg[u] -= 1
                deg[v] -= 1
                nodes.pop(end)
                if len(nodes) < 2:
                    break
    net["ways"] = [w for w in net["ways"] if len(w["nodes"]) >= 2]


def connect_components(net: Net) -> int:
    """Link every road sub-network to the main one (fragments under 8 nodes are dropped)."""
    a, b, w, _ = segments(net)
    n = len(net["x"])
    _, lab = csgraph.connected_components(sparse.coo_matrix((np.ones(len(a)), (a, b)),
                                                            shape=(n, n)), directed=False)
    used = np.unique(np.r_[a, b])
    sizes = np.bincount(lab[used], minlength=lab.max() + 1)
    giant = int(np.argmax(sizes))
    gnodes = used[lab[used] == giant]
    xy = np.column_stack([net["x"], net["y"]])
    tree, drop, added = cKDTree(xy[gnodes]), set(), 0
    for comp in np.nonzero(sizes)[0].tolist():
        members = used[lab[used] == comp]
        if comp == giant:
            continue
        if len(members) < 8:
            drop.update(np.unique(w[lab[a] == comp]).tolist())
            continue
        d, k = tree.query(xy[members])
        m = int(np.argmin(d))
        add_way(net, [int(members[m]), int(gnodes[k[m]])],
                {"highway": "unclassified", "name": "Link Lane"}, "link")
        added += 1
    net["ways"] = [wy for i, wy in enumerate(net["ways"]) if i not in drop]
    return added


def strong_labels(net: Net) -> tuple[np.ndarray, int]:
    """Return strong-component labels of the directed road graph and the main label."""
    rows, cols = [], []
    for way in net["ways"]:
        if way["kind"] != "road":
            continue
        n = np.asarray(way["nodes"])
        ow = "yes" if way["tags"].get("junction") == "roundabout" else way["tags"].get("oneway")
        if ow != "-1":
            rows.append(n[:-1])
            cols.append(n[1:])
        if ow != "yes":
            rows.append(n[1:])
            cols.append(n[:-1])
    r, c = np.concatenate(rows), np.concatenate(cols)
    size = len(net["x"])
    _, lab = csgraph.connected_components(sparse.coo_matrix((np.ones(len(r)), (r, c)),
                                                            shape=(size, size)),
                                          directed=True, connection="strong")
    return lab, int(np.bincount(lab[np.unique(r)]).argmax())


def assign_oneways(net: Net, rng: np.random.Generator) -> None:
    """Make streets one-way (yes, or -1 against the drawing), then undo any that trap traffic."""
    a, b, _, _ = segments(net)
    deg = np.bincount(np.r_[a, b], minlength=len(net["x"]))
    for way in net["ways"]:
        tags, nodes, reg = way["tags"], way["nodes"], way["region"]
        if reg in ("ring", "arterial", "rural", "link", "roundabout") or nodes[0] == nodes[-1]:
            continue
        p = 0.25 if reg == "old_city" and tags["highway"] == "tertiary" else region_style(reg)["ow"]
        if min(deg[nodes[0]], deg[nodes[-1]]) >= 3 and rng.random() < p:
            tags["oneway"] = "-1" if rng.random() < 0.15 else "yes"
    for _ in range(50):  # a one-way street outside the main strong component goes two-way
        lab, main = strong_labels(net)
        bad = [w for w in net["ways"] if "oneway" in w["tags"] and np.any(lab[w["nodes"]] != main)]
        for way in bad:
            del way["tags"]["oneway"]
        if not bad:
            break


def add_footways(net: Net, diagonals: list[Any], rng: np.random.Generator) -> None:
    """Add footpaths diagonally across blocks (non-drivable: loaders must skip them)."""
    a, b, _, _ = segments(net)
    used = set(np.r_[a, b].tolist())
    cand = [d for d in diagonals if d[0] in used and d[1] in used]
    for k in sorted(rng.choice(len(cand), size=min(24, len(cand)), replace=False).tolist()):
        u, v, region = cand[k]
        mid = node(net, (net["x"][u] + net["x"][v]) / 2 + rng.normal(0, 3),
                   (net["y"][u] + net["y"][v]) / 2 + rng.normal(0, 3))
        add_way(net, [u, mid, v], {"highway": "footway"}, region, kind="foot")


def build_network(rng: np.random.Generator) -> Net:
    """Build the whole synthetic road network in local metres.

    Parameters
    ----------
    rng
        The run's only random generator.

    Returns
    -------
    dict
        ``x``, ``y``: node positions (metres, local UTM 42N); ``ways``: dicts with
        ``nodes`` (ids into ``x``/``y``), ``tags``, ``region`` and ``kind`` (road or foot).
    """
    regions, ring, district = layout_regions(rng)
    net: Net = {"x": [], "y": [], "key": {}, "ways": []}
    items = skeleton(rng, regions, ring, district)
    for c, tags, reg in items:
        add_way(net, [node(net, x, y) for x, y in c], tags, reg)
    faces = shapely.polygonize(shapely.get_parts(shapely.union_all(
        [LineString(c) for c, _, _ in items])))
    landmarks = MultiPoint([pt(z[1], z[2]) for z in ZONES]).buffer(400)
    diagonals: list[Any] = []
    states: dict[str, dict[str, int]] = {}
    for face in shapely.get_parts(faces):
        if face.area < 20000:
            continue
        rp = face.representative_point()
        owner = next((r for r, (p, _) in regions.items() if p.contains(rp)), None)
        field = rng.random() < 0.1 and not face.intersects(landmarks)  # farmland inside ring
        if owner is None or (owner == "inner" and field):
            continue
        poly, rot = regions[owner]
        grid_face(net, face, owner, rot, (poly.centroid.x, poly.centroid.y), rng,
                  states.setdefault(owner.split(":")[0], {}), diagonals)
    for _ in range(3):
        node_crossings(net)
        trim_stubs(net)
        if not connect_components(net):
            break
    assign_oneways(net, rng)
    add_footways(net, diagonals, rng)
    return net


# --------------------------------------------------------------------------- outputs
def finalise(net: Net) -> tuple[np.ndarray, np.ndarray, list[tuple[list[int], dict[str, str]]]]:
    """Renumber used nodes 1..N at OSM precision (1e-7 degrees), merging coincident ones.

    Returns
    -------
    ilon, ilat : numpy.ndarray
        Node longitudes and latitudes in units of 1e-7 degrees; node id ``k`` is row k-1.
    ways : list of (list of int, dict)
        Node ids and tags of each way, in output order.
    """
    used = sorted({n for w in net["ways"] for n in w["nodes"]})
    lon, lat = to_lonlat(np.asarray(net["x"])[used], np.asarray(net["y"])[used])
    ilon, ilat = np.round(lon * 1e7).astype(np.int64), np.round(lat * 1e7).astype(np.int64)
    _, first, inv = np.unique(np.column_stack([ilon, ilat]), axis=0, return_index=True,
                              return_inverse=True)
    rep = first[inv.ravel()]  # the first node at the same location stands for all of them
    keep = np.unique(rep)
    new_id = np.zeros(len(used), dtype=np.int64)
    new_id[keep] = np.arange(1, len(keep) + 1)
    remap = dict(zip(used, new_id[rep].tolist(), strict=True))
    ways = []
    for w in net["ways"]:
        ids = [remap[n] for n in w["nodes"]]
        ids = [n for i, n in enumerate(ids) if i == 0 or n != ids[i - 1]]
        if len(ids) >= 2:
            ways.append((ids, w["tags"]))
    return ilon[keep], ilat[keep], ways


def write_pbf(path: Path, ilon: np.ndarray, ilat: np.ndarray,
              ways: list[tuple[list[int], dict[str, str]]]) -> None:
    """Write nodes, then ways, ids ascending, with pyosmium."""
    path.unlink(missing_ok=True)
    meta = {"version": 1, "visible": True, "changeset": 1,
            "timestamp": REF_TIME.astimezone(UTC)}
    writer = osmium.SimpleWriter(str(path))
    try:
        for i, (x, y) in enumerate(zip(ilon.tolist(), ilat.tolist(), strict=True), start=1):
            writer.add_node(mutable.Node(id=i, location=(x / 1e7, y / 1e7), **meta))
        for k, (ids, tags) in enumerate(ways, start=1):
            writer.add_way(mutable.Way(id=k, nodes=ids, tags=tags, **meta))
    finally:
        writer.close()


def write_geojson(path: Path, name: str, features: list[dict[str, Any]]) -> None:
    """Write a WGS84 FeatureCollection, one feature per line."""
    head = f'{{"type": "FeatureCollection", "name": "{name}", "features": [\n'
    body = ",\n".join(json.dumps(f, ensure_ascii=False) for f in features)
    path.write_text(head + body + "\n]}\n", encoding="utf-8")


def feature(props: dict[str, Any], geom: Any) -> dict[str, Any]:
    """Return a GeoJSON feature of a metric geometry, in lon/lat rounded to 6 decimals."""
    def tr(c: np.ndarray) -> np.ndarray:
        return np.round(np.column_stack(to_lonlat(c[:, 0], c[:, 1])), 6)
    return {"type": "Feature", "properties": props,
            "geometry": mapping(shapely.transform(geom, tr))}


def make_stations(rng: np.random.Generator, xy: np.ndarray,
                  tree: cKDTree) -> list[dict[str, Any]]:
    """Place each station 6-18 m beside the road node nearest its real position."""
    out = []
    for k, (name, div, lon, lat) in enumerate(STATIONS, start=1):
        ang, d = rng.uniform(0, 2 * np.pi), rng.uniform(6, 18)
        p = xy[tree.query(pt(lon, lat))[1]] + d * np.array([np.cos(ang), np.sin(ang)])
        _, lo_s, hi_s, lo_v, hi_v, _ = DIVISION[div]
        out.append({"station_id": f"PS-{k:02d}", "name": f"Police Station {name}",
                    "division": div, "sanctioned_strength": int(rng.integers(lo_s, hi_s + 1)),
                    "vehicles": int(rng.integers(lo_v, hi_v + 1)), "xy": p})
    return out


def make_zones(rng: np.random.Generator, xy: np.ndarray) -> list[dict[str, Any]]:
    """Draw the zones around real landmark positions, grown until they hold 6+ road nodes."""
    out = []
    for k, (name, lon, lat, w, h, rot, prio, target, mino, area, extra) in enumerate(ZONES, 1):
        for grow in (1.0, 1.2, 1.45, 1.75, 2.1):
            polys = [blob(*pt(lo, la), wd * grow / 2, ht * grow / 2, r, rng, 0.05, 12)
                     for lo, la, wd, ht, r in [(lon, lat, w, h, rot), *extra]]
            geom = polys[0] if len(polys) == 1 else MultiPolygon(polys)
            inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
            if inside.sum() >= 6:
                break
        out.append({"zone_id": f"Z-{k:02d}", "name": name, "priority": prio,
                    "target_min": target, "min_officers": mino, "area": area, "geom": geom,
                    "nodes": np.nonzero(inside)[0]})
    return out


def split_counts(sizes: np.ndarray, totals: list[int], rng: np.random.Generator) -> np.ndarray:
    """Split each station's headcount over categories whose district totals are fixed."""
    shares = np.asarray(totals, float) / sum(totals)
    out = np.floor(sizes[:, None] * shares).astype(int)
    for c in range(len(totals) - 1):
        frac = sizes * shares[c] - out[:, c] + rng.uniform(0, 1e-3, len(sizes))
        out[np.argsort(-frac)[: totals[c] - out[:, c].sum()], c] += 1
    out[:, -1] = sizes - out[:, :-1].sum(axis=1)
    return out


def make_officers(rng: np.random.Generator, stations: list[dict[str, Any]],
                  zones: list[dict[str, Any]], xy: np.ndarray,
                  tree: cKDTree) -> list[dict[str, Any]]:
    """Create the roster: ranks, statuses, beat or guard-post positions, last-seen times.

    A positioned on-duty officer either guards one of the three priority-1/2 zones of their
    division nearest the station, or patrols the station's beat: the road nodes within the
    division's radius that are nearer to this station than to any other.
    """
    sizes = np.array([DIVISION[s["division"]][0] for s in stations])
    counts = split_counts(sizes, list(STATUS_TOTALS.values()), rng)
    owner = cKDTree(np.array([s["xy"] for s in stations])).query(xy)[1]
    roster = []
    for k, s in enumerate(stations):
        near = tree.query_ball_point(s["xy"], DIVISION[s["division"]][5], return_sorted=True)
        beat = [i for i in near if owner[i] == k] or [int(tree.query(s["xy"])[1])]
        posts = sorted((z for z in zones if z["area"] == GUARD_AREA.get(s["division"])
                        and z["priority"] in (1, 2)),
                       key=lambda z: float(np.hypot(*(xy[z["nodes"]].mean(axis=0) - s["xy"]))))
        statuses = [st for st, c in zip(STATUS_TOTALS, counts[k], strict=True) for _ in range(c)]
        ranks = ["Inspector"] + [""] * (sizes[k] - 1)  # the SHO; the others are drawn below
        for status, rank in zip(rng.permutation(statuses).tolist(), ranks, strict=True):
            p = None
            if status == "on_duty" and rng.random() < 0.86:
                if posts and rng.random() < GUARD_SHARE.get(s["division"], 0.0):
                    i = int(rng.choice(posts[int(rng.integers(min(3, len(posts))))]["nodes"]))
                else:
                    i = int(beat[int(rng.integers(len(beat)))])
                ang, d = rng.uniform(0, 2 * np.pi), rng.uniform(0, 15)
                p = xy[i] + d * np.array([np.cos(ang), np.sin(ang)])
            roster.append((s["station_id"], status, rank, p))
    pool = rng.permutation([r for r, n in RANKS.items() if r != "Inspector" for _ in range(n)])
    pool = pool.tolist()
    officers = []
    for k, idx in enumerate(rng.permutation(len(roster)).tolist(), start=1):
        sid, status, rank, p = roster[idx]
        given = str(rng.choice(GIVEN_F if rng.random() < 0.04 else GIVEN))
        u = rng.random()
        age = (rng.uniform(5, 270) if u < 0.9 else rng.uniform(300, 600) if u < 0.96
               else rng.uniform(600, 900))  # seconds before REF_TIME; a few go stale
        seen = (REF_TIME - timedelta(seconds=int(age))).isoformat()
        officers.append({"officer_id": f"KP-{k:04d}", "name": f"{given} {rng.choice(FAMILY)}",
                         "rank": rank or pool.pop(), "station_id": sid, "status": status,
                         "xy": p, "last_seen": seen})
    return officers


def pick_suspended(rng: np.random.Generator, officers: list[dict[str, Any]],
                   zones: list[dict[str, Any]], stations: list[dict[str, Any]]) -> list[str]:
    """Pick the 42 on-duty officers nearest the old city's priority-1 zones.

    Officers without a position count at their station, as in DATA.md.

    Returns
    -------
    list of str
        Sorted officer ids.
    """
    sensitive = shapely.union_all([z["geom"] for z in zones
                                   if z["area"] == "old" and z["priority"] == 1])
    at = {s["station_id"]: s["xy"] for s in stations}
    duty = [o for o in officers if o["status"] == "on_duty"]
    where = np.array([o["xy"] if o["xy"] is not None else at[o["station_id"]] for o in duty])
    dist = shapely.distance(sensitive, shapely.points(where)) + rng.uniform(0, 1, len(duty))
    return sorted(duty[k]["officer_id"] for k in np.argsort(dist)[:42])


def write_people(out: Path, rng: np.random.Generator, ilon: np.ndarray, ilat: np.ndarray,
                 ways: list[tuple[list[int], dict[str, str]]]) -> dict[str, int]:
    """Write stations, zones, officers and the suspension list; return summary counts.

    People and zones are laid out on junctions and dead ends only (nodes with other than two
    neighbours), which every loader keeps when it simplifies the graph.
    """
    pairs = np.vstack([np.column_stack([ids[:-1], ids[1:]]) for ids, t in ways
                       if t["highway"] != "footway"])
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=len(ilon) + 1)
    kept = np.nonzero((degree > 0) & (degree != 2))[0]
    xy = np.column_stack(to_xy(ilon[kept - 1] / 1e7, ilat[kept - 1] / 1e7))
    tree = cKDTree(xy)
    stations = make_stations(rng, xy, tree)
    keys = ("station_id", "name", "division", "sanctioned_strength", "vehicles")
    write_geojson(out / "stations.geojson", "stations",
                  [feature({k: s[k] for k in keys}, Point(s["xy"])) for s in stations])
    zones = make_zones(rng, xy)
    keys = ("zone_id", "name", "priority", "target_min", "min_officers")
    write_geojson(out / "zones.geojson", "zones",
                  [feature({k: z[k] for k in keys}, z["geom"]) for z in zones])
    officers = make_officers(rng, stations, zones, xy, tree)
    with (out / "officers.csv").open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(["officer_id", "name", "rank", "station_id", "status", "lat", "lon",
                     "last_seen"])
        for o in officers:
            lat = lon = ""
            if o["xy"] is not None:
                lo, la = to_lonlat(*o["xy"])
                lat, lon = f"{float(la):.6f}", f"{float(lo):.6f}"
            wr.writerow([o["officer_id"], o["name"], o["rank"], o["station_id"], o["status"],
                         lat, lon, o["last_seen"]])
    suspended = pick_suspended(rng, officers, zones, stations)
    (out / "suspended_42.csv").write_text("officer_id\n" + "\n".join(suspended) + "\n",
                                          encoding="utf-8")
    return {"stations": len(stations), "zones": len(zones), "officers": len(officers),
            **{s: sum(o["status"] == s for o in officers) for s in STATUS_TOTALS},
            "positioned": sum(o["xy"] is not None for o in officers),
            "suspended": len(suspended)}


def main(argv: list[str] | None = None) -> int:
    """Generate the demo district into ``--out`` (default: geodata/peshawar)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "peshawar")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    ilon, ilat, ways = finalise(build_network(rng))
    write_pbf(args.out / "roads.osm.pbf", ilon, ilat, ways)
    summary = write_people(args.out, rng, ilon, ilat, ways)
    print(f"nodes={len(ilon)} ways={len(ways)} "
          + " ".join(f"{k}={v}" for k, v in summary.items()))
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
