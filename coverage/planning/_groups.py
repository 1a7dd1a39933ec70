"""Bounded backward searches from many nearby nodes at once (plumbing of cover.py).

:func:`reach_grouped` gives exactly what :func:`coverage.engine.traveltime.reach_to` gives
(per target, the nodes reaching it within its limit, ascending, with their seconds), but
searches the targets of one small square cell together: the road nodes around the cell
are cut out once, and one scipy ``dijkstra`` call with the cell's targets as sources and
the cell's largest limit runs on them. A bounded search gives exactly the unbounded
search's seconds within its limit, so each target keeps the nodes within its own limit.
A target's row is accepted only when no edge leaving the cut-out area could still arrive
within its limit (a shortest path leaving the area would have to cross such an edge);
other targets, and cells whose area would hold most of the network, go to ``reach_to``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import FloatArray, IntArray, RoadNetwork
from coverage.engine.traveltime import Reach, reach_to

#: Share of the top-speed radius (limit x top speed) cut out around each target.
SHARE = 0.8

#: Side of a cell, as a share of the cut-out radius of the cell's largest limit.
CELL = 0.5

#: Most targets searched in one call (memory: targets x cut-out nodes float64).
MOST = 64

_M_PER_DEG = 111_195.0  # metres per degree of latitude (mean earth radius); grouping only


def reach_grouped(net: RoadNetwork, targets: npt.ArrayLike, *,
                  limit_s: npt.ArrayLike) -> Reach:
    """Return the same :class:`~coverage.engine.traveltime.Reach` as ``reach_to``."""
    tgt = np.asarray(targets, dtype=np.int64)
    limits = np.asarray(np.broadcast_to(np.asarray(limit_s, dtype=np.float64), tgt.shape),
                        dtype=np.float64).copy()
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []  # (target position, node, secs)
    rest: list[IntArray] = []
    for group in _cells(net, tgt, limits):
        found = _search(net, tgt[group], limits[group])
        if found is None:
            rest.append(group)
            continue
        done, row, node, secs = found
        parts.append((group[row], node, secs))
        rest.append(group[~done])
    left = np.concatenate(rest) if rest else np.empty(0, np.int64)
    if left.size:
        back = reach_to(net, tgt[left], limit_s=limits[left])
        parts.append((np.repeat(left, np.diff(back.indptr)), back.node, back.seconds))
    pos = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    node = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    secs = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
    order = np.argsort(pos, kind="stable")  # each target's nodes stay ascending
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pos, minlength=tgt.size))])
    return Reach(n_nodes=net.n_nodes, targets=tgt, limit_s=limits,
                 indptr=indptr.astype(np.int64), node=node[order].astype(np.int64),
                 seconds=secs[order])


def _cells(net: RoadNetwork, tgt: IntArray, limits: FloatArray) -> list[IntArray]:
    """Positions of the targets, grouped by square cells (at most :data:`MOST` each)."""
    if tgt.size == 0:
        return []
    side = max(CELL * SHARE * float(limits.max()) * net.max_speed_mps, 1.0)
    lat0 = float(np.median(net.lat[tgt]))
    x = net.lon[tgt] * np.cos(np.radians(lat0)) * _M_PER_DEG / side
    y = net.lat[tgt] * _M_PER_DEG / side
    cx, cy = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    order = np.lexsort((cy, cx))
    key = np.stack([cx[order], cy[order]], axis=1)
    new = np.flatnonzero(np.any(key[1:] != key[:-1], axis=1)) + 1
    groups = []
    for cell in np.split(order, new):
        groups += [cell[lo:lo + MOST] for lo in range(0, cell.size, MOST)]
    return groups


def _haversine_m(lon0: float, lat0: float, lon: FloatArray, lat: FloatArray) -> FloatArray:
    p0, p = np.radians(lat0), np.radians(lat)
    h = np.sin((p - p0) / 2) ** 2 + np.cos(p0) * np.cos(p) * np.sin(np.radians(lon - lon0) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def _search(net: RoadNetwork, nodes: IntArray, limits: FloatArray,
            ) -> tuple[np.ndarray, IntArray, IntArray, FloatArray] | None:
    """(accepted rows, and for them: row, node, seconds) of one cell's targets; None when
    the cut-out area would hold most of the network."""
    big = float(limits.max())
    mid = int(nodes[np.argmin(_haversine_m(float(net.lon[nodes].mean()),
                                           float(net.lat[nodes].mean()),
                                           net.lon[nodes], net.lat[nodes]))])
    spread = float(_haversine_m(float(net.lon[mid]), float(net.lat[mid]), net.lon[nodes],
                                net.lat[nodes]).max())
    radius = spread + SHARE * big * net.max_speed_mps
    if not np.isfinite(radius):
        return None
    area = np.sort(net.nodes_within(mid, radius * (1 + 1e-6) + 1.0))
    if area.size > net.n_nodes // 2:
        return None
    g = net.csr_reverse
    starts, stops = g.indptr[area], g.indptr[area + 1]
    counts = stops - starts
    pos = np.repeat(stops - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
    head = g.indices[pos]
    at = np.minimum(np.searchsorted(area, head), area.size - 1)
    inside = area[at] == head
    weights = g.data[pos]
    row_of = np.repeat(np.arange(area.size), counts)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of[inside],
                                                        minlength=area.size))])
    sub = sp.csr_array((weights[inside], at[inside], indptr), shape=(area.size, area.size))
    dist = dijkstra(sub, directed=True, indices=np.searchsorted(area, nodes), limit=big)
    out_row, out_w = row_of[~inside], weights[~inside]
    done = ~np.any(dist[:, out_row] + out_w[None, :] <= limits[:, None], axis=1)
    row, col = np.nonzero((dist <= limits[:, None]) & done[:, None])
    return done, row, area[col], dist[row, col]
