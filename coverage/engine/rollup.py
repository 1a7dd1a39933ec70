"""Rollup: the figures of one run per district (available units, zones, gaps, shortfall).

Per district (:mod:`coverage.data.districts`): ``stations``; ``available`` units (DATA.md:
the run's available units, counted at their roster station's district wherever they
stand); ``zones``; ``zones_with_gap`` (the run's ``gap``, live or not, as the run was
made); ``officers_short`` (sum over the district's zones of ``min_officers -
officers_within_target``, never below 0); ``covered_share`` (share of the district's zone
nodes reached within their target). Summed over districts they give the run's overall
figures (``tests/engine/test_rollup.py`` checks this and an independent count).

    >>> from coverage.data.districts import districts_of
    >>> from coverage.data.examples import example_dataset
    >>> from coverage.engine.analysis import analyse
    >>> cov = analyse(example_dataset(), threshold_min=10)
    >>> d = districts_of(cov.dataset.stations, cov.dataset.zones, {"S1": "North", "S2": "South"})
    >>> district_figures(cov, d)[["district", "available", "zones", "zones_with_gap",
    ...                           "officers_short"]]
      district  available  zones  zones_with_gap  officers_short
    0    North          2      1               0               0
    1    South          1      1               1               1
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage.data.districts import Districts, natural_key
from coverage.engine.analysis import Coverage

#: Columns of :func:`district_figures`, in order.
ROLLUP_COLUMNS = ("district", "stations", "available", "zones", "zones_with_gap",
                  "officers_short", "covered_share")


def district_figures(cov: Coverage, districts: Districts) -> pd.DataFrame:
    """Return one row per district of ``cov``'s figures (a new frame, columns above).

    Districts are in :attr:`Districts.names` order, then any other district a unit or zone
    falls in (:data:`~coverage.data.districts.UNASSIGNED`). Without a grouping
    (``districts.grouped`` is False) there is one row, ``All``.
    """
    table = cov.table
    if districts.grouped:
        unit_d = districts.of_stations(list(cov.units.station_id))
        zone_d = districts.of_zones(table["zone_id"])
        station_d = districts.of_stations(cov.dataset.stations["station_id"])
        names = list(districts.names)
        names += sorted({*unit_d, *zone_d} - set(names), key=natural_key)
    else:
        unit_d = np.full(len(cov.units), "All", dtype=object)
        zone_d = np.full(len(table), "All", dtype=object)
        station_d = np.full(len(cov.dataset.stations), "All", dtype=object)
        names = ["All"]
    short = (table["min_officers"].astype("int64")
             - table["officers_within_target"].astype("int64")).clip(lower=0).to_numpy()
    gap = table["gap"].to_numpy(dtype=bool)
    nodes = table["nodes"].to_numpy(dtype=np.float64)
    covered = table["covered_share"].to_numpy(dtype=np.float64) * nodes
    rows = []
    for name in names:
        z = zone_d == name
        n = float(nodes[z].sum())
        rows.append({"district": name, "stations": int(np.count_nonzero(station_d == name)),
                     "available": int(np.count_nonzero(unit_d == name)),
                     "zones": int(z.sum()), "zones_with_gap": int(gap[z].sum()),
                     "officers_short": int(short[z].sum()),
                     "covered_share": float(covered[z].sum() / n) if n else float("nan")})
    return pd.DataFrame(rows, columns=list(ROLLUP_COLUMNS))


