"""Road closures: a new road network without the edges a barrier what-if closes.

Nodes keep their indices, so zone nodes, unit nodes and anchors found on the open network
stay valid; only the edges (and their shapes) change, and the copy compiles its own CSR.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import shapely

from coverage.data.network import RoadNetwork
from coverage.errors import DataError

logger = logging.getLogger(__name__)


def close_roads(
    net: RoadNetwork,
    *,
    pairs: tuple[tuple[int, int], ...] = (),
    areas: tuple[str, ...] = (),
) -> RoadNetwork:
    """Return a new network without the closed edges; nodes keep their indices.

    ``pairs`` are node ids whose edges (both directions) close; ``areas`` WKT polygons
    whose touching edges close. Raises DataError for an unknown node or a pair that no
    edge joins. ``net`` is not modified.
    """
    closed = np.zeros(net.n_edges, dtype=bool)
    problems = []
    if pairs:
        order = np.argsort(net.node_id)
        ids = np.asarray(pairs, dtype=np.int64)
        pos = np.clip(np.searchsorted(net.node_id, ids, sorter=order), 0, net.n_nodes - 1)
        idx = order[pos]
        known = net.node_id[idx] == ids
        key = net.edge_u * net.n_nodes + net.edge_v
        for k, (u, v) in enumerate(pairs):
            if not known[k].all():
                problems.append(f"closed_roads[{k}]: node {ids[k][~known[k]][0]} is not in "
                                "the road network")
                continue
            a, b = idx[k]
            hit = (key == a * net.n_nodes + b) | (key == b * net.n_nodes + a)
            if not hit.any():
                problems.append(f"closed_roads[{k}]: no road joins nodes {u} and {v}")
            closed |= hit
    if problems:
        raise DataError("\n".join(f"scenario: field {p}" for p in problems))
    if areas:
        xy, off = net.geom_xy, net.geom_offsets
        box = [np.minimum.reduceat(xy[:, c], off[:-1]) for c in (0, 1)] + [
            np.maximum.reduceat(xy[:, c], off[:-1]) for c in (0, 1)]
        for wkt in areas:
            geom = shapely.from_wkt(wkt)
            x0, y0, x1, y1 = geom.bounds
            near = np.flatnonzero((box[0] <= x1) & (box[2] >= x0) & (box[1] <= y1)
                                  & (box[3] >= y0))
            lines = [shapely.LineString(net.edge_coords(int(k))) for k in near]
            closed[near[shapely.intersects(np.array(lines, dtype=object), geom)]] = True
    if not closed.any():
        return net
    keep = ~closed
    lengths = np.diff(net.geom_offsets)
    logger.info("closed %d of %d directed edges", int(closed.sum()), net.n_edges)
    return replace(
        net, edge_u=net.edge_u[keep], edge_v=net.edge_v[keep], length_m=net.length_m[keep],
        travel_time_s=net.travel_time_s[keep], highway=net.highway[keep], name=net.name[keep],
        geom_offsets=np.concatenate([[0], np.cumsum(lengths[keep])]).astype(np.int64),
        geom_xy=net.geom_xy[np.repeat(keep, lengths)],
        source=f"{net.source} ({int(closed.sum())} edges closed)",
    )
