"""Robust backfill: place reserves for the best *expected* objective under refusal risk.

Each unit fails to answer with a probability by its station's readiness level (DATA.md,
"Expected coverage under refusal risk"); a demand item ``j`` of weight ``w_j`` is covered
with probability ``1 - F_j`` where ``F_j`` is the product of the probabilities of the units
that reach it in time. A reserve of refusal probability ``p`` placed on a site covering
``j`` multiplies ``F_j`` by ``p``, so it adds ``(1 - p) w_j F_j``.

- **One probability for every unit** (the units reaching any item and the reserves): the
  maximum expected covering problem (MEXCLP, Daskin 1983) is solved exactly with HiGHS.
  For a group ``g`` of items covered by the same sites and already reached by ``b_g``
  units, ``z_gl ∈ [0, 1]`` says "reached by at least ``l`` of the new reserves", worth
  ``W_g (1 - p) p^(b_g + l - 1)``; rows ``Σ_l z_gl ≤ Σ_{s ∈ S_g} y_s`` and ``Σ_s y_s ≤ k``.
  The worths fall with ``l``, so the optimum fills the levels in order and the linear
  objective is the expected one. Stage 2 keeps that optimum (within :data:`MIN_GAIN`) and
  places as few reserves as possible.
- **Otherwise** (stations at different levels): lazy greedy. The expected objective is
  monotone submodular in the set of added units and a reserve's gain factorises into
  ``(1 - p_c) G_s``, so each step takes the site with the largest ``G_s`` and the reserve
  class (home station) with the lowest ``p`` still available. ``bound`` is the smallest, over
  the steps, of ``f(S_i)`` plus the best ``k`` gains at ``S_i`` (largest ``G_s`` paired with
  largest ``1 - p_c``, each within its capacity); the plan is proven optimal when it
  meets it within :data:`MIN_GAIN` per reserve (the greedy stops below that gain).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from coverage import settings
from coverage.data.network import FloatArray, IntArray
from coverage.planning.readiness import Readiness, check_refusal_p, station_refusal_p
from coverage.planning.siting import new_highs

_TOL = 1e-9
#: A reserve adding less expected weight than this (a millionth of a node) adds nothing.
MIN_GAIN = 1e-6


@dataclass(frozen=True)
class RefusalRisk:
    """Refusal probability per station (by its level); ``default_p`` for other stations."""

    station_p: Mapping[str, float]
    default_p: float

    def unit_p(self, station_ids: Sequence[str]) -> FloatArray:
        """The probability per unit, from each unit's station."""
        return np.array([self.station_p.get(str(s), self.default_p) for s in station_ids],
                        dtype=np.float64)


def refusal_risk(r: Readiness, *, refusal_p: Mapping[str, float] = settings.REFUSAL_P,
                 ) -> RefusalRisk:
    """The refusal risk of every station of ``r`` (probabilities by level, DATA.md)."""
    p = check_refusal_p(refusal_p)
    return RefusalRisk(station_p=station_refusal_p(r, refusal_p=p), default_p=p["ok"])


@dataclass(frozen=True, eq=False)
class RobustProblem:
    """Inputs of the robust siting problem (module docstring).

    ``cover`` is items x sites; ``fail[j]`` the probability that every current unit reaching
    item ``j`` fails (1 if none reaches it) and ``reached[j]`` how many reach it; reserve
    class ``c`` (a home station) has ``class_cap[c]`` reserves of probability ``class_p[c]``;
    at most ``k`` reserves, ``capacity[s]`` per site. ``single_p`` is the probability when
    every unit and reserve that matters shares one, else None.
    """

    cover: sp.csc_array
    item_weight: FloatArray
    fail: FloatArray
    reached: IntArray
    class_p: FloatArray
    class_cap: IntArray
    k: int
    capacity: IntArray
    single_p: float | None


@dataclass(frozen=True)
class RobustSolution:
    """Reserves in rank order: ``picks[i] = (site, class)`` (class -1: any reserve, as with
    one probability), ``gains[i]`` its expected gain given those before; ``gain`` their sum,
    ``bound`` an upper bound on the best expected gain."""

    picks: tuple[tuple[int, int], ...]
    gains: tuple[float, ...]
    gain: float
    bound: float
    optimal: bool
    method: str


