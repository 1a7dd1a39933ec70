"""The move and robust problems of a backfill, built from a run (plumbing of backfill.py).

:func:`move_problem` gives :mod:`coverage.planning.relocation` the items a plan with moves
can change; :func:`robust_steps` solves the expected objective with
:mod:`coverage.planning.robust`; :func:`reach_after` composes the reach of a plan's units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.data.network import IntArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import within_target
from coverage.planning.cover import Sites, coverage_matrix
from coverage.planning.expected import reach_matrix
from coverage.planning.kit import KitBudget
from coverage.planning.objective import Demand
from coverage.planning.relocation import MoveProblem
from coverage.planning.robust import RefusalRisk, robust_problem, solve_robust
from coverage.planning.siting import Problem


def robust_steps(
    cov: Coverage, dem: Demand, sites: Sites, pool: Any, k: int, capacity: IntArray,
    turnout_s: float, risk: RefusalRisk, kit: KitBudget | None, plain: Problem,
    time_limit_s: float, exact: bool,
) -> tuple[list[tuple[int, int, float, int]], list[str | None], float, bool, str, Any, Any]:
    """Robust steps (-1, site, expected gain, officers short reduced), the home station
    each reserve must come from (None: any), the bound on the expected gain, optimal,
    method, and the units' and sites' reach over every item (items x units, items x sites).

    Reserve classes are home stations, each with its reserves (or those its kit equips).
    """
    cover, _ = coverage_matrix(cov, dem, sites, turnout_s=turnout_s,
                               items=np.arange(len(dem), dtype=np.int64))
    counts = pool["station_id"].astype(str).value_counts()
    classes = sorted(counts.index)
    cap = [kit.equipped.get(c, 0) if kit is not None else int(counts[c]) for c in classes]
    reach = reach_matrix(cov, dem)
    pb = robust_problem(cover, dem.weight, reach,
                        risk.unit_p(cov.units.station_id), risk.unit_p(classes),
                        np.asarray(cap, dtype=np.int64), k=k, capacity=capacity)
    sol = solve_robust(pb, exact=exact, time_limit_s=time_limit_s)
    short = plain.short.copy()
    steps: list[tuple[int, int, float, int]] = []
    for (s, _), g in zip(sol.picks, sol.gains, strict=True):
        hit = plain.counts[:, s] & (short > 0)
        short = short - hit
        steps.append((-1, s, g, int(hit.sum())))
    stations = [None if c < 0 else classes[c] for _, c in sol.picks]
    return steps, stations, sol.bound, sol.optimal, sol.method, reach, cover


def reach_after(cov: Coverage, after: Coverage, dem: Demand, reach: Any, site_cover: Any,
                 site_of: dict[str, int]) -> Any:
    """The reach of ``after``'s units: a unit of ``cov`` standing where it stood keeps its
    column, a placed reserve takes its site's; anything else is searched afresh."""
    old = {o: i for i, o in enumerate(cov.units.officer_id)}
    n_old = reach.shape[1]
    cols = []
    for o, node in zip(after.units.officer_id, after.units.node, strict=True):
        if o in site_of:
            cols.append(n_old + site_of[o])
        elif o in old and int(cov.units.node[old[o]]) == int(node):
            cols.append(old[o])
        else:
            return reach_matrix(after, dem)
    both = sp.hstack([sp.csc_array(reach), sp.csc_array(site_cover)], format="csc")
    return sp.csr_array(both[:, np.asarray(cols, dtype=np.int64)])


