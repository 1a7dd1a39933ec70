"""What-if helpers: officer selections, uploaded lists and the before/after views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coverage.engine.analysis import analyse, suspend
from coverage.engine.report import key_figures
from coverage.errors import DataError, DataWarning
from coverage.planning.whatif import (
    combine,
    figure_changes,
    officer_choices,
    read_uploaded_list,
    station_officers,
    zone_changes,
)


def test_station_officers_and_combine(dataset) -> None:
    assert station_officers(dataset.officers, ["S2"]) == ["C", "D", "E"]
    assert station_officers(dataset.officers, []) == []
    assert combine(["B", "A"], ["A", "C"], [], ["B"]) == ["B", "A", "C"]


def test_officer_choices_label_every_officer(dataset) -> None:
    labels = officer_choices(dataset.officers)
    assert list(labels) == ["A", "B", "C", "D", "E"]
    assert labels["B"] == "B · Officer B · S1 · on_duty"


def test_uploaded_list_is_read_and_checked(dataset) -> None:
    assert read_uploaded_list("list.csv", b"officer_id\nB\nD\n", dataset.officers) == ["B", "D"]
    assert read_uploaded_list("ids.txt", b"# comment\nA\n\nD\n", dataset.officers) == ["A", "D"]
    with pytest.warns(DataWarning, match="1 officer_id.*'Z9'"):
        assert read_uploaded_list("l.csv", b"officer_id\nZ9\nA\n", dataset.officers) == ["A"]
    with pytest.raises(DataError, match=r"l\.csv.*officer_id"):
        read_uploaded_list("l.csv", b"badge\n12\n", dataset.officers)
    with pytest.raises(DataError, match=r"list\.xlsx"):
        read_uploaded_list("../../list.xlsx", b"PK", dataset.officers)


def test_zone_changes_mark_newly_below_target(dataset) -> None:
    before = analyse(dataset, threshold_min=1.0)
    after = suspend(before, ["B"])
    changes = zone_changes(before, after).set_index("zone_id")
    gap_a = before.table.set_index("zone_id")["gap"]
    gap_b = after.table.set_index("zone_id")["gap"]
    for z in changes.index:
        expected = {(False, True): "newly below target", (True, True): "still below target",
                    (True, False): "gap closed", (False, False): "ok"}[(gap_a[z], gap_b[z])]
        assert changes.loc[z, "change"] == expected
        assert changes.loc[z, "officers_before"] == before.table.set_index("zone_id").loc[
            z, "officers_within_target"]
        assert changes.loc[z, "covered_delta"] == pytest.approx(
            after.table.set_index("zone_id").loc[z, "covered_share"]
            - before.table.set_index("zone_id").loc[z, "covered_share"])
    # most harmed first: any newly-below zone precedes every other
    order = list(zone_changes(before, after)["change"])
    ranks = [["newly below target", "still below target", "gap closed", "ok"].index(c)
             for c in order]
    assert ranks == sorted(ranks)


def test_zone_changes_of_identical_runs_are_zero(dataset) -> None:
    cov = analyse(dataset)
    changes = zone_changes(cov, cov)
    assert set(changes["change"]) <= {"ok", "still below target"}
    assert (changes["covered_delta"].fillna(0) == 0).all()


def test_figure_changes_match_key_figures(dataset) -> None:
    before = analyse(dataset, threshold_min=1.0)
    after = suspend(before, ["A", "B", "D"])  # nobody left: valid, empty result
    a, b = key_figures(before), key_figures(after)
    rows = {f.label: f for f in figure_changes(before, after)}
    assert rows["Available units"].before == a.available_units == 3
    assert rows["Available units"].after == b.available_units == 0
    assert rows["Zones with a gap"].delta == b.zones_with_gap - a.zones_with_gap
    assert rows["Zone nodes covered"].after == pytest.approx(100 * b.covered_share)
    assert rows["Zone nodes covered"].after == 0.0
    worst = rows["Worst zone p90"]
    assert worst.before == a.worst_p90_min
    assert worst.after is None or not np.isfinite(worst.after) or worst.delta is not None
    assert isinstance(zone_changes(before, after), pd.DataFrame)
