"""Siting: place k units on candidate sites to maximise weighted coverage, then officer counts.

The problem is a maximal covering location problem with a lexicographic second goal:

1. maximise the weight of demand items newly covered (item ``j`` is covered when at least
   one unit stands on a site ``s`` with ``cover[j, s]``);
2. among those optima, maximise the weighted officer shortfall removed: a unit on site
   ``s`` counts for zone ``z`` when ``counts[z, s]``, and zone ``z`` can use at most
   ``short[z]`` more officers;
3. among those, place as few units as possible.

:func:`solve_exact` solves it as a MILP with HiGHS (``highspy``): integer ``y_s`` units per
site (``0..capacity[s]``, ``sum y <= k``), continuous ``x_g <= sum_{s in g} y_s`` per group
of items covered by the same sites (``x_g <= 1``) and ``u_z <= sum_s counts[z, s] y_s``
(``u_z <= short[z]``); each stage fixes the previous optimum as a constraint.
:func:`solve_greedy` is the lazy greedy for large candidate sets; its coverage is within
``1 - 1/e`` of the optimum, and it reports the tighter online bound
``min_i f(S_i) + (sum of the k largest gains at S_i)``.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from coverage.data.network import FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]
_REL_TOL = 1e-9


@dataclass(frozen=True, eq=False)
class Problem:
    """Inputs of a siting problem (see the module docstring).

    ``cover`` is items x sites (boolean sparse); ``item_weight`` per item; ``counts`` zones x
    sites; ``short`` and ``zone_weight`` per zone; at most ``k`` units, ``capacity[s]`` per
    site.
    """

    cover: sp.csc_array
    item_weight: FloatArray
    counts: BoolArray
    short: IntArray
    zone_weight: FloatArray
    k: int
    capacity: IntArray

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.cover.shape[1])


@dataclass(frozen=True)
class Solution:
    """Units per site and what they add.

    ``gain`` is the coverage weight added, ``short_gain`` the weighted shortfall removed;
    ``bound`` an upper bound on the best possible ``gain``. ``optimal`` is True when the
    coverage optimum is proven (an exact solve, or a greedy that meets its bound).
    """

    count: IntArray
    gain: float
    short_gain: float
    optimal: bool
    method: str
    bound: float


def value(pb: Problem, count: IntArray) -> tuple[float, float]:
    """Return (coverage gain, weighted shortfall removed) of ``count`` units per site."""
    placed = (np.asarray(count) > 0).astype(np.float64)
    hit = np.asarray(pb.cover @ placed) > 0
    added = pb.counts.astype(np.float64) @ np.asarray(count, dtype=np.float64)
    return (float(pb.item_weight[hit].sum()),
            float((pb.zone_weight * np.minimum(added, pb.short)).sum()))


def _zero(pb: Problem, method: str) -> Solution:
    return Solution(np.zeros(pb.n_sites, dtype=np.int64), 0.0, 0.0, True, method, 0.0)


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1: HiGHS prints its banner from C++ on construction."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(lp: Any, *, time_limit_s: float) -> Any:
    """A quiet single-thread HiGHS instance holding ``lp``, asked for the exact optimum
    (``mip_rel_gap`` 0) within ``time_limit_s``."""
    import highspy

    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    return h


def solve_exact(pb: Problem, *, time_limit_s: float = 60.0) -> Solution:
    """Solve ``pb`` exactly with HiGHS in three lexicographic stages (module docstring).

    ``optimal`` is False (and ``bound`` the solver's dual bound) if the time limit stops the
    first stage before it proves optimality.
    """
    import highspy

    if pb.k <= 0 or pb.n_sites == 0:
        return _zero(pb, "milp")
    rows = pb.cover.tocsr()
    groups: dict[bytes, int] = {}
    weight: list[float] = []
    members: list[IntArray] = []
    for j in range(rows.shape[0]):
        sites = rows.indices[rows.indptr[j]:rows.indptr[j + 1]]
        if sites.size == 0:
            continue
        g = groups.setdefault(np.sort(sites).tobytes(), len(groups))
        if g == len(weight):
            weight.append(0.0)
            members.append(np.sort(sites))
        weight[g] += float(pb.item_weight[j])
    zones = np.flatnonzero((pb.short > 0) & pb.counts.any(axis=1))
    n_s, n_g, n_z = pb.n_sites, len(weight), zones.size
    if n_g == 0 and n_z == 0:
        return _zero(pb, "milp")
    # rows: x_g - sum y <= 0 (n_g); u_z - sum counts y <= 0 (n_z); sum y <= k (1)
    r_idx = [np.repeat(np.arange(n_g), [m.size for m in members]) if n_g else np.empty(0, int)]
    c_idx = [np.concatenate(members) if n_g else np.empty(0, int)]
    vals = [-np.ones(c_idx[0].size)]
    zr, zs = np.nonzero(pb.counts[zones])
    r_idx += [np.arange(n_g), n_g + np.arange(n_z), n_g + zr, np.full(n_s, n_g + n_z)]
    c_idx += [n_s + np.arange(n_g), n_s + n_g + np.arange(n_z), zs, np.arange(n_s)]
    vals += [np.ones(n_g), np.ones(n_z), -np.ones(zr.size), np.ones(n_s)]
    n_col, n_row = n_s + n_g + n_z, n_g + n_z + 1
    a = sp.csc_array((np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
                     shape=(n_row, n_col))
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, n_row
    x_cost = np.asarray(weight, dtype=np.float64)
    lp.col_cost_ = np.concatenate([np.zeros(n_s), x_cost, np.zeros(n_z)])
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.concatenate([np.minimum(pb.capacity, pb.k).astype(np.float64),
                                    np.ones(n_g), pb.short[zones].astype(np.float64)])
    lp.row_lower_ = np.full(n_row, -inf)
    lp.row_upper_ = np.concatenate([np.zeros(n_g + n_z), [float(pb.k)]])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, n_row
    lp.integrality_ = ([highspy.HighsVarType.kInteger] * n_s
                       + [highspy.HighsVarType.kContinuous] * (n_g + n_z))
    lp.sense_ = highspy.ObjSense.kMaximize
    h = new_highs(lp, time_limit_s=time_limit_s)
    h.run()
    proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    best = h.getInfo().objective_function_value
    bound = float(h.getInfo().mip_dual_bound) if not proven else float(best)
    x_idx = (n_s + np.arange(n_g)).astype(np.int32)
    u_idx = (n_s + n_g + np.arange(n_z)).astype(np.int32)
    u_cost = pb.zone_weight[zones].astype(np.float64)
    y_idx = np.arange(n_s, dtype=np.int32)
    stages = [(x_idx, x_cost, u_idx, u_cost, highspy.ObjSense.kMaximize),
              (u_idx, u_cost, y_idx, np.ones(n_s), highspy.ObjSense.kMinimize)]
    for fix_idx, fix_cost, next_idx, next_cost, sense in stages:
        if not proven:
            break
        level = float(h.getInfo().objective_function_value)
        h.addRow(level - 1e-6 * max(1.0, abs(level)), inf, fix_idx.size, fix_idx, fix_cost)
        cost = np.zeros(n_col)
        cost[next_idx] = next_cost
        h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), cost)
        h.changeObjectiveSense(sense)
        h.run()
        proven = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    count = np.rint(np.asarray(h.getSolution().col_value[:n_s])).astype(np.int64)
    gain, short_gain = value(pb, count)
    return Solution(count, gain, short_gain, bool(proven) or gain >= bound - 1e-6,
                    "milp", max(bound, gain))


def _top_sum(values: FloatArray, k: int) -> float:
    if values.size <= k:
        return float(values.sum())
    return float(np.partition(values, values.size - k)[-k:].sum())


def solve_greedy(pb: Problem) -> Solution:
    """Lazy greedy on (coverage gain, weighted shortfall gain); see the module docstring.

    Stops when no site adds anything. ``bound`` is the smaller of the online bounds met on
    the way and ``gain / (1 - 1/e)``.
    """
    if pb.k <= 0 or pb.n_sites == 0:
        return _zero(pb, "greedy")
    cover = pb.cover.tocsc()
    left_w = pb.item_weight.astype(np.float64).copy()
    left_short = pb.short.astype(np.int64).copy()
    count = np.zeros(pb.n_sites, dtype=np.int64)

    def gains(s: int) -> tuple[float, float]:
        items = cover.indices[cover.indptr[s]:cover.indptr[s + 1]]
        z = pb.counts[:, s] & (left_short > 0)
        return float(left_w[items].sum()), float(pb.zone_weight[z].sum())

    upper = np.asarray(cover.T @ left_w, dtype=np.float64)
    second = pb.zone_weight[left_short > 0] @ pb.counts[left_short > 0].astype(np.float64)
    useful = np.flatnonzero((upper > 0) | (second > 0))
    heap = [(-float(upper[s]), -float(second[s]), int(s)) for s in useful]
    heapq.heapify(heap)
    total = short_total = 0.0
    bound = _top_sum(upper, pb.k)
    for _ in range(pb.k):
        chosen = None
        while heap:
            _, _, s = heapq.heappop(heap)
            if count[s] >= pb.capacity[s]:
                continue
            g = gains(s)
            upper[s] = g[0]
            if not heap or (g[0], g[1]) >= (-heap[0][0], -heap[0][1]):
                chosen = (s, g)
                break
            if g[0] > 0 or g[1] > 0:
                heapq.heappush(heap, (-g[0], -g[1], s))
        if chosen is None or chosen[1] == (0.0, 0.0):
            break
        s, (g1, g2) = chosen
        count[s] += 1
        left_w[cover.indices[cover.indptr[s]:cover.indptr[s + 1]]] = 0.0
        left_short = np.maximum(left_short - pb.counts[:, s], 0)
        total, short_total = total + g1, short_total + g2
        after = gains(s)
        upper[s] = after[0]
        if count[s] < pb.capacity[s] and (after[0] > 0 or after[1] > 0):
            heapq.heappush(heap, (-after[0], -after[1], s))
        bound = min(bound, total + _top_sum(upper, pb.k))
    exact = np.asarray(cover.T @ left_w, dtype=np.float64)
    bound = min(bound, total + _top_sum(exact, pb.k))
    if total > 0:
        bound = min(bound, total / (1.0 - 1.0 / math.e))
    bound = max(bound, total)
    return Solution(count, total, short_total,
                    total >= bound - _REL_TOL * max(1.0, bound), "greedy", bound)


def marginal_order(pb: Problem, count: IntArray) -> list[tuple[int, float, float]]:
    """Order the placed units by marginal gain: a list of (site, gain, short_gain).

    Each step takes the remaining unit whose site adds the most (coverage, then shortfall,
    then lower site index) given those before it; the gains sum to ``value(pb, count)``.
    """
    picked = np.flatnonzero(np.asarray(count) > 0)
    if picked.size < pb.n_sites:  # only the picked sites' columns matter
        sub = replace(pb, cover=pb.cover[:, picked], counts=pb.counts[:, picked],
                      capacity=pb.capacity[picked])
        return [(int(picked[s]), g, h) for s, g, h in marginal_order(sub, count[picked])]
    left = np.asarray(count, dtype=np.int64).copy()
    placed = np.zeros(pb.n_sites, dtype=np.int64)
    done = value(pb, placed)
    order: list[tuple[int, float, float]] = []
    while left.sum() > 0:
        best: tuple[float, float, int] | None = None
        for site in np.flatnonzero(left > 0).tolist():
            placed[site] += 1
            v = value(pb, placed)
            placed[site] -= 1
            key = (v[0] - done[0], v[1] - done[1], -site)
            if best is None or key > best:
                best = key
        assert best is not None
        chosen = -best[2]
        placed[chosen] += 1
        left[chosen] -= 1
        order.append((chosen, best[0], best[1]))
        done = (done[0] + best[0], done[1] + best[1])
    return order
