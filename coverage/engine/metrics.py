"""Coverage metrics per zone and overall, exactly as defined in DATA.md."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from coverage import settings
from coverage.data.network import FloatArray, IntArray, RoadNetwork, check_extent
from coverage.engine.traveltime import Reach, TravelTimes, reach_to
from coverage.errors import DataError, DataWarning

logger = logging.getLogger(__name__)

ZONE_COLUMNS = (
    "zone_id", "name", "priority", "target_min", "nodes", "covered_share", "p50_min",
    "p90_min", "max_min", "unreachable_nodes", "officers_within_target", "min_officers", "gap",
)


@dataclass(frozen=True, eq=False)
class ZoneNodes:
    """Road nodes of each zone and its anchor node.

    ``nodes[z]`` are the node indices inside zone ``z`` (boundary included); where a zone has
    none, it is measured at its anchor alone and ``at_anchor[z]`` is True. ``anchor[z]`` is the
    node nearest the zone's representative point, ``anchor_m[z]`` the distance to it.
    """

    zone_id: tuple[str, ...]
    nodes: tuple[IntArray, ...]
    anchor: IntArray
    anchor_m: FloatArray
    at_anchor: npt.NDArray[np.bool_]
    target_min: FloatArray
    min_officers: IntArray
    priority: tuple[int | None, ...]
    name: tuple[str, ...]


def zone_nodes(
    net: RoadNetwork,
    zones: gpd.GeoDataFrame,
    *,
    threshold_min: float,
    warn_m: float = settings.SNAP_WARN_M,
) -> ZoneNodes:
    """Find each zone's road nodes and anchor node; resolve its target and required officers.

    A zone with an empty ``target_min`` takes ``threshold_min``. Zones with no node inside are
    warned about (they are measured at their anchor node).
    """
    if not math.isfinite(threshold_min) or threshold_min <= 0:
        msg = f"threshold_min must be a positive number of minutes, got {threshold_min!r}"
        raise DataError(msg)
    per_zone: list[IntArray] = []
    at_anchor = np.zeros(len(zones), dtype=bool)
    geoms = list(zones.geometry)
    reps = [g.representative_point() for g in geoms]
    anchor, anchor_m = net.nearest_nodes([p.x for p in reps], [p.y for p in reps])
    for z, geom in enumerate(geoms):
        box = net.nodes_in_box(*geom.bounds)
        inside = box[shapely.intersects_xy(geom, net.lon[box], net.lat[box])]
        if inside.size == 0:
            at_anchor[z] = True
            inside = anchor[z : z + 1].astype(np.int64)
        per_zone.append(inside.astype(np.int64))
    ids = tuple(str(v) for v in zones["zone_id"])
    if len(ids):
        check_extent(net, [p.x for p in reps], [p.y for p in reps], list(ids), what="zones")
    far = at_anchor & (anchor_m > warn_m)
    if far.any():
        listed = ", ".join(f"{ids[z]} ({anchor_m[z]:,.0f} m)" for z in np.flatnonzero(far))
        warnings.warn(
            f"zones: {int(far.sum())} zone(s) lie more than {warn_m:,.0f} m from any road "
            f"node; their figures describe the nearest road node only: {listed}",
            DataWarning,
            stacklevel=2,
        )
    if at_anchor.any():
        listed = ", ".join(ids[z] for z in np.flatnonzero(at_anchor))
        warnings.warn(
            f"zones: {int(at_anchor.sum())} zone(s) contain no road node and are measured at "
            f"their anchor node: {listed}",
            DataWarning,
            stacklevel=2,
        )
    target = zones["target_min"].astype("float64").fillna(threshold_min).to_numpy()
    min_off = zones["min_officers"].astype("Int64").fillna(settings.DEFAULT_MIN_OFFICERS)
    priority = tuple(None if pd.isna(p) else int(p) for p in zones["priority"])
    return ZoneNodes(
        zone_id=ids, nodes=tuple(per_zone), anchor=anchor, anchor_m=anchor_m,
        at_anchor=at_anchor, target_min=target.astype(np.float64),
        min_officers=min_off.to_numpy(dtype=np.int64), priority=priority,
        name=tuple(str(v) for v in zones["name"]),
    )


def anchor_times(net: RoadNetwork, zn: ZoneNodes) -> Reach:
    """Seconds from the nodes within each zone's target to its anchor (sparse, else inf)."""
    return reach_to(net, zn.anchor, limit_s=zn.target_min * 60.0)