def robust_problem(cover: sp.csc_array, item_weight: FloatArray, reach: sp.csr_array,
                   unit_p: FloatArray, class_p: FloatArray, class_cap: IntArray, *, k: int,
                   capacity: IntArray) -> RobustProblem:
    """Build the problem from the sites' cover (items x sites, every item) and the current
    units' reach (items x units, :func:`coverage.planning.expected.reach_matrix`)."""
    coo = sp.coo_array(reach)
    rows = np.asarray(coo.row, dtype=np.int64)
    p_hit = np.asarray(unit_p, dtype=np.float64)[np.asarray(coo.col, dtype=np.int64)]
    n = reach.shape[0]
    fail = np.ones(n)
    np.multiply.at(fail, rows, p_hit)
    reached = np.bincount(rows, minlength=n).astype(np.int64)
    cap = np.asarray(class_cap, dtype=np.int64)
    ps = np.unique(np.concatenate([p_hit, np.asarray(class_p, dtype=np.float64)[cap > 0]]))
    return RobustProblem(cover=sp.csc_array(cover), item_weight=np.asarray(item_weight, float),
                         fail=fail, reached=reached, class_p=np.asarray(class_p, float),
                         class_cap=cap, k=int(k), capacity=np.asarray(capacity, np.int64),
                         single_p=float(ps[0]) if ps.size == 1 else None)


def expected_gain(pb: RobustProblem, picks: Sequence[tuple[int, int]]) -> float:
    """The expected objective added by ``picks`` ((site, class); class -1 means
    ``single_p``)."""
    fail = pb.fail.copy()
    for s, c in picks:
        items = pb.cover.indices[pb.cover.indptr[s]:pb.cover.indptr[s + 1]]
        fail[items] *= float(pb.single_p or 0.0) if c < 0 else float(pb.class_p[c])
    return float((pb.item_weight * (pb.fail - fail)).sum())


def solve_robust(pb: RobustProblem, *, exact: bool = True,
                 time_limit_s: float = 60.0) -> RobustSolution:
    """Exact MEXCLP with one probability (unless ``exact`` is False, e.g. beyond the
    backfill's exact limit of candidate sites), else lazy greedy (module docstring)."""
    k = min(pb.k, int(pb.class_cap.sum()))
    if k <= 0 or pb.cover.shape[1] == 0:
        return RobustSolution((), (), 0.0, 0.0, True, "mexclp" if pb.single_p is not None
                              else "greedy")
    if pb.single_p is not None and exact:
        return _solve_mexclp(pb, k, time_limit_s)
    return _solve_greedy(pb, k)


def _rank(pb: RobustProblem, count: IntArray) -> tuple[list[tuple[int, int]], list[float]]:
    """Order the placed reserves (one probability) by marginal expected gain."""
    left = count.copy()
    fail = pb.fail.copy()
    p = float(pb.single_p or 0.0)
    picks: list[tuple[int, int]] = []
    gains: list[float] = []
    while left.sum() > 0:
        sites = np.flatnonzero(left > 0)
        g = [float((pb.item_weight * fail)[pb.cover.indices[pb.cover.indptr[s]:
                                                            pb.cover.indptr[s + 1]]].sum())
             * (1 - p) for s in sites]
        best = int(np.argmax(g))
        s = int(sites[best])
        fail[pb.cover.indices[pb.cover.indptr[s]:pb.cover.indptr[s + 1]]] *= p
        left[s] -= 1
        picks.append((s, -1))
        gains.append(g[best])
    return picks, gains


def _solve_mexclp(pb: RobustProblem, k: int, time_limit_s: float) -> RobustSolution:
    import highspy

    p = float(pb.single_p)  # type: ignore[arg-type]
    n_s = pb.cover.shape[1]
    cap = np.minimum(pb.capacity, k)
    rows = pb.cover.tocsr()
    groups: dict[tuple[bytes, int], int] = {}
    weight: list[float] = []
    members: list[IntArray] = []
    base: list[int] = []
    for j in range(rows.shape[0]):
        sites = np.sort(rows.indices[rows.indptr[j]:rows.indptr[j + 1]]).astype(np.int64)
        if sites.size == 0 or pb.item_weight[j] * pb.fail[j] <= 0:
            continue
        key = (sites.tobytes(), int(pb.reached[j]))
        g = groups.setdefault(key, len(groups))
        if g == len(weight):
            weight.append(0.0)
            members.append(sites)
            base.append(int(pb.reached[j]))
        weight[g] += float(pb.item_weight[j])
    # one column per (group, level): worth W (1 - p) p^(b + l - 1), while it is positive
    col_g: list[int] = []
    col_w: list[float] = []
    for g, at in enumerate(members):
        levels = min(k, int(cap[at].sum()))
        for lvl in range(1, levels + 1):
            w = weight[g] * (1 - p) * p ** (base[g] + lvl - 1)
            if w <= MIN_GAIN:
                break
            col_g.append(g)
            col_w.append(w)
    if not col_g:
        return RobustSolution((), (), 0.0, 0.0, True, "mexclp")
    n_z, n_g = len(col_g), len(members)
    gz = np.asarray(col_g)
    used = np.unique(gz)
    row_of = np.full(n_g, -1)
    row_of[used] = np.arange(used.size)
    r_idx = [row_of[gz], np.concatenate([np.full(members[g].size, row_of[g]) for g in used]),
             np.full(n_s, used.size)]
    c_idx = [n_s + np.arange(n_z), np.concatenate([members[g] for g in used]), np.arange(n_s)]
    vals = [np.ones(n_z), -np.ones(c_idx[1].size), np.ones(n_s)]
    n_col, n_row = n_s + n_z, used.size + 1
    a = sp.csc_array((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                     shape=(n_row, n_col))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    z_cost = np.asarray(col_w)
    lp.col_cost_ = np.concatenate([np.zeros(n_s), z_cost])
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.concatenate([cap.astype(np.float64), np.ones(n_z)])
    lp.row_lower_ = np.full(n_row, -inf)
    lp.row_upper_ = np.concatenate([np.zeros(used.size), [float(k)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_s
                       + [highspy.HighsVarType.kContinuous] * n_z)
    lp.sense_ = highspy.ObjSense.kMaximize
    h = new_highs(lp, time_limit_s=time_limit_s)
    h.run()
    proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    best = float(h.getInfo().objective_function_value)
    bound = best if proven else float(h.getInfo().mip_dual_bound)
    if proven:  # stage 2: as few reserves as keep the optimum
        z_idx = (n_s + np.arange(n_z)).astype(np.int32)
        h.addRow(best - MIN_GAIN, inf, n_z, z_idx, z_cost)
        cost = np.concatenate([np.ones(n_s), np.zeros(n_z)])
        h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), cost)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize)
        h.run()
        proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    count = np.rint(np.asarray(h.getSolution().col_value[:n_s])).astype(np.int64)
    picks, gains = _rank(pb, count)
    gain = float(sum(gains))
    return RobustSolution(tuple(picks), tuple(gains), gain, max(bound, gain),
                          bool(proven or gain >= bound - 1e-6), "mexclp")


