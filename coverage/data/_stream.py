"""Streamed OSM roads: ways read with pyosmium into numpy arrays, simplified in numpy.

The same graph as :func:`coverage.data.roads.load_graph` followed by
:func:`coverage.data.network.compile_graph` (same nodes in the same order, the same edges with
the same lengths, times, classes, names and shapes), without a networkx graph of the whole
file: a province's road file is read in seconds and a fraction of the memory.

The simplification follows osmnx's ``simplify_graph`` (``remove_rings=False``) rule for rule:
a node is an endpoint when it has no way in or no way out, or does not have exactly two
neighbours with two or four directed edges; from each endpoint, each successor that is not
an endpoint starts a path through interstitial nodes to the next endpoint (or back to the
start); a path's edge takes, for each step, the first edge drawn between those two nodes,
sums their lengths and times from left to right and keeps the least class and name (as
:func:`coverage.data.roads.simplify` does); the paths' inner nodes are removed with their
edges. The tests check every figure against that networkx path.
"""

from __future__ import annotations

import array
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from coverage import settings
from coverage.data.roads import (
    _warn_implausible,
    edge_speed_kph,
    implausible_maxspeed,
    oneway_direction,
)
from coverage.errors import DataError, DataWarning

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_MAX_X = 1_800_000_000  # libosmium: a location is valid within +-180 / +-90 degrees x 1e7
_MAX_Y = 900_000_000


@dataclass(frozen=True, eq=False)
class RoadArrays:
    """A simplified road graph as arrays (the fields of a compiled road network).

    ``highway``/``name`` index the sorted ``highway_values``/``name_values``.
    """

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    length_m: FloatArray
    travel_time_s: FloatArray
    highway: npt.NDArray[np.int32]
    name: npt.NDArray[np.int32]
    highway_values: tuple[str, ...]
    name_values: tuple[str, ...]
    geom_offsets: IntArray
    geom_xy: FloatArray
    raw_nodes: int


@dataclass(frozen=True, eq=False)
class _Raw:
    """The directed segments before simplification, in the order networkx would hold them."""

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    u: IntArray
    v: IntArray
    length: FloatArray
    time: FloatArray
    highway: npt.NDArray[np.int32]
    name: npt.NDArray[np.int32]
    highway_values: tuple[str, ...]
    name_values: tuple[str, ...]


