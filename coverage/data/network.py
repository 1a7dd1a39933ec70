"""Compiled road network: node arrays, a CSR matrix of fastest edge times, snapping, cache."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from coverage import settings
from coverage.data._grid import Grid
from coverage.data._npz import is_aligned, mapped, savez_aligned
from coverage.errors import DataWarning, GraphError

if TYPE_CHECKING:  # networkx and scipy.spatial load only where used: a quicker cold start
    import networkx as nx
    from scipy.spatial import cKDTree

    from coverage.data._stream import RoadArrays
    from coverage.data.roads import Progress

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]



@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph compiled to arrays for fast shortest paths.

    Node ``i`` has OSM (or file) id ``node_id[i]`` at (``lon[i]``, ``lat[i]``). Every directed
    edge ``k`` runs ``edge_u[k] -> edge_v[k]``; its drawn shape is
    ``geom_xy[geom_offsets[k]:geom_offsets[k + 1]]``. :attr:`csr` holds, for each ordered
    node pair, the fastest of the parallel edges' travel times in seconds.
    """

    node_id: IntArray
    lon: FloatArray
    lat: FloatArray
    edge_u: IntArray
    edge_v: IntArray
    length_m: FloatArray
    travel_time_s: FloatArray
    highway: npt.NDArray[Any]  # str per edge (an object array of shared strings when loaded)
    name: npt.NDArray[Any]
    geom_offsets: IntArray
    geom_xy: FloatArray
    source: str = ""
    notes: tuple[str, ...] = ()  # warnings from reading the road file, kept with the cache

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of directed edges (parallel edges counted)."""
        return len(self.edge_u)

    @cached_property
    def csr(self) -> sp.csr_array:
        """Sparse matrix of the fastest travel time (s) for each ordered node pair."""
        n = self.n_nodes
        u, v, w = min_per_pair(self.edge_u, self.edge_v, self.travel_time_s)
        # csgraph keeps explicit zeros as edges, so a zero-length edge stays an edge.
        return _narrow(sp.csr_array((w, (u, v)), shape=(n, n)))

    @cached_property
    def csr_reverse(self) -> sp.csr_array:
        """The transposed :attr:`csr`: shortest paths on it run against traffic."""
        return self.csr.T.tocsr()

    @cached_property
    def _tree(self) -> cKDTree:
        from scipy.spatial import cKDTree

        # Sliding-midpoint splits build in about half the time of median splits; queries
        # are exact either way.
        return cKDTree(_unit_vectors(self.lon, self.lat), balanced_tree=False)

    @cached_property
    def max_speed_mps(self) -> float:
        """Top straight-line speed of any edge: great-circle metres between its end nodes
        over its fastest time (``inf`` if a zero-time edge joins two distinct points).

        No path covers more straight-line distance than this speed x its time, which bounds
        where a time-limited search can go.
        """
        csr = self.csr
        if csr.nnz == 0:
            return 0.0
        u = np.repeat(np.arange(self.n_nodes), np.diff(csr.indptr))
        v = np.asarray(csr.indices, dtype=np.int64)
        metres = great_circle_m(self.lon[u], self.lat[u], self.lon[v], self.lat[v])
        t = np.asarray(csr.data, dtype=np.float64)
        moving = metres > 0
        if np.any(moving & (t <= 0)):
            return float(np.inf)
        if not moving.any():
            return 0.0
        return float(np.max(metres[moving] / t[moving]))

    def nodes_within(self, node: int, radius_m: float) -> IntArray:
        """Return the indices of nodes within ``radius_m`` great-circle metres of ``node``
        (a little more, never less: the k-d tree's chord radius is rounded up)."""
        angle = min(np.pi, radius_m / settings.EARTH_RADIUS_M)
        chord = 2.0 * np.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12
        found = self._tree.query_ball_point(self._tree.data[node], chord, return_sorted=False)
        return np.asarray(found, dtype=np.int64)

    def nodes_near(self, node: int, radius_m: float) -> IntArray:
        """Return the indices of nodes within ``radius_m`` great-circle metres of ``node`` and
        some more (unordered): those of the grid cells that overlap a lon/lat box around that
        circle. Cheaper than :meth:`nodes_within` for large radii (no k-d tree, no list of
        Python ints); for searches that only need a superset of the circle.
        """
        angle = radius_m / settings.EARTH_RADIUS_M * (1.0 + 1e-9) + 1e-12
        lat0, lon0 = float(self.lat[node]), float(self.lon[node])
        dlat = math.degrees(angle)
        whole = (-180.0, 180.0)
        if angle >= math.pi / 2 or abs(lat0) + dlat >= 90.0:
            lon_range = whole
        else:  # the circle's widest longitude: sin(dlon) = sin(angle) / cos(lat0)
            ratio = math.sin(angle) / math.cos(math.radians(lat0))
            dlon = math.degrees(math.asin(ratio)) * (1.0 + 1e-9) + 1e-12 if ratio < 1 else 180.0
            lon_range = ((lon0 - dlon, lon0 + dlon) if lon0 - dlon > -180.0
                         and lon0 + dlon < 180.0 else whole)
        return self._grid.candidates(lon_range[0], lat0 - dlat, lon_range[1], lat0 + dlat)

    @cached_property
    def _id_order(self) -> IntArray:
        return np.argsort(self.node_id).astype(np.int64)

    @cached_property
    def lon_order(self) -> IntArray:
        """Node indices by ascending longitude."""
        return np.argsort(self.lon, kind="stable").astype(np.int64)

    @cached_property
    def _grid(self) -> Grid:
        return Grid.of(self.lon, self.lat)

    def nodes_in_box(self, x0: float, y0: float, x1: float, y1: float) -> IntArray:
        """Return the nodes with ``x0 <= lon <= x1`` and ``y0 <= lat <= y1``, ascending.

        Only the grid cells the box overlaps are read (see
        :class:`coverage.data._grid.Grid`), then tested exactly.
        """
        band = self._grid.candidates(x0, y0, x1, y1)
        lon, lat = self.lon[band], self.lat[band]
        return np.sort(band[(lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)])

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of the nodes."""
        return (
            float(self.lon.min()), float(self.lat.min()),
            float(self.lon.max()), float(self.lat.max()),
        )

    def index_of(self, node_ids: npt.ArrayLike) -> IntArray:
        """Return the node indices of the given node ids; raises GraphError for unknown ids."""
        ids = np.asarray(node_ids, dtype=np.int64)
        order = self._id_order
        pos = np.searchsorted(self.node_id, ids, sorter=order)
        pos = np.clip(pos, 0, len(order) - 1)
        idx = order[pos]
        bad = self.node_id[idx] != ids
        if bad.any():
            msg = f"node id(s) {ids[bad][:5].tolist()} are not in the road network"
            raise GraphError(msg)
        return idx.astype(np.int64)

    def nearest_nodes(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
        """Return the nearest node index of each point and its great-circle distance in metres.

        Nearest is by great-circle distance (a k-d tree on unit-sphere vectors, whose chord
        order equals the great-circle order).
        """
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        if lon_a.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        _, idx = self._tree.query(_unit_vectors(lon_a, lat_a))
        idx = np.asarray(idx, dtype=np.int64)
        dist = great_circle_m(lon_a, lat_a, self.lon[idx], self.lat[idx])
        return idx, dist

    def to_networkx(self) -> nx.MultiDiGraph:
        """Return a new MultiDiGraph of this network (node ids, x/y, length, travel_time)."""
        import networkx as nx

        G = nx.MultiDiGraph(crs="EPSG:4326", source=self.source)
        G.add_nodes_from(
            (int(n), {"x": float(x), "y": float(y)})
            for n, x, y in zip(self.node_id, self.lon, self.lat, strict=True)
        )
        ids = self.node_id
        G.add_edges_from(
            (
                int(ids[u]), int(ids[v]),
                {"length": float(length), "travel_time": float(t), "highway": str(h)},
            )
            for u, v, length, t, h in zip(
                self.edge_u, self.edge_v, self.length_m, self.travel_time_s, self.highway,
                strict=True,
            )
        )
        return G

    def edge_coords(self, k: int) -> FloatArray:
        """Return the (lon, lat) vertices of edge ``k``."""
        return self.geom_xy[self.geom_offsets[k] : self.geom_offsets[k + 1]]


def min_per_pair(
    rows: IntArray, cols: IntArray, vals: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Keep the smallest value per (row, col) pair.

    Building a sparse matrix from an edge list adds parallel weights together; the fastest
    of parallel edges is what counts.
    """
    if rows.size == 0:
        return rows, cols, vals
    key = rows.astype(np.int64) * (int(cols.max()) + 1) + cols  # (row, col) order
    order = np.argsort(key, kind="stable")
    k = key[order]
    first = np.ones(k.size, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    starts = np.flatnonzero(first)
    best = np.minimum.reduceat(vals[order], starts)
    return rows[order][first], cols[order][first], np.asarray(best, dtype=vals.dtype)


def great_circle_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> FloatArray:
    """Return haversine distances in metres on the sphere of ``settings.EARTH_RADIUS_M``."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return np.asarray(2 * settings.EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1))))


def _unit_vectors(lon: FloatArray, lat: FloatArray) -> FloatArray:
    lam, phi = np.radians(lon), np.radians(lat)
    out = np.empty((lam.size, 3))
    cos_phi = np.cos(phi)  # the same products as before, written in place: half the work
    np.multiply(cos_phi, np.cos(lam), out=out[:, 0])
    np.multiply(cos_phi, np.sin(lam), out=out[:, 1])
    np.sin(phi, out=out[:, 2])
    return out


def compile_graph(G: nx.MultiDiGraph, *, source: str = "") -> RoadNetwork:
    """Return a new :class:`RoadNetwork` from a graph whose edges carry ``travel_time`` (s).

    Nodes need ``x`` (lon) and ``y`` (lat); edges need ``travel_time`` and may carry
    ``length``, ``highway``, ``name`` and a shapely ``geometry``.
    """
    if G.number_of_nodes() == 0:
        msg = f"{source or 'road graph'}: the graph has no nodes"
        raise GraphError(msg)
    nodes = list(G.nodes)
    try:
        node_id = np.asarray(nodes, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        node_id = np.arange(len(nodes), dtype=np.int64)
    pos = {n: i for i, n in enumerate(nodes)}
    lon = np.array([G.nodes[n]["x"] for n in nodes], dtype=np.float64)
    lat = np.array([G.nodes[n]["y"] for n in nodes], dtype=np.float64)
    m = G.number_of_edges()
    edge_u = np.empty(m, dtype=np.int64)
    edge_v = np.empty(m, dtype=np.int64)
    length = np.empty(m)
    time_s = np.empty(m)
    highway: list[str] = []
    name: list[str] = []
    offsets = np.zeros(m + 1, dtype=np.int64)
    parts: list[FloatArray] = []
    for k, (u, v, data) in enumerate(G.edges(data=True)):
        edge_u[k], edge_v[k] = pos[u], pos[v]
        t = data.get("travel_time")
        if t is None or not np.isfinite(float(t)) or float(t) < 0:
            msg = f"{source or 'road graph'}: edge {u}->{v} has no valid travel_time"
            raise GraphError(msg)
        time_s[k] = float(t)
        length[k] = float(data.get("length", np.nan))
        highway.append(str(data.get("highway", "")))
        name.append(str(data.get("name", "")))
        geom = data.get("geometry")
        if geom is not None:
            xy = np.asarray(geom.coords, dtype=np.float64)[:, :2]
        else:
            xy = np.array([[lon[pos[u]], lat[pos[u]]], [lon[pos[v]], lat[pos[v]]]])
        parts.append(xy)
        offsets[k + 1] = offsets[k] + len(xy)
    geom_xy = np.concatenate(parts) if parts else np.empty((0, 2))
    return RoadNetwork(
        node_id=node_id, lon=lon, lat=lat, edge_u=edge_u, edge_v=edge_v, length_m=length,
        travel_time_s=time_s, highway=np.array(highway, dtype=np.str_),
        name=np.array(name, dtype=np.str_), geom_offsets=offsets, geom_xy=geom_xy,
        source=source,
    )


_ARRAYS = (
    "node_id", "lon", "lat", "edge_u", "edge_v", "length_m", "travel_time_s", "highway",
    "name", "geom_offsets", "geom_xy",
)
_TEXT = ("highway", "name")  # stored as codes into a small table of values
_NARROW = ("edge_u", "edge_v", "geom_offsets")  # stored as int32 when they fit


def from_arrays(arrays: RoadArrays, *, source: str = "",
                notes: tuple[str, ...] = ()) -> RoadNetwork:
    """Return a new :class:`RoadNetwork` from streamed arrays (see ``coverage.data._stream``)."""
    return RoadNetwork(
        node_id=arrays.node_id, lon=arrays.lon, lat=arrays.lat, edge_u=arrays.edge_u,
        edge_v=arrays.edge_v, length_m=arrays.length_m, travel_time_s=arrays.travel_time_s,
        highway=np.asarray(list(arrays.highway_values), dtype=object)[arrays.highway],
        name=np.asarray(list(arrays.name_values), dtype=object)[arrays.name],
        geom_offsets=arrays.geom_offsets, geom_xy=arrays.geom_xy, source=source, notes=notes,
    )


def save_network(net: RoadNetwork, path: str | Path) -> None:
    """Write ``net`` to an ``.npz`` file atomically (no pickles).

    Text columns are stored as integer codes into a table of their distinct values, index
    columns as int32 where they fit: a fraction of fixed-width strings and int64. Each
    array's data start on a multiple of 64 bytes in the file, so :func:`load_network` can
    map them as they are (an ordinary ``.npz``: ``numpy.load`` reads it too).
    """
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {}
    for k in _ARRAYS:
        value = getattr(net, k)
        if k in _TEXT:
            codes, values = pd.factorize(np.asarray(value, dtype=object), sort=True)
            arrays[k] = codes.astype(np.int32)
            arrays[f"{k}_values"] = np.asarray([str(v) for v in values], dtype=np.str_)
        elif k in _NARROW and (value.size == 0 or int(value.max()) < 2**31):
            arrays[k] = np.asarray(value, dtype=np.int32)
        else:
            arrays[k] = value
    csr = net.csr  # stored too: a cold start need not rebuild it
    arrays["csr_indptr"] = np.asarray(csr.indptr)
    arrays["csr_indices"] = np.asarray(csr.indices)
    arrays["csr_data"] = np.asarray(csr.data)
    meta = json.dumps({"format": settings.CACHE_FORMAT, "source": net.source,
                       "notes": list(net.notes), "max_speed_mps": net.max_speed_mps})
    fd, name = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        with open(tmp, "wb") as fh:
            savez_aligned(fh, {"meta": np.array(meta), **arrays})
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load_network(path: str | Path) -> RoadNetwork:
    """Read a network written by :func:`save_network`; raises GraphError if unreadable.

    The arrays are mapped from the file, not read (:func:`coverage.data._npz.mapped`): a part
    no one touches (the drawn shapes, for a report) costs nothing, and the rest is read from
    the page cache as it is used.
    """
    path = Path(path)
    try:
        data = mapped(path)
        meta = json.loads(str(data["meta"]))
        if meta.get("format") != settings.CACHE_FORMAT:
            msg = f"{path.name}: compiled graph format {meta.get('format')} is outdated"
            raise GraphError(msg)
        arrays: dict[str, Any] = {}
        for k in _ARRAYS:
            if k in _TEXT:
                values = np.asarray(data[f"{k}_values"].tolist() or [""], dtype=object)
                arrays[k] = values[data[k]]
            elif k in _NARROW:
                arrays[k] = data[k].astype(np.int64)
            else:
                arrays[k] = data[k]
        n = arrays["node_id"].size
        csr = _narrow(sp.csr_array((data["csr_data"], data["csr_indices"], data["csr_indptr"]),
                                   shape=(n, n)))
    except (OSError, ValueError, KeyError, IndexError, json.JSONDecodeError,
            zipfile.BadZipFile) as exc:
        msg = f"{path.name}: cannot read compiled graph: {exc}"
        raise GraphError(msg) from exc
    net = RoadNetwork(**arrays, source=str(meta.get("source", "")),
                      notes=tuple(str(n) for n in meta.get("notes", [])))
    net.__dict__["csr"] = csr  # the cached properties, as computed when it was saved
    net.__dict__["max_speed_mps"] = float(meta["max_speed_mps"])
    return net


def _narrow(csr: sp.csr_array) -> sp.csr_array:
    """Return ``csr`` with int32 indices where they fit (half the memory, and the form
    scipy's shortest-path routines work on); the same matrix."""
    if csr.nnz < 2**31 and csr.shape[0] < 2**31 and csr.indices.dtype != np.int32:
        return sp.csr_array((csr.data, csr.indices.astype(np.int32),
                             csr.indptr.astype(np.int32)), shape=csr.shape)
    return csr


def _cache_key(path: Path, speeds_kph: Mapping[str, float], fallback_kph: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps([settings.CACHE_FORMAT, dict(speeds_kph), fallback_kph,
                              sorted(settings.NON_DRIVABLE_HIGHWAYS)]).encode())
    return digest.hexdigest()[:24]


def open_roads(
    path: str | Path,
    *,
    speeds_kph: Mapping[str, float] = settings.DEFAULT_SPEEDS_KPH,
    fallback_kph: float = settings.FALLBACK_SPEED_KPH,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
) -> RoadNetwork:
    """Load a road file as a compiled :class:`RoadNetwork`, through a persistent cache.

    The compiled arrays are stored under ``cache_dir`` (default :func:`settings.cache_dir`)
    keyed by the file's content hash and the speed settings, so a large network is parsed
    once and later loads in about a second.
    """
    path = Path(path)
    say = progress or (lambda _msg: None)
    folder = Path(cache_dir) if cache_dir is not None else settings.cache_dir()
    cached: Path | None = None
    if use_cache and path.is_file():
        cached = folder / f"{path.name}.{_cache_key(path, speeds_kph, fallback_kph)}.npz"
        if cached.is_file():
            try:
                say(f"loading compiled graph {cached.name}")
                net = load_network(cached)
            except GraphError as exc:
                logger.warning("ignoring unreadable cache: %s", exc)
            else:
                logger.info("%s: %d nodes from cache", path.name, net.n_nodes)
                for note in net.notes:  # what the first read warned about still holds
                    warnings.warn(note, DataWarning, stacklevel=2)
                _realign(net, cached)
                return net
    from coverage.data.roads import OSM_SUFFIXES, load_graph

    streamed = path.name.lower().endswith(OSM_SUFFIXES) and path.is_file()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        if streamed:  # OSM: streamed into arrays and simplified there (coverage.data._stream)
            from coverage.data._stream import read_osm

            say(f"reading {path.name}")
            arrays = read_osm(path, speeds_kph=speeds_kph, fallback_kph=fallback_kph)
        else:
            G = load_graph(path, speeds_kph=speeds_kph, fallback_kph=fallback_kph,
                           progress=say)
    notes = tuple(str(w.message) for w in caught if issubclass(w.category, DataWarning))
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    say("compiling graph")
    if streamed:
        net = from_arrays(arrays, source=path.name, notes=notes)
    else:
        net = replace(compile_graph(G, source=path.name), notes=notes)
    if cached is not None:
        try:
            save_network(net, cached)
        except OSError as exc:
            logger.warning("cannot write graph cache %s: %s", cached, exc)
    return net


def _realign(net: RoadNetwork, cached: Path) -> None:
    """Rewrite a cache file written before its members were aligned (see
    :func:`save_network`), so later loads map it without copying; once per file."""
    try:
        if is_aligned(cached):
            return
        save_network(net, cached)
        logger.info("%s: rewritten with aligned arrays", cached.name)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        logger.warning("cannot rewrite graph cache %s: %s", cached, exc)


def check_extent(
    net: RoadNetwork,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    labels: list[str],
    *,
    what: str,
    margin_deg: float = settings.EXTENT_MARGIN_DEG,
) -> npt.NDArray[np.bool_]:
    """Warn about points outside the network's extent (swapped lat/lon?); return the mask."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = net.bounds
    outside = (
        (lon_a < x0 - margin_deg) | (lon_a > x1 + margin_deg)
        | (lat_a < y0 - margin_deg) | (lat_a > y1 + margin_deg)
    )
    if outside.any():
        swapped = (
            (lat_a >= x0 - margin_deg) & (lat_a <= x1 + margin_deg)
            & (lon_a >= y0 - margin_deg) & (lon_a <= y1 + margin_deg)
        )
        names = [labels[i] for i in np.flatnonzero(outside)[:10]]
        hint = " (lat and lon look swapped)" if (swapped & outside).any() else ""
        warnings.warn(
            f"{what}: {int(outside.sum())} point(s) lie outside the road network's extent"
            f"{hint}: {', '.join(names)}",
            DataWarning,
            stacklevel=2,
        )
    return np.asarray(outside)


def describe(net: RoadNetwork) -> dict[str, Any]:
    """Return a small summary of ``net`` for logs and the app."""
    return {"source": net.source, "nodes": net.n_nodes, "edges": net.n_edges,
            "bounds": net.bounds}
