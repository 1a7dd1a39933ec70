"""The ``readiness`` command: DATA.md JSON keys, figures worked out by hand, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage.cli.main import main
from tests.support.tiny import T13, T43, write

STATION_KEYS = {"station_id", "strength", "sanctioned_strength", "on_duty", "reserve",
                "off_duty", "suspended", "suspended_share", "absence_rate_30d",
                "complaints_90d", "grievances_90d", "refusals_90d", "kit", "level", "reasons"}


@pytest.fixture
def files(tiny_inputs: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    # S1 (A, B on duty): 3 refusals -> critical; S2 (C reserve, D on duty, E off): ok
    events = write(tmp_path / "events.csv",
                   "officer_id,date,kind,days,note\n"
                   "A,2026-11-25,refusal,,\"<b>no vest</b> [x](http://y)\"\n"
                   "A,2026-11-01,refusal,,\n"
                   "B,2026-10-01,refusal,,\n"
                   "E,2026-11-20,absence,2,\n")
    resources = write(tmp_path / "resources.csv",
                      "station_id,item,on_hand,per_officer\nS1,vest,2,\nS2,vest,2,\n")
    return {**tiny_inputs, "events": events, "resources": resources}


def _args(p: dict[str, Path], *extra: str) -> list[str]:
    return ["readiness", "--roads", str(p["roads"]), "--stations", str(p["stations"]),
            "--zones", str(p["zones"]), "--officers", str(p["officers"]),
            "--events", str(p["events"]), "--resources", str(p["resources"]), *extra]


def test_json_keys_and_figures(files, capsys) -> None:
    assert main(_args(files, "--format", "json")) == 0
    rec = json.loads(capsys.readouterr().out)
    assert {"as_of", "stations", "zones", "objective", "expected_objective"} <= set(rec)
    assert rec["as_of"] == "2026-11-25"  # the newest event
    s1, s2 = rec["stations"]
    assert all(set(s) >= STATION_KEYS for s in rec["stations"])
    assert (s1["station_id"], s1["refusals_90d"], s1["level"]) == ("S1", 3, "critical")
    assert s1["reasons"] == ["critical: refusals_90d 3 >= 3"]
    assert s1["kit"] == {"vest": {"on_hand": 2, "needed": 2, "short": 0}}
    assert s1["refusal_p"] == 0.3
    # S2: 2 absence days / (3 officers x 30 days) = 0.022; vest 2 for C and D
    assert s2["absence_rate_30d"] == pytest.approx(2 / 90)
    assert (s2["level"], s2["refusal_p"]) == ("ok", 0.02)
    assert rec["levels"] == {"ok": 1, "warning": 0, "critical": 1}
    z = {z["zone_id"]: z for z in rec["zones"]}
    assert set(z["Z1"]) >= {"zone_id", "covered_share", "expected_covered_share"}
    # Z1 (0.5 min): node 3 and 4 by B (S1, p 0.3; T43 <= 30 s < T13), node 5 by D (S2, 0.02)
    assert T43 <= 30 < T13
    assert z["Z1"]["expected_covered_share"] == pytest.approx((0.7 + 0.7 + 0.98) / 3)
    # Z2 (no target: 10 min) node 1: A and B reach it (D cannot: node 5 is a dead end)
    assert z["Z2"]["expected_covered_share"] == pytest.approx(1 - 0.3 * 0.3)
    assert rec["objective"] == 12
    assert rec["expected_objective"] == pytest.approx(3 * (0.7 + 0.7 + 0.98) + 3 * 0.91)
    # personnel records stay out: no officer id, no note
    text = json.dumps(rec)
    assert "no vest" not in text
    assert '"A"' not in text
    assert '"B"' not in text


def test_as_of_suspension_and_refusal_p(files, capsys) -> None:
    assert main(_args(files, "--format", "json", "--as-of", "2026-10-31", "--suspend",
                      str(files["suspend"]), "--refusal-p", "critical=1,ok=0")) == 0
    rec = json.loads(capsys.readouterr().out)
    s1 = rec["stations"][0]
    assert rec["as_of"] == "2026-10-31"
    assert s1["refusals_90d"] == 1  # only B's, of 2026-10-01
    # B suspended: 1 of 2 officers -> suspended_share 0.5 -> critical
    assert (s1["suspended"], s1["suspended_share"], s1["level"]) == (1, 0.5, "critical")
    assert rec["refusal_p"] == {"ok": 0.0, "warning": 0.1, "critical": 1.0}
    assert rec["suspended_officers"] == 1
    z = {z["zone_id"]: z for z in rec["zones"]}
    assert z["Z2"]["expected_covered_share"] == 0.0  # only A (S1, p 1) is left to reach it
    assert main(_args(files, "--format", "json", "--refusal-p", "0.5")) == 0
    assert json.loads(capsys.readouterr().out)["refusal_p"] == dict.fromkeys(
        ("ok", "warning", "critical"), 0.5)


def test_table(files, capsys) -> None:
    assert main(_args(files)) == 0
    out = capsys.readouterr().out
    assert "Readiness as of 2026-11-25: 1 critical, 0 warning, 1 ok stations" in out
    assert "expected under refusal risk" in out


@pytest.mark.parametrize(("flag", "value", "says"), [
    ("--refusal-p", "ok=2", "between 0 and 1"),
    ("--refusal-p", "bad=0.1", "level=probability"),
    ("--as-of", "25/11/2026", "ISO 8601 date"),
    ("--as-of", "0001-01-01", "years 1900..2200"),
    ("--as-of", "9999-12-31", "years 1900..2200"),
])
def test_bad_flags_exit_2(files, capsys, flag: str, value: str, says: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(_args(files, flag, value))
    assert stop.value.code == 2
    assert says in capsys.readouterr().err


def test_bad_events_name_file_row_and_field(files, tmp_path, capsys) -> None:
    bad = write(tmp_path / "bad_events.csv",
                "officer_id,date,kind\nA,2026-11-25,refusal\nZZ,2026-11-25,mutiny\n")
    assert main(_args({**files, "events": bad})) == 2
    err = capsys.readouterr().err
    assert "error: bad_events.csv: row 2 (line 3): officer_id 'ZZ' names no officer" in err
    assert "bad_events.csv: row 2 (line 3): kind 'mutiny' is not one of" in err
    assert "Traceback" not in err


def test_events_dated_near_year_one_are_refused_by_row(files, tmp_path, capsys) -> None:
    bad = write(tmp_path / "old_events.csv",
                "officer_id,date,kind\nA,0001-01-01,refusal\nB,2026-11-25,refusal\n"
                "A,9999-12-31,refusal\n")
    assert main(_args({**files, "events": bad})) == 2
    err = capsys.readouterr().err
    assert ("error: old_events.csv: row 1 (line 2): date '0001-01-01' is outside the years "
            "1900..2200") in err
    assert "row 3 (line 4): date '9999-12-31' is outside" in err
    assert "Traceback" not in err
