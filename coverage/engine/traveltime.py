"""Travel-time engine: minutes from the nearest available unit to every road node.

Shortest paths run on the compiled CSR graph with :func:`scipy.sparse.csgraph.dijkstra`
(multi-source, ``min_only``), so one call gives every node's time and its nearest unit, the
unit's area of responsibility. Removing units recomputes only the nodes whose nearest unit
was removed; adding units runs one search from the new units and keeps the better times.
A unit may carry a turnout delay (seconds before it starts moving): it then starts from a
virtual source node joined to its road node by an edge of that many seconds.

Examples
--------
>>> import networkx as nx
>>> from coverage.data.network import compile_graph
>>> G = nx.MultiDiGraph()
>>> G.add_nodes_from([(1, {"x": 0.0, "y": 0.0}), (2, {"x": 0.0, "y": 0.0})])
>>> _ = G.add_edge(1, 2, travel_time=90.0)
>>> tt = travel_times(compile_graph(G), ["A"], [0])
>>> tt.minutes.tolist()
[0.0, 1.5]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import FloatArray, IntArray, RoadNetwork, min_per_pair
from coverage.errors import GraphError

logger = logging.getLogger(__name__)

UNREACHED = -1


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Per node: seconds from the nearest available unit and which unit that is.

    ``seconds[i]`` is ``inf`` and ``nearest[i]`` is ``-1`` where no unit can reach node ``i``.
    ``nearest`` indexes ``unit_ids``/``unit_nodes``. ``delay_s`` holds each unit's turnout
    delay (seconds before it starts moving, included in ``seconds``); None means none.
    """

    network: RoadNetwork
    unit_ids: tuple[str, ...]
    unit_nodes: IntArray
    seconds: FloatArray
    nearest: IntArray
    delay_s: FloatArray | None = None

    @property
    def delays(self) -> FloatArray:
        """Turnout delay per unit in seconds (zeros when the units have none)."""
        if self.delay_s is None:
            return np.zeros(len(self.unit_ids))
        return self.delay_s

    @property
    def minutes(self) -> FloatArray:
        """Response time per node in minutes (``inf`` where unreachable)."""
        return self.seconds / 60.0

    @property
    def unreachable(self) -> int:
        """Number of nodes no unit can reach."""
        return int(np.count_nonzero(self.nearest == UNREACHED))

    @cached_property
    def unit_index(self) -> dict[str, tuple[int, ...]]:
        """The unit indices of each unit id."""
        index: dict[str, list[int]] = {}
        for i, uid in enumerate(self.unit_ids):
            index.setdefault(uid, []).append(i)
        return {uid: tuple(v) for uid, v in index.items()}

    @cached_property
    def areas(self) -> tuple[IntArray, IntArray]:
        """Each unit's area of responsibility: nodes ``order[ptr[u]:ptr[u + 1]]`` (ascending)
        are those whose nearest unit is ``u``."""
        n_units = len(self.unit_ids)
        mine = self.nearest >= 0
        order = np.flatnonzero(mine)
        order = order[np.argsort(self.nearest[order], kind="stable")]
        counts = np.bincount(self.nearest[mine], minlength=n_units)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return order.astype(np.int64), ptr

    @cached_property
    def units_by_node(self) -> tuple[IntArray, IntArray]:
        """Unit indices ordered by their node, and those nodes (ascending)."""
        order = np.argsort(self.unit_nodes, kind="stable").astype(np.int64)
        return order, np.asarray(self.unit_nodes[order], dtype=np.int64)

    @cached_property
    def nearest_unit_id(self) -> npt.NDArray[np.object_]:
        """Officer id of each node's nearest unit (None where unreachable)."""
        ids = np.array([*self.unit_ids, None], dtype=object)
        return np.asarray(ids[np.where(self.nearest >= 0, self.nearest, len(self.unit_ids))])


def _check_nodes(net: RoadNetwork, nodes: IntArray, what: str) -> None:
    if nodes.size and (nodes.min() < 0 or nodes.max() >= net.n_nodes):
        msg = f"{what}: node index out of range 0..{net.n_nodes - 1}"
        raise GraphError(msg)


