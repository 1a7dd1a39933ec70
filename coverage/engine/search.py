"""Search kernels: multi-source shortest paths on the compiled CSR graph.

:func:`nearest_source` gives every node its time from the nearest source and that source.
On a large graph it runs :func:`bucket_search`, a delta-stepping search written as numpy
array operations; on a small one :func:`scipy_search` (``scipy.sparse.csgraph.dijkstra``).
Both give the same seconds to the last bit: each node's time is the smallest, over all paths
from a source, of the path's edge times added one after the other from the source (a
label-correcting search and Dijkstra reach the same minimum, as adding a time >= 0 never
lowers a sum and the sums are formed in the same order). Only the winning source may differ
where two sources reach a node in exactly the same time.

Examples
--------
>>> import scipy.sparse as sp
>>> g = sp.csr_array(([5.0, 2.0, 1.0], ([0, 2, 1], [1, 1, 3])), shape=(4, 4))
>>> seconds, won = bucket_search(g, np.array([0, 2]))
>>> seconds.tolist(), won.tolist()
([0.0, 2.0, 0.0, 3.0], [0, 2, 2, 2])
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import FloatArray, IntArray, RoadNetwork
from coverage.errors import GraphError

UNREACHED = -1

#: Graphs with fewer nodes than this are searched by scipy's Dijkstra (a few numpy calls per
#: bucket cost more than the whole heap search there); larger ones by :func:`bucket_search`.
BUCKET_MIN_NODES = 50_000

#: Bucket width of :func:`bucket_search`, in median edge times: wider buckets need fewer
#: rounds but relax some edges more than once (twice the median measured best at 100k-1M).
BUCKET_WIDTH_MEDIANS = 2.0


def check_nodes(net: RoadNetwork, nodes: IntArray, what: str) -> None:
    """Raise GraphError if any of ``nodes`` is not a node index of ``net``."""
    if nodes.size and (nodes.min() < 0 or nodes.max() >= net.n_nodes):
        msg = f"{what}: node index out of range 0..{net.n_nodes - 1}"
        raise GraphError(msg)


def check_delays(delay_s: npt.ArrayLike | None, n: int) -> FloatArray | None:
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


def rows_of(graph: sp.csr_array, rows: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """Entries of ``graph``'s ``rows``: position in ``rows``, column and value of each."""
    starts = np.asarray(graph.indptr[rows], dtype=np.int64)
    stops = np.asarray(graph.indptr[rows + 1], dtype=np.int64)
    counts = stops - starts
    pos = np.repeat(stops - np.cumsum(counts), counts) + np.arange(int(counts.sum()))
    row_of = np.repeat(np.arange(rows.size, dtype=np.int64), counts)
    return row_of, np.asarray(graph.indices[pos], dtype=np.int64), graph.data[pos]


def nearest_source(graph: sp.csr_array, sources: IntArray) -> tuple[FloatArray, IntArray]:
    """Multi-source shortest paths: seconds to every node and the source node that wins
    (``-1``: none reaches it). ``sources`` must be distinct node indices."""
    n = graph.shape[0]
    if sources.size == 0:
        return np.full(n, np.inf), np.full(n, UNREACHED, dtype=np.int64)
    if n < BUCKET_MIN_NODES:
        return scipy_search(graph, sources)
    return bucket_search(graph, sources)


def scipy_search(graph: sp.csr_array, sources: IntArray) -> tuple[FloatArray, IntArray]:
    """:func:`nearest_source` by ``scipy.sparse.csgraph.dijkstra(min_only=True)``."""
    dist, _pred, src = dijkstra(
        graph, directed=True, indices=sources, min_only=True, return_predecessors=True,
    )
    won = np.asarray(src, dtype=np.int64)
    won[won < 0] = UNREACHED
    return np.asarray(dist, dtype=np.float64), won


