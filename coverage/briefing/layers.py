"""Layers: areas of responsibility, the response-time surface and service areas as polygons.

All three are drawn on one square grid laid over the road network: each grid cell takes the
value of its nearest road node (cells farther than ``max_gap_m`` from any node stay empty,
so open country is not painted). Cells with the same value are merged into one polygon, so
a map draws a few polygons instead of thousands of squares.

    >>> from coverage.data.examples import example_dataset
    >>> from coverage.engine.analysis import analyse, suspend
    >>> cov = analyse(example_dataset(), threshold_min=1)
    >>> grid = node_grid(cov.dataset.network, cell_m=100)   # 277 m x 111 m: 3 x 2 cells
    >>> # B's: the 3 northern cells (node 4) and node 3's (27 s from B, 33 s from A)
    >>> len(grid), responsibility_areas(cov.times, grid)[["unit", "cells"]].values.tolist()
    (6, [['A', 1], ['B', 4], ['D', 1]])
    >>> surface = response_surface(suspend(cov, ["A"]).times, grid, threshold_min=1)
    >>> surface[["label", "within_target", "cells"]]   # node 1 from B at node 4: 27 s + 33 s
           label  within_target  cells
    0  0-0.5 min           True      5
    1  0.5-1 min           True      1
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from coverage import settings
from coverage.data.network import FloatArray, IntArray, RoadNetwork, great_circle_m
from coverage.engine.analysis import Coverage
from coverage.engine.traveltime import UNREACHED, TravelTimes, times_from
from coverage.errors import DataError

logger = logging.getLogger(__name__)

_M_PER_DEG = np.pi * settings.EARTH_RADIUS_M / 180.0


@dataclass(frozen=True, eq=False)
class NodeGrid:
    """Square cells over a network, each with its nearest road node.

    ``cells`` are the kept cells' polygons (EPSG:4326) and ``node[i]`` the index of the road
    node nearest cell ``i``'s centre; ``cell_m`` is the cell's side in metres (north-south).
    """

    network: RoadNetwork
    cell_m: float
    cells: npt.NDArray[np.object_]
    node: IntArray

    def __len__(self) -> int:
        return len(self.node)


def node_grid(net: RoadNetwork, *, cell_m: float = 300.0,
              max_gap_m: float | None = None) -> NodeGrid:
    """Return the grid of ``cell_m`` squares over ``net`` with each cell's nearest node.

    Cells whose centre lies more than ``max_gap_m`` (default: 1.5 cells) from every road
    node are left out; the nearest-node search is bounded by that distance
    (:func:`nearest_within`), so open country between districts costs little.
    """
    if not (np.isfinite(cell_m) and cell_m > 0):
        msg = f"cell_m must be a positive number of metres, got {cell_m}"
        raise DataError(msg)
    gap = 1.5 * cell_m if max_gap_m is None else max_gap_m
    if net.n_nodes == 0:
        return NodeGrid(net, cell_m, np.empty(0, dtype=object), np.empty(0, dtype=np.int64))
    x0, y0, x1, y1 = net.bounds
    dy = cell_m / _M_PER_DEG
    dx = dy / max(np.cos(np.radians((y0 + y1) / 2)), 1e-6)
    nx_, ny_ = max(1, int(np.ceil((x1 - x0) / dx))), max(1, int(np.ceil((y1 - y0) / dy)))
    if nx_ * ny_ > 4_000_000:
        msg = (f"cell_m={cell_m:g} gives {nx_ * ny_:,} cells over the network; "
               "choose larger cells")
        raise DataError(msg)
    cx = x0 + (np.arange(nx_) + 0.5) * dx
    cy = y0 + (np.arange(ny_) + 0.5) * dy
    gx, gy = (a.ravel() for a in np.meshgrid(cx, cy))
    node, dist = nearest_within(net, gx, gy, max_m=gap)
    keep = dist <= gap
    gx, gy = gx[keep], gy[keep]
    cells = shapely.box(gx - dx / 2, gy - dy / 2, gx + dx / 2, gy + dy / 2)
    logger.info("grid: %d of %d cells of %g m near the roads", int(keep.sum()), keep.size,
                cell_m)
    return NodeGrid(net, float(cell_m), np.asarray(cells, dtype=object), node[keep])


def nearest_within(net: RoadNetwork, lon: npt.ArrayLike, lat: npt.ArrayLike, *,
                   max_m: float) -> tuple[IntArray, FloatArray]:
    """Nearest road node of each point within ``max_m`` metres, and its distance.

    As :meth:`RoadNetwork.nearest_nodes`, but the k-d tree search is bounded by the chord of
    ``max_m`` (a little more, never less), so points far from every road cost little: a
    point with no node that close gets node ``-1`` and distance ``inf``. Where a node lies
    within ``max_m`` the answer is the unbounded one (``tests/briefing/test_layers.py``).
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if lon_a.size == 0 or net.n_nodes == 0:
        return (np.full(lon_a.size, -1, dtype=np.int64), np.full(lon_a.size, np.inf))
    angle = min(np.pi, max(float(max_m), 0.0) / settings.EARTH_RADIUS_M)
    chord = 2.0 * np.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12
    lam, phi = np.radians(lon_a), np.radians(lat_a)
    xyz = np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))
    _, idx = net._tree.query(xyz, distance_upper_bound=chord)
    idx = np.asarray(idx, dtype=np.int64)
    found = idx < net.n_nodes  # cKDTree gives n for "none within the bound"
    node = np.where(found, idx, -1)
    dist = np.full(lon_a.size, np.inf)
    dist[found] = great_circle_m(lon_a[found], lat_a[found], net.lon[idx[found]],
                                 net.lat[idx[found]])
    return node, dist