def _search(
    graph: sp.csr_array, sources: IntArray, *, limit: float = np.inf
) -> tuple[FloatArray, IntArray]:
    """Multi-source Dijkstra: seconds to every node and the source node that wins (-1: none)."""
    if sources.size == 0:
        n = graph.shape[0]
        return np.full(n, np.inf), np.full(n, UNREACHED, dtype=np.int64)
    dist, _pred, src = dijkstra(
        graph, directed=True, indices=sources, min_only=True, return_predecessors=True,
        limit=limit,
    )
    won = np.asarray(src, dtype=np.int64)
    won[won < 0] = UNREACHED
    return np.asarray(dist, dtype=np.float64), won


def _check_delays(delay_s: npt.ArrayLike | None, n: int) -> FloatArray | None:
    """Return the delays as a float array (None when absent or all zero); raise if invalid."""
    if delay_s is None:
        return None
    delays = np.asarray(np.broadcast_to(np.asarray(delay_s, dtype=np.float64), (n,)),
                        dtype=np.float64).copy()
    if delays.size and not (np.isfinite(delays).all() and (delays >= 0).all()):
        msg = "delay_s: turnout delays must be finite numbers of seconds >= 0"
        raise GraphError(msg)
    return delays if delays.any() else None


def with_sources(graph: sp.csr_array, nodes: IntArray, weights: FloatArray) -> sp.csr_array:
    """Return a new CSR graph with one virtual node ``n + i`` per source and an edge
    ``n + i -> nodes[i]`` of ``weights[i]`` seconds (``n`` = nodes of ``graph``).

    Searching from the virtual nodes starts each source ``weights[i]`` seconds late; the
    original nodes keep their indices.
    """
    n, m = graph.shape[0], len(nodes)
    indptr = np.concatenate([graph.indptr, graph.indptr[-1] + np.arange(1, m + 1)])
    indices = np.concatenate([graph.indices, np.asarray(nodes, dtype=graph.indices.dtype)])
    data = np.concatenate([graph.data, np.asarray(weights, dtype=np.float64)])
    return sp.csr_array((data, indices, indptr), shape=(n + m, n + m))