def bucket_search(graph: sp.csr_array, sources: IntArray) -> tuple[FloatArray, IntArray]:
    """:func:`nearest_source` by delta-stepping in numpy array operations.

    Nodes are settled bucket by bucket of times ``[b, b + delta)``: every edge out of the
    nodes whose time improved into the current bucket is relaxed at once (the lowest arrival
    per node wins), again until the bucket is stable, then the next non-empty bucket. A node
    may be relaxed more than once within its bucket; the work stays close to one pass over
    the edges the searches cross, without a heap.
    """
    n = graph.shape[0]
    small = graph.nnz < 2**31 and n < 2**31
    idx = np.int32 if small else np.int64  # positions and nodes: int32 halves the traffic
    indptr = np.asarray(graph.indptr, dtype=idx)
    indices = np.asarray(graph.indices, dtype=idx)
    data = np.asarray(graph.data, dtype=np.float64)
    dist = np.full(n, np.inf)
    owner = np.full(n, UNREACHED, dtype=idx)
    src = np.asarray(sources, dtype=np.int64)
    dist[src] = 0.0
    owner[src] = src
    delta = _bucket_width(data)
    slot: npt.NDArray[np.integer] = np.empty(n, dtype=idx)  # scratch for _distinct
    front = _distinct(src.astype(idx), slot)
    later: list[npt.NDArray[np.integer]] = []  # improved beyond the current bucket (repeats)
    bound = delta
    take = np.take  # a fancy index's work without its overhead: a quarter less time here
    while True:
        if front.size == 0:
            if not later:
                break
            waiting = np.concatenate(later)
            at = take(dist, waiting)
            keep = at >= bound  # the rest were improved into a bucket already done
            waiting, at = waiting[keep], at[keep]
            if waiting.size == 0:
                break
            low = float(at.min())
            bound = max(bound, (math.floor(low / delta) + 1.0) * delta)
            if not bound > low:  # low / delta past 2**53: the next bucket would not move
                bound = math.inf  # finish the few far labels by label correcting
            now = at < bound
            front = _distinct(waiting[now], slot)
            later = [waiting[~now]]
            continue
        starts: npt.NDArray[np.integer] = take(indptr, front)
        counts: npt.NDArray[np.integer] = take(indptr, front + 1) - starts
        ends: npt.NDArray[np.integer] = np.cumsum(counts, dtype=idx)
        tails: npt.NDArray[np.integer] = np.arange(front.size, dtype=idx)
        of: npt.NDArray[np.integer] = np.repeat(tails, counts)  # each edge's tail in front
        pos: npt.NDArray[np.integer] = take(starts - (ends - counts), of)
        steps: npt.NDArray[np.integer] = np.arange(int(ends[-1]), dtype=idx)
        pos += steps
        head = take(indices, pos)
        arrive = take(take(dist, front), of)
        arrive += take(data, pos)
        better = np.flatnonzero(arrive < take(dist, head))
        head, arrive = take(head, better), take(arrive, better)
        np.minimum.at(dist, head, arrive)  # the lowest arrival per node
        won = arrive == take(dist, head)
        head, arrive = head[won], arrive[won]
        owner[head] = take(take(owner, front), take(of, better[won]))
        here = arrive < bound
        front = head[here]  # distinct but for exact ties, which only repeat a relaxation
        if not here.all():
            later.append(head[~here])
    return dist, owner.astype(np.int64)


def _bucket_width(data: FloatArray) -> float:
    """Bucket width: :data:`BUCKET_WIDTH_MEDIANS` x the median positive edge time (from an
    even sample of at most a few thousand edges); ``inf`` (one bucket) if there is none."""
    sample = data[:: max(1, data.size // 4096)]
    sample = sample[sample > 0]
    if sample.size == 0:
        return math.inf
    width = BUCKET_WIDTH_MEDIANS * float(np.median(sample))
    return width if width > 0 and math.isfinite(width) else math.inf


def _distinct(nodes: npt.NDArray[np.integer], slot: npt.NDArray[np.integer]
              ) -> npt.NDArray[np.integer]:
    """Each of ``nodes`` once (first-seen order lost), using ``slot`` as scratch: no sort."""
    k = np.arange(nodes.size, dtype=slot.dtype)
    slot[nodes] = k
    return nodes[slot[nodes] == k]
