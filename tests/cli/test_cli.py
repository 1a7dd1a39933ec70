"""The ``report`` command: JSON contract, table, progress and bad input (exit 2, no traceback)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from coverage.cli.main import main
from tests.support.tiny import ROOT, write

ZONE_KEYS = {"zone_id", "name", "priority", "target_min", "nodes", "covered_share", "p50_min",
             "p90_min", "max_min", "unreachable_nodes", "officers_within_target",
             "min_officers", "gap"}


def args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["report", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]), *extra]


def test_json_contract(tiny_inputs, capsys) -> None:
    assert main(args(tiny_inputs, "--format", "json", "--suspend",
                     str(tiny_inputs["suspend"]))) == 0
    rep = json.loads(capsys.readouterr().out)
    assert set(rep["units"]) == {"on_duty", "reserve", "off_duty", "suspended", "available"}
    assert rep["units"]["available"] == 2
    assert isinstance(rep["zones"], list)
    assert all(set(z) >= ZONE_KEYS for z in rep["zones"])
    assert "overall" in rep


def test_table_is_default(tiny_inputs, capsys) -> None:
    assert main(args(tiny_inputs, "--threshold-min", "8")) == 0
    out = capsys.readouterr().out
    assert "Z1" in out
    assert "GAP" in out
    assert "threshold 8 min" in out


def test_module_entry_point_has_no_traceback_on_bad_data(tiny_inputs, tmp_path) -> None:
    bad = write(tmp_path / "officers.csv",
                "officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
                "A,Officer A,Constable,S1,on_strike,,,2026-11-25T08:00:00+05:00\n")
    p = {**tiny_inputs, "officers": bad}
    run = subprocess.run([sys.executable, "-m", "coverage", *args(p)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "error: officers.csv: row 1" in run.stderr
    assert "on_strike" in run.stderr


@pytest.mark.parametrize(
    ("key", "text", "pattern"),
    [
        ("officers", "officer_id,name\n", r"error: officers\.csv"),
        ("zones", '{"type": "FeatureCollection", "features": [', r"error: zones\.geojson"),
        ("roads", "<osm><node id='1' lat='34' lon='71.5'/><way id='1'>", r"error: roads\.osm"),
    ],
)
def test_broken_files_exit_2(tiny_inputs, tmp_path, capsys, key, text, pattern) -> None:
    name = {"officers": "officers.csv", "zones": "zones.geojson", "roads": "roads.osm"}[key]
    p = {**tiny_inputs, key: write(tmp_path / name, text)}
    assert main(args(p)) == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_missing_file_exit_2(tiny_inputs, tmp_path, capsys) -> None:
    p = {**tiny_inputs, "stations": tmp_path / "nope.geojson"}
    assert main(args(p)) == 2
    assert "error: nope.geojson" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["-3", "0", "inf", "nan", "abc"])
def test_bad_threshold_exit_2(tiny_inputs, capsys, value: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(args(tiny_inputs, "--threshold-min", value))
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: argument --threshold-min: must be a positive number of minutes")


def test_unknown_suspension_ids_are_warned(tiny_inputs, tmp_path, capsys) -> None:
    lst = write(tmp_path / "list.txt", "B\nNOBODY\n")
    assert main(args(tiny_inputs, "--suspend", str(lst), "--format", "json")) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err
    assert "NOBODY" in captured.err
    assert json.loads(captured.out)["units"]["suspended"] == 1


def test_prepare_then_report_uses_cache(tiny_inputs, capsys) -> None:
    assert main(["prepare", "--roads", str(tiny_inputs["roads"])]) == 0
    assert "4 nodes" in capsys.readouterr().out
    assert main(args(tiny_inputs)) == 0
    assert capsys.readouterr().err == ""  # no progress lines unless asked (or on a terminal)
    assert main(["-v", *args(tiny_inputs)]) == 0
    assert "loading compiled graph tiny.osm." in capsys.readouterr().err


def test_unreachable_zone_nodes_are_warned(tiny_inputs, capsys) -> None:
    assert main(args(tiny_inputs, "--suspend", str(tiny_inputs["suspend"]))) == 0
    err = capsys.readouterr().err
    assert "warning: zone Z1: 1 of 3 road node(s) cannot be reached" in err


def test_zone_far_from_roads_is_warned(tiny_inputs, tmp_path, capsys) -> None:
    far = write(
        tmp_path / "zones.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
        ' {"zone_id": "ZF", "name": "Far"}, "geometry": {"type": "Polygon", "coordinates":'
        " [[[71.60, 34.10], [71.61, 34.10], [71.61, 34.11], [71.60, 34.10]]]}}]}",
    )
    assert main(args({**tiny_inputs, "zones": far}, "--format", "json")) == 0
    captured = capsys.readouterr()
    assert "outside the road network's extent: ZF" in captured.err
    assert "more than 500 m from any road node" in captured.err
    assert json.loads(captured.out)["zones_measured_at_anchor"] == ["ZF"]


def test_zone_flag_and_any_officer_outside_extent(tiny_inputs, tmp_path, capsys) -> None:
    officers = write(
        tmp_path / "officers.csv",
        "officer_id,name,rank,station_id,status,lat,lon,last_seen\n"
        "A,Officer A,Constable,S1,on_duty,,,2026-11-25T08:00:00+05:00\n"
        "R,Officer R,Constable,S1,reserve,10.0,10.0,2026-11-25T08:00:00+05:00\n",
    )
    assert main(args({**tiny_inputs, "officers": officers}, "--format", "json")) == 0
    captured = capsys.readouterr()
    assert "officers.csv: 1 point(s) lie outside the road network's extent: R" in captured.err
    zones = json.loads(captured.out)["zones"]
    assert [z["measured_at_anchor"] for z in zones] == [False, False]


@pytest.mark.parametrize(
    ("props", "code"),
    # target_min 1e300 was accepted silently; issue 15 refuses it beyond a plausible range.
    [('"target_min": 1e300', 2), ('"min_officers": 1e30', 2), ('"population": 1e20', 0),
     ('"min_officers": "99999999999999999999"', 2)],
)
def test_huge_numbers_never_crash(tiny_inputs, tmp_path, capsys, props, code) -> None:
    zones = write(
        tmp_path / "zones.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
        f' {{"zone_id": "Z1", "name": "A", {props}}}, "geometry": {{"type": "Polygon",'
        ' "coordinates": [[[71.4995, 33.9995], [71.5005, 33.9995], [71.5005, 34.0005],'
        " [71.4995, 33.9995]]]}}]}",
    )
    got = main(args({**tiny_inputs, "zones": zones}))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert got == code, err


def test_unclosed_ring_is_a_data_error(tiny_inputs, tmp_path, capsys) -> None:
    zones = write(
        tmp_path / "zones.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
        ' {"zone_id": "Z1", "name": "A"}, "geometry": {"type": "Polygon", "coordinates":'
        " [[[71.505, 33.995], [71.525, 33.995]]]}}]}",
    )
    assert main(args({**tiny_inputs, "zones": zones})) == 2
    assert "error: zones.geojson" in capsys.readouterr().err


def test_flags_after_the_command_and_bad_flags(tiny_inputs, capsys) -> None:
    assert main([*args(tiny_inputs), "-q", "--format", "json"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main([*args(tiny_inputs), "--format", "xml"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.startswith("error: argument --format: invalid choice")


@pytest.mark.parametrize(("argv", "flag"), [
    (["backfill", "--reserves", "2", "--site-capacity", "0"], "--site-capacity"),
    (["backfill", "--reserves", "-1"], "--reserves"),
    (["criticality", "--top", "-1"], "--top"),
    (["ingest", "--db", "sqlite:///x.db", "--from", "-", "--batch-size", "0"], "--batch-size"),
    (["audit", "--db", "sqlite:///x.db", "--limit", "-1"], "--limit"),
    (["sweep", "--random-suspensions", "0"], "--random-suspensions"),
])
def test_nonsense_counts_are_refused(argv, flag, tiny_inputs, capsys) -> None:
    p = tiny_inputs
    inputs = ["--roads", str(p["roads"]), "--stations", str(p["stations"]), "--zones",
              str(p["zones"]), "--officers", str(p["officers"])]
    cmd = argv[:1] + (inputs if argv[0] in {"backfill", "criticality", "sweep"} else []) + argv[1:]
    with pytest.raises(SystemExit) as exc:
        main(cmd)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert flag in err
    assert "must be a whole number" in err


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "abc"])
def test_positions_stale_after_must_be_positive_and_finite(tmp_path, capsys, value) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["positions", "--db", f"sqlite:///{tmp_path}/x.db", "--stale-after-s", value])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "argument --stale-after-s: must be a positive finite number" in err
    assert "Traceback" not in err