def _top_pairs(g: FloatArray, g_cap: IntArray, q: FloatArray, q_cap: IntArray, k: int) -> float:
    """Largest sum of ``k`` products ``g_s q_c``, each value used at most its cap times:
    the largest ``g`` paired with the largest ``q`` (rearrangement)."""
    gs = np.repeat(np.sort(g)[::-1], np.minimum(g_cap[np.argsort(g)[::-1]], k))[:k]
    qs = np.repeat(np.sort(q)[::-1], np.minimum(q_cap[np.argsort(q)[::-1]], k))[:k]
    n = min(gs.size, qs.size)
    return float((gs[:n] * qs[:n]).sum())


def _solve_greedy(pb: RobustProblem, k: int) -> RobustSolution:
    cover = pb.cover
    fail = pb.fail.copy()
    site_cap = np.minimum(pb.capacity, k).astype(np.int64)
    left_site = site_cap.copy()
    left_class = pb.class_cap.copy()
    q = 1.0 - pb.class_p

    def site_gain(s: int) -> float:
        items = cover.indices[cover.indptr[s]:cover.indptr[s + 1]]
        return float((pb.item_weight[items] * fail[items]).sum())

    upper = np.array([site_gain(s) for s in range(cover.shape[1])])
    heap = [(-float(upper[s]), s) for s in np.flatnonzero(upper > 0).tolist()]
    heapq.heapify(heap)
    # the bound counts every site and class at its full capacity: a best plan's units
    # outside the greedy's set may sit anywhere (f(OPT) <= f(S) + sum of their gains at S)
    bound = _top_pairs(upper, site_cap, q, pb.class_cap, k)
    picks: list[tuple[int, int]] = []
    gains: list[float] = []
    total = 0.0
    for step in range(k):
        avail = np.flatnonzero(left_class > 0)
        if avail.size == 0:
            break
        c = int(avail[np.lexsort((avail, pb.class_p[avail]))][0])  # lowest p, then first
        chosen = None
        while heap:
            _, s = heapq.heappop(heap)
            if left_site[s] <= 0:
                continue
            g = site_gain(s)
            upper[s] = g
            if not heap or g >= -heap[0][0] - _TOL * max(1.0, g):
                chosen = (s, g)
                break
            if g > 0:
                heapq.heappush(heap, (-g, s))
        if chosen is None or chosen[1] * q[c] <= MIN_GAIN:
            break
        s, g = chosen
        fail[cover.indices[cover.indptr[s]:cover.indptr[s + 1]]] *= pb.class_p[c]
        left_site[s] -= 1
        left_class[c] -= 1
        picks.append((s, c))
        gains.append(g * q[c])
        total += g * q[c]
        upper[s] = site_gain(s)
        if left_site[s] > 0 and upper[s] > 0:
            heapq.heappush(heap, (-float(upper[s]), s))
        if step + 1 < k:
            bound = min(bound, total + _top_pairs(upper, site_cap, q, pb.class_cap, k))
    exact = np.array([site_gain(s) for s in range(cover.shape[1])])
    bound = max(min(bound, total + _top_pairs(exact, site_cap, q, pb.class_cap, k)), total)
    return RobustSolution(tuple(picks), tuple(gains), total, bound,
                          bool(total >= bound - max(_TOL * max(1.0, bound), k * MIN_GAIN)),
                          "greedy")
