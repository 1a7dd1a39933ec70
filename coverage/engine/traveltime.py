"""Travel-time engine: minutes from the nearest available unit to every road node.

One multi-source search on the compiled CSR graph
(:func:`coverage.engine.search.nearest_source`: delta-stepping in numpy on large graphs,
scipy's Dijkstra on small ones, the same seconds to the last bit) gives every node's time
and its nearest unit, the unit's area of responsibility. Removing units recomputes only the
nodes whose nearest unit was removed; adding units runs one search from the new units and
keeps the better times.
A unit may carry a turnout delay (seconds before it starts moving): it then starts from a
virtual source node joined to its road node by an edge of that many seconds. The
time-limited searches (:class:`Reach`, :func:`reach_to`, :func:`times_from`,
:func:`times_to`) live in :mod:`coverage.engine.reach` and are importable from here too.

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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from coverage.data.network import FloatArray, IntArray, RoadNetwork, min_per_pair
from coverage.engine.reach import Bounded, Reach, reach_to, times_from, times_to
from coverage.engine.search import (
    UNREACHED,
    check_delays,
    check_nodes,
    nearest_source,
    rows_of,
    with_sources,
)
from coverage.errors import GraphError

__all__ = [
    "UNREACHED",
    "Bounded",
    "Reach",
    "Removal",
    "TravelTimes",
    "apply_removal",
    "reach_to",
    "removal",
    "times_from",
    "times_to",
    "travel_times",
    "with_sources",
    "with_units",
    "without_units",
]

logger = logging.getLogger(__name__)



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


def _delayed_search(
    net: RoadNetwork, nodes: IntArray, delays: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Multi-source search where unit ``i`` leaves ``delays[i]`` s late: seconds, unit index."""
    n = net.n_nodes
    pairs = np.column_stack([nodes.astype(np.float64), delays])
    _, first = np.unique(pairs, axis=0, return_index=True)  # one source per (node, delay)
    first = np.sort(first)
    graph = with_sources(net.csr, nodes[first], delays[first])
    seconds, src = nearest_source(graph, np.arange(n, n + first.size, dtype=np.int64))
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
    check_nodes(net, nodes, "unit_nodes")
    delays = check_delays(delay_s, len(nodes))
    if delays is not None:
        seconds, nearest = _delayed_search(net, nodes, delays)
        return TravelTimes(net, tuple(unit_ids), nodes, seconds, nearest, delays)
    uniq, first = np.unique(nodes, return_index=True)
    seconds, src = nearest_source(net.csr, uniq)
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


def _reseed(tt: TravelTimes, area: IntArray, gone: IntArray) -> tuple[FloatArray, IntArray]:
    """Search the affected ``area`` (ascending) from its boundary: seconds, old unit index."""
    a = area.size
    to_x, from_u, w = rows_of(tt.network.csr_reverse, area)  # edges from_u -> area[to_x]
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
    dist, src = nearest_source(sub, np.arange(a, n_sub, dtype=np.int64))
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
    check_nodes(net, nodes, "unit_nodes")
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