def move_problem(
    cov: Coverage, dem: Demand, sites: Sites, *, k: int, m: int, counts: np.ndarray,
    within: IntArray, capacity: IntArray, turnout_s: float, max_move_min: float | None,
    enumerate_pairs: bool,
) -> tuple[MoveProblem, Any]:
    """Build the relocation problem over the items a plan can change (see relocation.py),
    and a function giving a move's travel seconds (None: not allowed).

    Unit coverage is searched forward from the units that stand within the largest target
    of some zone node (one backward search finds them). With ``enumerate_pairs`` the
    allowed moves are listed with their travel seconds: every unit that covers a changeable
    item or counts for a zone, to every useful site within the limit, and for each site the
    ``m`` nearest of each class of interchangeable units. Otherwise the greedy asks the
    travel function (None: not allowed) for the moves it wants.
    """
    net, tt = cov.times.network, cov.times
    n_units = len(tt.unit_ids)
    limit_move = np.inf if max_move_min is None else float(max_move_min) * 60.0
    # which units reach which item in time: the one reach matrix (planning.expected)
    unit_hit = reach_matrix(cov, dem)
    # an item covered by more units than may move stays covered: it is left out
    changeable = np.flatnonzero(np.asarray(unit_hit.sum(axis=1)).ravel() <= m)
    site_cover, _ = coverage_matrix(cov, dem, sites, turnout_s=turnout_s, items=changeable)
    unit_cover = sp.csc_array(unit_hit[changeable])
    unit_counts = within_target(cov.zones, cov.reach_s, tt.unit_nodes, tt.delays)
    need = np.asarray(cov.zones.min_officers, dtype=np.int64)
    useful = np.flatnonzero((np.asarray(site_cover.sum(axis=0)).ravel() > 0)
                            | counts[need > within - m].any(axis=0))
    pair_u: list[IntArray] = []
    pair_s: list[IntArray] = []
    pair_t: list[np.ndarray] = []
    if enumerate_pairs and useful.size and n_units:
        to_site = dijkstra(net.csr_reverse, directed=True, indices=sites.node[useful],
                           limit=limit_move)[:, tt.unit_nodes]
        to_site[sites.node[useful][:, None] == tt.unit_nodes[None, :]] = np.inf
        # units that cover the same changeable items and count for the same zones are
        # interchangeable but for travel: per site, only the m nearest of each such class
        classes: dict[bytes, int] = {}
        cover_csc = unit_cover.tocsc()
        short_rows = unit_counts[need > within - m]  # zones that are or may become short
        klass = np.array([classes.setdefault(
            cover_csc.indices[cover_csc.indptr[u]:cover_csc.indptr[u + 1]].tobytes() + b"|"
            + np.packbits(short_rows[:, u]).tobytes(), len(classes)) for u in range(n_units)],
            dtype=np.int64)
        for r, s in enumerate(useful.tolist()):
            secs = to_site[r]
            ok = np.flatnonzero(np.isfinite(secs) & (secs <= limit_move))
            ok = ok[np.lexsort((ok, secs[ok], klass[ok]))]  # by class, then nearest
            first = np.searchsorted(klass[ok], klass[ok], side="left")
            chosen = ok[np.arange(ok.size) - first < m]
            pair_u.append(chosen)
            pair_s.append(np.full(chosen.size, s, dtype=np.int64))
            pair_t.append(secs[chosen])
    mp = MoveProblem(
        site_cover=site_cover, unit_cover=unit_cover, item_weight=dem.weight[changeable],
        site_counts=counts, unit_counts=unit_counts, within=within, need=need,
        pair_unit=_cat(pair_u, np.int64), pair_site=_cat(pair_s, np.int64),
        pair_s=_cat(pair_t, np.float64), k=k, m=m, capacity=capacity)
    cache: dict[int, np.ndarray] = {}

    def travel(u: int, s: int) -> float | None:
        node = int(sites.node[s])
        if node not in cache:
            cache[node] = dijkstra(net.csr_reverse, directed=True, indices=[node],
                                   limit=limit_move)[0]
        secs = float(cache[node][tt.unit_nodes[u]])
        ok = node != int(tt.unit_nodes[u]) and np.isfinite(secs) and secs <= limit_move
        return secs if ok else None

    return mp, travel


def _cat(parts: list[Any], kind: Any) -> Any:
    return np.concatenate(parts).astype(kind) if parts else np.empty(0, kind)

