"""Scenarios: what-ifs over a coverage run (removals, deployed reserves, moves, closures, delays).

A :class:`Scenario` is a frozen, canonical description of changes; :func:`apply_scenario`
turns a dataset or a baseline :class:`~coverage.engine.analysis.Coverage` into the scenario's
coverage, incrementally where it can (removed units through ``without_units``, added or
moved ones through ``with_units``); road closures recompute on a new network copy
(:func:`coverage.planning.closures.close_roads`). Two runs are lined up per zone by
:func:`coverage.engine.report.compare`; scenario files are read and written only by
:mod:`coverage.planning.scenario_io`.

Examples
--------
>>> s = Scenario(name="night shift", remove=("KP-0002", "KP-0001"), turnout_s=60)
>>> s.remove
('KP-0001', 'KP-0002')
>>> len(s.sha256)
64
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from coverage import settings
from coverage.data.dataset import Dataset
from coverage.data.network import FloatArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import anchor_times, officers_within, overall, zone_nodes, zone_table
from coverage.engine.traveltime import TravelTimes, travel_times, with_units, without_units
from coverage.engine.units import PlacedUnits, apply_suspension, available_officers, place_units
from coverage.engine.units import unit_counts as count_units
from coverage.errors import DataError
from coverage.planning.closures import close_roads

logger = logging.getLogger(__name__)

__all__ = ["Deployment", "Reassignment", "Scenario", "apply_scenario", "close_roads"]


@dataclass(frozen=True)
class Deployment:
    """Reserve ``officer_id`` goes to road node ``node_id`` (file id), or to ``lon``/``lat``."""

    officer_id: str
    node_id: int | None = None
    lon: float | None = None
    lat: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "officer_id", str(self.officer_id))
        for name, kind in (("node_id", int), ("lon", float), ("lat", float)):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, kind(value))


@dataclass(frozen=True)
class Reassignment:
    """``officer_id`` moves to ``station_id`` (an officer at the station moves with it)."""

    officer_id: str
    station_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "officer_id", str(self.officer_id))
        object.__setattr__(self, "station_id", str(self.station_id))


@dataclass(frozen=True)
class Scenario:
    """A what-if over a coverage run; fields are normalised to a canonical order.

    Parameters
    ----------
    name, author, created
        Description; ``created`` is ISO 8601 with an offset (stamped on saving if None).
        None of them enters :attr:`sha256`.
    remove
        Officers suspended or otherwise taken out.
    deploy
        Reserves placed at a site, or on-duty officers moved to one: they become (or stay)
        available units standing there.
    reassign
        Officers moved to another station; one at the station moves to the new one's
        location, one with an own position keeps it.
    closed_roads
        Road node id pairs ``(u, v)``: every edge between them is closed, both directions.
    closed_areas
        WKT polygons (lon/lat): every edge whose drawn line touches one is closed.
    turnout_s, unit_turnout_s
        Seconds before a unit starts moving: one figure for every unit, and per officer
        overrides. Units without either keep their baseline delay.
    """

    name: str = "scenario"
    author: str = ""
    created: str | None = None
    remove: tuple[str, ...] = ()
    deploy: tuple[Deployment, ...] = ()
    reassign: tuple[Reassignment, ...] = ()
    closed_roads: tuple[tuple[int, int], ...] = ()
    closed_areas: tuple[str, ...] = ()
    turnout_s: float = 0.0
    unit_turnout_s: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        problems: list[str] = []
        put = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append("name: give a non-empty name")
        if self.created is not None and not _iso_with_offset(self.created):
            problems.append(f"created: '{self.created}' is not ISO 8601 with an offset, "
                            "e.g. 2026-11-25T08:00:00+05:00")
        put(self, "remove", tuple(sorted({str(v) for v in self.remove})))
        for k, d in enumerate(self.deploy):
            if (d.node_id is None) == (d.lon is None or d.lat is None):
                problems.append(f"deploy[{k}]: give node_id, or lon and lat (not both)")
            elif d.lon is not None and d.lat is not None and not (
                    -180 <= d.lon <= 180 and -90 <= d.lat <= 90):
                problems.append(f"deploy[{k}]: lon {d.lon} / lat {d.lat} are not WGS84 degrees")
        put(self, "deploy", _unique("deploy", self.deploy, problems))
        put(self, "reassign", _unique("reassign", self.reassign, problems))
        pairs = set()
        for k, (u, v) in enumerate(self.closed_roads):
            if int(u) == int(v):
                problems.append(f"closed_roads[{k}]: node {u} is given twice; name two nodes")
            pairs.add((min(int(u), int(v)), max(int(u), int(v))))
        put(self, "closed_roads", tuple(sorted(pairs)))
        put(self, "closed_areas", tuple(_canonical_area(w, k, problems)
                                        for k, w in enumerate(self.closed_areas)))
        turnout = self.unit_turnout_s
        items = turnout.items() if isinstance(turnout, Mapping) else turnout
        put(self, "unit_turnout_s", tuple(sorted((str(k), float(v)) for k, v in items)))
        put(self, "turnout_s", float(self.turnout_s))
        for what, value in [("turnout_s", self.turnout_s), *(
                (f"unit_turnout_s[{k}]", v) for k, v in self.unit_turnout_s)]:
            if not (math.isfinite(value) and value >= 0):
                problems.append(f"{what}: {value} is not a number of seconds >= 0")
        if problems:
            msg = "\n".join(f"scenario '{self.name}': field {p}" for p in problems)
            raise DataError(msg)

    def inputs(self) -> dict[str, Any]:
        """Return the canonical inputs (what :attr:`sha256` hashes) as JSON-ready values."""
        return {
            "remove": list(self.remove),
            "deploy": [{k: v for k, v in vars(d).items() if v is not None} for d in self.deploy],
            "reassign": [vars(r).copy() for r in self.reassign],
            "closed_roads": [list(p) for p in self.closed_roads],
            "closed_areas": list(self.closed_areas),
            "turnout_s": self.turnout_s,
            "unit_turnout_s": dict(self.unit_turnout_s),
        }

    @property
    def sha256(self) -> str:
        """Hex sha256 of the canonical inputs (sorted keys, compact JSON)."""
        text = json.dumps(self.inputs(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso_with_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except (TypeError, ValueError):
        return False


def _unique(what: str, items: tuple[Any, ...], problems: list[str]) -> tuple[Any, ...]:
    """Check officer ids (in the given order); return the items sorted by officer id."""
    seen: set[str] = set()
    for k, item in enumerate(items):
        if not str(item.officer_id).strip():
            problems.append(f"{what}[{k}]: officer_id is empty")
        if item.officer_id in seen:
            problems.append(f"{what}[{k}]: officer '{item.officer_id}' is listed twice")
        seen.add(item.officer_id)
    return tuple(sorted(items, key=lambda item: str(item.officer_id)))


def _canonical_area(wkt: str, k: int, problems: list[str]) -> str:
    try:
        geom = shapely.from_wkt(wkt)
    except (shapely.errors.ShapelyError, TypeError) as exc:
        problems.append(f"closed_areas[{k}]: not valid WKT ({exc})")
        return str(wkt)
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty or not geom.is_valid:
        problems.append(f"closed_areas[{k}]: a {geom.geom_type} that is not a valid polygon")
        return str(wkt)
    return str(shapely.to_wkt(shapely.normalize(geom), rounding_precision=-1))


def _check(ds: Dataset, s: Scenario, prior: tuple[str, ...]) -> None:
    """Raise one DataError listing every input that does not fit ``ds``."""
    off = ds.officers
    status = dict(zip(off["officer_id"], off["status"], strict=True))
    stations = set(ds.stations["station_id"])
    who = ds.sources.get("officers", "officers")
    problems = [f"remove[{k}]: officer '{o}' is not in {who}"
                for k, o in enumerate(s.remove) if o not in status]
    for k, d in enumerate(s.deploy):
        if d.officer_id not in status:
            problems.append(f"deploy[{k}]: officer '{d.officer_id}' is not in {who}")
        elif status[d.officer_id] not in ("reserve", "on_duty") or d.officer_id in prior:
            problems.append(f"deploy[{k}]: officer '{d.officer_id}' is not an available reserve "
                            f"or on-duty officer (status {status[d.officer_id]}"
                            f"{', suspended' if d.officer_id in prior else ''})")
        elif d.officer_id in s.remove:
            problems.append(f"deploy[{k}]: officer '{d.officer_id}' is also in remove")
        if d.node_id is not None and not (ds.network.node_id == d.node_id).any():
            problems.append(f"deploy[{k}]: node_id {d.node_id} is not in the road network")
    for k, r in enumerate(s.reassign):
        if r.officer_id not in status:
            problems.append(f"reassign[{k}]: officer '{r.officer_id}' is not in {who}")
        if r.station_id not in stations:
            problems.append(f"reassign[{k}]: station '{r.station_id}' is not in "
                            f"{ds.sources.get('stations', 'stations')}")
    problems += [f"unit_turnout_s[{k}]: officer '{o}' is not in {who}"
                 for k, (o, _) in enumerate(s.unit_turnout_s) if o not in status]
    if problems:
        raise DataError("\n".join(f"scenario '{s.name}': field {p}" for p in problems))


def _officers(ds: Dataset, s: Scenario) -> gpd.GeoDataFrame:
    """Return a new officers frame with reassignments and deployments applied."""
    off = ds.officers.copy()
    pos = {oid: i for i, oid in enumerate(off["officer_id"])}
    home = dict(zip(ds.stations["station_id"], ds.stations.geometry, strict=True))
    geoms = list(off.geometry)
    station, status = off["station_id"].to_numpy(copy=True), off["status"].to_numpy(copy=True)
    lon, lat = off["lon"].to_numpy(copy=True), off["lat"].to_numpy(copy=True)
    at_station = off["at_station"].to_numpy(copy=True)
    for r in s.reassign:
        i = pos[r.officer_id]
        station[i] = r.station_id
        if at_station[i]:
            geoms[i] = home[r.station_id]
    net = ds.network
    for d in s.deploy:
        i = pos[d.officer_id]
        if d.node_id is not None:
            j = int(net.index_of([d.node_id])[0])
            lon[i], lat[i] = net.lon[j], net.lat[j]
        else:
            lon[i], lat[i] = float(d.lon or 0.0), float(d.lat or 0.0)
        status[i], at_station[i] = "on_duty", False
        geoms[i] = shapely.Point(lon[i], lat[i])
    off["station_id"], off["status"], off["lon"], off["lat"] = station, status, lon, lat
    off["at_station"] = at_station
    return off.set_geometry(gpd.GeoSeries(geoms, index=off.index, crs=off.crs))


def apply_scenario(
    base: Dataset | Coverage, scenario: Scenario, *, threshold_min: float | None = None
) -> Coverage:
    """Return the coverage of ``scenario`` applied to a dataset or a baseline run.

    From a baseline, units that leave or change (node or delay) are taken out with
    ``without_units`` and new ones put in with ``with_units``; zone nodes and anchor
    reach are reused. Road closures (or a new ``threshold_min``) recompute on a new network
    copy. The result's ``dataset`` carries the scenario's network and officers frame
    (deployed reserves are ``on_duty`` at their site), so it can be a baseline again.
    """
    baseline = base if isinstance(base, Coverage) else None
    ds = baseline.dataset if baseline is not None else base
    assert isinstance(ds, Dataset)
    thr = threshold_min if threshold_min is not None else (
        baseline.threshold_min if baseline is not None else settings.DEFAULT_THRESHOLD_MIN)
    prior = baseline.suspended if baseline is not None else ()
    _check(ds, scenario, prior)
    suspended = (*prior, *(o for o in scenario.remove if o not in prior))
    officers = _officers(ds, scenario)
    net = ds.network
    if scenario.closed_roads or scenario.closed_areas:
        net = close_roads(net, pairs=scenario.closed_roads, areas=scenario.closed_areas)
    current = apply_suspension(officers, suspended)
    units = place_units(ds.network, available_officers(current),
                        what=ds.sources.get("officers", "officers"))
    by_node = {d.officer_id: d.node_id for d in scenario.deploy if d.node_id is not None}
    node = units.node.copy()
    for i, oid in enumerate(units.officer_id):
        if oid in by_node:
            node[i] = int(ds.network.index_of([by_node[oid]])[0])
    units = replace(units, node=node)
    delays = _delays(units, scenario, baseline)
    same = baseline is not None and net is ds.network and thr == baseline.threshold_min
    times = None
    if same and baseline is not None:
        times, units = _incremental(baseline.times, units, delays)
    if times is None:
        times = travel_times(net, list(units.officer_id), units.node, delay_s=delays)
    zn = baseline.zones if baseline is not None and thr == baseline.threshold_min else (
        zone_nodes(net, ds.zones, threshold_min=thr))
    reach = baseline.reach_s if same and baseline is not None else anchor_times(net, zn)
    within = officers_within(zn, reach, units.node, times.delays)
    table = zone_table(times, zn, within)
    cov = Coverage(
        dataset=replace(ds, network=net, officers=officers), threshold_min=thr,
        suspended=suspended, counts=count_units(current), units=units, times=times, zones=zn,
        reach_s=reach, table=table, overall=overall(times, table),
    )
    logger.info("scenario '%s': %d units, %d zones with gaps", scenario.name, len(units),
                cov.overall.zones_with_gap)
    return cov


def _delays(units: PlacedUnits, s: Scenario, baseline: Coverage | None) -> FloatArray:
    own = dict(s.unit_turnout_s)
    before: dict[str, float] = {}
    if baseline is not None:
        before = dict(zip(baseline.times.unit_ids, baseline.times.delays.tolist(), strict=True))
    return np.array([own.get(o, s.turnout_s if s.turnout_s > 0 else before.get(o, 0.0))
                     for o in units.officer_id], dtype=np.float64)


def _incremental(
    base: TravelTimes, units: PlacedUnits, delays: FloatArray
) -> tuple[TravelTimes | None, PlacedUnits]:
    """Update ``base`` to ``units``; None when so much changes that a full run is cheaper."""
    was = {o: (int(n), float(d))
           for o, n, d in zip(base.unit_ids, base.unit_nodes, base.delays, strict=True)}
    now = {o: (int(n), float(d)) for o, n, d in zip(units.officer_id, units.node, delays,
                                                  strict=True)}
    gone = [o for o in base.unit_ids if was[o] != now.get(o)]
    new = [i for i, o in enumerate(units.officer_id) if was.get(o) != now[o]]
    if len(gone) + len(new) > max(8, len(units) // 2):
        return None, units
    times = without_units(base, gone)
    times = with_units(times, [units.officer_id[i] for i in new], units.node[new],
                       delay_s=delays[new])
    order = np.array([units.officer_id.index(o) for o in times.unit_ids], dtype=np.int64)
    ordered = PlacedUnits(
        officer_id=tuple(units.officer_id[i] for i in order),
        station_id=tuple(units.station_id[i] for i in order),
        node=units.node[order], snap_m=units.snap_m[order],
    ) if len(order) else units
    return times, ordered


