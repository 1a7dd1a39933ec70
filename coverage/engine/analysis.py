"""Analysis: one coverage run over a dataset, and incremental what-ifs from it."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from coverage import settings
from coverage.data.dataset import Dataset
from coverage.engine.metrics import (
    Overall,
    ZoneNodes,
    anchor_times,
    gap_order,
    officers_within,
    overall,
    zone_nodes,
    zone_table,
)
from coverage.engine.traveltime import (
    Reach,
    TravelTimes,
    apply_removal,
    removal,
    travel_times,
)
from coverage.engine.units import (
    PlacedUnits,
    UnitCounts,
    apply_suspension,
    available_officers,
    place_units,
    suspended_counts,
    unit_counts,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Coverage:
    """The result of a run: travel times, zone figures and unit counts.

    ``times`` (per node: nearest unit and seconds) and ``reach_s`` (seconds to each zone
    anchor from the nodes within its target, sparse) are the seam later steps read:
    what-ifs and the optimiser reuse them instead of re-running shortest paths.
    """

    dataset: Dataset
    threshold_min: float
    suspended: tuple[str, ...]
    counts: UnitCounts
    units: PlacedUnits
    times: TravelTimes
    zones: ZoneNodes
    reach_s: Reach
    table: pd.DataFrame
    overall: Overall

    @property
    def gaps(self) -> pd.DataFrame:
        """Zones with a gap, most urgent first (see :func:`coverage.engine.metrics.gap_order`)."""
        return gap_order(self.table)


def analyse(
    dataset: Dataset,
    *,
    suspended: Iterable[str] = (),
    threshold_min: float = settings.DEFAULT_THRESHOLD_MIN,
) -> Coverage:
    """Run coverage for ``dataset`` with the officers in ``suspended`` taken out.

    Available units are the on-duty officers not suspended; each stands at its own position,
    else its station, snapped to the nearest road node.
    """
    net = dataset.network
    suspended_t = tuple(dict.fromkeys(str(s) for s in suspended))
    officers = apply_suspension(dataset.officers, suspended_t)
    avail = available_officers(officers)
    units = place_units(net, avail, what=dataset.sources.get("officers", "officers"))
    times = travel_times(net, list(units.officer_id), units.node)
    zn = zone_nodes(net, dataset.zones, threshold_min=threshold_min)
    reach = anchor_times(net, zn)
    cov = _figures(dataset, threshold_min, suspended_t, unit_counts(officers), units, times,
                   zn, reach)
    logger.info(
        "coverage: %d units, %d zones, %d with gaps",
        len(units), cov.overall.zones, cov.overall.zones_with_gap,
    )
    return cov


def _figures(
    dataset: Dataset,
    threshold_min: float,
    suspended: tuple[str, ...],
    counts: UnitCounts,
    units: PlacedUnits,
    times: TravelTimes,
    zn: ZoneNodes,
    reach_s: Reach,
    *,
    previous: pd.DataFrame | None = None,
    changed: npt.NDArray[np.bool_] | None = None,
) -> Coverage:
    within = officers_within(zn, reach_s, units.node, times.delay_s)
    table = zone_table(times, zn, within, previous=previous, changed=changed)
    return Coverage(
        dataset=dataset, threshold_min=threshold_min, suspended=suspended, counts=counts,
        units=units, times=times, zones=zn, reach_s=reach_s, table=table,
        overall=overall(times, table),
    )


def suspend(cov: Coverage, officer_ids: Iterable[str]) -> Coverage:
    """Return a what-if of ``cov`` with more officers suspended, recomputed incrementally.

    Only nodes whose nearest unit is suspended are searched again; zone anchors' reach is
    reused. The figures equal those of :func:`analyse` with the combined suspension list.
    """
    ids = tuple(dict.fromkeys(str(s) for s in officer_ids if str(s) not in cov.suspended))
    if not ids:
        return cov
    all_suspended = (*cov.suspended, *ids)
    drop = set(ids)
    keep = np.array([uid not in drop for uid in cov.units.officer_id], dtype=bool)
    units = replace(
        cov.units,
        officer_id=tuple(u for u, k in zip(cov.units.officer_id, keep, strict=True) if k),
        station_id=tuple(s for s, k in zip(cov.units.station_id, keep, strict=True) if k),
        node=cov.units.node[keep],
        snap_m=cov.units.snap_m[keep],
    )
    change = removal(cov.times, ids)
    times = apply_removal(cov.times, change)
    counts = suspended_counts(cov.dataset.officers, all_suspended)
    hit = np.zeros(cov.times.network.n_nodes, dtype=bool)  # zones whose nodes changed
    hit[change.nodes] = True
    changed = np.array([bool(hit[nodes].any()) for nodes in cov.zones.nodes], dtype=bool)
    return _figures(cov.dataset, cov.threshold_min, all_suspended, counts,
                    units, times, cov.zones, cov.reach_s, previous=cov.table, changed=changed)


def with_officers(cov: Coverage, officers: gpd.GeoDataFrame) -> Coverage:
    """Return ``cov`` re-run with another officers frame (e.g. live positions merged in).

    The road network, zones and their anchors' reach are reused, so only the units'
    placement and one travel-time search are redone; the suspension list is kept. The
    figures equal those of :func:`analyse` on the dataset with ``officers``.
    """
    dataset = replace(cov.dataset, officers=officers)
    marked = apply_suspension(officers, cov.suspended)
    units = place_units(dataset.network, available_officers(marked),
                        what=dataset.sources.get("officers", "officers"))
    times = travel_times(dataset.network, list(units.officer_id), units.node)
    return _figures(dataset, cov.threshold_min, cov.suspended, unit_counts(marked), units,
                    times, cov.zones, cov.reach_s)


def zone_officers(cov: Coverage, zone_id: str) -> pd.DataFrame:
    """Return the available officers who reach ``zone_id``'s anchor within its target.

    Columns ``officer_id``, ``station_id`` and ``minutes``, fastest first.
    """
    try:
        z = cov.zones.zone_id.index(zone_id)
    except ValueError:
        msg = f"zone_id {zone_id!r} is not one of the loaded zones"
        raise KeyError(msg) from None
    seconds = cov.reach_s.at(cov.units.node)[z] if len(cov.units) else np.empty(0)
    hit = np.flatnonzero(seconds <= cov.zones.target_min[z] * 60.0)
    table = pd.DataFrame(
        {
            "officer_id": [cov.units.officer_id[i] for i in hit],
            "station_id": [cov.units.station_id[i] for i in hit],
            "minutes": seconds[hit] / 60.0,
        }
    )
    return table.sort_values(["minutes", "officer_id"], kind="stable").reset_index(drop=True)
