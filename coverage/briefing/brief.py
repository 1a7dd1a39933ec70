"""Briefing: the figures, scenario text and redacted officer layer of an export.

A :class:`Brief` holds everything a briefing export shows: key figures before and after the
scenario, the top gaps, the scenario in words, where the data came from, and the officer
points the map may draw. The writers in :mod:`coverage.briefing.export` lay it out as PNG, HTML or
PDF; the app's download buttons call the same functions.

Example::

    from coverage import analyse, load_dataset, suspend
    from coverage.briefing.brief import build_brief
    base = analyse(load_dataset(roads, stations, zones, officers), threshold_min=10)
    brief = build_brief(suspend(base, ids), baseline=base, suspension_source="list.csv")
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Final, Literal
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import settings
from coverage.briefing.mapview import STATUS_STYLE
from coverage.engine.analysis import Coverage, analyse
from coverage.engine.report import KeyFigures, key_figures
from coverage.engine.units import STATUSES, apply_suspension

logger = logging.getLogger(__name__)

Redaction = Literal["stations", "displace", "none"]
#: How officers may appear in an export: aggregated to station counts, displaced, or exact.
REDACT_MODES: Final[tuple[str, ...]] = ("stations", "displace", "none")
#: Default for every export format (PDF, PNG, HTML): officers aggregated to station counts.
DEFAULT_REDACT: Final[Redaction] = "stations"
#: ``displace`` moves every officer point this far at least, in metres (never the exact spot).
DISPLACE_MIN_M: Final[float] = 250.0
#: ... and at most this far, at a uniformly random bearing.
DISPLACE_MAX_M: Final[float] = 600.0
DEFAULT_TITLE: Final[str] = "Security coverage briefing"
#: Radius of a station's officer circle: this plus ``RADIUS_PER_SQRT`` x sqrt(officers), px.
RADIUS_BASE_PX: Final[float] = 6.0
RADIUS_PER_SQRT: Final[float] = 2.0

_R = settings.EARTH_RADIUS_M
_NOTES: Final = MappingProxyType({
    "stations": "Officer positions withheld: officers are counted per station and drawn at "
                "their station.",
    "displace": f"Officer positions displaced: each point moved {DISPLACE_MIN_M:g}-"
                f"{DISPLACE_MAX_M:g} m in a random direction; never the exact position.",
    "none": "Officer positions exact (unredacted): for the control room only.",
})


@dataclass(frozen=True)
class ExpectedFigures:
    """Expected coverage under refusal risk beside a briefing's plain figures (DATA.md).

    Station aggregates only: the objective and expected objective of the baseline and the
    scenario, and the scenario's ``expected_covered_share`` per zone id; readiness levels as
    of ``as_of``, each unit refusing with ``refusal_p`` by its station's level.
    """

    as_of: date
    refusal_p: Mapping[str, float]
    before_objective: float
    before_expected: float
    after_objective: float
    after_expected: float
    zone_share: Mapping[str, float]

    @property
    def note(self) -> str:
        """One line saying what the expected figures assume."""
        probs = ", ".join(f"{k} {v:g}" for k, v in self.refusal_p.items())
        return (f"Expected: under refusal risk, a unit failing to answer with p by its "
                f"station's readiness level as of {self.as_of.isoformat()} ({probs}).")


@dataclass(frozen=True, eq=False)
class Brief:
    """Everything a briefing export shows; build it with :func:`build_brief`.

    ``officers`` is the only officer geometry an export may draw: already redacted as
    ``redact`` says. ``coverage`` (the scenario run) supplies zones, stations and roads;
    writers must not read officer positions from it (nor from ``baseline``, the run before,
    used to outline zones newly below target). ``areas`` are extra polygons the screen
    showed, with their labels (e.g. a station's service area).
    """

    title: str
    created: datetime
    sources: Mapping[str, str]
    scenario: str
    threshold_min: float
    before: KeyFigures
    after: KeyFigures
    top_gaps: pd.DataFrame
    redact: Redaction
    redaction_note: str
    officers: gpd.GeoDataFrame
    officers_name: str
    coverage: Coverage
    extent: tuple[float, float, float, float]
    handling: str = settings.HANDLING_MARKING
    notes: tuple[str, ...] = field(default=())
    baseline: Coverage | None = None
    areas: tuple[tuple[str, gpd.GeoDataFrame], ...] = ()
    district: tuple[float, float, float, float] | None = None
    expected: ExpectedFigures | None = None

    @property
    def marks_new_gaps(self) -> bool:
        """True when the map outlines zones newly below target (a scenario vs its baseline)."""
        return self.baseline is not None and self.baseline is not self.coverage

    @property
    def created_iso(self) -> str:
        """Creation time, ISO 8601 with its UTC offset, to the second."""
        return self.created.isoformat(timespec="seconds")

    @property
    def created_text(self) -> str:
        """Creation time for people, in local time with the zone named."""
        return local_time_text(self.created)


def local_now() -> datetime:
    """Now, in the local time zone (``settings.local_tz()``: ``SECCOV_TZ``)."""
    return datetime.now(ZoneInfo(settings.local_tz()))


def local_time_text(when: datetime, *, seconds: bool = False) -> str:
    """``when`` in the local time zone, zone named: ``25 Nov 2026 08:00 PKT (Asia/Karachi,
    UTC+05:00)``. ``when`` must be timezone-aware."""
    if when.tzinfo is None:
        msg = "local_time_text needs a timezone-aware time"
        raise ValueError(msg)
    name = settings.local_tz()
    t = when.astimezone(ZoneInfo(name))
    off = t.strftime("%z")
    clock = "%H:%M:%S" if seconds else "%H:%M"
    return f"{t.strftime(f'%d %b %Y {clock} %Z')} ({name}, UTC{off[:3]}:{off[3:]})"


def _minutes(value: float | None) -> str:
    return "unreachable" if value is None or not math.isfinite(value) else f"{value:.1f} min"


def _objective(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def figure_rows(before: KeyFigures, after: KeyFigures, expected: ExpectedFigures | None = None
                ) -> list[tuple[str, str, str]]:
    """Rows ``(figure, baseline, scenario)`` of the key-figure table, as text; with
    ``expected``, the objective and the expected objective under refusal risk too."""
    def worst(k: KeyFigures) -> str:
        return "-" if k.worst_zone is None else f"{_minutes(k.worst_p90_min)} ({k.worst_zone})"

    extra = [] if expected is None else [
        ("Objective", _objective(expected.before_objective),
         _objective(expected.after_objective)),
        ("Expected objective (refusal risk)", f"{expected.before_expected:,.1f}",
         f"{expected.after_expected:,.1f}"),
    ]
    return [
        ("Available units", str(before.available_units), str(after.available_units)),
        ("Zones with a gap", f"{before.zones_with_gap} of {before.zones}",
         f"{after.zones_with_gap} of {after.zones}"),
        ("Zone nodes covered", f"{before.covered_share:.1%}", f"{after.covered_share:.1%}"),
        ("Officers short", str(before.officers_short), str(after.officers_short)),
        ("Worst zone p90", worst(before), worst(after)),
        *extra,
    ]


def top_gaps(cov: Coverage, *, n: int = 5,
             expected_share: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Return the ``n`` most urgent zones with a gap, as display text columns.

    Columns ``zone_id``, ``name``, ``priority``, ``target``, ``covered``, ``p90``,
    ``officers`` (within target / required); the order is :attr:`Coverage.gaps`. With
    ``expected_share`` (zone id -> expected covered share) also ``expected``, and
    ``covered`` to a tenth of a percent so the two compare.
    """
    g = cov.gaps.head(n)
    if expected_share is not None:
        ids = [str(v) for v in g["zone_id"]]
        return top_gaps(cov, n=n).assign(
            covered=[f"{s:.1%}" for s in g["covered_share"]],
            expected=[f"{expected_share[z]:.1%}" for z in ids])
    return pd.DataFrame({
        "zone_id": [str(v) for v in g["zone_id"]],
        "name": [str(v) for v in g["name"]],
        "priority": ["-" if pd.isna(p) else str(int(p)) for p in g["priority"]],
        "target": [f"{t:g} min" for t in g["target_min"]],
        "covered": [f"{s:.0%}" for s in g["covered_share"]],
        "p90": [_minutes(None if pd.isna(v) else float(v)) for v in g["p90_min"]],
        "officers": [f"{a} / {b}" for a, b in zip(g["officers_within_target"],
                                                  g["min_officers"], strict=True)],
    })


def gap_list(cov: Coverage, *, stale_only: tuple[str, ...] = ()) -> pd.DataFrame:
    """The zones with a gap, most urgent first, for the list beside the live map.

    Columns ``zone_id``, ``name``, ``priority`` (Int64, NA when none), ``covered_pct``
    (0-100), ``short`` (officers missing to reach ``min_officers``) and ``stale_only``
    (True for a gap caused only by leaving stale positions out; see
    :class:`coverage.ops.positions.LiveCoverage`).
    """
    g = cov.gaps
    return pd.DataFrame({
        "zone_id": [str(v) for v in g["zone_id"]],
        "name": [str(v) for v in g["name"]],
        "priority": g["priority"].astype("Int64").to_numpy(),
        "covered_pct": g["covered_share"].to_numpy(dtype=np.float64) * 100.0,
        "short": np.maximum(g["min_officers"].to_numpy(dtype=np.int64)
                            - g["officers_within_target"].to_numpy(dtype=np.int64), 0),
        "stale_only": [str(z) in set(stale_only) for z in g["zone_id"]],
    })


def zone_bounds(cov: Coverage, zone_id: str) -> tuple[float, float, float, float] | None:
    """``lon0, lat0, lon1, lat1`` of one zone (None when it is not loaded or empty)."""
    zones = cov.dataset.zones
    hit = zones.loc[zones["zone_id"].astype(str) == str(zone_id)]
    if not len(hit) or hit.geometry.is_empty.all():
        return None
    x0, y0, x1, y1 = (float(v) for v in hit.total_bounds)
    return x0, y0, x1, y1


def scenario_text(n_suspended: int, threshold_min: float, source: str | None = None) -> str:
    """The scenario in words, e.g. ``42 officers suspended (list: s.csv); threshold 10 min``."""
    who = "officer" if n_suspended == 1 else "officers"
    lead = f"{n_suspended} {who} suspended" if n_suspended else "No officers suspended"
    listed = f" (list: {source})" if source and n_suspended else ""
    return (f"{lead}{listed}; threshold {threshold_min:g} min "
            "(zones with their own target use it)")


def _station_counts(cov: Coverage) -> gpd.GeoDataFrame:
    """One point per station with officers: counts per status under the scenario."""
    off = apply_suspension(cov.dataset.officers, cov.suspended)
    counts = pd.crosstab(off["station_id"].astype(str), off["status"])
    counts = counts.reindex(columns=list(STATUSES), fill_value=0)
    st = cov.dataset.stations
    st = st.assign(station_id=st["station_id"].astype(str))
    st = st.loc[st["station_id"].isin(counts.index)].reset_index(drop=True)
    c = counts.loc[st["station_id"]].to_numpy(dtype=np.int64)
    total = c.sum(axis=1)
    on_duty = c[:, 0]
    return gpd.GeoDataFrame(
        {
            "station_id": st["station_id"].to_numpy(), "station": st["name"].astype(str),
            "on_duty": on_duty, "reserve": c[:, 1], "off_duty": c[:, 2],
            "suspended": c[:, 3], "officers": total,
            "color": [STATUS_STYLE["on_duty" if k else "off_duty"]["color"] for k in on_duty],
            "radius": RADIUS_BASE_PX + RADIUS_PER_SQRT * np.sqrt(total),
        },
        geometry=st.geometry.to_numpy(), crs="EPSG:4326",
    )


def displace(
    lon: np.ndarray, lat: np.ndarray, *, seed: int | None = None,
    min_m: float = DISPLACE_MIN_M, max_m: float = DISPLACE_MAX_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Return new coordinates moved ``min_m``-``max_m`` metres at random bearings.

    ``seed`` makes the offsets reproducible; ``None`` draws fresh ones from the OS. Whoever
    knows the seed can undo the offsets, so never publish it with an export.
    """
    if not 0 < min_m <= max_m:
        msg = f"displacement must satisfy 0 < min_m <= max_m, got {min_m}, {max_m}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    n = len(lon)
    dist = rng.uniform(min_m, max_m, n)
    bearing = rng.uniform(0.0, 2 * np.pi, n)
    dlat = np.degrees(dist * np.cos(bearing) / _R)
    dlon = np.degrees(dist * np.sin(bearing) / (_R * np.cos(np.radians(lat))))
    return np.asarray(lon, dtype=np.float64) + dlon, np.asarray(lat, dtype=np.float64) + dlat


def officer_points(
    cov: Coverage, *, redact: Redaction = DEFAULT_REDACT, seed: int | None = None
) -> gpd.GeoDataFrame:
    """Return the officer layer an export may draw, redacted as ``redact`` says.

    ``stations``: one point per station (the station's own location) with officer counts
    per status; ``displace``: every officer moved by :func:`displace`; ``none``: exact
    positions. Statuses follow the run's suspension list. Only display columns are kept,
    never ``lat``/``lon``.
    """
    if redact not in REDACT_MODES:
        msg = f"redact must be one of {', '.join(REDACT_MODES)}, got {redact!r}"
        raise ValueError(msg)
    if redact == "stations":
        return _station_counts(cov)
    off = apply_suspension(cov.dataset.officers, cov.suspended)
    off = off.loc[~(off.geometry.isna() | off.geometry.is_empty)].reset_index(drop=True)
    cols = {c: off[c].astype(str).to_numpy() for c in
            ("officer_id", "name", "rank", "station_id", "status")}
    x = off.geometry.x.to_numpy(dtype=np.float64) if len(off) else np.empty(0)
    y = off.geometry.y.to_numpy(dtype=np.float64) if len(off) else np.empty(0)
    if redact == "displace":
        x, y = displace(x, y, seed=seed)
        place = f"displaced {DISPLACE_MIN_M:g}-{DISPLACE_MAX_M:g} m"
        cols["place"] = np.full(len(off), place, dtype=object)
    else:
        cols["place"] = np.where(off["at_station"], "at station", "own position")
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")


def extent(cov: Coverage, *, pad: float = 0.08, stations: bool = True,
           zone_ids: list[str] | None = None) -> tuple[float, float, float, float]:
    """Return ``lon0, lat0, lon1, lat1`` around the zones and stations, padded by ``pad``.

    ``stations=False`` frames the zones alone (the app's maps open on them); ``zone_ids``
    frames only those zones (and no stations). Officers never widen it (their extreme
    positions would show in the map's view); with neither zones nor stations it is the
    road network's extent.
    """
    zones = cov.dataset.zones
    if zone_ids is not None:
        zones = zones.loc[zones["zone_id"].astype(str).isin([str(z) for z in zone_ids])]
        stations = False
    shapes = (zones.geometry,) + ((cov.dataset.stations.geometry,) if stations else ())
    boxes = [g.total_bounds for g in shapes if len(g) and not g.is_empty.all()]
    if not boxes:
        return cov.dataset.network.bounds
    b = np.vstack(boxes)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    x1, y1 = b[:, 2].max(), b[:, 3].max()
    dx, dy = max((x1 - x0) * pad, 0.002), max((y1 - y0) * pad, 0.002)
    return float(x0 - dx), float(y0 - dy), float(x1 + dx), float(y1 + dy)


def affected_extent(cov: Coverage, *, pad: float = 0.25) -> tuple[float, float, float, float]:
    """The view an export opens on: the zones with a gap, else every zone (padded)."""
    gaps = [str(z) for z in cov.gaps["zone_id"]]
    return extent(cov, pad=pad, zone_ids=gaps) if gaps else extent(cov, stations=False)


def _default_baseline(scenario: Coverage, baseline: Coverage | None) -> Coverage:
    """``baseline``, else ``scenario``'s dataset with nobody suspended."""
    if baseline is not None:
        return baseline
    return (scenario if not scenario.suspended else
            analyse(scenario.dataset, threshold_min=scenario.threshold_min))


def expected_figures(
    scenario: Coverage,
    events: pd.DataFrame,
    resources: pd.DataFrame,
    *,
    baseline: Coverage | None = None,
    as_of: date | None = None,
    refusal_p: Mapping[str, float] | None = None,
) -> ExpectedFigures:
    """Return the expected coverage of ``scenario`` (and ``baseline``) under refusal risk.

    ``events`` and ``resources`` are the checked personnel inputs
    (:func:`coverage.data.personnel.read_events`, ``read_resources``); each run's station
    levels are :func:`coverage.planning.readiness.readiness` after that run's suspensions,
    as of ``as_of`` (default: the newest event's date), and each unit refuses with
    ``refusal_p`` (default ``settings.REFUSAL_P``) by its station's level. ``baseline``
    defaults as in :func:`build_brief`.
    """
    from coverage.planning.expected import expected_coverage
    from coverage.planning.readiness import readiness, unit_refusal_p

    probs = dict(refusal_p if refusal_p is not None else settings.REFUSAL_P)

    def run(cov: Coverage) -> tuple[date, float, float, pd.DataFrame]:
        ds = cov.dataset
        r = readiness(ds.stations, ds.officers, events, resources, as_of=as_of,
                      suspended=cov.suspended)
        ex = expected_coverage(cov, unit_refusal_p(r, cov.units.station_id, refusal_p=probs))
        return r.as_of, ex.objective, ex.expected_objective, ex.zones

    baseline = _default_baseline(scenario, baseline)
    day, obj, exp, zones = run(scenario)
    before = (obj, exp) if baseline is scenario else run(baseline)[1:3]
    return ExpectedFigures(
        as_of=day, refusal_p=MappingProxyType(probs),
        before_objective=float(before[0]), before_expected=float(before[1]),
        after_objective=float(obj), after_expected=float(exp),
        zone_share=MappingProxyType({str(z): float(s) for z, s in
                                     zip(zones["zone_id"], zones["expected_covered_share"],
                                         strict=True)}))


def build_brief(
    scenario: Coverage,
    *,
    baseline: Coverage | None = None,
    title: str = DEFAULT_TITLE,
    redact: Redaction = DEFAULT_REDACT,
    suspension_source: str | None = None,
    created: datetime | None = None,
    seed: int | None = None,
    top_n: int = 10,
    handling: str = settings.HANDLING_MARKING,
    areas: tuple[tuple[str, gpd.GeoDataFrame], ...] = (),
    expected: ExpectedFigures | None = None,
) -> Brief:
    """Return the briefing of ``scenario`` against ``baseline`` (the run before suspensions).

    Parameters
    ----------
    scenario
        The run to brief on (e.g. :func:`coverage.engine.analysis.suspend` of the baseline).
    baseline
        The run to compare with; default: ``scenario``'s dataset with nobody suspended.
    redact
        ``stations`` (default), ``displace`` or ``none``; see :func:`officer_points`.
    suspension_source
        File name of the suspension list, quoted in the scenario text.
    created
        Time of the briefing (timezone-aware); default: now. Shown in the local time zone
        (``settings.local_tz()``).
    seed
        Seed of the ``displace`` offsets (default: fresh randomness).
    areas
        ``(label, polygons)`` pairs drawn on the map as the screen drew them, e.g. the
        service area of :func:`coverage.briefing.layers.service_area`; labels are escaped.
    expected
        Expected coverage under refusal risk (:func:`expected_figures` of the same runs):
        the key figures gain the objective and the expected objective, the gap table each
        zone's expected covered share. Default: plain figures only.
    """
    if created is None:
        created = local_now()
    elif created.tzinfo is None:
        msg = "created must be timezone-aware (it is printed with its UTC offset)"
        raise ValueError(msg)
    created = created.astimezone(ZoneInfo(settings.local_tz()))
    baseline = _default_baseline(scenario, baseline)
    n_suspended = len(set(scenario.suspended) - set(baseline.suspended))
    sources = dict(scenario.dataset.sources)
    if suspension_source:
        sources["suspension list"] = suspension_source
    officers = officer_points(scenario, redact=redact, seed=seed)
    notes: list[str] = []
    if redact == "stations":
        drawn = int(officers["officers"].sum()) if len(officers) else 0
        missing = len(scenario.dataset.officers) - drawn
        if missing:
            notes.append(f"{missing} officer(s) of stations not in the station file are "
                         "counted in the figures but not drawn")
    brief = Brief(
        title=title.strip() or DEFAULT_TITLE, created=created,
        sources=MappingProxyType(sources),
        scenario=scenario_text(n_suspended, scenario.threshold_min, suspension_source),
        threshold_min=scenario.threshold_min,
        before=key_figures(baseline), after=key_figures(scenario),
        top_gaps=top_gaps(scenario, n=top_n,
                          expected_share=None if expected is None else expected.zone_share),
        redact=redact,
        redaction_note=_NOTES[redact], officers=officers,
        officers_name="Officers per station" if redact == "stations" else "Officers",
        coverage=scenario, extent=affected_extent(scenario), handling=handling,
        notes=tuple(notes), baseline=baseline, areas=tuple(areas),
        district=extent(scenario, pad=0.02), expected=expected,
    )
    logger.info("briefing: %d gaps listed, officers %s (%d points)", len(brief.top_gaps),
                redact, len(officers))
    return brief
