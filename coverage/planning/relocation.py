"""Relocation: place k reserves *and* move up to m on-duty officers (DATA.md "Backfill with moves").

A moved officer leaves its position, so what it alone covered from there is lost, and stands
at a candidate site. The problem (:class:`MoveProblem`) works on the demand items that a
plan can change: items not covered for sure (by an officer who cannot move, or by more
officers than may move). Goals, lexicographically (DATA.md):

1. maximise the objective of the final set of units;
2. fewer officers short (``sum_z max(0, min_officers_z - officers within target)``);
3. fewer moves plus reserves;
4. less total travel time of the moved officers.

:func:`solve_moves_exact` solves it as a MILP with HiGHS, one stage per goal, each stage
keeping the previous optimum as a constraint::

    y_s in {0..cap_s}  reserves at site s          m_p in {0, 1}  move p = (unit u_p, site s_p)
    x_g in [0, 1]      item group g covered         f_z >= 0       officers short at zone z
    x_g + sum_{p: u_p in C_g} m_p - sum_{s in S_g} y_s - sum_{p: s_p in S_g} m_p <= |C_g|
    -f_z + sum_p (a_z,u_p - a_z,s_p) m_p - sum_s a_zs y_s <= within_z - need_z
    sum_{p: u_p = u} m_p <= 1     sum_s y_s <= k     sum_p m_p <= m

``C_g`` are the movable units covering the group's items where they stand, ``S_g`` the sites
covering them, ``a`` says a unit counts for a zone (reaches its anchor within target).
:func:`solve_moves_greedy` is the lazy greedy for large candidate sets; its bound is the
reserve-only bound with ``k + m`` reserves: a move adds a unit at the site and removes one,
so no plan does better than adding ``k + m`` units.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from coverage.data.network import FloatArray, IntArray
from coverage.planning.siting import BoolArray, new_highs

logger = logging.getLogger(__name__)

_TOL = 1e-6


@dataclass(frozen=True, eq=False)
class MoveProblem:
    """Inputs of a relocation problem (see the module docstring).

    ``site_cover`` is items x sites and ``unit_cover`` items x movable units (booleans);
    ``site_counts`` / ``unit_counts`` zones x sites / units; ``within`` and ``need`` per
    zone; allowed moves are the pairs ``(pair_unit[p], pair_site[p])`` taking
    ``pair_s[p]`` seconds. At most ``k`` reserves and ``m`` moves; ``capacity[s]`` units
    (reserves and moved officers) per site.
    """

    site_cover: sp.csc_array
    unit_cover: sp.csc_array
    item_weight: FloatArray
    site_counts: BoolArray
    unit_counts: BoolArray
    within: IntArray
    need: IntArray
    pair_unit: IntArray
    pair_site: IntArray
    pair_s: FloatArray
    k: int
    m: int
    capacity: IntArray

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.site_cover.shape[1])

    @property
    def n_units(self) -> int:
        """Number of movable units."""
        return int(self.unit_cover.shape[1])


@dataclass(frozen=True)
class MovePlan:
    """Reserves per site (``count``) and the moves: unit ``moved_unit[i]`` to ``moved_site[i]``.

    ``gain`` is the objective added, ``short`` the officers short after; ``bound`` an upper
    bound on any plan's gain; ``optimal`` says the objective is proven optimal.
    """

    count: IntArray
    moved_unit: IntArray
    moved_site: IntArray
    gain: float
    short: int
    optimal: bool
    method: str
    bound: float


def evaluate(pb: MoveProblem, count: IntArray, units: IntArray, sites: IntArray
             ) -> tuple[float, int]:
    """Return (objective gain, officers short after): ``count`` reserves, ``units`` moved to
    ``sites``."""
    units = np.asarray(units, dtype=np.int64)
    stay = np.ones(pb.n_units)
    stay[units] = 0.0
    at = np.asarray(count, dtype=np.float64).copy()
    np.add.at(at, np.asarray(sites, dtype=np.int64), 1.0)
    now = np.asarray(pb.unit_cover @ np.ones(pb.n_units)) > 0
    hit = (np.asarray(pb.unit_cover @ stay) > 0) | (np.asarray(pb.site_cover @ (at > 0)) > 0)
    within = (pb.within - pb.unit_counts[:, units].sum(axis=1)
              + pb.site_counts.astype(np.int64) @ at.astype(np.int64))
    return (float(pb.item_weight[hit].sum() - pb.item_weight[now].sum()),
            int(np.maximum(pb.need - within, 0).sum()))


def _groups(pb: MoveProblem) -> tuple[sp.csr_array, sp.csr_array, FloatArray]:
    """Merge items covered by the same units and sites: (groups x units, groups x sites, W)."""
    uc, sc = pb.unit_cover.tocsr(), pb.site_cover.tocsr()
    seen: dict[tuple[bytes, bytes], int] = {}
    weight: list[float] = []
    rows_u: list[IntArray] = []
    rows_s: list[IntArray] = []
    for j in range(uc.shape[0]):
        u = uc.indices[uc.indptr[j]:uc.indptr[j + 1]]
        s = sc.indices[sc.indptr[j]:sc.indptr[j + 1]]
        if s.size == 0 and u.size == 0:  # nobody covers it, now or after any plan
            continue
        key = (np.sort(u).tobytes(), np.sort(s).tobytes())
        g = seen.setdefault(key, len(seen))
        if g == len(weight):
            weight.append(0.0)
            rows_u.append(np.sort(u))
            rows_s.append(np.sort(s))
        weight[g] += float(pb.item_weight[j])

    def matrix(rows: list[IntArray], width: int) -> sp.csr_array:
        if not rows:
            return sp.csr_array((0, width))
        r = np.repeat(np.arange(len(rows)), [x.size for x in rows])
        c = np.concatenate(rows) if rows else np.empty(0, np.int64)
        return sp.csr_array((np.ones(r.size), (r, c)), shape=(len(rows), width))

    return (matrix(rows_u, pb.n_units), matrix(rows_s, pb.n_sites),
            np.asarray(weight, dtype=np.float64))


def solve_moves_exact(pb: MoveProblem, *, time_limit_s: float = 60.0) -> MovePlan:
    """Solve ``pb`` exactly with HiGHS in four lexicographic stages (module docstring).

    ``optimal`` is False (and ``bound`` the solver's dual bound) when the time limit stops
    the first stage before it proves optimality.
    """
    import highspy

    n_s, n_u, n_p = pb.n_sites, pb.n_units, int(pb.pair_unit.size)
    gu, gs, w = _groups(pb)
    n_g = w.size
    zones = np.flatnonzero(pb.need > pb.within - pb.m)  # short now, or may become short
    n_z = zones.size
    pu = sp.csr_array((np.ones(n_p), (pb.pair_unit, np.arange(n_p))), shape=(n_u, n_p))
    ps = sp.csr_array((np.ones(n_p), (pb.pair_site, np.arange(n_p))), shape=(n_s, n_p))
    a_u = sp.csr_array(pb.unit_counts[zones].astype(np.float64))
    a_s = sp.csr_array(pb.site_counts[zones].astype(np.float64))
    once = np.flatnonzero(np.asarray(pu.sum(axis=1)).ravel() > 1)
    # columns: y (n_s) | m (n_p) | x (n_g) | f (n_z)
    blocks = [
        [-gs, gu @ pu - gs @ ps, sp.eye_array(n_g), sp.csr_array((n_g, n_z))],
        [-a_s, a_u @ pu - a_s @ ps, sp.csr_array((n_z, n_g)), -sp.eye_array(n_z)],
        [sp.csr_array((once.size, n_s)), pu[once], sp.csr_array((once.size, n_g + n_z)), None],
        [sp.csr_array(np.ones((1, n_s))), sp.csr_array((1, n_p)), sp.csr_array((1, n_g + n_z)),
         None],
        [sp.csr_array((1, n_s)), sp.csr_array(np.ones((1, n_p))), sp.csr_array((1, n_g + n_z)),
         None],
    ]
    rows = [sp.hstack([b for b in blk if b is not None], format="csr") for blk in blocks]
    a = sp.vstack(rows, format="csc")
    a.eliminate_zeros()
    upper = np.concatenate([
        np.asarray(gu.sum(axis=1)).ravel(), (pb.within - pb.need)[zones].astype(np.float64),
        np.ones(once.size), [float(pb.k)], [float(pb.m)]])
    n_col, n_row = n_s + n_p + n_g + n_z, a.shape[0]
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.concatenate([np.minimum(pb.capacity, pb.k).astype(np.float64),
                                    np.ones(n_p), np.ones(n_g), np.full(n_z, inf)])
    lp.row_lower_ = np.full(n_row, -inf)
    lp.row_upper_ = upper
    lp.col_cost_ = np.zeros(n_col)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * (n_s + n_p)
                       + [highspy.HighsVarType.kContinuous] * (n_g + n_z))
    h = new_highs(lp, time_limit_s=time_limit_s)
    if pb.capacity.min(initial=pb.k + pb.m) < pb.k + pb.m:  # units per site, moved ones too
        cap_rows = sp.hstack([sp.eye_array(n_s), ps], format="csr")
        for s in np.flatnonzero(pb.capacity < pb.k + pb.m).tolist():
            idx = cap_rows.indices[cap_rows.indptr[s]:cap_rows.indptr[s + 1]].astype(np.int32)
            h.addRow(-inf, float(pb.capacity[s]), idx.size, idx, np.ones(idx.size))
    y_idx = np.arange(n_s, dtype=np.int32)
    m_idx = (n_s + np.arange(n_p)).astype(np.int32)
    x_idx = (n_s + n_p + np.arange(n_g)).astype(np.int32)
    f_idx = (n_s + n_p + n_g + np.arange(n_z)).astype(np.int32)
    stages: list[tuple[Any, Any, Any]] = [
        (x_idx, w, highspy.ObjSense.kMaximize),
        (f_idx, np.ones(n_z), highspy.ObjSense.kMinimize),
        (np.concatenate([y_idx, m_idx]), np.ones(n_s + n_p), highspy.ObjSense.kMinimize),
        (m_idx, pb.pair_s.astype(np.float64), highspy.ObjSense.kMinimize),
    ]
    proven, bound, first = True, 0.0, True
    previous: tuple[Any, Any, float, Any] | None = None
    for idx, cost, sense in stages:
        if previous is not None:
            p_idx, p_cost, level, p_sense = previous
            slack = _TOL * max(1.0, abs(level))
            if p_sense == highspy.ObjSense.kMaximize:
                h.addRow(level - slack, inf, p_idx.size, p_idx, p_cost)
            else:
                h.addRow(-inf, level + slack, p_idx.size, p_idx, p_cost)
        full = np.zeros(n_col)
        full[idx] = cost
        h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), full)
        h.changeObjectiveSense(sense)
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        if first:
            info = h.getInfo()
            bound = float(info.objective_function_value) if ok else float(info.mip_dual_bound)
            proven, first = ok, False
        if not ok:
            break
        previous = (idx, cost, float(h.getInfo().objective_function_value), sense)
    col = np.asarray(h.getSolution().col_value)
    if col.size < n_col:  # no feasible point found at all: nothing moves
        col = np.zeros(n_col)
    count = np.rint(col[:n_s]).astype(np.int64)
    pairs = np.flatnonzero(np.rint(col[n_s:n_s + n_p]) > 0).astype(np.int64)
    units, sites = pb.pair_unit[pairs], pb.pair_site[pairs]
    gain, short = evaluate(pb, count, units, sites)
    now = float(w @ (np.asarray(gu.sum(axis=1)).ravel() > 0))
    return MovePlan(count, units, sites, gain, short, proven or gain >= bound - now - _TOL,
                    "milp", max(bound - now, gain))


def _short_removed(pb: MoveProblem, within: IntArray, delta: IntArray) -> FloatArray:
    """Officers short removed when zone counts change by ``delta`` (zones x options)."""
    before = np.maximum(pb.need - within, 0).sum()
    after = np.maximum(pb.need[:, None] - within[:, None] - delta, 0).sum(axis=0)
    return np.asarray(before - after, dtype=np.float64)


def solve_moves_greedy(pb: MoveProblem, *, bound_gain: float,
                       travel: Callable[[int, int], float | None] | None = None,
                       sites_per_step: int = 32) -> MovePlan:
    """Greedy: each step takes the reserve or move adding the most (objective, then officers
    short removed; a reserve before a move on a tie).

    Moves are tried to the ``sites_per_step`` sites that would gain most from one more unit;
    ``travel(unit, site)`` gives a move's seconds, or None to refuse it (beyond the travel
    limit, no road path); among equally good moves to a site the nearest officer goes.
    ``bound_gain``
    is a valid upper bound on any plan's gain (the reserve-only bound with ``k + m``
    reserves); the plan is proven optimal when it meets it.
    """
    stay = np.ones(pb.n_units)
    at = np.zeros(pb.n_sites)
    count = np.zeros(pb.n_sites, dtype=np.int64)
    units: list[int] = []
    sites: list[int] = []
    refused: set[tuple[int, int]] = set()
    k, m = pb.k, pb.m
    within = pb.within.astype(np.int64).copy()
    site_counts = pb.site_counts.astype(np.int64)
    unit_counts = pb.unit_counts.astype(np.int64)
    while k > 0 or m > 0:
        cnt = np.asarray(pb.unit_cover @ stay) + np.asarray(pb.site_cover @ (at > 0))
        site_gain = np.asarray(pb.site_cover.T @ (pb.item_weight * (cnt == 0)), dtype=float)
        site_short = _short_removed(pb, within, site_counts)
        room = at < pb.capacity
        best: tuple[float, float, int, int, int] | None = None  # gain, short, -kind, unit, site
        if k > 0 and room.any():
            s = int(np.lexsort((-np.arange(pb.n_sites), site_short,
                                np.where(room, site_gain, -np.inf)))[-1])
            best = (float(site_gain[s]), float(site_short[s]), 0, -1, s)
        free = np.flatnonzero(stay > 0)
        if m > 0 and free.size and room.any():
            top = np.lexsort((site_short, np.where(room, site_gain, -np.inf)))[::-1]
            top = top[room[top]][:sites_per_step]
            lone = sp.csc_array(pb.unit_cover[:, free].multiply(
                (pb.item_weight * (cnt == 1))[:, None]))
            loss = np.asarray(lone.sum(axis=0)).ravel()
            kept = np.asarray((lone.T @ pb.site_cover[:, top]).todense())  # free x top
            gain = site_gain[top][None, :] - loss[:, None] + kept
            delta = site_counts[:, top][:, None, :] - unit_counts[:, free][:, :, None]
            short = _short_removed(pb, within, delta.reshape(len(within), -1)).reshape(
                free.size, top.size)
            order = np.lexsort((short.ravel(), gain.ravel()))[::-1]
            found: tuple[float, float] | None = None  # the best allowed (gain, short)
            nearest, best_site = np.inf, -1
            cand: tuple[float, float, int, int, int] | None = None
            for flat in order.tolist():
                i, j = divmod(flat, top.size)
                u, s = int(free[i]), int(top[j])
                key = (float(gain[i, j]), float(short[i, j]))
                if (best is not None and key <= best[:2]) or (found is not None
                                                              and key < found):
                    break
                if found is not None and s != best_site:  # ties: the nearest, same site
                    continue
                if (u, s) in refused:
                    continue
                secs = 0.0 if travel is None else travel(u, s)
                if secs is None:
                    refused.add((u, s))
                    continue
                if found is None or secs < nearest:
                    found, nearest, best_site = key, secs, s
                    cand = (key[0], key[1], -1, u, s)
            if cand is not None:
                best = cand
        if best is None or (best[0] <= _TOL and best[1] <= 0):
            break
        _, _, kind, u, s = best
        at[s] += 1
        within += site_counts[:, s]
        if kind == 0:
            count[s] += 1
            k -= 1
        else:
            units.append(u)
            sites.append(s)
            stay[u] = 0.0
            within -= unit_counts[:, u]
            m -= 1
    mu, ms = np.array(units, dtype=np.int64), np.array(sites, dtype=np.int64)
    gain_v, short_v = evaluate(pb, count, mu, ms)
    bound = max(bound_gain, gain_v)
    return MovePlan(count, mu, ms, gain_v, short_v,
                    gain_v >= bound - _TOL * max(1.0, bound), "greedy", bound)


def ranked(pb: MoveProblem, plan: MovePlan) -> list[tuple[int, int, float, int]]:
    """Order the plan's actions by marginal gain: a list of (move, site, gain, short removed).

    ``move`` is -1 for a reserve placed at ``site``, else the index into ``plan.moved_unit``.
    Each step takes the remaining action adding the most objective given those before it,
    then removing the most officers short, reserves before moves, then the lower site; the
    gains sum to ``plan.gain``.
    """
    left = [(-1, int(s)) for s in np.flatnonzero(plan.count) for _ in range(int(plan.count[s]))]
    left += [(i, int(s)) for i, s in enumerate(plan.moved_site.tolist())]
    count = np.zeros(pb.n_sites, dtype=np.int64)
    moved: list[int] = []

    def value(c: IntArray, idx: list[int]) -> tuple[float, int]:
        return evaluate(pb, c, plan.moved_unit[idx], plan.moved_site[idx])

    done = value(count, moved)
    out: list[tuple[int, int, float, int]] = []
    while left:
        best: tuple[float, int, int, int] | None = None
        pick = -1
        for n, (i, s) in enumerate(left):
            c2 = count.copy()
            if i < 0:
                c2[s] += 1
            v = value(c2, moved + ([i] if i >= 0 else []))
            key = (v[0] - done[0], done[1] - v[1], -int(i >= 0), -s)
            if best is None or key > best:
                best, pick = key, n
        i, s = left.pop(pick)
        if i < 0:
            count[s] += 1
        else:
            moved.append(i)
        now = value(count, moved)
        out.append((i, s, now[0] - done[0], done[1] - now[1]))
        done = now
    return out
