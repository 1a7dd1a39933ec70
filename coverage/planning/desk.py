"""The planning desk: a scenario with its suspensions and temporary zones, saved and reopened.

A :class:`Desk` is what the planning pages work on: a
:class:`~coverage.planning.scenario.Scenario` (its ``remove`` list carries the suspensions),
the response threshold and any :class:`TemporaryZone` (a procession route, an event) drawn
for the occasion. :func:`desk_coverage` runs it; :func:`desk_body` / :func:`desk_from_body`
turn it into the JSON kept in the store (``coverage.ops.registry.record_scenario``) and back.
The helpers below read what a map's drawing tools return (GeoJSON features) and summarise
random suspension sets for a histogram.

Examples
--------
>>> desk = Desk(Scenario(name="Friday", remove=("KP-0001",)), threshold_min=10)
>>> desk_from_body(json.dumps(desk_body(desk))) == desk
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from coverage.data.dataset import Dataset
from coverage.engine.analysis import Coverage, analyse
from coverage.errors import DataError
from coverage.planning.order import DeploymentOrder
from coverage.planning.scenario import Deployment, Reassignment, Scenario, apply_scenario
from coverage.planning.sweep import Outcome, evaluate, random_suspensions, sweep_model

#: The ``format`` of a desk saved in the store.
DESK_FORMAT = "seccov-desk/1"


@dataclass(frozen=True)
class TemporaryZone:
    """A sensitive zone for the occasion: a polygon (WKT, lon/lat) and the DATA.md fields."""

    zone_id: str
    name: str
    wkt: str
    priority: int | None = 1
    target_min: float | None = None
    min_officers: int = 1

    def __post_init__(self) -> None:
        problems = []
        if not str(self.zone_id).strip():
            problems.append("zone_id: give an id")
        if not str(self.name).strip():
            problems.append("name: give a name")
        try:
            geom = shapely.from_wkt(self.wkt)
        except shapely.errors.ShapelyError:
            geom = None
        if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            problems.append("wkt: draw the zone as a polygon")
        if self.priority not in (None, 1, 2, 3):
            problems.append(f"priority: {self.priority!r} is not 1, 2 or 3")
        if self.target_min is not None and not (math.isfinite(self.target_min)
                                                and self.target_min > 0):
            problems.append(f"target_min: {self.target_min!r} is not minutes > 0")
        if int(self.min_officers) < 0:
            problems.append(f"min_officers: {self.min_officers!r} is below 0")
        if problems:
            msg = "\n".join(f"temporary zone '{self.zone_id}': {p}" for p in problems)
            raise DataError(msg)


@dataclass(frozen=True)
class Desk:
    """The scenario on the planning desk (see the module docstring); ``label`` says where it
    came from (a what-if, a plan, a saved scenario)."""

    scenario: Scenario
    threshold_min: float = 10.0
    zones: tuple[TemporaryZone, ...] = ()
    label: str = ""


def with_zones(ds: Dataset, zones: Sequence[TemporaryZone]) -> Dataset:
    """Return a new dataset with ``zones`` added to the zones file's (ids must be new)."""
    if not zones:
        return ds
    taken = set(ds.zones["zone_id"].astype(str))
    clash = [z.zone_id for z in zones if z.zone_id in taken]
    if clash or len({z.zone_id for z in zones}) < len(zones):
        msg = (f"temporary zones: id(s) {', '.join(clash) or 'given twice'} already used; "
               "give each temporary zone a new id")
        raise DataError(msg)
    extra = gpd.GeoDataFrame({
        "zone_id": [z.zone_id for z in zones], "name": [z.name for z in zones],
        "priority": pd.array([z.priority for z in zones], dtype="Int64"),
        "target_min": [np.nan if z.target_min is None else float(z.target_min)
                       for z in zones],
        "min_officers": pd.array([int(z.min_officers) for z in zones], dtype="Int64"),
    }, geometry=[shapely.from_wkt(z.wkt) for z in zones], crs="EPSG:4326")
    merged = pd.concat([ds.zones, extra.to_crs(ds.zones.crs)], ignore_index=True)
    return replace(ds, zones=gpd.GeoDataFrame(merged, geometry="geometry", crs=ds.zones.crs))


def desk_coverage(ds: Dataset, desk: Desk) -> tuple[Coverage, Coverage]:
    """Return (before, after): the dataset with the desk's zones and suspensions, then with
    the rest of its scenario applied (deployments, moves, closures, delays)."""
    data = with_zones(ds, desk.zones)
    s = desk.scenario
    before = analyse(data, suspended=list(s.remove), threshold_min=desk.threshold_min)
    rest = replace(s, remove=())
    if rest.inputs() == Scenario().inputs():
        return before, before
    return before, apply_scenario(before, rest)


def desk_body(desk: Desk) -> dict[str, Any]:
    """The desk as JSON-ready values (what the store keeps), suspension list included."""
    s = desk.scenario
    return {"format": DESK_FORMAT, "name": s.name, "author": s.author, "created": s.created,
            "sha256": s.sha256, "threshold_min": float(desk.threshold_min),
            "label": desk.label, "inputs": s.inputs(),
            "temporary_zones": [vars(z).copy() for z in desk.zones]}