def great_circle(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray,
                 earth_radius: float) -> FloatArray:
    """osmnx's ``distance.great_circle``, operation for operation (the same floats)."""
    y1 = np.deg2rad(lat1)
    y2 = np.deg2rad(lat2)
    delta_y = y2 - y1
    x1 = np.deg2rad(lon1)
    x2 = np.deg2rad(lon2)
    delta_x = x2 - x1
    h = np.sin(delta_y / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(delta_x / 2) ** 2
    h = np.minimum(1, h)
    arc = 2 * np.arcsin(np.sqrt(h))
    return np.asarray(arc * earth_radius, dtype=np.float64)


def read_osm(
    path: str | Path,
    *,
    speeds_kph: Mapping[str, float] = settings.DEFAULT_SPEEDS_KPH,
    fallback_kph: float = settings.FALLBACK_SPEED_KPH,
) -> RoadArrays:
    """Read an OSM XML or PBF road file into simplified :class:`RoadArrays`.

    Raises DataError when the file cannot be read or holds no drivable road; warns
    (DataWarning) as :func:`coverage.data.roads.load_graph` does.
    """
    raw = _read_raw(Path(path), speeds_kph=speeds_kph, fallback_kph=fallback_kph)
    return simplify_arrays(raw)


def _read_raw(path: Path, *, speeds_kph: Mapping[str, float], fallback_kph: float) -> _Raw:
    import osmium

    refs = array.array("q")
    xs = array.array("q")
    ys = array.array("q")
    way_len: list[int] = []
    way_ids: list[int] = []
    way_tags: list[dict[str, str]] = []
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for way in processor:
            if not isinstance(way, osmium.osm.Way):  # the filter passes ways only
                continue
            flat = [value for nr in way.nodes for value in (nr.ref, nr.x, nr.y)]
            refs.extend(flat[0::3])
            xs.extend(flat[1::3])
            ys.extend(flat[2::3])
            way_len.append(len(flat) // 3)
            way_ids.append(int(way.id))
            way_tags.append({tag.k: tag.v for tag in way.tags})
    except Exception as exc:  # pyosmium raises RuntimeError, InvalidLocationError, ...
        msg = f"{path.name}: cannot read OpenStreetMap data: {exc} (is the file truncated?)"
        raise DataError(msg) from exc
    ref = np.frombuffer(refs, dtype=np.int64)
    x = np.frombuffer(xs, dtype=np.int64)
    y = np.frombuffer(ys, dtype=np.int64)
    lengths = np.asarray(way_len, dtype=np.int64)
    way_of = np.repeat(np.arange(lengths.size), lengths)
    valid = (np.abs(x) <= _MAX_X) & (np.abs(y) <= _MAX_Y)
    if not valid.all():
        bad_ways = sorted({way_ids[w] for w in np.unique(way_of[~valid]).tolist()})
        warnings.warn(
            f"{path.name}: {int((~valid).sum())} way node reference(s) have no valid location "
            "(missing from the file, as in an extract cut at its edge, or out of range); the "
            f"ways were split there: way id(s) {', '.join(map(str, bad_ways[:10]))}",
            DataWarning,
            stacklevel=3,
        )
    # runs: a way split at each node without a location (as the networkx reader does)
    first = np.zeros(ref.size, dtype=bool)
    first[np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)[lengths > 0]] = True
    after_bad = np.zeros(ref.size, dtype=bool)
    after_bad[1:] = ~valid[:-1] & ~first[1:]
    start = first | after_bad
    run = np.cumsum(start) - 1
    run_size = np.bincount(run[valid], minlength=int(run.max()) + 1 if run.size else 0)
    runs_per_way = 1 + np.bincount(way_of[~valid], minlength=lengths.size)
    # per way: is it a road, its direction and speed (per run counts as networkx's builder)
    skipped: dict[str, int] = {}
    implausible: dict[str, int] = {}
    road = np.zeros(lengths.size, dtype=bool)
    direction = np.zeros(lengths.size, dtype=np.int64)
    speed = np.zeros(lengths.size)
    highway_s: list[str] = []
    name_s: list[str] = []
    speed_of: dict[tuple[str | None, str | None], float] = {}
    run_way = way_of[np.flatnonzero(start)] if ref.size else np.empty(0, dtype=np.int64)
    good_runs = np.bincount(run_way[run_size[: run_way.size] >= 2] if run_way.size else
                            np.empty(0, dtype=np.int64), minlength=lengths.size)
    for w, tags in enumerate(way_tags):
        highway = tags.get("highway")
        highway_s.append("road" if highway is None else str(highway))
        name_s.append(str(tags.get("name") or ""))
        if highway is not None and str(highway) in settings.NON_DRIVABLE_HIGHWAYS:
            skipped[str(highway)] = skipped.get(str(highway), 0) + int(runs_per_way[w])
            continue
        if str(tags.get("area", "")).lower() == "yes":
            continue
        road[w] = True
        direction[w] = oneway_direction(tags.get("oneway"), tags.get("junction"))
        if good_runs[w] and implausible_maxspeed(tags.get("maxspeed")):
            key = str(tags.get("maxspeed"))
            implausible[key] = implausible.get(key, 0) + int(good_runs[w])
        pair = (highway, tags.get("maxspeed"))
        if pair not in speed_of:
            speed_of[pair] = edge_speed_kph(highway, tags.get("maxspeed"),
                                            speeds_kph=speeds_kph, fallback_kph=fallback_kph)
        speed[w] = speed_of[pair]
    if skipped:
        logger.info("%s: skipped non-drivable ways %s", path.name, skipped)
    _warn_implausible(path.name, implausible)
    # the refs that make nodes: valid, in a road's run of two or more
    keep = valid & road[way_of] & (run_size[run] >= 2) if ref.size else valid
    # segments between consecutive kept refs of one run
    seg = np.flatnonzero(keep[:-1] & keep[1:] & (run[:-1] == run[1:]))
    a, b = seg, seg + 1
    lon = x / 1e7
    lat = y / 1e7
    length = great_circle(lat[a], lon[a], lat[b], lon[b], settings.EARTH_RADIUS_M)
    moved = ref[a] != ref[b]
    a, b, length = a[moved], b[moved], length[moved]
    w_of = way_of[a]
    time = length / speed[w_of] * 3.6
    d = direction[w_of]
    # directed edges in insertion order: each segment forward (if allowed), then reverse
    fwd, rev = d >= 0, d <= 0
    slots = np.stack([np.where(fwd, 0, -1), np.where(rev, 1, -1)], axis=1).ravel()
    seg_of = np.repeat(np.arange(a.size), 2)[slots >= 0]
    backward = slots[slots >= 0] == 1
    from_ref = np.where(backward, ref[b][seg_of], ref[a][seg_of])
    to_ref = np.where(backward, ref[a][seg_of], ref[b][seg_of])
    if from_ref.size == 0:
        msg = (f"{path.name}: no drivable roads found (need ways or lines with a highway "
               f"class vehicles can use; skipped: {skipped or 'none'})")
        raise DataError(msg)
    # nodes in order of first appearance among the kept refs, those with an edge only
    kept = np.flatnonzero(keep)
    ids, first_at = np.unique(ref[kept], return_index=True)
    order = np.argsort(first_at, kind="stable")
    node_ref = ids[order]
    node_pos = kept[first_at[order]]
    used = np.zeros(node_ref.size, dtype=bool)
    sorted_pos = np.argsort(node_ref)
    u = sorted_pos[np.searchsorted(node_ref[sorted_pos], from_ref)]
    v = sorted_pos[np.searchsorted(node_ref[sorted_pos], to_ref)]
    used[u] = True
    used[v] = True
    renumber = np.cumsum(used) - 1
    hw_values, hw_codes = np.unique(np.asarray(highway_s, dtype=object).astype(str),
                                    return_inverse=True)
    nm_values, nm_codes = np.unique(np.asarray(name_s, dtype=object).astype(str),
                                    return_inverse=True)
    return _Raw(
        node_id=node_ref[used].astype(np.int64), lon=lon[node_pos[used]],
        lat=lat[node_pos[used]], u=renumber[u].astype(np.int64),
        v=renumber[v].astype(np.int64), length=length[seg_of], time=time[seg_of],
        highway=hw_codes.astype(np.int32)[w_of][seg_of],
        name=nm_codes.astype(np.int32)[w_of][seg_of],
        highway_values=tuple(str(s) for s in hw_values),
        name_values=tuple(str(s) for s in nm_values),
    )


def simplify_arrays(raw: _Raw) -> RoadArrays:
    """Merge interstitial nodes away as osmnx's ``simplify_graph`` does (see module doc)."""
    n = raw.node_id.size
    u, v = raw.u, raw.v
    outdeg = np.bincount(u, minlength=n)
    indeg = np.bincount(v, minlength=n)
    # distinct directed pairs and the first edge drawn for each
    key = u * n + v
    order = np.argsort(key, kind="stable")
    pair_key, pair_first = np.unique(key[order], return_index=True)
    pair_edge = order[pair_first]
    # distinct neighbours (either direction)
    und = np.unique(np.minimum(u, v) * n + np.maximum(u, v))
    nb_a, nb_b = und // n, und % n
    nb_count = np.bincount(nb_a, minlength=n) + np.bincount(nb_b, minlength=n)
    deg = indeg + outdeg
    endpoint = (outdeg == 0) | (indeg == 0) | ~((nb_count == 2) & ((deg == 2) | (deg == 4)))
    # the two neighbours of each node with exactly two
    ends = np.concatenate([nb_a, nb_b])
    other_end = np.concatenate([nb_b, nb_a])
    by_node = np.argsort(ends, kind="stable")
    ends, other_end = ends[by_node], other_end[by_node]
    first_nb = np.full(n, -1, dtype=np.int64)
    second_nb = np.full(n, -1, dtype=np.int64)
    start_at = np.searchsorted(ends, np.arange(n))
    two = nb_count == 2
    first_nb[two] = other_end[start_at[two]]
    second_nb[two] = other_end[start_at[two] + 1]

    def edge_of(a: IntArray, b: IntArray) -> IntArray:
        """First edge a -> b, or -1 where there is none."""
        k = a * n + b
        pos = np.minimum(np.searchsorted(pair_key, k), max(pair_key.size - 1, 0))
        return np.where(pair_key[pos] == k, pair_edge[pos], -1)

    # paths start at each endpoint's distinct successors that are not endpoints
    pu, pv = pair_key // n, pair_key % n
    begin = endpoint[pu] & ~endpoint[pv]
    e, s = pu[begin], pv[begin]
    first_edge = pair_edge[begin]
    p_count = e.size
    steps_path: list[IntArray] = [np.arange(p_count), np.arange(p_count)]
    steps_node: list[IntArray] = [e, s]
    steps_rank: list[IntArray] = [np.zeros(p_count, dtype=np.int64),
                                  np.ones(p_count, dtype=np.int64)]
    t_sum = 0.0 + raw.time[first_edge]
    l_sum = 0.0 + raw.length[first_edge]
    hw = raw.highway[first_edge].copy()
    nm = raw.name[first_edge].copy()
    last = s.copy()
    path_ids = np.arange(p_count)
    prev, cur = e, s
    rank = 1
    while path_ids.size:
        nxt = np.where(first_nb[cur] == prev, second_nb[cur], first_nb[cur])
        go = edge_of(cur, nxt)
        if rank == 1:  # from the start's successor: on to its other neighbour, if drawn
            move = go >= 0
        else:
            move = (go >= 0) & (nxt != e[path_ids])
            close = ~move & (edge_of(cur, e[path_ids]) >= 0)
            if close.any():  # back at the start: the ring closes there
                ids = path_ids[close]
                back = edge_of(cur[close], e[ids])
                steps_path.append(ids)
                steps_node.append(e[ids])
                steps_rank.append(np.full(ids.size, rank + 1, dtype=np.int64))
                t_sum[ids] = t_sum[ids] + raw.time[back]
                l_sum[ids] = l_sum[ids] + raw.length[back]
                hw[ids] = np.minimum(hw[ids], raw.highway[back])
                nm[ids] = np.minimum(nm[ids], raw.name[back])
                last[ids] = e[ids]
        ids = path_ids[move]
        step = go[move]
        rank += 1
        steps_path.append(ids)
        steps_node.append(nxt[move])
        steps_rank.append(np.full(ids.size, rank, dtype=np.int64))
        t_sum[ids] = t_sum[ids] + raw.time[step]
        l_sum[ids] = l_sum[ids] + raw.length[step]
        hw[ids] = np.minimum(hw[ids], raw.highway[step])
        nm[ids] = np.minimum(nm[ids], raw.name[step])
        last[ids] = nxt[move]
        going_on = ~endpoint[nxt[move]]
        path_ids, prev, cur = ids[going_on], cur[move][going_on], nxt[move][going_on]
    all_path = np.concatenate(steps_path)
    all_node = np.concatenate(steps_node)
    all_rank = np.concatenate(steps_rank)
    seq = np.lexsort((all_rank, all_path))
    all_path, all_node = all_path[seq], all_node[seq]
    p_len = np.bincount(all_path, minlength=p_count)
    p_start = (np.cumsum(p_len) - p_len).astype(np.int64)
    inner = np.ones(all_node.size, dtype=bool)
    inner[p_start] = False
    inner[p_start + p_len - 1] = False
    removed = np.zeros(n, dtype=bool)
    removed[all_node[inner]] = True
    # kept: original edges between kept nodes, then one edge per path
    keep_raw = ~removed[u] & ~removed[v]
    keep_path = ~removed[e] & ~removed[last]
    alive = ~removed
    renumber = np.cumsum(alive) - 1
    raw_idx = np.flatnonzero(keep_raw)
    path_idx = np.flatnonzero(keep_path)
    edge_u = np.concatenate([u[raw_idx], e[path_idx]])
    edge_v = np.concatenate([v[raw_idx], last[path_idx]])
    # shapes: two points for an original edge, the path's nodes for a merged one
    raw_pts = np.stack([u[raw_idx], v[raw_idx]], axis=1).ravel()
    lens = p_len[path_idx]
    take = np.repeat(p_start[path_idx], lens) + (np.arange(int(lens.sum())) - np.repeat(
        np.cumsum(lens) - lens, lens))
    pts = np.concatenate([raw_pts, all_node[take]])
    counts = np.concatenate([np.full(raw_idx.size, 2, dtype=np.int64), lens])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    logger.info("simplified %d -> %d nodes, %d edges", n, int(alive.sum()), edge_u.size)
    return RoadArrays(
        node_id=raw.node_id[alive], lon=raw.lon[alive], lat=raw.lat[alive],
        edge_u=renumber[edge_u].astype(np.int64), edge_v=renumber[edge_v].astype(np.int64),
        length_m=np.concatenate([raw.length[raw_idx], l_sum[path_idx]]),
        travel_time_s=np.concatenate([raw.time[raw_idx], t_sum[path_idx]]),
        highway=np.concatenate([raw.highway[raw_idx], hw[path_idx]]).astype(np.int32),
        name=np.concatenate([raw.name[raw_idx], nm[path_idx]]).astype(np.int32),
        highway_values=raw.highway_values, name_values=raw.name_values,
        geom_offsets=offsets, geom_xy=np.column_stack([raw.lon[pts], raw.lat[pts]]),
        raw_nodes=n,
    )
