"""Who goes where: ranked backfill steps become orders naming real officers.

In rank order, each reserve placement takes the nearest remaining reserve officer (travel
time over the roads from where the officer stands to the site; ties to the lower officer
id; one with no road path only when none has one); each move names its officer and travel
time. Used by :mod:`coverage.planning.backfill`.

The seconds come from searches against traffic from each chosen site, only as far as
needed: a search bounded by ``limit`` gives exactly the unbounded search's seconds within
it (``inf`` beyond), so when a free reserve lies within the limit the nearest one found is
the nearest of all. Otherwise the site is searched again with twice the limit, and at
last without one.

Examples
--------
>>> from coverage.data.examples import example_dataset
>>> from coverage.engine.analysis import analyse, suspend
>>> cov = suspend(analyse(example_dataset(), threshold_min=10), ["A", "B"])
>>> from coverage.planning.cover import candidate_sites
>>> pool = cov.dataset.officers.query("status == 'reserve'").reset_index(drop=True)
>>> placed, moved = assign(cov, pool, candidate_sites(cov), [(-1, 0, 3.0, 1)], [])
>>> [(p.officer_id, p.site, p.travel_min) for p in placed], moved
([('C', 'S1', None)], [])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from coverage.data.network import FloatArray, IntArray, RoadNetwork
from coverage.engine.analysis import Coverage
from coverage.engine.traveltime import reach_to
from coverage.engine.units import place_units
from coverage.planning.cover import Sites

#: Seconds of the first search from a chosen site towards the officers.
FIRST_LIMIT_S = 600.0

#: Each wider search multiplies the limit by this; beyond 16 x the first, no limit.
WIDEN = 2.0

#: A step: (index of the moved unit or -1 for a reserve, site, gain, officers short reduced).
Step = tuple[int, int, float, int]


@dataclass(frozen=True)
class ReservePlacement:
    """One reserve officer sent to a site; gains are marginal (given the orders ranked before)."""

    rank: int
    officer_id: str
    from_station: str
    site: str
    node_id: int
    lon: float
    lat: float
    travel_min: float | None
    gain: float
    officers_short_reduced: int
    from_lon: float
    from_lat: float


@dataclass(frozen=True)
class OfficerMove:
    """One available on-duty officer moved from where it stands to a site (DATA.md ``moves``).

    ``gain`` is marginal (given the orders ranked before; it may be below what the site
    alone adds, since the officer's old position is left); ``travel_min`` from its position.
    """

    rank: int
    officer_id: str
    from_station: str
    site: str
    node_id: int
    lon: float
    lat: float
    travel_min: float
    gain: float
    officers_short_reduced: int
    from_lon: float
    from_lat: float


class _ToSite:
    """Seconds from the nodes ``need`` (ascending) to each site, against traffic, searched
    no further than the caller needs (see the module's docstring)."""

    def __init__(self, net: RoadNetwork, need: IntArray, sites: npt.ArrayLike) -> None:
        self.net, self.need = net, need
        first = np.unique(np.asarray(sites, dtype=np.int64))
        self.found = dict(zip(first.tolist(), self._search(first, FIRST_LIMIT_S), strict=True))
        self.limit = dict.fromkeys(first.tolist(), FIRST_LIMIT_S)

    def _search(self, sites: IntArray, limit: float) -> list[FloatArray]:
        back = reach_to(self.net, sites, limit_s=limit)
        out = []
        for z in range(sites.size):
            node = back.node[back.indptr[z]:back.indptr[z + 1]]
            secs = back.seconds[back.indptr[z]:back.indptr[z + 1]]
            pos = np.minimum(np.searchsorted(node, self.need), max(node.size - 1, 0))
            hit = (node[pos] == self.need) if node.size else np.zeros(self.need.size, bool)
            out.append(np.where(hit, secs[pos] if node.size else np.inf, np.inf))
        return out

    def seconds(self, site: int, enough: Callable[[FloatArray], bool]) -> FloatArray:
        """Seconds from each ``need`` node to ``site`` (``inf``: beyond the search), searched
        until ``enough`` of them holds or the whole network was searched."""
        secs, limit = self.found[site], self.limit[site]
        while not enough(secs) and math.isfinite(limit):
            limit = math.inf if limit >= 16.0 * FIRST_LIMIT_S else max(WIDEN * limit, 1.0)
            secs = self._search(np.array([site], dtype=np.int64), limit)[0]
        self.found[site], self.limit[site] = secs, limit
        return secs


def _any_finite(secs: FloatArray, *, cols: IntArray) -> bool:
    return bool(np.isfinite(secs[cols]).any())


def assign(
    cov: Coverage, pool: Any, sites: Sites, steps: Sequence[Step], moved_unit: npt.ArrayLike,
    *, kit_left: dict[str, int] | None = None, step_station: Sequence[str | None] | None = None,
) -> tuple[list[ReservePlacement], list[OfficerMove]]:
    """Turn ranked steps into orders: each reserve placement takes the nearest remaining
    reserve officer of ``pool`` (sorted by officer id); each move names its officer (unit
    ``moved_unit[i]`` of the run for step index ``i``), from station and travel time.

    ``kit_left`` (reserves each station can still equip; updated) keeps unequipped reserves
    home; ``step_station[i]`` names the home station step ``i``'s reserve must come from.
    """
    if not steps:
        return [], []
    net, tt = cov.times.network, cov.times
    moved_unit = np.asarray(moved_unit, dtype=np.int64)
    placed_pool = place_units(cov.dataset.network, pool, what="reserve officers")
    need = np.unique(np.concatenate([placed_pool.node, tt.unit_nodes[moved_unit]]))
    to_site = _ToSite(net, need, [sites.node[s] for _, s, _, _ in steps])
    at_pool = np.searchsorted(need, placed_pool.node)  # pool's columns in the seconds
    home = pool["station_id"].astype(str).to_numpy()
    free = np.ones(len(pool), dtype=bool)
    station = dict(zip(cov.units.officer_id, cov.units.station_id, strict=True))
    placed: list[ReservePlacement] = []
    moved: list[OfficerMove] = []
    for rank, (i, s, gain, reduced) in enumerate(steps, start=1):
        node = int(sites.node[s])
        where: dict[str, Any] = {"site": sites.label[s], "node_id": int(net.node_id[node]),
                                 "lon": float(net.lon[node]), "lat": float(net.lat[node])}
        if i >= 0:
            u = int(moved_unit[i])
            col = int(np.searchsorted(need, tt.unit_nodes[u]))
            secs = to_site.seconds(node, partial(_any_finite, cols=np.array([col])))
            oid = tt.unit_ids[u]
            moved.append(OfficerMove(
                rank=rank, officer_id=oid, from_station=station.get(oid, ""),
                travel_min=float(secs[col]) / 60.0, gain=gain,
                officers_short_reduced=reduced, from_lon=float(net.lon[tt.unit_nodes[u]]),
                from_lat=float(net.lat[tt.unit_nodes[u]]), **where))
            continue
        ok = free.copy()
        if kit_left is not None:
            ok &= np.array([kit_left.get(h, 0) > 0 for h in home], dtype=bool)
        if step_station is not None and step_station[rank - 1] is not None:
            ok &= home == step_station[rank - 1]
        cols = at_pool[ok]
        found = to_site.seconds(node, partial(_any_finite, cols=cols))
        secs = np.where(ok, found[at_pool], np.inf)
        r = int(np.flatnonzero(ok)[0]) if not np.isfinite(secs).any() else int(np.argmin(secs))
        free[r] = False
        if kit_left is not None:
            kit_left[home[r]] -= 1
        travel = float(secs[r])
        placed.append(ReservePlacement(
            rank=rank, officer_id=str(pool["officer_id"].iloc[r]),
            from_station=str(pool["station_id"].iloc[r]),
            travel_min=travel / 60.0 if np.isfinite(travel) else None, gain=gain,
            officers_short_reduced=reduced, from_lon=float(net.lon[placed_pool.node[r]]),
            from_lat=float(net.lat[placed_pool.node[r]]), **where))
    return placed, moved