def _delayed_search(
    net: RoadNetwork, nodes: IntArray, delays: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Multi-source search where unit ``i`` leaves ``delays[i]`` s late: seconds, unit index."""
    n = net.n_nodes
    pairs = np.column_stack([nodes.astype(np.float64), delays])
    _, first = np.unique(pairs, axis=0, return_index=True)  # one source per (node, delay)
    first = np.sort(first)
    graph = with_sources(net.csr, nodes[first], delays[first])
    seconds, src = _search(graph, np.arange(n, n + first.size, dtype=np.int64))
    unit = np.where(src >= n, first[np.maximum(src - n, 0)], UNREACHED)
    return seconds[:n], unit[:n]


def travel_times(
    net: RoadNetwork,
    unit_ids: Sequence[str],
    unit_nodes: npt.ArrayLike,
    *,
    delay_s: npt.ArrayLike | None = None,
) -> TravelTimes:
    """Return the time from the nearest unit to every node of ``net``.

    Parameters
    ----------
    net
        The compiled road network.
    unit_ids
        One id per available unit.
    unit_nodes
        The node index each unit stands at (see :meth:`RoadNetwork.nearest_nodes`).
        Where several units share a node (and delay), the first listed is that node's
        nearest unit.
    delay_s
        Optional turnout delay per unit (or one for all), seconds >= 0: the unit starts
        moving that long after the call, so its own node is reached at ``delay_s``.

    Returns
    -------
    TravelTimes
        With no units every node is unreachable (``inf``): a valid, empty answer.
    """
    nodes = np.asarray(unit_nodes, dtype=np.int64)
    if len(unit_ids) != len(nodes):
        msg = f"unit_ids has {len(unit_ids)} entries but unit_nodes has {len(nodes)}"
        raise GraphError(msg)
    _check_nodes(net, nodes, "unit_nodes")
    delays = _check_delays(delay_s, len(nodes))
    if delays is not None:
        seconds, nearest = _delayed_search(net, nodes, delays)
        return TravelTimes(net, tuple(unit_ids), nodes, seconds, nearest, delays)
    uniq, first = np.unique(nodes, return_index=True)
    seconds, src = _search(net.csr, uniq)
    owner = np.full(net.n_nodes, UNREACHED, dtype=np.int64)
    owner[uniq] = first
    nearest = np.where(src >= 0, owner[np.maximum(src, 0)], UNREACHED)
    logger.debug("travel times from %d units over %d nodes", len(nodes), net.n_nodes)
    return TravelTimes(net, tuple(unit_ids), nodes, seconds, nearest)


@dataclass(frozen=True, eq=False)
class Removal:
    """What taking units out of a :class:`TravelTimes` changes, and nothing else.

    ``removed``: the units taken out (ascending indices into the original ``unit_ids``).
    ``nodes``: the nodes whose nearest unit was removed (ascending), the only ones whose
    figures change; ``seconds`` and ``nearest`` their new time and nearest unit, as an index
    into the original ``unit_ids`` (``-1``: no unit reaches the node any more).
    """

    removed: IntArray
    nodes: IntArray
    seconds: FloatArray
    nearest: IntArray


def removal(tt: TravelTimes, unit_ids: Sequence[str]) -> Removal:
    """Return what removing ``unit_ids`` changes (see :class:`Removal`); unknown ids are ignored.

    The work is proportional to the removed units' areas (the nodes they are nearest to) and
    the edges into them, not to the whole network: a search over just those nodes starts
    from their boundary, each edge ``w -> x`` from a kept node into the area seeding ``x``
    at ``seconds[w] + t(w, x)`` on behalf of ``w``'s unit; a kept unit standing inside seeds
    its node at its delay. Nodes outside keep their time (removing units never shortens a
    path), so the result equals a full recomputation (ties aside).
    """
    index = tt.unit_index
    found = [i for uid in dict.fromkeys(unit_ids) for i in index.get(uid, ())]
    gone = np.unique(np.asarray(found, dtype=np.int64))
    if gone.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return Removal(removed=empty, nodes=empty, seconds=np.empty(0), nearest=empty)
    order, ptr = tt.areas
    area = np.sort(np.concatenate([order[ptr[u] : ptr[u + 1]] for u in gone.tolist()]))
    if area.size == 0:
        return Removal(removed=gone, nodes=area, seconds=np.empty(0),
                       nearest=np.empty(0, dtype=np.int64))
    seconds, nearest = _reseed(tt, area, gone)
    return Removal(removed=gone, nodes=area, seconds=seconds, nearest=nearest)


def without_units(tt: TravelTimes, unit_ids: Sequence[str]) -> TravelTimes:
    """Return new travel times with ``unit_ids`` removed, recomputing only what they served.

    See :func:`removal`, which gives only the changed nodes (cheaper when that is all a
    caller needs). The result equals a full recomputation (ties aside). Unknown ids are
    ignored.
    """
    return apply_removal(tt, removal(tt, unit_ids))


def apply_removal(tt: TravelTimes, change: Removal) -> TravelTimes:
    """Return new travel times: ``tt`` with the :class:`Removal` ``change`` applied."""
    if change.removed.size == 0:
        return tt
    keep = np.ones(len(tt.unit_ids), dtype=bool)
    keep[change.removed] = False
    keep_idx = np.flatnonzero(keep)
    renumber = np.full(len(tt.unit_ids) + 1, UNREACHED, dtype=np.int64)
    renumber[keep_idx] = np.arange(keep_idx.size)
    old_nearest = tt.nearest
    nearest = renumber[np.where(old_nearest >= 0, old_nearest, len(tt.unit_ids))]
    seconds = tt.seconds.copy()
    seconds[change.nodes] = change.seconds
    nearest[change.nodes] = renumber[np.where(change.nearest >= 0, change.nearest,
                                              len(tt.unit_ids))]
    delays = None if tt.delay_s is None else tt.delay_s[keep_idx]
    return TravelTimes(tt.network, tuple(tt.unit_ids[i] for i in keep_idx),
                       tt.unit_nodes[keep_idx], seconds, nearest, delays)


def _rows(graph: sp.csr_array, rows: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Entries of ``graph``'s ``rows``: position in ``rows``, column and value of each."""
    starts = np.asarray(graph.indptr[rows], dtype=np.int64)
    stops = np.asarray(graph.indptr[rows + 1], dtype=np.int64)
    counts = stops - starts
    pos = np.repeat(stops - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
    row_of = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    return row_of, np.asarray(graph.indices[pos], dtype=np.int64), graph.data[pos]


def _reseed(tt: TravelTimes, area: IntArray, gone: IntArray) -> tuple[FloatArray, IntArray]:
    """Search the affected ``area`` (ascending) from its boundary: seconds, old unit index."""
    a = area.size
    to_x, from_u, w = _rows(tt.network.csr_reverse, area)  # edges from_u -> area[to_x]
    pos = np.minimum(np.searchsorted(area, from_u), a - 1)
    inside = area[pos] == from_u
    # seeds: boundary edges from a kept, reachable node, and kept units standing inside the area
    border = ~inside & np.isfinite(tt.seconds[from_u])
    seed_unit = tt.nearest[from_u[border]]
    seed_x = to_x[border]
    seed_w = tt.seconds[from_u[border]] + w[border]
    by_node, sorted_nodes = tt.units_by_node
    lo = np.searchsorted(sorted_nodes, area, side="left")
    hi = np.searchsorted(sorted_nodes, area, side="right")
    there = np.repeat(np.arange(a), hi - lo)
    units = by_node[np.repeat(hi - np.cumsum(hi - lo), hi - lo) + np.arange(there.size)]
    standing = ~np.isin(units, gone)
    seed_unit = np.concatenate([seed_unit, units[standing]])
    seed_x = np.concatenate([seed_x, there[standing]])
    seed_w = np.concatenate([seed_w, tt.delays[units[standing]]])
    labels, virtual = np.unique(seed_unit, return_inverse=True)
    n_sub = a + labels.size
    # Inside edges come from the CSR (one per node pair); only seeds can repeat a pair.
    v_rows, v_cols, v_vals = min_per_pair(a + virtual, seed_x, seed_w)
    rows = np.concatenate([pos[inside], v_rows])
    cols = np.concatenate([to_x[inside], v_cols])
    vals = np.concatenate([w[inside], v_vals])
    sub = sp.csr_array((vals, (rows, cols)), shape=(n_sub, n_sub))
    dist, src = _search(sub, np.arange(a, n_sub, dtype=np.int64))
    src = src[:a]
    unit = np.full(a, UNREACHED, dtype=np.int64)
    won = src >= a
    unit[won] = labels[src[won] - a]
    return dist[:a], unit


def with_units(
    tt: TravelTimes,
    unit_ids: Sequence[str],
    unit_nodes: npt.ArrayLike,
    *,
    delay_s: npt.ArrayLike | None = None,
) -> TravelTimes:
    """Return new travel times with units added (e.g. deployed reserves).

    One multi-source search from the new units (each ``delay_s`` late, if given); a node
    takes a new unit only where it is strictly faster, so existing assignments are kept on
    ties.
    """
    nodes = np.asarray(unit_nodes, dtype=np.int64)
    if len(unit_ids) != len(nodes):
        msg = f"unit_ids has {len(unit_ids)} entries but unit_nodes has {len(nodes)}"
        raise GraphError(msg)
    if nodes.size == 0:
        return tt
    net = tt.network
    _check_nodes(net, nodes, "unit_nodes")
    added = travel_times(net, list(unit_ids), nodes, delay_s=delay_s)
    better = added.seconds < tt.seconds
    seconds = np.where(better, added.seconds, tt.seconds)
    offset = len(tt.unit_ids)
    nearest = np.where(better, added.nearest + offset, tt.nearest)
    delays = None
    if tt.delay_s is not None or added.delay_s is not None:
        delays = np.concatenate([tt.delays, added.delays])
    return TravelTimes(
        net, (*tt.unit_ids, *unit_ids), np.concatenate([tt.unit_nodes, nodes]), seconds,
        nearest, delays,
    )


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
    _check_nodes(net, src, "sources")
    delays = _check_delays(delay_s, src.size)
    cols = None if columns is None else np.asarray(columns, dtype=np.int64)
    width = net.n_nodes if cols is None else cols.size
    out = np.full((src.size, width), np.inf)
    if src.size == 0:
        return out
    if math.isfinite(float(limit_s)) and math.isfinite(float(limit_s) * net.max_speed_mps):
        search = _Bounded(net, net.csr)
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
    _check_nodes(net, tgt, "targets")
    search = _Bounded(net, net.csr_reverse)
    parts = [search.run(node, limit) for node, limit in zip(tgt.tolist(), limits.tolist(),
                                                            strict=True)]
    sizes = np.array([p[0].size for p in parts], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    empty_i, empty_f = np.empty(0, dtype=np.int64), np.empty(0)
    return Reach(n_nodes=net.n_nodes, targets=tgt, limit_s=limits, indptr=indptr,
                 node=np.concatenate([p[0] for p in parts]) if parts else empty_i,
                 seconds=np.concatenate([p[1] for p in parts]) if parts else empty_f)


class _Bounded:
    """Time-limited single-source searches on ``graph`` (the CSR or its reverse), each on the
    nodes within reach by straight-line top speed, checked exact (see :func:`reach_to`)."""

    def __init__(self, net: RoadNetwork, graph: sp.csr_array) -> None:
        self.net = net
        self.graph = graph
        self.speed = net.max_speed_mps
        self.local = np.full(net.n_nodes, UNREACHED, dtype=np.int64)  # scratch, kept -1
        self.share = 0.5  # of the top-speed radius tried first; 1 once a try fell short

    def run(self, node: int, limit: float, delay: float = 0.0) -> tuple[IntArray, FloatArray]:
        """Nodes within ``limit`` s of ``node`` (leaving ``delay`` s late), ascending, and
        their seconds (the delay included, summed first as a virtual edge)."""
        bound = limit * self.speed
        radius = max(1.0, self.share * bound) if math.isfinite(bound) else math.inf
        n = self.net.n_nodes
        while math.isfinite(radius):
            area = self.net.nodes_within(node, radius)
            if area.size > n // 2:
                break
            found = self._local(node, area, limit, delay)
            if found is not None:
                return found
            if radius < bound:
                self.share = 1.0
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
        g, local = self.graph, self.local
        local[area] = np.arange(area.size)
        try:
            starts, stops = g.indptr[area], g.indptr[area + 1]
            counts = stops - starts
            # positions of area's rows in the CSR, row after row
            pos = np.repeat(stops - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
            cols = local[g.indices[pos]]
            start = int(local[node])
        finally:
            local[area] = UNREACHED
        weights = g.data[pos]
        inside = cols >= 0
        row_of = np.repeat(np.arange(area.size), counts)
        rows_in, cols_in, w_in = row_of[inside], cols[inside], weights[inside]
        size = area.size
        if delay:  # a virtual start joined to the node by the delay, as with_sources does
            rows_in = np.concatenate([rows_in, [size]])
            cols_in = np.concatenate([cols_in, [start]])
            w_in = np.concatenate([w_in, [delay]])
            start, size = size, size + 1
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows_in, minlength=size))])
        order = np.argsort(rows_in, kind="stable")
        sub = sp.csr_array((w_in[order], cols_in[order], indptr), shape=(size, size))
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
    _check_nodes(net, tgt, "targets")
    out = np.full((tgt.size, net.n_nodes), np.inf)
    for z, (node, limit) in enumerate(zip(tgt, limits, strict=True)):
        out[z] = dijkstra(net.csr_reverse, directed=True, indices=[int(node)],
                          limit=float(limit))[0]
    return out