def desk_from_body(text: str) -> Desk:
    """Open a desk saved by :func:`desk_body` (a DataError names what is wrong)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"saved scenario: not valid JSON ({exc.msg} at line {exc.lineno})"
        raise DataError(msg) from exc
    if not isinstance(raw, Mapping) or raw.get("format") != DESK_FORMAT:
        msg = f"saved scenario: expected format '{DESK_FORMAT}'"
        raise DataError(msg)
    inp = raw.get("inputs") or {}
    try:
        scenario = Scenario(
            name=raw.get("name") or "scenario", author=raw.get("author") or "",
            created=raw.get("created"), remove=tuple(inp.get("remove", ())),
            deploy=tuple(Deployment(**d) for d in inp.get("deploy", ())),
            reassign=tuple(Reassignment(**r) for r in inp.get("reassign", ())),
            closed_roads=tuple(tuple(p) for p in inp.get("closed_roads", ())),
            closed_areas=tuple(inp.get("closed_areas", ())),
            turnout_s=float(inp.get("turnout_s", 0.0)),
            unit_turnout_s=tuple((str(k), float(v))
                                 for k, v in dict(inp.get("unit_turnout_s", {})).items()))
        zones = tuple(TemporaryZone(**z) for z in raw.get("temporary_zones", ()))
    except (TypeError, ValueError) as exc:
        msg = f"saved scenario '{raw.get('name')}': {exc}"
        raise DataError(msg) from exc
    if raw.get("sha256") not in (None, scenario.sha256):
        msg = f"saved scenario '{scenario.name}': sha256 does not match its inputs"
        raise DataError(msg)
    return Desk(scenario=scenario, threshold_min=float(raw.get("threshold_min", 10.0)),
                zones=zones, label=str(raw.get("label") or ""))


def drawn_shapes(features: Sequence[Mapping[str, Any]] | None) -> tuple[list[str], list[
        tuple[float, float]], list[tuple[tuple[float, float], ...]]]:
    """Split a map's drawings (GeoJSON features, as streamlit-folium returns them) into
    (polygon WKTs, points as (lon, lat), lines as tuples of (lon, lat)); others are ignored."""
    polygons: list[str] = []
    points: list[tuple[float, float]] = []
    lines: list[tuple[tuple[float, float], ...]] = []
    for f in features or ():
        geom = (f or {}).get("geometry") or {}
        try:
            shape = shapely.geometry.shape(geom)
        except (ValueError, TypeError, AttributeError, shapely.errors.ShapelyError):
            continue
        if shape.is_empty:
            continue
        if shape.geom_type in ("Polygon", "MultiPolygon"):
            polygons.append(str(shapely.to_wkt(shapely.make_valid(shape),
                                               rounding_precision=7)))
        elif shape.geom_type == "Point":
            points.append((float(shape.x), float(shape.y)))
        elif shape.geom_type == "LineString":
            lines.append(tuple((float(x), float(y)) for x, y, *_ in shape.coords))
    return polygons, points, lines


def drawn_area(features: Sequence[Mapping[str, Any]] | None) -> Any:
    """The union of the polygons drawn on a map (shapely, lon/lat), or None if there is none."""
    polygons, _, _ = drawn_shapes(features)
    return shapely.union_all([shapely.from_wkt(w) for w in polygons]) if polygons else None


def random_outcomes(cov: Coverage, runs: int, size: int, *, seed: int = 0
                    ) -> Iterator[Outcome]:
    """Yield the outcome of ``runs`` random suspensions of ``size`` available officers, one
    at a time (for a progress bar); equal to :func:`coverage.planning.sweep.sweep`'s."""
    model = sweep_model(cov)
    for ids in random_suspensions(model, runs, size, seed=seed):
        yield evaluate(model, ids)


def outcome_histogram(outcomes: Sequence[Outcome], *, bins: int = 20) -> pd.DataFrame:
    """Counts of the objective over random outcomes: columns ``objective`` (bin centre) and
    ``runs``; a new frame."""
    values = np.array([o.objective for o in outcomes], dtype=np.float64)
    if values.size == 0:
        return pd.DataFrame({"objective": [], "runs": []})
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        return pd.DataFrame({"objective": [lo], "runs": [values.size]})
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return pd.DataFrame({"objective": (edges[:-1] + edges[1:]) / 2, "runs": counts})


def order_frame(order: DeploymentOrder) -> pd.DataFrame:
    """The order's lines as a table for a screen: one row per order, in rank order."""
    return pd.DataFrame({
        "order": [ln.number for ln in order.lines],
        "kind": [ln.kind for ln in order.lines],
        "officer": [f"{ln.officer_id} {ln.name}".strip() for ln in order.lines],
        "rank": [ln.rank for ln in order.lines],
        "from": [ln.from_station for ln in order.lines],
        "to": [ln.to_site for ln in order.lines],
        "travel_min": pd.array([ln.travel_min for ln in order.lines], dtype="Float64"),
        "gain": [ln.gain for ln in order.lines],
        "restores": [", ".join(ln.restores) for ln in order.lines],
    })


