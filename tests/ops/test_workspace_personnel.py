"""Workspace: optional personnel events and station resources uploaded with a dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage.ops.store import open_store
from coverage.ops.workspace import activate, active_files, active_personnel, stage, validate

ROLES = ("roads", "stations", "zones", "officers")
EVENTS = b"officer_id,date,kind,days,note\nA,2026-11-20,absence,2,\nD,2026-11-25,refusal,,\n"
RESOURCES = b"station_id,item,on_hand,per_officer\nS1,vest,2,\nS2,vehicle,1,4\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "seccov-data"
    monkeypatch.setenv("SECCOV_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def store(tmp_path: Path):
    with open_store(f"sqlite:///{tmp_path}/s.db") as s:
        yield s


def _base(tiny_inputs) -> dict[str, Path]:
    return {r: tiny_inputs[r] for r in ROLES}


def test_events_and_resources_are_validated_kept_and_found(data_dir, tiny_inputs,
                                                            store) -> None:
    assert active_personnel() is None
    staged = stage({"events": ("events.csv", EVENTS), "resources": ("resources.csv",
                                                                   RESOURCES)},
                   base=_base(tiny_inputs))
    check = validate(staged.files)
    assert check.ok, check.problems
    kept = activate(store, staged.files, name="with personnel", user="ops-admin")
    staged.cleanup()
    found = active_personnel()
    assert found == {"events": kept["events"], "resources": kept["resources"]}
    assert found["events"].read_bytes() == EVENTS
    assert set(active_files(default={})) == set(ROLES)  # the coverage dataset: four files
    # a later upload of other files keeps them (passed as base) and checks them again
    again = stage({}, base={**active_files(default={}), **found})
    assert validate(again.files).ok
    again.cleanup()


def test_bad_events_are_listed_with_file_row_and_field(data_dir, tiny_inputs) -> None:
    bad = b"officer_id,date,kind\nA,2026-11-20,absence\nZZ,2026/11/20,strike\n"
    staged = stage({"events": ("events.csv", bad), "resources": ("resources.csv", RESOURCES)},
                   base=_base(tiny_inputs))
    check = validate(staged.files)
    staged.cleanup()
    assert not check.ok
    rows = check.problems.loc[check.problems["file"] == "events.csv"]
    assert set(rows["row"]) == {2}
    assert set(rows["field"]) == {"officer_id", "date", "kind"}
    assert all(rows["severity"] == "error")


def test_events_need_resources(data_dir, tiny_inputs) -> None:
    staged = stage({"events": ("events.csv", EVENTS)}, base=_base(tiny_inputs))
    check = validate(staged.files)
    staged.cleanup()
    assert not check.ok
    assert any("readiness needs events and resources together" in m
               for m in check.problems["message"])
