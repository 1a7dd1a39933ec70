"""``backfill --robust`` and ``backfill --kit``: the JSON keys, held-back reserves, bad input.

The tiny district (tests/conftest.py): S1 with A and B on duty, S2 with reserve C and D on
duty; B is suspended.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage.cli.main import main
from tests.support.tiny import write


@pytest.fixture
def files(tiny_inputs: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    events = write(tmp_path / "events.csv", "officer_id,date,kind,days,note\n"
                   "A,2026-11-25,refusal,,\n")
    # S2: one vest, worn by D on duty: nothing spare for reserve C
    resources = write(tmp_path / "resources.csv", "station_id,item,on_hand,per_officer\n"
                      "S1,vest,2,\nS2,vest,1,\nS1,helmet,5,\nS2,helmet,5,\n")
    return {**tiny_inputs, "events": events, "resources": resources}


def _args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["backfill", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), "--reserves", "1", "--format", "json", "-q",
            *extra]


def test_robust_adds_the_expected_objective(files, capsys) -> None:
    assert main(_args(files, "--robust", "--events", str(files["events"]), "--resources",
                      str(files["resources"]), "--refusal-p", "0.1")) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["method"] == "mexclp"
    assert rec["optimal"] is True
    assert rec["expected_objective_before"] <= rec["expected_objective_after"]
    assert rec["expected_objective_after"] <= rec["objective_after"]
    assert {"objective_before", "objective_after", "placements", "moves"} <= set(rec)
    assert any("MEXCLP" in n for n in rec["notes"])


def test_kit_holds_back_the_unequipped_reserve(files, capsys, tmp_path: Path) -> None:
    order = tmp_path / "order.csv"
    assert main(_args(files, "--kit", "vest,helmet", "--resources", str(files["resources"]),
                      "--order", str(order))) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["reserves_placed"] == 0
    assert rec["kit"]["held_back"] == [{"station_id": "S2", "reserves": 1, "equipped": 0,
                                        "held_back": 1, "release": {"vest": 1},
                                        "officers": ["C"]}]
    assert "S2 1 of 1 (1 more vest would release them)" in order.read_text()


def test_kit_with_a_spare_vest_equips_the_reserve(files, capsys) -> None:
    write(files["resources"], "station_id,item,on_hand,per_officer\nS1,vest,1,\nS2,vest,2,\n")
    assert main(_args(files, "--kit", "vest", "--resources", str(files["resources"]))) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["kit"] == {"items": ["vest"], "reserves_equipped": 1, "held_back": []}
    assert not any(n.startswith("kit") for n in rec["notes"])


@pytest.mark.parametrize(("extra", "message"), [
    (["--robust"], "--robust needs --events"),
    (["--kit", "vest"], "--kit needs --resources"),
])
def test_missing_inputs_are_named(files, capsys, extra: list[str], message: str) -> None:
    assert main(_args(files, *extra)) == 2
    assert message in capsys.readouterr().err


def test_unknown_kit_item_is_named(files, capsys) -> None:
    assert main(_args(files, "--kit", "radio", "--resources", str(files["resources"]))) == 2
    assert "'radio' are not in the resources file" in capsys.readouterr().err


def _report(p: dict[str, Path], *extra: str) -> list[str]:
    return ["report", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--suspend", str(p["suspend"]), "-q", *extra]


def test_report_adds_expected_coverage(files, capsys) -> None:
    more = ["--events", str(files["events"]), "--resources", str(files["resources"])]
    assert main(_report(files, "--format", "json")) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "expected_objective" not in plain["overall"]
    assert main(_report(files, "--format", "json", *more, "--refusal-p", "0.5")) == 0
    rec = json.loads(capsys.readouterr().out)
    zones = {z["zone_id"]: z for z in rec["zones"]}
    # Z2 (node 1) is reached only by A (B suspended; nothing leaves node 5): 1 - 0.5
    assert zones["Z2"]["covered_share"] == 1.0
    assert zones["Z2"]["expected_covered_share"] == 0.5
    assert rec["overall"]["expected_objective"] < sum(
        3 * z["nodes"] * z["covered_share"] for z in rec["zones"])
    assert main(_report(files, "--format", "json", *more, "--refusal-p", "0")) == 0
    same = json.loads(capsys.readouterr().out)
    assert all(z["expected_covered_share"] == z["covered_share"] for z in same["zones"])
    assert main(_report(files, *more)) == 0
    assert "Expected objective under refusal risk" in capsys.readouterr().out


def test_report_needs_both_files(files, capsys) -> None:
    assert main(_report(files, "--events", str(files["events"]))) == 2
    assert "--events and --resources go together" in capsys.readouterr().err


@pytest.mark.parametrize("kit", [",", " , ,", ""])
def test_an_empty_kit_list_is_refused(files, capsys, kit: str) -> None:
    assert main(_args(files, "--kit", kit, "--resources", str(files["resources"]))) == 2
    err = capsys.readouterr().err
    assert "error: --kit: name at least one item, e.g. vest,helmet" in err


def test_kit_items_are_stripped(files, capsys) -> None:
    write(files["resources"], "station_id,item,on_hand,per_officer\nS1,vest,1,\nS2,vest,2,\n")
    assert main(_args(files, "--kit", " vest , ", "--resources",
                      str(files["resources"]))) == 0
    assert json.loads(capsys.readouterr().out)["kit"]["items"] == ["vest"]


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--turnout-s", "nan", "--turnout-s must be a finite number of seconds >= 0, got nan"),
    ("--turnout-s", "inf", "--turnout-s must be a finite number of seconds >= 0, got inf"),
    ("--turnout-s", "-1", "--turnout-s must be a finite number of seconds >= 0"),
    ("--max-move-min", "inf", "--max-move-min must be a finite number of minutes >= 0"),
    ("--max-move-min", "nan", "--max-move-min must be a finite number of minutes >= 0"),
])
def test_non_finite_numbers_are_named(files, capsys, flag: str, value: str, says: str) -> None:
    assert main(_args(files, flag, value)) == 2
    err = capsys.readouterr().err
    assert f"error: {says}" in err
    assert "Traceback" not in err
