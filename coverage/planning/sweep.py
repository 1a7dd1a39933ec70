"""Sweeps: many removal scenarios through one executor (local processes or a Dask cluster).

A :class:`SweepModel` holds what evaluating a removal needs (the run's travel times on a
slimmed network, the demand items and the officer counts); it is shipped to each worker
once: through the process pool's initializer, or scattered to a Dask cluster with
``broadcast=True``. Tasks carry only officer ids, in batches, and return :class:`Outcome`
records in input order, so both executors give identical results.

Examples
--------
The tiny district has objective 12 (:mod:`coverage.planning.criticality` works it out by
hand): B alone loses 6, D 3, A nothing; A and B lose nodes 1, 3 and 4, B and D nodes 3, 4
and 5, A and D node 5 (3 per node).

>>> from coverage.data.examples import example_dataset
>>> from coverage.engine.analysis import analyse
>>> cov = analyse(example_dataset(), threshold_min=10)
>>> sw = sweep(cov, runs=20, size=2, workers=0)   # in this process; 3 officers, 3 pairs
>>> sw.criticality[["officer_id", "objective"]].values.tolist()
[['B', 6.0], ['D', 9.0], ['A', 12.0]]
>>> pairs = sw.random.drop_duplicates("removed").sort_values("removed")
>>> pairs[["removed", "objective"]].values.tolist()
[['A,B', 3.0], ['A,D', 9.0], ['B,D', 3.0]]
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from coverage.data.network import IntArray
from coverage.engine.analysis import Coverage
from coverage.engine.metrics import covered, lost_items, within_target
from coverage.engine.traveltime import TravelTimes, removal
from coverage.errors import CoverageError, DataError
from coverage.planning.objective import BoolArray, Demand, Weights, as_number, demand

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SweepModel:
    """A run reduced to what evaluating removals needs (picklable).

    The network keeps only its node ids and reverse CSR (what a removal searches); the
    travel times carry their units' areas, so a worker starts with no set-up. About 80 MB at
    a million road nodes.
    """

    times: TravelTimes
    demand: Demand
    counts: BoolArray
    within: IntArray
    min_officers: IntArray
    hit: BoolArray
    objective: float
    missing: IntArray


@dataclass(frozen=True)
class Outcome:
    """Figures after removing ``removed`` (objective as in DATA.md, the rest as the report)."""

    removed: tuple[str, ...]
    objective: float
    objective_lost: float
    covered_share: float
    zones_with_gap: int
    officers_short: int


@dataclass(frozen=True, eq=False)
class Sweep:
    """Baseline, one removal per officer (``criticality``) and random removals (``random``)."""

    baseline: Outcome
    criticality: pd.DataFrame
    random: pd.DataFrame
    size: int
    seed: int


def sweep_model(cov: Coverage, *, weights: Weights | None = None) -> SweepModel:
    """Return the model of ``cov`` for sweeps; the network keeps only its reverse CSR."""
    tt = cov.times
    net = tt.network
    none_i, none_f = np.empty(0, dtype=np.int64), np.empty(0)
    slim = replace(net, lon=none_f, lat=none_f, edge_u=none_i, edge_v=none_i,
                   length_m=none_f, travel_time_s=none_f, highway=np.empty(0, dtype=np.str_),
                   name=np.empty(0, dtype=np.str_), geom_offsets=np.zeros(1, dtype=np.int64),
                   geom_xy=np.empty((0, 2)))
    # removals search the reverse CSR only: seed the copy's cache with it (pickled along)
    slim.__dict__["csr_reverse"] = net.csr_reverse
    times = replace(tt, network=slim)
    for name in ("areas", "units_by_node", "unit_index"):  # computed once, pickled along
        times.__dict__[name] = getattr(tt, name)
    counts = within_target(cov.zones, cov.reach_s, tt.unit_nodes, tt.delay_s)
    d = demand(cov.zones, weights=weights)
    hit = covered(d, tt.seconds)
    return SweepModel(times=times, demand=d, counts=counts,
                      within=counts.sum(axis=1).astype(np.int64),
                      min_officers=np.asarray(cov.zones.min_officers, dtype=np.int64),
                      hit=hit, objective=float(d.weight[hit].sum()),
                      missing=np.bincount(d.zone[~hit], minlength=len(cov.zones.zone_id)))


def evaluate(model: SweepModel, removed: Sequence[str]) -> Outcome:
    """Return the outcome of removing ``removed`` (unknown ids are ignored).

    Only the demand items in the removed officers' areas can change; they are searched
    again (:func:`~coverage.engine.traveltime.removal`) only when one of them is covered.
    """
    d = model.demand
    tt = model.times
    ids = tuple(removed)
    index = tt.unit_index
    gone = np.unique(np.asarray([i for uid in dict.fromkeys(ids) for i in index.get(uid, ())],
                                dtype=np.int64))
    lost = np.empty(0, dtype=np.int64)
    if gone.size:
        order, ptr = tt.areas
        area = np.concatenate([order[ptr[u] : ptr[u + 1]] for u in gone.tolist()])
        items, _ = d.items_at(area)
        if model.hit[items].any():
            change = removal(tt, ids)
            lost = lost_items(d, model.hit, change.nodes, change.seconds)
    hit = model.hit
    missing = model.missing
    if lost.size:
        hit = hit.copy()
        hit[lost] = False
        missing = missing + np.bincount(d.zone[lost], minlength=missing.size)
    within = model.within - model.counts[:, gone].sum(axis=1)
    short = np.maximum(model.min_officers - within, 0)
    value = float(d.weight[hit].sum()) if lost.size else model.objective
    return Outcome(
        removed=ids, objective=value, objective_lost=model.objective - value,
        covered_share=float(hit.mean()) if hit.size else 0.0,
        zones_with_gap=int(((missing > 0) | (within < model.min_officers)).sum()),
        officers_short=int(short.sum()),
    )


_MODEL: SweepModel | None = None


def _init_worker(model: SweepModel) -> None:
    global _MODEL  # the worker's own copy, set once by the pool initializer
    _MODEL = model


def _run_local(batch: list[tuple[str, ...]]) -> list[Outcome]:
    assert _MODEL is not None, "worker started without its model"
    return [evaluate(_MODEL, ids) for ids in batch]


def _run_with(model: SweepModel, batch: list[tuple[str, ...]]) -> list[Outcome]:
    return [evaluate(model, ids) for ids in batch]


def run_sweep(
    model: SweepModel,
    scenarios: Sequence[Sequence[str]],
    *,
    workers: int | None = None,
    dask: str | None = None,
    batch: int | None = None,
    progress: bool = False,
    start_method: str | None = None,
) -> list[Outcome]:
    """Evaluate each removal list in ``scenarios``; return the outcomes in the same order.

    Parameters
    ----------
    workers
        Local worker processes (default: CPU count); 0 runs in this process.
    dask
        A Dask scheduler address (``tcp://host:port``): run there instead; the model is
        scattered once to every worker (``broadcast=True``).
    batch
        Scenarios per task (default: about eight tasks per worker).
    progress
        Show a tqdm bar on stderr.
    start_method
        Process start method. Default: ``forkserver`` where available (a clean server
        process imports this module once and forks the workers), else ``spawn``; both are
        safe when this process runs threads, unlike ``fork``.
    """
    jobs = [tuple(str(o) for o in s) for s in scenarios]
    n_workers = (os.cpu_count() or 1) if workers is None else max(0, int(workers))
    size = batch or max(1, math.ceil(len(jobs) / max(1, 8 * max(n_workers, 1))))
    batches = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    out: list[list[Outcome]] = [[] for _ in batches]
    bar = tqdm(total=len(jobs), file=sys.stderr, disable=not progress, unit="scenario",
               desc="sweep", leave=False)
    try:
        if dask:
            _on_dask(dask, model, batches, out, bar)
        elif n_workers == 0 or not batches:
            for i, b in enumerate(batches):
                out[i] = _run_with(model, b)
                bar.update(len(b))
        else:
            ctx = _context(start_method)
            with ProcessPoolExecutor(max_workers=min(n_workers, len(batches)), mp_context=ctx,
                                     initializer=_init_worker, initargs=(model,)) as pool:
                _collect(pool, _run_local, [(b,) for b in batches], out, bar)
    finally:
        bar.close()
    logger.info("sweep: %d scenarios in %d batches", len(jobs), len(batches))
    return [o for part in out for o in part]


def _context(start_method: str | None) -> Any:
    """Return the multiprocessing context (forkserver preloading this module by default)."""
    if start_method is None:
        available = multiprocessing.get_all_start_methods()
        start_method = "forkserver" if "forkserver" in available else "spawn"
    ctx = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload([__name__])
    return ctx


def _collect(executor: Executor, fn: Callable[..., list[Outcome]], args: list[tuple[Any, ...]],
             out: list[list[Outcome]], bar: Any) -> None:
    """Submit ``fn(*a)`` for each ``a`` and gather the results in order as they finish."""
    futures: dict[Future[list[Outcome]], int] = {
        executor.submit(fn, *a): i for i, a in enumerate(args)}
    for fut in as_completed(futures):
        out[futures[fut]] = fut.result()
        bar.update(len(out[futures[fut]]))


def _on_dask(address: str, model: SweepModel, batches: list[list[tuple[str, ...]]],
             out: list[list[Outcome]], bar: Any) -> None:
    from distributed import Client

    try:
        client = Client(address, set_as_default=False, timeout="10s")
    except (OSError, TimeoutError) as exc:
        msg = f"--dask {address}: cannot reach the Dask scheduler ({exc})"
        raise CoverageError(msg) from exc
    with client:
        shared = client.scatter(model, broadcast=True)
        executor = client.get_executor()
        _collect(executor, _run_with, [(shared, b) for b in batches], out, bar)


def random_suspensions(
    model: SweepModel, runs: int, size: int, *, seed: int = 0
) -> list[tuple[str, ...]]:
    """Return ``runs`` random sets of ``size`` available officers (sorted ids, seeded)."""
    ids = sorted(model.times.unit_ids)
    if runs < 0 or not 0 <= size <= len(ids):
        msg = (f"random suspensions: need runs >= 0 and size in 0..{len(ids)} (available "
               f"officers), got runs={runs}, size={size}")
        raise DataError(msg)
    rng = np.random.default_rng(seed)
    return [tuple(sorted(rng.choice(ids, size=size, replace=False).tolist()))
            for _ in range(runs)]


def sweep(
    cov: Coverage,
    *,
    runs: int = 200,
    size: int = 42,
    seed: int = 0,
    weights: Weights | None = None,
    workers: int | None = None,
    dask: str | None = None,
    progress: bool = False,
    singles: bool = True,
) -> Sweep:
    """Remove each available officer alone, then ``runs`` random sets of ``size`` officers.

    The single removals run in this process, each over its own officer's area (together
    about one pass over the network; ``singles=False`` skips them); the random sets run
    through one executor (see :func:`run_sweep`).
    """
    model = sweep_model(cov, weights=weights)
    draws = random_suspensions(model, runs, size, seed=seed)
    base = evaluate(model, ())
    crit = [evaluate(model, (o,)) for o in model.times.unit_ids] if singles else []
    rand = run_sweep(model, draws, workers=workers, dask=dask, progress=progress)
    table = pd.DataFrame([{"officer_id": o.removed[0], **_figures(o)} for o in crit])
    if len(table):
        table = table.sort_values(["objective_lost", "officers_short", "officer_id"],
                                  ascending=[False, False, True], kind="stable")
    random = pd.DataFrame([{"run": i, **_figures(o), "removed": ",".join(o.removed)}
                           for i, o in enumerate(rand)])
    return Sweep(baseline=base, criticality=table.reset_index(drop=True), random=random,
                 size=size, seed=seed)


def _figures(o: Outcome) -> dict[str, Any]:
    return {"objective": o.objective, "objective_lost": o.objective_lost,
            "covered_share": o.covered_share, "zones_with_gap": o.zones_with_gap,
            "officers_short": o.officers_short}


def _spread(values: pd.Series) -> dict[str, Any]:
    if values.empty:
        return {}
    q = np.percentile(values.to_numpy(dtype=np.float64), [0, 5, 25, 50, 75, 95, 100])
    keys = ("min", "p5", "p25", "p50", "p75", "p95", "max")
    return {**{k: as_number(round(float(v), 9)) for k, v in zip(keys, q, strict=True)},
            "mean": as_number(round(float(values.mean()), 9))}


def sweep_dict(sw: Sweep, *, top: int = 20) -> dict[str, Any]:
    """Return the JSON object of ``python -m coverage sweep``."""
    rnd = sw.random
    return {
        "baseline": {k: as_number(v) if isinstance(v, float) else v
                     for k, v in _figures(sw.baseline).items()},
        "criticality": [{k: as_number(v) if isinstance(v, float) else v for k, v in r.items()}
                        for r in sw.criticality.head(top).to_dict(orient="records")],
        "officers": len(sw.criticality),
        "random": {"runs": len(rnd), "size": sw.size, "seed": sw.seed, **{
            col: _spread(rnd[col]) if len(rnd) else {} for col in (
                "objective", "objective_lost", "covered_share", "zones_with_gap",
                "officers_short")}},
        "outcomes": [{k: as_number(v) if isinstance(v, float) else v for k, v in r.items()}
                     for r in rnd.to_dict(orient="records")],
    }