def within_target(
    zn: ZoneNodes,
    reach_s: Reach,
    nodes: npt.ArrayLike,
    delay_s: npt.ArrayLike | None = None,
) -> npt.NDArray[np.bool_]:
    """Return a zones x units matrix: does the unit at ``nodes[u]`` reach zone ``z`` in time?

    ``reach_s`` holds the seconds from the nodes within each zone's target to its anchor
    (see :func:`anchor_times`); a unit's turnout delay, if given, is added before comparing
    with the target.
    """
    at = np.asarray(nodes, dtype=np.int64)
    if at.size == 0:
        return np.zeros((len(zn.zone_id), 0), dtype=bool)
    return reach_s.within(at, delay_s=delay_s, limit_s=zn.target_min * 60.0)


def officers_within(
    zn: ZoneNodes,
    reach_s: Reach,
    nodes: npt.ArrayLike,
    delay_s: npt.ArrayLike | None = None,
) -> IntArray:
    """Count, per zone, the units whose travel time to the anchor is within the target."""
    return within_target(zn, reach_s, nodes, delay_s).sum(axis=1).astype(np.int64)


def _percentile(values: FloatArray, q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default rule), None if it is unreachable.

    Unreachable nodes (``inf``) sort last. The result is None only when the rank falls on, or
    interpolates towards, an unreachable node: the median of 0, 0.5 and inf minutes is 0.5.
    (``numpy.percentile`` itself would give NaN there, from ``0 * inf``.)
    """
    return _percentiles(values, (q,))[0]


def _percentiles(values: FloatArray, qs: tuple[float, ...]) -> list[float | None]:
    """:func:`_percentile` for each of ``qs``, from one partial sort (``np.partition``).

    Only the two order statistics around each rank are placed, in linear time; they are the
    values a full sort would put there, so the figures are the same.
    """
    if values.size == 0:
        return [None for _ in qs]
    ranks = [(values.size - 1) * q / 100.0 for q in qs]
    kth = sorted({k for r in ranks for k in (math.floor(r), math.ceil(r))})
    part = np.partition(values, kth)
    out: list[float | None] = []
    for rank in ranks:
        lo, hi = math.floor(rank), math.ceil(rank)
        if lo == hi or rank == lo:
            value = float(part[lo])
        elif not math.isfinite(part[hi]):
            out.append(None)
            continue
        else:
            pair = np.array([part[lo], part[hi]])
            value = float(np.percentile(pair, 100.0 * (rank - lo)))
        out.append(value if math.isfinite(value) else None)
    return out


def zone_table(
    tt: TravelTimes,
    zn: ZoneNodes,
    within: IntArray,
    *,
    previous: pd.DataFrame | None = None,
    changed: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Return one row per zone with the DATA.md figures (columns :data:`ZONE_COLUMNS`).

    ``p50_min``/``p90_min`` are numpy's linear percentiles of the zone nodes' minutes, None
    where they fall on unreachable nodes; ``max_min`` is None if any node is unreachable.
    With ``previous`` (a table of the same zones) and ``changed`` (per zone: did any of its
    nodes' times change?), unchanged zones keep their node figures from ``previous``; only
    their officer counts and gap are redone.
    """
    old_rows = None if previous is None or changed is None else previous.to_dict("records")
    rows = []
    for z, nodes in enumerate(zn.nodes):
        need = int(zn.min_officers[z])
        if old_rows is not None and changed is not None and not changed[z]:
            row = dict(old_rows[z])
            row["officers_within_target"] = int(within[z])
            row["gap"] = bool(row["covered_share"] < 1.0 or within[z] < need)
            rows.append(row)
            continue
        m = tt.seconds[nodes] / 60.0
        target = float(zn.target_min[z])
        unreachable = int(np.count_nonzero(~np.isfinite(m)))
        covered = float(np.count_nonzero(m <= target) / m.size) if m.size else 0.0
        p50, p90 = _percentiles(m, (50, 90))
        rows.append(
            {
                "zone_id": zn.zone_id[z],
                "name": zn.name[z],
                "priority": zn.priority[z],
                "target_min": target,
                "nodes": int(m.size),
                "covered_share": covered,
                "p50_min": p50,
                "p90_min": p90,
                "max_min": None if unreachable else float(m.max()),
                "unreachable_nodes": unreachable,
                "officers_within_target": int(within[z]),
                "min_officers": need,
                "gap": bool(covered < 1.0 or within[z] < need),
                "at_anchor": bool(zn.at_anchor[z]),
            }
        )
    table = pd.DataFrame(rows, columns=[*ZONE_COLUMNS, "at_anchor"])
    return table.astype({"priority": "Int64"})