def _merged(grid: NodeGrid, labels: npt.NDArray[np.int64]) -> tuple[IntArray, list[object]]:
    """One polygon per label >= 0: the union of the cells carrying it."""
    ok = labels >= 0
    values = np.unique(labels[ok])
    if values.size == 0:
        return values, []
    order = np.argsort(labels[ok], kind="stable")
    cells = grid.cells[ok][order]
    bounds = np.searchsorted(labels[ok][order], values, side="left")
    ends = np.append(bounds[1:], len(order))
    shapes = [shapely.coverage_union_all(cells[a:b]) for a, b in zip(bounds, ends, strict=True)]
    return values, shapes


def response_bands(threshold_min: float) -> tuple[float, ...]:
    """Upper band edges in minutes: half, one, one and a half and two thresholds."""
    return tuple(threshold_min * f for f in (0.5, 1.0, 1.5, 2.0))


def band_labels(bands_min: Sequence[float]) -> list[str]:
    """Labels of the bands :func:`response_surface` uses, last one ``unreachable``."""
    edges = [0.0, *bands_min]
    labels = [f"{a:g}-{b:g} min" for a, b in itertools.pairwise(edges)]
    return [*labels, f"over {edges[-1]:g} min", "unreachable"]


def response_surface(times: TravelTimes, grid: NodeGrid, *, threshold_min: float,
                     bands_min: Sequence[float] | None = None) -> gpd.GeoDataFrame:
    """Return the response-time surface: one (multi)polygon per band of minutes.

    A cell's minutes are those of its nearest road node (from the nearest available unit,
    turnout delay included). Bands are ``(0, b0]``, ``(b0, b1]`` ... (default:
    :func:`response_bands` of ``threshold_min``), then "over" the last edge and
    ``unreachable``. Columns ``band`` (0 = fastest), ``label``, ``within_target`` (the
    band ends at or below ``threshold_min``) and ``cells``; a new frame.
    """
    edges = np.asarray(response_bands(threshold_min) if bands_min is None else bands_min,
                       dtype=np.float64)
    if edges.size == 0 or not (np.all(np.diff(edges) > 0) and edges[0] > 0):
        msg = f"bands_min must be increasing positive minutes, got {list(edges)}"
        raise DataError(msg)
    minutes = times.minutes[grid.node] if len(grid) else np.empty(0)
    band = np.searchsorted(edges, minutes, side="left").astype(np.int64)
    band[~np.isfinite(minutes)] = edges.size + 1
    values, shapes = _merged(grid, band)
    labels = band_labels(edges.tolist())
    counts = np.bincount(band, minlength=edges.size + 2) if band.size else np.zeros(0, int)
    upper = [*edges.tolist(), np.inf, np.inf]
    return gpd.GeoDataFrame(
        {"band": values, "label": [labels[v] for v in values],
         "within_target": [bool(upper[v] <= threshold_min) for v in values],
         "cells": [int(counts[v]) for v in values]},
        geometry=list(shapes), crs="EPSG:4326",
    )