def comparable(a: Desk, b: Desk) -> tuple[Desk, Desk]:
    """The two desks measured on the same zones: each gets the other's temporary zones too
    (zones only measure; no unit moves), so their runs can be compared zone by zone."""
    both = {z.zone_id: z for z in (*b.zones, *a.zones)}
    zones = tuple(both[k] for k in sorted(both))
    return replace(a, zones=zones), replace(b, zones=zones)


#: Half-width of a drawn closure line, in degrees (about 10 m): the roads it crosses close.
LINE_HALF_WIDTH_DEG = 1e-4


def add_closures(desk: Desk, polygons: Sequence[str],
                 lines: Sequence[Sequence[tuple[float, float]]] = ()) -> Desk:
    """Return a new desk whose scenario also closes every road touching one of ``polygons``
    or crossing one of ``lines`` (a line closes a strip about 20 m wide)."""
    s = desk.scenario
    strips = [str(shapely.to_wkt(shapely.LineString(line).buffer(LINE_HALF_WIDTH_DEG),
                                 rounding_precision=7)) for line in lines if len(line) >= 2]
    return replace(desk, scenario=replace(
        s, closed_areas=(*s.closed_areas, *polygons, *strips)))


def add_zone(desk: Desk, zone: TemporaryZone) -> Desk:
    """Return a new desk with the temporary ``zone`` added (a zone of that id is replaced)."""
    return replace(desk, zones=(*(z for z in desk.zones if z.zone_id != zone.zone_id), zone))


def deploy_reserve(desk: Desk, officer_id: str, lon: float, lat: float) -> Desk:
    """Return a new desk with reserve ``officer_id`` sent to the point (snapped to a road)."""
    s = desk.scenario
    kept = tuple(d for d in s.deploy if d.officer_id != officer_id)
    return replace(desk, scenario=replace(
        s, deploy=(*kept, Deployment(officer_id, lon=float(lon), lat=float(lat)))))


def with_delays(desk: Desk, every_s: float, officers: Sequence[str], own_s: float) -> Desk:
    """Return a new desk with a turnout delay for every unit and another for ``officers``."""
    s = desk.scenario
    own = {**dict(s.unit_turnout_s), **{str(o): float(own_s) for o in officers}}
    return replace(desk, scenario=replace(s, turnout_s=float(every_s),
                                          unit_turnout_s=tuple(own.items())))


def describe(desk: Desk) -> str:
    """One line saying what the desk's scenario changes."""
    s = desk.scenario
    parts = [f"{len(s.remove)} suspended", f"{len(s.deploy)} sent to a site",
             f"{len(s.closed_areas)} closed area(s)", f"{len(s.closed_roads)} closed road(s)",
             f"turnout {s.turnout_s:g} s" + (f" ({len(s.unit_turnout_s)} own)"
                                               if s.unit_turnout_s else ""),
             f"{len(desk.zones)} temporary zone(s)"]
    return "; ".join(parts) + "."


def zone_rows(cov: Coverage, zone_ids: Sequence[str]) -> pd.DataFrame:
    """The zone table rows of ``zone_ids`` (e.g. the temporary zones), as on the screens."""
    from coverage.engine.report import zone_view

    view = zone_view(cov)
    return view.loc[view["zone_id"].isin([str(z) for z in zone_ids])].reset_index(drop=True)


def road_names(cov: Coverage) -> list[str]:
    """The named roads of the run's network, sorted (to pick closures by name)."""
    names = np.unique(np.asarray(cov.dataset.network.name, dtype=str))
    return [str(n) for n in names if n]


def close_named_roads(desk: Desk, cov: Coverage, names: Sequence[str]) -> Desk:
    """Return a new desk whose scenario also closes every edge of the roads ``names``."""
    net = cov.dataset.network
    hit = np.isin(np.asarray(net.name, dtype=str), [str(n) for n in names])
    pairs = {(int(net.node_id[u]), int(net.node_id[v]))
             for u, v in zip(net.edge_u[hit], net.edge_v[hit], strict=True) if u != v}
    s = desk.scenario
    return replace(desk, scenario=replace(s, closed_roads=(*s.closed_roads, *sorted(pairs))))


def apply_plan(desk: Desk, plan: Scenario, *, label: str) -> Desk:
    """Return a new desk with a plan's deployments (and delays) on top of ``desk``'s; an
    officer the plan sends again keeps only the plan's site."""
    s = desk.scenario
    sent = {d.officer_id for d in plan.deploy}
    deploy = (*(d for d in s.deploy if d.officer_id not in sent), *plan.deploy)
    delays = {**dict(s.unit_turnout_s), **dict(plan.unit_turnout_s)}
    return replace(desk, label=label, scenario=replace(
        s, name=f"{s.name} + plan", deploy=deploy, unit_turnout_s=tuple(delays.items())))
