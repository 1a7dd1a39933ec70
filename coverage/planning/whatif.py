"""What-if: picking officers to suspend, and the before/after views of a suspension.

    >>> from coverage.data.examples import example_dataset
    >>> from coverage.engine.analysis import analyse, suspend
    >>> before = analyse(example_dataset(), threshold_min=10)
    >>> ids = station_officers(before.dataset.officers, ["S1"])
    >>> ids
    ['A', 'B']
    >>> after = suspend(before, ids)   # D at node 5 is left; 5 reaches neither 1 nor 3
    >>> zone_changes(before, after)[["zone_id", "change", "covered_before", "covered_after"]]
      zone_id              change  covered_before  covered_after
    0      Z2  newly below target             1.0            0.0
    1      Z1  still below target             1.0       0.333333
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage.data.loaders import read_suspension
from coverage.data.uploads import save_upload
from coverage.engine.analysis import Coverage
from coverage.engine.report import compare, key_figures

logger = logging.getLogger(__name__)


def station_officers(officers: gpd.GeoDataFrame, station_ids: Iterable[str]) -> list[str]:
    """Return the ids of every officer of the given stations, in roster order."""
    wanted = {str(s) for s in station_ids}
    mask = officers["station_id"].astype(str).isin(wanted).to_numpy()
    return [str(v) for v in officers.loc[mask, "officer_id"]]


def combine(*lists: Iterable[str]) -> list[str]:
    """Return the ids of all ``lists`` in first-seen order, each once."""
    return list(dict.fromkeys(str(i) for ids in lists for i in ids))


def officer_choices(officers: gpd.GeoDataFrame) -> dict[str, str]:
    """``officer_id -> "id · name · station · status"`` labels for a searchable picker."""
    return {
        str(i): " · ".join(str(v) for v in (i, n, s, st) if v is not None and v == v)
        for i, n, s, st in zip(officers["officer_id"], officers["name"],
                               officers["station_id"], officers["status"], strict=True)
    }


def read_uploaded_list(name: str, data: bytes, officers: gpd.GeoDataFrame) -> list[str]:
    """Read an uploaded suspension list (CSV with ``officer_id``, or one id per line).

    The bytes are saved under a plain file name in a private temporary folder, read with
    :func:`coverage.data.loaders.read_suspension` (ids matching nobody warned about and dropped)
    and deleted. Raises DataError naming the file, row and field.
    """
    path = save_upload(name, data)
    try:
        return read_suspension(path, officers)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


@dataclass(frozen=True)
class FigureChange:
    """One headline figure before and after, as numbers (None: no worst zone)."""

    label: str
    before: float | None
    after: float | None
    unit: str
    worse_when_higher: bool

    @property
    def delta(self) -> float | None:
        """``after - before``, or None when either is missing."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def figure_changes(before: Coverage, after: Coverage) -> list[FigureChange]:
    """The key figures of both runs (:func:`coverage.engine.report.key_figures`), side by side."""
    a, b = key_figures(before), key_figures(after)
    return [
        FigureChange("Available units", a.available_units, b.available_units, "", False),
        FigureChange("Zones with a gap", a.zones_with_gap, b.zones_with_gap, "", True),
        FigureChange("Zone nodes covered", 100 * a.covered_share, 100 * b.covered_share, "%",
                     False),
        FigureChange("Officers short", a.officers_short, b.officers_short, "", True),
        FigureChange("Worst zone p90", a.worst_p90_min, b.worst_p90_min, "min", True),
    ]


def zone_changes(before: Coverage, after: Coverage) -> pd.DataFrame:
    """Return one row per zone with its figures before and after, most harmed first.

    Columns ``zone_id``, ``name``, ``priority``, ``change`` (``newly below target``,
    ``still below target``, ``gap closed`` or ``ok``), ``covered_before``,
    ``covered_after``, ``covered_delta`` (shares), ``p90_before``, ``p90_after``,
    ``p90_delta`` (minutes; missing when unreachable), ``officers_before``,
    ``officers_after``, ``min_officers``. Order: newly below target, then still below,
    then by the largest drop in covered share, then the largest p90 rise; a new frame.
    """
    c = compare(before, after)
    gap_a = c["gap_a"].to_numpy(dtype=bool)
    gap_b = c["gap_b"].to_numpy(dtype=bool)
    change = np.select([gap_b & ~gap_a, gap_b & gap_a, ~gap_b & gap_a],
                       ["newly below target", "still below target", "gap closed"], "ok")
    need = before.table.set_index("zone_id")["min_officers"].reindex(c["zone_id"])
    out = pd.DataFrame({
        "zone_id": c["zone_id"].astype(str),
        "name": c["name"].astype(str),
        "priority": c["priority"],
        "change": change,
        "covered_before": c["covered_share_a"].astype("Float64"),
        "covered_after": c["covered_share_b"].astype("Float64"),
        "covered_delta": c["covered_share_delta"].astype("Float64"),
        "p90_before": c["p90_min_a"].astype("Float64"),
        "p90_after": c["p90_min_b"].astype("Float64"),
        "p90_delta": c["p90_min_delta"].astype("Float64"),
        "officers_before": c["officers_within_target_a"].astype("Int64"),
        "officers_after": c["officers_within_target_b"].astype("Int64"),
        "min_officers": need.to_numpy(),
    })
    rank = pd.Series(change).map({"newly below target": 0, "still below target": 1,
                                  "gap closed": 2, "ok": 3}).to_numpy()
    lost = out["p90_after"].isna() & out["p90_before"].notna()  # became unreachable
    p90 = out["p90_delta"].fillna(0.0).to_numpy(dtype=np.float64)
    p90[lost.to_numpy(dtype=bool)] = np.inf
    out = out.assign(_rank=rank, _cov=out["covered_delta"].fillna(0.0), _p90=p90)
    out = out.sort_values(["_rank", "_cov", "_p90", "zone_id"],
                          ascending=[True, True, False, True], kind="stable")
    return out.drop(columns=["_rank", "_cov", "_p90"]).reset_index(drop=True)