def responsibility_areas(times: TravelTimes, grid: NodeGrid) -> gpd.GeoDataFrame:
    """Return each unit's area of responsibility: the cells it reaches first.

    A cell belongs to the unit nearest (by travel time) to the cell's nearest road node:
    the network Voronoi cells of the available units. Units at one node share a cell,
    listed under the first. Columns ``unit`` (officer id), ``units`` (ids sharing it, comma
    separated), ``cells``, ``median_min`` (median minutes over the cells); a new frame.
    Cells no unit reaches are left out (see :func:`response_surface`).
    """
    owner = times.nearest[grid.node] if len(grid) else np.empty(0, dtype=np.int64)
    owner = np.where(owner == UNREACHED, -1, owner).astype(np.int64)
    values, shapes = _merged(grid, owner)
    at_node: dict[int, list[str]] = {}
    for uid, node in zip(times.unit_ids, times.unit_nodes, strict=True):
        at_node.setdefault(int(node), []).append(uid)
    minutes = times.minutes[grid.node] if len(grid) else np.empty(0)
    medians = [float(np.median(minutes[owner == v])) for v in values]
    return gpd.GeoDataFrame(
        {"unit": [times.unit_ids[v] for v in values],
         "units": [", ".join(at_node.get(int(times.unit_nodes[v]), [times.unit_ids[v]]))
                   for v in values],
         "cells": [int(np.count_nonzero(owner == v)) for v in values],
         "median_min": medians},
        geometry=list(shapes), crs="EPSG:4326",
    )


@dataclass(frozen=True)
class ServiceArea:
    """Where one start node reaches within ``minutes``: polygon, nodes reached and seconds."""

    minutes: float
    node: int
    area: gpd.GeoDataFrame
    nodes_reached: int
    seconds: FloatArray


def service_area(grid: NodeGrid, node: int, *, minutes: float,
                 delay_s: float = 0.0) -> ServiceArea:
    """Return the area reachable from road node ``node`` within ``minutes`` (delay included).

    ``area`` has one row (``minutes``, ``cells``) with the merged cells whose nearest node
    is reached in time, or no row when none is.
    """
    if not (np.isfinite(minutes) and minutes > 0):
        msg = f"minutes must be a positive number, got {minutes}"
        raise DataError(msg)
    net = grid.network
    seconds = times_from(net, [int(node)], limit_s=minutes * 60.0,
                         delay_s=[delay_s] if delay_s else None)[0]
    reached = np.isfinite(seconds) & (seconds <= minutes * 60.0)
    inside = reached[grid.node] if len(grid) else np.zeros(0, dtype=bool)
    labels = np.where(inside, 0, -1).astype(np.int64)
    values, shapes = _merged(grid, labels)
    area = gpd.GeoDataFrame({"minutes": [float(minutes)] * len(values),
                             "cells": [int(inside.sum())] * len(values)},
                            geometry=list(shapes), crs="EPSG:4326")
    return ServiceArea(float(minutes), int(node), area, int(reached.sum()), seconds)


def start_node(cov: Coverage, *, station_id: str | None = None,
               officer_id: str | None = None) -> tuple[int, str]:
    """Return the road node a service area starts from, and a label for it.

    A station starts at the node nearest it; an officer at the node it is placed on in
    ``cov`` when available, else at the node nearest its own position or its station.
    Give exactly one of ``station_id`` and ``officer_id``; unknown ids raise DataError.
    """
    if (station_id is None) == (officer_id is None):
        msg = "give exactly one of station_id and officer_id"
        raise DataError(msg)
    if officer_id is not None and str(officer_id) in cov.units.officer_id:
        i = cov.units.officer_id.index(str(officer_id))
        return int(cov.units.node[i]), f"officer {officer_id}"
    kind, wanted = ("station", station_id) if station_id is not None else ("officer", officer_id)
    frame = cov.dataset.stations if kind == "station" else cov.dataset.officers
    hit = frame.loc[frame[f"{kind}_id"].astype(str) == str(wanted)]
    if hit.empty:
        msg = f"{kind}_id '{wanted}' is not one of the loaded {kind}s"
        raise DataError(msg)
    point = hit.geometry.iloc[0]
    node, _ = cov.dataset.network.nearest_nodes([point.x], [point.y])
    label = f"{kind} {wanted}" + (" (not available)" if kind == "officer" else "")
    return int(node[0]), label
