"""Coverage figures on the tiny district, checked by hand.

See tests/conftest.py and tests/support/tiny.py.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coverage.engine.analysis import analyse, suspend
from coverage.engine.report import report_dict, report_table
from tests.support.tiny import T13, T43


def zone(rep: dict, zone_id: str) -> dict:
    return next(z for z in rep["zones"] if z["zone_id"] == zone_id)


def test_baseline_by_hand(dataset) -> None:
    rep = report_dict(analyse(dataset, threshold_min=10))
    assert rep["units"] == {"on_duty": 3, "reserve": 1, "off_duty": 1, "suspended": 0,
                            "available": 3}
    z1 = zone(rep, "Z1")
    assert z1["nodes"] == 3
    assert z1["covered_share"] == 1.0
    assert z1["p50_min"] == 0.0
    assert z1["p90_min"] == pytest.approx(0.8 * T43 / 60)
    assert z1["max_min"] == pytest.approx(T43 / 60)
    assert z1["unreachable_nodes"] == 0
    # anchor is node 3: B (26.7 s) is within 0.5 min, A (33.2 s) is not, D cannot get out
    assert z1["officers_within_target"] == 1
    assert z1["min_officers"] == 2
    assert z1["gap"] is True
    assert z1["priority"] == 1
    assert z1["target_min"] == 0.5
    z2 = zone(rep, "Z2")
    assert (z2["nodes"], z2["covered_share"], z2["officers_within_target"]) == (1, 1.0, 2)
    assert z2["target_min"] == 10.0
    assert z2["min_officers"] == 1
    assert z2["priority"] is None
    assert z2["gap"] is False
    assert rep["overall"]["zones_with_gap"] == 1
    assert rep["overall"]["covered_share"] == 1.0
    assert rep["gaps"] == ["Z1"]


def check_suspended(rep: dict) -> None:
    assert rep["units"] == {"on_duty": 2, "reserve": 1, "off_duty": 1, "suspended": 1,
                            "available": 2}
    z1 = zone(rep, "Z1")
    assert z1["covered_share"] == pytest.approx(1 / 3)
    assert z1["unreachable_nodes"] == 1
    assert z1["max_min"] is None
    assert z1["p50_min"] == pytest.approx(T13 / 60)
    assert z1["p90_min"] is None
    assert z1["officers_within_target"] == 0
    assert zone(rep, "Z2")["officers_within_target"] == 1
    assert rep["overall"]["covered_share"] == pytest.approx(0.5)


def test_suspension_by_hand(dataset) -> None:
    check_suspended(report_dict(analyse(dataset, suspended=["B"])))


def test_incremental_suspension_equals_full_run(dataset) -> None:
    base = analyse(dataset)
    what_if = suspend(base, ["B"])
    check_suspended(report_dict(what_if))
    full = report_dict(analyse(dataset, suspended=["B"]))
    assert report_dict(what_if)["zones"] == full["zones"]


def test_suspending_everyone_is_zero_not_an_error(dataset) -> None:
    rep = report_dict(analyse(dataset, suspended=["A", "B", "C", "D", "E"]))
    assert rep["units"]["available"] == 0
    assert all(z["covered_share"] == 0.0 for z in rep["zones"])
    assert all(z["gap"] for z in rep["zones"])
    assert rep["overall"]["covered_share"] == 0.0


def test_threshold_is_the_default_target(dataset) -> None:
    # Z2 has no target: a threshold below A's 0 s still covers node 1, officers drop to A
    rep = report_dict(analyse(dataset, threshold_min=0.5))
    assert zone(rep, "Z2")["target_min"] == 0.5
    assert zone(rep, "Z2")["officers_within_target"] == 1
    with pytest.raises(ValueError, match="threshold_min"):
        analyse(dataset, threshold_min=0)


def test_table_lists_gaps_first(dataset) -> None:
    text = report_table(analyse(dataset))
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("status"))
    assert lines[header + 1].startswith("GAP")
    assert "Z1" in lines[header + 1]
    assert "Z2" in lines[header + 2]
    assert "3 available" in text
    widths = {len(line) for line in lines[header:] if line}
    assert max(widths) - min(widths) < 40
    assert not math.isnan(analyse(dataset).overall.covered_share)


def test_zone_officers_lists_who_reaches_the_anchor(dataset) -> None:
    from coverage.engine.analysis import zone_officers

    cov = analyse(dataset)
    z1 = zone_officers(cov, "Z1")
    assert z1["officer_id"].tolist() == ["B"]
    assert z1["minutes"].tolist() == pytest.approx([T43 / 60])
    z2 = zone_officers(cov, "Z2")
    assert z2["officer_id"].tolist() == ["A", "B"]
    assert z2["minutes"].tolist() == pytest.approx([0.0, (T43 + T13) / 60])
    assert len(z2) == report_dict(cov)["zones"][1]["officers_within_target"]
    with pytest.raises(KeyError, match="Z9"):
        zone_officers(cov, "Z9")


def test_zone_view_lists_every_zone_gaps_first(dataset) -> None:
    from coverage.engine.report import zone_view

    cov = analyse(dataset, threshold_min=1.0, suspended=["B"])
    view = zone_view(cov)
    table = cov.table.set_index("zone_id")
    assert sorted(view["zone_id"]) == sorted(table.index)
    n_gaps = int(table["gap"].sum())
    assert list(view["zone_id"][:n_gaps]) == list(cov.gaps["zone_id"])
    assert set(view["status"][:n_gaps]) <= {"GAP"}
    assert set(view["status"][n_gaps:]) <= {"ok"}
    for _, row in view.iterrows():
        z = table.loc[row["zone_id"]]
        assert row["covered_pct"] == pytest.approx(100 * z["covered_share"])
        assert row["officers_within_target"] == z["officers_within_target"]
        if z["p90_min"] is None or pd.isna(z["p90_min"]):
            assert pd.isna(row["p90_min"])
        else:
            assert row["p90_min"] == pytest.approx(z["p90_min"])


def test_suspended_counts_equal_counts_of_the_copied_frame(dataset) -> None:
    from coverage.engine.units import apply_suspension, suspended_counts, unit_counts

    ids = list(dataset.officers["officer_id"])
    for chosen in ([], ids[:1], ids[1:3], ids, ["nobody"]):
        assert suspended_counts(dataset.officers, chosen) == unit_counts(
            apply_suspension(dataset.officers, chosen))


@pytest.mark.parametrize("seed", range(8))
def test_what_if_tables_equal_full_runs(tmp_path, seed: int) -> None:
    """Zones untouched by a suspension keep their row; the table equals a full run's."""
    import random

    import pandas as pd

    from tests.support.planning_cases import random_case

    case = random_case(seed, tmp_path, n_units=8, n_zones=6)
    base = analyse(case.ds)
    rng = random.Random(seed)
    first = rng.sample(sorted(case.units), 2)
    then = rng.sample(sorted(case.units), 3)
    step = suspend(suspend(base, first), then)
    full = analyse(case.ds, suspended=[*first, *then])
    pd.testing.assert_frame_equal(step.table, full.table)
    assert report_dict(step)["overall"] == report_dict(full)["overall"]
