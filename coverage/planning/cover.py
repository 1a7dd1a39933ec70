"""Candidate sites and the cover matrix: which site reaches which uncovered zone node in time.

A site covers an item (a zone node) when a unit leaving from the site, ``turnout_s`` late,
reaches the node within its zone's target. The matrix is searched forward from the sites
when they are no more than the items' nodes, else backward from each node, bounded by its
own target (:func:`coverage.planning._groups.reach_grouped`, the figures of
:func:`coverage.engine.traveltime.reach_to`). Used by
:mod:`coverage.planning.backfill`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyogrio
import scipy.sparse as sp
import shapely

from coverage.data.network import IntArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import within_target
from coverage.engine.traveltime import times_from
from coverage.errors import DataError
from coverage.planning._groups import reach_grouped
from coverage.planning.objective import Demand, covered


@dataclass(frozen=True, eq=False)
class Sites:
    """Candidate sites: road node indices and their labels (station ids or node ids)."""

    node: IntArray
    label: tuple[str, ...]
    kind: str



def read_area(path: str | Path) -> Any:
    """Read a polygon file (GeoJSON, GeoPackage, zipped Shapefile) as one WGS84 geometry."""
    p = Path(path)
    try:
        frame = gpd.read_file(p)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            ValueError) as exc:
        msg = f"{p.name}: cannot be read as a polygon file ({exc})"
        raise DataError(msg) from exc
    if frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    geoms = [g for g in frame.geometry if g is not None and not g.is_empty]
    bad = [i + 1 for i, g in enumerate(geoms) if g.geom_type not in ("Polygon", "MultiPolygon")]
    if not geoms or bad:
        msg = (f"{p.name}: row(s) {bad} are not polygons; draw the area as polygons" if bad
               else f"{p.name}: the file holds no polygon; draw the candidate area")
        raise DataError(msg)
    return shapely.union_all([shapely.make_valid(g) for g in geoms])


def candidate_sites(
    cov: Coverage, *, kind: Literal["stations", "nodes"] = "stations", area: Any = None
) -> Sites:
    """Return the candidate sites: each station's road node, or every road node.

    ``area`` (a shapely polygon in lon/lat) keeps only the sites inside it. Stations that
    snap to the same node share one site, labelled ``"PS-01/PS-02"``.
    """
    net = cov.times.network
    if kind == "stations":
        st = cov.dataset.stations
        node, _ = net.nearest_nodes(st.geometry.x.to_numpy(), st.geometry.y.to_numpy())
        labels: dict[int, list[str]] = {}
        for n, sid in zip(node.tolist(), st["station_id"], strict=True):
            labels.setdefault(n, []).append(str(sid))
        nodes = np.array(sorted(labels), dtype=np.int64)
        names = tuple("/".join(labels[n]) for n in nodes.tolist())
    elif kind == "nodes":
        nodes = np.arange(net.n_nodes, dtype=np.int64)
        names = ()
    else:
        msg = f"candidates: '{kind}' is not one of stations, nodes"
        raise DataError(msg)
    if area is not None:
        inside = shapely.intersects_xy(area, net.lon[nodes], net.lat[nodes])
        nodes = nodes[inside]
        names = tuple(n for n, keep in zip(names, inside, strict=True) if keep) if names else ()
        if nodes.size == 0:
            msg = f"area: no candidate {kind[:-1]} lies inside the given area"
            raise DataError(msg)
    if kind == "nodes":
        names = tuple(str(v) for v in net.node_id[nodes])
    return Sites(node=nodes, label=names, kind=kind)


def coverage_matrix(
    cov: Coverage, dem: Demand, sites: Sites, *, turnout_s: float = 0.0,
    items: IntArray | None = None,
) -> tuple[sp.csc_array, IntArray]:
    """Return (cover, items): ``cover[i, s]`` says site ``s`` covers item ``items[i]``.

    ``items`` defaults to the items the run leaves uncovered. Searches run forward from the
    sites when they are no more than the items' nodes (exactly the engine's sums), else
    backward from those nodes, each within its target.
    """
    net = cov.times.network
    if items is None:
        items = np.flatnonzero(~covered(dem, cov.times.seconds))
    n_sites = sites.node.size
    if items.size == 0 or n_sites == 0:
        return sp.csc_array((items.size, n_sites), dtype=bool), items
    targets = dem.target_min[items]
    nodes, inv = np.unique(dem.node[items], return_inverse=True)
    limit = float(targets.max()) * 60.0 * (1 + 1e-9) + 1e-6
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    if n_sites <= nodes.size:
        delay = np.full(n_sites, turnout_s) if turnout_s > 0 else None
        t = times_from(net, sites.node, delay_s=delay, limit_s=limit, columns=nodes)
        s_idx, i_idx = np.nonzero(t[:, inv] / 60.0 <= targets[None, :])
        rows, cols = [i_idx], [s_idx]
    else:
        # backward from each uncovered node, sparse and bounded (reach_to's figures, nearby
        # nodes searched together): each node only as far as its own largest target, less
        # the turnout; a site is any node in reach
        reach = np.zeros(nodes.size)
        np.maximum.at(reach, inv, targets)
        far = np.maximum(reach * 60.0 * (1 + 1e-9) + 1e-6 - turnout_s, 0.0)
        site_of = np.full(net.n_nodes, -1, dtype=np.int64)
        site_of[sites.node] = np.arange(n_sites)
        by_node = np.argsort(inv, kind="stable")  # items grouped by their node
        first = np.searchsorted(inv[by_node], np.arange(nodes.size + 1))
        for lo in range(0, nodes.size, 1024):  # in parts: memory ~ a part's entries
            hi = min(lo + 1024, nodes.size)
            back = reach_grouped(net, nodes[lo:hi], limit_s=far[lo:hi])
            at = site_of[back.node]
            keep = at >= 0
            kept = np.concatenate([[0], np.cumsum(keep)])[back.indptr]
            size, start = np.diff(kept), kept[:-1]  # per node: its entries at a site
            site, seconds = at[keep], back.seconds[keep] + turnout_s
            del back, at, keep
            mine = by_node[first[lo]:first[hi]]
            per = size[inv[mine] - lo]
            item = np.repeat(mine, per)
            pos = np.repeat(start[inv[mine] - lo] - np.cumsum(per) + per, per) \
                + np.arange(int(per.sum()))
            ok = seconds[pos] / 60.0 <= targets[item]
            rows.append(item[ok].astype(np.int32))
            cols.append(site[pos[ok]].astype(np.int32))
    r, c = np.concatenate(rows), np.concatenate(cols)
    cover = sp.csc_array((np.ones(r.size, dtype=bool), (r, c)), shape=(items.size, n_sites))
    return cover, items


def useful_sites(
    cov: Coverage, sites: Sites, cover: sp.csc_array, short: IntArray, *,
    delay_s: npt.ArrayLike | None = None,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Return the sites that can add something, ascending, and their zones x sites counts.

    A site can add something when it covers an uncovered item (a column of ``cover``) or
    reaches, in time, the anchor of a zone short of officers (``short > 0``); the counts
    are :func:`~coverage.engine.metrics.within_target`'s, asked only for the sites covering
    an item or standing in such an anchor's reach (``cov.reach_s``), not for every site.
    """
    reach_any = np.diff(cover.indptr) > 0
    rs = cov.reach_s
    rows = np.flatnonzero(np.asarray(short) > 0)
    near = np.concatenate([rs.node[rs.indptr[z]:rs.indptr[z + 1]] for z in rows.tolist()]
                          + [np.empty(0, np.int64)])
    ask = np.flatnonzero(reach_any | np.isin(sites.node, near))
    delay = None if delay_s is None else np.asarray(delay_s, dtype=np.float64)[ask]
    counts = within_target(cov.zones, rs, sites.node[ask], delay)
    keep = reach_any[ask] | counts[rows].any(axis=0)
    return ask[keep], counts[:, keep]
