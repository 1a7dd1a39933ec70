"""Criticality: what the objective loses when one officer (or two) is taken out.

Removing officer ``u`` can only change the nodes ``u`` is nearest to, so only the officers
nearest to some covered zone node are examined, each with one incremental
:func:`~coverage.engine.traveltime.removal` over its own area (work proportional to that
area, not to the network); the rest lose nothing. An officer's loss is the weight of zone
nodes that nobody else reaches within target; zones whose ``min_officers`` is met with no
slack depend on each officer counted there.

Examples
--------
In the tiny district every zone node is covered and weighs 3 (objective 12). Without B,
node 4 is lost (its one road leads away) and node 3 too (A needs 33 s, Z1 wants 30);
without D node 5 (B needs 27 + 7 s); without A nothing (B reaches node 1 in 60 s, within
Z2's 10 min), but A and B together also lose node 1.

>>> from coverage.data.examples import example_dataset
>>> from coverage.engine.analysis import analyse
>>> crit = criticality(analyse(example_dataset(), threshold_min=10))
>>> crit.objective
12.0
>>> crit.table[["officer_id", "zones_lost", "nodes_lost", "objective_lost"]]
  officer_id zones_lost  nodes_lost  objective_lost
0          B         Z1           2             6.0
1          D         Z1           1             3.0
2          A                      0             0.0
>>> crit.pairs.head(1)[["officer_a", "officer_b", "objective_lost", "extra_lost"]]
  officer_a officer_b  objective_lost  extra_lost
0         B         A             9.0         3.0
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.engine.analysis import Coverage
from coverage.engine.metrics import lost_items, within_target
from coverage.engine.traveltime import removal
from coverage.planning.objective import Weights, as_number, covered, demand

logger = logging.getLogger(__name__)

TABLE_COLUMNS = (
    "rank", "officer_id", "station_id", "node_id", "lon", "lat", "objective_lost",
    "nodes_lost", "zones_lost", "officers_short_added", "zones_at_minimum", "objective_served",
)


@dataclass(frozen=True, eq=False)
class Criticality:
    """Per-officer losses, single points of failure and the worst pairs.

    ``table``: one row per available officer (columns :data:`TABLE_COLUMNS`), most critical
    first: by ``objective_lost``, then ``officers_short_added``, then ``objective_served``
    (the weight of covered zone nodes the officer is nearest to). ``single_points``: one
    row per (zone, officer) where the officer alone covers some of the zone's nodes
    (``kind`` ``"sole_cover"``, ``nodes`` how many) or the zone has exactly its
    ``min_officers`` within target, this officer among them (``"at_minimum"``). ``pairs``:
    every pair among the ``top_n`` most critical, worst first, with ``extra_lost`` (lost
    only when both go).
    """

    objective: float
    table: pd.DataFrame
    single_points: pd.DataFrame
    pairs: pd.DataFrame


def criticality(cov: Coverage, *, weights: Weights | None = None, top_n: int = 10) -> Criticality:
    """Return the criticality of every available officer in ``cov`` (see :class:`Criticality`).

    Exact: each examined officer's loss equals the drop in the objective of a full run
    without that officer.
    """
    dem = demand(cov.zones, weights=weights)
    tt = cov.times
    hit = covered(dem, tt.seconds)
    base = float(dem.weight[hit].sum())
    n_units = len(tt.unit_ids)
    near = tt.nearest[dem.node]
    mine = hit & (near >= 0)
    served = np.bincount(near[mine], weights=dem.weight[mine], minlength=n_units)
    loss = np.zeros(n_units)
    nodes_lost = np.zeros(n_units, dtype=np.int64)
    lost_in: list[dict[int, int]] = [{} for _ in range(n_units)]
    for u in np.unique(near[mine]).tolist():
        change = removal(tt, [tt.unit_ids[u]])
        gone = lost_items(dem, hit, change.nodes, change.seconds)
        loss[u] = float(dem.weight[gone].sum())
        nodes_lost[u] = int(gone.size)
        zs, n = np.unique(dem.zone[gone], return_counts=True)
        lost_in[u] = dict(zip(zs.tolist(), n.tolist(), strict=True))
    counts = within_target(cov.zones, cov.reach_s, tt.unit_nodes, tt.delay_s)
    within = counts.sum(axis=1)
    need = np.asarray(cov.zones.min_officers, dtype=np.int64)
    short_added = (counts & (within <= need)[:, None]).sum(axis=0)
    at_min = counts & ((within == need) & (need > 0))[:, None]
    zid = cov.zones.zone_id
    net = tt.network
    station = dict(zip(cov.units.officer_id, cov.units.station_id, strict=True))
    table = pd.DataFrame({
        "officer_id": list(tt.unit_ids),
        "station_id": [station.get(o, "") for o in tt.unit_ids],
        "node_id": net.node_id[tt.unit_nodes],
        "lon": net.lon[tt.unit_nodes], "lat": net.lat[tt.unit_nodes],
        "objective_lost": loss, "nodes_lost": nodes_lost,
        "zones_lost": [",".join(zid[z] for z in sorted(d)) for d in lost_in],
        "officers_short_added": short_added.astype(np.int64),
        "zones_at_minimum": [",".join(zid[z] for z in np.flatnonzero(at_min[:, u]))
                             for u in range(n_units)],
        "objective_served": served,
    })
    table = table.sort_values(
        ["objective_lost", "officers_short_added", "objective_served", "officer_id"],
        ascending=[False, False, False, True], kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    points = [
        {"zone_id": zid[z], "officer_id": tt.unit_ids[u], "kind": "sole_cover", "nodes": n}
        for u in range(n_units) for z, n in lost_in[u].items()
    ] + [
        {"zone_id": zid[z], "officer_id": tt.unit_ids[u], "kind": "at_minimum",
         "nodes": 0} for z, u in zip(*np.nonzero(at_min), strict=True)
    ]
    single = pd.DataFrame(points, columns=["zone_id", "officer_id", "kind", "nodes"])
    single = single.sort_values(["zone_id", "kind", "officer_id"], kind="stable")
    pairs = _pairs(cov, dem, hit, table, counts, within, need, top_n)
    logger.info("criticality: %d officers, %d critical, %d single points", n_units,
                int((loss > 0).sum()), len(single))
    return Criticality(objective=base, table=table, single_points=single.reset_index(drop=True),
                       pairs=pairs)


def _pairs(cov: Coverage, dem: Any, hit: np.ndarray, table: pd.DataFrame, counts: np.ndarray,
           within: np.ndarray, need: np.ndarray, top_n: int) -> pd.DataFrame:
    """Losses of every pair among the ``top_n`` most critical officers, worst first."""
    tt = cov.times
    index = {o: i for i, o in enumerate(tt.unit_ids)}
    single = dict(zip(table["officer_id"], table["objective_lost"], strict=True))
    short_now = np.maximum(need - within, 0).sum()
    rows = []
    for a, b in itertools.combinations(table["officer_id"].head(max(0, top_n)).tolist(), 2):
        change = removal(tt, [a, b])
        lost = float(dem.weight[lost_items(dem, hit, change.nodes, change.seconds)].sum())
        left = within - counts[:, index[a]] - counts[:, index[b]]
        rows.append({"officer_a": a, "officer_b": b, "objective_lost": lost,
                     "extra_lost": lost - single[a] - single[b],
                     "officers_short_added": int(np.maximum(need - left, 0).sum() - short_now)})
    out = pd.DataFrame(rows, columns=["officer_a", "officer_b", "objective_lost", "extra_lost",
                                      "officers_short_added"])
    return out.sort_values(["objective_lost", "extra_lost", "officers_short_added"],
                           ascending=False, kind="stable").reset_index(drop=True)


def criticality_layer(crit: Criticality) -> gpd.GeoDataFrame:
    """Return the officers table as a new point layer (EPSG:4326) at each officer's node."""
    return gpd.GeoDataFrame(crit.table.copy(),
                            geometry=gpd.points_from_xy(crit.table["lon"], crit.table["lat"]),
                            crs="EPSG:4326")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): as_number(v) if isinstance(v, float) else (
        v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")]


def criticality_dict(crit: Criticality, *, top: int | None = None) -> dict[str, Any]:
    """Return the JSON object of ``python -m coverage criticality`` (``top`` officers)."""
    officers = crit.table if top is None else crit.table.head(top)
    return {"objective": as_number(crit.objective), "officers": _records(officers),
            "single_points": _records(crit.single_points), "pairs": _records(crit.pairs)}


def criticality_table(crit: Criticality, *, top: int = 20) -> str:
    """Return the most critical officers, the single points and the worst pairs as text."""
    lines = [f"Objective {as_number(crit.objective)}; officers most critical first", ""]
    cols = ["rank", "officer_id", "station_id", "objective_lost", "nodes_lost",
            "officers_short_added", "zones_lost"]
    lines.append(crit.table.head(top)[cols].to_string(index=False))
    sole = crit.single_points.loc[crit.single_points["kind"] == "sole_cover"]
    lines += ["", f"Single points of failure: {len(sole)} (zone, officer) pair(s) where one "
              "officer alone covers zone nodes"]
    if len(sole):
        lines.append(sole.to_string(index=False))
    if len(crit.pairs):
        lines += ["", "Worst pairs", crit.pairs.head(top).to_string(index=False)]
    return "\n".join(lines)