BoolArray = npt.NDArray[np.bool_]

#: Keys of a weight override: a priority 1..3, or None for zones without one.
Weights = Mapping[int | None, float]


@dataclass(frozen=True, eq=False)
class Demand:
    """Demand items: item ``j`` is node ``node[j]`` of zone ``zone[j]``.

    ``weight[j]`` and ``target_min[j]`` are its zone's demand weight and response target;
    ``zone_weight[z]`` is zone ``z``'s weight.
    """

    zones: ZoneNodes
    zone: IntArray
    node: IntArray
    weight: FloatArray
    target_min: FloatArray
    zone_weight: FloatArray

    def __len__(self) -> int:
        return len(self.node)

    @property
    def total(self) -> float:
        """The objective when every item is covered."""
        return float(self.weight.sum())

    @cached_property
    def _by_node(self) -> tuple[IntArray, IntArray]:
        order = np.argsort(self.node, kind="stable").astype(np.int64)
        return order, np.asarray(self.node[order], dtype=np.int64)

    def items_at(self, nodes: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Return the items standing on ``nodes`` (ascending) and, for each, the position of
        its node in ``nodes``; the work is proportional to ``nodes``, not to the items."""
        at = np.asarray(nodes, dtype=np.int64)
        order, sorted_nodes = self._by_node
        lo = np.searchsorted(sorted_nodes, at, side="left")
        hi = np.searchsorted(sorted_nodes, at, side="right")
        counts = hi - lo
        pos = np.repeat(np.arange(at.size, dtype=np.int64), counts)
        items = order[np.repeat(hi - np.cumsum(counts), counts) + np.arange(pos.size)]
        first = np.argsort(items, kind="stable")
        return items[first], pos[first]


def zone_weights(zones: ZoneNodes, *, weights: Weights | None = None) -> FloatArray:
    """Return each zone's demand weight: 3/2/1 for priority 1/2/3, 3 without a priority.

    ``weights`` overrides any of these, keyed by priority (``None`` for zones without one);
    weights must be finite and >= 0.
    """
    table: dict[int | None, float] = {
        **{int(k): float(v) for k, v in settings.PRIORITY_WEIGHTS.items()},
        None: float(settings.UNPRIORITISED_WEIGHT),
    }
    for key, value in (weights or {}).items():
        if key not in table:
            msg = f"weights: key {key!r} is not a priority 1, 2, 3 or None (no priority)"
            raise DataError(msg)
        if not (np.isfinite(value) and value >= 0):
            msg = f"weights: weight {value!r} for priority {key} must be a number >= 0"
            raise DataError(msg)
        table[key] = float(value)
    return np.array([table.get(p, table[None]) for p in zones.priority], dtype=np.float64)


def demand(zones: ZoneNodes, *, weights: Weights | None = None) -> Demand:
    """Return the demand items of ``zones`` (see :class:`Demand`)."""
    zw = zone_weights(zones, weights=weights)
    sizes = np.array([len(n) for n in zones.nodes], dtype=np.int64)
    zone = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    node = (np.concatenate(zones.nodes).astype(np.int64) if len(sizes)
            else np.empty(0, dtype=np.int64))
    return Demand(zones=zones, zone=zone, node=node, weight=zw[zone],
                  target_min=np.asarray(zones.target_min, dtype=np.float64)[zone],
                  zone_weight=zw)


def covered(d: Demand, seconds: FloatArray) -> BoolArray:
    """Return, per item, whether its node's response time is within its zone's target.

    The test is ``seconds / 60 <= target_min``, the one the zone table uses.
    """
    return np.asarray(seconds[d.node] / 60.0 <= d.target_min)


def lost_items(d: Demand, hit: BoolArray, nodes: IntArray, seconds: FloatArray) -> IntArray:
    """Return the items covered before (``hit``) that are no longer covered once ``nodes``
    take the new ``seconds`` (ascending item indices; other nodes keep their time).

    The same test as :func:`covered`, on just the items standing on ``nodes``.
    """
    items, pos = d.items_at(nodes)
    after = seconds[pos] / 60.0 <= d.target_min[items]
    return items[hit[items] & ~after]


def objective(d: Demand, seconds: FloatArray) -> float:
    """Return the objective: the summed weight of the items covered within target."""
    return float(d.weight[covered(d, seconds)].sum())


def zone_objective(d: Demand, seconds: FloatArray) -> FloatArray:
    """Return each zone's part of the objective (weight x its nodes covered)."""
    hit = covered(d, seconds)
    per_zone = np.bincount(d.zone, weights=d.weight * hit, minlength=len(d.zone_weight))
    return np.asarray(per_zone, dtype=np.float64)



def demand_weight(priority: int | None) -> int:
    """Backfill demand weight of a zone priority (DATA.md): 3, 2, 1; none counts 3."""
    if priority is None:
        return settings.UNPRIORITISED_WEIGHT
    return int(settings.PRIORITY_WEIGHTS.get(int(priority), settings.UNPRIORITISED_WEIGHT))


def gap_order(table: pd.DataFrame) -> pd.DataFrame:
    """Return the zones with a gap, most urgent first.

    Ordered by priority (1 first; a zone without priority ranks with priority 1, as its
    demand weight does), then lowest covered share, then largest officer shortfall, then
    slowest p90.
    """
    gaps = table.loc[table["gap"]].copy()
    gaps["_rank"] = [-demand_weight(None if pd.isna(p) else int(p)) for p in gaps["priority"]]
    gaps["_short"] = (gaps["min_officers"] - gaps["officers_within_target"]).clip(lower=0)
    gaps["_p90"] = gaps["p90_min"].astype("float64").fillna(np.inf)
    gaps = gaps.sort_values(
        ["_rank", "covered_share", "_short", "_p90", "zone_id"],
        ascending=[True, True, False, False, True],
        kind="stable",
    )
    return gaps.drop(columns=["_rank", "_short", "_p90"])


@dataclass(frozen=True)
class Overall:
    """Figures over all zones and the whole network."""

    zones: int
    zones_with_gap: int
    zone_nodes: int
    covered_share: float
    officers_short: int
    worst_zone: str | None
    worst_p90_min: float | None
    network_nodes: int
    network_unreachable_nodes: int
    network_p50_min: float | None
    network_p90_min: float | None


def overall(tt: TravelTimes, table: pd.DataFrame) -> Overall:
    """Summarise a zone table: gaps, node-weighted covered share, worst zone by p90.

    ``covered_share`` is over all zone nodes (each zone's nodes weighted equally); the worst
    zone is the one with the slowest p90 (an unreachable p90 counts as slowest).
    """
    nodes = int(table["nodes"].sum())
    covered = float((table["covered_share"] * table["nodes"]).sum() / nodes) if nodes else 0.0
    short = (table["min_officers"] - table["officers_within_target"]).clip(lower=0)
    worst: str | None = None
    worst_p90: float | None = None
    if len(table):
        p90 = table["p90_min"].astype("float64").fillna(np.inf)
        z = int(np.argmax(p90.to_numpy()))
        worst = str(table["zone_id"].iloc[z])
        worst_p90 = None if not np.isfinite(p90.iloc[z]) else float(p90.iloc[z])
    minutes = tt.minutes
    net_p50, net_p90 = _percentiles(minutes, (50, 90))
    return Overall(
        zones=len(table),
        zones_with_gap=int(table["gap"].sum()),
        zone_nodes=nodes,
        covered_share=covered,
        officers_short=int(short.sum()),
        worst_zone=worst,
        worst_p90_min=worst_p90,
        network_nodes=int(minutes.size),
        network_unreachable_nodes=tt.unreachable,
        network_p50_min=net_p50,
        network_p90_min=net_p90,
    )
