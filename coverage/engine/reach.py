"""Reach: time-limited searches from or to chosen nodes (zone anchors, candidate sites).

:func:`reach_to` gives, for each target, the nodes that reach it within a limit (sparse
:class:`Reach`); :func:`times_from` the seconds from each source to every node (or to chosen
columns); :func:`times_to` the dense matrix to each target (small networks). Each
time-limited search runs on the nodes within reach by straight-line top speed and is
checked exact (see :func:`reach_to`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import FloatArray, IntArray, RoadNetwork
from coverage.engine.search import UNREACHED, check_delays, check_nodes, with_sources


def times_from(
    net: RoadNetwork,
    sources: npt.ArrayLike,
    *,
    delay_s: npt.ArrayLike | None = None,
    limit_s: float = np.inf,
    columns: npt.ArrayLike | None = None,
    chunk: int = 64,
) -> FloatArray:
    """Return seconds from each source (leaving ``delay_s`` late) to every node, or ``columns``.

    Row ``i`` holds the travel time from ``sources[i]`` to each node (or to each node in
    ``columns``), its delay included; times beyond ``limit_s`` are ``inf``. The sums are
    formed as in :func:`travel_times` (delay first, then edge by edge), so comparing the two
    is exact. With a finite ``limit_s`` each source is searched on the nodes it can reach
    (see :func:`reach_to`); otherwise ``chunk`` sources at a time on the whole graph.
    """
    src = np.asarray(sources, dtype=np.int64)
    check_nodes(net, src, "sources")
    delays = check_delays(delay_s, src.size)
    cols = None if columns is None else np.asarray(columns, dtype=np.int64)
    width = net.n_nodes if cols is None else cols.size
    out = np.full((src.size, width), np.inf)
    if src.size == 0:
        return out
    if math.isfinite(float(limit_s)) and math.isfinite(float(limit_s) * net.max_speed_mps):
        search = Bounded(net, net.csr)
        scratch = np.full(net.n_nodes, np.inf)
        want = np.arange(net.n_nodes) if cols is None else cols
        for i, node in enumerate(src.tolist()):
            delay = 0.0 if delays is None else float(delays[i])
            found, seconds = search.run(node, float(limit_s), delay)
            scratch[found] = seconds
            out[i] = scratch[want]
            scratch[found] = np.inf
        return out
    graph, starts = net.csr, src
    if delays is not None:
        graph = with_sources(net.csr, src, delays)
        starts = np.arange(net.n_nodes, net.n_nodes + src.size, dtype=np.int64)
    for lo in range(0, src.size, max(1, chunk)):
        rows = dijkstra(graph, directed=True, indices=starts[lo : lo + chunk], limit=limit_s)
        rows = rows[:, : net.n_nodes]
        out[lo : lo + chunk] = rows if cols is None else rows[:, cols]
    return out


@dataclass(frozen=True, eq=False)
class Reach:
    """Sparse seconds from nodes to each target, kept only within the target's limit.

    Row ``z`` lists the nodes that reach ``targets[z]`` within ``limit_s[z]``:
    ``node[indptr[z]:indptr[z + 1]]`` (ascending) and their ``seconds``. Every other node is
    beyond the limit (``inf``). Memory is proportional to the nodes within reach, not to
    targets x nodes.
    """

    n_nodes: int
    targets: IntArray
    limit_s: FloatArray
    indptr: IntArray
    node: IntArray
    seconds: FloatArray

    @property
    def shape(self) -> tuple[int, int]:
        """(targets, nodes), as the dense matrix would be."""
        return (self.targets.size, self.n_nodes)

    def row(self, z: int) -> tuple[IntArray, FloatArray]:
        """Nodes within reach of target ``z`` and their seconds."""
        lo, hi = int(self.indptr[z]), int(self.indptr[z + 1])
        return self.node[lo:hi], self.seconds[lo:hi]

    def at(self, nodes: npt.ArrayLike) -> FloatArray:
        """Return the dense targets x ``len(nodes)`` seconds (``inf`` beyond the limit)."""
        at = np.asarray(nodes, dtype=np.int64)
        out = np.full((self.targets.size, at.size), np.inf)
        if at.size == 0 or self.node.size == 0:
            return out
        uniq, inverse = np.unique(at, return_inverse=True)
        col = np.full(self.n_nodes, UNREACHED, dtype=np.int64)
        col[uniq] = np.arange(uniq.size)
        hit = col[self.node]
        mine = hit >= 0
        rows = np.repeat(np.arange(self.targets.size), np.diff(self.indptr))
        small = np.full((self.targets.size, uniq.size), np.inf)
        small[rows[mine], hit[mine]] = self.seconds[mine]
        out[:] = small[:, inverse]
        return out

    def within(self, nodes: npt.ArrayLike, *, delay_s: npt.ArrayLike | None = None,
               limit_s: npt.ArrayLike | None = None) -> npt.NDArray[np.bool_]:
        """Return targets x ``len(nodes)``: does ``nodes[u]``, leaving ``delay_s[u]`` late,
        reach target ``z`` within ``limit_s[z]`` (default: the reach's own limits)?

        Built from the stored entries only (no float matrix): memory is one bool per
        (target, node) pair asked for.
        """
        at = np.asarray(nodes, dtype=np.int64)
        z_count = self.targets.size
        out = np.zeros((z_count, at.size), dtype=bool)
        if at.size == 0 or self.node.size == 0:
            return out
        limits = self.limit_s if limit_s is None else np.asarray(limit_s, dtype=np.float64)
        uniq, inverse = np.unique(at, return_inverse=True)
        col = np.full(self.n_nodes, UNREACHED, dtype=np.int64)
        col[uniq] = np.arange(uniq.size)
        mine = np.flatnonzero(col[self.node] >= 0)  # entries at an asked node
        # each such entry once per asked position standing on its node
        by_uniq = np.argsort(inverse, kind="stable")
        ptr = np.concatenate([[0], np.cumsum(np.bincount(inverse, minlength=uniq.size))])
        first = ptr[col[self.node[mine]]]
        counts = ptr[col[self.node[mine]] + 1] - first
        entry = np.repeat(mine, counts)
        unit = by_uniq[np.repeat(first - (np.cumsum(counts) - counts), counts)
                       + np.arange(entry.size)]
        row = np.searchsorted(self.indptr, entry, side="right") - 1
        seconds = self.seconds[entry]
        if delay_s is not None:
            delays = np.broadcast_to(np.asarray(delay_s, dtype=np.float64), at.shape)
            seconds = seconds + delays[unit]
        hit = seconds <= limits[row]
        out[row[hit], unit[hit]] = True
        return out

    def dense(self) -> FloatArray:
        """Return the full targets x nodes matrix (small networks and tests only)."""
        return self.at(np.arange(self.n_nodes))


def reach_to(net: RoadNetwork, targets: npt.ArrayLike, *, limit_s: npt.ArrayLike) -> Reach:
    """Return, for each target, the nodes that reach it within ``limit_s`` and their seconds.

    The same figures as :func:`times_to`, without its targets x nodes matrix. Each target is
    searched against traffic on the road nodes within ``limit_s`` x the network's top speed
    (straight-line, :attr:`RoadNetwork.max_speed_mps`) around it, first on half that radius
    (the whole radius once a half fell short); a search is accepted only when no edge
    leaving its area could still arrive within the limit, which makes it exact (a shortest
    path leaving the area would have to cross such an edge). Where the area would hold
    most of the network, the whole graph is searched.
    """
    tgt = np.asarray(targets, dtype=np.int64)
    limits = np.asarray(np.broadcast_to(np.asarray(limit_s, dtype=np.float64), tgt.shape),
                        dtype=np.float64).copy()
    check_nodes(net, tgt, "targets")
    search = Bounded(net, net.csr_reverse)
    parts = [search.run(node, limit) for node, limit in zip(tgt.tolist(), limits.tolist(),
                                                            strict=True)]
    sizes = np.array([p[0].size for p in parts], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0)
    return Reach(n_nodes=net.n_nodes, targets=tgt, limit_s=limits, indptr=indptr,
                 node=np.concatenate([p[0] for p in parts]) if parts else empty_i,
                 seconds=np.concatenate([p[1] for p in parts]) if parts else empty_f)


class Bounded:
    """Time-limited single-source searches on ``graph`` (the CSR or its reverse), each on the
    nodes within reach by straight-line top speed, checked exact (see :func:`reach_to`)."""

    def __init__(self, net: RoadNetwork, graph: sp.csr_array) -> None:
        self.net = net
        self.graph = graph
        self.speed = net.max_speed_mps
        self.local = np.full(net.n_nodes, UNREACHED, dtype=np.int32)  # scratch, kept -1
        # Share of the top-speed radius tried first: half, widened by a quarter each time a
        # try falls short (a try costs about the square of its share), at most all of it.
        self.share = 0.5

    def run(self, node: int, limit: float, delay: float = 0.0) -> tuple[IntArray, FloatArray]:
        """Nodes within ``limit`` s of ``node`` (leaving ``delay`` s late), ascending, and
        their seconds (the delay included, summed first as a virtual edge)."""
        bound = limit * self.speed
        radius = max(1.0, self.share * bound) if math.isfinite(bound) else math.inf
        n = self.net.n_nodes
        while math.isfinite(radius):
            area = self.net.nodes_near(node, radius)
            if area.size > n // 2:
                break
            found = self._local(node, area, limit, delay)
            if found is not None:
                return found
            if radius < bound:
                self.share = min(1.0, self.share * 1.25)
            radius *= 2.0
        graph, start = self.graph, node
        if delay:
            graph = with_sources(self.graph, np.array([node]), np.array([delay]))
            start = n
        row = dijkstra(graph, directed=True, indices=[start], limit=limit)[0][:n]
        hit = np.flatnonzero(np.isfinite(row))
        return hit.astype(np.int64), row[hit]

    def _local(self, node: int, area: IntArray, limit: float,
               delay: float) -> tuple[IntArray, FloatArray] | None:
        """Search inside ``area`` only; None when that is not exact."""
        g, local, take = self.graph, self.local, np.take  # take: a cheaper fancy index
        local[area] = np.arange(area.size, dtype=np.int32)
        try:
            starts, stops = take(g.indptr, area), take(g.indptr, area + 1)
            counts = stops - starts
            # positions of area's rows in the CSR, row after row
            pos = np.repeat(stops - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
            cols = take(local, take(g.indices, pos))
            start = int(local[node])
        finally:
            local[area] = UNREACHED
        weights = take(g.data, pos)
        inside = cols >= 0
        row_of = np.repeat(np.arange(area.size, dtype=np.int32), counts)
        rows_in, cols_in, w_in = row_of[inside], cols[inside], weights[inside]
        size = area.size
        if delay:  # a virtual start joined to the node by the delay, as with_sources does
            rows_in = np.concatenate([rows_in, np.array([size], dtype=np.int32)])
            cols_in = np.concatenate([cols_in, np.array([start], dtype=np.int32)])
            w_in = np.concatenate([w_in, [delay]])
            start, size = size, size + 1
        # rows_in ascends already (area's rows in turn, then the virtual start)
        indptr = np.zeros(size + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows_in, minlength=size), out=indptr[1:])
        sub = sp.csr_array((w_in, cols_in, indptr), shape=(size, size))
        dist = dijkstra(sub, directed=True, indices=[start], limit=limit)[0][: area.size]
        leave = dist[row_of[~inside]] + weights[~inside]
        if np.any(leave <= limit):
            return None
        hit = np.flatnonzero(np.isfinite(dist))
        order = np.argsort(area[hit])
        return area[hit][order].astype(np.int64), dist[hit][order]


def times_to(
    net: RoadNetwork, targets: npt.ArrayLike, *, limit_s: npt.ArrayLike
) -> FloatArray:
    """Return seconds from every node to each target, searching against traffic.

    Row ``z`` of the result holds, for every node, the travel time from that node to
    ``targets[z]``; entries beyond ``limit_s[z]`` are ``inf`` (not searched further), so
    "within the target" reads ``row <= limit``. Memory: targets x nodes float64.
    """
    tgt = np.asarray(targets, dtype=np.int64)
    limits = np.broadcast_to(np.asarray(limit_s, dtype=np.float64), tgt.shape)
    check_nodes(net, tgt, "targets")
    out = np.full((tgt.size, net.n_nodes), np.inf)
    for z, (node, limit) in enumerate(zip(tgt, limits, strict=True)):
        out[z] = dijkstra(net.csr_reverse, directed=True, indices=[int(node)],
                          limit=float(limit))[0]
    return out
